// Echo2ECG networks: shapes, PyTorch reference parity, checkpoint conversion, CLIP loss, LLRD,
// schedule, checkpoint/resume and a short contrastive training run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/types.h"
#include "model/autocast.h"
#include "model/model.h"
#include "model/train.h"
#include "model_test_util.h"

using namespace e2e::model;
namespace fs = std::filesystem;

namespace {
const std::string kPython = "/usr/bin/python3";

bool pythonHasTorch() {
  static const bool ok = std::system((kPython + " -c 'import torch' > /dev/null 2>&1").c_str()) == 0;
  return ok;
}

fs::path tempDir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("e2e_model_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

using e2e::test::maxAbsDiff;

// Reference outputs are written once per test process.
const fs::path& referenceDir() {
  static fs::path dir = [] {
    auto d = tempDir("ref");
    const std::string cmd = kPython + " " + E2E_SOURCE_DIR + "/tools/echo2ecg_reference.py --out " + d.string() +
                            " > " + (d / "log.txt").string() + " 2>&1";
    if (std::system(cmd.c_str()) != 0) return fs::path();
    return d;
  }();
  return dir;
}

EcgEncoderConfig tinyConfig() {
  EcgEncoderConfig c;
  c.samples = 96;
  c.patch = 24;
  c.dim = 32;
  c.depth = 2;
  c.heads = 2;
  c.mlpDim = 64;
  return c;
}

// Correlated toy pairs: a 4-d latent drives both the ECG waveform and the view embeddings.
class ToyPairs : public ContrastiveDataset {
 public:
  ToyPairs(int64_t n, int64_t batch, int64_t length, uint64_t seed) : batch_(batch) {
    auto g = at::detail::createCPUGenerator(seed);
    z_ = torch::randn({n, 4}, g);
    auto we = torch::randn({4, 12, length}, g);
    ecg_ = torch::einsum("nk,klt->nlt", {z_, we}) + 0.1 * torch::randn({n, 12, length}, g);
    auto wv = torch::randn({4, 16}, g);
    views_ = (z_.matmul(wv)).unsqueeze(1).repeat({1, 3, 1}) + 0.1 * torch::randn({n, 3, 16}, g);
    valid_ = torch::ones({n, 3}, torch::kBool);
    valid_.select(1, 2).fill_(false);
    views_.select(1, 2).fill_(100.0);  // padded views carry junk that must be ignored
  }
  int64_t numBatches() const override { return ecg_.size(0) / batch_; }
  ContrastiveBatch batch(int64_t epoch, int64_t index) override {
    auto g = at::detail::createCPUGenerator(1000 + epoch);
    auto perm = torch::randperm(ecg_.size(0), g);
    auto idx = perm.narrow(0, index * batch_, batch_);
    return {ecg_.index_select(0, idx), views_.index_select(0, idx), valid_.index_select(0, idx)};
  }
  torch::Tensor z_, ecg_, views_, valid_;

 private:
  int64_t batch_;
};

Echo2Ecg tinyModel(uint64_t seed) {
  torch::manual_seed(seed);
  return Echo2Ecg(tinyConfig(), 16, 32, 16);
}
}  // namespace

TEST(EcgEncoder, ShapesAndNames) {
  torch::manual_seed(0);
  EcgEncoder enc;
  enc->eval();
  torch::NoGradGuard ng;
  auto x = torch::randn({2, 12, 1008});
  EXPECT_EQ(enc->forwardTokens(x).sizes(), (std::vector<int64_t>{2, 505, 192}));
  EXPECT_EQ(enc->forward(x).sizes(), (std::vector<int64_t>{2, 192}));
  auto sd = stateDict(*enc);
  for (const char* n : {"patch_embed.proj.weight", "patch_embed.norm.weight", "cls_token", "pos_embed_y.weight",
                        "pos_embed_x", "blocks.0.norm1.weight", "blocks.0.attn.qkv.weight",
                        "blocks.0.attn.attn.in_proj_weight", "blocks.0.attn.attn.in_proj_bias",
                        "blocks.0.attn.attn.out_proj.weight", "blocks.11.attn.proj.bias", "blocks.11.mlp.fc2.weight",
                        "fc_norm.bias"})
    EXPECT_TRUE(sd.count(n)) << n;
  EXPECT_EQ(sd.at("blocks.0.attn.qkv.weight").sizes(), (std::vector<int64_t>{576, 192}));
  EXPECT_EQ(sd.at("pos_embed_x").sizes(), (std::vector<int64_t>{43, 96}));
  // CLS positional embedding is zero (padding lead row, zero time row); patch rows are not.
  auto pe = enc->positionalEmbedding();
  EXPECT_EQ(pe.sizes(), (std::vector<int64_t>{505, 192}));
  EXPECT_EQ(pe[0].abs().sum().item<double>(), 0.0);
  EXPECT_GT(pe[1].abs().sum().item<double>(), 0.0);
  EXPECT_THROW(enc->forward(torch::randn({1, 12, 1000})), c10::Error);
  EXPECT_NEAR(ecgEncoderFlops(), 9.505e9, 0.01e9);  // 12 x 791.7 MFLOP + patch embed
}

// The fused attention (qkv o in_proj and out_proj o proj as single GEMMs) computes the same function
// as the literal reference path: outputs, gradients of the original parameters, and the cached
// inference weights follow parameter updates.
TEST(EcgEncoder, FusedAttentionEqualsReferencePath) {
  torch::manual_seed(3);
  EcgEncoder enc(e2e::test::shallowConfig(2));
  auto x = torch::randn({3, 12, 1008});
  struct Restore {
    ~Restore() { setFusedAttention(true); }
  } restore;
  auto run = [&](bool fused) {
    setFusedAttention(fused);
    torch::NoGradGuard ng;
    return enc->forward(x);
  };
  enc->eval();
  const auto ref = run(false), fus = run(true);
  EXPECT_LT((ref - fus).abs().max().item<double>(), 2e-5 * ref.abs().max().item<double>());
  {  // inference mode (as embed/predict run) uses the same cached weights
    setFusedAttention(true);
    torch::InferenceMode im;
    EXPECT_LT((enc->forward(x) - ref).abs().max().item<double>(), 2e-5 * ref.abs().max().item<double>());
  }
  // Gradients w.r.t. the reference parameters agree (a random linear readout: the sum of squares
  // of a LayerNorm output would be constant).
  const auto readout = torch::randn({3, 192});
  auto grads = [&](bool fused) {
    setFusedAttention(fused);
    enc->zero_grad();
    (enc->forward(x) * readout).sum().backward();
    return std::make_pair(enc->blocks[0]->as<BlockImpl>()->attn->qkv->weight.grad().clone(),
                          enc->blocks[1]->as<BlockImpl>()->attn->attn->in_proj_weight.grad().clone());
  };
  const auto gRef = grads(false), gFus = grads(true);
  EXPECT_LT((gRef.first - gFus.first).abs().max().item<double>(), 1e-4 * gRef.first.abs().max().item<double>());
  EXPECT_LT((gRef.second - gFus.second).abs().max().item<double>(), 1e-4 * gRef.second.abs().max().item<double>());
  // An in-place parameter update (optimiser step, weight load) invalidates the cached fused weights.
  run(true);  // fills the cache
  {
    torch::NoGradGuard ng;
    enc->blocks[0]->as<BlockImpl>()->attn->proj->weight.mul_(0.5);
    enc->blocks[1]->as<BlockImpl>()->attn->attn->in_proj_weight.add_(0.01);
  }
  const auto ref2 = run(false), fus2 = run(true);
  EXPECT_GT((ref2 - ref).abs().max().item<double>(), 1e-3);
  EXPECT_LT((ref2 - fus2).abs().max().item<double>(), 2e-5 * ref2.abs().max().item<double>());
  EXPECT_LT(ecgEncoderFlops({}, true), 0.82 * ecgEncoderFlops());
}

TEST(EchoSide, VideoEncoderAggregatorAndMask) {
  torch::manual_seed(0);
  SmallVideoEncoder venc;
  venc.module()->eval();
  torch::NoGradGuard ng;
  auto spec = venc.inputSpec();
  auto clips = torch::randn({2, spec.channels, spec.frames, spec.height, spec.width});
  EXPECT_EQ(venc.encode(clips).sizes(), (std::vector<int64_t>{2, 512}));

  e2e::EchoFrames fr;
  fr.rows = 60;
  fr.cols = 80;
  fr.frames = 10;
  fr.channels = 1;
  fr.pixels.assign(60 * 80 * 10, 128);
  auto clip = prepareClip(fr, spec);
  EXPECT_EQ(clip.sizes(), (std::vector<int64_t>{3, 16, 112, 112}));
  EXPECT_NEAR(clip.mean().item<double>(), 128.0 / 255.0, 1e-5);

  EchoAggregator agg;
  agg->eval();
  auto views = torch::randn({2, 4, 512});
  auto valid = torch::tensor({1, 1, 0, 0, 1, 1, 1, 1}).to(torch::kBool).view({2, 4});
  auto out = agg->forward(views, valid);
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, 1024}));
  auto views2 = views.clone();
  views2[0][2].fill_(50.0);  // padded views must not matter
  views2[0][3].fill_(-50.0);
  EXPECT_LT(maxAbsDiff(agg->forward(views2, valid), out), 1e-5);
  EXPECT_LT(maxAbsDiff(agg->forward(views.narrow(1, 0, 2).narrow(0, 0, 1), valid.narrow(1, 0, 2).narrow(0, 0, 1)),
                       out.narrow(0, 0, 1)),
            1e-5);
  EXPECT_THROW(agg->forward(views, torch::zeros({2, 4}, torch::kBool)), c10::Error);
}

