// Issue 21, real-ECG pretraining without leaks: the "ssl-per-fold" representation of the
// cross-validated evaluate job pretrains, per fold, an ECG-only self-supervised encoder (the train
// job's ecg-pretrain) on every ECG of the database except the fold's test patients. On a small
// database of real ECGs (24 LUDB records, 3 CinC records, the PTB record) with tiny recipes: the
// patients the training job took never include the fold's test patients and do include every other
// patient (the other folds and the other datasets); the folds are the ones the job makes without
// pretraining; nothing is registered; the exclusion of the train job itself; the request's errors;
// and E2E_PRECISION=bf16 does not change the evaluated features (they are fp32).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <unistd.h>

#include "db/database.h"
#include "evaluate_cv_test_util.h"
#include "jobs/evaluate_cv.h"
#include "jobs/import/importer.h"
#include "jobs/train/train.h"
#include "pipeline/data.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace e2e;
using e2e::jobs::EvaluateCvRequest;

namespace {

constexpr const char* kLvh = "Left ventricular hypertrophy";

class EvaluateCvPretrain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("e2e-evaluate-cv-pretrain-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    dbPath_ = (dir_ / "real.db").string();
    db::Database db(dbPath_);
    importer::ImportOptions opts;
    const auto ludb = e2e::test::dataFile("ecg_wfdb/ludb/data");
    for (int i = 1; i <= 24; ++i) opts.paths.push_back((ludb / (std::to_string(i) + ".hea")).string());
    const auto cinc = e2e::test::dataFile("ecg_wfdb/torch_ecg_cinc2021");
    for (const char* r : {"E07500", "E07501", "E07502"}) opts.paths.push_back((cinc / (std::string(r) + ".hea")).string());
    opts.paths.push_back(e2e::test::dataFile("ecg_wfdb/wfdb-python_ptb_s0010_re/s0010_re.hea").string());
    opts.threads = 1;
    imported_ = importer::runImport(db, opts).addedEcg;
    for (const auto& s : pipeline::loadSamples(db)) allPatients_.insert(s.patientRowId);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override { ASSERT_EQ(imported_, 28) << "import of the real ECGs"; }

  static EvaluateCvRequest request(const std::vector<std::string>& reps) {
    EvaluateCvRequest o;
    o.dbPath = dbPath_;
    o.diagnosis = kLvh;
    o.pathContains = "ludb";
    o.representations = reps;
    o.probes = {"linear"};
    o.folds = 3;
    o.bootstrap = 50;
    o.pretrainEpochs = 1;
    o.pretrainDepth = 1;
    o.pretrainBatchSize = 8;
    return o;
  }

  static fs::path dir_;
  static std::string dbPath_;
  static std::int64_t imported_;
  static std::set<std::int64_t> allPatients_;
};
fs::path EvaluateCvPretrain::dir_;
std::string EvaluateCvPretrain::dbPath_;
std::int64_t EvaluateCvPretrain::imported_ = 0;
std::set<std::int64_t> EvaluateCvPretrain::allPatients_;

void expectError(const EvaluateCvRequest& o, const std::string& part) { test::expectEvaluateCvError(o, part); }

}  // namespace

