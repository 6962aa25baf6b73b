// The model jobs in process: typed requests and reports, the train job's events through the
// caller's sinks (core never prints), and one ECG -> echo study search shared by `echo2ecg
// retrieve` and the workstation (retrieval::searchSimilarStudies).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli_util.h"
#include "cohort_fixture.h"
#include "jobs/evaluate.h"
#include "jobs/retrieve.h"
#include "jobs/train/train.h"
#include "retrieval/study_search.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {
class JobReports : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cohort_ = new test::CohortDb(test::makeCohortDb("e2e_job_reports", test::smallCohort(10, 31, 8))); }
  static void TearDownTestSuite() {
    fs::remove_all(cohort_->dir);
    delete cohort_;
  }
  // A train request on the suite's database with its events collected.
  struct Run {
    std::vector<nlohmann::ordered_json> events;
    std::vector<std::string> text;
    jobs::TrainEvents sinks() {
      return {[this](const nlohmann::ordered_json& j) { events.push_back(j); },
              [this](const std::string& s) { text.push_back(s); }};
    }
  };
  static jobs::TrainRequest request(const std::string& task, const std::string& runDir) {
    jobs::TrainRequest o;
    o.dbPath = cohort_->dbPath;
    o.task = task;
    o.runDir = runDir;
    o.epochs = 1;
    o.registerModel = false;
    return o;
  }
  static test::CohortDb* cohort_;
};
test::CohortDb* JobReports::cohort_ = nullptr;
}  // namespace

TEST_F(JobReports, BadTrainRequestsAreReportedAsSuchWithOneErrorEvent) {
  Run run;
  auto o = request("bogus", (cohort_->dir / "never").string());
  auto r = jobs::runTrain(o, run.sinks());
  EXPECT_EQ(r.status, jobs::TrainStatus::BadRequest);
  EXPECT_NE(r.message.find("unknown task 'bogus'"), std::string::npos) << r.message;
  ASSERT_EQ(run.events.size(), 1u);
  EXPECT_EQ(run.events[0]["event"], "error");
  EXPECT_EQ(run.events[0]["message"], r.message);
  EXPECT_FALSE(fs::exists(o.runDir));

  Run noDir;
  EXPECT_EQ(jobs::runTrain(request("lvef", ""), noDir.sinks()).status, jobs::TrainStatus::BadRequest);
  Run badMethod;
  auto m = request("lvef", (cohort_->dir / "never").string());
  m.method = "forest";
  EXPECT_EQ(jobs::runTrain(m, badMethod.sinks()).status, jobs::TrainStatus::BadRequest);
}

TEST_F(JobReports, DryRunReportsTheSplitAndRegistersNothing) {
  Run run;
  auto o = request("lvef", (cohort_->dir / "dry").string());
  o.dryRun = true;
  auto r = jobs::runTrain(o, run.sinks());
  ASSERT_EQ(r.status, jobs::TrainStatus::Done) << r.message;
  EXPECT_TRUE(r.modelId.empty());
  ASSERT_EQ(run.events.size(), 1u);
  const auto& start = run.events[0];
  EXPECT_EQ(start["event"], "start");
  EXPECT_EQ(start["classes"].size(), 3u);
  const int samples = start["split"]["train"]["samples"].get<int>() + start["split"]["val"]["samples"].get<int>() +
                      start["split"]["test"]["samples"].get<int>();
  EXPECT_EQ(samples, 10);  // one labelled ECG per patient
  EXPECT_FALSE(fs::exists(fs::path(o.runDir) / "last.ckpt"));
}

TEST_F(JobReports, ACancelledTokenStopsTrainingResumablyWithACancelledEvent) {
  Run run;
  auto o = request("lvef", (cohort_->dir / "cancel").string());
  job::CancelToken cancel;
  cancel.cancel();
  auto r = jobs::runTrain(o, run.sinks(), cancel);
  EXPECT_EQ(r.status, jobs::TrainStatus::Cancelled) << r.message;
  ASSERT_FALSE(run.events.empty());
  EXPECT_EQ(run.events.back()["event"], "cancelled");
  EXPECT_FALSE(fs::exists(fs::path(o.runDir) / "card.json"));
}

