// Training building blocks for Echo2ECG: ECG augmentations, layer-wise lr decay (LLRD) AdamW,
// warmup + cosine schedule, and trainers for contrastive pretraining and linear probing with
// deterministic seeding, per-epoch checkpoints (model + optimizer + epoch + RNG) and resume, and a
// JSON-lines metrics log. Data sources are abstract (ContrastiveDataset / LabeledDataset).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/metrics.h"
#include "model/model.h"

namespace e2e::model {

// ------------------------------------------------------------------ augmentations ----

// Training augmentations of the reference (OTiS ECG transforms), as tensor ops on [B, L, T].
struct EcgAugmentConfig {
  int64_t cropLength = 1008;       // random crop (T must be >= cropLength; shorter input is zero-padded)
  double ftSurrogateProb = 0.5;    // FT surrogate: random phase noise in the Fourier domain
  double ftPhaseNoise = 0.075;     // phase ~ U(0, 2*pi*ftPhaseNoise) per frequency, shared by leads
  // Multiplicative jitter x * (1 + N(0, sigma)) per sample point. The reference Jitter adds
  // amplitude * x * sigma * N(0,1) with sigma 0.2 (Echo2ECG config) and amplitude 0.6: 0.12.
  double jitterSigma = 0.12;
  double rescaleSigma = 0.5;       // rescaling x * N(1, sigma) per ECG (one factor for all leads)
  double timeFlipProb = 0.33;
  double signFlipProb = 0.33;
};

// Random crop only (all samples of the batch get independent offsets).
torch::Tensor randomCrop(const torch::Tensor& ecg, int64_t length);
torch::Tensor ftSurrogate(const torch::Tensor& ecg, double phaseNoise, double prob);
// The full augmentation chain: crop, FT surrogate, jitter, rescaling, time flip, sign flip.
// Uses torch's default generator (seed it with torch::manual_seed for reproducibility).
torch::Tensor augmentEcg(const torch::Tensor& ecg, const EcgAugmentConfig& cfg);

// ------------------------------------------------------------------ optimisation ----

struct ParamGroupInfo {
  std::string name;      // e.g. "layer_3_decay"
  int layerId = 0;       // 0 = patch/pos embed + cls, 1..depth = blocks, depth + 1 = heads
  double lrScale = 1.0;  // layerDecay^(depth + 1 - layerId)
  double weightDecay = 0.0;
  std::vector<std::string> params;
};

// timm/MAE param_groups_lrd: patch_embed, pos_embed_*, cls_token -> layer 0 (scale decay^(depth+1));
// blocks.i -> layer i+1 (scale decay^(depth-i)); everything else (fc_norm, aggregator, heads) -> 1.
// 1-D tensors, biases, cls_token and pos embeddings get no weight decay. `encoderPrefix` is the
// name prefix of the ECG encoder inside `model` ("ecg_encoder." for Echo2Ecg, "" for an EcgEncoder).
std::vector<ParamGroupInfo> llrdParamGroups(const torch::nn::Module& model, double weightDecay, double layerDecay,
                                            int64_t depth, const std::string& encoderPrefix = "ecg_encoder.");

// AdamW over the groups; every group's lr is baseLr * lrScale (the scales are kept in `scales`).
struct LlrdOptimizer {
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::vector<ParamGroupInfo> groups;
  void setLr(double baseLr);  // sets each group's lr to baseLr * its scale
  std::vector<double> groupLrs() const;
};
LlrdOptimizer makeLlrdAdamW(torch::nn::Module& model, double baseLr, double weightDecay, double layerDecay,
                            int64_t depth, const std::string& encoderPrefix = "ecg_encoder.");

// Linear warmup from 0 to baseLr over warmupEpochs, then half-cosine to minLr at totalEpochs.
// `epoch` is fractional (epoch + step / stepsPerEpoch), as in the MAE lr_sched.adjust_learning_rate.
double warmupCosineLr(double epoch, double baseLr, double minLr, double warmupEpochs, double totalEpochs);

// ------------------------------------------------------------------ data ----

struct ContrastiveBatch {
  torch::Tensor ecg;    // [B, 12, T] (T >= 1008 when augmenting; cropped to 1008 otherwise)
  torch::Tensor views;  // [B, V, 512] per-view echo embeddings (from a frozen VideoEncoder)
  torch::Tensor valid;  // [B, V] bool
};

class ContrastiveDataset {
 public:
  virtual ~ContrastiveDataset() = default;
  virtual int64_t numBatches() const = 0;
  // Must be deterministic in (epoch, index) for exact resume; shuffling is the dataset's job.
  virtual ContrastiveBatch batch(int64_t epoch, int64_t index) = 0;
};

struct LabeledBatch {
  torch::Tensor ecg;     // [B, 12, 1008]
  torch::Tensor labels;  // [B] int64 class ids
};

class LabeledDataset {
 public:
  virtual ~LabeledDataset() = default;
  virtual int64_t numBatches() const = 0;
  virtual LabeledBatch batch(int64_t epoch, int64_t index) = 0;
};

// ------------------------------------------------------------------ trainers ----

struct TrainConfig {
  int64_t epochs = 10;
  double lr = 5e-4;
  double minLrFactor = 0.1;  // cosine floor = minLrFactor * lr
  double weightDecay = 1e-7;
  double layerDecay = 0.75;
  double warmupEpochs = 1.0;
  double temperature = 0.5;
  double lambda = 0.5;
  double gradClip = 0.0;     // max global grad norm, 0 = off
  uint64_t seed = 0;
  bool augment = true;
  EcgAugmentConfig augmentation;
  bool amp = true;           // bfloat16 autocast on CUDA (model/autocast.h)
  bool ampOnCpu = false;     // ... and on the CPU too (worth it with AVX512-BF16 / AMX)
  torch::Device device = torch::kCPU;
  std::string outDir;        // checkpoints + metrics.jsonl; empty = none
  bool resume = true;        // fit() resumes from outDir/last.ckpt when present
};

struct EpochStats {
  int64_t epoch = 0;
  double loss = 0;
  double lr = 0;
  double seconds = 0;
  int64_t samples = 0;
};

// Contrastive pretraining of Echo2Ecg on (ECG, echo view-embedding set) pairs.
class ContrastiveTrainer {
 public:
  ContrastiveTrainer(Echo2Ecg model, TrainConfig cfg);
  // One optimisation step at fractional epoch `epochPos` (sets the lr first). Returns the loss.
  double step(const ContrastiveBatch& batch, double epochPos);
  EpochStats trainEpoch(ContrastiveDataset& data);
  // Mean CLIP loss without augmentation, eval mode.
  double evaluate(ContrastiveDataset& data);
  // Trains until cfg.epochs (resuming from outDir/last.ckpt if cfg.resume), checkpointing each epoch.
  std::vector<EpochStats> fit(ContrastiveDataset& train, ContrastiveDataset* val = nullptr);

