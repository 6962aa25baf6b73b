// The predict job (see predict.h).
#include "jobs/predict.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "net/results_sr.h"
#include "pipeline/embedder.h"
#include "pipeline/predictor.h"

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
      rep.srSkipped.push_back(inst->path + ": " + e.what());
      continue;
    }
    req.model = {p.modelId, p.version, p.weightsHash, p.syntheticTraining};
    net::SrTaskPrediction t;
    t.task = kTaskNames.count(p.task) ? kTaskNames.at(p.task) : p.task;
    for (const auto& [cls, prob] : p.probabilities) t.classes.push_back({cls, prob});
    req.predictions.push_back(t);
    const std::string out = (std::filesystem::path(dir) / (inst->sopInstanceUid + "_" + p.task + ".dcm")).string();
    net::writePredictionSr(req, out);
    rep.srFiles.push_back(out);
  }
}
}  // namespace

PredictReport runPredict(const PredictRequest& o) {
  setThreads(0);
  db::Database db(o.dbPath);
  PredictReport rep;
  const auto chosen = chooseSamples(db, o.ids);
  rep.ecgsChosen = chosen.size();
  for (const std::string task : {"lvef", "shd"}) {
    Predictor pr;
    try {
      pr = loadPredictor(db, task, "", o.modelDir);
    } catch (const std::exception& e) {
      rep.taskErrors[task] = e.what();
      continue;
    }
    const bool synthetic = trainedOnSynthetic(db, pr);
    EcgEmbedder ecg(db, pr.base);
    // A file replaced since import is never decoded: its probabilities would be stored under
    // another recording's instance.
    const auto unchanged = withUnchangedEcgFiles(
        chosen, [&](std::int64_t id) { return !db.getEmbedding(ecg.key(id)); }, ecg.errors);
    ecg.ensure(unchanged, 16);
    for (const auto& e : ecg.errors)
      if (std::find(rep.skipped.begin(), rep.skipped.end(), e) == rep.skipped.end()) rep.skipped.push_back(e);
    const auto classes = classNames(task);
    for (auto& s : chosen) {
      const auto* v = ecg.find(s.ecgInstanceId);
      if (!v) continue;
      const auto sc = pr.scores({*v});
      db::PredictionRow row;
      row.instanceRowId = s.ecgInstanceId;
      row.modelId = pr.modelId;
      row.modelVersion = pr.version;
      row.weightsHash = pr.weightsHash;
      row.task = task;
      Prediction p{s.ecgInstanceId, s.patientId, task, pr.modelId, pr.version, pr.weightsHash, synthetic, {}};
      for (std::size_t c = 0; c < classes.size(); ++c) {
        row.probabilities[classes[c]] = sc[0][c];
        p.probabilities.emplace_back(classes[c], sc[0][c]);
      }
      db.addPrediction(row);
      rep.predictions.push_back(std::move(p));
    }
  }
  if (!o.srDir.empty()) writeSrs(db, o.srDir, rep);
  return rep;
}

}  // namespace e2e::jobs
