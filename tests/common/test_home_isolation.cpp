// e2e_test_main (tests/test_main.cpp) runs every test in a private temporary HOME / XDG_* tree:
// tests never read or write the user's settings or ~/.local/share/echo2ecg/studies.db.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "test_home.h"

namespace fs = std::filesystem;

namespace {
std::string env(const char* k) {
  const char* v = std::getenv(k);
  return v ? v : "";
}
bool isInside(const fs::path& p, const fs::path& dir) {
  const auto rel = fs::weakly_canonical(p).lexically_relative(fs::weakly_canonical(dir));
  return !rel.empty() && *rel.begin() != "..";
}
}  // namespace

TEST(TestHomeIsolation, HomeAndXdgDirsArePrivateTemporaryDirectories) {
  const std::string root = e2e::test::isolatedHomeRoot();
  ASSERT_FALSE(root.empty()) << "the test main did not isolate HOME";
  EXPECT_EQ(fs::path(root).filename().string().rfind("e2e-test-home-", 0), 0u) << root;
  EXPECT_EQ(fs::status(root).permissions() & (fs::perms::group_all | fs::perms::others_all), fs::perms::none);

  std::string userHome;
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_dir) userHome = pw->pw_dir;

  for (const char* var : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"}) {
    SCOPED_TRACE(var);
    const std::string dir = env(var);
    ASSERT_FALSE(dir.empty());
    EXPECT_TRUE(isInside(dir, root)) << dir << " not inside " << root;
    if (!userHome.empty()) {
      EXPECT_NE(fs::weakly_canonical(dir), fs::weakly_canonical(userHome));
      // The user's real config / data folders are not used.
      EXPECT_FALSE(isInside(dir, fs::path(userHome) / ".config"));
      EXPECT_FALSE(isInside(dir, fs::path(userHome) / ".local"));
    }
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    EXPECT_EQ(::access(dir.c_str(), W_OK), 0) << dir;
    const fs::path probe = fs::path(dir) / "write-probe";
    { std::ofstream(probe) << "x"; }
    EXPECT_TRUE(fs::exists(probe));
    fs::remove(probe);
  }
  // Code that uses $HOME/.local/share directly (the default database path) lands in XDG_DATA_HOME.
  EXPECT_EQ(fs::path(env("HOME")) / ".local/share", fs::path(env("XDG_DATA_HOME")));
}

TEST(TestHomeIsolation, TemporaryFilesGoInsideTheRootAndAreRemovedWithIt) {
  const std::string root = e2e::test::isolatedHomeRoot();
  ASSERT_FALSE(root.empty());
  ASSERT_FALSE(env("TMPDIR").empty());
  EXPECT_TRUE(isInside(env("TMPDIR"), root)) << env("TMPDIR");
  EXPECT_TRUE(isInside(fs::temp_directory_path(), root)) << fs::temp_directory_path();
  ASSERT_TRUE(fs::is_directory(env("TMPDIR")));
}

// Run as a child by the next test: leaves a scratch folder in TMPDIR, as fixtures do, and says where.
TEST(TestHomeIsolation, ChildLeavesScratchFiles) {
  if (env("E2E_ISOLATION_CHILD").empty()) GTEST_SKIP() << "only run as a child of the next test";
  const fs::path scratch = fs::temp_directory_path() / "fixture";
  fs::create_directories(scratch);
  { std::ofstream(scratch / "weights.bin") << std::string(1 << 20, 'x'); }
  std::ofstream(env("E2E_ISOLATION_CHILD")) << e2e::test::isolatedHomeRoot() << "\n" << scratch.string() << "\n";
}

TEST(TestHomeIsolation, ATestProcessLeavesNothingInTemporaryFiles) {
  const fs::path report = fs::temp_directory_path() / "child-report";
  const std::string cmd = "E2E_ISOLATION_CHILD=" + report.string() + " /proc/" + std::to_string(::getpid()) +
                          "/exe --gtest_filter=TestHomeIsolation.ChildLeavesScratchFiles > /dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(report);
  std::string childRoot, scratch;
  std::getline(in, childRoot);
  std::getline(in, scratch);
  ASSERT_FALSE(childRoot.empty());
  EXPECT_TRUE(isInside(scratch, childRoot)) << scratch << " not inside " << childRoot;
  EXPECT_FALSE(fs::exists(scratch)) << "left behind: " << scratch;
  EXPECT_FALSE(fs::exists(childRoot)) << "left behind: " << childRoot;
}

TEST(TestHomeIsolation, NoUserDatabaseIsSelected) {
  EXPECT_EQ(std::getenv("E2E_DB"), nullptr);
}

TEST(TestHomeIsolation, OtherEnvironmentIsKept) {
  // ctest passes E2E_DATA_DIR to every test (tests/CMakeLists.txt); isolation must keep it.
  if (std::getenv("E2E_DATA_DIR") == nullptr) GTEST_SKIP() << "E2E_DATA_DIR not set (not run by ctest)";
  EXPECT_FALSE(env("E2E_DATA_DIR").empty());
}
