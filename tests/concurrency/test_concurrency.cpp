// Issue 22.6: several processes on one study database at the same time (the real `echo2ecg`
// binary): two imports into one (new) database, an import while readers list and show (the CLI,
// and an in-process Database as the GUI's browser opens it), and embed while an import runs.
// No "database is locked" (or other) error surfaces, nothing is lost (the final state equals the
// union done one after the other), and the database checks clean. The log prints the operations.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "crash_safety/job_harness.h"
#include "db/database.h"

namespace fs = std::filesystem;
using namespace e2e::test;

namespace {

bool mentionsLocked(const std::string& text) {
  return text.find("locked") != std::string::npos || text.find("busy") != std::string::npos;
}

// The real files split into two folders that overlap: A = LUDB 1-24 + DICOM ECGs, B = LUDB 17-40 +
// echo loops (LUDB 17-24 in both: the same content under two paths).
void splitFiles(const fs::path& all, const fs::path& a, const fs::path& b) {
  fs::create_directories(a / "ludb");
  fs::create_directories(b / "ludb");
  for (int i = 1; i <= 40; ++i)
    for (const char* ext : {".hea", ".dat"}) {
      const std::string n = std::to_string(i) + ext;
      if (i <= 24) fs::copy_file(all / "ludb" / n, a / "ludb" / n);
      if (i >= 17) fs::copy_file(all / "ludb" / n, b / "ludb" / n);
    }
  fs::copy(all / "dicom_ecg", a / "dicom_ecg", fs::copy_options::recursive);
  fs::copy(all / "us", b / "us", fs::copy_options::recursive);
}

class Concurrency : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::string filesA, filesB, unionDb, cohortDb, bundle;
  static inline DbState unionState;
  static inline bool modelJobs = false;  // built with libtorch (embed)

  static void SetUpTestSuite() {
    dir = fs::temp_directory_path() / ("e2e_concurrency_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    copyRealFiles(dir / "all", 40);
    filesA = (dir / "a").string();
    filesB = (dir / "b").string();
    splitFiles(dir / "all", filesA, filesB);
    fs::remove_all(dir / "all");
    // The reference: A then B, one after the other.
    unionDb = (dir / "union.db").string();
    ASSERT_EQ(cli("import " + shellQuote(filesA) + " --db " + shellQuote(unionDb) + " --quiet").rc, 0);
    ASSERT_EQ(cli("import " + shellQuote(filesB) + " --db " + shellQuote(unionDb) + " --quiet").rc, 0);
    unionState = readState(unionDb);
    modelJobs = hasModelJobs();
    if (!modelJobs) return;
    cohortDb = (dir / "cohort.db").string();
    ASSERT_EQ(makeCohortDb(dir, cohortDb, 10), "");
    ASSERT_EQ(makeTinyBundle(dir, cohortDb), "");
    bundle = (dir / "bundle").string();
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }

  static std::vector<std::string> importArgs(const std::string& files, const std::string& db) {
    // One file per write transaction: the most commits, the most chances to collide.
    return {"import", files, "--db", db, "--threads", "1", "--batch", "1"};
  }
  static void expectClean(const std::string& db) {
    auto c = dbCheck(db);
    EXPECT_EQ(c.rc, 0) << c.out;
    auto partial = partialRows(db);
    EXPECT_TRUE(partial.empty()) << partial.front();
  }
};

}  // namespace

