// The evaluate job (see evaluate.h).
#include "jobs/evaluate.h"

#include "pipeline/embedder.h"
#include "pipeline/predictor.h"

namespace e2e::jobs {

using namespace e2e::pipeline;

EvaluateReport runEvaluate(const EvaluateRequest& o) {
  setThreads(0);
  db::Database db(o.dbPath);
  auto pr = loadPredictor(db, o.task, o.model, o.modelDir);
  pr.base.precision = model::Precision::Fp32;  // fp32 embeddings whatever E2E_PRECISION says
  std::vector<Sample> samples;
  std::vector<int> labels;
  for (auto& s : loadSamples(db))
    if (int y = labelFor(s, o.task); y >= 0) {
      samples.push_back(s);
      labels.push_back(y);
    }
  const std::uint64_t seed = o.seed ? o.seed : pr.seed;
  const auto split = splitByPatient(samples, seed);
  std::vector<Sample> test;
  std::vector<int> truth;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (split[i] == 2) {
      test.push_back(samples[i]);
      truth.push_back(labels[i]);
    }
  if (test.empty()) throw std::runtime_error("no labelled test samples");
  EcgEmbedder ecg(db, pr.base);
  // a file replaced since import is never decoded (its vector would stand for another recording)
  ecg.ensure(withUnchangedEcgFiles(test, [&](std::int64_t id) { return !db.getEmbedding(ecg.key(id)); }, ecg.errors), 16);
  std::vector<std::vector<float>> feats;
  std::vector<int> evaluated;
  for (std::size_t i = 0; i < test.size(); ++i)
    if (const auto* v = ecg.find(test[i].ecgInstanceId)) {
      feats.push_back(*v);
      evaluated.push_back(truth[i]);
    }
  EvaluateReport rep;
  rep.modelId = pr.modelId;
  rep.version = pr.version;
  rep.task = o.task;
  rep.method = pr.method;
  rep.seed = seed;
  rep.metrics = metricsWithCi(evaluated, pr.scores(feats), o.bootstrap);
  return rep;
}

}  // namespace e2e::jobs
