// Per-process test isolation: a private HOME / XDG_* tree, so that tests never read or write the
// user's settings (QSettings), recent files or ~/.local/share/echo2ecg/studies.db, and the app
// never sees what a test wrote. Qt-free. e2e_test_main (tests/test_main.cpp) calls it before
// anything else; a test with its own main() must call isolateHome() first thing as well.
#pragma once

#include <string>

namespace e2e::test {

// Creates a fresh private directory (mkdtemp, $TMPDIR or /tmp, "e2e-test-home-XXXXXX") and points
// HOME, XDG_CONFIG_HOME, XDG_DATA_HOME, XDG_CACHE_HOME and XDG_STATE_HOME into it (created, 0700);
// unsets E2E_DB, and points TMPDIR at <root>/tmp, so that every scratch file of the process goes
// with the root. Everything else (E2E_DATA_DIR, DISPLAY, QT_QPA_PLATFORM...) is kept.
// Child processes inherit the environment. Returns the directory's root; aborts the process if it
// cannot be created. Calling it again returns the same root.
std::string isolateHome();

// The temporary folder the process was started with ($TMPDIR before isolation, else /tmp): for
// folders that another user must reach (the root itself is 0700).
const std::string& outerTempDir();

// The root made by isolateHome(), empty before.
const std::string& isolatedHomeRoot();

// Removes the root recursively (best effort; only in the process that created it, so a forked
// child calling exit() does not remove its parent's directory). Also registered with atexit().
void removeIsolatedHome();

}  // namespace e2e::test
