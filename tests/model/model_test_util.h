// Helpers shared by the model tests on the CPU (test_model) and on CUDA (test_cuda), so that both
// run the very same models, inputs and comparisons.
#pragma once
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/autocast.h"
#include "model/model.h"
#include "model/train.h"

namespace e2e::test {

inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}
// Smallest row-wise dot product of two [N, D] sets of unit vectors (the embeddings' cosines).
inline double minCosine(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kFloat32) * b.to(torch::kCPU, torch::kFloat32)).sum(1).min().item<double>();
}
inline bool autocastEnabled(const torch::Device& d) {
  return d.is_cuda() ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}

// The full-width ECG encoder with `depth` blocks and no drop path (deterministic in training mode).
inline model::EcgEncoderConfig shallowConfig(int64_t depth) {
  model::EcgEncoderConfig c;
  c.depth = depth;
  c.dropPath = 0.0;
  return c;
}
inline model::Echo2Ecg seededJointModel(int64_t depth, uint64_t seed) {
  torch::manual_seed(seed);
  return model::Echo2Ecg(shallowConfig(depth));
}

// The joint model in eval mode on `device`, fp32 and under bfloat16 autocast, on 3 random ECGs and
// 3 studies of 4 view slots (2, 4 and 1 valid). v16pad: the first study with its padded slot 3
// overwritten, under autocast. All tensors are returned on the CPU in fp32.
struct Bf16Comparison {
  torch::Tensor e32, v32, e16, v16, v16pad;
  torch::Device computedOn = torch::kCPU;            // where the fp32 ECG embedding was computed
  bool enabledInside = false;                        // autocast on inside the guard
  torch::ScalarType matmulInside = torch::kFloat32;  // a matmul's result type inside the guard
};
inline Bf16Comparison compareUnderBf16(model::Echo2Ecg net, const torch::Device& device) {
  net->eval();
  net->to(device);
  torch::NoGradGuard ng;
  torch::manual_seed(21);
  const auto ecg = torch::randn({3, 12, 1008}).to(device);
  const auto views = torch::randn({3, 4, 512}).to(device);
  const auto valid = torch::tensor({1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0}).to(torch::kBool).view({3, 4}).to(device);
  auto cpu = [](const torch::Tensor& t) { return t.to(torch::kCPU, torch::kFloat32); };
  Bf16Comparison r;
  const auto e = net->embedEcg(ecg);
  r.computedOn = e.device();
  r.e32 = cpu(e);
  r.v32 = cpu(net->embedEcho(views, valid));
  {
    model::Bf16Autocast ac(true, device);
    r.enabledInside = autocastEnabled(device);
    const auto one = torch::ones({2, 2}, device);
    r.matmulInside = torch::matmul(one, one).scalar_type();
    r.e16 = cpu(net->embedEcg(ecg));
    r.v16 = cpu(net->embedEcho(views, valid));
    auto padded = views.clone();
    padded[0][3].fill_(40.0);  // a padded view's content must not matter
    r.v16pad = cpu(net->embedEcho(padded, valid));
  }
  return r;
}

// One contrastive training step of a fresh 1-block model (seed 11) on a batch of 4 random ECGs with
// 3 valid views each (seed 12), no augmentation, no warm-up. amp: bfloat16 autocast on `device`
// (on the CPU through TrainConfig::ampOnCpu).
struct FirstStep {
  double loss = 0;
  torch::Tensor before, after;          // ecg_proj's weights before and after the step, on the CPU
  torch::Device device = torch::kCPU;  // where the weights were after the step
};
inline FirstStep firstContrastiveStep(const torch::Device& device, bool amp) {
  auto net = seededJointModel(1, 11);
  model::TrainConfig cfg;
  cfg.augment = false;
  cfg.warmupEpochs = 0;
  cfg.amp = amp;
  cfg.ampOnCpu = amp;
  cfg.device = device;
  model::ContrastiveTrainer tr(net, cfg);
  torch::manual_seed(12);
  model::ContrastiveBatch b{torch::randn({4, 12, 1008}), torch::randn({4, 3, 512}), torch::ones({4, 3}, torch::kBool)};
  FirstStep r;
  r.before = net->ecg_proj->weight.detach().to(torch::kCPU).clone();
  r.loss = tr.step(b, 0.0);
  r.device = net->ecg_proj->weight.device();
  r.after = net->ecg_proj->weight.detach().to(torch::kCPU).clone();
  return r;
}

}  // namespace e2e::test
