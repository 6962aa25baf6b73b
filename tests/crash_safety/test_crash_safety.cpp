// Issue 22.5: import, embed and train killed with SIGKILL at many points (the real `echo2ecg`
// binary). After every kill the database passes `db check`, holds no partial rows, and re-running
// the job (train: --resume from its last complete checkpoint) ends in the state of an uninterrupted
// run. Kill points: fractions of the uninterrupted run's duration, a number of rows committed, and
// the k-th JSON progress event; the log prints every kill point and its outcome.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "crash_safety/job_harness.h"

namespace fs = std::filesystem;
using namespace e2e::test;

namespace {

struct Tally {
  int points = 0, killed = 0, finishedFirst = 0, checkOk = 0, noPartial = 0, sameAfterRerun = 0;
  void print(const char* job) const {
    std::printf("[crash-safety] %s: %d kill points, %d killed mid-run, %d finished before the kill; db check ok %d/%d, "
                "no partial rows %d/%d, re-run equals uninterrupted run %d/%d\n",
                job, points, killed, finishedFirst, checkOk, points, noPartial, points, sameAfterRerun, points);
  }
};

class CrashSafety : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::string files, baseDb, cohortDb, bundle;
  static inline DbState importBase;
  static inline int importRc = -1;
  static inline bool modelJobs = false;  // built with libtorch (embed, train)
  static inline std::chrono::milliseconds importDuration{0};

  static void SetUpTestSuite() {
    dir = fs::temp_directory_path() / ("e2e_crash_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    files = (dir / "files").string();
    copyRealFiles(files, 40);
    baseDb = (dir / "base.db").string();
    const auto t0 = std::chrono::steady_clock::now();
    importRc = cli("import " + shellQuote(files) + " --db " + shellQuote(baseDb) + " --quiet").rc;
    importDuration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    importBase = readState(baseDb);
    // A small synthetic paired cohort for training, and a tiny encoder bundle for embedding.
    modelJobs = hasModelJobs();
    if (!modelJobs) return;
    cohortDb = (dir / "cohort.db").string();
    const std::string c = makeCohortDb(dir, cohortDb, 10);
    ASSERT_EQ(c, "");
    const std::string b = makeTinyBundle(dir, cohortDb);
    ASSERT_EQ(b, "");
    bundle = (dir / "bundle").string();
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }

  // A fresh copy of database `src` at dir/NAME.db.
  static std::string copyDb(const std::string& src, const std::string& name) {
    const std::string out = (dir / (name + ".db")).string();
    removeDb(out);
    auto r = cli("db backup " + shellQuote(out) + " --db " + shellQuote(src), true);
    EXPECT_EQ(r.rc, 0) << r.out;
    return out;
  }

  // After a kill: the database (if one was created) checks clean and holds no partial rows.
  static void checkAfterKill(const std::string& db, const std::string& point, Tally& t) {
    if (!fs::exists(db)) {  // killed before the database file was created: nothing to check
      ++t.checkOk;
      ++t.noPartial;
      return;
    }
    auto c = dbCheck(db);
    EXPECT_EQ(c.rc, 0) << point << ": " << c.out;
    if (c.rc == 0) ++t.checkOk;
    auto partial = partialRows(db);
    EXPECT_TRUE(partial.empty()) << point << ": " << partial.front();
    if (partial.empty()) ++t.noPartial;
  }
};

std::vector<std::string> importArgs(const std::string& files, const std::string& db, int batch) {
  return {"import", files, "--db", db, "--quiet", "--threads", "2", "--batch", std::to_string(batch)};
}

}  // namespace

