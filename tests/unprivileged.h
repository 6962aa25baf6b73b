// Tests of what a user sees who may not write a file or folder. chmod does not stop root, so where
// the tests run as root their checks run in a child process that first becomes "nobody" (uid/gid
// 65534; googletest's EXPECT_EXIT forks it). The files such a child reads live under
// sharedTempDir(), a folder every user may enter. Qt-free.
#pragma once
#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "test_home.h"

namespace e2e::test {

constexpr unsigned kNobody = 65534;

// As root: become nobody for good (groups, gid, uid). "" on success or when not root, else why not.
inline std::string becomeUnprivileged() {
  if (::geteuid() != 0) return "";
  if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0)
    return std::string("cannot drop root privileges: ") + std::strerror(errno);
  if (::geteuid() == 0 || ::getuid() == 0) return "still root after setuid";
  return "";
}

// A fresh folder that every user may enter and read (0755), in the temporary folder the test process
// was started with (its own TMPDIR is inside the private 0700 root); "" on error. The caller removes
// it (removeSharedTempDir); the test command's run-wide folder catches what a crash leaves.
inline std::string sharedTempDir(const std::string& stem) {
  std::string tmpl = (std::filesystem::path(outerTempDir()) / (stem + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) return "";
  ::chmod(tmpl.c_str(), 0755);
  return tmpl;
}

// Makes everything below `root` writable by its owner again and removes it.
inline void removeSharedTempDir(const std::string& root) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (root.empty() || !fs::exists(root, ec)) return;
  ::chmod(root.c_str(), 0755);
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    ::chmod(it->path().c_str(), it->is_directory(ec) ? 0755 : 0644);
  fs::remove_all(root, ec);
}

}  // namespace e2e::test
