#include "db/database.h"

#include "common/text.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

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

const char* toString(InsertStatus s) {
  switch (s) {
    case InsertStatus::Added: return "added";
    case InsertStatus::Skipped: return "skipped";
    default: return "conflict";
  }
}

namespace {
std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    std::string s = v[i];
    std::replace(s.begin(), s.end(), sep, ' ');
    out += s;
  }
  return out;
}
std::vector<std::string> splitNonEmpty(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}
// Parses the flat {"class": number, ...} objects written by probabilitiesJson (nlohmann-json).
// Never throws: a text that is not a JSON object gives an empty map; null counts as 0 (as the
// hand-written reader did), members of other types are skipped.
std::map<std::string, double> parseProbabilities(const std::string& js) {
  std::map<std::string, double> out;
  const auto j = nlohmann::json::parse(js, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;  // also a parse error (discarded value)
  for (const auto& [k, v] : j.items()) {
    if (v.is_number()) out[k] = v.get<double>();
    else if (v.is_null()) out[k] = 0.0;
  }
  return out;
}
// {"class": probability, ...} (keys sorted); a value that is not finite is written as 0.
std::string probabilitiesJson(const std::map<std::string, double>& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : p) j[k] = std::isfinite(v) ? v : 0.0;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

// ---------------------------------------------------------------- Stmt ----

class Database::Stmt {
 public:
  Stmt(const Database& owner, sqlite3* db, const char* sql) : owner_(owner), db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw DbError(std::string("SQL prepare failed: ") + sqlite3_errmsg(db) + " in: " + sql);
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt& reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
    return *this;
  }
  Stmt& bind(int i, const std::string& s) {
    check(sqlite3_bind_text(st_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, const char* s) { return bind(i, std::string(s ? s : "")); }
  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(st_, i, v));
    return *this;
  }
  Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, std::uint64_t v) { return bind(i, static_cast<std::int64_t>(v)); }
  Stmt& bind(int i, bool v) { return bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Stmt& bind(int i, double v) {  // NaN -> NULL
    check(std::isfinite(v) ? sqlite3_bind_double(st_, i, v) : sqlite3_bind_null(st_, i));
    return *this;
  }
  Stmt& bindNull(int i) {
    check(sqlite3_bind_null(st_, i));
    return *this;
  }
  Stmt& bindOpt(int i, const std::optional<std::int64_t>& v) { return v ? bind(i, *v) : bindNull(i); }
  Stmt& bindBlob(int i, const void* p, std::size_t n) {
    check(sqlite3_bind_blob(st_, i, p, static_cast<int>(n), SQLITE_TRANSIENT));
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    const std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(st_);
    if ((rc & 0xff) == SQLITE_READONLY) owner_.throwReadOnly(msg);
    throw DbError("SQL error: " + msg);
  }
  void run() {
    step();
    sqlite3_reset(st_);
  }
  std::int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  int i32(int c) const { return sqlite3_column_int(st_, c); }
  double dbl(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL ? kNaN : sqlite3_column_double(st_, c); }
  bool isNull(int c) const { return sqlite3_column_type(st_, c) == SQLITE_NULL; }
  std::string str(int c) const {
    const auto* p = sqlite3_column_text(st_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st_, c)) : std::string();
  }
  std::optional<std::int64_t> optI64(int c) const {
    return isNull(c) ? std::nullopt : std::optional<std::int64_t>(i64(c));
  }
  std::vector<unsigned char> blob(int c) const {
    const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(st_, c));
    const int n = sqlite3_column_bytes(st_, c);
    return p ? std::vector<unsigned char>(p, p + n) : std::vector<unsigned char>();
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw DbError(std::string("SQL bind failed: ") + sqlite3_errmsg(db_));
  }
  const Database& owner_;
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

Database::Stmt& Database::stmt(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<Stmt>(*this, db_, sql)).first;
  return it->second->reset();
}

// ------------------------------------------------------------ open ----

