#!/usr/bin/env bash
# The whole test suite built with AddressSanitizer + UndefinedBehaviorSanitizer (g++):
#   installer/run-sanitizer-tests.sh [ctest arguments, e.g. -L fuzz or -R Wfdb]
# Configures $E2E_ASAN_BUILD_DIR (default build-asan) with
#   -fsanitize=address,undefined -fno-omit-frame-pointer
# (RelWithDebInfo: -O2 -g), builds it (make -j${E2E_BUILD_JOBS:-2}) and runs ctest; any ASan or UBSan
# report fails the test that caused it. Extra arguments go to ctest.
# Sanitizer options:
#  - detect_leaks=0: libtorch (and Qt/Mesa in the GUI tests) keep allocations alive until exit on
#    purpose (global registries, thread pools); LeakSanitizer would report those in every test. Our
#    own code's lifetimes are covered by ASan's use-after-free and overflow checks.
#  - new_delete_type_mismatch=0, alloc_dealloc_mismatch=0: libtorch 1.13's prebuilt library frees some
#    objects with a different operator than it allocated them with (not our code).
#  - allocator_may_return_null=1: a test that asks for an absurd allocation (a hostile header) must see
#    std::bad_alloc, as in a normal build, instead of an ASan abort.
#  - halt_on_error=1 (ASan and UBSan) / print_stacktrace=1: the first report stops the test with its
#    stack, so any report fails the test (UBSan checks are built recoverable; halt_on_error makes
#    them fatal).
# E2E_TEST_DIRS="io_wfdb;labels" builds only those test folders (default: all); E2E_ASAN_CMAKE_ARGS adds
# cmake arguments (e.g. "-DE2E_BUILD_GUI=OFF -DE2E_BUILD_MODELS=OFF").
# Example (the reader and database suites plus the fuzz replays, as in docs/reliability.md):
#   E2E_TEST_DIRS="io_ecg;io_echo;io_wfdb;io_vendor_xml;io_vendor_scp;io_vendor_philips;labels;db" \
#   E2E_ASAN_CMAKE_ARGS="-DE2E_BUILD_GUI=OFF -DE2E_BUILD_MODELS=OFF" installer/run-sanitizer-tests.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${E2E_ASAN_BUILD_DIR:-$root/build-asan}"
san="-fsanitize=address,undefined -fno-omit-frame-pointer"
# shellcheck disable=SC2086
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DE2E_BUILD_BENCHMARKS=OFF \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" -DE2E_TEST_DIRS="${E2E_TEST_DIRS:-}" \
  ${E2E_ASAN_CMAKE_ARGS:-}
nice make -C "$build" -j"${E2E_BUILD_JOBS:-2}"
export E2E_DATA_DIR="${E2E_DATA_DIR:-$root/../shared/data}"
export ASAN_OPTIONS="detect_leaks=0:new_delete_type_mismatch=0:alloc_dealloc_mismatch=0:allocator_may_return_null=1:halt_on_error=1:print_stacktrace=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$build"
run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/e2e-asan-ctest-XXXXXX")"
trap 'rm -rf "$run_tmp"' EXIT
chmod 755 "$run_tmp"  # tests that drop to an unprivileged user must be able to enter it
export TMPDIR="$run_tmp"
# Sanitized code runs 2-5x slower: a longer per-test limit than installer/run-tests.sh.
if command -v xvfb-run > /dev/null; then
  xvfb-run -a -s "-screen 0 1920x1080x24" ctest --output-on-failure --timeout 2700 -j"${E2E_TEST_JOBS:-2}" "$@"
else
  QT_QPA_PLATFORM=offscreen ctest --output-on-failure --timeout 2700 -j"${E2E_TEST_JOBS:-2}" "$@"
fi
