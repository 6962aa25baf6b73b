// echo2ecg info: version, build, database schema.
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "commands.h"
#include "db/database.h"
#include "io/reader.h"

#ifndef E2E_VERSION
#define E2E_VERSION "unknown"
#endif
#ifndef E2E_BUILD_TYPE
#define E2E_BUILD_TYPE "unknown"
#endif

namespace {

int runInfo(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db"});
  if (a.help) {
    std::printf("Usage: echo2ecg info [--db FILE]\nPrints version, build and database schema facts.\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("info", a.error);
  if (!a.positional.empty()) return usageError("info", "unexpected argument '" + a.positional[0] + "'");
  std::printf("echo2ecg %s (Echo2ECG Workstation)\n", E2E_VERSION);
  std::printf("Build: %s, %s, C++%ld\n", E2E_BUILD_TYPE, __VERSION__, __cplusplus / 100 % 100 + 0L);
  std::printf("SQLite: %s\n", sqlite3_libversion());
  std::printf("Readers: DICOM-ECG %s, DICOM-US %s, WFDB %s, video %s\n",
              e2e::readerAvailable(e2e::ProbeKind::DicomEcg) ? "yes" : "no",
              e2e::readerAvailable(e2e::ProbeKind::DicomEcho) ? "yes" : "no",
              e2e::readerAvailable(e2e::ProbeKind::Wfdb) ? "yes" : "no",
              e2e::readerAvailable(e2e::ProbeKind::Video) ? "yes" : "no");
#ifdef E2E_HAVE_SYNTH
  std::printf("Synthetic cohort generator: yes\n");
#else
  std::printf("Synthetic cohort generator: no\n");
#endif
  std::printf("Database schema version (this program): %d\n", e2e::db::Database::kLatestVersion);
  const std::string path = dbPathFrom(a);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::printf("Database: %s (does not exist yet)\n", path.c_str());
    return kOk;
  }
  // Read the version without migrating anything.
  sqlite3* db = nullptr;
  int version = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  if (version < 0) {
    std::printf("Database: %s (not readable as SQLite)\n", path.c_str());
    return kRuntimeError;
  }
  std::printf("Database: %s, schema version %d%s\n", path.c_str(), version,
              version > e2e::db::Database::kLatestVersion ? " (NEWER than this program: refused)"
              : version < e2e::db::Database::kLatestVersion ? " (will be migrated when opened)" : "");
  if (version == e2e::db::Database::kLatestVersion) {
    e2e::db::Database d(path, e2e::db::Database::Mode::ReadOnly);
    const auto c = d.counts();
    std::printf("Contents: %lld patients, %lld studies, %lld series, %lld instances (%lld ECG, %lld echo)\n",
                static_cast<long long>(c.patients), static_cast<long long>(c.studies),
                static_cast<long long>(c.series), static_cast<long long>(c.instances),
                static_cast<long long>(c.ecgRecords), static_cast<long long>(c.echoLoops));
  }
  return kOk;
}

}  // namespace

E2E_REGISTER_COMMAND("info", "version, build and database schema version", runInfo);
