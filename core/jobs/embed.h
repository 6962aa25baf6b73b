// The embed job: the aligned ECG vector of every ECG, the view vector of every echo loop and the
// study vector of every echo study, with one embedding model, stored in the study database.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "db/database.h"
#include "jobs/job.h"
#include "model/precision.h"
#include "pipeline/embedding_model.h"

namespace e2e::jobs {

struct EmbedRequest {
  std::string model;         // resolveEmbeddingModel spec: "ID:VERSION", "ID", a bundle DIR, "" = active/bundled
  int batchSize = 16;
  // Read and preprocess the next batch on a second thread while the encoders run the current one
  // (pipeline::EmbedLoop); false: one after the other. Both store the same vectors.
  bool pipelined = true;
  int threads = 0;           // 0 = all cores
  std::string device = "auto";
  // Inference precision; nullopt = auto (bf16 on CUDA or a CPU with AVX512-BF16 / AMX, else fp32:
  // model/precision.h). The vectors are stored under the precision they were made in.
  model::PrecisionRequest precision;
  bool pruneStale = false;   // after a complete run: delete the stale rows of other versions (staleEmbeddingRows)
  // Progress per batch: stage "ecg" or "echo", items done / total to compute.
  std::function<void(const std::string& stage, int done, int total)> progress;
};

struct EmbedReport {
  std::string modelKey, weightsHash;  // "ID:VERSION" and the verified weights hash
  pipeline::EmbeddingModel model;     // model.precision: the precision the vectors were made in
  model::PrecisionChoice precision;   // the resolved precision and why
  int ecgAdded = 0, ecgSkipped = 0, viewAdded = 0, viewSkipped = 0, studyAdded = 0, studySkipped = 0, errors = 0;
  int studyUpdated = 0;  // study vectors re-made: the study's loops (or which of them decode) changed
  int studyDropped = 0;  // study vectors deleted: the study has no loop left that decodes
  std::vector<std::string> errorMessages;
  std::int64_t staleRows = 0, prunedRows = 0;  // rows of other versions of the model id: kept / deleted
  double seconds = 0;
  bool cancelled = false;
};

// Resolves the model (resolveEmbeddingModel), loads it checking its weights hash (a registered
// version's files must hash to the registered value: std::runtime_error otherwise), and stores what
// is missing. Throws before any work if the model cannot be used.
EmbedReport runEmbed(db::Database& db, const EmbedRequest& request, const job::CancelToken& cancel = {});

}  // namespace e2e::jobs
