// Internals shared by the database*.cpp files: the prepared-statement wrapper and small text helpers.
// Not installed; include only from core/db/database*.cpp.
#pragma once

#include "db/database.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace e2e::db {

namespace internal {
// v joined with sep; a sep inside an element becomes a space.
inline std::string join(const std::vector<std::string>& v, char sep) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    std::string s = v[i];
    std::replace(s.begin(), s.end(), sep, ' ');
    out += s;
  }
  return out;
}

// The non-empty pieces of s between seps.
inline std::vector<std::string> splitNonEmpty(const std::string& s, char sep) {
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
}  // namespace internal

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

}  // namespace e2e::db
