// A small synthetic paired cohort generated and imported into a fresh study database, for test
// suites that drive the model jobs (SetUpTestSuite). Needs e2e_synth, e2e_importer and e2e_db.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "synth/cohort.h"

namespace e2e::test {

struct CohortDb {
  std::filesystem::path dir;  // the suite's own temporary directory (remove it in TearDownTestSuite)
  std::string dbPath;         // dir/t.db, the cohort (dir/cohort) imported
};

// The test suites' cohorts: `patients` patients drawn from `seed`, four echo views of `frames`
// frames at 64 px, 10 s ECGs unless `ecgSeconds` is given, generated and imported with 2 threads.
inline synth::CohortOptions smallCohort(int patients, std::uint64_t seed, int frames, double ecgSeconds = 10.0) {
  synth::CohortOptions co;
  co.patients = patients;
  co.seed = seed;
  co.echoFrames = frames;
  co.echoSize = 64;
  co.ecgSeconds = ecgSeconds;
  co.threads = 2;
  return co;
}

// Generates the cohort `co` into dir/cohort (its outDir is set here) and imports it into the study
// database dbPath with co.threads parser threads. Throws std::runtime_error (with the importer's
// summary) when the import reports errors, so a broken fixture fails the suite instead of testing
// an empty database.
inline synth::CohortResult generateAndImport(const std::filesystem::path& dir, const std::string& dbPath,
                                             synth::CohortOptions co) {
  co.outDir = (dir / "cohort").string();
  auto res = synth::generateCohort(co);
  db::Database db(dbPath);
  importer::ImportOptions io;
  io.paths = {co.outDir};
  io.threads = co.threads;
  auto rep = importer::runImport(db, io);
  if (!rep.ok()) throw std::runtime_error("importing the synthetic test cohort failed: " + importer::summary(rep));
  return res;
}

// The same into a new empty directory `<tmp>/<prefix>_<pid>` and its database dir/t.db.
inline CohortDb makeCohortDb(const std::string& prefix, const synth::CohortOptions& co) {
  namespace fs = std::filesystem;
  CohortDb c;
  c.dir = fs::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()));
  fs::remove_all(c.dir);
  fs::create_directories(c.dir);
  c.dbPath = (c.dir / "t.db").string();
  generateAndImport(c.dir, c.dbPath, co);
  return c;
}

}  // namespace e2e::test
