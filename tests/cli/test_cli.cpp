// The echo2ecg binary, run as a user would: help, usage errors, import + list + show.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "unprivileged.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int rc = -1;
  std::string out, err;
};

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_cli_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "studies.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result run(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    const std::string outPath = (dir_ / "stdout.txt").string(), errPath = (dir_ / "stderr.txt").string();
    const pid_t pid = fork();
    if (pid == 0) {
      const int o = open(outPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int e = open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int in = open("/dev/null", O_RDONLY);
      dup2(o, 1);
      dup2(e, 2);
      dup2(in, 0);
      if (asUnprivileged_) {  // as root: run it as nobody (the output files are open already)
        const std::string why = e2e::test::becomeUnprivileged();
        if (!why.empty()) {
          std::fprintf(stderr, "%s\n", why.c_str());
          _exit(126);
        }
      }
      for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>("echo2ecg"));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(E2E_CLI_PATH, argv.data());
      _exit(127);
    }
    Result r;
    int status = 0;
    waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(outPath);
    r.err = slurp(errPath);
    return r;
  }
  std::string data(const std::string& rel) { return e2e::test::dataFile(rel).string(); }

  fs::path dir_;
  std::string db_;
  bool asUnprivileged_ = false;  // run(): as nobody where the test runs as root
};

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

}  // namespace

TEST_F(CliTest, HelpEverywhere) {
  auto r = run({"--help"});
  EXPECT_EQ(r.rc, 0);
  for (const char* c : {"import", "list", "show", "generate", "info"}) {
    EXPECT_TRUE(has(r.out, c)) << c;
    auto sub = run({c, "--help"});
    EXPECT_EQ(sub.rc, 0) << c;
    EXPECT_TRUE(has(sub.out, std::string("Usage: echo2ecg ") + c)) << sub.out;
  }
  EXPECT_EQ(run({"help", "import"}).rc, 0);
  auto v = run({"--version"});
  EXPECT_EQ(v.rc, 0);
  EXPECT_TRUE(has(v.out, "echo2ecg ")) << v.out;
}

TEST_F(CliTest, UsageErrorsExit2) {
  EXPECT_EQ(run({}).rc, 2);
  EXPECT_EQ(run({"frobnicate"}).rc, 2);
  EXPECT_EQ(run({"import", "--db", db_}).rc, 2);  // nothing to import
  EXPECT_EQ(run({"import", data("ecg_dicom"), "--db", db_, "--threads", "zero"}).rc, 2);
  EXPECT_EQ(run({"import", data("ecg_dicom"), "--db"}).rc, 2);
  EXPECT_EQ(run({"list", "bogus", "--db", db_}).rc, 2);
  EXPECT_EQ(run({"list", "--no-such-option"}).rc, 2);
  EXPECT_EQ(run({"show", "--db", db_}).rc, 2);
  EXPECT_EQ(run({"generate", "--patients", "3"}).rc, 2);  // --out missing
  EXPECT_EQ(run({"generate", "--out", (dir_ / "g").string(), "--patients", "-1"}).rc, 2);
  auto r = run({"list", "bogus", "--db", db_});
  EXPECT_TRUE(has(r.err, "bogus")) << r.err;
  EXPECT_FALSE(fs::exists(db_));  // usage errors touch nothing
}

TEST_F(CliTest, RuntimeErrorsExit1) {
  EXPECT_EQ(run({"list", "--db", (dir_ / "missing.db").string()}).rc, 1);
  {
    std::ofstream f(db_);
    f << "not a database at all, but text that fills the sqlite header area..................";
  }
  auto r = run({"list", "--db", db_});
  EXPECT_EQ(r.rc, 1);
  EXPECT_FALSE(r.err.empty());
}

