#include "db/database.h"

#include "db/db_internal.h"

#include "common/text.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <unistd.h>

#include "common/hash.h"
#include "db/schema.h"

namespace fs = std::filesystem;

namespace e2e::db {

// ------------------------------------------------------------ helpers ----

std::string normalizePersonName(const std::string& pn) {
  auto trim = [](std::string s) {
    const auto b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return std::string();
    const auto e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
  };
  auto split = [](const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
      if (c == sep) {
        out.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    out.push_back(cur);
    return out;
  };
  std::vector<std::string> groups;
  for (const auto& g : split(pn, '=')) {
    std::vector<std::string> comps;
    for (auto c : split(g, '^')) {
      c = trim(c);
      std::transform(c.begin(), c.end(), c.begin(), [](unsigned char ch) { return std::toupper(ch); });
      comps.push_back(c);
    }
    while (!comps.empty() && comps.back().empty()) comps.pop_back();
    std::string joined;
    for (std::size_t i = 0; i < comps.size(); ++i) joined += (i ? "^" : "") + comps[i];
    groups.push_back(joined);
  }
  while (!groups.empty() && groups.back().empty()) groups.pop_back();
  std::string out;
  for (std::size_t i = 0; i < groups.size(); ++i) out += (i ? "=" : "") + groups[i];
  return out;
}

bool samePersonName(const std::string& a, const std::string& b) {
  return normalizePersonName(a) == normalizePersonName(b);
}

std::string derivedUid(const std::string& seed) {
  // 2.25.<decimal of the first 120 bits of SHA-256(seed)>: a valid UID root for UUID-like values.
  const std::string hex = sha256Hex(seed);
  // Big-number conversion hex -> decimal for 30 hex digits.
  std::vector<int> digits{0};  // little-endian base 10
  for (int i = 0; i < 30; ++i) {
    const char c = hex[i];
    int v = (c >= '0' && c <= '9') ? c - '0' : c - 'a' + 10;
    int carry = v;
    for (auto& d : digits) {
      const int x = d * 16 + carry;
      d = x % 10;
      carry = x / 10;
    }
    while (carry) {
      digits.push_back(carry % 10);
      carry /= 10;
    }
  }
  std::string dec;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) dec += static_cast<char>('0' + *it);
  const auto nz = dec.find_first_not_of('0');
  dec = nz == std::string::npos ? "0" : dec.substr(nz);
  return "2.25." + dec;
}

std::string normalizeFilterDate(const std::string& date) {
  if (date.empty()) return date;
  std::string d = date;
  if (d.size() == 10 && d[4] == '-' && d[7] == '-') d = d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2);
  const bool digits = d.size() == 8 && std::all_of(d.begin(), d.end(), [](unsigned char c) { return std::isdigit(c); });
  const int month = digits ? std::stoi(d.substr(4, 2)) : 0, day = digits ? std::stoi(d.substr(6, 2)) : 0;
  if (!digits || month < 1 || month > 12 || day < 1 || day > 31)
    throw DbError("invalid date '" + date + "': expected YYYYMMDD or YYYY-MM-DD");
  return d;
}

const char* toString(InsertStatus s) {
  switch (s) {
    case InsertStatus::Added: return "added";
    case InsertStatus::Skipped: return "skipped";
    default: return "conflict";
  }
}

Database::Stmt& Database::stmt(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<Stmt>(*this, db_, sql)).first;
  return it->second->reset();
}

// ------------------------------------------------------------ open ----

std::string Database::defaultPath() {
  if (const char* env = std::getenv("E2E_DB"); env && *env) return env;
  return homeDefaultPath();
}

std::string Database::homeDefaultPath() {
  const char* home = std::getenv("HOME");
  const std::string base = (home && *home) ? home : ".";
  return base + "/.local/share/echo2ecg/studies.db";
}

namespace {
// "file:" URI of `path` (absolute, percent-encoded) with ?immutable=1: SQLite then reads the file
// without locks and without the -shm file, which it could not create in a folder it may not write.
std::string immutableUri(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = path;
  std::string uri = "file:";
  for (unsigned char c : abs.string()) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      uri += static_cast<char>(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      uri += b;
    }
  }
  return uri + "?immutable=1";
}

