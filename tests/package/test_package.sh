#!/usr/bin/env bash
# Package test (ctest label "package", tests/package/CMakeLists.txt):
#
#   tests/package/test_package.sh BUILD_DIR
#
# Builds the Debian package of BUILD_DIR (installer/package.sh), checks what it ships, installs it with
# `apt-get install --no-install-recommends ./FILE.deb` (so its Depends alone must be enough), runs the
# INSTALLED programs under a temporary HOME with a clean environment (no E2E_MODELS_DIR, no E2E_DB):
# --version, info (the bundled models are found in /usr/share/echo2ecg/models), an import of
# $E2E_DATA_DIR (default ../shared/data) into the default database, list, one prediction with the
# bundled models (when built with them) and a GUI screenshot under Xvfb; then purges the package and
# checks that every path it installed is gone.
#
# It leaves the machine as it found it, also when a step fails: on exit the package is purged, and so
# is every package that its installation pulled in. It never touches the user's home. It needs root or
# password-less sudo (apt-get) and fails, saying so, without them; it refuses to run when the package
# is already installed or would overwrite a file that is not its own.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
pkg=echo2ecg-workstation
t0=$SECONDS

say() { printf '[package %4ds] %s\n' $((SECONDS - t0)) "$*"; }
fail() {
  printf '[package %4ds] FAIL: %s\n' $((SECONDS - t0)) "$*" >&2
  exit 1
}

[ $# -ge 1 ] || fail "usage: $0 BUILD_DIR"
build="$(cd "$1" && pwd)" || fail "no build directory $1"
data="${E2E_DATA_DIR:-$root/../shared/data}"
[ -d "$data" ] || fail "no test data in $data (set E2E_DATA_DIR)"
data="$(cd "$data" && pwd)"

# ---- root ------------------------------------------------------------------------------------------
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO=(sudo -n)
  else
    fail "installing the package needs root or password-less sudo (apt-get install/purge); run as root," \
         "or leave this test out: ctest -LE package"
  fi
fi
apt_get() { "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o Dpkg::Use-Pty=0 "$@"; }
pkg_status() { dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true; }
installed_packages() {
  dpkg-query -W -f='${binary:Package}\t${db:Status-Status}\n' | awk -F'\t' '$2 == "installed" {print $1}' | sort
}

case "$(pkg_status)" in
  "" | not-installed) ;;
  *) fail "$pkg is already on this machine ($(pkg_status)); the test would remove it. Purge it first" \
          "(apt-get purge $pkg) or leave this test out (ctest -LE package)" ;;
esac

tmp="$(mktemp -d "${TMPDIR:-/tmp}/e2e-package-test.XXXXXX")"
installed_before="$tmp/packages-before"
installed_packages >"$installed_before"
touched_system=0

cleanup() {
  local rc=$?
  set +e
  if [ "$touched_system" = 1 ]; then
    if [ -n "$(pkg_status)" ] && [ "$(pkg_status)" != not-installed ]; then
      say "cleanup: purging $pkg"
      apt_get purge "$pkg" >"$tmp/cleanup-purge.log" 2>&1 || { cat "$tmp/cleanup-purge.log" >&2; rc=1; }
    fi
    # What the installation pulled in (dependencies that were missing) goes as well.
    local pulled
    pulled="$(comm -13 "$installed_before" <(installed_packages) | tr '\n' ' ')"
    if [ -n "${pulled// /}" ]; then
      say "cleanup: purging the packages the installation pulled in: $pulled"
      # shellcheck disable=SC2086
      apt_get purge $pulled >"$tmp/cleanup-deps.log" 2>&1 || { cat "$tmp/cleanup-deps.log" >&2; rc=1; }
    fi
  fi
  rm -rf "$tmp"
  if [ $rc -eq 0 ]; then say "PASS ($((SECONDS - t0)) s)"; else say "FAILED (exit $rc, $((SECONDS - t0)) s)"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build the package -----------------------------------------------------------------------------
say "building the package from $build"
deb="$("$root/installer/package.sh" "$build" 2>"$tmp/package.log")" || {
  tail -40 "$tmp/package.log" >&2
  fail "installer/package.sh failed"
}
[ -f "$deb" ] || fail "installer/package.sh printed '$deb', which is not a file"
version="$(dpkg-deb -f "$deb" Version)"
case "$(basename "$deb")" in
  "${pkg}_${version}_$(dpkg --print-architecture).deb") ;;
  *) fail "unexpected file name $(basename "$deb")" ;;
