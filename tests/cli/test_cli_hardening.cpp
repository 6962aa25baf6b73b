// Issue 22: the CLI and the study database under attack-like inputs. Each test failed before the
// fix (crash, silent fallback, a foreign file modified, an implausible ECG stored, /etc/passwd
// opened) and passes after it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli_util.h"
#include "test_util.h"

namespace fs = std::filesystem;
using e2e::test::runCli;
using e2e::test::shellQuote;

namespace {

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::string fileBytes(const fs::path& p) { return e2e::test::readFile(p); }

// Runs SQL on a file with plain SQLite (as another application would).
void sql(const std::string& path, const std::string& statements) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, statements.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

int userVersion(const std::string& path) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  int v = -999;
  if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

// A one-signal WFDB record (format 16, 200 adu/mV) written into `dir`: header text as given with
// `n` samples of a 1 Hz-ish ramp (or all equal when `flat`).
void writeWfdb(const fs::path& dir, const std::string& name, const std::string& header, std::size_t n, bool flat = false) {
  fs::create_directories(dir);
  std::ofstream(dir / (name + ".hea")) << header;
  std::ofstream dat(dir / (name + ".dat"), std::ios::binary);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int16_t v = flat ? 100 : static_cast<std::int16_t>((i * 37) % 400 - 200);
    dat.write(reinterpret_cast<const char*>(&v), 2);
  }
}

class CliHardening : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_cli_hard_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "studies.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  e2e::test::CliResult cli(const std::string& args) { return runCli(args, true); }
  std::string data(const std::string& rel) { return e2e::test::dataFile(rel).string(); }
  fs::path dir_;
  std::string db_;
};

}  // namespace

// --- 2: negative / newer user_version: a clear error, never SIGSEGV, nothing changed.
TEST_F(CliHardening, NegativeOrNewerSchemaVersionIsAClearErrorNotACrash) {
  for (int version : {-1, -2147483647, 6, 99999}) {
    fs::remove(db_);
    sql(db_, "PRAGMA user_version = " + std::to_string(version));
    for (const std::string& cmd : std::vector<std::string>{"list", "show 1", "import " + shellQuote(data("ecg_dicom"))}) {
      auto r = cli(cmd + " --db " + shellQuote(db_));
      EXPECT_EQ(r.rc, 1) << version << " " << cmd << ": " << r.out;  // SIGSEGV gave -1 here
      EXPECT_TRUE(has(r.out, "schema version " + std::to_string(version))) << r.out;
    }
    EXPECT_EQ(userVersion(db_), version);
  }
}

// --- 3: another application's SQLite file is refused and left exactly as it was.
TEST_F(CliHardening, ForeignSqliteFileIsRefusedAndNeverModified) {
  const std::string foreign = (dir_ / "other_app.sqlite").string();
  sql(foreign, "CREATE TABLE contacts(name TEXT, phone TEXT); INSERT INTO contacts VALUES('a','1');");
  const std::string before = fileBytes(foreign);
  for (const std::string& cmd : std::vector<std::string>{"list", "list patients", "show 1", "import " + shellQuote(data("ecg_dicom")), "db check"}) {
    auto r = cli(cmd + " --db " + shellQuote(foreign));
    EXPECT_EQ(r.rc, 1) << cmd << ": " << r.out;
    EXPECT_TRUE(has(r.out, "not an Echo2ECG database")) << cmd << ": " << r.out;
    EXPECT_TRUE(has(r.out, "contacts")) << r.out;
  }
  EXPECT_EQ(fileBytes(foreign), before);
  EXPECT_EQ(userVersion(foreign), 0);
  EXPECT_FALSE(fs::exists(foreign + "-wal"));
  // The same with a user_version that is not ours.
  sql(foreign, "PRAGMA user_version = 3");
  auto r = cli("list --db " + shellQuote(foreign));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(has(r.out, "not an Echo2ECG database")) << r.out;
  EXPECT_EQ(userVersion(foreign), 3);
}

