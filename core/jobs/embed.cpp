// The embed job (see embed.h).
#include "jobs/embed.h"

#include <chrono>

#include "pipeline/bundle.h"
#include "pipeline/embedder.h"

namespace e2e::jobs {

using namespace e2e::pipeline;

EmbedReport runEmbed(db::Database& db, const EmbedRequest& req, const job::CancelToken& cancel) {
  EmbedReport rep;
  const auto t0 = std::chrono::steady_clock::now();
  setThreads(req.threads);
  rep.model = resolveEmbeddingModel(db, req.model);
  Bundle b = loadEmbeddingBundle(rep.model);
  requireEcgSide(b, rep.model.label());
  const torch::Device device = pickDevice(req.device);
  b.to(device);
  rep.precision = model::resolvePrecision(req.precision, device.is_cuda());
  b.precision = rep.precision.precision;
  rep.model.precision = rep.precision.name();
  rep.modelKey = rep.model.label();
  rep.weightsHash = rep.model.weightsHash;
  auto stage = [&](const char* name) -> BatchProgress {
    if (!req.progress) return {};
    return [&req, name](int done, int total) { req.progress(name, done, total); };
  };
  EcgEmbedder ecg(db, b);
  ecg.pipelined = req.pipelined;
  // A file replaced since import is never decoded (its vector would be stored under another recording).
  const auto samples = withUnchangedEcgFiles(
      loadSamples(db), [&](std::int64_t id) { return !db.getEmbedding(ecg.key(id)); }, ecg.errors);
  ecg.ensure(samples, req.batchSize, cancel, stage("ecg"));
  EchoEmbedder echo(db, b);
  echo.pipelined = req.pipelined;
  if (!cancel.cancelled() && b.role != "ecg-encoder")  // an ECG-only encoder has no trained echo side
    embedAllEcho(echo, std::max(1, req.batchSize / 2), cancel, stage("echo"));
  rep.ecgAdded = ecg.added;
  rep.ecgSkipped = ecg.skipped;
  rep.viewAdded = echo.viewAdded;
  rep.viewSkipped = echo.viewSkipped;
  rep.studyAdded = echo.studyAdded;
  rep.studyUpdated = echo.studyUpdated;
  rep.studyDropped = echo.studyDropped;
  rep.studySkipped = echo.studySkipped;
  rep.errorMessages = ecg.errors;
  rep.errorMessages.insert(rep.errorMessages.end(), echo.errors.begin(), echo.errors.end());
  rep.errors = static_cast<int>(rep.errorMessages.size());
  rep.cancelled = cancel.cancelled();
  // Rows of other versions of this model id are stale: kept unless asked (never deleted by default),
  // and only after a complete run.
  if (req.pruneStale && !rep.cancelled) rep.prunedRows = staleEmbeddingRows(db, rep.model, true);
  rep.staleRows = staleEmbeddingRows(db, rep.model, false);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace e2e::jobs