TEST_F(Concurrency, TwoImportsIntoOneNewDatabaseLoseNothing) {
  ASSERT_GE(unionState.counts.at("instances"), 45);
  long long lost = 0, lockedErrors = 0;
  const int rounds = 3;
  for (int round = 0; round < rounds; ++round) {
    const std::string db = (dir / ("two_" + std::to_string(round) + ".db")).string();
    // Both start on a database that does not exist yet: both create and migrate it.
    Job a = startJob(importArgs(filesA, db), dir / "a.out", dir / "a.err");
    Job b = startJob(importArgs(filesB, db), dir / "b.out", dir / "b.err");
    const int ra = waitJob(a), rb = waitJob(b);
    const std::string errs = readFile(dir / "a.err") + readFile(dir / "b.err");
    EXPECT_EQ(ra, 0) << errs << readFile(dir / "a.out");
    EXPECT_EQ(rb, 0) << errs << readFile(dir / "b.out");
    EXPECT_FALSE(mentionsLocked(errs + readFile(dir / "a.out") + readFile(dir / "b.out"))) << errs;
    if (mentionsLocked(errs)) ++lockedErrors;
    const DbState s = readState(db);
    EXPECT_EQ(s.instances, unionState.instances) << "round " << round;
    EXPECT_EQ(s.counts, unionState.counts) << "round " << round;
    for (const auto& i : unionState.instances)
      if (!std::binary_search(s.instances.begin(), s.instances.end(), i)) ++lost;
    expectClean(db);
  }
  std::printf("[concurrency] two imports at once: %d rounds x 2 processes, %lld instances expected per round, "
              "%lld lost, %lld 'locked' errors\n",
              rounds, static_cast<long long>(unionState.instances.size()), lost, lockedErrors);
  EXPECT_EQ(lost, 0);
}

TEST_F(Concurrency, ImportWhileReadersListAndShow) {
  const std::string db = (dir / "readers.db").string();
  ASSERT_EQ(cli("import " + shellQuote(filesA) + " --db " + shellQuote(db) + " --quiet").rc, 0);
  Job imp = startJob(importArgs(filesB, db), dir / "imp.out", dir / "imp.err");
  // In-process reader as the GUI's browser opens the database (Mode::Auto), polling for changes.
  std::atomic<bool> stop{false};
  std::atomic<long long> guiReads{0}, guiErrors{0};
  std::string guiError;
  std::thread gui([&] {
    try {
      e2e::db::Database d(db, e2e::db::Database::Mode::Auto);
      while (!stop.load()) {
        d.dataVersion();
        d.contentStamp();
        const auto rows = d.browseRows();
        if (!rows.empty()) d.details(rows.back().instanceRowId);
        d.counts();
        ++guiReads;
      }
    } catch (const std::exception& e) {
      ++guiErrors;
      guiError = e.what();
    }
  });
  long long cliReads = 0, cliFailures = 0, readsDuringImport = 0;
  std::string failure;
  int rc = -1;
  bool exited = false;
  for (;;) {
    if (!exited) exited = jobExited(imp, rc);
    if (exited && cliReads >= 20) break;
    const bool importRunning = !exited;  // these reads start while the import runs
    for (const char* what : {"list instances", "list studies", "list patients"}) {
      auto r = cli(std::string(what) + " --db " + shellQuote(db), true);
      ++cliReads;
      if (r.rc != 0 || mentionsLocked(r.out)) {
        ++cliFailures;
        failure = what + std::string(": ") + r.out;
      }
    }
    auto ids = DbReader(db).rows("SELECT id FROM instances ORDER BY id DESC LIMIT 1");
    if (!ids.empty()) {
      auto r = cli("show " + ids.front() + " --db " + shellQuote(db), true);
      ++cliReads;
      if (r.rc != 0 || mentionsLocked(r.out)) {
        ++cliFailures;
        failure = "show: " + r.out;
      }
    }
    if (importRunning) readsDuringImport = cliReads;
  }
  stop.store(true);
  gui.join();
  const std::string errs = readFile(dir / "imp.err");
  EXPECT_EQ(rc, 0) << errs;
  EXPECT_FALSE(mentionsLocked(errs)) << errs;
  EXPECT_EQ(cliFailures, 0) << failure;
  EXPECT_EQ(guiErrors.load(), 0) << guiError;
  EXPECT_GT(guiReads.load(), 0);
  const DbState s = readState(db);
  EXPECT_EQ(s.instances, unionState.instances);
  EXPECT_EQ(s.counts, unionState.counts);
  expectClean(db);
  std::printf("[concurrency] import while reading: %lld CLI list/show runs (%lld started while the import ran, %lld "
              "failed), %lld in-process browse rounds (%lld failed), %zu instances, %zu expected\n",
              cliReads, readsDuringImport, cliFailures, guiReads.load(), guiErrors.load(), s.instances.size(),
              unionState.instances.size());
}