// --- 3: read-only commands never migrate an older database.
TEST_F(CliHardening, ListDoesNotMigrateAnOlderDatabase) {
  std::ifstream in(std::string(E2E_SOURCE_DIR) + "/tests/db/fixtures/schema_v1.sql");
  std::stringstream ss;
  ss << in.rdbuf();
  sql(db_, ss.str());
  ASSERT_EQ(userVersion(db_), 1);
  auto r = cli("list --db " + shellQuote(db_));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(has(r.out, "older")) << r.out;
  EXPECT_EQ(userVersion(db_), 1);
}

// --- 3: --db "" is a usage error (it used to fall back to the home database); a missing folder
// is an error and is not created.
TEST_F(CliHardening, EmptyDbIsAUsageErrorAndMissingFoldersAreNotCreated) {
  for (const std::string& cmd : std::vector<std::string>{"list", "import " + shellQuote(data("ecg_dicom")), "info", "db check"}) {
    auto r = cli(cmd + " --db ''");
    EXPECT_EQ(r.rc, 2) << cmd << ": " << r.out;
    EXPECT_TRUE(has(r.out, "--db needs a file name")) << r.out;
    auto eq = cli(cmd + " --db=");
    EXPECT_EQ(eq.rc, 2) << cmd << ": " << eq.out;
  }
  const fs::path missing = dir_ / "no" / "such" / "dir" / "x.db";
  auto r = cli("import " + shellQuote(data("ecg_dicom")) + " --db " + shellQuote(missing.string()));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(has(r.out, "does not exist")) << r.out;
  EXPECT_FALSE(fs::exists(dir_ / "no"));
  // The home database still gets its folder.
  const fs::path home = dir_ / "home";
  fs::create_directories(home);
  const std::string cmd = "env -u E2E_DB HOME=" + shellQuote(home.string()) + " " + std::string(E2E_CLI_PATH) +
                          " import " + shellQuote(data("ecg_dicom/pydicom_debian")) + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_TRUE(fs::exists(home / ".local/share/echo2ecg/studies.db"));
}

