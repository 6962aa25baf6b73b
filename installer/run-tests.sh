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
xvfb_pid=""
cleanup() {
  if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
  chmod -R u+rwX "$run_tmp" 2>/dev/null
  rm -rf "$run_tmp"
}
trap cleanup EXIT
export TMPDIR="$run_tmp"
# One Xvfb server for the whole run. Xvfb picks a free display number itself (-displayfd) rather
# than xvfb-run -a's check-then-start, which can hand two servers starting together the same number
# (a client then fails with "could not connect to display"); local clients need no cookie.
# -noreset: by default the server resets whenever its last client leaves, and a test process that
# connects during that reset is refused (between two tests, under -j2).
Xvfb -displayfd 3 -screen 0 1920x1080x24 -nolisten tcp -noreset 3>"$run_tmp/xvfb.display" 2>"$run_tmp/xvfb.log" &
xvfb_pid=$!
for _ in $(seq 300); do
  grep -q '^[0-9]' "$run_tmp/xvfb.display" 2>/dev/null && break
  kill -0 "$xvfb_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^[0-9]' "$run_tmp/xvfb.display" 2>/dev/null; then
  echo "run-tests: Xvfb did not start:" >&2
  cat "$run_tmp/xvfb.log" >&2
  exit 1
fi
export DISPLAY=":$(head -n1 "$run_tmp/xvfb.display")"
unset XAUTHORITY
echo "run-tests: Xvfb on display $DISPLAY"
# ctest's own output ends with the pass/fail summary.
ctest --output-on-failure --timeout 900 -j"${E2E_TEST_JOBS:-2}" "$@"