TEST_F(EvaluateCvPretrain, EachFoldsEncoderNeverSawItsTestPatients) {
  auto o = request({"encoder", "ssl-per-fold"});
  o.pretrainDir = (dir_ / "runs").string();
  const auto r = jobs::runEvaluateCv(o);
  ASSERT_FALSE(r.cancelled);
  EXPECT_EQ(r.n, 24u);  // the LUDB records only; the 4 others are pretraining data
  EXPECT_EQ(r.outsidePath, 4u);
  ASSERT_EQ(r.pretraining.size(), 3u);
  for (const auto& f : r.pretraining) {
    std::set<std::int64_t> expectHeld;
    for (std::size_t i = 0; i < r.foldOf.size(); ++i)
      if (r.foldOf[i] == f.fold) expectHeld.insert(r.patientRowIds[i]);
    ASSERT_EQ(std::set<std::int64_t>(f.heldOut.begin(), f.heldOut.end()), expectHeld) << "fold " << f.fold;
    ASSERT_FALSE(expectHeld.empty());
    const std::set<std::int64_t> took(f.trainPatients.begin(), f.trainPatients.end());
    for (auto p : expectHeld) EXPECT_EQ(took.count(p), 0u) << "fold " << f.fold << " pretrained on test patient " << p;
    // everything else in the database was used: the other folds and the CinC / PTB patients
    std::set<std::int64_t> rest;
    std::set_difference(allPatients_.begin(), allPatients_.end(), expectHeld.begin(), expectHeld.end(),
                        std::inserter(rest, rest.end()));
    EXPECT_EQ(took, rest) << "fold " << f.fold;
    EXPECT_TRUE(fs::exists(fs::path(f.runDir) / "card.json")) << f.runDir;
    EXPECT_EQ(fs::path(f.runDir).filename().string(), "fold-" + std::to_string(f.fold + 1));
  }
  // the same folds as without pretraining
  EXPECT_EQ(jobs::runEvaluateCv(request({"handcrafted"})).foldOf, r.foldOf);
  ASSERT_EQ(r.results.size(), 2u);
  const auto& ssl = r.results[1];
  EXPECT_EQ(ssl.representation, "ssl-per-fold");
  EXPECT_EQ(ssl.dim, 192);
  ASSERT_EQ(ssl.scores.size(), 24u);
  for (double s : ssl.scores) EXPECT_TRUE(std::isfinite(s));
  EXPECT_NE(ssl.scores, r.results[0].scores);
  EXPECT_EQ(ssl.aurocVsEncoder.resamples, 50);
  EXPECT_NEAR(ssl.aurocVsEncoder.value, ssl.metrics.at("auroc").value - r.results[0].metrics.at("auroc").value, 1e-12);
  EXPECT_EQ(r.results[0].aurocVsEncoder.resamples, 0);
  EXPECT_EQ(r.toJson()["pretraining"].size(), 3u);
  db::Database db(dbPath_);
  EXPECT_TRUE(db.listModels().empty()) << "evaluate registered a model";
}

TEST_F(EvaluateCvPretrain, TrainJobLeavesOutTheExcludedPatients) {
  jobs::TrainRequest t;
  t.dbPath = dbPath_;
  t.task = "ecg-pretrain";
  t.runDir = (dir_ / "excluded").string();
  t.epochs = 1;
  t.batchSize = 8;
  t.ecgDepth = 1;
  t.registerModel = false;
  t.excludePatients = {*allPatients_.begin(), *allPatients_.rbegin()};
  const auto r = jobs::runTrain(t, {});
  ASSERT_EQ(r.status, jobs::TrainStatus::Done) << r.message;
  std::set<std::int64_t> expect = allPatients_;
  for (auto p : t.excludePatients) expect.erase(p);
  EXPECT_EQ(std::set<std::int64_t>(r.patients.begin(), r.patients.end()), expect);
  t.runDir = (dir_ / "all-excluded").string();
  t.excludePatients = allPatients_;
  const auto none = jobs::runTrain(t, {});
  EXPECT_EQ(none.status, jobs::TrainStatus::Failed);
  EXPECT_NE(none.message.find("no training samples"), std::string::npos) << none.message;
}

TEST_F(EvaluateCvPretrain, BadPretrainingRequestsAreClearErrors) {
  auto o = request({"ssl-per-fold"});
  o.pretrainEpochs = 0;
  expectError(o, "pretraining epochs must be 1-1000");
  o = request({"ssl-per-fold"});
  o.pretrainDepth = 13;
  expectError(o, "depth must be 1-12");
  o = request({"ssl-per-fold"});
  o.pretrainBatchSize = 1;
  expectError(o, "batch size must be 2-4096");
  o = request({"ssl-per-fold"});
  o.pretrainPrecision = "fp16";
  expectError(o, "precision must be fp32 or bf16, not 'fp16'");
  o = request({"ssl-per-fold"});
  o.pathContains = "no-such-folder";
  expectError(o, "no ECG path contains 'no-such-folder'");
  o = request({"ssl"});
  expectError(o, "unknown representation 'ssl' (encoder, random, handcrafted, ssl-per-fold)");
}

TEST_F(EvaluateCvPretrain, SiteDefaultBf16DoesNotChangeTheFeatures) {
  auto o = request({"encoder"});
  const auto fp32 = jobs::runEvaluateCv(o);
  ASSERT_EQ(::setenv("E2E_PRECISION", "bf16", 1), 0);
  const auto withEnv = jobs::runEvaluateCv(o);
  ::setenv("E2E_PRECISION", "fp32", 1);  // what test_main pins
  ASSERT_EQ(fp32.results.size(), 1u);
  EXPECT_EQ(withEnv.results[0].scores, fp32.results[0].scores);
}
