#include "test_home.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace e2e::test {
namespace {

std::string g_root;
std::string g_outerTmp;
pid_t g_owner = 0;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "e2e test isolation: %s: %s\n", what.c_str(), std::strerror(errno));
  std::fflush(stderr);
  std::_Exit(2);
}

void makeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    errno = ec.value();
    fail("cannot create " + path);
  }
  ::chmod(path.c_str(), 0700);
}

void setDir(const char* var, const std::string& path) {
  makeDirs(path);
  if (::setenv(var, path.c_str(), 1) != 0) fail(std::string("setenv ") + var);
}

void removeAtExit() { removeIsolatedHome(); }

}  // namespace

std::string isolateHome() {
  if (!g_root.empty()) return g_root;
  std::string base = "/tmp";
  if (const char* t = std::getenv("TMPDIR"); t && *t) base = t;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  g_outerTmp = base;
  std::string templ = base + "/e2e-test-home-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) fail("mkdtemp " + templ);
  g_root = buf.data();
  g_owner = ::getpid();

  // The layout of a normal home, so that code using $HOME/.local/share directly ends up in the
  // same place as code using $XDG_DATA_HOME.
  const std::string home = g_root + "/home";
  setDir("HOME", home);
  setDir("XDG_CONFIG_HOME", home + "/.config");
  setDir("XDG_DATA_HOME", home + "/.local/share");
  setDir("XDG_CACHE_HOME", home + "/.cache");
  setDir("XDG_STATE_HOME", home + "/.local/state");
  // Temporary files too: every fixture and scratch folder (fs::temp_directory_path, mkdtemp,
  // QTemporaryDir, the CLI and Orthanc children) lands under the root and goes with it at exit, so
  // a full run leaves nothing in /tmp (a model-import fixture alone is about 1 GB per process).
  setDir("TMPDIR", g_root + "/tmp");
  ::unsetenv("E2E_DB");
  // Encoders run in fp32 whatever the CPU: "auto" would pick bfloat16 on a CPU with AVX512-BF16 / AMX
  // (or a CUDA device), and the stored vectors and figures that tests compare would change with the
  // machine. tests/precision checks the automatic choice on given CPU flag sets.
  ::setenv("E2E_PRECISION", "fp32", 1);
  std::atexit(removeAtExit);
  return g_root;
}

const std::string& isolatedHomeRoot() { return g_root; }

const std::string& outerTempDir() {
  static const std::string fallback = "/tmp";
  return g_outerTmp.empty() ? fallback : g_outerTmp;
}

void removeIsolatedHome() {
  if (g_root.empty() || ::getpid() != g_owner) return;
  std::error_code ec;
  std::filesystem::remove_all(g_root, ec);
  if (ec) std::fprintf(stderr, "e2e test isolation: cannot remove %s: %s\n", g_root.c_str(), ec.message().c_str());
  g_root.clear();
}

}  // namespace e2e::test
