// Import of files and folder trees into the study database, as a cancellable job:
// a directory walk, N parser threads (probe + read + hash) feeding a bounded queue, and one
// writer thread that stores objects in transactions (each file's rows all-or-nothing).
// Echo loops: metadata only (no pixel decoding); the file path is kept.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "db/database.h"
#include "jobs/job.h"

namespace e2e::importer {

struct ImportOptions {
  std::vector<std::string> paths;   // files and/or folders (walked recursively)
  int threads = 0;                  // parser threads; 0 = hardware concurrency (at least 1)
  std::size_t queueCapacity = 64;   // bounded queue between parsers and the writer
  int batchSize = 32;               // files per write transaction (each file is its own savepoint)
  std::chrono::milliseconds progressInterval{100};
  bool followSymlinks = false;
};

struct ImportIssue {
  std::string path;
  std::string message;
  std::string uid;  // SOP Instance UID where known (conflicts)
};

struct ImportProgress {
  std::int64_t filesFound = 0;  // inputs found so far (WFDB record = one input)
  bool scanDone = false;
  std::int64_t filesDone = 0;   // inputs fully handled
  std::int64_t added = 0, skipped = 0, unsupported = 0, conflicts = 0, errors = 0;
  std::uint64_t bytesRead = 0;
  double elapsedSeconds = 0;
  std::string currentPath;
};

struct ImportReport {
  std::int64_t filesFound = 0;
  std::int64_t added = 0, addedEcg = 0, addedEcho = 0;
  std::int64_t skipped = 0;                 // already present (same SOP Instance UID and content)
  std::vector<ImportIssue> unsupported;     // not something we import (file + reason)
  std::vector<ImportIssue> conflicts;       // same SOP Instance UID, different content (nothing overwritten)
  std::vector<ImportIssue> errors;          // supported but unreadable / failed to store
  std::vector<ImportIssue> warnings;        // non-fatal reader warnings of stored files
  std::uint64_t bytesRead = 0;
  double elapsedSeconds = 0;
  bool cancelled = false;
  std::int64_t companions = 0;              // WFDB signal files counted as part of their record
  std::int64_t labelFiles = 0;              // label tables (CSV with a study_uid or patient_id column)
  std::int64_t labelsStored = 0;            // label values stored from them (upserts)
  bool ok() const { return conflicts.empty() && errors.empty() && !cancelled; }
};

// Label tables: a .csv whose header has a `study_uid` column (study-level labels) or else a
// `patient_id` column (patient-level labels) is read after all images/waveforms of the run;
// every other non-empty column becomes a label (key = column name, source = "csv:<file name>"),
// e.g. the labels.csv of the synthetic cohort (lvef_percent, lvef_class, shd, ...). Rows whose
// study/patient is not in the database are reported as warnings.
//
// Runs the import to the end (or until cancelled) on the calling thread's behalf; `db` is
// used only by the internal writer thread while this runs. Never throws for bad inputs (they
// are reported); throws db::DbError only if the database itself fails (e.g. disk full).
ImportReport runImport(db::Database& db, const ImportOptions& opts, const job::CancelToken& cancel = {},
                       const std::function<void(const ImportProgress&)>& progress = {});

// One-line summary ("added 12, skipped 3, unsupported 2, conflicts 0, errors 1 in 1.2 s").
std::string summary(const ImportReport& r);

}  // namespace e2e::importer