// A read-only connection; nullptr (and `error`) when it cannot be opened.
sqlite3* openReadOnlyHandle(const std::string& path, bool immutable, std::string& error) {
  sqlite3* h = nullptr;
  const std::string name = immutable ? immutableUri(path) : path;
  const int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | (immutable ? SQLITE_OPEN_URI : 0);
  if (sqlite3_open_v2(name.c_str(), &h, flags, nullptr) != SQLITE_OK) {
    error = h ? sqlite3_errmsg(h) : "out of memory";
    sqlite3_close(h);
    return nullptr;
  }
  return h;
}

// Whether a plain read works on `h` (a read-only connection to a WAL database fails here when
// SQLite can neither open nor create its -shm file).
bool canRead(sqlite3* h) {
  sqlite3_stmt* st = nullptr;
  const bool ok = sqlite3_prepare_v2(h, "SELECT count(*) FROM sqlite_schema", -1, &st, nullptr) == SQLITE_OK &&
                  sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return ok;
}

// Reading without the -shm file is only a faithful snapshot when no committed transaction waits
// in the -wal file (a writer that did not close cleanly).
bool walIsEmpty(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path + "-wal", ec);
  return ec || size == 0;
}

std::string errnoText(int err) { return std::strerror(err); }
}  // namespace

Database::WriteAccess Database::writeAccess(const std::string& path) {
  std::error_code ec;
  const fs::path file(path);
  fs::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  if (fs::exists(file, ec)) {
    if (::access(path.c_str(), W_OK) != 0) return {false, "the file is not writable: " + errnoText(errno)};
  } else {
    while (!dir.empty() && !fs::exists(dir, ec) && dir != dir.parent_path()) dir = dir.parent_path();
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    return {false, "its folder " + dir.string() + " is not writable: " + errnoText(errno) +
                       " (SQLite keeps its -wal and -shm files there)"};
  return {true, ""};
}

void Database::throwReadOnly(const std::string& what) const {
  std::string msg = "DB is read-only: " + path_ + " (" + (readOnlyReason_.empty() ? "opened read-only" : readOnlyReason_) + ")";
  if (!what.empty()) msg += ": " + what;
  throw ReadOnlyError(msg);
}

namespace {
// Before a read-write open: a new database must be creatable, and its folder is created.
void prepareReadWritePath(const std::string& path, bool exists) {
  if (!exists) {
    if (const Database::WriteAccess w = Database::writeAccess(path); !w.writable)
      throw DbError(path + ": cannot create the database: " + w.reason);
  }
  std::error_code ec;
  const fs::path parent = fs::path(path).parent_path();
  if (parent.empty() || fs::is_directory(parent, ec)) return;
  // Only the home database may create its folder: a mistyped --db must not grow directories.
  if (path != Database::homeDefaultPath())
    throw DbError(path + ": cannot create the database: its folder " + parent.string() + " does not exist");
  fs::create_directories(parent, ec);
  if (ec) throw DbError(path + ": cannot create the folder " + parent.string() + ": " + ec.message());
}

// A read-only connection; a WAL database in a folder this process may not write is read as an
// immutable snapshot instead (when that is faithful).
sqlite3* openReadOnlyDatabase(const std::string& path) {
  std::string err;
  sqlite3* h = openReadOnlyHandle(path, false, err);
  if (!h) throw DbError(path + ": cannot open database: " + err);
  if (!canRead(h) && !Database::writeAccess(path).writable && walIsEmpty(path)) {
    sqlite3* snapshot = openReadOnlyHandle(path, true, err);
    if (snapshot) {
      sqlite3_close(h);
      h = snapshot;
    }
  }
  return h;
}

// A read-write connection, creating the file when missing.
sqlite3* openReadWriteDatabase(const std::string& path) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string msg = h ? sqlite3_errmsg(h) : "out of memory";
    sqlite3_close(h);
    throw DbError(path + ": cannot open database: " + msg);
  }
  return h;
}
}  // namespace