// bfloat16 autocast (model/autocast.h) on the CPU: the full joint model runs under it, the matmuls
// really run in bfloat16 (the output differs from fp32, within bfloat16's ~3 significant digits), the
// padded-view mask still holds, and the previous autocast state comes back after the guard.
TEST(Autocast, JointModelUnderBf16MatchesFp32Closely) {
  ASSERT_FALSE(at::autocast::is_cpu_enabled());
  const auto r = e2e::test::compareUnderBf16(e2e::test::seededJointModel(2, 5), torch::kCPU);
  EXPECT_TRUE(r.enabledInside);
  EXPECT_EQ(r.matmulInside, torch::kBFloat16);
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
  EXPECT_EQ(torch::matmul(torch::ones({2, 2}), torch::ones({2, 2})).scalar_type(), torch::kFloat32);
  // unit vectors: cosine with the fp32 embedding close to 1, yet not bit-identical
  EXPECT_GT(e2e::test::minCosine(r.e16, r.e32), 0.995);
  EXPECT_GT(e2e::test::minCosine(r.v16, r.v32), 0.995);
  EXPECT_GT(maxAbsDiff(r.e16, r.e32), 0.0);
  EXPECT_LT(maxAbsDiff(r.v16pad, r.v16), 1e-6);
  {
    Bf16Autocast off(false, torch::kCPU);  // disabled guard: nothing changes
    EXPECT_FALSE(at::autocast::is_cpu_enabled());
  }
}

