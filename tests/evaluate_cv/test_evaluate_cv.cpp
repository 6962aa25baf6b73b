// The cross-validated evaluate job (jobs/evaluate_cv.h) on the 200 real LUDB records imported into a
// temporary database: the left-ventricular-hypertrophy target from the records' own diagnosis
// statements and from the LUDB table's labels, patient-disjoint stratified folds, the hand-crafted
// baseline clearly above chance where shuffled labels are not, the encoders run end to end, and a
// clear error for every bad target.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <unistd.h>

#include "db/database.h"
#include "evaluate_cv_test_util.h"
#include "jobs/evaluate_cv.h"
#include "jobs/import/importer.h"
#include "labels/labels_csv.h"
#include "model/metrics.h"
#include "pipeline/data.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace e2e;
using e2e::jobs::EvaluateCvRequest;

namespace {

const fs::path kLudb = e2e::test::dataFile("ecg_wfdb/ludb");
constexpr const char* kLvh = "Left ventricular hypertrophy";

class EvaluateCvLudb : public ::testing::Test {
 protected:
  // One database of all 200 records for the suite (importing is the slow part).
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("e2e-evaluate-cv-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    dbPath_ = (dir_ / "ludb.db").string();
    db::Database db(dbPath_);
    importer::ImportOptions opts;
    opts.paths.push_back((kLudb / "data").string());
    opts.threads = 1;
    const auto rep = importer::runImport(db, opts);
    importedEcg_ = rep.addedEcg;
    labels::importLabelsCsv(db, (kLudb / "ludb.csv").string(), labels::KeyColumn::PatientId, "", "ID");
    writeShuffledLabels(db);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override { ASSERT_EQ(importedEcg_, 200) << "LUDB import"; }

  // "lvh_shuffled": the records' LVH statements permuted over the patients (108 yes, 92 no).
  static void writeShuffledLabels(db::Database& db) {
    std::vector<std::string> ids, values;
    std::ifstream list(kLudb / "RECORDS");
    for (std::string line; std::getline(list, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      const auto name = fs::path(line).filename().string();
      std::ifstream hea(kLudb / "data" / (name + ".hea"));
      std::string text((std::istreambuf_iterator<char>(hea)), std::istreambuf_iterator<char>());
      ids.push_back(name);
      values.push_back(text.find(kLvh) != std::string::npos ? "yes" : "no");
    }
    std::mt19937_64 rng(2026);
    std::shuffle(values.begin(), values.end(), rng);
    const auto csv = dir_ / "shuffled.csv";
    std::ofstream out(csv);
    out << "ID,lvh_shuffled\n";
    for (std::size_t i = 0; i < ids.size(); ++i) out << ids[i] << "," << values[i] << "\n";
    out.close();
    labels::importLabelsCsv(db, csv.string(), labels::KeyColumn::PatientId, "", "ID");
  }

  static EvaluateCvRequest request(const std::vector<std::string>& reps = {"handcrafted"}) {
    EvaluateCvRequest o;
    o.dbPath = dbPath_;
    o.diagnosis = kLvh;
    o.representations = reps;
    o.bootstrap = 300;
    return o;
  }
  // The hand-crafted LVH run, shared by the tests that look at it.
  static const jobs::EvaluateCvReport& handcraftedLvh() {
    static const auto r = jobs::runEvaluateCv(request());
    return r;
  }
  static const jobs::EvaluateCvResult& result(const jobs::EvaluateCvReport& r, const std::string& rep,
                                              const std::string& probe) {
    for (const auto& x : r.results)
      if (x.representation == rep && x.probe == probe) return x;
    throw std::runtime_error("no result " + rep + "/" + probe);
  }

  static fs::path dir_;
  static std::string dbPath_;
  static std::int64_t importedEcg_;
};
fs::path EvaluateCvLudb::dir_;
std::string EvaluateCvLudb::dbPath_;
std::int64_t EvaluateCvLudb::importedEcg_ = 0;

void expectError(const EvaluateCvRequest& o, const std::string& part) { test::expectEvaluateCvError(o, part); }

}  // namespace

TEST_F(EvaluateCvLudb, LvhDiagnosisHas108PositivesOf200) {
  const auto& r = handcraftedLvh();
  EXPECT_EQ(r.n, 200u);
  EXPECT_EQ(r.positives, 108u);
  EXPECT_EQ(r.patients, 200u);
  EXPECT_EQ(r.positivePatients, 108u);
  EXPECT_EQ(r.unlabelled, 0u);
  EXPECT_TRUE(r.errors.empty());
  EXPECT_EQ(r.folds, 5);
  ASSERT_EQ(r.results.size(), 2u);  // linear and kNN
  EXPECT_EQ(r.results[0].dim, 30);
}

TEST_F(EvaluateCvLudb, FoldsArePatientDisjointAndStratified) {
  const auto& r = handcraftedLvh();
  ASSERT_EQ(r.foldOf.size(), r.n);
  std::map<std::int64_t, std::set<int>> foldsOfPatient;
  std::vector<int> size(5), pos(5);
  for (std::size_t i = 0; i < r.n; ++i) {
    ASSERT_GE(r.foldOf[i], 0);
    ASSERT_LT(r.foldOf[i], 5);
    foldsOfPatient[r.patientRowIds[i]].insert(r.foldOf[i]);
    ++size[r.foldOf[i]];
    pos[r.foldOf[i]] += r.truth[i];
  }
  for (const auto& [p, f] : foldsOfPatient) EXPECT_EQ(f.size(), 1u) << "patient " << p;
  for (int f = 0; f < 5; ++f) {
    EXPECT_EQ(size[f], 40) << "fold " << f;
    EXPECT_TRUE(pos[f] == 21 || pos[f] == 22) << "fold " << f << ": " << pos[f] << " positives";
  }
  // another seed deals the patients differently
  EXPECT_NE(jobs::stratifiedPatientFolds(r.patientRowIds, r.truth, 5, 2), r.foldOf);
}

TEST(EvaluateCvFolds, PatientsWithSeveralEcgsStayInOneFold) {
  std::vector<std::int64_t> patient;
  std::vector<int> truth;
  for (int p = 0; p < 30; ++p)
    for (int e = 0; e <= p % 3; ++e) {  // 1-3 ECGs per patient, one of them positive for every 3rd patient
      patient.push_back(p);
      truth.push_back(p % 3 == 0 && e == 0 ? 1 : 0);
    }
  const auto folds = jobs::stratifiedPatientFolds(patient, truth, 5, 7);
  std::map<std::int64_t, std::set<int>> foldsOfPatient;
  std::vector<int> posPatients(5);
  for (std::size_t i = 0; i < patient.size(); ++i) {
    foldsOfPatient[patient[i]].insert(folds[i]);
    if (truth[i]) ++posPatients[folds[i]];
  }
  for (const auto& [p, f] : foldsOfPatient) EXPECT_EQ(f.size(), 1u) << "patient " << p;
  for (int f = 0; f < 5; ++f) EXPECT_EQ(posPatients[f], 2) << "fold " << f;  // 10 positive patients / 5
  EXPECT_THROW(jobs::stratifiedPatientFolds(patient, truth, 11, 7), std::invalid_argument);  // 10 < 11
}

TEST_F(EvaluateCvLudb, HandcraftedFeaturesFindLvhAboveChance) {
  const auto& r = handcraftedLvh();
  for (const char* probe : {"linear", "knn"}) {
    const auto& x = result(r, "handcrafted", probe);
    const auto& auroc = x.metrics.at("auroc");
    std::printf("handcrafted/%s: AUROC %.3f (%.3f-%.3f), AUPRC %.3f, balanced accuracy %.3f\n", probe, auroc.value,
                auroc.lower, auroc.upper, x.metrics.at("auprc").value, x.metrics.at("balanced_accuracy").value);
    EXPECT_LE(auroc.lower, auroc.value);
    EXPECT_GE(auroc.upper, auroc.value);
    EXPECT_EQ(auroc.resamples, 300);
    ASSERT_EQ(x.scores.size(), r.n);
    for (double s : x.scores) ASSERT_TRUE(s >= 0 && s <= 1) << s;
  }
  // Measured 2026-12-07: kNN 0.647 (0.580-0.722); linear 0.553 (0.474-0.635), i.e. not above chance.
  const auto& knn = result(r, "handcrafted", "knn").metrics.at("auroc");
  EXPECT_GT(knn.value, 0.6);
  EXPECT_GT(knn.lower, 0.5);
}

// A permutation test of the whole cross-validation: the same features and folds with the labels
// permuted 20 times. A leak (a held-out ECG in its own training fold, statistics of the whole set)
// would lift the permuted AUROCs above chance; the true labels' kNN AUROC beats every permutation.
TEST_F(EvaluateCvLudb, PermutedLabelsStayAtChance) {
  const auto& r = handcraftedLvh();
  db::Database db(dbPath_);
  std::vector<std::vector<float>> feats;
  for (auto id : r.ecgInstanceIds) feats.push_back(pipeline::handcraftedEcgFeatures(db.details(id)->instance.path));
  for (const char* probe : {"linear", "knn"}) {
    std::vector<double> null;
    std::mt19937_64 rng(11);
    for (int p = 0; p < 20; ++p) {
      auto y = r.truth;
      std::shuffle(y.begin(), y.end(), rng);
      const auto folds = jobs::stratifiedPatientFolds(r.patientRowIds, y, 5, 1);
      null.push_back(model::aurocBinary(y, jobs::crossValidatedScores(feats, y, folds, probe, 10, 1.0)));
    }
    double mean = 0;
    for (double v : null) mean += v / static_cast<double>(null.size());
    std::sort(null.begin(), null.end());
    const double truth = result(r, "handcrafted", probe).metrics.at("auroc").value;
    std::printf("permuted %s: mean AUROC %.3f, range %.3f-%.3f; true labels %.3f\n", probe, mean, null.front(),
                null.back(), truth);
    EXPECT_NEAR(mean, 0.5, 0.04) << probe;
    if (std::string(probe) == "knn") EXPECT_GT(truth, null.back());
  }
}

// The label path with labels that carry no signal: the LVH statements permuted over the patients.
TEST_F(EvaluateCvLudb, ShuffledTableLabelsAreFoundAndStayNearChance) {
  auto o = request();
  o.diagnosis.clear();
  o.labelKey = "lvh_shuffled";
  o.labelValue = "yes";
  const auto r = jobs::runEvaluateCv(o);
  EXPECT_EQ(r.n, 200u);
  EXPECT_EQ(r.positives, 108u);
  for (const auto& x : r.results) {
    const auto& auroc = x.metrics.at("auroc");
    std::printf("shuffled %s/%s: AUROC %.3f (%.3f-%.3f)\n", x.representation.c_str(), x.probe.c_str(), auroc.value,
                auroc.lower, auroc.upper);
  }
  EXPECT_LT(result(r, "handcrafted", "knn").metrics.at("auroc").value,
            result(handcraftedLvh(), "handcrafted", "knn").metrics.at("auroc").value);
}

// Planted signal: one of 30 noise features shifted by 1.5 SD in the positives; the linear probe finds it
// out of fold, and the same data with the labels permuted does not.
TEST(EvaluateCvProbes, LinearProbeFindsAPlantedSignal) {
  std::mt19937_64 rng(5);
  std::normal_distribution<float> noise;
  std::vector<std::vector<float>> x(200, std::vector<float>(30));
  std::vector<int> y(200);
  std::vector<std::int64_t> patient(200);
  for (int i = 0; i < 200; ++i) {
    y[i] = i % 2;
    patient[i] = i;
    for (auto& v : x[i]) v = noise(rng);
    x[i][3] += 1.5f * static_cast<float>(y[i]);
  }
  const auto folds = jobs::stratifiedPatientFolds(patient, y, 5, 1);
  const double planted = model::aurocBinary(y, jobs::crossValidatedScores(x, y, folds, "linear", 10, 1.0));
  auto yp = y;
  std::shuffle(yp.begin(), yp.end(), rng);
  const auto pfolds = jobs::stratifiedPatientFolds(patient, yp, 5, 1);
  const double permuted = model::aurocBinary(yp, jobs::crossValidatedScores(x, yp, pfolds, "linear", 10, 1.0));
  std::printf("planted signal: linear AUROC %.3f, permuted %.3f\n", planted, permuted);
  EXPECT_GT(planted, 0.68);  // the Bayes AUROC of a 1.5-SD shift is 0.86 (measured: 0.743)
  EXPECT_LT(permuted, 0.62);
  const auto ci = jobs::patientBootstrapMetrics(y, jobs::crossValidatedScores(x, y, folds, "linear", 10, 1.0), patient,
                                                200, 3);
  EXPECT_GT(ci.at("auroc").lower, 0.6);
  EXPECT_EQ(ci.at("auroc").resamples, 200);
  // the same seed draws the same patients: a score vector against itself differs by exactly 0
  const auto same = jobs::pairedDifference(ci.at("auroc"), ci.at("auroc"));
  EXPECT_EQ(same.resamples, 200);
  EXPECT_EQ(same.lower, 0.0);
  EXPECT_EQ(same.upper, 0.0);
}

TEST_F(EvaluateCvLudb, TableLabelMatchesOneItemOfAMultiLineCell) {
  // ludb.csv "Hypertrophies": 142 records have a value ("Left atrial hypertrophy; Left ventricular
  // hypertrophy", ...), 58 an empty cell (no label stored).
  auto o = request();
  o.probes = {"linear"};
  o.diagnosis.clear();
  o.labelKey = "Hypertrophies";
  o.labelValue = "left ventricular hypertrophy";
  const auto r = jobs::runEvaluateCv(o);
  EXPECT_EQ(r.n, 142u);
  EXPECT_EQ(r.unlabelled, 58u);
  EXPECT_EQ(r.positives, 108u);
  o.absentIsNegative = true;
  const auto all = jobs::runEvaluateCv(o);
  EXPECT_EQ(all.n, 200u);
  EXPECT_EQ(all.positives, 108u);
  EXPECT_EQ(all.truth, handcraftedLvh().truth);  // the table and the records' statements agree
}

// The deep representations on records 1-40 (26 with LVH; the encoder is the slow part): the bundled
// encoder and the random-weights encoder run end to end, differ, and the seed fixes the random one.
TEST_F(EvaluateCvLudb, EncoderAndRandomWeightsRunEndToEnd) {
  const auto small = dir_ / "ludb40.db";
  {
    db::Database db(small.string());
    importer::ImportOptions opts;
    for (int i = 1; i <= 40; ++i) opts.paths.push_back((kLudb / "data" / (std::to_string(i) + ".hea")).string());
    opts.threads = 1;
    ASSERT_EQ(importer::runImport(db, opts).addedEcg, 40);
  }
  auto o = request({"encoder", "random"});
  o.dbPath = small.string();
  o.folds = 3;
  o.bootstrap = 50;
  const auto r = jobs::runEvaluateCv(o);
  ASSERT_EQ(r.results.size(), 4u);
  EXPECT_NE(r.encoderModel.find("echo2ecg-synthetic"), std::string::npos) << r.encoderModel;
  EXPECT_TRUE(r.encoderSyntheticTraining);
  EXPECT_EQ(r.n, 40u);
  EXPECT_EQ(r.positives, 26u);
  for (const auto& x : r.results) {
    EXPECT_EQ(x.dim, 192) << x.representation;
    EXPECT_TRUE(std::isfinite(x.metrics.at("auroc").value)) << x.representation << "/" << x.probe;
  }
  EXPECT_NE(result(r, "encoder", "linear").scores, result(r, "random", "linear").scores);
  // the encoder is compared with the random weights on the same 50 patient resamples
  const auto& enc = result(r, "encoder", "linear");
  EXPECT_EQ(enc.aurocVsRandom.resamples, 50);
  EXPECT_NEAR(enc.aurocVsRandom.value,
              enc.metrics.at("auroc").value - result(r, "random", "linear").metrics.at("auroc").value, 1e-12);
  EXPECT_LE(enc.aurocVsRandom.lower, enc.aurocVsRandom.value);
  EXPECT_GE(enc.aurocVsRandom.upper, enc.aurocVsRandom.value);
  EXPECT_EQ(result(r, "random", "knn").aurocVsRandom.resamples, 0);
  o.representations = {"random"};
  o.probes = {"linear"};
  EXPECT_EQ(jobs::runEvaluateCv(o).results[0].scores, result(r, "random", "linear").scores);
}

TEST_F(EvaluateCvLudb, BadTargetsAreClearErrors) {
  auto o = request();
  o.diagnosis = "Brugada syndrome";
  expectError(o, "no ECG has the diagnosis 'Brugada syndrome'");
  o = request();
  o.diagnosis.clear();
  o.labelKey = "no_such_label";
  o.labelValue = "1";
  expectError(o, "no study has the label 'no_such_label'");
  o = request();
  o.labelKey = "hypertrophies";
  o.labelValue = "x";
  expectError(o, "exactly one target");
  o = request();
  o.diagnosis.clear();
  expectError(o, "exactly one target");
  o = request();
  o.diagnosis = "Left ventricular overload";  // 11 records
  o.folds = 12;
  expectError(o, "too few positive patients for 12 folds: 11");
  o = request();
  o.folds = 1;
  expectError(o, "folds must be 2-20");
  o = request();
  o.representations = {"pixels"};
  expectError(o, "unknown representation 'pixels'");
  o = request();
  o.probes = {"svm"};
  expectError(o, "unknown probe 'svm'");
  o = request();
  o.knnK = 0;
  expectError(o, "k must be 1-1000");
}
