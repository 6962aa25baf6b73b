// EchoPrime's video encoder (torchvision mvit_v2_s, head -> Linear(768, 512)) in libtorch:
// names/shapes, torchvision parity and the EchoPrime checkpoint conversion round trip.
// The parity test runs tests/model/mvit_reference.py with /usr/bin/python3 (skipped without
// torch/torchvision there) and prints the measured differences and CPU seconds per clip.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "model/model.h"
#include "model/mvit.h"

using namespace e2e::model;
namespace fs = std::filesystem;

namespace {
const std::string kPython = "/usr/bin/python3";

bool pythonHasTorchvision() {
  static const bool ok =
      std::system((kPython + " -c 'import torch, torchvision.models.video' > /dev/null 2>&1").c_str()) == 0;
  return ok;
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / ("e2e_mvit_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);  // the archives are ~140 MB each
  }
};

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// 2 blocks on 8 x 36 x 36 (token grid 4 x 9 x 9): q/kv pooling, skip pooling, the 96 -> 192
// projection and, on the odd 9 -> 5 pooled grid, the relative-position table interpolation
// (tests/model/mvit_reference.py builds the same torchvision MViT).
MvitConfig toyConfig() {
  MvitConfig c;
  c.temporalSize = 8;
  c.spatialSize = 36;
  c.numClasses = 7;
  c.blocks = {{1, 96, 96, {3, 3, 3}, {3, 3, 3}, {1, 1, 1}, {1, 4, 4}},
              {2, 96, 192, {3, 3, 3}, {3, 3, 3}, {1, 2, 2}, {1, 2, 2}}};
  return c;
}

int64_t numel(const TensorMap& m) {
  int64_t n = 0;
  for (auto& [k, v] : m) n += v.numel();
  return n;
}
}  // namespace

TEST(Mvit, TorchvisionNamesShapesAndSpec) {
  Mvit net;
  auto sd = stateDict(*net);
  // torchvision: 397 tensors, 34,623,872 values with EchoPrime's 512-way head (34,537,744 with 400).
  EXPECT_EQ(sd.size(), 397u);
  EXPECT_EQ(numel(sd), 34623872);
  const std::vector<std::pair<std::string, std::vector<int64_t>>> expect{
      {"conv_proj.weight", {96, 3, 3, 7, 7}},
      {"pos_encoding.class_token", {96}},
      {"blocks.0.attn.rel_pos_h", {111, 96}},
      {"blocks.0.attn.rel_pos_t", {15, 96}},
      {"blocks.0.attn.qkv.weight", {288, 96}},
      {"blocks.0.attn.project.0.weight", {96, 96}},
      {"blocks.0.attn.pool_q.pool.weight", {96, 1, 3, 3, 3}},
      {"blocks.0.attn.pool_v.norm_act.0.bias", {96}},
      {"blocks.0.mlp.3.weight", {96, 384}},
      {"blocks.1.attn.rel_pos_w", {55, 96}},
      {"blocks.1.project.weight", {192, 96}},
      {"blocks.14.attn.rel_pos_h", {27, 96}},
      {"blocks.15.attn.rel_pos_h", {13, 96}},
      {"norm.weight", {768}},
      {"head.1.weight", {512, 768}},
  };
  for (auto& [name, shape] : expect) {
    ASSERT_TRUE(sd.count(name)) << name;
    EXPECT_EQ(sd.at(name).sizes(), torch::IntArrayRef(shape)) << name;
  }
  EXPECT_FALSE(sd.count("blocks.0.project.weight"));  // 96 -> 96: no projection
  EXPECT_FALSE(sd.count("blocks.1.pool_skip.pool.weight"));

  MvitVideoEncoder enc;
  auto spec = enc.inputSpec();
  EXPECT_EQ(spec.frames, 16);
  EXPECT_EQ(spec.frameStride, 2);
  EXPECT_EQ(spec.height, 224);
  EXPECT_EQ(spec.width, 224);
  EXPECT_FLOAT_EQ(spec.mean[1], 28.076836f);
  EXPECT_FLOAT_EQ(spec.std[2], 47.20083f);
  EXPECT_EQ(enc.embedDim(), 512);
  VideoInputSpec bad = spec;
  bad.height = bad.width = 112;
  EXPECT_THROW(MvitVideoEncoder({}, bad), std::invalid_argument);

  const double gflop = mvitFlops() / 1e9;
  std::printf("mvit_v2_s analytic forward: %.2f GFLOP per clip (%.2f G multiply-adds)\n", gflop, gflop / 2);
  EXPECT_GT(gflop, 120.0);
  EXPECT_LT(gflop, 135.0);
}

