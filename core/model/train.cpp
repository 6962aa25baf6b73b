#include "model/train.h"

#include "model/autocast.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace F = torch::nn::functional;

namespace e2e::model {

// ------------------------------------------------------------------ augmentations ----

torch::Tensor randomCrop(const torch::Tensor& ecg, int64_t length) {
  TORCH_CHECK(ecg.dim() == 3, "randomCrop expects [B, L, T]");
  auto x = ecg;
  const int64_t T = x.size(2);
  if (T < length) return F::pad(x, F::PadFuncOptions({0, length - T}));
  if (T == length) return x;
  auto starts = torch::randint(0, T - length + 1, {x.size(0)}, torch::kLong);
  std::vector<torch::Tensor> out;
  out.reserve(x.size(0));
  auto acc = starts.accessor<int64_t, 1>();
  for (int64_t b = 0; b < x.size(0); ++b) out.push_back(x[b].narrow(1, acc[b], length));
  return torch::stack(out);
}

torch::Tensor ftSurrogate(const torch::Tensor& ecg, double phaseNoise, double prob) {
  if (prob <= 0.0 || phaseNoise <= 0.0) return ecg;
  const int64_t B = ecg.size(0), T = ecg.size(-1);
  auto x = ecg.to(torch::kFloat32);
  auto f = torch::fft::rfft(x, T, -1);  // [B, L, T/2 + 1]
  const int64_t nf = f.size(-1);
  auto phase = torch::rand({B, 1, nf}, x.options()) * (2.0 * M_PI * phaseNoise);
  // Keep DC (and Nyquist for even T) real, as braindecode's FTSurrogate does.
  phase.select(-1, 0).zero_();
  if (T % 2 == 0) phase.select(-1, nf - 1).zero_();
  auto apply = torch::rand({B, 1, 1}, x.options()).lt(prob).to(x.dtype());
  phase = phase * apply;
  auto rotated = f * torch::polar(torch::ones_like(phase), phase);
  return torch::fft::irfft(rotated, T, -1).to(ecg.dtype());
}

torch::Tensor augmentEcg(const torch::Tensor& ecg, const EcgAugmentConfig& c) {
  auto x = randomCrop(ecg, c.cropLength);
  const int64_t B = x.size(0);
  x = ftSurrogate(x, c.ftPhaseNoise, c.ftSurrogateProb);
  if (c.jitterSigma > 0) x = x * (1.0 + c.jitterSigma * torch::randn_like(x));
  // As the reference Rescaling: one factor N(1, sigma) per ECG, sign included (no abs).
  if (c.rescaleSigma > 0) x = x * (1.0 + c.rescaleSigma * torch::randn({B, 1, 1}, x.options()));
  if (c.timeFlipProb > 0) {
    auto m = torch::rand({B, 1, 1}, x.options()).lt(c.timeFlipProb);
    x = torch::where(m, x.flip({-1}), x);
  }
  if (c.signFlipProb > 0) {
    auto m = torch::rand({B, 1, 1}, x.options()).lt(c.signFlipProb);
    x = torch::where(m, -x, x);
  }
  return x;
}

// ------------------------------------------------------------------ optimisation ----

namespace {
bool startsWith(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

int layerIdFor(const std::string& fullName, const std::string& prefix, int64_t depth) {
  if (!startsWith(fullName, prefix)) return static_cast<int>(depth + 1);
  const std::string n = fullName.substr(prefix.size());
  if (startsWith(n, "cls_token") || startsWith(n, "pos_embed") || startsWith(n, "patch_embed")) return 0;
  if (startsWith(n, "blocks.")) {
    const auto dot = n.find('.', 7);
    return std::stoi(n.substr(7, dot - 7)) + 1;
  }
  return static_cast<int>(depth + 1);
}

bool noWeightDecay(const std::string& fullName, const std::string& prefix, const torch::Tensor& p) {
  if (p.dim() <= 1) return true;
  if (!startsWith(fullName, prefix)) return false;
  const std::string n = fullName.substr(prefix.size());
  return startsWith(n, "cls_token") || startsWith(n, "pos_embed");
}
}  // namespace

std::vector<ParamGroupInfo> llrdParamGroups(const torch::nn::Module& model, double weightDecay, double layerDecay,
                                            int64_t depth, const std::string& prefix) {
  std::map<std::pair<int, int>, ParamGroupInfo> groups;  // (layer, no_decay)
  for (const auto& kv : model.named_parameters(true)) {
    if (!kv.value().requires_grad()) continue;
    const int layer = layerIdFor(kv.key(), prefix, depth);
    const bool nd = noWeightDecay(kv.key(), prefix, kv.value());
    auto& g = groups[{layer, nd ? 1 : 0}];
    if (g.params.empty()) {
      g.name = "layer_" + std::to_string(layer) + (nd ? "_no_decay" : "_decay");
      g.layerId = layer;
      g.lrScale = std::pow(layerDecay, static_cast<double>(depth + 1 - layer));
      g.weightDecay = nd ? 0.0 : weightDecay;
    }
    g.params.push_back(kv.key());
  }
  std::vector<ParamGroupInfo> out;
  for (auto& kv : groups) out.push_back(std::move(kv.second));
  return out;
}

void LlrdOptimizer::setLr(double baseLr) {
  auto& pg = optimizer->param_groups();
  for (size_t i = 0; i < pg.size(); ++i)
    static_cast<torch::optim::AdamWOptions&>(pg[i].options()).lr(baseLr * groups[i].lrScale);
}

std::vector<double> LlrdOptimizer::groupLrs() const {
  std::vector<double> out;
  for (const auto& g : optimizer->param_groups())
    out.push_back(static_cast<const torch::optim::AdamWOptions&>(g.options()).lr());
  return out;
}

LlrdOptimizer makeLlrdAdamW(torch::nn::Module& model, double baseLr, double weightDecay, double layerDecay,
                            int64_t depth, const std::string& prefix) {
  LlrdOptimizer o;
  o.groups = llrdParamGroups(model, weightDecay, layerDecay, depth, prefix);
  std::map<std::string, torch::Tensor> byName;
  for (const auto& kv : model.named_parameters(true)) byName[kv.key()] = kv.value();
  std::vector<torch::optim::OptimizerParamGroup> pgs;
  for (const auto& g : o.groups) {
    std::vector<torch::Tensor> ps;
    for (const auto& n : g.params) ps.push_back(byName.at(n));
    auto opts = std::make_unique<torch::optim::AdamWOptions>(baseLr * g.lrScale);
    opts->weight_decay(g.weightDecay).betas({0.9, 0.999});
    pgs.emplace_back(std::move(ps), std::move(opts));
  }
  o.optimizer = std::make_unique<torch::optim::AdamW>(std::move(pgs),
                                                      torch::optim::AdamWOptions(baseLr).weight_decay(weightDecay));
  return o;
}

double warmupCosineLr(double epoch, double baseLr, double minLr, double warmupEpochs, double totalEpochs) {
  if (epoch < warmupEpochs) return baseLr * epoch / warmupEpochs;
  const double span = std::max(totalEpochs - warmupEpochs, 1e-12);
  const double t = std::min(1.0, (epoch - warmupEpochs) / span);
  return minLr + (baseLr - minLr) * 0.5 * (1.0 + std::cos(M_PI * t));
}

// ------------------------------------------------------------------ helpers ----

void seedEverything(uint64_t seed) { torch::manual_seed(seed); }

namespace {
torch::Tensor rngState() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void setRngState(const torch::Tensor& st) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(st);
}

void appendLine(const std::string& dir, const std::string& line) {
  if (dir.empty()) return;
  std::filesystem::create_directories(dir);
  std::ofstream f(std::filesystem::path(dir) / "metrics.jsonl", std::ios::app);
  f << line << "\n";
}

torch::Tensor fixLength(const torch::Tensor& ecg, int64_t length) {
  if (ecg.size(-1) == length) return ecg;
  if (ecg.size(-1) < length) return F::pad(ecg, F::PadFuncOptions({0, length - ecg.size(-1)}));
  return ecg.narrow(-1, 0, length);
}

void saveArchiveAtomically(torch::serialize::OutputArchive& ar, const std::string& path) {
  const std::string tmp = path + ".tmp";
  ar.save_to(tmp);
  std::filesystem::rename(tmp, path);
}

// The checkpoint layout of both trainers: the trained module under `moduleKey`, the optimiser,
// epoch, step and the CPU RNG state, written atomically.
void writeCheckpoint(const std::string& path, const char* moduleKey, const torch::nn::Module& module,
                     const torch::optim::Optimizer& opt, int64_t epoch, int64_t step) {
  torch::serialize::OutputArchive ar, m, o;
  module.save(m);
  opt.save(o);
  ar.write(moduleKey, m);
  ar.write("optimizer", o);
  ar.write("epoch", torch::tensor(epoch));
  ar.write("step", torch::tensor(step));
  ar.write("rng_cpu", rngState());
  saveArchiveAtomically(ar, path);
}

void readCheckpoint(const std::string& path, const torch::Device& device, const char* moduleKey,
                    torch::nn::Module& module, torch::optim::Optimizer& opt, int64_t& epoch, int64_t& step) {
  torch::serialize::InputArchive ar, m, o;
  ar.load_from(path, device);
  ar.read(moduleKey, m);
  module.load(m);
  ar.read("optimizer", o);
  opt.load(o);
  torch::Tensor e, s, r;
  ar.read("epoch", e);
  ar.read("step", s);
  ar.read("rng_cpu", r);
  epoch = e.item<int64_t>();
  step = s.item<int64_t>();
  setRngState(r.cpu());
}
}  // namespace

// ------------------------------------------------------------------ contrastive ----

ContrastiveTrainer::ContrastiveTrainer(Echo2Ecg model, TrainConfig cfg) : model_(std::move(model)), cfg_(std::move(cfg)) {
  seedEverything(cfg_.seed);
  model_->to(cfg_.device);
  opt_ = makeLlrdAdamW(*model_, cfg_.lr, cfg_.weightDecay, cfg_.layerDecay, model_->ecg_encoder->cfg.depth);
}

double ContrastiveTrainer::step(const ContrastiveBatch& batch, double epochPos) {
  model_->train();
  const double lr = warmupCosineLr(epochPos, cfg_.lr, cfg_.lr * cfg_.minLrFactor, cfg_.warmupEpochs,
                                   static_cast<double>(cfg_.epochs));
  opt_.setLr(lr);
  const int64_t len = model_->ecg_encoder->cfg.samples;
  auto ecg = batch.ecg.to(torch::kFloat32);
  ecg = cfg_.augment ? augmentEcg(ecg, [&] { auto a = cfg_.augmentation; a.cropLength = len; return a; }())
                     : fixLength(ecg, len);
  ecg = ecg.to(cfg_.device);
  auto views = batch.views.to(cfg_.device, torch::kFloat32);
  auto valid = batch.valid.to(cfg_.device, torch::kBool);
  const bool amp = cfg_.amp && (cfg_.device.is_cuda() || cfg_.ampOnCpu);
  torch::Tensor loss;
  {
    Bf16Autocast ac(amp, cfg_.device);
    loss = clipLoss(model_->embedEcg(ecg), model_->embedEcho(views, valid), cfg_.temperature, cfg_.lambda);
  }
  loss = loss.to(torch::kFloat32);
  opt_.optimizer->zero_grad();
  loss.backward();
  if (cfg_.gradClip > 0) torch::nn::utils::clip_grad_norm_(model_->parameters(), cfg_.gradClip);
  opt_.optimizer->step();
  ++step_;
  return loss.item<double>();
}

EpochStats ContrastiveTrainer::trainEpoch(ContrastiveDataset& data) {
  const auto t0 = std::chrono::steady_clock::now();
  EpochStats s;
  s.epoch = epoch_;
  stepsPerEpoch_ = data.numBatches();
  double sum = 0;
  for (int64_t i = 0; i < stepsPerEpoch_; ++i) {
    auto b = data.batch(epoch_, i);
    const double pos = static_cast<double>(epoch_) + static_cast<double>(i) / std::max<int64_t>(1, stepsPerEpoch_);
    const double l = step(b, pos);
    sum += l * b.ecg.size(0);
    s.samples += b.ecg.size(0);
  }
  s.loss = s.samples ? sum / s.samples : 0.0;
  s.lr = opt_.groupLrs().empty() ? 0.0 : warmupCosineLr(static_cast<double>(epoch_), cfg_.lr,
                                                        cfg_.lr * cfg_.minLrFactor, cfg_.warmupEpochs,
                                                        static_cast<double>(cfg_.epochs));
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++epoch_;
  return s;
}

double ContrastiveTrainer::evaluate(ContrastiveDataset& data) {
  model_->eval();
  torch::NoGradGuard ng;
  const int64_t len = model_->ecg_encoder->cfg.samples;
  double sum = 0;
  int64_t n = 0;
  for (int64_t i = 0; i < data.numBatches(); ++i) {
    auto b = data.batch(0, i);
    auto ecg = fixLength(b.ecg.to(torch::kFloat32), len).to(cfg_.device);
    auto l = clipLoss(model_->embedEcg(ecg),
                      model_->embedEcho(b.views.to(cfg_.device, torch::kFloat32), b.valid.to(cfg_.device, torch::kBool)),
                      cfg_.temperature, cfg_.lambda);
    sum += l.item<double>() * ecg.size(0);
    n += ecg.size(0);
  }
  return n ? sum / n : 0.0;
}

std::vector<EpochStats> ContrastiveTrainer::fit(ContrastiveDataset& train, ContrastiveDataset* val) {
  std::vector<EpochStats> out;
  const std::string last = cfg_.outDir.empty() ? "" : (std::filesystem::path(cfg_.outDir) / "last.ckpt").string();
  if (!last.empty()) std::filesystem::create_directories(cfg_.outDir);
  if (cfg_.resume && !last.empty() && std::filesystem::exists(last)) loadCheckpoint(last);
  while (epoch_ < cfg_.epochs) {
    auto s = trainEpoch(train);
    const double vl = val ? evaluate(*val) : std::nan("");
    // One metrics.jsonl line (nlohmann-json writes a number that is not finite, e.g. no val_loss, as null).
    const nlohmann::ordered_json line{{"task", "contrastive"}, {"epoch", s.epoch},   {"step", step_},
                                      {"train_loss", s.loss},  {"val_loss", vl},     {"lr", s.lr},
                                      {"seconds", s.seconds},
                                      {"samples_per_s", s.seconds > 0 ? s.samples / s.seconds : 0.0}};
    logJson(line.dump());
    if (!last.empty()) saveCheckpoint(last);
    out.push_back(s);
  }
  return out;
}

void ContrastiveTrainer::logJson(const std::string& line) const { appendLine(cfg_.outDir, line); }

void ContrastiveTrainer::saveCheckpoint(const std::string& path) const {
  writeCheckpoint(path, "model", *model_, *opt_.optimizer, epoch_, step_);
}

void ContrastiveTrainer::loadCheckpoint(const std::string& path) {
  readCheckpoint(path, cfg_.device, "model", *model_, *opt_.optimizer, epoch_, step_);
}

// ------------------------------------------------------------------ linear probe ----

LinearProbeTrainer::LinearProbeTrainer(EcgEncoder encoder, int64_t numClasses, TrainConfig cfg,
                                       torch::nn::Linear alignment)
    : encoder_(std::move(encoder)), alignment_(std::move(alignment)), cfg_(std::move(cfg)) {
  seedEverything(cfg_.seed);
  const int64_t dim = alignment_ ? alignment_->options.out_features() : encoder_->cfg.dim;
  head_ = LinearHead(dim, numClasses);
  encoder_->to(cfg_.device);
  if (alignment_) alignment_->to(cfg_.device);
  head_->to(cfg_.device);
  opt_ = std::make_unique<torch::optim::AdamW>(head_->parameters(),
                                               torch::optim::AdamWOptions(cfg_.lr).weight_decay(cfg_.weightDecay));
}

torch::Tensor LinearProbeTrainer::features(const torch::Tensor& ecg) {
  torch::NoGradGuard ng;
  encoder_->eval();
  auto f = encoder_->forward(ecg.to(cfg_.device, torch::kFloat32));
  if (alignment_) f = F::normalize(alignment_->forward(f), F::NormalizeFuncOptions().dim(-1));
  return f;
}

double LinearProbeTrainer::step(const LabeledBatch& batch, double epochPos) {
  const double lr = warmupCosineLr(epochPos, cfg_.lr, cfg_.lr * cfg_.minLrFactor, cfg_.warmupEpochs,
                                   static_cast<double>(cfg_.epochs));
  for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
  const int64_t len = encoder_->cfg.samples;
  auto ecg = batch.ecg.to(torch::kFloat32);
  ecg = cfg_.augment ? augmentEcg(ecg, [&] { auto a = cfg_.augmentation; a.cropLength = len; return a; }())
                     : fixLength(ecg, len);
  auto f = features(ecg);
  head_->train();
  auto loss = F::cross_entropy(head_->forward(f), batch.labels.to(cfg_.device, torch::kLong));
  opt_->zero_grad();
  loss.backward();
  opt_->step();
  ++step_;
  return loss.item<double>();
}

EpochStats LinearProbeTrainer::trainEpoch(LabeledDataset& data) {
  const auto t0 = std::chrono::steady_clock::now();
  EpochStats s;
  s.epoch = epoch_;
  const int64_t n = data.numBatches();
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    auto b = data.batch(epoch_, i);
    sum += step(b, static_cast<double>(epoch_) + static_cast<double>(i) / std::max<int64_t>(1, n)) * b.ecg.size(0);
    s.samples += b.ecg.size(0);
  }
  s.loss = s.samples ? sum / s.samples : 0.0;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++epoch_;
  return s;
}

