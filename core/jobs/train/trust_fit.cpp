// Calibration and OOD statistics of a model (see trust_fit.h).
#include "jobs/train/trust_fit.h"

#include <filesystem>

#include "common/files.h"
#include "jobs/train/common.h"
#include "pipeline/embedder.h"
#include "pipeline/predictor.h"
#include "common/text.h"

namespace fs = std::filesystem;

namespace e2e::jobs {

using Json = nlohmann::ordered_json;
using namespace e2e::pipeline;

CalibrationFit fitCalibration(const std::vector<int>& valTruth, const model::Scores& val,
                              const std::vector<int>& testTruth, const model::Scores& test) {
  CalibrationFit c;
  c.nVal = valTruth.size();
  c.nTest = testTruth.size();
  c.temperature = model::fitTemperature(valTruth, val);
  const auto valCal = model::applyTemperature(val, c.temperature);
  c.nllBefore = model::negativeLogLikelihood(valTruth, val);
  c.nllAfter = model::negativeLogLikelihood(valTruth, valCal);
  c.valBefore = model::calibrationSummary(valTruth, val, 15);
  c.valAfter = model::calibrationSummary(valTruth, valCal, 15);
  c.testBefore = model::calibrationSummary(testTruth, test, 15);
  c.testAfter = model::calibrationSummary(testTruth, model::applyTemperature(test, c.temperature), 15);
  return c;
}

namespace {
Json binsJson(const model::CalibrationSummary& s) {
  Json a = Json::array();
  for (const auto& b : s.bins)
    a.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}, {"confidence", b.confidence},
                 {"accuracy", b.accuracy}});
  return a;
}
}  // namespace

Json calibrationJson(const CalibrationFit& c) {
  return Json{{"method", "temperature scaling (NLL minimised by golden-section search on log T)"},
              {"fitted_on", "val"},
              {"temperature", c.temperature},
              {"n_val", c.nVal},
              {"nll_before", c.nllBefore},
              {"nll_after", c.nllAfter},
              {"bins", 15},
              {"ece_before", c.valBefore.ece},
              {"ece_after", c.valAfter.ece},
              {"reliability_before", binsJson(c.valBefore)},
              {"reliability_after", binsJson(c.valAfter)},
              {"test", {{"n", c.nTest}, {"ece_before", c.testBefore.ece}, {"ece_after", c.testAfter.ece}}}};
}

Json oodJson(const model::OodStats& s, const std::string& file, const std::string& encoderHash) {
  return Json{{"method", "Mahalanobis distance of the aligned ECG embedding, Ledoit-Wolf shrinkage covariance"},
              {"file", file},
              {"encoder_weights_hash", encoderHash},
              {"dim", s.dim()},
              {"n_train", s.nTrain},
              {"n_val", s.nVal},
              {"shrinkage", s.shrinkage},
              {"threshold", s.threshold},
              {"percentile", 99}};
}

namespace {
// Labelled probabilities of the bundled head of `task` on the samples of one split.
void headScores(Predictor& pr, const std::vector<Sample>& samples, const std::vector<int>& split, int part,
                const EcgEmbedder& ecg, std::vector<int>& truth, model::Scores& scores) {
  std::vector<std::vector<float>> feats;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const int y = labelFor(samples[i], pr.task);
    const auto* v = ecg.find(samples[i].ecgInstanceId);
    if (split[i] != part || y < 0 || !v) continue;
    feats.push_back(*v);
    truth.push_back(y);
  }
  scores = pr.scores(feats);
}

Json fitHeads(db::Database& db, const std::string& dir, const std::vector<Sample>& samples,
              const std::vector<int>& split, const EcgEmbedder& ecg, OodFitReport& rep) {
  Json cal = Json::object();
  for (const std::string task : {"lvef", "shd"}) {
    if (!fs::exists(fs::path(dir) / (task + "_head.pt"))) continue;
    Predictor pr = loadPredictor(db, task, "", dir);
    std::vector<int> vt, tt;
    model::Scores vs, ts;
    headScores(pr, samples, split, 1, ecg, vt, vs);
    headScores(pr, samples, split, 2, ecg, tt, ts);
    if (vt.empty()) continue;  // no labels of this task: no temperature
    rep.calibration[task] = fitCalibration(vt, vs, tt, ts);
    cal[task] = calibrationJson(rep.calibration[task]);
  }
  return cal;
}
}  // namespace

