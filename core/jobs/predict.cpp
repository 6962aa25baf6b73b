// The predict job (see predict.h).
#include "jobs/predict.h"

#include <cstdlib>

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
    EcgEmbedder ecg(db, pr.base);
    ecg.ensure(chosen, 16);
    rep.skipped.insert(rep.skipped.end(), ecg.errors.begin(), ecg.errors.end());
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
      Prediction p{s.ecgInstanceId, s.patientId, task, pr.modelId, pr.version, {}};
      for (std::size_t c = 0; c < classes.size(); ++c) {
        row.probabilities[classes[c]] = sc[0][c];
        p.probabilities.emplace_back(classes[c], sc[0][c]);
      }
      db.addPrediction(row);
      rep.predictions.push_back(std::move(p));
    }
  }
  return rep;
}

}  // namespace e2e::jobs
