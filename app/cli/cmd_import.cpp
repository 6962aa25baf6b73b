// echo2ecg import DIR... --db FILE [--threads N]
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "jobs/import/importer.h"

namespace {

e2e::job::CancelToken* gCancel = nullptr;
extern "C" void onSigint(int) {
  if (gCancel) gCancel->cancel();  // an atomic store: async-signal-safe
}

void printIssues(const char* what, const std::vector<e2e::importer::ImportIssue>& v, std::size_t max) {
  if (v.empty()) return;
  std::printf("%s (%zu):\n", what, v.size());
  for (std::size_t i = 0; i < v.size() && i < max; ++i)
    std::printf("  %s: %s%s%s\n", v[i].path.c_str(), v[i].message.c_str(), v[i].uid.empty() ? "" : " [UID ",
                v[i].uid.empty() ? "" : (v[i].uid + "]").c_str());
  if (v.size() > max) std::printf("  ... and %zu more (use --verbose)\n", v.size() - max);
}

int runImport(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "threads", "batch"}, {"verbose", "quiet"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg import PATH... [--db FILE] [--threads N] [--batch N] [--verbose] [--quiet]\n"
        "Imports DICOM ECG/waveform and ultrasound files, WFDB records (.hea with their .dat/.mat)\n"
        "and echo videos found in the given files and folders (recursively).\n"
        "Re-importing a file already stored is a no-op (skipped); a file whose SOP Instance UID is\n"
        "stored with different content is reported as a conflict and nothing is overwritten.\n"
        "Unsupported or unreadable files are reported and never stop the import.\n"
        "  --db FILE     database (default: $E2E_DB or ~/.local/share/echo2ecg/studies.db)\n"
        "  --threads N   parser threads (default: all cores)\n"
        "  --batch N     files per write transaction (default 32)\n"
        "  --verbose     list every unsupported file, conflict, error and warning\n"
        "  --quiet       print only the summary line\n"
        "Exit codes: 0 ok (unsupported files are not an error), 1 runtime error, 2 usage error,\n"
        "3 finished with conflicts or unreadable files, 130 interrupted (work done so far is kept).\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("import", a.error);
  if (a.positional.empty()) return usageError("import", "no file or folder to import");
  e2e::importer::ImportOptions opts;
  opts.paths = a.positional;
  long long n = 0;
  if (a.has("threads")) {
    if (!parseInt(a.get("threads"), 1, 256, n)) return usageError("import", "--threads needs an integer 1..256");
    opts.threads = static_cast<int>(n);
  }
  if (a.has("batch")) {
    if (!parseInt(a.get("batch"), 1, 100000, n)) return usageError("import", "--batch needs an integer >= 1");
    opts.batchSize = static_cast<int>(n);
  }
  const bool verbose = a.has("verbose"), quiet = a.has("quiet");

  e2e::db::Database db(dbPathFrom(a));
  e2e::job::CancelToken cancel;
  gCancel = &cancel;
  std::signal(SIGINT, onSigint);
  std::signal(SIGTERM, onSigint);

  const bool tty = isatty(STDERR_FILENO) && !quiet;
  std::function<void(const e2e::importer::ImportProgress&)> progress;
  if (tty) {
    progress = [](const e2e::importer::ImportProgress& p) {
      const int width = 30;
      const double f = p.scanDone && p.filesFound > 0 ? static_cast<double>(p.filesDone) / p.filesFound : 0.0;
      const int filled = static_cast<int>(f * width);
      std::fprintf(stderr, "\r[%.*s%*s] %lld/%lld%s  added %lld skipped %lld problems %lld  ", filled,
                   "##############################", width - filled, "", static_cast<long long>(p.filesDone),
                   static_cast<long long>(p.filesFound), p.scanDone ? "" : "+",
                   static_cast<long long>(p.added), static_cast<long long>(p.skipped),
                   static_cast<long long>(p.unsupported + p.conflicts + p.errors));
      std::fflush(stderr);
    };
  }
  const auto rep = e2e::importer::runImport(db, opts, cancel, progress);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  gCancel = nullptr;
  if (tty) std::fprintf(stderr, "\n");

  if (!quiet) {
    const std::size_t max = verbose ? static_cast<std::size_t>(-1) : 20;
    printIssues("Conflicts", rep.conflicts, max);
    printIssues("Errors", rep.errors, max);
    printIssues("Unsupported", rep.unsupported, max);
    if (verbose) printIssues("Warnings", rep.warnings, max);
  }
  std::printf("Import %s: %s\n", rep.cancelled ? "interrupted" : "finished", e2e::importer::summary(rep).c_str());
  std::printf("Database: %s\n", db.path().c_str());
  if (rep.cancelled) return kInterrupted;
  return rep.conflicts.empty() && rep.errors.empty() ? kOk : kFinishedWithProblems;
}

}  // namespace

E2E_REGISTER_COMMAND("import", "import files and folders (DICOM ECG/US, WFDB, video) into the database", runImport);
