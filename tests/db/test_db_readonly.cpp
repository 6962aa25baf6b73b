// A database this process may not write (read-only file, read-only folder, read-only file system):
// viewed read-only (Mode::Auto), every write refused with "DB is read-only: ...", an older schema
// that would need a migration refused clearly. Where the tests run as root (chmod does not stop
// root) the permission checks run in a child that becomes nobody (tests/unprivileged.h).
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "db/change_watch.h"
#include "db/database.h"
#include "db_records.h"
#include "unprivileged.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::db;

namespace {

// A WAL database at the latest schema with two ECG instances, closed (no -wal/-shm left).
void makeDatabase(const std::string& path) {
  Database db(path);
  db.insertEcg(test::makeEcg("1", "READ^ONLY", "RO-1"), {"/x/1.dcm", 10, "h1"});
  db.insertEcg(test::makeEcg("2", "READ^ONLY", "RO-2"), {"/x/2.dcm", 10, "h2"});
}

// A database at schema version 1 (the frozen fixture), which opening read-write would migrate.
void makeVersion1Database(const std::string& path) {
  std::ifstream in(std::string(E2E_SOURCE_DIR) + "/tests/db/fixtures/schema_v1.sql");
  std::stringstream ss;
  ss << in.rdbuf();
  sqlite3* h = nullptr;
  sqlite3_open(path.c_str(), &h);
  sqlite3_exec(h, ss.str().c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(h);
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class ReadOnlyDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = test::sharedTempDir("e2e-db-readonly");
    ASSERT_FALSE(root_.empty());
  }
  void TearDown() override { test::removeSharedTempDir(root_); }
  std::string root_;
};

}  // namespace

// Works the same as root and as a user: the explicit read-only mode refuses every write clearly.
TEST_F(ReadOnlyDbTest, ReadOnlyModeReadsAndRefusesWritesClearly) {
  const std::string path = root_ + "/studies.db";
  makeDatabase(path);
  Database db(path, Database::Mode::ReadOnly);
  EXPECT_TRUE(db.readOnly());
  EXPECT_EQ(db.listInstances().size(), 2u);
  EXPECT_EQ(db.counts().ecgRecords, 2);
  const auto study = db.listStudies().front().id;
  try {
    db.setStudyLabel(study, "lvef_class", "normal", "test");
    FAIL() << "a write on a read-only connection succeeded";
  } catch (const ReadOnlyError& e) {
    EXPECT_TRUE(contains(e.what(), "DB is read-only: " + path)) << e.what();
  }
  EXPECT_THROW(db.insertEcg(test::makeEcg("3", "READ^ONLY", "RO-3"), {"/x/3.dcm", 10, "h3"}), ReadOnlyError);
  EXPECT_THROW(db.findOrCreatePatient(test::makeEcg("4", "READ^ONLY", "RO-4").identity), ReadOnlyError);  // a write outside a transaction
  EXPECT_THROW(Database::Transaction tx(db), ReadOnlyError);
  EXPECT_EQ(db.counts().instances, 2);  // nothing was written
}

TEST_F(ReadOnlyDbTest, AutoModeOnAWritableDatabaseReadsAndWrites) {
  const std::string path = root_ + "/studies.db";
  {
    // a new file is created (in an existing folder: only the home database gets its folder made)
    Database created(root_ + "/created.db", Database::Mode::Auto);
    EXPECT_FALSE(created.readOnly());
  }
  makeDatabase(path);
  EXPECT_TRUE(Database::writeAccess(path).writable) << Database::writeAccess(path).reason;
  Database db(path, Database::Mode::Auto);
  EXPECT_FALSE(db.readOnly());
  EXPECT_TRUE(db.readOnlyReason().empty());
  db.setStudyLabel(db.listStudies().front().id, "k", "v", "test");
  EXPECT_EQ(db.counts().labels, 1);
}