// One contrastive training step under CPU autocast (TrainConfig::ampOnCpu) gives a finite loss close
// to the fp32 step's, and moves the weights.
TEST(Autocast, ContrastiveStepOnCpu) {
  const auto s32 = e2e::test::firstContrastiveStep(torch::kCPU, false);
  const auto s16 = e2e::test::firstContrastiveStep(torch::kCPU, true);
  for (const auto* s : {&s32, &s16}) EXPECT_GT(maxAbsDiff(s->after, s->before), 0.0);
  ASSERT_TRUE(std::isfinite(s16.loss));
  EXPECT_NEAR(s16.loss, s32.loss, 0.02 * s32.loss);
  EXPECT_FALSE(at::autocast::is_cpu_enabled());
}

TEST(Parity, MatchesPyTorchReference) {
  ASSERT_TRUE(pythonHasTorch()) << "/usr/bin/python3 has no torch, the parity oracle (installer/install-deps.sh installs python3-torch)";
  const auto& dir = referenceDir();
  ASSERT_FALSE(dir.empty()) << "reference script failed";
  auto weights = loadTensorArchive((dir / "weights.pt").string());
  auto in = loadTensorArchive((dir / "inputs.pt").string());
  auto ref = loadTensorArchive((dir / "outputs.pt").string());
  Echo2Ecg model;
  auto rep = loadStateDict(*model, weights, /*strict=*/true);
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(rep.loaded.size(), weights.size());
  EXPECT_EQ(weightsHash(*model), weightsHash(weights));
  model->eval();
  torch::NoGradGuard ng;
  auto ecg = in.at("ecg"), views = in.at("views"), valid = in.at("valid");
  EXPECT_LE(maxAbsDiff(model->ecg_encoder->forwardTokens(ecg).select(1, 0), ref.at("ecg_tokens_cls")), 1e-5);
  EXPECT_LE(maxAbsDiff(model->ecg_encoder->forward(ecg), ref.at("ecg_feature")), 1e-5);
  EXPECT_LE(maxAbsDiff(model->echo_aggregator->forward(views, valid), ref.at("echo_feature")), 1e-5);
  auto e = model->embedEcg(ecg), x = model->embedEcho(views, valid);
  EXPECT_LE(maxAbsDiff(e, ref.at("ecg_emb")), 1e-5);
  EXPECT_LE(maxAbsDiff(x, ref.at("echo_emb")), 1e-5);
  EXPECT_LE(maxAbsDiff(clipLoss(e, x).reshape({1}), ref.at("clip_loss")), 1e-5);
}

