// Model registry x embeddings (issue 5): the embedding-model resolver, `embed` / `retrieve` with the
// ACTIVE registered echo2ecg-pretrain version, never mixing in stale embeddings of another version,
// `models activate --embed`, and the weights-hash check. A small synthetic cohort and tiny freshly
// initialised encoders (`train --task pretrain --epochs 0 --ecg-depth 1 --video-size 32`) keep each
// test at a few seconds.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "pipeline/embedding_model.h"
#include "synth/cohort.h"
#include "cli_util.h"
#include "cohort_fixture.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

constexpr int kPatients = 8;

using Out = test::CliResult;
// The CLI with stdout and stderr captured together.
Out cli(const std::string& args) { return test::runCli(args, true); }
// stdout only (the JSON of --json).
Out cliStdout(const std::string& args) { return test::runCli(args); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every value of "key": in a JSON text (strings without quotes, numbers as written).
std::vector<std::string> values(const std::string& j, const std::string& key) {
  std::vector<std::string> out;
  const std::string k = "\"" + key + "\":";
  for (std::size_t p = j.find(k); p != std::string::npos; p = j.find(k, p + 1)) {
    std::size_t v = p + k.size();
    if (j[v] == '"') out.push_back(j.substr(v + 1, j.find('"', v + 1) - v - 1));
    else out.push_back(j.substr(v, j.find_first_of(",}]", v) - v));
  }
  return out;
}

class EmbeddingVersions : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::string dbPath, db;
  static inline std::int64_t queryEcg = 0;

  static void SetUpTestSuite() {
    auto c = test::makeCohortDb("e2e_embed_versions", test::smallCohort(kPatients, 21, 8));
    dir = c.dir;
    dbPath = c.dbPath;
    db = " --db " + dbPath;
    {
      db::Database d(dbPath);
      db::Filter f;
      f.modality = "ECG";
      queryEcg = d.listInstances(f).front().id;
    }
    // Version 1, registered and activated by the trainer, then embedded.
    trainPretrain("run1", 5);
    auto e = cli("embed" + db + " --quiet");
    ASSERT_EQ(e.rc, 0) << e.out;
    ASSERT_TRUE(has(e.out, "echo2ecg-pretrain:1")) << e.out;
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }

  // A fresh tiny encoder (no data needed), registered as the next version and made active.
  static void trainPretrain(const std::string& run, int seed) {
    auto r = cli("train" + db + " --task pretrain --run-dir " + (dir / run).string() +
                 " --epochs 0 --ecg-depth 1 --video-size 32 --seed " + std::to_string(seed));
    ASSERT_EQ(r.rc, 0) << r.out;
  }
  static pipeline::EmbeddingModel resolve(const std::string& spec = "") {
    db::Database d(dbPath);
    return pipeline::resolveEmbeddingModel(d, spec);
  }
  static std::set<std::int64_t> studiesWith(const pipeline::EmbeddingModel& m) {
    db::Database d(dbPath);
    std::set<std::int64_t> out;
    for (auto& e : d.embeddingsFor(m.studyKey(), m.weightsHash, pipeline::kPreprocVersion))
      if (e.key.studyRowId) out.insert(*e.key.studyRowId);
    return out;
  }
  static std::string q() { return " " + std::to_string(queryEcg); }
};

}  // namespace