esac
say "package: $deb ($(du -h "$deb" | cut -f1))"

# ---- control fields --------------------------------------------------------------------------------
for f in Package Version Architecture Maintainer Section Priority Homepage Depends Description; do
  [ -n "$(dpkg-deb -f "$deb" "$f")" ] || fail "control field $f is empty"
done
desc="$(dpkg-deb -f "$deb" Description)"
grep -qi "not a medical device" <<<"$desc" || fail "the description does not say it is not a medical device"
grep -qi "synthetic" <<<"$desc" || fail "the description does not say the bundled models are trained on synthetic data"
say "Depends: $(dpkg-deb -f "$deb" Depends)"

# ---- contents: exactly what should be shipped ------------------------------------------------------
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's|^\./|/|' -e 's|/$||' -e '/^$/d' | sort -u >"$tmp/contents"
allowed='^/(usr(/bin(/echo2ecg(-gui)?)?|/share(/echo2ecg(/models(/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+\.json)?)?'
allowed+='|/tools(/(convert_checkpoint|echo2ecg_reference)\.py)?)?'
allowed+='|/applications(/echo2ecg\.desktop)?|/icons(/hicolor(/scalable(/apps(/echo2ecg\.svg)?)?)?)?'
allowed+='|/metainfo(/org\.echo2ecg\.workstation\.metainfo\.xml)?|/man(/man1(/echo2ecg(-gui)?\.1\.gz)?)?'
allowed+='|/doc(/echo2ecg-workstation(/(copyright|changelog\.gz))?)?)?)?)?$'
unexpected="$(grep -Ev "$allowed" "$tmp/contents" || true)"
[ -z "$unexpected" ] || fail "the package ships what it should not: $(tr '\n' ' ' <<<"$unexpected")"
bad="$(grep -E '\.(a|so[.0-9]*|h|hpp|cmake|pc|o)$|/include/|/test_|/bench' "$tmp/contents" || true)"
[ -z "$bad" ] || fail "libraries, headers or test files in the package: $(tr '\n' ' ' <<<"$bad")"
need=(/usr/bin/echo2ecg /usr/share/man/man1/echo2ecg.1.gz "/usr/share/doc/$pkg/copyright" "/usr/share/doc/$pkg/changelog.gz")
while IFS= read -r f; do need+=("/usr/share/echo2ecg/models/${f#"$root/models/"}"); done \
  < <(find "$root/models" -type f \( -name '*.json' -o -name '*.pt' -o -name '*.md' \) | sort)
gui=0
if grep -qx /usr/bin/echo2ecg-gui "$tmp/contents"; then
  gui=1
  need+=(/usr/share/man/man1/echo2ecg-gui.1.gz /usr/share/applications/echo2ecg.desktop
         /usr/share/icons/hicolor/scalable/apps/echo2ecg.svg /usr/share/metainfo/org.echo2ecg.workstation.metainfo.xml)
fi
for f in "${need[@]}"; do grep -qxF "$f" "$tmp/contents" || fail "the package lacks $f"; done
say "contents: $(wc -l <"$tmp/contents") paths, all expected (GUI: $([ $gui = 1 ] && echo yes || echo no))"

# Nothing in the way: no path of the package may exist as a file that is not the package's own.
: >"$tmp/preexisting"
while IFS= read -r p; do
  if [ -e "$p" ] || [ -L "$p" ]; then
    if [ ! -d "$p" ] || [ -L "$p" ]; then fail "$p exists but is not from $pkg; installing would overwrite it"; fi
    echo "$p" >>"$tmp/preexisting"
  fi
done <"$tmp/contents"

# ---- install ---------------------------------------------------------------------------------------
say "apt-get install --no-install-recommends $deb"
touched_system=1
apt_get install --no-install-recommends "$deb" >"$tmp/install.log" 2>&1 || {
  tail -40 "$tmp/install.log" >&2
  fail "apt-get install failed (are the dependencies reachable? see above)"
}
[ "$(pkg_status)" = installed ] || fail "$pkg is not installed after apt-get install"
pulled="$(comm -13 "$installed_before" <(installed_packages) | grep -vx "$pkg:*[a-z0-9]*" | tr '\n' ' ' || true)"
say "installed; pulled in: ${pulled:-nothing}"
dpkg -L "$pkg" | grep -vx '/\.' | sort -u >"$tmp/dpkg-L"