  void saveCheckpoint(const std::string& path) const;
  void loadCheckpoint(const std::string& path);
  int64_t epoch() const { return epoch_; }  // completed epochs
  int64_t globalStep() const { return step_; }
  Echo2Ecg model() { return model_; }
  LlrdOptimizer& optimizer() { return opt_; }

 private:
  void logJson(const std::string& line) const;
  Echo2Ecg model_;
  TrainConfig cfg_;
  LlrdOptimizer opt_;
  int64_t epoch_ = 0;
  int64_t step_ = 0;
  int64_t stepsPerEpoch_ = 0;
};

// Linear probe: a LinearHead on the frozen (eval, no-grad) ECG feature; `aligned` uses the
// 512-d shared-space embedding (needs an Echo2Ecg) instead of the 192-d fc_norm feature.
class LinearProbeTrainer {
 public:
  LinearProbeTrainer(EcgEncoder encoder, int64_t numClasses, TrainConfig cfg,
                     torch::nn::Linear alignment = torch::nn::Linear(nullptr));
  torch::Tensor features(const torch::Tensor& ecg);  // frozen features [B, D]
  double step(const LabeledBatch& batch, double epochPos);
  EpochStats trainEpoch(LabeledDataset& data);
  std::vector<EpochStats> fit(LabeledDataset& train);
  // Softmax scores and labels over a dataset, for metrics.h (evaluate / bootstrapCi).
  std::pair<std::vector<int>, Scores> predict(LabeledDataset& data);

  void saveCheckpoint(const std::string& path) const;
  void loadCheckpoint(const std::string& path);
  LinearHead head() { return head_; }
  int64_t epoch() const { return epoch_; }

 private:
  void logJson(const std::string& line) const;
  EcgEncoder encoder_;
  torch::nn::Linear alignment_;
  LinearHead head_{nullptr};
  TrainConfig cfg_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  int64_t epoch_ = 0;
  int64_t step_ = 0;
};

// Seeds torch's CPU (and CUDA) generators.
void seedEverything(uint64_t seed);

}  // namespace e2e::model