std::vector<EpochStats> LinearProbeTrainer::fit(LabeledDataset& train) {
  std::vector<EpochStats> out;
  const std::string last = cfg_.outDir.empty() ? "" : (std::filesystem::path(cfg_.outDir) / "probe_last.ckpt").string();
  if (!last.empty()) std::filesystem::create_directories(cfg_.outDir);
  if (cfg_.resume && !last.empty() && std::filesystem::exists(last)) loadCheckpoint(last);
  while (epoch_ < cfg_.epochs) {
    auto s = trainEpoch(train);
    const nlohmann::ordered_json line{
        {"task", "linear_probe"}, {"epoch", s.epoch}, {"step", step_}, {"train_loss", s.loss}, {"seconds", s.seconds}};
    logJson(line.dump());
    if (!last.empty()) saveCheckpoint(last);
    out.push_back(s);
  }
  return out;
}

std::pair<std::vector<int>, Scores> LinearProbeTrainer::predict(LabeledDataset& data) {
  torch::NoGradGuard ng;
  head_->eval();
  std::vector<int> truth;
  Scores scores;
  const int64_t len = encoder_->cfg.samples;
  for (int64_t i = 0; i < data.numBatches(); ++i) {
    auto b = data.batch(0, i);
    auto p = torch::softmax(head_->forward(features(fixLength(b.ecg.to(torch::kFloat32), len))), -1)
                 .to(torch::kCPU, torch::kFloat64)
                 .contiguous();
    auto labels = b.labels.to(torch::kCPU, torch::kLong).contiguous();
    for (int64_t r = 0; r < p.size(0); ++r) {
      truth.push_back(static_cast<int>(labels[r].item<int64_t>()));
      const double* row = p[r].data_ptr<double>();
      scores.emplace_back(row, row + p.size(1));
    }
  }
  return {truth, scores};
}

void LinearProbeTrainer::logJson(const std::string& line) const { appendLine(cfg_.outDir, line); }

void LinearProbeTrainer::saveCheckpoint(const std::string& path) const {
  writeCheckpoint(path, "head", *head_, *opt_, epoch_, step_);
}

void LinearProbeTrainer::loadCheckpoint(const std::string& path) {
  readCheckpoint(path, cfg_.device, "head", *head_, *opt_, epoch_, step_);
}

}  // namespace e2e::model