namespace {
// Input-side statistics (model::ecgInputFeatures of each embedded ECG's model input), fitted like the
// embedding statistics: training split for the mean and covariance, validation split for the threshold.
void fitInputStats(const std::vector<Sample>& samples, const std::vector<int>& split, const EcgEmbedder& ecg,
                   const std::string& preproc, const job::CancelToken& cancel, OodFitReport& rep) {
  std::vector<std::vector<float>> part[3];
  for (std::size_t i = 0; i < samples.size() && !cancel.cancelled(); ++i) {
    if (!ecg.find(samples[i].ecgInstanceId)) continue;
    try {
      part[split[i]].push_back(model::ecgInputFeatures(ecgInputFromSample(samples[i], preproc),
                                                       static_cast<std::int64_t>(kEcgLeads), kEcgHz));
    } catch (const std::exception& e) {
      rep.skipped.push_back(samples[i].ecgPath + ": " + errorText(e));
    }
  }
  if (cancel.cancelled()) throw std::runtime_error("cancelled");
  rep.inputStats = model::fitOod(part[0], part[1]);
  rep.valInputDistances = rep.inputStats.distances(part[1]);
  rep.testInputDistances = rep.inputStats.distances(part[2]);
}
}  // namespace

OodFitReport runOodFit(const OodFitRequest& o, const job::CancelToken& cancel) {
  setThreads(0);
  db::Database db(o.dbPath);
  OodFitReport rep;
  rep.dir = requireModelsDir(o.modelDir);
  Bundle base = loadBundle(rep.dir);
  requireEcgSide(base, rep.dir);
  base.precision = model::Precision::Fp32;  // fp32 embeddings whatever E2E_PRECISION says
  const auto samples = loadSamples(db);
  const auto split = splitByPatient(samples, o.seed);
  EcgEmbedder ecg(db, base);
  const auto unchanged = withUnchangedEcgFiles(
      samples, [&](std::int64_t id) { return !db.getEmbedding(ecg.key(id)); }, ecg.errors);
  ecg.ensure(unchanged, 16, cancel);
  if (cancel.cancelled()) throw std::runtime_error("cancelled");
  rep.skipped = ecg.errors;
  std::vector<std::vector<float>> part[3];
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (const auto* v = ecg.find(samples[i].ecgInstanceId)) part[split[i]].push_back(*v);
  rep.train = part[0].size();
  rep.val = part[1].size();
  rep.test = part[2].size();
  if (rep.train < 20 || rep.val < 5)
    throw std::invalid_argument("too few ECGs in " + o.dbPath + " for OOD statistics (" + std::to_string(rep.train) +
                                " train, " + std::to_string(rep.val) + " val embedded; at least 20 and 5 needed)");
  rep.stats = model::fitOod(part[0], part[1]);
  fitInputStats(samples, split, ecg, base.preprocVersion, cancel, rep);
  rep.valDistances = rep.stats.distances(part[1]);
  rep.testDistances = rep.stats.distances(part[2]);
  rep.oodFile = (fs::path(rep.dir) / "ood.pt").string();
  model::saveOod(rep.stats, rep.oodFile);
  Json trust{{"ood", oodJson(rep.stats, "ood.pt", base.hash)}};
  rep.inputFile = (fs::path(rep.dir) / "ood_input.pt").string();
  model::saveOod(rep.inputStats, rep.inputFile);
  trust["ood"]["input_file"] = "ood_input.pt";
  trust["ood"]["input_features"] = "per lead: log SD and log power fraction in 0-0.5, 0.5-2, 2-5, 5-10, 10-20, 20-50 Hz";
  trust["ood"]["input_dim"] = rep.inputStats.dim();
  trust["ood"]["input_shrinkage"] = rep.inputStats.shrinkage;
  trust["ood"]["input_threshold"] = rep.inputStats.threshold;
  trust["calibration"] = fitHeads(db, rep.dir, samples, split, ecg, rep);
  trust["data"] = Json{{"db", fs::path(o.dbPath).filename().string()},
                       {"synthetic", train::anySyntheticStudy(db)},
                       {"split_seed", o.seed},
                       {"ecgs", {{"train", rep.train}, {"val", rep.val}, {"test", rep.test}}}};
  rep.trustFile = trustJsonPath(rep.dir);
  writeFileAtomic(rep.trustFile, trust.dump(2) + "\n");
  return rep;
}

}  // namespace e2e::jobs