// --- 3: db check and db backup.
TEST_F(CliHardening, DbCheckAndOnlineBackup) {
  ASSERT_EQ(cli("import " + shellQuote(data("ecg_dicom")) + " --db " + shellQuote(db_)).rc, 0);
  auto check = cli("db check --db " + shellQuote(db_));
  EXPECT_EQ(check.rc, 0) << check.out;
  EXPECT_TRUE(has(check.out, "Integrity check: ok")) << check.out;
  // A database this program created is at this program's schema version, whatever that is now.
  EXPECT_TRUE(std::regex_search(check.out, std::regex(R"(Schema version: (\d+) \(this program: \1\))"))) << check.out;

  const std::string out = (dir_ / "backup.db").string();
  auto b = cli("db backup " + shellQuote(out) + " --db " + shellQuote(db_));
  ASSERT_EQ(b.rc, 0) << b.out;
  auto listed = cli("list instances --db " + shellQuote(out));
  EXPECT_EQ(listed.rc, 0) << listed.out;
  EXPECT_TRUE(has(listed.out, "1.3.6.1.4.1.6018.3.999")) << listed.out;
  EXPECT_EQ(cli("db check --db " + shellQuote(out)).rc, 0);
  // An existing OUT is never overwritten.
  const std::string precious = (dir_ / "precious.txt").string();
  std::ofstream(precious) << "keep me";
  auto again = cli("db backup " + shellQuote(precious) + " --db " + shellQuote(db_));
  EXPECT_EQ(again.rc, 1) << again.out;
  EXPECT_TRUE(has(again.out, "already exists")) << again.out;
  EXPECT_EQ(fileBytes(precious), "keep me");
  // A damaged database fails the check (exit 1).
  const std::string bad = (dir_ / "bad.db").string();
  fs::copy_file(out, bad);
  {
    // every page after the first (the tables' b-tree pages) overwritten
    const auto size = fs::file_size(bad);
    ASSERT_GT(size, 8192u);
    std::fstream f(bad, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    const std::string junk(size - 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto damaged = cli("db check --db " + shellQuote(bad));
  EXPECT_EQ(damaged.rc, 1) << damaged.out;
}

// --- 4 / 5: implausible ECG headers are refused at import, naming the limit.
TEST_F(CliHardening, ImplausibleEcgHeadersAreImportErrors) {
  struct Case {
    std::string name, header, expect;
    std::size_t n;
  };
  const std::vector<Case> cases = {
      {"slow", "slow 1 0.01 100\nslow.dat 16 200/mV 16 0 0 0 0 I\n", "50 Hz - 20 kHz", 100},
      {"tiny", "tiny 1 1e-300 100\ntiny.dat 16 200/mV 16 0 0 0 0 I\n", "50 Hz - 20 kHz", 100},
      {"huge", "huge 1 1e300 100\nhuge.dat 16 200/mV 16 0 0 0 0 I\n", "50 Hz - 20 kHz", 100},
      {"one", "one 1 500 1\none.dat 16 200/mV 16 0 0 0 0 I\n", "1 sample", 1},
      {"short", "short 1 500 100\nshort.dat 16 200/mV 16 0 0 0 0 I\n", "at least 1 s", 100},
  };
  for (const auto& c : cases) {
    const fs::path d = dir_ / c.name;
    writeWfdb(d, c.name, c.header, c.n);
    auto r = cli("import " + shellQuote(d.string()) + " --db " + shellQuote(db_));
    EXPECT_EQ(r.rc, 3) << c.name << ": " << r.out;
    EXPECT_TRUE(has(r.out, c.expect)) << c.name << ": " << r.out;
  }
  auto l = runCli("list instances --db " + shellQuote(db_), false);  // stdout only
  EXPECT_EQ(l.rc, 0) << l.out;
  EXPECT_EQ(e2e::test::nonEmptyLines(l.out).size(), 1u) << l.out;  // the header line only
}

// --- 5: a flat record is stored with a quality warning ("no signal").
TEST_F(CliHardening, FlatEcgIsImportedWithANoSignalWarning) {
  writeWfdb(dir_ / "flat", "flat", "flat 1 500 5000\nflat.dat 16 200/mV 16 0 0 0 0 I\n", 5000, true);
  auto r = cli("import " + shellQuote((dir_ / "flat").string()) + " --db " + shellQuote(db_) + " --verbose");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(has(r.out, "no signal: all leads flat")) << r.out;
}

// --- 8: a WFDB header may not name a signal file outside its folder (/etc/passwd was opened).
TEST_F(CliHardening, WfdbSignalFileOutsideTheRecordFolderIsRefused) {
  const fs::path outside = dir_ / "outside.dat";
  {
    std::ofstream o(outside, std::ios::binary);
    for (int i = 0; i < 5000; ++i) o.put(static_cast<char>(i % 7)).put(0);
  }
  const fs::path d = dir_ / "rec";
  fs::create_directories(d);
  for (const std::string& name : {std::string("/etc/passwd"), std::string("../outside.dat"), outside.string()}) {
    std::ofstream(d / "evil.hea") << "evil 1 500 2500\n" << name << " 16 200/mV 16 0 0 0 0 I\n";
    auto r = cli("import " + shellQuote((d / "evil.hea").string()) + " --db " + shellQuote(db_));
    EXPECT_EQ(r.rc, 3) << name << ": " << r.out;
    EXPECT_TRUE(has(r.out, "outside the record's folder")) << name << ": " << r.out;
  }
  // A symbolic link beside the header that points elsewhere is refused too.
  fs::create_symlink(outside, d / "link.dat");
  std::ofstream(d / "evil.hea") << "evil 1 500 2500\nlink.dat 16 200/mV 16 0 0 0 0 I\n";
  auto r = cli("import " + shellQuote((d / "evil.hea").string()) + " --db " + shellQuote(db_));
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_TRUE(has(r.out, "outside the record's folder")) << r.out;
}

// --- 8: dates are validated (YYYYMMDD or YYYY-MM-DD).
TEST_F(CliHardening, DateFiltersAreValidated) {
  ASSERT_EQ(cli("import " + shellQuote(data("ecg_dicom")) + " --db " + shellQuote(db_)).rc, 0);
  for (const std::string bad : {"x", "2024-13-01", "20240230x", "2024/01/01"}) {
    auto r = cli("list studies --from " + shellQuote(bad) + " --db " + shellQuote(db_));
    EXPECT_NE(r.rc, 0) << bad << ": " << r.out;
    EXPECT_TRUE(has(r.out, "expected YYYYMMDD or YYYY-MM-DD")) << r.out;
  }
  auto all = cli("list studies --from 1900-01-01 --to 29991231 --db " + shellQuote(db_));
  EXPECT_EQ(all.rc, 0) << all.out;
  auto none = cli("list studies --from 2999-01-01 --db " + shellQuote(db_));
  EXPECT_EQ(none.rc, 0) << none.out;
  EXPECT_LT(e2e::test::nonEmptyLines(none.out).size(), e2e::test::nonEmptyLines(all.out).size()) << all.out;
}

// --- 8: a .dcm whose DICM marker is damaged is an error, not "unsupported" with exit 0.
TEST_F(CliHardening, DamagedDicmMarkerInADcmFileIsAnError) {
  const fs::path f = dir_ / "in" / "damaged.dcm";
  fs::create_directories(f.parent_path());
  fs::copy_file(data("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm"), f);
  {
    std::fstream s(f, std::ios::in | std::ios::out | std::ios::binary);
    s.seekp(128);
    s.write("DXCM", 4);
  }
  auto r = cli("import " + shellQuote(f.parent_path().string()) + " --db " + shellQuote(db_));
  EXPECT_EQ(r.rc, 3) << r.out;
  EXPECT_TRUE(has(r.out, "Errors (1)")) << r.out;
  EXPECT_TRUE(has(r.out, "damaged.dcm")) << r.out;
}

// --- 8: a symbolic link to a folder is not followed, and the report says so.
TEST_F(CliHardening, SymlinkedFoldersAreReported) {
  fs::create_directories(dir_ / "tree");
  fs::create_directory_symlink(data("ecg_dicom/pydicom_debian"), dir_ / "tree" / "linked");
  auto r = cli("import " + shellQuote((dir_ / "tree").string()) + " --db " + shellQuote(db_));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(has(r.out, "linked")) << r.out;
  EXPECT_TRUE(has(r.out, "symbolic link to a folder: not followed")) << r.out;
}

// --- 8: control characters in values cannot break tab-separated output (labels list).
TEST_F(CliHardening, ControlCharactersAreEscapedInTabularOutput) {
  ASSERT_EQ(cli("import " + shellQuote(data("ecg_dicom/jap1968_dcm-waveform")) + " --db " + shellQuote(db_)).rc, 0);
  std::string uid;
  {
    sqlite3* h = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db_.c_str(), &h, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(h, "SELECT study_uid FROM studies LIMIT 1", -1, &st, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    uid = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
  }
  ASSERT_EQ(cli("labels set " + uid + " note " + shellQuote("a\tb\nc") + " --db " + shellQuote(db_)).rc, 0);
  auto r = runCli("labels list --db " + shellQuote(db_), false);
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto rows = e2e::test::nonEmptyLines(r.out);
  ASSERT_EQ(rows.size(), 2u) << r.out;  // header + one label, not split by the newline
  EXPECT_EQ(std::count(rows[1].begin(), rows[1].end(), '\t'), 4) << rows[1];
  EXPECT_TRUE(has(rows[1], "a\\tb\\nc")) << rows[1];
}
