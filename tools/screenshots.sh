#!/usr/bin/env bash
# Regenerates docs/screenshots/*.png from the real application on a real database:
#   tools/screenshots.sh [BUILD_DIR] [OUT_DIR]
# BUILD_DIR (default: build) must hold app/cli/echo2ecg and app/gui/echo2ecg-gui ($E2E_CLI and
# $E2E_GUI_BIN name others, e.g. a CLI built with the models); OUT_DIR defaults to docs/screenshots. The files of ../shared/data ($E2E_DATA_DIR) are imported into a temporary
# database; with a CLI built with the models, the bundled models' predictions and embeddings are
# computed on it (so the prediction and retrieval panels show real output of the bundled models,
# which are trained on synthetic data and say so). Then echo2ecg-gui --screenshot opens a real
# ECG (CinC 2021 E07500) and a real echo loop under Xvfb and saves each screen. Nothing of the
# user's is read or written: HOME and the XDG folders point into the temporary folder.
# Screens this script cannot make from real data (the training panel after a run) are left as
# they are and listed at the end. Look at every PNG before committing it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$root/docs/screenshots}
data=${E2E_DATA_DIR:-$root/../shared/data}
cli=${E2E_CLI:-$build/app/cli/echo2ecg}
gui=${E2E_GUI_BIN:-$build/app/gui/echo2ecg-gui}
for f in "$cli" "$gui"; do
  [[ -x $f ]] || { echo "screenshots.sh: $f not found (build the echo2ecg and echo2ecg-gui targets)" >&2; exit 2; }
done
[[ -d $data ]] || { echo "screenshots.sh: no data folder $data (set E2E_DATA_DIR)" >&2; exit 2; }
command -v xvfb-run >/dev/null || { echo "screenshots.sh: xvfb-run is needed (Debian package xvfb)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/e2e-screenshots.XXXXXX")
trap 'rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_DATA_HOME=$work/home/.local/share
export XDG_CACHE_HOME=$work/home/.cache XDG_RUNTIME_DIR=$work/run
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
db=$work/studies.db
export E2E_DB=$db

echo "== import (real files of $data)" >&2
# Exit 3 (some files unsupported or conflicting) is expected for the mixed public data.
# LUDB: its first 20 records (the whole set adds minutes of embedding and nothing to the pictures).
ludb=()
for i in $(seq 1 20); do ludb+=("$data/ecg_wfdb/ludb/data/$i.hea"); done
"$cli" import --db "$db" "$data/ecg_dicom" "$data/us_dicom" "$data/ecg_wfdb/torch_ecg_cinc2021" "${ludb[@]}" \
  >"$work/import.log" 2>&1 || [[ $? -eq 3 ]]
tail -n 3 "$work/import.log" >&2
if "$cli" --help 2>&1 | grep -q '^  predict'; then
  echo "== bundled models: embeddings and predictions" >&2
  "$cli" embed --db "$db" --quiet >"$work/embed.log" 2>&1 || [[ $? -eq 3 ]] || tail -n 5 "$work/embed.log" >&2
  "$cli" predict --db "$db" >"$work/predict.log" 2>&1 || tail -n 5 "$work/predict.log" >&2
else
  echo "== $cli was built without the models: the AI panels show no model output" >&2
fi

ecg=$data/ecg_wfdb/torch_ecg_cinc2021/E07500.hea
echo1=$data/us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm
echo2=$data/us_dicom/octave-dicom_debian/US-PAL-8-10x-echo.dcm
shots=$work/shots
echo "== echo2ecg-gui --screenshot" >&2
xvfb-run -a -s "-screen 0 1920x1080x24" "$gui" --db "$db" --screenshot "$shots/ecg" "$ecg" >&2
xvfb-run -a -s "-screen 0 1920x1080x24" "$gui" --db "$db" --grid 1x2 --screenshot "$shots/echo" "$echo1" "$echo2" >&2

mkdir -p "$out"
copy() {  # copy SRC NAME
  if [[ -s $1 ]]; then cp "$1" "$out/$2" && echo "$out/$2"; else echo "screenshots.sh: not made: $2" >&2; fi
}
copy "$shots/ecg/ecg_paper.png" ecg_paper.png
copy "$shots/ecg/ecg_view.png" ecg_view.png
copy "$shots/ecg/main_window.png" main_window.png
copy "$shots/ecg/retrieval.png" retrieval_panel.png
copy "$shots/ecg/prediction_panel.png" prediction_panel.png
copy "$shots/echo/echo_grid.png" echo_grid.png
copy "$shots/ecg/print_dialog.png" print_dialog.png
copy "$shots/ecg/keyboard_shortcuts.png" keyboard_shortcuts.png
# The network screens (network_settings, query_pacs, received_objects) are saved too but show
# empty tables without a PACS; they are left out of the docs.
echo "Not regenerated here (no real-data source in this script): training_panel.png, import_report.png" >&2