// OTiS pre-training layout -> a bare encoder archive (the run directory, bundles and the registry:
// tests/model_import).
TEST(Parity, ConvertsOtisCheckpoint) {
  ASSERT_TRUE(pythonHasTorch()) << "/usr/bin/python3 has no torch, the parity oracle (installer/install-deps.sh installs python3-torch)";
  const auto& dir = referenceDir();
  ASSERT_FALSE(dir.empty());
  const std::string conv = kPython + " " + E2E_SOURCE_DIR + "/tools/convert_checkpoint.py ";
  const auto log = " >> " + (dir / "convert.txt").string() + " 2>&1";
  ASSERT_EQ(std::system((conv + "otis " + (dir / "otis_checkpoint.pth").string() + " " + (dir / "enc.pt").string() +
                         log).c_str()), 0);
  auto ref = loadTensorArchive((dir / "outputs.pt").string());
  auto in = loadTensorArchive((dir / "inputs.pt").string());
  torch::NoGradGuard ng;
  EcgEncoder enc;
  loadStateDict(*enc, loadTensorArchive((dir / "enc.pt").string()), true);
  enc->eval();
  // The tokens are the reference's; the global norm is fresh (OTiS has none: Echo2ECG trains it).
  EXPECT_LE(maxAbsDiff(enc->forwardTokens(in.at("ecg")).select(1, 0), ref.at("ecg_tokens_cls")), 1e-5);
}