std::string Database::defaultPath() {
  if (const char* env = std::getenv("E2E_DB"); env && *env) return env;
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

Database::Database(const std::string& path, Mode mode) : path_(path) {
  if (path.empty()) throw DbError("no database path given");
  std::error_code ec;
  const bool exists = fs::exists(path, ec);
  if (exists && mode != Mode::ReadOnly) {
    const WriteAccess w = writeAccess(path);
    if (!w.writable) {
      readOnlyReason_ = w.reason;
      if (mode == Mode::ReadWrite) throwReadOnly();
      mode = Mode::ReadOnly;  // Auto: view it
    }
  }
  if (mode == Mode::Auto) mode = Mode::ReadWrite;
  readOnly_ = mode == Mode::ReadOnly;
  if (readOnly_ && readOnlyReason_.empty()) readOnlyReason_ = "opened read-only";
  if (mode == Mode::ReadWrite) {
    if (!exists) {
      if (const WriteAccess w = writeAccess(path); !w.writable)
        throw DbError(path + ": cannot create the database: " + w.reason);
    }
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
  } else if (!exists) {
    throw DbError(path + ": database not found");
  }
  if (readOnly_) {
    std::string err;
    db_ = openReadOnlyHandle(path, false, err);
    if (!db_) throw DbError(path + ": cannot open database: " + err);
    if (!canRead(db_) && !writeAccess(path).writable && walIsEmpty(path)) {
      // A WAL database in a folder this process may not write: read it as an immutable snapshot.
      sqlite3* snapshot = openReadOnlyHandle(path, true, err);
      if (snapshot) {
        sqlite3_close(db_);
        db_ = snapshot;
      }
    }
  } else if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr) != SQLITE_OK) {
    const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw DbError(path + ": cannot open database: " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 10000);
    sqlite3_extended_result_codes(db_, 1);
    // SQLite itself may open a file read-only that access(2) called writable.
    if (!readOnly_ && sqlite3_db_readonly(db_, "main") == 1) {
      readOnlyReason_ = "SQLite can only open it read-only";
      throwReadOnly();
    }
    // A quick read proves it is a database at all (otherwise "file is not a database").
    schemaVersion();
    if (mode == Mode::ReadWrite) exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA synchronous=NORMAL");
    if (mode == Mode::ReadWrite) {
      migrate();
    } else {
      const int v = schemaVersion();
      if (v > kLatestVersion)
        throw DbError(path + ": database schema version " + std::to_string(v) +
                      " is newer than this program supports (" + std::to_string(kLatestVersion) + ")");
      if (v < kLatestVersion) {
        const std::string older = "database schema version " + std::to_string(v) + " is older than this program's (" +
                                  std::to_string(kLatestVersion) + ")";
        const WriteAccess w = writeAccess(path);
        if (!w.writable) {
          readOnlyReason_ = w.reason;
          throwReadOnly(older + " and cannot be migrated here; open it once with write access to migrate it");
        }
        throw DbError(path + ": " + older + "; open it read-write once to migrate it");
      }
    }
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
  if (v > kLatestVersion)
    throw DbError(path_ + ": database schema version " + std::to_string(v) +
                  " is newer than this program supports (" + std::to_string(kLatestVersion) +
                  "); use a newer Echo2ECG");
  while (v < kLatestVersion) {
    const int next = v + 1;
    exec("BEGIN IMMEDIATE");
    try {
      // Re-check under the write lock: another process may have migrated meanwhile.
      const int now = schemaVersion();
      if (now != v) {
        exec("ROLLBACK");
        v = now;
        if (v > kLatestVersion) throw DbError(path_ + ": database schema version became newer than supported");
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

// -------------------------------------------------------------- writes ----

std::int64_t Database::findOrCreatePatient(const Identity& id) {
  const std::string norm = normalizePersonName(id.patientName);
  auto& q = stmt("SELECT id, birth_date, sex FROM patients WHERE patient_id = ?1 AND name_norm = ?2");
  q.bind(1, id.patientId).bind(2, norm);
  if (q.step()) {
    const std::int64_t rowId = q.i64(0);
    const bool fillBirth = q.str(1).empty() && !id.birthDate.empty();
    const bool fillSex = q.str(2).empty() && !id.sex.empty();
    q.reset();
    if (fillBirth || fillSex) {
      stmt("UPDATE patients SET birth_date = CASE WHEN birth_date = '' THEN ?2 ELSE birth_date END, "
           "sex = CASE WHEN sex = '' THEN ?3 ELSE sex END WHERE id = ?1")
          .bind(1, rowId).bind(2, id.birthDate).bind(3, id.sex).run();
    }
    return rowId;
  }
  q.reset();
  stmt("INSERT INTO patients(patient_id, name, name_norm, birth_date, sex) VALUES(?1, ?2, ?3, ?4, ?5)")
      .bind(1, id.patientId).bind(2, id.patientName).bind(3, norm).bind(4, id.birthDate).bind(5, id.sex).run();
  return sqlite3_last_insert_rowid(db_);
}

namespace {
// Old ACR-NEMA style "1994.01.30" / "11:25:01" -> DICOM DA/TM "19940130" / "112501".
std::string normalizeDicomDateTime(const std::string& s, std::size_t digitsWanted) {
  std::string digits, frac;
  const auto dot = digitsWanted == 6 ? s.find('.', s.find(':') == std::string::npos ? 0 : s.rfind(':')) : std::string::npos;
  const std::string head = dot == std::string::npos ? s : s.substr(0, dot);
  for (char c : head) {
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
    else if (c != '.' && c != ':' && c != '-' && c != ' ') return s;  // unknown form: keep as stored
  }
  if (digits.size() != digitsWanted && !(digitsWanted == 6 && (digits.size() == 2 || digits.size() == 4))) return s;
  return digits + (dot == std::string::npos ? "" : s.substr(dot));
}
}  // namespace

std::int64_t Database::findOrCreateStudy(std::int64_t patientRowId, const Identity& id) {
  auto& q = stmt("SELECT id FROM studies WHERE study_uid = ?1");
  q.bind(1, id.studyUid);
  if (q.step()) {
    const auto rowId = q.i64(0);
    q.reset();
    return rowId;
  }
  q.reset();
  stmt("INSERT INTO studies(patient_id, study_uid, study_date, study_time, description, accession, synthetic) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)")
      .bind(1, patientRowId).bind(2, id.studyUid).bind(3, normalizeDicomDateTime(id.studyDate, 8))
      .bind(4, normalizeDicomDateTime(id.studyTime, 6))
      .bind(5, id.studyDescription).bind(6, id.accessionNumber).bind(7, id.synthetic).run();
  return sqlite3_last_insert_rowid(db_);
}

std::int64_t Database::findOrCreateSeries(std::int64_t studyRowId, const Identity& id) {
  auto& q = stmt("SELECT id FROM series WHERE series_uid = ?1");
  q.bind(1, id.seriesUid);
  if (q.step()) {
    const auto rowId = q.i64(0);
    q.reset();
    return rowId;
  }
  q.reset();
  stmt("INSERT INTO series(study_id, series_uid, modality, description, number) VALUES(?1, ?2, ?3, ?4, ?5)")
      .bind(1, studyRowId).bind(2, id.seriesUid).bind(3, id.modality).bind(4, id.seriesDescription)
      .bind(5, id.seriesNumber).run();
  return sqlite3_last_insert_rowid(db_);
}

namespace {
void completeIdentity(Identity& id, const FileFacts& file, const char* defaultModality) {
  if (id.modality.empty()) id.modality = defaultModality;
  if (id.sopInstanceUid.empty()) {
    if (file.sha256.empty()) throw DbError(file.path + ": no SOP Instance UID and no content hash");
    id.sopInstanceUid = derivedUid("instance:" + file.sha256);
  }
  if (id.studyUid.empty()) id.studyUid = derivedUid("study:" + id.sopInstanceUid);
  if (id.seriesUid.empty()) id.seriesUid = derivedUid("series:" + id.studyUid + ":" + id.modality);
}
}  // namespace

InsertResult Database::beginInsert(Identity& id, const FileFacts& file, std::int64_t& seriesRowId) {
  InsertResult r;
  r.sopInstanceUid = id.sopInstanceUid;
  auto& q = stmt("SELECT id, sha256, path FROM instances WHERE sop_instance_uid = ?1");
  q.bind(1, id.sopInstanceUid);
  if (q.step()) {
    r.instanceId = q.i64(0);
    r.existingSha256 = q.str(1);
    r.existingPath = q.str(2);
    q.reset();
    r.status = r.existingSha256 == file.sha256 ? InsertStatus::Skipped : InsertStatus::Conflict;
    return r;
  }
  q.reset();
  const auto patient = findOrCreatePatient(id);
  const auto study = findOrCreateStudy(patient, id);
  seriesRowId = findOrCreateSeries(study, id);
  r.status = InsertStatus::Added;
  return r;
}

std::int64_t Database::insertInstanceRow(std::int64_t seriesRowId, const Identity& id, const FileFacts& file,
                                         SourceFormat fmt) {
  stmt("INSERT INTO instances(series_id, sop_instance_uid, sop_class_uid, path, file_size, sha256, format, "
       "manufacturer, model_name, imported_at) "
       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
      .bind(1, seriesRowId).bind(2, id.sopInstanceUid).bind(3, id.sopClassUid).bind(4, file.path)
      .bind(5, file.size).bind(6, file.sha256).bind(7, toString(fmt)).bind(8, id.manufacturer)
      .bind(9, id.modelName).run();
  return sqlite3_last_insert_rowid(db_);
}

InsertResult Database::insertEcg(const EcgRecord& rec, const FileFacts& file) {
  Identity id = rec.identity;
  completeIdentity(id, file, "ECG");
  Transaction tx(*this);
  std::int64_t seriesRowId = 0;
  InsertResult r = beginInsert(id, file, seriesRowId);
  if (r.status != InsertStatus::Added) return r;  // tx rolls back (nothing written)
  const SourceFormat fmt = rec.format == SourceFormat::Unknown ? SourceFormat::DicomEcg : rec.format;
  r.instanceId = insertInstanceRow(seriesRowId, id, file, fmt);
  const EcgGroup* g = rec.rhythm();
  if (!g && !rec.groups.empty()) g = &rec.groups.front();
  std::vector<std::string> leads;
  if (g)
    for (const auto& c : g->channels) leads.push_back(c.label);
  const auto& m = rec.measurements;
  stmt("INSERT INTO ecg_records(instance_id, sampling_hz, num_samples, num_leads, leads, heart_rate_bpm, rr_ms, "
       "pr_ms, qrs_ms, qt_ms, qtc_ms, qtc_formula, p_axis_deg, qrs_axis_deg, t_axis_deg, statements, diagnoses, "
       "has_median, num_groups) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)")
      .bind(1, r.instanceId).bind(2, g ? g->samplingHz : 0.0)
      .bind(3, static_cast<std::int64_t>(g ? g->numSamples : 0)).bind(4, static_cast<int>(leads.size()))
      .bind(5, join(leads, ',')).bind(6, m.heartRateBpm).bind(7, m.rrMs).bind(8, m.prMs).bind(9, m.qrsMs)
      .bind(10, m.qtMs).bind(11, m.qtcMs).bind(12, m.qtcFormula).bind(13, m.pAxisDeg).bind(14, m.qrsAxisDeg)
      .bind(15, m.tAxisDeg).bind(16, join(rec.statements, '\n')).bind(17, join(rec.diagnoses, ','))
      .bind(18, rec.median() != nullptr).bind(19, static_cast<int>(rec.groups.size())).run();
  tx.commit();
  return r;
}

InsertResult Database::insertEcho(const EchoInfo& info, const FileFacts& file) {
  Identity id = info.identity;
  completeIdentity(id, file, "US");
  Transaction tx(*this);
  std::int64_t seriesRowId = 0;
  InsertResult r = beginInsert(id, file, seriesRowId);
  if (r.status != InsertStatus::Added) return r;
  const SourceFormat fmt = info.format == SourceFormat::Unknown ? SourceFormat::DicomEcho : info.format;
  r.instanceId = insertInstanceRow(seriesRowId, id, file, fmt);
  stmt("INSERT INTO echo_loops(instance_id, rows, cols, frames, samples_per_pixel, bits_allocated, bits_stored, "
       "fps, fps_source, photometric, transfer_syntax_uid, view_label, view_source, view_code, duration_s) "
       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)")
      .bind(1, r.instanceId).bind(2, info.rows).bind(3, info.cols).bind(4, info.frames)
      .bind(5, info.samplesPerPixel).bind(6, info.bitsAllocated).bind(7, info.bitsStored).bind(8, info.fps)
      .bind(9, toString(info.fpsSource)).bind(10, info.photometric).bind(11, info.transferSyntaxUid)
      .bind(12, info.viewLabel).bind(13, toString(info.viewSource)).bind(14, info.viewCode)
      .bind(15, info.durationSeconds()).run();
  const std::int64_t loopId = sqlite3_last_insert_rowid(db_);
  int idx = 0;
  for (const auto& rg : info.regions) {
    stmt("INSERT INTO us_regions(loop_id, idx, x0, y0, x1, y1, spatial_format, data_type, flags, units_x, "
         "units_y, delta_x, delta_y, ref_pixel_x0, ref_pixel_y0) "
         "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)")
        .bind(1, loopId).bind(2, idx++).bind(3, rg.x0).bind(4, rg.y0).bind(5, rg.x1).bind(6, rg.y1)
        .bind(7, rg.spatialFormat).bind(8, rg.dataType).bind(9, rg.flags).bind(10, rg.unitsX).bind(11, rg.unitsY)
        .bind(12, rg.deltaX).bind(13, rg.deltaY).bind(14, rg.refPixelX0).bind(15, rg.refPixelY0).run();
  }
  tx.commit();
  return r;
}

bool Database::deleteInstance(std::int64_t instanceRowId) {
  Transaction tx(*this);
  stmt("DELETE FROM instances WHERE id = ?1").bind(1, instanceRowId).run();
  const bool changed = sqlite3_changes(db_) > 0;
  tx.commit();
  return changed;
}

// -------------------------------------------------------------- labels ----

namespace {
// The label statements of a study (owner column study_id) or a patient (patient_id): the SQL differs
// only in that column. Built once; the statement cache keys on the text.
enum LabelSql { kLabelUpdate, kLabelInsert, kLabelSelect };
const char* labelSql(LabelSql which, bool study) {
  static const auto make = [](const std::string& col) {
    return std::array<std::string, 3>{
        "UPDATE labels SET value = ?3, created_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE " + col +
            " = ?1 AND key = ?2 AND source = ?4",
        "INSERT INTO labels(" + col + ", key, value, source, created_at) "
            "VALUES(?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
        "SELECT id, patient_id, study_id, key, value, source, created_at FROM labels WHERE " + col +
            " = ?1 ORDER BY key, source"};
  };
  static const std::array<std::string, 3> studySql = make("study_id"), patientSql = make("patient_id");
  return (study ? studySql : patientSql)[which].c_str();
}
}  // namespace

void Database::setLabel(bool study, std::int64_t ownerRowId, const std::string& key, const std::string& value,
                        const std::string& source) {
  Transaction tx(*this);
  stmt(labelSql(kLabelUpdate, study)).bind(1, ownerRowId).bind(2, key).bind(3, value).bind(4, source).run();
  if (sqlite3_changes(db_) == 0)
    stmt(labelSql(kLabelInsert, study)).bind(1, ownerRowId).bind(2, key).bind(3, value).bind(4, source).run();
  tx.commit();
}

std::vector<LabelRow> Database::labelsOf(bool study, std::int64_t ownerRowId) {
  std::vector<LabelRow> out;
  auto& q = stmt(labelSql(kLabelSelect, study));
  q.bind(1, ownerRowId);
  while (q.step())
    out.push_back({q.i64(0), q.optI64(1), q.optI64(2), q.str(3), q.str(4), q.str(5), q.str(6)});
  q.reset();
  return out;
}

void Database::setStudyLabel(std::int64_t studyRowId, const std::string& key, const std::string& value,
                             const std::string& source) {
  setLabel(true, studyRowId, key, value, source);
}

void Database::setPatientLabel(std::int64_t patientRowId, const std::string& key, const std::string& value,
                               const std::string& source) {
  setLabel(false, patientRowId, key, value, source);
}

std::vector<LabelRow> Database::labelsForStudy(std::int64_t studyRowId) { return labelsOf(true, studyRowId); }

std::vector<LabelRow> Database::labelsForPatient(std::int64_t patientRowId) { return labelsOf(false, patientRowId); }

// ---------------------------------------------------------- embeddings ----

std::int64_t Database::putEmbedding(const EmbeddingKey& key, const std::vector<float>& vec, const std::string& inputs) {
  if (key.instanceRowId.has_value() == key.studyRowId.has_value())
    throw DbError("an embedding belongs to exactly one instance or one study");
  if (key.modelId.empty()) throw DbError("embedding without model id");
  Transaction tx(*this);
  if (key.instanceRowId)
    stmt("DELETE FROM embeddings WHERE instance_id = ?1 AND model_id = ?2 AND weights_hash = ?3 AND "
         "preproc_version = ?4")
        .bind(1, *key.instanceRowId).bind(2, key.modelId).bind(3, key.weightsHash).bind(4, key.preprocVersion).run();
  else
    stmt("DELETE FROM embeddings WHERE study_id = ?1 AND model_id = ?2 AND weights_hash = ?3 AND "
         "preproc_version = ?4")
        .bind(1, *key.studyRowId).bind(2, key.modelId).bind(3, key.weightsHash).bind(4, key.preprocVersion).run();
  stmt("INSERT INTO embeddings(instance_id, study_id, model_id, weights_hash, preproc_version, dim, vec, inputs, "
       "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
      .bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion).bind(6, static_cast<int>(vec.size()))
      .bindBlob(7, vec.data(), vec.size() * sizeof(float)).bind(8, inputs).run();
  const auto id = sqlite3_last_insert_rowid(db_);
  tx.commit();
  return id;
}

std::optional<std::vector<float>> Database::getEmbedding(const EmbeddingKey& key) {
  auto& q = stmt("SELECT dim, vec FROM embeddings WHERE (instance_id = ?1 OR (?1 IS NULL AND instance_id IS NULL)) "
                 "AND (study_id = ?2 OR (?2 IS NULL AND study_id IS NULL)) AND model_id = ?3 AND "
                 "weights_hash = ?4 AND preproc_version = ?5");
  q.bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion);
  if (!q.step()) {
    q.reset();
    return std::nullopt;
  }
  const int dim = q.i32(0);
  const auto b = q.blob(1);
  q.reset();
  if (b.size() != static_cast<std::size_t>(dim) * sizeof(float))
    throw DbError("embedding blob size does not match its dimension");
  std::vector<float> v(dim);
  if (dim) std::memcpy(v.data(), b.data(), b.size());
  return v;
}

bool Database::deleteEmbedding(const EmbeddingKey& key) {
  auto& q = stmt("DELETE FROM embeddings WHERE (instance_id = ?1 OR (?1 IS NULL AND instance_id IS NULL)) "
                 "AND (study_id = ?2 OR (?2 IS NULL AND study_id IS NULL)) AND model_id = ?3 AND "
                 "weights_hash = ?4 AND preproc_version = ?5");
  q.bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion).run();
  return sqlite3_changes(db_) > 0;
}

std::optional<std::string> Database::embeddingInputs(const EmbeddingKey& key) {
  auto& q = stmt("SELECT inputs FROM embeddings WHERE (instance_id = ?1 OR (?1 IS NULL AND instance_id IS NULL)) "
                 "AND (study_id = ?2 OR (?2 IS NULL AND study_id IS NULL)) AND model_id = ?3 AND "
                 "weights_hash = ?4 AND preproc_version = ?5");
  q.bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion);
  std::optional<std::string> out;
  if (q.step()) out = q.str(0);
  q.reset();
  return out;
}

void Database::setLoopDecodeError(std::int64_t instanceRowId, const std::string& error) {
  stmt("UPDATE echo_loops SET decode_error = ?2 WHERE instance_id = ?1 AND decode_error <> ?2")
      .bind(1, instanceRowId).bind(2, error).run();
}

std::int64_t Database::undecodableEchoStudies(const std::string& studyModelId, const std::string& weightsHash,
                                              const std::string& preprocVersion) {
  auto& q = stmt(
      "SELECT COUNT(*) FROM (SELECT se.study_id AS sid FROM series se JOIN instances i ON i.series_id = se.id "
      " LEFT JOIN echo_loops l ON l.instance_id = i.id WHERE se.modality = 'US' COLLATE NOCASE "
      " GROUP BY se.study_id HAVING SUM(COALESCE(l.decode_error, '') = '') = 0) s "
      "WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.study_id = s.sid AND e.model_id = ?1 AND "
      " e.weights_hash = ?2 AND e.preproc_version = ?3)");
  q.bind(1, studyModelId).bind(2, weightsHash).bind(3, preprocVersion);
  std::int64_t n = 0;
  if (q.step()) n = q.i64(0);
  q.reset();
  return n;
}

std::map<std::int64_t, std::string> Database::studyEmbeddingInputs(const std::string& modelId,
                                                                   const std::string& weightsHash,
                                                                   const std::string& preprocVersion) {
  std::map<std::int64_t, std::string> out;
  auto& q = stmt("SELECT study_id, inputs FROM embeddings WHERE model_id = ?1 AND weights_hash = ?2 AND "
                 "preproc_version = ?3 AND study_id IS NOT NULL");
  q.bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion);
  while (q.step()) out[q.i64(0)] = q.str(1);
  q.reset();
  return out;
}

std::map<std::int64_t, std::vector<std::int64_t>> Database::usLoopsByStudy() {
  std::map<std::int64_t, std::vector<std::int64_t>> out;
  auto& q = stmt("SELECT se.study_id, i.id FROM instances i JOIN series se ON se.id = i.series_id "
                 "WHERE se.modality = 'US' COLLATE NOCASE ORDER BY se.study_id, i.id");
  while (q.step()) out[q.i64(0)].push_back(q.i64(1));
  q.reset();
  return out;
}

std::set<std::int64_t> Database::embeddedInstanceIds(const std::string& modelId, const std::string& weightsHash,
                                                     const std::string& preprocVersion) {
  std::set<std::int64_t> out;
  auto& q = stmt("SELECT instance_id FROM embeddings WHERE model_id = ?1 AND weights_hash = ?2 AND "
                 "preproc_version = ?3 AND instance_id IS NOT NULL");
  q.bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion);
  while (q.step()) out.insert(q.i64(0));
  q.reset();
  return out;
}

