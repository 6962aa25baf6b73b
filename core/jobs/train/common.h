// What every training task shares (internal to the train job): protocol events, the run
// directory's checkpoints, the epoch loop and the run record (start event, card, registry row,
// done event). Needs torch.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "db/database.h"
#include "jobs/train/train.h"
#include "pipeline/embedding_model.h"

namespace e2e::jobs::train {

using Json = nlohmann::ordered_json;

// A failure that ends the run with a status (BadRequest: exit 2, Failed: exit 1).
struct TrainError : std::runtime_error {
  TrainError(TrainStatus s, const std::string& msg) : std::runtime_error(msg), status(s) {}
  TrainStatus status;
};
[[noreturn]] inline void badRequest(const std::string& msg) { throw TrainError(TrainStatus::BadRequest, msg); }
[[noreturn]] inline void failed(const std::string& msg) { throw TrainError(TrainStatus::Failed, msg); }

// The training-protocol events (docs/training-protocol.md) through the caller's sinks.
struct Emitter {
  const TrainEvents& sinks;
  void event(const Json& j) const;
  void text(const std::string& s) const;
  void error(const std::string& msg) const;
  void step(std::int64_t epoch, int step, int totalSteps, double loss, double lr, double elapsed, double eta) const;
  void epochDone(std::int64_t epoch, double trainLoss, double valLoss, const Json& valMetrics) const;
  void checkpoint(std::int64_t epoch, const std::string& path) const;
  void cancelled(std::int64_t epoch, const std::string& path) const;
  // `cancelled` before any epoch ran: no checkpoint
  void cancelledBeforeTraining(std::int64_t epoch) const;
};

// "%.6g" of a number for text lines ("nan" for NaN).
std::string num(double v);

// The next free integer version of a registered model id.
std::string nextVersion(db::Database& db, const std::string& modelId);
// Seeded permutation of 0..n-1 for one epoch.
std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed, std::int64_t epoch);
// Consecutive slices of `items`, `n` at a time (the last one shorter).
std::vector<std::vector<std::size_t>> chunks(const std::vector<std::size_t>& items, std::size_t n);

// Checkpoints: epoch + module (+ optimiser), written atomically.
void saveCkpt(const std::string& path, std::int64_t epoch, torch::nn::Module& m, torch::optim::Optimizer* opt);
std::int64_t loadCkpt(const std::string& path, torch::nn::Module& m, torch::optim::Optimizer* opt);
std::string lastCkptPath(const std::string& runDir);

// "auto" = bfloat16 autocast on CUDA, fp32 on the CPU; "bf16" forces autocast (also on the CPU);
// "fp32" turns it off.
bool useAmp(const std::string& precision, const torch::Device& device);

// The run-dir rule of every training job: a run dir is required, and a checkpoint already in it is
// continued only with --resume (never overwritten). Throws TrainError(BadRequest).
void checkRunDir(const TrainRequest& o);

// The epoch loop every training job shares (docs/training-protocol.md): per epoch a seeded shuffle of
// the training items in batches, the learning-rate schedule (warm-up then cosine to 0.1x, or
// constant), one optimiser step per batch with gradient clipping, `step` events with the run's ETA,
// cancel -> checkpoint + `cancelled`, the validation loss, optional best-epoch selection (best.ckpt,
// kept across --resume) and a resumable checkpoint after every epoch.
struct EpochLoop {
  const Emitter& em;
  torch::nn::Module& module;
  torch::optim::Optimizer* opt = nullptr;  // may be null only when epochs == 0
  std::vector<double> groupScale;          // lr multiplier of each parameter group (empty: 1)
  std::string runDir;
  int epochs = 0, stepsPerEpoch = 0, batchSize = 1;
  std::size_t minBatch = 1;  // smaller batches are skipped (contrastive loss, BatchNorm)
  std::int64_t startEpoch = 0;
  std::uint64_t seed = 0;
  double lr = 1e-3;
  bool cosine = true;      // false: constant lr
  double clipNorm = 1.0;   // <= 0: no clipping
  bool selectBest = false;
  std::function<void(std::int64_t epoch)> beginEpoch;                 // optional, after module.train()
  std::function<torch::Tensor(const std::vector<std::size_t>&)> loss;  // training loss of a batch
  std::function<double()> valLoss;
  std::function<Json()> valMetrics;  // optional
  bool amp = false;
  torch::Device device = torch::kCPU;

  std::int64_t bestEpoch = -1;
  double bestVal = std::numeric_limits<double>::infinity();

  // Returns false when cancelled (the checkpoint is written and `cancelled` emitted).
  bool run(const std::vector<std::size_t>& train, const job::CancelToken& cancel);
  // Loads the selected epoch's weights (selectBest); false when there is none.
  bool restoreBest();

 private:
  std::string bestPath() const;
  std::string bestValPath() const;
  void loadBestSoFar();
  // One epoch's optimiser steps; false when cancelled mid-epoch.
  bool trainEpoch(std::int64_t epoch, const std::vector<std::size_t>& train, const job::CancelToken& cancel,
                  int& stepsDone, double& lossMean, std::chrono::steady_clock::time_point t0);
  void endEpoch(std::int64_t epoch, double trainLoss);
};

// What a training job records about itself, held once: the `start` event, card.json, the registry
// row and the `done` event are all built from it, so every job reports the common fields the same way.
struct RunRecord {
  const TrainRequest& o;
  std::string task, method, device, precision;
  Json split;  // {"train":{...},"val":{...},"test":{...}}
  std::vector<std::string> classes;
  bool synthetic = false;
  int epochs = 0, stepsPerEpoch = 0, batchSize = 0;
  double lr = 0, weightDecay = 0;
  // known once trained
  std::string modelId, version, parent, baseDir, weightsPath, bundleDir, weightsHash;
  std::string preprocessing = pipeline::kPreprocVersion;  // the trained bundle's ECG preprocessing
  Json testMetrics = Json::object();

  // `extra` fields go before "split".
  Json startEvent(std::int64_t startEpoch, bool resumed, const Json& extra = Json::object()) const;
  // card.json: identity, `fields`, preprocessing version, data (db, `data`, synthetic, split), recipe
  // (epochs, batch size, lr, weight decay, seed, device, precision, then `recipe`), seed, test metrics.
  Json card(const Json& fields, const Json& data, const Json& recipe) const;
  // Writes card.json atomically, registers and activates the version (unless not asked), then
  // emits `done` (`extra` goes before its classes).
  void finish(db::Database& db, const Emitter& em, const Json& card, const Json& extra = Json::object()) const;
};

// The `split` object of a training job, the fields of part p (0 train, 1 val, 2 test) from `partFields(p)`.
Json splitParts(const std::function<Json(int)>& partFields);

bool anySyntheticStudy(db::Database& db);

// Adds every field of `from` to `to` (in order).
void append(Json& to, const Json& from);

// The tasks (their own files).
TrainReport runEchoPretrain(const TrainRequest& o, const Emitter& em, const job::CancelToken& cancel);
TrainReport runModelTraining(const TrainRequest& o, const Emitter& em, const job::CancelToken& cancel);

}  // namespace e2e::jobs::train
