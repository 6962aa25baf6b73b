// Embeddings in the study database: the ECG and echo-loop vectors of a bundle, read from the
// database when stored and otherwise computed in batches and stored (one transaction per batch),
// and the study vectors made from a study's loop vectors. Used by the embed, train, evaluate,
// predict and retrieve jobs. Needs torch.
// The encoders run in the bundle's precision (Bundle::precision: fp32, or bfloat16 autocast) and the
// vectors are stored and looked up under it (EmbeddingKey::precision).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/types.h"
#include "db/database.h"
#include "jobs/job.h"
#include "pipeline/bundle.h"
#include "pipeline/data.h"

namespace e2e::pipeline {

// Items done / total of one batch loop.
using BatchProgress = std::function<void(int done, int total)>;

// How the embedders run their batches: `batch` inputs per encoder call; pipelined: the next batch's
// files are read and preprocessed on a second thread while the encoder runs the current one (at most
// one batch ahead). Both give the same stored vectors, error lines and progress calls.
struct EmbedLoop {
  int batch = 16;
  bool pipelined = true;
};

// Echo frames of a DICOM US file or a video file (by extension).
EchoFrames readEchoFrames(const std::string& path);

// Only the frames of the clip `spec` takes from that loop (model::clipFrameIndices), in clip order:
// model::prepareClipFromPicked(readEchoFrames(path, spec), spec) equals
// model::prepareClip(readEchoFrames(path), spec, startFrame), with memory bounded by the clip.
EchoFrames readEchoFrames(const std::string& path, const model::VideoInputSpec& spec, int startFrame = 0);

// [n, 12, 1008] from n preprocessed ECG inputs; one row of a tensor as floats; [n, D] from n rows.
torch::Tensor ecgBatchTensor(const std::vector<std::vector<float>>& xs);
std::vector<float> rowVec(const torch::Tensor& t);
torch::Tensor featTensor(const std::vector<std::vector<float>>& rows);

// Aligned ECG embeddings of a bundle, by ECG instance row id: stored ones are read, missing ones
// computed and stored. A file that cannot be read is an error line (errors), not a stop.
struct EcgEmbedder {
  db::Database& db;
  Bundle& bundle;
  std::map<std::int64_t, std::vector<float>> byInstance;
  int added = 0, skipped = 0;
  std::vector<std::string> errors;
  bool pipelined = true;  // read the next batch while the encoder runs (EmbedLoop)

  EcgEmbedder(db::Database& d, Bundle& b) : db(d), bundle(b) {}
  db::EmbeddingKey key(std::int64_t instance) const;
  void ensure(const std::vector<Sample>& samples, int batch, const job::CancelToken& cancel = {},
              const BatchProgress& progress = {});
  const std::vector<float>* find(std::int64_t instance) const;
};

// Per-loop view embeddings of a bundle (by echo instance row id), and the counts of the study
// vectors that embedAllEcho makes from them.
struct EchoEmbedder {
  db::Database& db;
  Bundle& bundle;
  std::map<std::int64_t, std::vector<float>> views;
  int viewAdded = 0, viewSkipped = 0, studyAdded = 0, studyUpdated = 0, studySkipped = 0, studyDropped = 0;
  std::vector<std::string> errors;
  bool pipelined = true;  // read the next batch while the encoder runs (EmbedLoop)

  EchoEmbedder(db::Database& d, Bundle& b) : db(d), bundle(b) {}
  db::EmbeddingKey viewKey(std::int64_t instance) const;
  db::EmbeddingKey studyKey(std::int64_t study) const;
  // loops: (instance id, path). Each loop read here gets its decode error recorded in the database
  // ('' when it decoded).
  void ensureViews(const std::vector<std::pair<std::int64_t, std::string>>& loops, int batch,
                   const job::CancelToken& cancel = {}, const BatchProgress& progress = {});
};

// Every echo study in the database: study row id -> its (loop id, path) list in loop order, and
// study -> patient row, study UID, patient ID.
struct EchoStudies {
  std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::string>>> loops;
  std::map<std::int64_t, std::int64_t> patientOf;
  std::map<std::int64_t, std::string> uidOf, patientIdOf;
};
EchoStudies listEchoStudies(db::Database& db);

// Every loop of every echo study gets its view vector (each loop without one is tried again, so an
// undecodable loop is reported on every run), then every study whose stored vector was made from
// other loops than it has now (loops imported into or deleted from it since, a loop that decodes
// now, or a vector written before inputs were recorded) gets its vector (re)made.
void embedAllEcho(EchoEmbedder& echo, int batch, const job::CancelToken& cancel = {},
                  const BatchProgress& progress = {});

}  // namespace e2e::pipeline