std::vector<EmbeddingKey> Database::embeddingKeysOfInstance(std::int64_t instanceRowId) {
  std::vector<EmbeddingKey> out;
  auto& q = stmt("SELECT model_id, weights_hash, preproc_version FROM embeddings WHERE instance_id = ?1 ORDER BY id DESC");
  q.bind(1, instanceRowId);
  while (q.step()) {
    EmbeddingKey k;
    k.instanceRowId = instanceRowId;
    k.modelId = q.str(0);
    k.weightsHash = q.str(1);
    k.preprocVersion = q.str(2);
    out.push_back(std::move(k));
  }
  q.reset();
  return out;
}

std::vector<Database::StoredEmbedding> Database::embeddingsFor(const std::string& modelId,
                                                               const std::string& weightsHash,
                                                               const std::string& preprocVersion) {
  std::vector<StoredEmbedding> out;
  auto& q = stmt("SELECT instance_id, study_id, dim, vec, inputs FROM embeddings WHERE model_id = ?1 AND "
                 "weights_hash = ?2 AND preproc_version = ?3 ORDER BY id");
  q.bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion);
  while (q.step()) {
    StoredEmbedding e;
    e.key.instanceRowId = q.optI64(0);
    e.key.studyRowId = q.optI64(1);
    e.key.modelId = modelId;
    e.key.weightsHash = weightsHash;
    e.key.preprocVersion = preprocVersion;
    const int dim = q.i32(2);
    const auto b = q.blob(3);
    if (b.size() != static_cast<std::size_t>(dim) * sizeof(float)) {
      q.reset();
      throw DbError("embedding blob size does not match its dimension");
    }
    e.vec.resize(dim);
    if (dim) std::memcpy(e.vec.data(), b.data(), b.size());
    e.inputs = q.str(4);
    out.push_back(std::move(e));
  }
  q.reset();
  return out;
}