# The installed files are the repository's models, byte for byte.
while IFS= read -r f; do
  rel="${f#"$root/models/"}"
  cmp -s "$f" "/usr/share/echo2ecg/models/$rel" || fail "/usr/share/echo2ecg/models/$rel differs from models/$rel"
done < <(find "$root/models" -type f \( -name '*.json' -o -name '*.pt' -o -name '*.md' \))
if command -v readelf >/dev/null; then
  for b in /usr/bin/echo2ecg /usr/bin/echo2ecg-gui; do
    [ -f "$b" ] || continue
    ! readelf -S "$b" | grep -q '\.debug_info' || fail "$b is not stripped"
  done
fi
for m in /usr/share/man/man1/echo2ecg*.1.gz; do
  gzip -t "$m" || fail "$m is not a valid gzip file"
  if command -v groff >/dev/null; then
    warn="$(zcat "$m" | groff -man -ww -z -Tutf8 2>&1)" || true
    [ -z "$warn" ] || fail "groff warns about $m: $warn"
  fi
done
if [ $gui = 1 ]; then
  if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate /usr/share/applications/echo2ecg.desktop || fail "desktop-file-validate"
  else
    say "note: desktop-file-validate missing (desktop-file-utils), desktop entry not validated"
  fi
  if command -v appstreamcli >/dev/null; then
    appstreamcli validate --no-net /usr/share/metainfo/org.echo2ecg.workstation.metainfo.xml >"$tmp/as.log" 2>&1 || {
      cat "$tmp/as.log" >&2
      fail "appstreamcli validate"
    }
  else
    say "note: appstreamcli missing (appstream), metainfo not validated"
  fi
fi

# ---- run the installed programs: temporary HOME, clean environment ----------------------------------
home="$tmp/home"
mkdir -p "$home" && mkdir -m 700 "$tmp/runtime"
app() {
  env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$home" XDG_CONFIG_HOME="$home/.config" \
    XDG_DATA_HOME="$home/.local/share" XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$tmp/runtime" \
    TMPDIR="$tmp" "$@"
}
db="$home/.local/share/echo2ecg/studies.db"

if out="$(app /usr/bin/echo2ecg --version 2>&1)" && [ -n "$out" ]; then
  say "echo2ecg --version: $(head -1 <<<"$out")"
  grep -qF "$version" <<<"$out" || fail "echo2ecg --version does not name the package version $version"
else
  say "note: echo2ecg --version failed or printed nothing ('$out'); checking --help instead"
fi
app /usr/bin/echo2ecg --help >"$tmp/help.txt" 2>&1 || fail "echo2ecg --help failed"

out="$(app /usr/bin/echo2ecg info 2>&1)" || fail "echo2ecg info failed: $out"
models_line="$(grep -E '^Bundled models:' <<<"$out" || true)"
[ -n "$models_line" ] || fail "echo2ecg info prints no 'Bundled models:' line: $out"
[ "$models_line" = "Bundled models: /usr/share/echo2ecg/models" ] ||
  fail "the installed echo2ecg does not find the bundled models in /usr/share/echo2ecg/models: $models_line"
say "echo2ecg info: $models_line"

say "echo2ecg import $data (default database under the temporary HOME)"
rc=0
app /usr/bin/echo2ecg import "$data" --quiet >"$tmp/import.txt" 2>&1 || rc=$?
cat "$tmp/import.txt"
[ $rc -eq 0 ] || [ $rc -eq 3 ] || fail "echo2ecg import exited $rc"  # 3: the data's known conflicts
[ -f "$db" ] || fail "the default database $db was not created (user data belongs under the XDG data directory)"
app /usr/bin/echo2ecg list studies >"$tmp/list.txt" 2>&1 || { cat "$tmp/list.txt"; fail "echo2ecg list failed"; }
studies=$(($(wc -l <"$tmp/list.txt") - 1))
[ "$studies" -ge 1 ] || fail "echo2ecg list shows no studies: $(cat "$tmp/list.txt")"
say "echo2ecg list studies: $studies studies"