TEST(WeightsIo, ArchiveRoundTripAndHash) {
  auto d = tempDir("io");
  auto m = tinyModel(3);
  auto sd = stateDict(*m);
  const auto path = (d / "w.pt").string();
  saveTensorArchive(path, sd);
  auto back = loadTensorArchive(path);
  EXPECT_EQ(back.size(), sd.size());
  EXPECT_EQ(weightsHash(back), weightsHash(*m));
  auto other = tinyModel(4);
  EXPECT_NE(weightsHash(*other), weightsHash(*m));
  loadStateDict(*other, back, true);
  EXPECT_EQ(weightsHash(*other), weightsHash(*m));
  back.erase("ecg_proj.weight");
  EXPECT_THROW(loadStateDict(*other, back, true), std::runtime_error);
  EXPECT_THROW(loadTensorArchive((d / "missing.pt").string()), e2e::ReadError);
  if (pythonHasTorch()) {  // Python reads what C++ writes
    const std::string cmd = kPython + " -c \"import torch; d=torch.load('" + path +
                            "'); assert d['ecg_proj.weight'].shape==(16,32)\"";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
}

TEST(ClipLoss, HandComputed2x2) {
  auto eye = torch::eye(2);
  // logits = I / 0.5 = [[2,0],[0,2]]: every row is log(1 + e^-2)
  EXPECT_NEAR(clipLoss(eye, eye, 0.5, 0.5).item<double>(), std::log(1 + std::exp(-2.0)), 1e-6);
  // ecg = I, echo = both (1,0) (scaled; the loss normalises): logits [[2,2],[0,0]]
  auto echo = torch::tensor({3.f, 0.f, 5.f, 0.f}).view({2, 2});
  const double le2x = std::log(2.0);
  const double lx2e = 0.5 * (std::log(1 + std::exp(-2.0)) + std::log(1 + std::exp(2.0)));
  EXPECT_NEAR(clipLoss(eye, echo, 0.5, 0.3).item<double>(), 0.3 * le2x + 0.7 * lx2e, 1e-6);
  EXPECT_NEAR(clipLoss(eye, echo, 0.5, 1.0).item<double>(), le2x, 1e-6);
}

TEST(Optim, LayerwiseLrDecayGroups) {
  Echo2Ecg model;
  auto opt = makeLlrdAdamW(*model, 5e-4, 1e-7, 0.75, 12);
  std::map<std::string, std::pair<double, double>> byParam;  // name -> (lr, wd)
  auto lrs = opt.groupLrs();
  ASSERT_EQ(lrs.size(), opt.groups.size());
  size_t total = 0;
  for (size_t i = 0; i < opt.groups.size(); ++i) {
    for (const auto& n : opt.groups[i].params) byParam[n] = {lrs[i], opt.groups[i].weightDecay};
    total += opt.groups[i].params.size();
  }
  EXPECT_EQ(total, model->parameters().size());
  const double base = 5e-4;
  EXPECT_NEAR(byParam.at("ecg_encoder.patch_embed.proj.weight").first, base * std::pow(0.75, 13), 1e-15);
  EXPECT_NEAR(byParam.at("ecg_encoder.cls_token").first, base * std::pow(0.75, 13), 1e-15);
  EXPECT_EQ(byParam.at("ecg_encoder.cls_token").second, 0.0);
  for (int i = 0; i < 12; ++i) {
    const auto n = "ecg_encoder.blocks." + std::to_string(i) + ".attn.qkv.weight";
    EXPECT_NEAR(byParam.at(n).first, base * std::pow(0.75, 12 - i), 1e-15) << n;
    EXPECT_EQ(byParam.at(n).second, 1e-7);
  }
  EXPECT_EQ(byParam.at("ecg_encoder.blocks.3.norm1.bias").second, 0.0);
  EXPECT_NEAR(byParam.at("ecg_encoder.fc_norm.weight").first, base, 1e-15);
  EXPECT_NEAR(byParam.at("ecg_proj.weight").first, base, 1e-15);
  EXPECT_NEAR(byParam.at("echo_aggregator.attn.in_proj_weight").first, base, 1e-15);
  opt.setLr(1e-3);
  EXPECT_NEAR(opt.groupLrs().front(), 1e-3 * opt.groups.front().lrScale, 1e-15);
}

TEST(Optim, WarmupCosineSchedule) {
  const double b = 5e-4, m = 5e-5;
  EXPECT_DOUBLE_EQ(warmupCosineLr(0.0, b, m, 2, 10), 0.0);
  EXPECT_DOUBLE_EQ(warmupCosineLr(1.0, b, m, 2, 10), b / 2);
  EXPECT_DOUBLE_EQ(warmupCosineLr(2.0, b, m, 2, 10), b);
  EXPECT_NEAR(warmupCosineLr(6.0, b, m, 2, 10), (b + m) / 2, 1e-15);
  EXPECT_NEAR(warmupCosineLr(10.0, b, m, 2, 10), m, 1e-15);
  EXPECT_NEAR(warmupCosineLr(4.0, b, m, 2, 10), m + (b - m) * 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-15);
}

TEST(Augment, ShapesAndDeterminism) {
  auto x = torch::randn({4, 12, 1200});
  torch::manual_seed(5);
  auto a = augmentEcg(x, {});
  torch::manual_seed(5);
  auto b = augmentEcg(x, {});
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{4, 12, 1008}));
  EXPECT_TRUE(torch::equal(a, b));
  // FT surrogate with zero noise is the identity; with noise it keeps the power spectrum.
  auto y = x.narrow(2, 0, 1008).contiguous();
  EXPECT_LT(maxAbsDiff(ftSurrogate(y, 0.0, 1.0), y), 1e-6);
  auto s = ftSurrogate(y, 0.5, 1.0);
  EXPECT_GT(maxAbsDiff(s, y), 0.1);
  EXPECT_LT(maxAbsDiff(torch::fft::rfft(s).abs(), torch::fft::rfft(y).abs()), 1e-3);
  // crop picks a contiguous window
  auto c = randomCrop(x, 1008);
  bool found = false;
  for (int64_t o = 0; o <= 192 && !found; ++o) found = torch::equal(c[0], x[0].narrow(1, o, 1008));
  EXPECT_TRUE(found);
}