std::vector<Database::EmbeddingSet> Database::embeddingSets() {
  std::vector<EmbeddingSet> out;
  auto& q = stmt("SELECT model_id, weights_hash, preproc_version, SUM(instance_id IS NOT NULL), "
                 "SUM(study_id IS NOT NULL), MAX(created_at) FROM embeddings "
                 "GROUP BY model_id, weights_hash, preproc_version ORDER BY model_id, weights_hash, preproc_version");
  while (q.step()) {
    EmbeddingSet e;
    e.modelId = q.str(0);
    e.weightsHash = q.str(1);
    e.preprocVersion = q.str(2);
    e.instances = q.i64(3);
    e.studies = q.i64(4);
    e.lastCreated = q.str(5);
    out.push_back(std::move(e));
  }
  q.reset();
  return out;
}

std::int64_t Database::deleteEmbeddings(const std::string& modelId, const std::string& weightsHash,
                                        const std::string& preprocVersion) {
  Transaction tx(*this);
  stmt("DELETE FROM embeddings WHERE model_id = ?1 AND weights_hash = ?2 AND preproc_version = ?3")
      .bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion).run();
  const std::int64_t n = sqlite3_changes(db_);
  tx.commit();
  return n;
}

Database::EmbeddingCounts Database::embeddingCounts(const std::string& ecgModelId, const std::string& studyModelId,
                                                    const std::string& weightsHash,
                                                    const std::string& preprocVersion) {
  EmbeddingCounts c;
  auto& q = stmt(
      "SELECT "
      "(SELECT COUNT(*) FROM instances i JOIN series se ON se.id = i.series_id WHERE se.modality = 'ECG' COLLATE NOCASE), "
      "(SELECT COUNT(*) FROM instances i JOIN series se ON se.id = i.series_id WHERE se.modality = 'ECG' COLLATE NOCASE "
      " AND EXISTS (SELECT 1 FROM embeddings e WHERE e.instance_id = i.id AND e.model_id = ?1 AND e.weights_hash = ?3 "
      " AND e.preproc_version = ?4)), "
      "(SELECT COUNT(DISTINCT se.study_id) FROM series se JOIN instances i ON i.series_id = se.id "
      " WHERE se.modality = 'US' COLLATE NOCASE), "
      "(SELECT COUNT(DISTINCT se.study_id) FROM series se JOIN instances i ON i.series_id = se.id "
      " WHERE se.modality = 'US' COLLATE NOCASE AND EXISTS (SELECT 1 FROM embeddings e WHERE e.study_id = se.study_id "
      " AND e.model_id = ?2 AND e.weights_hash = ?3 AND e.preproc_version = ?4))");
  q.bind(1, ecgModelId).bind(2, studyModelId).bind(3, weightsHash).bind(4, preprocVersion);
  if (q.step()) {
    c.ecgInstances = q.i64(0);
    c.ecgEmbedded = q.i64(1);
    c.echoStudies = q.i64(2);
    c.echoStudiesEmbedded = q.i64(3);
  }
  q.reset();
  return c;
}

