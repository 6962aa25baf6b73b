#!/usr/bin/env bash
# Builds the Debian package of the workstation: echo2ecg-workstation_<version>_<arch>.deb.
#
#   installer/package.sh [BUILD_DIR] [CMAKE_ARGS...]
#
# BUILD_DIR (default: build/) is configured first when it has no CMake cache (RelWithDebInfo, models
# included unless CMAKE_ARGS say -DE2E_BUILD_MODELS=OFF; CMAKE_ARGS only apply to that first configure).
# Builds only what the package installs (echo2ecg, echo2ecg-gui, the compressed man pages), runs CPack
# (binaries stripped, Depends from dpkg-shlibdeps plus cmake/Packaging.cmake's list) and prints the
# path of the .deb, written to BUILD_DIR/dist/, as the only line on stdout (the logs go to stderr).
# Install it with: sudo apt-get install ./BUILD_DIR/dist/echo2ecg-workstation_*.deb
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build}"
if [ $# -gt 0 ]; then shift; fi
mkdir -p "$build"
build="$(cd "$build" && pwd)"
jobs="${E2E_JOBS:-$(nproc)}"

for tool in cmake cpack dpkg-shlibdeps dpkg-deb gzip; do
  if ! command -v "$tool" >/dev/null; then
    echo "package.sh: '$tool' is missing (installer/install-deps.sh installs it; dpkg-shlibdeps is in dpkg-dev)" >&2
    exit 1
  fi
done

{
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  elif [ ! -f "$build/CPackConfig.cmake" ]; then
    cmake "$build"  # configured before the packaging rules existed
  fi
  cmake --build "$build" --target e2e_installable -j"$jobs"
} 1>&2

dist="$build/dist"
mkdir -p "$dist"
rm -f "$dist"/*.deb
(cd "$build" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$dist") 1>&2
rm -rf "$dist/_CPack_Packages"
shopt -s nullglob
debs=("$dist"/*.deb)
if [ ${#debs[@]} -ne 1 ]; then
  echo "package.sh: expected one .deb in $dist, found ${#debs[@]}" >&2
  exit 1
fi
# shellcheck disable=SC2016  # dpkg-deb expands the ${Field}s
echo "package.sh: $(dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}' "${debs[0]}")" >&2
echo "${debs[0]}"
