// Database::backupTo: an online copy with SQLite's backup API.
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "db/database.h"

namespace fs = std::filesystem;

namespace e2e::db {

void Database::backupTo(const std::string& out) {
  if (out.empty()) throw DbError("backup: no output file given");
  std::error_code ec;
  const fs::path parent = fs::path(out).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec))
    throw DbError("backup: the folder " + parent.string() + " does not exist");
  // Claim the name atomically: an existing file (another backup, a database) is never overwritten.
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
  if (fd < 0) {
    const int err = errno;
    if (err == EEXIST) throw DbError("backup: " + out + " already exists; not overwritten");
    throw DbError("backup: cannot create " + out + ": " + std::strerror(err));
  }
  ::close(fd);
  sqlite3* dest = nullptr;
  std::string error;
  if (sqlite3_open_v2(out.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    error = dest ? sqlite3_errmsg(dest) : "out of memory";
  } else if (sqlite3_backup* b = sqlite3_backup_init(dest, "main", db_, "main")) {
    int rc = SQLITE_OK;
    // All pages in one step: one read transaction on the source, so the copy is one committed state.
    for (int tries = 0; tries < 200; ++tries) {
      rc = sqlite3_backup_step(b, -1);
      if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
      sqlite3_sleep(50);
    }
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) error = sqlite3_errstr(rc);
  } else {
    error = sqlite3_errmsg(dest);
  }
  sqlite3_close(dest);
  if (!error.empty()) {
    fs::remove(out, ec);
    throw DbError("backup of " + path_ + " to " + out + " failed: " + error);
  }
}

}  // namespace e2e::db