TEST(Trainer, ResumeGivesSameNextStepLoss) {
  auto d = tempDir("resume");
  ToyPairs data(32, 8, 120, 11);  // 120 samples: random crops to 96 (augmentation uses the RNG)
  TrainConfig cfg;
  cfg.epochs = 4;
  cfg.warmupEpochs = 1;
  cfg.lr = 1e-3;
  cfg.seed = 1;
  cfg.outDir = d.string();
  ContrastiveTrainer a(tinyModel(1), cfg);
  a.trainEpoch(data);
  const auto ck = (d / "a.ckpt").string();
  a.saveCheckpoint(ck);
  const double la1 = a.step(data.batch(1, 0), 1.0);
  const double la2 = a.step(data.batch(1, 1), 1.25);

  ContrastiveTrainer b(tinyModel(99), cfg);
  EXPECT_NE(weightsHash(*b.model()), weightsHash(*a.model()));
  b.loadCheckpoint(ck);
  EXPECT_EQ(b.epoch(), 1);
  const double lb1 = b.step(data.batch(1, 0), 1.0);
  const double lb2 = b.step(data.batch(1, 1), 1.25);
  EXPECT_NEAR(lb1, la1, 1e-6);
  EXPECT_NEAR(lb2, la2, 1e-6);
  EXPECT_EQ(weightsHash(*b.model()), weightsHash(*a.model()));
}

TEST(Trainer, FitResumesAndLogs) {
  auto d = tempDir("fit");
  ToyPairs data(16, 8, 96, 12);
  TrainConfig cfg;
  cfg.epochs = 2;
  cfg.seed = 2;
  cfg.outDir = d.string();
  ContrastiveTrainer a(tinyModel(2), cfg);
  EXPECT_EQ(a.fit(data, &data).size(), 2u);
  EXPECT_TRUE(fs::exists(d / "last.ckpt"));
  cfg.epochs = 3;
  ContrastiveTrainer b(tinyModel(5), cfg);
  auto stats = b.fit(data);  // resumes at epoch 2, runs only epoch 2
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_EQ(stats[0].epoch, 2);
  std::ifstream f(d / "metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(f, line)) {
    ++lines;
    EXPECT_NE(line.find("\"train_loss\":"), std::string::npos);
    // One JSON object per line (nlohmann-json): numbers, and null for the val_loss of b's epoch (no val set).
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << line;
    EXPECT_EQ(j.value("task", ""), "contrastive");
    EXPECT_EQ(j.at("epoch").get<int>(), lines - 1) << line;
    for (const char* k : {"step", "train_loss", "lr", "seconds", "samples_per_s"}) EXPECT_TRUE(j.at(k).is_number()) << k;
    EXPECT_TRUE(lines < 3 ? j.at("val_loss").is_number() : j.at("val_loss").is_null()) << line;
  }
  EXPECT_EQ(lines, 3);
}

TEST(Trainer, ContrastiveLossDecreasesOnCorrelatedData) {
  ToyPairs data(64, 16, 96, 13);
  TrainConfig cfg;
  cfg.epochs = 8;
  cfg.warmupEpochs = 0;
  cfg.lr = 2e-3;
  cfg.layerDecay = 1.0;
  cfg.augment = false;
  cfg.seed = 3;
  ContrastiveTrainer t(tinyModel(3), cfg);
  const double before = t.evaluate(data);
  t.fit(data);
  const double after = t.evaluate(data);
  EXPECT_LT(after, before * 0.7) << before << " -> " << after;
}

namespace {
class ToyLabeled : public LabeledDataset {
 public:
  explicit ToyLabeled(ToyPairs& p) : p_(p) {}
  int64_t numBatches() const override { return p_.numBatches(); }
  LabeledBatch batch(int64_t epoch, int64_t index) override {
    auto g = at::detail::createCPUGenerator(1000 + epoch);
    auto idx = torch::randperm(p_.ecg_.size(0), g).narrow(0, index * 16, 16);
    return {p_.ecg_.index_select(0, idx), p_.z_.select(1, 0).gt(0).to(torch::kLong).index_select(0, idx)};
  }
  ToyPairs& p_;
};
}  // namespace

TEST(Trainer, LinearProbeLearnsAndReportsMetrics) {
  ToyPairs pairs(64, 16, 96, 14);
  ToyLabeled data(pairs);
  TrainConfig cfg;
  cfg.epochs = 30;
  cfg.warmupEpochs = 0;
  cfg.lr = 1e-2;
  cfg.augment = false;
  torch::manual_seed(0);
  EcgEncoder enc(tinyConfig());
  const auto hashBefore = weightsHash(*enc);
  LinearProbeTrainer probe(enc, 2, cfg);
  auto stats = probe.fit(data);
  EXPECT_LT(stats.back().loss, stats.front().loss);
  EXPECT_EQ(weightsHash(*enc), hashBefore);  // the encoder stays frozen
  auto [truth, scores] = probe.predict(data);
  ASSERT_EQ(truth.size(), 64u);
  auto r = evaluate(truth, scores);
  EXPECT_GT(r.auroc, 0.75);
}