TEST_F(EmbeddingVersions, ResolverPicksTheActiveRegisteredVersionElseExplicitElseFails) {
  auto v1 = resolve();
  EXPECT_EQ(v1.source, pipeline::EmbeddingModel::Source::Registry);
  EXPECT_EQ(v1.label(), "echo2ecg-pretrain:1");
  EXPECT_TRUE(v1.active);
  EXPECT_EQ(fs::path(v1.dir), fs::absolute(dir / "run1"));
  EXPECT_EQ(v1.weightsHash.size(), 64u);
  EXPECT_EQ(v1.ecgKey(), "echo2ecg-pretrain:1/ecg-aligned");
  EXPECT_EQ(v1.studyKey(), "echo2ecg-pretrain:1/echo-study-aligned");

  trainPretrain("run2", 6);  // the trainer activates the new version
  auto v2 = resolve();
  EXPECT_EQ(v2.label(), "echo2ecg-pretrain:2");
  EXPECT_NE(v2.weightsHash, v1.weightsHash);
  EXPECT_EQ(resolve("echo2ecg-pretrain:1").weightsHash, v1.weightsHash);
  EXPECT_FALSE(resolve("echo2ecg-pretrain:1").active);
  EXPECT_EQ(resolve("echo2ecg-pretrain").label(), "echo2ecg-pretrain:2");  // ID alone: its active version
  auto d = resolve((dir / "run1").string());
  EXPECT_EQ(d.source, pipeline::EmbeddingModel::Source::Directory);
  EXPECT_EQ(d.label(), "echo2ecg-pretrain:1");
  EXPECT_THROW(resolve("echo2ecg-pretrain:9"), std::runtime_error);
  EXPECT_THROW(resolve("no-such-model:1"), std::runtime_error);
  EXPECT_THROW(resolve((dir / "nothing").string()), std::runtime_error);

  db::Database db2(dbPath);
  auto cov = pipeline::embeddingCoverage(db2, v2);
  EXPECT_EQ(cov.ecgInstances, kPatients);
  EXPECT_EQ(cov.ecgEmbedded, 0);
  EXPECT_EQ(cov.echoStudies, kPatients);
  EXPECT_EQ(cov.missingStudies(), kPatients);
  EXPECT_EQ(cov.staleRows, kPatients * (1 + 4 + 1));  // v1: ECG + 4 views + study per patient
  EXPECT_TRUE(pipeline::embeddingCoverage(db2, v1).complete());
}

// (b) Stale embeddings of the old version, none of the new active one: retrieve refuses.
TEST_F(EmbeddingVersions, RetrieveRefusesWhenTheActiveVersionHasNoEmbeddings) {
  trainPretrain("run2", 6);
  auto r = cli("retrieve" + db + q() + " --k 3");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(has(r.out, "missing embeddings")) << r.out;
  EXPECT_TRUE(has(r.out, "echo2ecg-pretrain:2")) << r.out;
  EXPECT_TRUE(has(r.out, "none of the " + std::to_string(kPatients) + " echo studies")) << r.out;
  EXPECT_TRUE(has(r.out, "echo2ecg embed --db")) << r.out;
  EXPECT_FALSE(has(r.out, "rank  study_row")) << "no results from the old vectors: " << r.out;
  auto j = cliStdout("retrieve" + db + q() + " --json");
  EXPECT_EQ(j.rc, 1);
  EXPECT_TRUE(has(j.out, "\"error\":\"missing_embeddings\"")) << j.out;
  EXPECT_EQ(values(j.out, "version"), std::vector<std::string>{"2"}) << j.out;
  EXPECT_EQ(values(j.out, "missing_studies"), std::vector<std::string>{std::to_string(kPatients)}) << j.out;
  // retrieve never computes study vectors itself (that is the embed job's work)
  EXPECT_TRUE(studiesWith(resolve()).empty());
  auto ev = cli("retrieve" + db + " --evaluate");
  EXPECT_EQ(ev.rc, 1);
  EXPECT_TRUE(has(ev.out, "missing embeddings")) << ev.out;
  // An explicitly named older version is still usable (and named).
  auto old = cli("retrieve" + db + " --model echo2ecg-pretrain:1" + q() + " --k 3");
  ASSERT_EQ(old.rc, 0) << old.out;
  EXPECT_TRUE(has(old.out, "model echo2ecg-pretrain:1 (weights")) << old.out;
  // Its evaluation on this 8-patient database: the test split holds one patient, too few to rank,
  // and the message says so (not an internal precondition).
  auto tiny = cli("retrieve" + db + " --model echo2ecg-pretrain:1 --evaluate");
  EXPECT_EQ(tiny.rc, 1) << tiny.out;
  EXPECT_TRUE(has(tiny.out, "at least two test echo studies")) << tiny.out;
  EXPECT_TRUE(has(tiny.out, "has 1 ECG(s) and 1 study")) << tiny.out;
}