Database::Mode Database::resolveOpenMode(Mode mode, bool exists) {
  if (exists && mode != Mode::ReadOnly) {
    const WriteAccess w = writeAccess(path_);
    if (!w.writable) {
      readOnlyReason_ = w.reason;
      if (mode == Mode::ReadWrite) throwReadOnly();
      mode = Mode::ReadOnly;  // Auto: view it
    }
  }
  if (mode == Mode::Auto) mode = Mode::ReadWrite;
  readOnly_ = mode == Mode::ReadOnly;
  if (readOnly_ && readOnlyReason_.empty()) readOnlyReason_ = "opened read-only";
  return mode;
}

void Database::configureConnection(Mode mode) {
  sqlite3_busy_timeout(db_, 10000);
  sqlite3_extended_result_codes(db_, 1);
  // SQLite itself may open a file read-only that access(2) called writable.
  if (!readOnly_ && sqlite3_db_readonly(db_, "main") == 1) {
    readOnlyReason_ = "SQLite can only open it read-only";
    throwReadOnly();
  }
  // A quick read proves it is a database at all (otherwise "file is not a database"); then it must
  // be ours (or empty) before anything, even the journal mode, is changed.
  requireOwnSchema();
  if (mode == Mode::ReadWrite) exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA foreign_keys=ON");
  exec("PRAGMA synchronous=NORMAL");
  if (mode == Mode::ReadWrite)
    migrate();
  else
    requireCurrentSchema();
}

namespace {
// The names of the tables in the file that are not SQLite's own.
std::vector<std::string> userTables(sqlite3* h) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(h, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                         -1, &st, nullptr) == SQLITE_OK)
    while (sqlite3_step(st) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  return out;
}

std::string joinNames(const std::vector<std::string>& names, std::size_t max = 5) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += ", ... (" + std::to_string(names.size()) + " tables)";
  return out;
}
}  // namespace

void Database::requireOwnSchema() {
  const int v = schemaVersion();
  if (v < 0)
    throw DbError(path_ + ": not an Echo2ECG database (schema version " + std::to_string(v) +
                  " is not one of ours); nothing was changed");
  if (v > kLatestVersion)
    throw DbError(path_ + ": database schema version " + std::to_string(v) + " is newer than this program supports (" +
                  std::to_string(kLatestVersion) + "); use a newer Echo2ECG. Nothing was changed");
  const auto tables = userTables(db_);
  if (v == 0 && !tables.empty())
    throw DbError(path_ + ": not an Echo2ECG database: it holds another application's tables (" + joinNames(tables) +
                  ") and no Echo2ECG schema version; nothing was changed");
  if (v > 0) {
    for (const char* own : {"patients", "studies", "series", "instances"})
      if (std::find(tables.begin(), tables.end(), own) == tables.end())
        throw DbError(path_ + ": not an Echo2ECG database: schema version " + std::to_string(v) + " but no '" + own +
                      "' table (tables: " + (tables.empty() ? "none" : joinNames(tables)) + "); nothing was changed");
  }
}

void Database::requireCurrentSchema() {
  const int v = schemaVersion();
  if (v > kLatestVersion)
    throw DbError(path_ + ": database schema version " + std::to_string(v) +
                  " is newer than this program supports (" + std::to_string(kLatestVersion) + ")");
  if (v < kLatestVersion) {
    const std::string older = "database schema version " + std::to_string(v) + " is older than this program's (" +
                              std::to_string(kLatestVersion) + ")";
    const WriteAccess w = writeAccess(path_);
    if (!w.writable) {
      readOnlyReason_ = w.reason;
      throwReadOnly(older + " and cannot be migrated here; open it once with write access to migrate it");
    }
    throw DbError(path_ + ": " + older + "; open it read-write once to migrate it");
  }
}

Database::Database(const std::string& path, Mode mode) : path_(path) {
  if (path.empty()) throw DbError("no database path given");
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  mode = resolveOpenMode(mode, exists);
  if (mode == Mode::ReadWrite)
    prepareReadWritePath(path, exists);
  else if (!exists)
    throw DbError(path + ": database not found");
  db_ = readOnly_ ? openReadOnlyDatabase(path) : openReadWriteDatabase(path);
  try {
    configureConnection(mode);
  } catch (...) {
    cache_.clear();
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  cache_.clear();
  if (db_) sqlite3_close(db_);
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    if ((rc & 0xff) == SQLITE_READONLY) throwReadOnly(msg);
    throw DbError(path_ + ": " + msg);
  }
}