TEST(Mvit, SmallInputShapesAndCrop) {
  torch::manual_seed(0);
  Mvit net(toyConfig());
  net->eval();
  torch::NoGradGuard ng;
  auto y = net->forward(torch::randn({2, 3, 8, 36, 36}));
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 7}));
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  // Per-sample independence (no cross-batch mixing).
  auto x = torch::randn({2, 3, 8, 36, 36});
  EXPECT_LT(maxAbsDiff(net->forward(x).narrow(0, 1, 1), net->forward(x.narrow(0, 1, 1))), 1e-5);
  EXPECT_THROW(net->forward(torch::randn({1, 3, 16, 36, 36})), c10::Error);
}

TEST(Mvit, MatchesTorchvisionAndLoadsConvertedEchoPrime) {
  ASSERT_TRUE(pythonHasTorchvision()) << "/usr/bin/python3 has no torch/torchvision, the parity oracle (installer/install-deps.sh installs python3-torchvision)";
  TempDir d("ref");
  // Threads: the process default (at::get_num_threads(), 1 on the 2-core dev VM), or E2E_MVIT_THREADS
  // (e.g. 2 = what the pipeline uses on this 2-core machine); Python gets the same count.
  if (const char* t = std::getenv("E2E_MVIT_THREADS")) torch::set_num_threads(std::max(1, std::atoi(t)));
  const int threads = at::get_num_threads();
  const std::string cmd = kPython + " " + E2E_SOURCE_DIR + "/tests/model/mvit_reference.py --out " +
                          d.path.string() + " --runs 2 --threads " + std::to_string(threads) + " > " +
                          (d.path / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "reference failed, see " << cmd;
  {
    auto toy = loadTensorArchive((d.path / "toy.pt").string());
    Mvit net(toyConfig());
    loadStateDict(*net, toy, /*strict=*/true, "weights.");
    net->eval();
    torch::NoGradGuard ng;
    const double dToy = maxAbsDiff(net->forward(toy.at("clip")), toy.at("out"));
    std::printf("toy MViT (rel-pos interpolation) max|diff| %.3g\n", dToy);
    EXPECT_LE(dToy, 1e-5);
  }
  auto weights = loadTensorArchive((d.path / "weights.pt").string());
  auto in = loadTensorArchive((d.path / "inputs.pt").string());
  auto ref = loadTensorArchive((d.path / "outputs.pt").string());

  MvitVideoEncoder enc;
  auto rep = loadStateDict(*enc.module(), weights, /*strict=*/true);
  EXPECT_EQ(rep.loaded.size(), weights.size());
  EXPECT_EQ(weightsHash(*enc.module()), weightsHash(weights));
  enc.module()->eval();
  torch::InferenceMode im;
  const auto clip = in.at("clip");

  auto feature = enc.net()->forwardFeatures(clip);
  auto out = enc.encode(clip);
  const double scale = ref.at("out").abs().max().item<double>();
  const double dOut = maxAbsDiff(out, ref.at("out")), dFeat = maxAbsDiff(feature, ref.at("feature"));
  std::printf("parity vs torchvision: output max|diff| %.3g (scale %.3g, relative %.3g), CLS feature %.3g\n",
              dOut, scale, dOut / scale, dFeat);
  EXPECT_LE(dOut, 1e-4);
  EXPECT_LE(dOut / scale, 1e-5);
  EXPECT_LE(dFeat, 1e-4);

  // CPU time per clip (informational; no assertion), both sides with the same thread count.
  std::vector<double> secs;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    enc.encode(clip);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  auto py = ref.at("seconds");
  std::printf("seconds per clip [1, 3, 16, 224, 224], %d threads: libtorch C++ %.2f %.2f %.2f, torchvision eager",
              threads, secs[0], secs[1], secs[2]);
  for (int64_t i = 0; i < py.numel(); ++i) std::printf(" %.2f", py[i].item<double>());
  std::printf("\n");

  // EchoPrime checkpoint ("module."-prefixed state dict) -> "video."-prefixed tensor archive.
  const std::string conv = kPython + " " + E2E_SOURCE_DIR + "/tools/convert_checkpoint.py echoprime " +
                           (d.path / "echo_prime_encoder.pt").string() + " " + (d.path / "video.pt").string() +
                           " >> " + (d.path / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(conv.c_str()), 0);
  fs::remove(d.path / "echo_prime_encoder.pt");
  auto converted = loadTensorArchive((d.path / "video.pt").string());
  EXPECT_EQ(converted.size(), weights.size());
  for (auto& [k, v] : converted) EXPECT_EQ(k.rfind("video.", 0), 0u) << k;
  MvitVideoEncoder enc2;
  loadStateDict(*enc2.module(), converted, /*strict=*/true, "video.");
  enc2.module()->eval();
  EXPECT_EQ(weightsHash(*enc2.module()), weightsHash(weights));
  EXPECT_EQ(maxAbsDiff(enc2.encode(clip), out), 0.0);

  // A Kinetics-400 head (plain torchvision) does not load into EchoPrime's encoder.
  converted["video.head.1.weight"] = torch::zeros({400, 768});
  EXPECT_THROW(loadStateDict(*enc2.module(), converted, true, "video."), std::runtime_error);
}
