// The predict job (see predict.h).
#include "jobs/predict.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/reader.h"
#include "model/calibration.h"
#include "net/results_sr.h"
#include "pipeline/embedder.h"
#include "pipeline/predictor.h"
#include "signal/ecg_quality.h"
#include "common/text.h"

namespace e2e::jobs {

using namespace e2e::pipeline;

namespace {
// The samples the request names (row ids or SOP Instance UIDs), or all of them.
std::vector<Sample> chooseSamples(db::Database& db, const std::vector<std::string>& ids) {
  auto all = loadSamples(db);
  if (ids.empty()) return all;
  std::vector<Sample> chosen;
  for (auto& id : ids) {
    std::optional<std::int64_t> row;
    char* end = nullptr;
    const long long v = std::strtoll(id.c_str(), &end, 10);
    if (end && *end == '\0' && !id.empty()) row = v;
    else if (auto inst = db.instanceByUid(id)) row = inst->id;
    bool found = false;
    for (auto& s : all)
      if (row && s.ecgInstanceId == *row) {
        chosen.push_back(s);
        found = true;
      }
    if (!found) throw std::invalid_argument("no ECG instance " + id);
  }
  return chosen;
}
}  // namespace

namespace {
// The bundle says whether its encoder was trained on synthetic data; a registered head's card says
// whether its own training data was.
bool trainedOnSynthetic(db::Database& db, const Predictor& pr) {
  if (pr.base.syntheticTrainingData) return true;
  if (auto row = findModel(db, pr.modelId, pr.version)) {
    const auto card = nlohmann::json::parse(row->cardJson, nullptr, false);
    if (card.is_object() && card.contains("data") && card["data"].is_object())
      return card["data"].value("synthetic", false);
  }
  return false;
}

// One SR per DICOM ECG and task (a WFDB or vendor-export ECG has no study in the PACS to link to).
void writeSrs(db::Database& db, const std::string& dir, PredictReport& rep) {
  std::filesystem::create_directories(dir);
  static const std::map<std::string, std::string> kTaskNames = {{"lvef", "LVEF class"}, {"shd", "SHD"}};
  for (const auto& p : rep.predictions) {
    const auto inst = db.instanceById(p.ecgInstanceId);
    if (!inst) continue;
    if (inst->format != "DICOM-ECG") {
      rep.srSkipped.push_back(inst->path + ": not a DICOM object (" + inst->format +
                              "): an SR needs the ECG's study in the PACS");
      continue;
    }
    net::PredictionSrRequest req;
    try {
      req.source = net::SrSourceStudy::fromDicomFile(inst->path);
    } catch (const std::exception& e) {
      rep.srSkipped.push_back(inst->path + ": " + errorText(e));
      continue;
    }
    req.model = {p.modelId, p.version, p.weightsHash, p.syntheticTraining};
    net::SrTaskPrediction t;
    t.task = kTaskNames.count(p.task) ? kTaskNames.at(p.task) : p.task;
    for (const auto& [cls, prob] : p.probabilities) t.classes.push_back({cls, prob});
    net::SrTrust trust;
    trust.qualityScore = p.qualityScore;
    trust.qualityUsable = p.qualityUsable;
    trust.qualityReason = p.qualityReason;
    trust.oodScore = p.oodScore;
    trust.oodThreshold = p.oodThreshold;
    trust.ood = p.ood;
    trust.oodInputScore = p.oodInputScore;
    trust.oodInputThreshold = p.oodInputThreshold;
    t.trust = trust;
    req.predictions.push_back(t);
    const std::string out = (std::filesystem::path(dir) / (inst->sopInstanceUid + "_" + p.task + ".dcm")).string();
    net::writePredictionSr(req, out);
    rep.srFiles.push_back(out);
  }
}
}  // namespace

namespace {
void addSkipped(PredictReport& rep, const std::string& e) {
  if (std::find(rep.skipped.begin(), rep.skipped.end(), e) == rep.skipped.end()) rep.skipped.push_back(e);
}

// The signal quality of each chosen ECG, from its samples as read (issue 23); an ECG whose file
// changed since import or cannot be read is skipped with the reason.
std::map<std::int64_t, signal::EcgQuality> assessQuality(const std::vector<Sample>& chosen, PredictReport& rep) {
  std::map<std::int64_t, signal::EcgQuality> out;
  for (const auto& s : chosen) {
    try {
      requireUnchanged(s.ecgPath, s.ecgSha256);
      auto obj = readAny(s.ecgPath);
      if (!std::holds_alternative<EcgRecord>(obj)) throw ReadError(s.ecgPath, "not an ECG");
      out[s.ecgInstanceId] = signal::assessEcgQuality(std::get<EcgRecord>(obj));
    } catch (const std::exception& e) {
      addSkipped(rep, s.ecgPath + ": " + errorText(e));
    }
  }
  return out;
}

Prediction basePrediction(const Sample& s, const Predictor& pr, const std::string& task, bool synthetic,
                          const signal::EcgQuality& q) {
  Prediction p;
  p.ecgInstanceId = s.ecgInstanceId;
  p.patientId = s.patientId;
  p.task = task;
  p.modelId = pr.modelId;
  p.version = pr.version;
  p.weightsHash = pr.weightsHash;
  p.syntheticTraining = synthetic;
  p.precision = model::precisionName(pr.base.precision);
  p.temperature = pr.temperature;
  p.calibrated = pr.calibrated;
  p.qualityScore = q.score;
  p.qualityUsable = q.usable;
  p.qualityReason = q.usable ? "" : (q.reason.empty() ? "signal quality too low" : q.reason);
  for (const auto& i : q.issues) p.qualityIssues.push_back({i.lead, i.code, signal::toString(i.severity), i.message});
  if (pr.ood) p.oodThreshold = pr.ood->threshold;
  return p;
}

// The probabilities, calibrated probabilities and OOD scores of a usable ECG (its embedding `v`).
void score(Predictor& pr, const Sample& s, const std::vector<float>& v, Prediction& p) {
  const auto classes = classNames(p.task);
  const auto sc = pr.scores({v});
  const auto cal = pr.calibrated ? model::applyTemperature(sc, pr.temperature) : sc;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    p.probabilities.emplace_back(classes[c], sc[0][c]);
    p.calibratedProbabilities.emplace_back(classes[c], cal[0][c]);
  }
  if (pr.ood) p.oodScore = pr.ood->distance(v);
  p.ood = model::oodFlag(pr.ood, p.oodScore);
  if (pr.oodInput && p.ood != "unknown") {
    const auto in = ecgInputFromSample(s, pr.base.preprocVersion);
    p.oodInputScore = pr.oodInput->distance(model::ecgInputFeatures(in, static_cast<std::int64_t>(kEcgLeads), kEcgHz));
    p.oodInputThreshold = pr.oodInput->threshold;
    if (pr.oodInput->isOut(p.oodInputScore)) p.ood = "out";
  }
}

db::PredictionRow toRow(const Prediction& p) {
  db::PredictionRow row;
  row.instanceRowId = p.ecgInstanceId;
  row.modelId = p.modelId;
  row.modelVersion = p.version;
  row.weightsHash = p.weightsHash;
  row.task = p.task;
  for (const auto& [c, v] : p.probabilities) row.probabilities[c] = v;
  for (const auto& [c, v] : p.calibratedProbabilities) row.calibratedProbabilities[c] = v;
  row.qualityScore = p.qualityScore;
  row.qualityUsable = p.qualityUsable;
  row.qualityReason = p.qualityReason;
  if (std::isfinite(p.oodScore)) row.oodScore = p.oodScore;
  row.ood = p.ood;
  row.syntheticTraining = p.syntheticTraining;
  row.precision = p.precision;
  return row;
}

// One task over the chosen ECGs: declined rows for unusable ones, scored rows for the others.
void predictTask(db::Database& db, const std::string& task, Predictor& pr, const std::vector<Sample>& chosen,
                 const std::map<std::int64_t, signal::EcgQuality>& quality, PredictReport& rep) {
  const bool synthetic = trainedOnSynthetic(db, pr);
  std::vector<Sample> usable;
  for (const auto& s : chosen)
    if (auto q = quality.find(s.ecgInstanceId); q != quality.end() && q->second.usable) usable.push_back(s);
  EcgEmbedder ecg(db, pr.base);
  // A file replaced since import is never decoded: its probabilities would be stored under
  // another recording's instance.
  const auto unchanged = withUnchangedEcgFiles(
      usable, [&](std::int64_t id) { return !db.getEmbedding(ecg.key(id)); }, ecg.errors);
  ecg.ensure(unchanged, 16);
  for (const auto& e : ecg.errors) addSkipped(rep, e);
  for (const auto& s : chosen) {
    const auto q = quality.find(s.ecgInstanceId);
    if (q == quality.end()) continue;
    Prediction p = basePrediction(s, pr, task, synthetic, q->second);
    if (p.qualityUsable) {
      const auto* v = ecg.find(s.ecgInstanceId);
      if (!v) continue;
      try {
        score(pr, s, *v, p);
      } catch (const std::exception& e) {  // the file changed or became unreadable since embedding
        addSkipped(rep, s.ecgPath + ": " + errorText(e));
        continue;
      }
    }
    db.addPrediction(toRow(p));
    rep.predictions.push_back(std::move(p));
  }
}
}  // namespace

PredictReport runPredict(const PredictRequest& o) {
  setThreads(0);
  db::Database db(o.dbPath);
  PredictReport rep;
  const auto chosen = chooseSamples(db, o.ids);
  rep.ecgsChosen = chosen.size();
  const auto quality = assessQuality(chosen, rep);
  // auto: the machine's default, the one `echo2ecg embed` stores by default (bf16 where CUDA is usable)
  rep.precision = model::resolvePrecision(o.precision, pickDevice("auto").is_cuda());
  for (const std::string task : {"lvef", "shd"}) {
    Predictor pr;
    try {
      pr = loadPredictor(db, task, "", o.modelDir);
    } catch (const std::exception& e) {
      rep.taskErrors[task] = errorText(e);
      continue;
    }
    pr.base.precision = rep.precision.precision;
    predictTask(db, task, pr, chosen, quality, rep);
  }
  if (!o.srDir.empty()) writeSrs(db, o.srDir, rep);
  return rep;
}

}  // namespace e2e::jobs
