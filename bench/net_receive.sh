#!/bin/bash
# Receiver throughput: DCMTK's storescu sends a folder of DICOM objects over loopback, in one
# association, to `echo2ecg serve --json`; the time runs from storescu's start until serve has
# reported every object's final outcome (received AND imported into the database).
#
#   bench/net_receive.sh [--folder DIR] [--runs N] ECHO2ECG [ECHO2ECG ...]
#
# Without --folder, a synthetic cohort is generated (`echo2ecg generate --patients 40 --seed 5`:
# 200 objects, ECG waveforms and US loops). Several binaries (e.g. before and after a change) are
# measured in the same run, alternately, each into a fresh database. Needs storescu (dcmtk).
set -euo pipefail

folder="" runs=3 bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --folder) folder="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) bins+=("$(readlink -f "$1")"); shift ;;
  esac
done
[ ${#bins[@]} -gt 0 ] || { echo "usage: $0 [--folder DIR] [--runs N] ECHO2ECG ..." >&2; exit 2; }
command -v storescu >/dev/null || { echo "storescu (dcmtk) not found" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/e2e_net_receive.XXXXXX")
serve_pid=""
cleanup() { [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

if [ -z "$folder" ]; then
  folder="$work/cohort"
  "${bins[0]}" generate --out "$folder" --patients 40 --seed 5 >/dev/null
fi
mapfile -t files < <(find "$folder" -type f -name '*.dcm' | sort)
n=${#files[@]}
mb=$(du -cb "${files[@]}" | tail -1 | awk '{printf "%.1f", $1 / 1e6}')
cat "${files[@]}" >/dev/null  # page cache warm
echo "objects: $n ($mb MB) from $folder; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "storescu: $(storescu --version | head -1)"

port=$(( 20000 + RANDOM % 20000 ))
run_one() {  # $1 binary, $2 label
  local db="$work/run.db" log="$work/serve.log"
  rm -rf "$db" "$db".* "$log"
  "$1" serve --db "$db" --aet BENCHSCP --port "$port" --allow-any --json >"$log" 2>&1 &
  serve_pid=$!
  for _ in $(seq 100); do grep -q '"listening"' "$log" 2>/dev/null && break; sleep 0.05; done
  local t0 t1 t2 done_n
  t0=$(date +%s.%N)
  storescu -aet BENCHSCU -aec BENCHSCP 127.0.0.1 "$port" "${files[@]}" >"$work/storescu.log" 2>&1 ||
    { echo "storescu failed:"; tail -5 "$work/storescu.log"; }
  t1=$(date +%s.%N)
  for _ in $(seq 6000); do
    done_n=$(grep -c '"event":"object"' "$log" || true)
    [ "$done_n" -ge "$n" ] && break
    sleep 0.01
  done
  t2=$(date +%s.%N)
  local cpu  # serve's CPU seconds (all threads, user + system): less sensitive to other load
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$serve_pid/stat")
  kill -INT "$serve_pid"; wait "$serve_pid" || true; serve_pid=""
  local added
  added=$(grep -c '"outcome":"added"' "$log" || true)
  awk -v l="$2" -v a="$t0" -v b="$t1" -v c="$t2" -v n="$n" -v added="$added" -v mb="$mb" -v cpu="$cpu" 'BEGIN {
    printf "%-10s storescu done %.2f s, all imported %.2f s: %.1f objects/s, %.1f MB/s (added %d of %d; serve CPU %.2f s)\n",
           l, b - a, c - a, n / (c - a), mb / (c - a), added, n, cpu }'
}

for r in $(seq "$runs"); do
  i=0
  for b in "${bins[@]}"; do
    i=$((i + 1))
    run_one "$b" "bin$i/run$r"
  done
done