// (a) After a new version is activated, embed writes its keys and retrieve uses only them.
TEST_F(EmbeddingVersions, EmbedWritesTheActiveVersionAndRetrieveUsesOnlyIt) {
  trainPretrain("run2", 6);
  const auto v1 = resolve("echo2ecg-pretrain:1"), v2 = resolve();
  auto e = cli("embed" + db + " --quiet");
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_TRUE(has(e.out, "with echo2ecg-pretrain:2 (weights " + v2.weightsHash.substr(0, 12))) << e.out;
  EXPECT_TRUE(has(e.out, "ECG: " + std::to_string(kPatients) + " added")) << e.out;
  EXPECT_TRUE(has(e.out, "kept (never used by retrieval)")) << e.out;
  {
    db::Database d(dbPath);
    EXPECT_EQ(d.embeddingsFor(v2.ecgKey(), v2.weightsHash, pipeline::kPreprocVersion).size(), std::size_t(kPatients));
    EXPECT_EQ(d.embeddingsFor(v2.studyKey(), v2.weightsHash, pipeline::kPreprocVersion).size(), std::size_t(kPatients));
    // the old version's rows are kept by default
    EXPECT_EQ(d.embeddingsFor(v1.studyKey(), v1.weightsHash, pipeline::kPreprocVersion).size(), std::size_t(kPatients));
  }
  auto r = cli("retrieve" + db + q() + " --k 3");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(has(r.out, "model echo2ecg-pretrain:2 (weights " + v2.weightsHash.substr(0, 12))) << r.out;
  EXPECT_TRUE(has(r.out, "Searched " + std::to_string(kPatients) + " of " + std::to_string(kPatients))) << r.out;

  // Some studies lose their v2 vectors: they are left out (and counted), never filled in from v1.
  {
    db::Database d(dbPath);
    d.exec("DELETE FROM embeddings WHERE model_id = 'echo2ecg-pretrain:2/echo-study-aligned' AND study_id IN "
           "(SELECT study_id FROM embeddings WHERE model_id = 'echo2ecg-pretrain:2/echo-study-aligned' "
           "ORDER BY study_id LIMIT 3)");
  }
  const auto withV2 = studiesWith(v2);
  ASSERT_EQ(withV2.size(), std::size_t(kPatients - 3));
  auto j = cliStdout("retrieve" + db + q() + " --k 50 --include-same-patient --json");
  ASSERT_EQ(j.rc, 0) << j.out;
  EXPECT_EQ(values(j.out, "key"), std::vector<std::string>{"echo2ecg-pretrain:2"}) << j.out;
  EXPECT_EQ(values(j.out, "weights_hash"), std::vector<std::string>{v2.weightsHash});
  EXPECT_EQ(values(j.out, "missing_studies"), std::vector<std::string>{"3"}) << j.out;
  const auto ids = values(j.out, "study_row_id");
  EXPECT_EQ(ids.size(), withV2.size()) << j.out;
  for (const auto& id : ids) EXPECT_TRUE(withV2.count(std::stoll(id))) << id;
  auto t = cli("retrieve" + db + q() + " --k 50");
  ASSERT_EQ(t.rc, 0) << t.out;
  EXPECT_TRUE(has(t.out, "missing embeddings: 3 of " + std::to_string(kPatients) + " echo studies")) << t.out;

  // --prune-stale: completes the active version and only then deletes the other versions' rows.
  auto p = cli("embed" + db + " --quiet --prune-stale");
  ASSERT_EQ(p.rc, 0) << p.out;
  EXPECT_TRUE(has(p.out, "echo studies: 3 added")) << p.out;
  EXPECT_TRUE(has(p.out, "deleted: " + std::to_string(kPatients * 6))) << p.out;
  db::Database d(dbPath);
  for (const auto& s : d.embeddingSets()) EXPECT_EQ(s.modelId.rfind("echo2ecg-pretrain:1/", 0), std::string::npos) << s.modelId;
  EXPECT_TRUE(pipeline::embeddingCoverage(d, v2).complete());
}