TEST_F(CrashSafety, ImportKilledAtAnyPointLosesNothingAndRerunCompletes) {
  ASSERT_TRUE(importRc == 0 || importRc == 3) << importRc;
  ASSERT_GE(importBase.counts["instances"], 45);  // 40 LUDB records, DICOM ECGs and echo loops
  Tally t;
  struct Point {
    std::string name;
    std::function<KillOutcome(const std::string& db, const std::string& tag)> run;
  };
  std::vector<Point> points;
  // (a) fractions of the uninterrupted import's duration (default batches of 32 files)
  for (int i = 0; i < 10; ++i) {
    const auto delay = std::chrono::milliseconds(importDuration.count() * i / 10);
    points.push_back({"after " + std::to_string(delay.count()) + " ms", [delay](const std::string& db, const std::string& tag) {
                        return killAfter(importArgs(files, db, 32), dir, tag, delay);
                      }});
  }
  // (b) as soon as K instances are committed (batches of 3 files: many commit points)
  for (long long k : {1LL, 7LL, 16LL, 25LL, 34LL, 43LL}) {
    points.push_back({"after " + std::to_string(k) + " instances", [k](const std::string& db, const std::string& tag) {
                        return killWhen(importArgs(files, db, 3), dir, tag, [&](const std::string&) {
                          if (!fs::exists(db)) return false;
                          DbReader r(db);
                          return r.count("SELECT count(*) FROM instances") >= k;
                        });
                      }});
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string db = (dir / ("import_" + std::to_string(i) + ".db")).string();
    const auto k = points[i].run(db, "import_" + std::to_string(i));
    ++t.points;
    ++(k.killed ? t.killed : t.finishedFirst);
    const long long atKill = fs::exists(db) ? DbReader(db).count("SELECT count(*) FROM instances") : 0;
    std::printf("[crash-safety] import kill point %-22s %s, %lld instances stored\n", points[i].name.c_str(),
                k.killed ? "killed" : "finished first", atKill);
    checkAfterKill(db, "import " + points[i].name, t);
    auto again = cli("import " + shellQuote(files) + " --db " + shellQuote(db) + " --quiet", true);
    EXPECT_EQ(again.rc, importRc) << points[i].name << ": " << again.out;
    const DbState s = readState(db);
    EXPECT_EQ(s.instances, importBase.instances) << points[i].name;
    EXPECT_EQ(s.counts, importBase.counts) << points[i].name;
    if (s.instances == importBase.instances && s.counts == importBase.counts) ++t.sameAfterRerun;
    removeDb(db);
  }
  t.print("import");
  EXPECT_GE(t.killed, 8);
}

TEST_F(CrashSafety, EmbedKilledAtAnyPointLosesNothingAndRerunCompletes) {
  if (!modelJobs) GTEST_SKIP() << "echo2ecg built without the model jobs (E2E_BUILD_MODELS=OFF)";
  const std::string base = copyDb(baseDb, "embed_base");
  const std::vector<std::string> args0 = {"embed", "--db", base, "--model", bundle, "--batch", "4", "--threads", "1",
                                          "--json-progress"};
  Job j = startJob(args0, dir / "embed_base.out", dir / "embed_base.err");
  const int rc0 = waitJob(j);
  ASSERT_TRUE(rc0 == 0 || rc0 == 3) << readFile(dir / "embed_base.err");
  const DbState want = readState(base);
  const int events = countEvents(readFile(dir / "embed_base.out"), "progress");
  ASSERT_GE(want.counts.at("embeddings"), 40);
  ASSERT_GE(events, 6);
  Tally t;
  std::vector<int> killAt = {0};  // 0: as soon as it runs (model loading)
  for (int i = 1; i <= 8; ++i) killAt.push_back(std::max(1, events * i / 9));
  killAt.push_back(events - 1);  // the echo stage (views, then study vectors)
  killAt.push_back(events);      // after the last batch: the end report
  for (std::size_t i = 0; i < killAt.size(); ++i) {
    const std::string db = copyDb(baseDb, "embed_" + std::to_string(i));
    auto args = args0;
    args[2] = db;
    const int n = killAt[i];
    const auto k = killWhen(args, dir, "embed_" + std::to_string(i),
                            [n](const std::string& out) { return countEvents(out, "progress") >= n; });
    ++t.points;
    ++(k.killed ? t.killed : t.finishedFirst);
    const long long atKill = DbReader(db).count("SELECT count(*) FROM embeddings");
    std::printf("[crash-safety] embed kill point after %2d progress events: %s, %lld embeddings stored\n", n,
                k.killed ? "killed" : "finished first", atKill);
    checkAfterKill(db, "embed after " + std::to_string(n) + " events", t);
    Job again = startJob(args, dir / "embed_again.out", dir / "embed_again.err");
    EXPECT_EQ(waitJob(again), rc0) << readFile(dir / "embed_again.err");
    const DbState s = readState(db);
    EXPECT_EQ(s.embeddingKeys, want.embeddingKeys) << "embed after " << n << " events";
    EXPECT_EQ(s.counts, want.counts);
    if (s.embeddingKeys == want.embeddingKeys && s.counts == want.counts) ++t.sameAfterRerun;
    removeDb(db);
  }
  t.print("embed");
  EXPECT_GE(t.killed, 6);
}