TEST_F(Concurrency, EmbedWhileImportRuns) {
  if (!modelJobs) GTEST_SKIP() << "echo2ecg built without the model jobs (E2E_BUILD_MODELS=OFF)";
  // The reference: A + B imported, then embedded.
  const std::string ref = (dir / "embed_ref.db").string();
  ASSERT_EQ(cli("db backup " + shellQuote(ref) + " --db " + shellQuote(unionDb)).rc, 0);
  const std::vector<std::string> embedArgs = {"embed", "--model", bundle, "--batch", "2", "--threads", "1"};
  auto embed = [&](const std::string& db, const std::string& tag) {
    auto args = embedArgs;
    args.insert(args.begin() + 1, {"--db", db});
    return startJob(args, dir / (tag + ".out"), dir / (tag + ".err"));
  };
  Job r0 = embed(ref, "embed_ref");
  const int refRc = waitJob(r0);
  ASSERT_TRUE(refRc == 0 || refRc == 3) << readFile(dir / "embed_ref.err");
  const DbState want = readState(ref);

  const std::string db = (dir / "embed_live.db").string();
  ASSERT_EQ(cli("import " + shellQuote(filesA) + " --db " + shellQuote(db) + " --quiet").rc, 0);
  long long operations = 0;
  // The import starts once the embed job has stored its first batch, so that both write at once.
  auto liveArgs = embedArgs;
  liveArgs.insert(liveArgs.begin() + 1, {"--db", db});
  liveArgs.push_back("--json-progress");
  Job emb = startJob(liveArgs, dir / "embed_live.out", dir / "embed_live.err");
  int re = -1;
  bool embedEnded = false;
  while (!(embedEnded = jobExited(emb, re)) && countEvents(readFile(dir / "embed_live.out"), "progress") < 1)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  Job imp = startJob(importArgs(filesB, db), dir / "imp2.out", dir / "imp2.err");
  const int eventsBefore = countEvents(readFile(dir / "embed_live.out"), "progress");
  const int ri = waitJob(imp);
  const int eventsDuring = countEvents(readFile(dir / "embed_live.out"), "progress") - eventsBefore;
  if (!embedEnded) re = waitJob(emb);
  operations += 2;
  EXPECT_FALSE(embedEnded) << "the embed job ended before the import started";
  const std::string errs = readFile(dir / "imp2.err") + readFile(dir / "embed_live.err");
  EXPECT_EQ(ri, 0) << errs;
  EXPECT_TRUE(re == 0 || re == 3) << errs;
  EXPECT_FALSE(mentionsLocked(errs + readFile(dir / "embed_live.out"))) << errs;
  // A second embed stores what the import added after the first one looked.
  Job again = embed(db, "embed_again");
  EXPECT_EQ(waitJob(again), refRc) << readFile(dir / "embed_again.err");
  ++operations;
  const DbState s = readState(db);
  EXPECT_EQ(s.instances, want.instances);
  EXPECT_EQ(s.embeddingKeys, want.embeddingKeys);
  EXPECT_EQ(s.counts, want.counts);
  long long lost = 0;
  for (const auto& k : want.embeddingKeys)
    if (!std::binary_search(s.embeddingKeys.begin(), s.embeddingKeys.end(), k)) ++lost;
  expectClean(db);
  std::printf("[concurrency] embed while importing: %lld jobs, %d embed batches stored while the import ran, %zu "
              "instances and %zu embeddings at the end, %lld embeddings lost\n",
              operations, eventsDuring, s.instances.size(), s.embeddingKeys.size(), lost);
}
