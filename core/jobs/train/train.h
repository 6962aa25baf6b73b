// The train job (docs/training-protocol.md): `pretrain` (CLIP-style ECG <-> multi-view echo),
// `ecg-pretrain` (ECG-only self-supervised), `lvef` / `shd` heads (linear, kNN, full fine-tuning,
// and the hand-crafted-feature baselines) and `echo-pretrain` (the per-view video encoder alone).
// Each run writes a resumable checkpoint per epoch, a card and a model bundle or head into its run
// directory, and registers a new model version. Progress goes to the caller as protocol events.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "jobs/job.h"

namespace e2e::jobs {

struct TrainRequest {
  std::string dbPath, task, method = "linear", runDir, device = "auto", filterText, labelKey;
  // The encoder to start from: a registered "ID:VERSION" (baseModel), or any resolveEmbeddingModel
  // spec ("ID:VERSION", "ID" or a bundle DIR; model). Neither: for lvef/shd the database's embedding
  // model (active echo2ecg-pretrain, else bundled), for pretrain a freshly initialised bundle.
  std::string baseModel, model;
  int epochs = 10, batchSize = 16;
  double lr = -1, weightDecay = -1;  // < 0: task default
  std::uint64_t seed = 0;
  bool resume = false, dryRun = false;
  int ecgDepth = 12;   // pretrain / ecg-pretrain of a fresh bundle: ECG encoder depth (12 = reference ViT)
  int videoSize = 64;  // pretrain / echo-pretrain of a fresh bundle: echo clip side in pixels
  // pretrain only: take the (frozen) video encoder of this bundle (resolveEmbeddingModel spec: a
  // registered "ID:VERSION" such as echo2ecg-echo-pretrain:1, or a bundle DIR) instead of a random one.
  std::string videoModel;
  double temperature = 0.5;  // pretrain: CLIP temperature (reference 0.5)
  double layerDecay = 0.75;  // pretrain / full: layer-wise lr decay over the ECG blocks (1 = off)
  // "auto" (bfloat16 autocast on CUDA, fp32 on the CPU), "bf16" (autocast on any device), "fp32".
  std::string precision = "auto";
  std::string targets;  // echo-pretrain: comma-separated report label keys ("" = lvef_percent,edv,esv,wall_mm,lv_mass_g)
  bool registerModel = true;
  // pretrain / ecg-pretrain / lvef / shd: the ECGs of these patients (patient row ids) are left out of
  // every part (train, val and test), as if not in the database; evaluate --pretrain-per-fold leaves
  // out each fold's test patients this way (issue 21).
  std::set<std::int64_t> excludePatients;
};

// Where a run's progress goes: protocol events (one JSON object each, with "event": start, step,
// epoch, checkpoint, cancelled, done, error) and human-readable lines.
struct TrainEvents {
  std::function<void(const nlohmann::ordered_json&)> event;
  std::function<void(const std::string&)> text;
};

enum class TrainStatus { Done, Failed, BadRequest, Cancelled };

struct TrainReport {
  TrainStatus status = TrainStatus::Failed;
  std::string message;             // why, when not Done
  std::string modelId, version;    // the registered version, when Done (not for --dry-run)
  // The patient row ids whose ECGs the run took (all three parts, before unreadable files are
  // dropped), ascending; filled by a finished pretrain / ecg-pretrain / lvef / shd run (not --dry-run).
  std::vector<std::int64_t> patients;
};

// Never throws: every failure is a report (and an `error` event).
TrainReport runTrain(const TrainRequest& request, const TrainEvents& events, const job::CancelToken& cancel = {});

}  // namespace e2e::jobs