int Database::schemaVersion() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK) {
    const std::string msg = sqlite3_errmsg(db_);
    sqlite3_finalize(st);
    throw DbError(path_ + ": " + msg);
  }
  int v = 0;
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW) throw DbError(path_ + ": " + sqlite3_errmsg(db_));
  return v;
}

int Database::peekSchemaVersion(const std::string& path) {
  int version = -1;
  // Read-only and no create flag: a missing file stays missing, nothing is written.
  std::error_code ec;
  if (!fs::exists(path, ec)) return version;
  std::string err;
  sqlite3* db = openReadOnlyHandle(path, false, err);
  if (db && !canRead(db) && !writeAccess(path).writable && walIsEmpty(path)) {
    sqlite3_close(db);  // a WAL database in a folder this process may not write
    db = openReadOnlyHandle(path, true, err);
  }
  if (db) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return version;
}

const char* Database::sqliteVersion() { return sqlite3_libversion(); }

void Database::migrate() {
  const auto& steps = migrations();
  if (static_cast<int>(steps.size()) != kLatestVersion) throw DbError("internal: migration table mismatch");
  int v = schemaVersion();
  auto checkKnown = [this](int version) {
    if (version < 0 || version > kLatestVersion)
      throw DbError(path_ + ": database schema version " + std::to_string(version) +
                    (version < 0 ? " is not one of ours" : " is newer than this program supports (" +
                                                               std::to_string(kLatestVersion) + "); use a newer Echo2ECG"));
  };
  checkKnown(v);
  while (v < kLatestVersion) {
    const int next = v + 1;
    exec("BEGIN IMMEDIATE");
    try {
      // Re-check under the write lock: another process may have migrated meanwhile.
      const int now = schemaVersion();
      if (now != v) {
        exec("ROLLBACK");
        v = now;
        checkKnown(v);
        continue;
      }
      exec(steps[next - 1]);
      exec("PRAGMA user_version = " + std::to_string(next));
      exec("COMMIT");
    } catch (const DbError& e) {
      if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw DbError(std::string("migration to schema version ") + std::to_string(next) + " failed: " + e.what());
    }
    v = next;
  }
}

// ------------------------------------------------------- transactions ----

Database::Transaction::Transaction(Database& db) : db_(db), depth_(db.txDepth_) {
  if (db.readOnly_) db.throwReadOnly("cannot write");
  if (depth_ == 0)
    db_.exec("BEGIN IMMEDIATE");
  else
    db_.exec("SAVEPOINT sp" + std::to_string(depth_));
  ++db_.txDepth_;
}

Database::Transaction::~Transaction() {
  if (done_) return;
  // Roll back; never throw from here.
  if (depth_ == 0) {
    sqlite3_exec(db_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
  } else {
    const std::string sp = "sp" + std::to_string(depth_);
    sqlite3_exec(db_.db_, ("ROLLBACK TO " + sp + "; RELEASE " + sp).c_str(), nullptr, nullptr, nullptr);
  }
  --db_.txDepth_;
}

void Database::Transaction::commit() {
  if (done_) throw DbError("transaction already finished");
  if (depth_ == 0)
    db_.exec("COMMIT");
  else
    db_.exec("RELEASE sp" + std::to_string(depth_));
  done_ = true;
  --db_.txDepth_;
}

// ------------------------------------------------------------ pragmas ----

std::int64_t Database::dataVersion() {
  auto& q = stmt("PRAGMA data_version");
  std::int64_t v = q.step() ? q.i64(0) : 0;
  q.reset();
  return v;
}

std::string Database::integrityCheck() {
  auto& q = stmt("PRAGMA integrity_check");
  std::string out;
  while (q.step()) out += (out.empty() ? "" : "\n") + q.str(0);
  q.reset();
  return out;
}

std::vector<std::string> Database::foreignKeyViolations() {
  std::vector<std::string> out;
  auto& q = stmt("PRAGMA foreign_key_check");
  while (q.step()) out.push_back(q.str(0) + " " + q.str(1) + " " + q.str(2));
  q.reset();
  return out;
}

}  // namespace e2e::db