// The brief's cases: a read-only file (0444) in a writable folder, a writable file in a read-only
// folder (0555: SQLite cannot create its -shm file), both, and an older schema that is read-only.
// As root the checks run as nobody; as a user, as that user. The child's exit code carries the verdict.
TEST_F(ReadOnlyDbTest, FilesAndFoldersThisUserMayNotWriteAreViewedReadOnly) {
  struct Case {
    std::string dir;
    mode_t dirMode, fileMode;
  };
  const Case cases[] = {{"file-ro", 0777, 0444}, {"folder-ro", 0555, 0666}, {"both-ro", 0555, 0444}, {"writable", 0777, 0666}};
  for (const auto& c : cases) {
    const std::string dir = root_ + "/" + c.dir;
    fs::create_directories(dir);
    makeDatabase(dir + "/studies.db");
    ASSERT_FALSE(fs::exists(dir + "/studies.db-wal"));
    ASSERT_EQ(::chmod((dir + "/studies.db").c_str(), c.fileMode), 0);
    ASSERT_EQ(::chmod(dir.c_str(), c.dirMode), 0);
  }
  const std::string oldDir = root_ + "/old-ro";
  fs::create_directories(oldDir);
  makeVersion1Database(oldDir + "/studies.db");
  ASSERT_EQ(Database::peekSchemaVersion(oldDir + "/studies.db"), 1);
  ASSERT_EQ(::chmod((oldDir + "/studies.db").c_str(), 0444), 0);
  ASSERT_EQ(::chmod(oldDir.c_str(), 0555), 0);

  const std::string root = root_;
  EXPECT_EXIT(
      {
        std::string failures;
        auto check = [&](bool ok, const std::string& what) {
          if (!ok) failures += "FAILED: " + what + "\n";
        };
        const std::string drop = test::becomeUnprivileged();
        check(drop.empty(), drop);
        for (const char* name : {"file-ro", "folder-ro", "both-ro"}) {
          const std::string path = root + "/" + name + "/studies.db";
          const std::string n = name;
          const auto access = Database::writeAccess(path);
          check(!access.writable, n + ": writeAccess says writable");
          check(contains(access.reason, n == "file-ro" ? "the file is not writable" : "is not writable"),
                n + ": reason '" + access.reason + "'");
          if (n == "folder-ro") check(contains(access.reason, "folder"), n + ": reason names the folder: " + access.reason);
          try {
            Database db(path, Database::Mode::Auto);
            check(db.readOnly(), n + ": Auto opened it read-write");
            check(db.listInstances().size() == 2u, n + ": the instances cannot be listed");
            check(db.counts().ecgRecords == 2, n + ": counts");
            try {
              db.setStudyLabel(db.listStudies().front().id, "k", "v", "test");
              check(false, n + ": a write succeeded");
            } catch (const ReadOnlyError& e) {
              check(contains(e.what(), "DB is read-only: " + path), n + ": write error '" + e.what() + "'");
            }
          } catch (const std::exception& e) {
            check(false, n + ": Auto open failed: " + e.what());
          }
          try {
            Database db(path, Database::Mode::ReadOnly);
            check(db.listStudies().size() == 2u, n + ": ReadOnly mode cannot list");
            DatabaseWatch watch(path);  // the views' change watch holds a read-only connection too
            (void)watch;
          } catch (const std::exception& e) {
            check(false, n + ": ReadOnly open or watch failed: " + e.what());
          }
          check(Database::peekSchemaVersion(path) == Database::kLatestVersion, n + ": peekSchemaVersion");
          try {
            Database db(path);  // ReadWrite: refused up front, clearly
            check(false, n + ": ReadWrite open succeeded");
          } catch (const ReadOnlyError& e) {
            check(contains(e.what(), "DB is read-only: " + path + " ("), n + ": ReadWrite error '" + e.what() + "'");
          } catch (const std::exception& e) {
            check(false, n + ": ReadWrite open failed without ReadOnlyError: " + e.what());
          }
        }
        // The control: a file and folder this user may write are opened read-write.
        {
          const std::string path = root + "/writable/studies.db";
          check(Database::writeAccess(path).writable, "writable: " + Database::writeAccess(path).reason);
          try {
            Database db(path, Database::Mode::Auto);
            check(!db.readOnly(), "writable: opened read-only");
            db.setStudyLabel(db.listStudies().front().id, "k", "v", "test");
          } catch (const std::exception& e) {
            check(false, std::string("writable: ") + e.what());
          }
        }
        // An older schema would need a migration, which a read-only database cannot get.
        try {
          Database db(root + "/old-ro/studies.db", Database::Mode::Auto);
          check(false, "old-ro: an old schema opened read-only without a migration");
        } catch (const ReadOnlyError& e) {
          check(contains(e.what(), "DB is read-only") && contains(e.what(), "older") &&
                    contains(e.what(), "cannot be migrated"),
                std::string("old-ro: message '") + e.what() + "'");
        } catch (const std::exception& e) {
          check(false, std::string("old-ro: not a ReadOnlyError: ") + e.what());
        }
        std::fputs(failures.c_str(), stderr);
        std::fflush(stderr);
        std::_Exit(failures.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  // Nothing was changed: still WAL-free, no label written to the read-only ones.
  for (const char* name : {"file-ro", "folder-ro", "both-ro"}) {
    Database db(root_ + "/" + name + "/studies.db", Database::Mode::ReadOnly);
    EXPECT_EQ(db.counts().labels, 0) << name;
  }
}