TEST_F(CliTest, ImportListShow) {
  auto imp = run({"import", data("ecg_dicom"), data("us_dicom/octave-dicom_debian"), data("ecg_wfdb/wfdb-python_ptb_s0010_re"),
                  "--db", db_, "--threads", "2"});
  ASSERT_EQ(imp.rc, 0) << imp.out << imp.err;
  EXPECT_TRUE(has(imp.out, "Import finished")) << imp.out;
  EXPECT_TRUE(has(imp.out, "skipped 1")) << imp.out;  // anonymous_ecg.dcm == waveform_ecg.dcm
  EXPECT_TRUE(has(imp.out, "LICENSE")) << imp.out;    // reported as unsupported
  EXPECT_FALSE(has(imp.err, "\r"));                   // no progress bar when not on a TTY

  auto again = run({"import", data("ecg_dicom"), "--db", db_});
  EXPECT_EQ(again.rc, 0);
  EXPECT_TRUE(has(again.out, "added 0")) << again.out;

  auto patients = run({"list", "patients", "--db", db_});
  ASSERT_EQ(patients.rc, 0) << patients.err;
  EXPECT_TRUE(has(patients.out, "123-654")) << patients.out;
  // Names as everywhere ("FAMILY, Given"), not the DICOM "Patient^Test".
  EXPECT_TRUE(has(patients.out, "123-654\tPATIENT, Test\t")) << patients.out;
  EXPECT_FALSE(has(patients.out, "Patient^Test")) << patients.out;

  auto us = run({"list", "studies", "--db", db_, "--modality", "US"});
  ASSERT_EQ(us.rc, 0);
  EXPECT_TRUE(has(us.out, "Echocardiogram")) << us.out;
  EXPECT_FALSE(has(us.out, "123-654")) << us.out;

  auto filtered = run({"list", "patients", "--db", db_, "--filter", "patient^te"});
  EXPECT_TRUE(has(filtered.out, "123-654"));

  auto inst = run({"list", "instances", "--db", db_, "--filter", "test_ecg"});
  ASSERT_EQ(inst.rc, 0);
  EXPECT_TRUE(has(inst.out, "1.3.6.1.4.1.6018.3.999")) << inst.out;

  auto ecg = run({"show", "1.3.6.1.4.1.6018.3.999", "--db", db_});
  ASSERT_EQ(ecg.rc, 0) << ecg.err;
  EXPECT_TRUE(has(ecg.out, "123-654"));
  EXPECT_TRUE(has(ecg.out, "Name: PATIENT, Test (DICOM Patient^Test)")) << ecg.out;
  EXPECT_TRUE(has(ecg.out, "240 Hz")) << ecg.out;
  EXPECT_TRUE(has(ecg.out, "I II III aVR aVL aVF V1 V2 V3 V4 V5 V6")) << ecg.out;
  EXPECT_TRUE(has(ecg.out, "Heart rate")) << ecg.out;
  EXPECT_TRUE(has(ecg.out, "test_ecg.dcm"));

  auto palList = run({"list", "instances", "--db", db_, "--filter", "US-PAL-8-10x-echo.dcm"});
  ASSERT_EQ(palList.rc, 0);
  const auto line = palList.out.substr(palList.out.find('\n') + 1);
  const std::string id = line.substr(0, line.find('\t'));
  ASSERT_FALSE(id.empty()) << palList.out;
  auto echo = run({"show", id, "--db", db_});
  ASSERT_EQ(echo.rc, 0) << echo.err;
  EXPECT_TRUE(has(echo.out, "10 frames")) << echo.out;
  EXPECT_TRUE(has(echo.out, "PALETTE COLOR")) << echo.out;
  EXPECT_TRUE(has(echo.out, "source: FrameTime")) << echo.out;
  EXPECT_TRUE(has(echo.out, "Regions:")) << echo.out;
  EXPECT_TRUE(has(echo.out, "View:")) << echo.out;

  auto wfdb = run({"list", "instances", "--db", db_, "--filter", "s0010_re"});
  EXPECT_TRUE(has(wfdb.out, "WFDB")) << wfdb.out;

  EXPECT_EQ(run({"show", "999999", "--db", db_}).rc, 1);
  EXPECT_EQ(run({"show", "1.2.3.4.5.6", "--db", db_}).rc, 1);

  auto info = run({"info", "--db", db_});
  EXPECT_EQ(info.rc, 0);
  EXPECT_TRUE(has(info.out, "schema version")) << info.out;
}