TEST_F(CrashSafety, TrainKilledAtAnyPointResumesToTheSameWeights) {
  if (!modelJobs) GTEST_SKIP() << "echo2ecg built without the model jobs (E2E_BUILD_MODELS=OFF)";
  auto trainArgs = [](const std::string& db, const std::string& run) {
    return std::vector<std::string>{"train", "--db", db, "--task", "pretrain", "--run-dir", run, "--epochs", "3",
                                    "--ecg-depth", "1", "--video-size", "32", "--seed", "5", "--batch-size", "4",
                                    "--json-progress"};
  };
  const std::string db0 = copyDb(cohortDb, "train_base");
  const std::string run0 = (dir / "run_base").string();
  Job j = startJob(trainArgs(db0, run0), dir / "train_base.out", dir / "train_base.err");
  ASSERT_EQ(waitJob(j), 0) << readFile(dir / "train_base.err");
  const std::string out0 = readFile(dir / "train_base.out");
  std::string hash0;
  for (const auto& l : nonEmptyLines(out0))
    if (jsonField(l, "event") == "done") hash0 = jsonField(l, "weights_hash");
  ASSERT_EQ(hash0.size(), 64u) << out0;
  const DbState want = readState(db0);
  const int steps = countEvents(out0, "step"), checkpoints = countEvents(out0, "checkpoint");
  ASSERT_EQ(checkpoints, 3);
  ASSERT_GE(steps, 3);
  EXPECT_TRUE(leftoverTempFiles(run0).empty());

  // Kill points: after the n-th step event, after each checkpoint event, and after "done".
  struct Point {
    std::string name, event;
    int n;
  };
  std::vector<Point> points = {{"at start", "start", 0}};
  for (int i = 1; i <= 3; ++i) points.push_back({"step " + std::to_string(steps * i / 4 + 1), "step", steps * i / 4 + 1});
  for (int c = 1; c <= checkpoints; ++c) points.push_back({"checkpoint " + std::to_string(c), "checkpoint", c});
  points.push_back({"done", "done", 1});
  Tally t;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const std::string db = copyDb(cohortDb, "train_" + std::to_string(i));
    const std::string run = (dir / ("run_" + std::to_string(i))).string();
    const auto k = killWhen(trainArgs(db, run), dir, "train_" + std::to_string(i),
                            [&p](const std::string& out) { return countEvents(out, p.event) >= p.n; });
    ++t.points;
    ++(k.killed ? t.killed : t.finishedFirst);
    const bool ckpt = fs::exists(fs::path(run) / "last.ckpt");
    std::printf("[crash-safety] train kill point %-14s %s, last.ckpt %s, %lld model rows\n", p.name.c_str(),
                k.killed ? "killed" : "finished first", ckpt ? "present" : "absent",
                DbReader(db).count("SELECT count(*) FROM models"));
    checkAfterKill(db, "train " + p.name, t);
    // Re-run: resume from the last complete checkpoint (a fresh start when there is none).
    auto args = trainArgs(db, run);
    if (ckpt) args.push_back("--resume");
    Job again = startJob(args, dir / "train_again.out", dir / "train_again.err");
    const int rc = waitJob(again);
    const std::string out = readFile(dir / "train_again.out");
    EXPECT_EQ(rc, 0) << p.name << ": " << readFile(dir / "train_again.err");
    std::string hash;
    for (const auto& l : nonEmptyLines(out))
      if (jsonField(l, "event") == "done") hash = jsonField(l, "weights_hash");
    // A run killed after it registered its version has nothing left to do: the registry holds it.
    const DbState s = readState(db);
    if (hash.empty() && !s.models.empty()) hash = s.models.front().substr(s.models.front().find('|', s.models.front().find('|') + 1) + 1, 64);
    EXPECT_EQ(hash, hash0) << p.name << ": " << out;
    EXPECT_EQ(s.models, want.models) << p.name;
    EXPECT_TRUE(leftoverTempFiles(run).empty()) << p.name << ": " << leftoverTempFiles(run).front();
    if (hash == hash0 && s.models == want.models) ++t.sameAfterRerun;
    fs::remove_all(run);
    removeDb(db);
  }
  t.print("train");
  EXPECT_GE(t.killed, 6);
}