TEST_F(JobReports, RetrieveRefusesUnknownMethodsAsUsageErrors) {
  jobs::RetrieveRequest o;
  o.dbPath = cohort_->dbPath;
  o.method = "bogus";
  EXPECT_THROW(jobs::runRetrieve(o), std::invalid_argument);
  o.method = "paired-ecg";  // an evaluation baseline
  EXPECT_THROW(jobs::runRetrieve(o), std::invalid_argument);
}

TEST_F(JobReports, EvaluateReportsMetricsWithConfidenceIntervals) {
  jobs::EvaluateRequest o;
  o.dbPath = cohort_->dbPath;
  o.task = "shd";
  o.bootstrap = 50;
  const auto r = jobs::runEvaluate(o);
  EXPECT_EQ(r.task, "shd");
  EXPECT_FALSE(r.modelId.empty());
  EXPECT_GT(r.metrics.n, 0u);
  for (const char* name : {"accuracy", "balanced_accuracy", "f1"}) {
    ASSERT_TRUE(r.metrics.ci.count(name)) << name;
    const auto& c = r.metrics.ci.at(name);
    EXPECT_LE(c.lower, c.value) << name;
    EXPECT_GE(c.upper, c.value) << name;
  }
  EXPECT_EQ(r.metrics.toJson()["n"].get<std::size_t>(), r.metrics.n);
}

// `echo2ecg retrieve --json` and the in-process search (the retrieval panel's) rank the same studies.
TEST_F(JobReports, TheCliAndTheWorkstationRunOneSearch) {
  ASSERT_EQ(test::runCli("embed --quiet --db " + test::shellQuote(cohort_->dbPath)).rc, 0);
  db::Database db(cohort_->dbPath, db::Database::Mode::ReadOnly);
  db::Filter ecgs;
  ecgs.modality = "ECG";
  const auto ecg = db.listInstances(ecgs).front().id;
  const auto cli = test::runCli("retrieve --json --k 5 --db " + test::shellQuote(cohort_->dbPath) + " " + std::to_string(ecg));
  ASSERT_EQ(cli.rc, 0) << cli.out;
  const auto j = nlohmann::json::parse(cli.out);

  const auto model = retrieval::chooseSearchModel(db, "", ecg, true);
  ASSERT_TRUE(model.has_value());
  EXPECT_EQ(j["model"]["key"], model->label());
  const auto query = retrieval::storedEcgVector(db, *model, ecg);
  ASSERT_TRUE(query.has_value()) << "embed stored the query ECG's vector";
  retrieval::StudyIndex index;
  const auto result = retrieval::searchSimilarStudies(db, index, *model, *query, {ecg, 5, false});
  EXPECT_EQ(result.searched, j["searched_studies"].get<std::size_t>());
  ASSERT_EQ(result.hits.size(), j["results"].size());
  ASSERT_EQ(result.hits.size(), 5u);
  for (std::size_t i = 0; i < result.hits.size(); ++i) {
    EXPECT_EQ(result.hits[i].studyRowId, j["results"][i]["study_row_id"].get<std::int64_t>()) << i;
    EXPECT_NEAR(result.hits[i].similarity, j["results"][i]["similarity"].get<double>(), 1e-6) << i;
    EXPECT_NE(result.hits[i].patientRowId, result.queryPatientRowId) << "the query's own patient is left out";
  }
  EXPECT_EQ(result.coverage.missingStudies(), 0);
  // Asking for the same patient as well brings the query's own study first or among the hits.
  const auto withOwn = retrieval::searchSimilarStudies(db, index, *model, *query, {ecg, 10, true});
  bool own = false;
  for (const auto& h : withOwn.hits) own = own || h.patientRowId == result.queryPatientRowId;
  EXPECT_TRUE(own);
}
