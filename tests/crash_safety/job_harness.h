// Helpers for the hardening tests (issue 22: crash safety, concurrency, privacy) that drive the
// real `echo2ecg` binary (E2E_CLI_PATH) as child processes: start a job with its stdout/stderr in
// files, watch its JSON-lines progress, SIGKILL it at a chosen point, and read the database
// directly (SQLite, read-only) to compare states and find partial rows. Qt-free, POSIX.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli_util.h"
#include "test_util.h"

namespace e2e::test {

namespace fs = std::filesystem;

// The binary under test: E2E_CLI_PATH (this build's), or $E2E_TEST_CLI when set (e.g. to run these
// tests against another build's echo2ecg).
inline std::string cliPath() {
  const char* env = std::getenv("E2E_TEST_CLI");
  return env && *env ? env : E2E_CLI_PATH;
}

// Runs `echo2ecg ARGS` (a shell command line); stdout captured, stderr too when `withStderr`.
inline CliResult cli(const std::string& args, bool withStderr = false) {
  CliResult r;
  const std::string cmd = cliPath() + " " + args + (withStderr ? " 2>&1" : " 2>/dev/null");
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Whether the binary has the model jobs (embed, train, predict: built with libtorch).
inline bool hasModelJobs() { return cli("train --help").rc == 0; }

// A running `echo2ecg ARGS` with stdout -> outFile and stderr -> errFile.
struct Job {
  pid_t pid = -1;
  std::string outFile, errFile;
};

inline Job startJob(const std::vector<std::string>& args, const fs::path& outFile, const fs::path& errFile) {
  Job j;
  j.outFile = outFile.string();
  j.errFile = errFile.string();
  std::vector<std::string> argv = {cliPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  j.pid = ::fork();
  if (j.pid == 0) {
    const int o = ::open(j.outFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int e = ::open(j.errFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0) ::_exit(126);
    ::dup2(o, STDOUT_FILENO);
    ::dup2(e, STDERR_FILENO);
    std::vector<char*> av;
    for (auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    ::execv(av[0], av.data());
    ::_exit(127);
  }
  return j;
}

// Exit status of a finished job: its exit code, or 128 + signal.
inline int waitJob(Job& j) {
  int st = 0;
  if (j.pid <= 0 || ::waitpid(j.pid, &st, 0) != j.pid) return -1;
  j.pid = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// Whether the job has exited (then `rc` is its status); non-blocking.
inline bool jobExited(Job& j, int& rc) {
  int st = 0;
  if (::waitpid(j.pid, &st, WNOHANG) != j.pid) return false;
  j.pid = -1;
  rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return true;
}

// How a job watched by killWhen ended.
struct KillOutcome {
  bool killed = false;  // SIGKILLed by us (false: it finished before the kill point)
  int rc = -1;          // exit status (137 when killed)
  std::string out;      // stdout up to then
};

// Runs `echo2ecg ARGS` and sends SIGKILL as soon as `when(stdoutSoFar)` is true (polled every
// 5 ms); when the job ends first it is left alone.
inline KillOutcome killWhen(const std::vector<std::string>& args, const fs::path& dir, const std::string& tag,
                            const std::function<bool(const std::string&)>& when) {
  Job j = startJob(args, dir / (tag + ".out"), dir / (tag + ".err"));
  KillOutcome k;
  for (;;) {
    if (jobExited(j, k.rc)) break;
    if (when(readFile(j.outFile))) {
      ::kill(j.pid, SIGKILL);
      k.rc = waitJob(j);
      k.killed = k.rc == 128 + SIGKILL;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  k.out = readFile(dir / (tag + ".out"));
  return k;
}

// The same, killed `delay` after the start (unless it ends first).
inline KillOutcome killAfter(const std::vector<std::string>& args, const fs::path& dir, const std::string& tag,
                             std::chrono::milliseconds delay) {
  const auto t0 = std::chrono::steady_clock::now();
  return killWhen(args, dir, tag, [&](const std::string&) { return std::chrono::steady_clock::now() - t0 >= delay; });
}

// Number of stdout lines whose "event" is `event` (JSON-lines progress).
inline int countEvents(const std::string& out, const std::string& event) {
  int n = 0;
  for (const auto& l : nonEmptyLines(out))
    if (jsonField(l, "event") == event) ++n;
  return n;
}

// ------------------------------------------------------------- database ----

// A read-only SQLite connection for inspecting a database the CLI wrote.
class DbReader {
 public:
  explicit DbReader(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &h_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(h_);
      h_ = nullptr;
    } else {
      sqlite3_busy_timeout(h_, 10000);
    }
  }
  ~DbReader() { sqlite3_close(h_); }
  DbReader(const DbReader&) = delete;
  DbReader& operator=(const DbReader&) = delete;
  bool ok() const { return h_ != nullptr; }

  // Every row of `sql` as text cells joined by '|' ({"ERROR: ..."} when it fails).
  std::vector<std::string> rows(const std::string& sql) {
    std::vector<std::string> out;
    sqlite3_stmt* st = nullptr;
    if (!h_ || sqlite3_prepare_v2(h_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK)
      return {std::string("ERROR: ") + (h_ ? sqlite3_errmsg(h_) : "not open")};
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      std::string r;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* t = sqlite3_column_text(st, c);
        r += (c ? "|" : "") + std::string(t ? reinterpret_cast<const char*>(t) : "");
      }
      out.push_back(r);
    }
    if (rc != SQLITE_DONE) out = {std::string("ERROR: ") + sqlite3_errmsg(h_)};
    sqlite3_finalize(st);
    return out;
  }
  long long count(const std::string& sql) {
    auto r = rows(sql);
    return r.size() == 1 && r[0].rfind("ERROR", 0) != 0 ? std::stoll(r[0]) : -1;
  }

 private:
  sqlite3* h_ = nullptr;
};

// What an import / embed / train leaves in the database, comparable between runs.
struct DbState {
  std::vector<std::string> instances;  // "sop uid|sha256|format", sorted
  std::map<std::string, long long> counts;  // rows per table
  std::vector<std::string> embeddingKeys;   // "object|model|hash|preproc|dim", sorted (object: sop or study uid)
  std::vector<std::string> models;          // "model_id|version|weights_hash|active", sorted
};

inline DbState readState(const std::string& dbPath) {
  DbReader r(dbPath);
  DbState s;
  s.instances = r.rows("SELECT sop_instance_uid || '|' || sha256 || '|' || format FROM instances ORDER BY 1");
  for (const char* t : {"patients", "studies", "series", "instances", "ecg_records", "echo_loops", "us_regions",
                        "labels", "embeddings", "predictions", "models"})
    s.counts[t] = r.count(std::string("SELECT count(*) FROM ") + t);
  s.embeddingKeys = r.rows(
      "SELECT coalesce(i.sop_instance_uid, s.study_uid) || '|' || e.model_id || '|' || e.weights_hash || '|' || "
      "e.preproc_version || '|' || e.dim FROM embeddings e LEFT JOIN instances i ON i.id = e.instance_id "
      "LEFT JOIN studies s ON s.id = e.study_id ORDER BY 1");
  s.models = r.rows("SELECT model_id || '|' || version || '|' || weights_hash || '|' || active FROM models ORDER BY 1");
  return s;
}

// Partial rows a crash could leave: every problem as a line ("" = none). Foreign keys (instance
// without series etc.) are `db check`'s part; these are the rows that are valid alone but only half
// of an object: a patient without a study, a study without a series, a series without an instance,
// an instance without its ECG or echo row, an echo loop's embedding without the model version
// its key names (for registered model ids).
inline std::vector<std::string> partialRows(const std::string& dbPath) {
  DbReader r(dbPath);
  std::vector<std::string> out;
  auto expectNone = [&](const std::string& what, const std::string& sql) {
    for (const auto& row : r.rows(sql)) out.push_back(what + ": " + row);
  };
  expectNone("patient without study", "SELECT id FROM patients WHERE id NOT IN (SELECT patient_id FROM studies)");
  expectNone("study without series", "SELECT id FROM studies WHERE id NOT IN (SELECT study_id FROM series)");
  expectNone("series without instance", "SELECT id FROM series WHERE id NOT IN (SELECT series_id FROM instances)");
  expectNone("instance without ECG or echo row",
             "SELECT id FROM instances WHERE id NOT IN (SELECT instance_id FROM ecg_records) "
             "AND id NOT IN (SELECT instance_id FROM echo_loops)");
  expectNone("embedding of a missing object",
             "SELECT id FROM embeddings WHERE (instance_id IS NOT NULL AND instance_id NOT IN (SELECT id FROM instances)) "
             "OR (study_id IS NOT NULL AND study_id NOT IN (SELECT id FROM studies))");
  // "ID:VERSION/part" keys of a model id the registry knows need that registered version.
  expectNone("embedding without its model version",
             "SELECT DISTINCT e.model_id FROM embeddings e WHERE instr(e.model_id, ':') > 0 AND "
             "substr(e.model_id, 1, instr(e.model_id, ':') - 1) IN (SELECT model_id FROM models) AND NOT EXISTS "
             "(SELECT 1 FROM models m WHERE e.model_id LIKE m.model_id || ':' || m.version || '/%')");
  expectNone("prediction without instance",
             "SELECT id FROM predictions WHERE instance_id NOT IN (SELECT id FROM instances)");
  return out;
}

// `echo2ecg db check` passes (integrity check and foreign keys).
inline CliResult dbCheck(const std::string& dbPath) {
  return cli("db check --db " + shellQuote(dbPath), true);
}

// Removes a database file with its -wal and -shm files.
inline void removeDb(const std::string& dbPath) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(dbPath + suffix, ec);
}

// Files under `dir` (recursively) whose name marks an unfinished write (*.tmp, *.staging, *.part).
inline std::vector<std::string> leftoverTempFiles(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string n = it->path().filename().string();
    for (const char* suffix : {".tmp", ".staging", ".part"})
      if (n.size() >= std::string(suffix).size() && n.compare(n.size() - std::string(suffix).size(), std::string::npos, suffix) == 0)
        out.push_back(it->path().string());
  }
  return out;
}

// A folder of real files for the import jobs: the first `ludbRecords` LUDB records (.hea + .dat),
// the DICOM ECGs and a few DICOM echo loops (copies, so the tests may modify them).
inline void copyRealFiles(const fs::path& dst, int ludbRecords) {
  const fs::path data = dataDir();
  fs::create_directories(dst / "ludb");
  for (int i = 1; i <= ludbRecords; ++i)
    for (const char* ext : {".hea", ".dat"})
      fs::copy_file(data / "ecg_wfdb/ludb/data" / (std::to_string(i) + ext), dst / "ludb" / (std::to_string(i) + ext));
  fs::create_directories(dst / "dicom_ecg");
  int n = 0;
  for (const char* f : {"ecg_dicom/pydicom_debian/waveform_ecg.dcm", "ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm",
                        "ecg_dicom/marcodebe_dicom-ecg-plot/anonymous_ecg.dcm"})
    fs::copy_file(data / f, dst / "dicom_ecg" / (std::to_string(n++) + ".dcm"));
  fs::create_directories(dst / "us");
  for (const char* f : {"us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm", "us_dicom/octave-dicom_debian/US-PAL-8-10x-echo.dcm",
                        "us_dicom/pydicom-data/US1_UNCR.dcm", "us_dicom/pydicom-data/OBXXXX1A_2frame.dcm"})
    fs::copy_file(data / f, dst / "us" / (std::to_string(n++) + ".dcm"));
}

// A synthetic paired cohort (`patients` patients, 8 frames of 32 px) generated into dir/cohort and
// imported into dbPath; "" when that worked, else what failed.
inline std::string makeCohortDb(const fs::path& dir, const std::string& dbPath, int patients) {
  const std::string cohort = (dir / "cohort").string();
  auto g = cli("generate --out " + shellQuote(cohort) + " --patients " + std::to_string(patients) +
                  " --seed 7 --frames 8 --size 32", true);
  if (g.rc != 0) return "generate: " + g.out;
  auto i = cli("import " + shellQuote(cohort) + " --db " + shellQuote(dbPath) + " --quiet", true);
  return i.rc == 0 ? "" : "import: " + i.out;
}

// A tiny encoder bundle (1 ViT block, 32 px clips, 0 epochs) at dir/bundle, trained on a copy of the
// cohort database `cohortDb` (so that no model version is registered in it); "" when that worked.
inline std::string makeTinyBundle(const fs::path& dir, const std::string& cohortDb) {
  const std::string scratch = (dir / "bundle_scratch.db").string();
  auto c = cli("db backup " + shellQuote(scratch) + " --db " + shellQuote(cohortDb), true);
  if (c.rc != 0) return "db backup: " + c.out;
  auto b = cli("train --db " + shellQuote(scratch) + " --task pretrain --run-dir " + shellQuote((dir / "bundle").string()) +
                      " --epochs 0 --ecg-depth 1 --video-size 32 --seed 5", true);
  fs::remove(scratch);
  return b.rc == 0 ? "" : "train: " + b.out;
}

}  // namespace e2e::test