// (c) `models activate --embed` re-embeds right away; without --embed it says what is missing.
TEST_F(EmbeddingVersions, ActivateReportsMissingEmbeddingsAndEmbedsOnRequest) {
  trainPretrain("run2", 6);
  auto a = cli("models activate echo2ecg-pretrain 2" + db);
  ASSERT_EQ(a.rc, 0) << a.out;
  const std::string n = std::to_string(kPatients);
  EXPECT_TRUE(has(a.out, "Embeddings of echo2ecg-pretrain:2 missing: " + n + " of " + n + " ECG(s) and " + n + " of " +
                             n + " echo stud(ies)"))
      << a.out;
  EXPECT_TRUE(has(a.out, "echo2ecg embed --db")) << a.out;
  EXPECT_TRUE(has(a.out, "--embed")) << a.out;

  auto e = cliStdout("models activate echo2ecg-pretrain 2 --embed --json-progress" + db);
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_TRUE(has(e.out, "{\"event\":\"progress\",\"stage\":\"ecg\",\"done\":" + n + ",\"total\":" + n + "}")) << e.out;
  EXPECT_TRUE(has(e.out, "\"stage\":\"echo\"")) << e.out;
  EXPECT_TRUE(has(e.out, "{\"event\":\"done\",\"model_id\":\"echo2ecg-pretrain\",\"version\":\"2\"")) << e.out;
  {
    db::Database d(dbPath);
    EXPECT_TRUE(pipeline::embeddingCoverage(d, resolve()).complete());
  }
  auto r = cli("retrieve" + db + q() + " --k 3");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(has(r.out, "model echo2ecg-pretrain:2 (")) << r.out;

  // Back to version 1: its embeddings are all there, retrieval switches to them.
  a = cli("models activate echo2ecg-pretrain 1" + db);
  ASSERT_EQ(a.rc, 0);
  EXPECT_TRUE(has(a.out, "Embeddings of echo2ecg-pretrain:1: all " + n + " ECG(s)")) << a.out;
  r = cli("retrieve" + db + q() + " --k 3");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(has(r.out, "model echo2ecg-pretrain:1 (")) << r.out;
}

// The active version's files must still be the registered ones: a clear error, never a fallback.
TEST_F(EmbeddingVersions, ChangedOrMissingWeightsAreAClearErrorNotAFallback) {
  trainPretrain("run2", 6);
  fs::copy_file(dir / "run1" / "echo2ecg.pt", dir / "run2" / "echo2ecg.pt", fs::copy_options::overwrite_existing);
  auto e = cli("embed" + db + " --quiet");
  EXPECT_EQ(e.rc, 1) << e.out;
  EXPECT_TRUE(has(e.out, "the weights of echo2ecg-pretrain:2")) << e.out;
  EXPECT_TRUE(has(e.out, "changed since they were registered")) << e.out;
  auto r = cli("retrieve" + db + q());
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(has(r.out, "changed since they were registered")) << r.out;
  fs::remove_all(dir / "run2");
  e = cli("embed" + db + " --quiet");
  EXPECT_EQ(e.rc, 1);
  EXPECT_TRUE(has(e.out, "echo2ecg-pretrain:2 are gone")) << e.out;
  db::Database d(dbPath);
  for (const auto& s : d.embeddingSets()) EXPECT_EQ(s.modelId.rfind("echo2ecg-pretrain:1/", 0), 0u) << s.modelId;
}
