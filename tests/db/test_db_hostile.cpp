// Issue 22.2 / 22.3: files that are not (or not yet, or no longer) our database: a negative or
// newer PRAGMA user_version (SIGSEGV before), another application's SQLite file (it used to get
// our tables and a new user_version), a missing folder (it used to be created); and the online
// backup, consistent while another connection writes.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "db/database.h"
#include "db_records.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::db;

namespace {

void sql(const std::string& path, const std::string& statements) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, statements.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(h);
  sqlite3_close(h);
}

std::string bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string openError(const std::string& path, Database::Mode mode) {
  try {
    Database db(path, mode);
  } catch (const DbError& e) {
    return e.what();
  }
  return "";
}

class HostileDb : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_db_hostile_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

}  // namespace

TEST_F(HostileDb, NegativeAndNewerSchemaVersionsAreRefusedUnchanged) {
  for (int v : {-1, -7, Database::kLatestVersion + 1, 1 << 30}) {
    fs::remove(path_);
    sql(path_, "PRAGMA user_version = " + std::to_string(v));
    const std::string before = bytes(path_);
    for (auto mode : {Database::Mode::ReadWrite, Database::Mode::ReadOnly, Database::Mode::Auto}) {
      const std::string e = openError(path_, mode);
      EXPECT_NE(e.find("schema version " + std::to_string(v)), std::string::npos) << v << ": " << e;
    }
    EXPECT_EQ(bytes(path_), before) << v;
  }
}

TEST_F(HostileDb, ForeignSqliteFileIsRefusedAndNotModified) {
  sql(path_, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES('x');");
  const std::string before = bytes(path_);
  for (auto mode : {Database::Mode::ReadWrite, Database::Mode::ReadOnly, Database::Mode::Auto}) {
    const std::string e = openError(path_, mode);
    EXPECT_NE(e.find("not an Echo2ECG database"), std::string::npos) << e;
    EXPECT_NE(e.find("notes"), std::string::npos) << e;
  }
  EXPECT_EQ(bytes(path_), before);
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
  // A version number of ours without our tables is not ours either.
  sql(path_, "PRAGMA user_version = 2");
  EXPECT_NE(openError(path_, Database::Mode::ReadWrite).find("no 'patients' table"), std::string::npos);
}

TEST_F(HostileDb, ReadOnlyNeverCreatesAndAMissingFolderIsNotCreated) {
  EXPECT_NE(openError(path_, Database::Mode::ReadOnly).find("not found"), std::string::npos);
  EXPECT_FALSE(fs::exists(path_));
  const std::string deep = (dir_ / "a" / "b" / "t.db").string();
  EXPECT_NE(openError(deep, Database::Mode::ReadWrite).find("does not exist"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "a"));
  EXPECT_NE(openError("", Database::Mode::ReadWrite).find("no database path"), std::string::npos);
}

TEST_F(HostileDb, BackupIsAConsistentCopyWhileAnotherConnectionWrites) {
  {
    Database db(path_);
    for (int i = 0; i < 50; ++i) db.insertEcg(test::makeEcg(std::to_string(i)), {"/x/" + std::to_string(i), 1, "h" + std::to_string(i)});
  }
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    Database w(path_);
    for (int i = 1000; !stop && i < 3000; ++i) {
      w.insertEcg(test::makeEcg(std::to_string(i)), {"/y/" + std::to_string(i), 1, "k" + std::to_string(i)});
      ++written;
    }
  });
  while (written < 20) std::this_thread::yield();
  const std::string out = (dir_ / "backup.db").string();
  {
    Database db(path_, Database::Mode::ReadOnly);
    db.backupTo(out);
    EXPECT_THROW(db.backupTo(out), DbError);  // never overwrites
  }
  stop = true;
  writer.join();
  Database copy(out, Database::Mode::ReadOnly);
  EXPECT_EQ(copy.integrityCheck(), "ok");
  EXPECT_TRUE(copy.foreignKeyViolations().empty());
  const auto c = copy.counts();
  EXPECT_GE(c.instances, 70);
  EXPECT_EQ(c.instances, c.ecgRecords);  // whole objects only: no half-written instance
  EXPECT_EQ(c.instances, c.series);
}
