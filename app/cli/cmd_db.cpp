// echo2ecg db check [--db FILE]      PRAGMA integrity_check, foreign keys and our schema version
// echo2ecg db backup OUT [--db FILE] online copy (SQLite backup API) into a new file OUT
#include <cstdio>
#include <filesystem>
#include <string>

#include "commands.h"
#include "db/database.h"

namespace {

using namespace e2e::cli;

// Exit 0 when the file is an Echo2ECG database at this program's schema version, SQLite's
// integrity check passes and no foreign key is dangling; 1 otherwise (each finding printed).
int checkDatabase(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::fprintf(stderr, "echo2ecg db check: database not found: %s\n", path.c_str());
    return kRuntimeError;
  }
  e2e::db::Database db(path, e2e::db::Database::Mode::ReadOnly);  // never writes, never migrates
  std::printf("Database: %s\n", path.c_str());
  std::printf("Schema version: %d (this program: %d)\n", db.schemaVersion(), e2e::db::Database::kLatestVersion);
  const std::string integrity = db.integrityCheck();
  std::printf("Integrity check: %s\n", integrity.c_str());
  const auto fk = db.foreignKeyViolations();
  for (const auto& v : fk) std::printf("Foreign key violation: %s\n", v.c_str());
  const bool ok = integrity == "ok" && fk.empty();
  std::printf("%s\n", ok ? "OK" : "PROBLEMS FOUND");
  return ok ? kOk : kRuntimeError;
}

int backupDatabase(const std::string& path, const std::string& out) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::fprintf(stderr, "echo2ecg db backup: database not found: %s\n", path.c_str());
    return kRuntimeError;
  }
  e2e::db::Database db(path, e2e::db::Database::Mode::ReadOnly);
  db.backupTo(out);
  std::printf("Backed up %s to %s\n", path.c_str(), out.c_str());
  return kOk;
}

int runDb(int argc, char** argv) {
  auto a = parseArgs(argc, argv, {"db"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg db check [--db FILE]\n"
        "       echo2ecg db backup OUT [--db FILE]\n"
        "check:  SQLite integrity check, foreign keys and the schema version (read-only);\n"
        "        exit 0 when all is well, 1 otherwise.\n"
        "backup: a consistent copy into the new file OUT, safe while another process writes\n"
        "        (an existing OUT is never overwritten).\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("db", a.error);
  if (a.positional.empty()) return usageError("db", "expected 'check' or 'backup OUT'");
  const std::string action = a.positional[0];
  if (action == "check") {
    if (a.positional.size() != 1) return usageError("db", "check takes no arguments");
    return checkDatabase(dbPathFrom(a));
  }
  if (action == "backup") {
    if (a.positional.size() != 2 || a.positional[1].empty()) return usageError("db", "backup needs one OUT file");
    return backupDatabase(dbPathFrom(a), a.positional[1]);
  }
  return usageError("db", "unknown action '" + action + "' (check, backup)");
}

}  // namespace

E2E_REGISTER_COMMAND("db", "database check (integrity, schema) and online backup", runDb);
