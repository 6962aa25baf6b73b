// echo2ecg info: version, build, database schema.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "commands.h"
#include "model/blas_core.h"
#include "db/database.h"
#include "pipeline/embedding_model.h"
#ifdef E2E_CLI_WITH_TORCH
#include "torch_info.h"
#endif

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
  std::printf("SQLite: %s\n", e2e::db::Database::sqliteVersion());
  std::printf("Readers: DICOM-ECG yes, DICOM-US yes, WFDB yes, video yes\n");
  std::printf("Synthetic cohort generator: yes\n");
  {
    // The bundled models as the model commands find them without --model ($E2E_MODELS_DIR, next to the
    // program: <prefix>/share/echo2ecg/models when installed, the source tree's models/ in a build).
    const std::string models = e2e::pipeline::findModelsDir();
    std::printf("Bundled models: %s\n", models.empty() ? "none found (set E2E_MODELS_DIR)" : models.c_str());
  }
#ifdef E2E_CLI_WITH_TORCH
  {
    // What embed / predict / retrieve run in without --precision, and why.
    const auto t = e2e::cli::torchInfo();
    std::printf("Inference precision (default, --precision auto): %s (%s)\n", t.defaultPrecision.c_str(),
                t.precisionReason.c_str());
    std::printf("CPU flags: %s; CUDA: %s\n", t.cpuFlags.c_str(), t.cudaUsable ? "usable" : "not usable");
    // OpenBLAS's kernels (model/blas_core.h): set by echo2ecg when OpenBLAS fell back to Prescott.
    const std::string core = e2e::model::runningOpenBlasCore();
    const char* chosen = std::getenv("E2E_BLAS_REEXEC");
    const char* env = std::getenv("OPENBLAS_CORETYPE");
    std::printf("BLAS: %s%s\n", core.empty() ? "not OpenBLAS" : ("OpenBLAS, " + core + " kernels").c_str(),
                chosen ? (std::string(" (set by echo2ecg: OpenBLAS chose ") + chosen + " on this CPU)").c_str()
                : env  ? " (OPENBLAS_CORETYPE from the environment)"
                       : "");
  }
#endif
  std::printf("Database schema version (this program): %d\n", e2e::db::Database::kLatestVersion);
  const std::string path = dbPathFrom(a);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::printf("Database: %s (does not exist yet)\n", path.c_str());
    return kOk;
  }
  // Read the version without migrating anything.
  const int version = e2e::db::Database::peekSchemaVersion(path);
  if (version < 0) {  // unreadable, or a negative user_version: the read-only open says which
    std::string why = "not readable as SQLite";
    try {
      e2e::db::Database probe(path, e2e::db::Database::Mode::ReadOnly);
    } catch (const std::exception& e) {
      why = e.what();
    }
    std::printf("Database: %s (%s)\n", path.c_str(), why.c_str());
    return kRuntimeError;
  }
  const auto access = e2e::db::Database::writeAccess(path);
  const std::string older = access.writable ? " (will be migrated when opened)"
                                            : " (older, and read-only: cannot be migrated here)";
  std::printf("Database: %s, schema version %d%s\n", path.c_str(), version,
              version > e2e::db::Database::kLatestVersion ? " (NEWER than this program: refused)"
              : version < e2e::db::Database::kLatestVersion ? older.c_str() : "");
  if (!access.writable) std::printf("Access: read-only (%s)\n", access.reason.c_str());
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
