#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install dependencies, build, and start the workstation.
# Without a display it runs the main job headless instead: generate a small synthetic paired
# cohort, import it together with the bundled real sample files, and list what was imported.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/installer/install-deps.sh"
"$root/installer/build.sh"
build="${E2E_BUILD_DIR:-$root/build}"
db="${E2E_DB:-$HOME/.local/share/echo2ecg/studies.db}"
mkdir -p "$(dirname "$db")"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$build/app/gui/echo2ecg-gui" ]; then
  exec "$build/app/gui/echo2ecg-gui" --db "$db"
fi
cli="$build/app/cli/echo2ecg"
cohort="${E2E_COHORT_DIR:-$root/build/sample-cohort}"
echo "No display: running the headless main job (database: $db)"
"$cli" generate --out "$cohort" --patients 20 --seed 1
data="$root/../shared/data"
if [ -d "$data" ]; then "$cli" import "$cohort" "$data" --db "$db" || true; else "$cli" import "$cohort" --db "$db" || true; fi
"$cli" list studies --db "$db"
