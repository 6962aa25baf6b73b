#!/usr/bin/env bash
# Configures and builds the workstation into ${E2E_BUILD_DIR:-build} (Release with debug info).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${E2E_BUILD_DIR:-$root/build}"
jobs="${E2E_JOBS:-$(nproc)}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" -j"$jobs"