if grep -qE '^  predict ' "$tmp/help.txt"; then
  # One ECG through libtorch and the bundled heads: the runtime libraries (libtorch, BLAS) resolve.
  out="$(app /usr/bin/echo2ecg predict 1 2>&1)" || fail "echo2ecg predict 1 failed: $out"
  grep -q 'bundled' <<<"$out" || fail "echo2ecg predict did not use the bundled models: $out"
  say "echo2ecg predict 1: $(grep -c 'bundled' <<<"$out") predictions with the bundled models"
  # `models import` finds the installed converter and runs it: the bundled weights archive is not a
  # checkpoint it imports, and the converter's own error must come back (not "convert_checkpoint.py not found").
  rc=0
  out="$(app /usr/bin/echo2ecg models import /usr/share/echo2ecg/models/echo2ecg.pt 2>&1)" || rc=$?
  [ $rc -ne 0 ] && grep -q 'not a checkpoint this workstation imports' <<<"$out" ||
    fail "echo2ecg models import did not run the installed converter (exit $rc): $out"
  # A bundle folder imports as a registered version (copied beside the database).
  out="$(app /usr/bin/echo2ecg models import /usr/share/echo2ecg/models 2>&1)" ||
    fail "echo2ecg models import of the bundled models failed: $out"
  say "echo2ecg models import: $(head -1 <<<"$out")"
else
  say "note: this build has no model commands (E2E_BUILD_MODELS=OFF): no prediction run"
fi

if [ $gui = 1 ]; then
  app env QT_QPA_PLATFORM=offscreen /usr/bin/echo2ecg-gui --version >"$tmp/gui-version.txt" 2>&1 ||
    fail "echo2ecg-gui --version failed: $(cat "$tmp/gui-version.txt")"
  command -v xvfb-run >/dev/null || fail "xvfb-run is missing (apt-get install xvfb xauth)"
  ecg="$(find "$data/ecg_dicom" -name '*.dcm' | sort | head -1)"
  echo="$(find "$data/us_dicom" -name 'US1_UNCR.dcm' | head -1)"
  [ -n "$echo" ] || echo="$(find "$data/us_dicom" -name '*.dcm' | sort | head -1)"
  shots="$tmp/shots"
  say "echo2ecg-gui --screenshot (Xvfb) $(basename "$ecg") $(basename "$echo")"
  rc=0
  app timeout 180 xvfb-run -a -s "-screen 0 1600x1000x24" /usr/bin/echo2ecg-gui --screenshot "$shots" \
    "$ecg" "$echo" >"$tmp/gui.txt" 2>&1 || rc=$?
  [ $rc -eq 0 ] || { cat "$tmp/gui.txt" >&2; fail "echo2ecg-gui --screenshot exited $rc"; }
  [ -s "$shots/main_window.png" ] || fail "no main_window.png from echo2ecg-gui --screenshot"
  for png in "$shots"/*.png; do
    [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png is not a PNG"
    [ "$(stat -c %s "$png")" -gt 1000 ] || fail "$png is (almost) empty"
  done
  say "screenshots: $(find "$shots" -name '*.png' -printf '%f ')"
fi

# Nothing was written below /usr at run time.
find /usr/share/echo2ecg /usr/bin/echo2ecg* | sort >"$tmp/after-run"
extra="$(comm -23 "$tmp/after-run" "$tmp/dpkg-L")"
[ -z "$extra" ] || fail "files appeared below /usr while the programs ran: $extra"

# ---- purge: every path the package installed is gone -----------------------------------------------
say "apt-get purge $pkg"
apt_get purge "$pkg" >"$tmp/purge.log" 2>&1 || { tail -20 "$tmp/purge.log" >&2; fail "apt-get purge failed"; }
[ -z "$(pkg_status)" ] || [ "$(pkg_status)" = not-installed ] || fail "$pkg still known to dpkg: $(pkg_status)"
left=()
while IFS= read -r p; do
  grep -qxF "$p" "$tmp/preexisting" && continue  # a directory that was there before (/usr/bin, ...)
  if [ -e "$p" ] || [ -L "$p" ]; then left+=("$p"); fi
done <"$tmp/dpkg-L"
[ ${#left[@]} -eq 0 ] || fail "left behind after the purge: ${left[*]}"
say "purged: all $(wc -l <"$tmp/dpkg-L") paths of the package are gone"