TEST_F(CliTest, ConflictsGiveExit3AndDefaultDbFromEnvironment) {
  const std::string envDb = (dir_ / "env" / "from_env.db").string();
  fs::create_directories(dir_ / "env");  // only the home database gets its folder created
  auto r = run({"import", data("us_dicom/pydicom-data")}, {"E2E_DB=" + envDb});
  EXPECT_EQ(r.rc, 3) << r.out << r.err;  // OBXXXX1A*.dcm share one SOP Instance UID
  EXPECT_TRUE(has(r.out, "Conflicts (2)")) << r.out;
  EXPECT_TRUE(has(r.out, "1.3.46.670589.14.1000.210.2.199999.20110525185628.1.0")) << r.out;
  EXPECT_TRUE(fs::exists(envDb));
  auto l = run({"list", "instances"}, {"E2E_DB=" + envDb});
  EXPECT_EQ(l.rc, 0);
  EXPECT_TRUE(has(l.out, "OBXXXX1A"));
}

TEST_F(CliTest, VersionNamesTheBuildAndTheLibraries) {
  for (const char* flag : {"--version", "-V"}) {
    auto r = run({flag});
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_TRUE(has(r.out, "echo2ecg 0.1.0 (git ")) << r.out;
    for (const char* field : {"Git revision: ", "DCMTK: ", "SQLite: ", "libtorch: ", "CUDA: "})
      EXPECT_TRUE(has(r.out, std::string("\n") + field)) << field << " missing in:\n" << r.out;
    EXPECT_FALSE(has(r.out, "DCMTK: unknown")) << r.out;
    EXPECT_FALSE(has(r.out, "Git revision: \n")) << r.out;
  }
}

// A database this user may not write (file 0444 in a folder 0555; as root the CLI runs as nobody):
// list, show and info read it; import says it is read-only and changes nothing.
TEST_F(CliTest, ReadOnlyDatabaseCanBeViewedButNotImportedInto) {
  const std::string shared = e2e::test::sharedTempDir("e2e-cli-readonly");
  ASSERT_FALSE(shared.empty());
  const std::string roDir = shared + "/ro", ro = roDir + "/studies.db";
  fs::create_directories(roDir);
  auto imp = run({"import", data("ecg_dicom"), "--db", ro});
  ASSERT_EQ(imp.rc, 0) << imp.out << imp.err;
  ASSERT_FALSE(fs::exists(ro + "-wal"));
  ASSERT_EQ(::chmod(ro.c_str(), 0444), 0);
  ASSERT_EQ(::chmod(roDir.c_str(), 0555), 0);

  asUnprivileged_ = true;
  auto list = run({"list", "instances", "--db", ro});
  EXPECT_EQ(list.rc, 0) << list.err;
  EXPECT_TRUE(has(list.out, "1.3.6.1.4.1.6018.3.999")) << list.out << list.err;
  auto show = run({"show", "1.3.6.1.4.1.6018.3.999", "--db", ro});
  EXPECT_EQ(show.rc, 0) << show.err;
  EXPECT_TRUE(has(show.out, "123-654")) << show.out;
  auto info = run({"info", "--db", ro});
  EXPECT_EQ(info.rc, 0) << info.err;
  // The database is at the program's own schema version (whatever it is now).
  const std::string own = "Database schema version (this program): ";
  const auto at = info.out.find(own);
  ASSERT_NE(at, std::string::npos) << info.out;
  const std::string version = info.out.substr(at + own.size(), info.out.find('\n', at) - at - own.size());
  EXPECT_TRUE(has(info.out, "schema version " + version + "\n")) << info.out;
  EXPECT_TRUE(has(info.out, "Access: read-only")) << info.out;
  EXPECT_TRUE(has(info.out, "Contents: 2 patients")) << info.out;
  auto again = run({"import", data("ecg_wfdb"), "--db", ro});
  EXPECT_EQ(again.rc, 1) << again.out << again.err;
  EXPECT_TRUE(has(again.err, "DB is read-only: " + ro)) << again.err;
  asUnprivileged_ = false;

  auto after = run({"list", "instances", "--db", ro});
  EXPECT_FALSE(has(after.out, "WFDB")) << after.out;  // nothing was imported
  e2e::test::removeSharedTempDir(shared);
}
