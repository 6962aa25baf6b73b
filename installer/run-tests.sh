#!/usr/bin/env bash
# The project's test command: installs what is missing, builds everything, runs every test.
# GUI tests run under Xvfb (OpenGL through Mesa); plain widgets use the offscreen platform.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/installer/install-deps.sh"
export E2E_BUILD_DIR="${E2E_BUILD_DIR:-$root/build}"
"$root/installer/build.sh"
export E2E_DATA_DIR="${E2E_DATA_DIR:-$root/../shared/data}"
cd "$E2E_BUILD_DIR"
# Every test process keeps its temporary files under its own private root and removes it at exit
# (tests/test_home.cpp); this run-wide folder catches what a crashed or killed test leaves behind.
run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/e2e-ctest-XXXXXX")"
chmod 0711 "$run_tmp"  # tests that drop root to nobody reach their shared folders through it
trap 'chmod -R u+rwX "$run_tmp" 2>/dev/null; rm -rf "$run_tmp"' EXIT
export TMPDIR="$run_tmp"
# One Xvfb server for the whole run; ctest's own output ends with the pass/fail summary.
xvfb-run -a -s "-screen 0 1920x1080x24" \
  ctest --output-on-failure --timeout 900 -j"${E2E_TEST_JOBS:-2}" "$@"