// --------------------------------------------------------- predictions ----

std::int64_t Database::addPrediction(const PredictionRow& p) {
  Transaction tx(*this);
  stmt("INSERT INTO predictions(instance_id, model_id, model_version, weights_hash, task, probabilities, "
       "created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
      .bind(1, p.instanceRowId).bind(2, p.modelId).bind(3, p.modelVersion).bind(4, p.weightsHash).bind(5, p.task)
      .bind(6, probabilitiesJson(p.probabilities)).run();
  const auto id = sqlite3_last_insert_rowid(db_);
  tx.commit();
  return id;
}

std::vector<PredictionRow> Database::predictionsFor(std::int64_t instanceRowId) {
  std::vector<PredictionRow> out;
  auto& q = stmt("SELECT id, instance_id, model_id, model_version, weights_hash, task, probabilities, created_at "
                 "FROM predictions WHERE instance_id = ?1 ORDER BY id");
  q.bind(1, instanceRowId);
  while (q.step()) {
    PredictionRow p;
    p.id = q.i64(0);
    p.instanceRowId = q.i64(1);
    p.modelId = q.str(2);
    p.modelVersion = q.str(3);
    p.weightsHash = q.str(4);
    p.task = q.str(5);
    p.probabilities = parseProbabilities(q.str(6));
    p.createdAt = q.str(7);
    out.push_back(std::move(p));
  }
  q.reset();
  return out;
}

std::int64_t Database::registerModel(const ModelRow& m) {
  Transaction tx(*this);
  stmt("INSERT INTO models(model_id, version, parent, weights_hash, card_json, active, created_at) "
       "VALUES(?1, ?2, ?3, ?4, ?5, 0, strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
      .bind(1, m.modelId).bind(2, m.version).bind(3, m.parent).bind(4, m.weightsHash).bind(5, m.cardJson).run();
  const auto id = sqlite3_last_insert_rowid(db_);
  if (m.active) setActiveModel(m.modelId, m.version);
  tx.commit();
  return id;
}

void Database::setActiveModel(const std::string& modelId, const std::string& version) {
  Transaction tx(*this);
  stmt("UPDATE models SET active = 0 WHERE model_id = ?1").bind(1, modelId).run();
  stmt("UPDATE models SET active = 1 WHERE model_id = ?1 AND version = ?2").bind(1, modelId).bind(2, version).run();
  if (sqlite3_changes(db_) == 0) throw DbError("no model " + modelId + " version " + version);
  tx.commit();
}

std::vector<ModelRow> Database::listModels() {
  std::vector<ModelRow> out;
  auto& q = stmt("SELECT id, model_id, version, parent, weights_hash, card_json, created_at, active FROM models "
                 "ORDER BY model_id, id");
  while (q.step())
    out.push_back({q.i64(0), q.str(1), q.str(2), q.str(3), q.str(4), q.str(5), q.str(6), q.i64(7) != 0});
  q.reset();
  return out;
}

// --------------------------------------------------------------- reads ----

namespace {
std::string likePattern(const std::string& text) {
  if (text.empty()) return "";
  std::string p = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') p += '\\';
    p += c;
  }
  return p + "%";
}
}  // namespace

// Shared WHERE clause on p (patients), st (studies); parameters ?1..?8 (NULL/'' = no filter).
#define E2E_STUDY_FILTER                                                                                     \
  " (?1 = '' OR p.patient_id LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\' OR p.name_norm LIKE ?1 ESCAPE " \
  "'\\') AND (?2 = '' OR st.study_date >= ?2) AND (?3 = '' OR st.study_date <= ?3) "                            \
  " AND (?4 = '' OR EXISTS (SELECT 1 FROM series sx WHERE sx.study_id = st.id AND sx.modality = ?4 COLLATE "    \
  "NOCASE)) AND (?5 = '' OR EXISTS (SELECT 1 FROM labels l WHERE (l.study_id = st.id OR l.patient_id = p.id) " \
  "AND l.key = ?5 AND (?6 = '' OR l.value = ?6))) AND (?7 IS NULL OR p.id = ?7) AND (?8 IS NULL OR st.id = ?8) "

namespace {
template <class S>
void bindStudyFilter(S& q, const Filter& f) {
  q.bind(1, likePattern(f.text)).bind(2, f.dateFrom).bind(3, f.dateTo).bind(4, f.modality).bind(5, f.labelKey)
      .bind(6, f.labelValue).bindOpt(7, f.patientRowId).bindOpt(8, f.studyRowId).bind(9, std::int64_t(f.limit));
}
}  // namespace

std::vector<PatientRow> Database::listPatients(const Filter& f) {
  std::vector<PatientRow> out;
  auto& q = stmt(
      "SELECT p.id, p.patient_id, p.name, p.name_norm, p.birth_date, p.sex, "
      "(SELECT COUNT(*) FROM studies s2 WHERE s2.patient_id = p.id) FROM patients p WHERE "
      "(?1 = '' OR p.patient_id LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\' OR p.name_norm LIKE ?1 ESCAPE '\\') "
      "AND (?7 IS NULL OR p.id = ?7) AND (?2 = '' AND ?3 = '' AND ?4 = '' AND ?5 = '' AND ?8 IS NULL OR EXISTS "
      "(SELECT 1 FROM studies st WHERE st.patient_id = p.id AND " E2E_STUDY_FILTER ")) "
      "ORDER BY p.name_norm, p.patient_id, p.id LIMIT ?9");
  bindStudyFilter(q, f);
  while (q.step()) out.push_back({q.i64(0), q.str(1), q.str(2), q.str(3), q.str(4), q.str(5), q.i32(6)});
  q.reset();
  return out;
}

std::vector<StudyRow> Database::listStudies(const Filter& f) {
  std::vector<StudyRow> out;
  auto& q = stmt(
      "SELECT st.id, st.patient_id, st.study_uid, st.study_date, st.study_time, st.description, st.accession, "
      "st.synthetic, p.patient_id, p.name, "
      "(SELECT group_concat(m, ',') FROM (SELECT DISTINCT sx.modality AS m FROM series sx WHERE sx.study_id = st.id "
      "ORDER BY 1)), "
      "(SELECT COUNT(*) FROM instances i JOIN series s3 ON i.series_id = s3.id WHERE s3.study_id = st.id) "
      "FROM studies st JOIN patients p ON st.patient_id = p.id WHERE " E2E_STUDY_FILTER
      "ORDER BY st.study_date, st.study_time, st.id LIMIT ?9");
  bindStudyFilter(q, f);
  while (q.step()) {
    StudyRow r;
    r.id = q.i64(0);
    r.patientRowId = q.i64(1);
    r.studyUid = q.str(2);
    r.date = q.str(3);
    r.time = q.str(4);
    r.description = q.str(5);
    r.accession = q.str(6);
    r.synthetic = q.i64(7) != 0;
    r.patientId = q.str(8);
    r.patientName = q.str(9);
    r.modalities = q.str(10);
    r.instanceCount = q.i32(11);
    out.push_back(std::move(r));
  }
  q.reset();
  return out;
}

std::vector<SeriesRow> Database::listSeries(const Filter& f) {
  std::vector<SeriesRow> out;
  auto& q = stmt(
      "SELECT se.id, se.study_id, se.series_uid, se.modality, se.description, se.number, st.study_uid, "
      "(SELECT COUNT(*) FROM instances i WHERE i.series_id = se.id) "
      "FROM series se JOIN studies st ON se.study_id = st.id JOIN patients p ON st.patient_id = p.id WHERE "
      E2E_STUDY_FILTER " AND (?4 = '' OR se.modality = ?4 COLLATE NOCASE) AND (?10 IS NULL OR se.id = ?10) "
      "ORDER BY st.study_date, st.id, se.number, se.id LIMIT ?9");
  bindStudyFilter(q, f);
  q.bindOpt(10, f.seriesRowId);
  while (q.step())
    out.push_back({q.i64(0), q.i64(1), q.str(2), q.str(3), q.str(4), q.i32(5), q.str(6), q.i32(7)});
  q.reset();
  return out;
}

#define E2E_INSTANCE_COLUMNS                                                                               \
  "SELECT i.id, i.series_id, i.sop_instance_uid, i.sop_class_uid, i.path, i.sha256, i.format, i.imported_at, " \
  "i.file_size, se.modality, se.series_uid, st.study_uid, p.patient_id, p.name, st.study_date "               \
  "FROM instances i JOIN series se ON i.series_id = se.id JOIN studies st ON se.study_id = st.id "            \
  "JOIN patients p ON st.patient_id = p.id "

namespace {
template <class S>
InstanceRow readInstance(const S& q) {
  InstanceRow r;
  r.id = q.i64(0);
  r.seriesRowId = q.i64(1);
  r.sopInstanceUid = q.str(2);
  r.sopClassUid = q.str(3);
  r.path = q.str(4);
  r.sha256 = q.str(5);
  r.format = q.str(6);
  r.importedAt = q.str(7);
  r.fileSize = static_cast<std::uint64_t>(q.i64(8));
  r.modality = q.str(9);
  r.seriesUid = q.str(10);
  r.studyUid = q.str(11);
  r.patientId = q.str(12);
  r.patientName = q.str(13);
  r.studyDate = q.str(14);
  return r;
}
}  // namespace

std::vector<InstanceRow> Database::listInstances(const Filter& f) {
  std::vector<InstanceRow> out;
  auto& q = stmt(E2E_INSTANCE_COLUMNS
                 "WHERE (?1 = '' OR p.patient_id LIKE ?1 ESCAPE '\\' OR p.name LIKE ?1 ESCAPE '\\' OR "
                 "p.name_norm LIKE ?1 ESCAPE '\\' OR i.path LIKE ?1 ESCAPE '\\' OR i.sop_instance_uid LIKE ?1 "
                 "ESCAPE '\\') AND (?2 = '' OR st.study_date >= ?2) AND (?3 = '' OR st.study_date <= ?3) "
                 "AND (?4 = '' OR se.modality = ?4 COLLATE NOCASE) AND (?5 = '' OR EXISTS (SELECT 1 FROM labels "
                 "l WHERE (l.study_id = st.id OR l.patient_id = p.id) AND l.key = ?5 AND (?6 = '' OR l.value = ?6)))"
                 " AND (?7 IS NULL OR p.id = ?7) AND (?8 IS NULL OR st.id = ?8) AND (?10 IS NULL OR se.id = ?10) "
                 "ORDER BY i.id LIMIT ?9");
  bindStudyFilter(q, f);
  q.bindOpt(10, f.seriesRowId);
  while (q.step()) out.push_back(readInstance(q));
  q.reset();
  return out;
}

std::optional<InstanceRow> Database::instanceById(std::int64_t id) {
  auto& q = stmt(E2E_INSTANCE_COLUMNS "WHERE i.id = ?1");
  q.bind(1, id);
  std::optional<InstanceRow> r;
  if (q.step()) r = readInstance(q);
  q.reset();
  return r;
}

std::int64_t Database::maxInstanceRowId() {
  auto& q = stmt("SELECT COALESCE(MAX(id), 0) FROM instances");
  const std::int64_t v = q.step() ? q.i64(0) : 0;
  q.reset();
  return v;
}

std::vector<InstanceRow> Database::instancesAfter(std::int64_t rowId, std::size_t limit) {
  std::vector<InstanceRow> out;
  if (limit == 0) return out;
  auto& q = stmt(E2E_INSTANCE_COLUMNS "WHERE i.id > ?1 ORDER BY i.id LIMIT ?2");
  q.bind(1, rowId).bind(2, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
  while (q.step()) out.push_back(readInstance(q));
  q.reset();
  return out;
}

std::optional<InstanceRow> Database::instanceByUid(const std::string& uid) {
  auto& q = stmt(E2E_INSTANCE_COLUMNS "WHERE i.sop_instance_uid = ?1");
  q.bind(1, uid);
  std::optional<InstanceRow> r;
  if (q.step()) r = readInstance(q);
  q.reset();
  return r;
}

std::optional<std::int64_t> Database::studyRowIdByUid(const std::string& studyUid) {
  auto& q = stmt("SELECT id FROM studies WHERE study_uid = ?1");
  q.bind(1, studyUid);
  std::optional<std::int64_t> r;
  if (q.step()) r = q.i64(0);
  q.reset();
  return r;
}

std::optional<InstanceDetails> Database::details(std::int64_t instanceRowId) {
  auto inst = instanceById(instanceRowId);
  if (!inst) return std::nullopt;
  InstanceDetails d;
  d.instance = *inst;
  {
    Filter f;
    f.seriesRowId = inst->seriesRowId;
    auto s = listSeries(f);
    if (!s.empty()) d.series = s.front();
  }
  {
    Filter f;
    f.studyRowId = d.series.studyRowId;
    auto s = listStudies(f);
    if (!s.empty()) d.study = s.front();
  }
  {
    Filter f;
    f.patientRowId = d.study.patientRowId;
    auto p = listPatients(f);
    if (!p.empty()) d.patient = p.front();
  }
  {
    auto& q = stmt("SELECT e.sampling_hz, e.num_samples, e.num_leads, e.leads, e.heart_rate_bpm, e.rr_ms, e.pr_ms, "
                   "e.qrs_ms, e.qt_ms, e.qtc_ms, e.qtc_formula, e.p_axis_deg, e.qrs_axis_deg, e.t_axis_deg, "
                   "e.statements, e.diagnoses, e.has_median, i.manufacturer, i.model_name FROM ecg_records e "
                   "JOIN instances i ON i.id = e.instance_id WHERE e.instance_id = ?1");
    q.bind(1, instanceRowId);
    if (q.step()) {
      EcgRow e;
      e.samplingHz = q.dbl(0);
      e.numSamples = q.i64(1);
      e.numLeads = q.i32(2);
      e.leads = splitNonEmpty(q.str(3), ',');
      auto& m = e.measurements;
      m.heartRateBpm = q.dbl(4);
      m.rrMs = q.dbl(5);
      m.prMs = q.dbl(6);
      m.qrsMs = q.dbl(7);
      m.qtMs = q.dbl(8);
      m.qtcMs = q.dbl(9);
      m.qtcFormula = q.str(10);
      m.pAxisDeg = q.dbl(11);
      m.qrsAxisDeg = q.dbl(12);
      m.tAxisDeg = q.dbl(13);
      e.statements = splitNonEmpty(q.str(14), '\n');
      e.diagnoses = splitNonEmpty(q.str(15), ',');
      e.hasMedian = q.i64(16) != 0;
      e.manufacturer = q.str(17);
      e.modelName = q.str(18);
      d.ecg = std::move(e);
    }
    q.reset();
  }
  {
    auto& q = stmt("SELECT l.id, l.rows, l.cols, l.frames, l.samples_per_pixel, l.bits_allocated, l.bits_stored, "
                   "l.fps, l.fps_source, l.photometric, l.transfer_syntax_uid, l.view_label, l.view_source, "
                   "l.view_code, i.manufacturer, i.model_name FROM echo_loops l JOIN instances i ON "
                   "i.id = l.instance_id WHERE l.instance_id = ?1");
    q.bind(1, instanceRowId);
    if (q.step()) {
      EchoRow e;
      e.loopId = q.i64(0);
      e.rows = q.i32(1);
      e.cols = q.i32(2);
      e.frames = q.i32(3);
      e.samplesPerPixel = q.i32(4);
      e.bitsAllocated = q.i32(5);
      e.bitsStored = q.i32(6);
      e.fps = q.dbl(7);
      e.fpsSource = q.str(8);
      e.photometric = q.str(9);
      e.transferSyntaxUid = q.str(10);
      e.viewLabel = q.str(11);
      e.viewSource = q.str(12);
      e.viewCode = q.str(13);
      e.manufacturer = q.str(14);
      e.modelName = q.str(15);
      d.echo = std::move(e);
    }
    q.reset();
    if (d.echo) {
      auto& r = stmt("SELECT x0, y0, x1, y1, spatial_format, data_type, flags, units_x, units_y, delta_x, delta_y, "
                     "ref_pixel_x0, ref_pixel_y0 FROM us_regions WHERE loop_id = ?1 ORDER BY idx");
      r.bind(1, d.echo->loopId);
      while (r.step()) {
        UltrasoundRegion g;
        g.x0 = r.i32(0);
        g.y0 = r.i32(1);
        g.x1 = r.i32(2);
        g.y1 = r.i32(3);
        g.spatialFormat = r.i32(4);
        g.dataType = r.i32(5);
        g.flags = r.i32(6);
        g.unitsX = r.i32(7);
        g.unitsY = r.i32(8);
        g.deltaX = r.dbl(9);
        g.deltaY = r.dbl(10);
        g.refPixelX0 = r.dbl(11);
        g.refPixelY0 = r.dbl(12);
        d.echo->regions.push_back(g);
      }
      r.reset();
    }
  }
  d.labels = labelsForStudy(d.study.id);
  for (auto& l : labelsForPatient(d.patient.id)) d.labels.push_back(std::move(l));
  return d;
}

std::vector<std::string> Database::allContentHashes() {
  std::vector<std::string> out;
  auto& q = stmt("SELECT sha256 FROM instances");
  while (q.step()) out.push_back(q.str(0));
  q.reset();
  return out;
}

std::int64_t Database::dataVersion() {
  auto& q = stmt("PRAGMA data_version");
  std::int64_t v = q.step() ? q.i64(0) : 0;
  q.reset();
  return v;
}

Database::ContentStamp Database::contentStamp() {
  ContentStamp c;
  auto& q = stmt(
      "SELECT (SELECT COUNT(*) FROM instances), (SELECT COALESCE(MAX(id),0) FROM instances), "
      "(SELECT COUNT(*) FROM labels), (SELECT COALESCE(MAX(id),0) FROM labels), "
      "(SELECT COUNT(*) FROM embeddings), (SELECT COALESCE(MAX(id),0) FROM embeddings), "
      "(SELECT COUNT(*) FROM predictions), (SELECT COALESCE(MAX(id),0) FROM predictions), "
      "(SELECT COUNT(*) FROM models), (SELECT COALESCE(MAX(id),0) FROM models), "
      "(SELECT COALESCE(GROUP_CONCAT(model_id || ':' || version, ','),'') FROM "
      "(SELECT model_id, version FROM models WHERE active = 1 ORDER BY model_id))");
  if (q.step()) {
    c.instances = q.i64(0);
    c.maxInstanceId = q.i64(1);
    c.labels = q.i64(2);
    c.maxLabelId = q.i64(3);
    c.embeddings = q.i64(4);
    c.maxEmbeddingId = q.i64(5);
    c.predictions = q.i64(6);
    c.maxPredictionId = q.i64(7);
    c.models = q.i64(8);
    c.maxModelId = q.i64(9);
    c.activeModels = q.str(10);
  }
  q.reset();
  return c;
}

Counts Database::counts() {
  Counts c;
  auto& q = stmt(
      "SELECT (SELECT COUNT(*) FROM patients), (SELECT COUNT(*) FROM studies), (SELECT COUNT(*) FROM series), "
      "(SELECT COUNT(*) FROM instances), (SELECT COUNT(*) FROM ecg_records), (SELECT COUNT(*) FROM echo_loops), "
      "(SELECT COUNT(*) FROM us_regions), (SELECT COUNT(*) FROM labels), (SELECT COUNT(*) FROM embeddings), "
      "(SELECT COUNT(*) FROM predictions), (SELECT COUNT(*) FROM models)");
  if (q.step()) {
    c.patients = q.i64(0);
    c.studies = q.i64(1);
    c.series = q.i64(2);
    c.instances = q.i64(3);
    c.ecgRecords = q.i64(4);
    c.echoLoops = q.i64(5);
    c.usRegions = q.i64(6);
    c.labels = q.i64(7);
    c.embeddings = q.i64(8);
    c.predictions = q.i64(9);
    c.models = q.i64(10);
  }
  q.reset();
  return c;
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
