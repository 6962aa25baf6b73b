#!/bin/bash
# Builds the libFuzzer targets of fuzz/ (clang-14, AddressSanitizer + UndefinedBehaviorSanitizer) and
# runs them. Usage:
#   tools/run-fuzzers.sh [--build-only | --no-build] [--time SECONDS] [--jobs N] [TARGET...]
#     TARGET: dicom_ecg dicom_echo video wfdb muse_xml hl7_aecg scp_ecg philips_xml cardiosoft_xml
#             labels_csv bundle_json db_open (default: all)
#     --time: seconds per target (default 600); --jobs: targets run at the same time (default 2).
# Environment: BUILD_DIR (default build-fuzz), E2E_DATA_DIR (default ../shared/data), JOBS_MAKE
# (make -j, default 1), FUZZ_TMPDIR (the targets' scratch files, a few KiB per process, removed at
# exit; default /dev/shm when present: writing each input to disk would slow the runs down). Each target's corpus grows in $BUILD_DIR/corpus/<target> (seeded from the
# files fuzz/seeds/<target>.txt names, fuzz/corpus/<target>/ and fuzz/regressions/<target>/); crash
# inputs are written to $BUILD_DIR/artifacts/<target>/, the log to $BUILD_DIR/logs/<target>.log.
# A crash input belongs in fuzz/regressions/<target>/ once the reader is fixed (the test suite's
# fuzz_<target> test replays it).
set -euo pipefail
SRC="$(cd "$(dirname "$0")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$SRC/build-fuzz}"
DATA="${E2E_DATA_DIR:-$SRC/../shared/data}"
TIME=600
JOBS=2
BUILD_ONLY=0
NO_BUILD=0
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) TIME="$2"; shift 2 ;;
    --jobs) JOBS="$2"; shift 2 ;;
    --build-only) BUILD_ONLY=1; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
ALL=(dicom_ecg dicom_echo video wfdb muse_xml hl7_aecg scp_ecg philips_xml cardiosoft_xml labels_csv bundle_json db_open)
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")

# -max_len per format: big enough for the seeds that matter, small enough to keep the runs fast.
max_len() {
  case "$1" in
    dicom_ecg|dicom_echo) echo 100000 ;;
    hl7_aecg|philips_xml|muse_xml) echo 100000 ;;
    scp_ecg) echo 40000 ;;
    wfdb|video|cardiosoft_xml) echo 65536 ;;
    labels_csv) echo 4096 ;;
    bundle_json) echo 16384 ;;
    db_open) echo 4096 ;;
    *) echo 65536 ;;
  esac
}

SAN="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$SRC" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DE2E_BUILD_GUI=OFF -DE2E_BUILD_MODELS=OFF -DE2E_BUILD_TESTS=OFF -DE2E_BUILD_BENCHMARKS=OFF -DE2E_FUZZ=ON \
    -DE2E_DATA_DIR="$DATA" -DCMAKE_C_FLAGS="$SAN" -DCMAKE_CXX_FLAGS="$SAN"
fi
[ "$NO_BUILD" = 1 ] || nice make -C "$BUILD_DIR" -j"${JOBS_MAKE:-1}" $(printf 'fuzz_%s ' "${TARGETS[@]}")
[ "$BUILD_ONLY" = 1 ] && exit 0

# Seeds: the listed data files ("a + b": joined with a NUL byte), the committed corpus, the regressions.
seed_corpus() {
  local t="$1" dir="$BUILD_DIR/corpus/$1" n=0
  mkdir -p "$dir"
  if [ -f "$SRC/fuzz/seeds/$t.txt" ]; then
    while IFS= read -r line; do
      line="${line%%#*}"; line="$(echo "$line" | xargs)"
      [ -z "$line" ] && continue
      n=$((n + 1))
      out="$dir/seed_$n"
      : > "$out"
      first=1
      IFS='+' read -ra parts <<< "$line"
      for p in "${parts[@]}"; do
        p="$(echo "$p" | xargs)"
        case "$p" in src:*) f="$SRC/${p#src:}" ;; *) f="$DATA/$p" ;; esac
        [ $first = 1 ] || printf '\0' >> "$out"
        cat "$f" >> "$out"
        first=0
      done
    done < "$SRC/fuzz/seeds/$t.txt"
  fi
  for d in "$SRC/fuzz/corpus/$t" "$SRC/fuzz/regressions/$t"; do
    [ -d "$d" ] && find "$d" -maxdepth 1 -type f -exec cp -f {} "$dir/" \;
  done
  return 0
}

run_one() {
  local t="$1"
  seed_corpus "$t"
  mkdir -p "$BUILD_DIR/artifacts/$t" "$BUILD_DIR/logs"
  TMPDIR="$SCRATCH" nice "$BUILD_DIR/fuzz/fuzz_$t" "$BUILD_DIR/corpus/$t" \
    -max_total_time="$TIME" -rss_limit_mb=2048 -timeout=30 -max_len="$(max_len "$t")" \
    -artifact_prefix="$BUILD_DIR/artifacts/$t/" -print_final_stats=1 > "$BUILD_DIR/logs/$t.log" 2>&1 || true
  local execs
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$BUILD_DIR/logs/$t.log" | grep -o '[0-9]*$' || echo "?")
  echo "$t: $execs executions, corpus $(ls "$BUILD_DIR/corpus/$t" | wc -l) files," \
       "crashes: $(ls "$BUILD_DIR/artifacts/$t" | wc -l) (log: $BUILD_DIR/logs/$t.log)"
}

SCRATCH="${FUZZ_TMPDIR:-}"
if [ -z "$SCRATCH" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then SCRATCH=/dev/shm; else SCRATCH="$BUILD_DIR/tmp"; fi
fi
mkdir -p "$SCRATCH"
running=0
for t in "${TARGETS[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait
