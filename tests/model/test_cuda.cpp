// CUDA paths of the Echo2ECG networks (ctest label "gpu"): the same weights give the CPU's
// embeddings on the GPU, bfloat16 autocast on CUDA stays close to fp32 and keeps the padded-view
// mask, and a contrastive training step on the GPU matches the CPU step. Every test skips when
// libtorch sees no CUDA device (Debian's libtorch is CPU-only; CI has no GPU).
#include <gtest/gtest.h>

#include <cmath>

#include "model/autocast.h"
#include "model/model.h"
#include "model/train.h"
#include "first_step.h"

using namespace e2e::model;

namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to libtorch"

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}
double minCosine(const torch::Tensor& a, const torch::Tensor& b) {  // rows of unit vectors
  return (a.to(torch::kCPU, torch::kFloat32) * b.to(torch::kCPU, torch::kFloat32)).sum(1).min().item<double>();
}

struct Inputs {
  torch::Tensor ecg, views, valid;
};
Inputs inputs() {
  torch::manual_seed(21);
  Inputs in;
  in.ecg = torch::randn({3, 12, 1008});
  in.views = torch::randn({3, 4, 512});
  in.valid = torch::tensor({1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0}).to(torch::kBool).view({3, 4});
  return in;
}

Echo2Ecg net(int64_t depth, uint64_t seed) {
  torch::manual_seed(seed);
  EcgEncoderConfig c;
  c.depth = depth;
  c.dropPath = 0.0;
  return Echo2Ecg(c);
}

}  // namespace

TEST(Cuda, SameWeightsGiveTheCpuEmbeddings) {
  SKIP_WITHOUT_CUDA();
  auto m = net(2, 3);
  m->eval();
  torch::NoGradGuard ng;
  const auto in = inputs();
  const auto eCpu = m->embedEcg(in.ecg), vCpu = m->embedEcho(in.views, in.valid);
  m->to(torch::kCUDA);
  const auto eGpu = m->embedEcg(in.ecg.cuda()), vGpu = m->embedEcho(in.views.cuda(), in.valid.cuda());
  ASSERT_TRUE(eGpu.is_cuda());
  // fp32 on both (cuDNN may use TF32 for the patch convolution: a few 1e-4 at most)
  EXPECT_LT(maxAbsDiff(eGpu, eCpu), 2e-3);
  EXPECT_LT(maxAbsDiff(vGpu, vCpu), 2e-3);
  EXPECT_GT(minCosine(eGpu, eCpu), 0.9999);
  EXPECT_GT(minCosine(vGpu, vCpu), 0.9999);
}

TEST(Cuda, Bf16AutocastIsCloseToFp32AndKeepsTheViewMask) {
  SKIP_WITHOUT_CUDA();
  auto m = net(2, 5);
  m->eval();
  m->to(torch::kCUDA);
  torch::NoGradGuard ng;
  const auto in = inputs();
  const auto ecg = in.ecg.cuda(), views = in.views.cuda(), valid = in.valid.cuda();
  const auto e32 = m->embedEcg(ecg), v32 = m->embedEcho(views, valid);
  torch::Tensor e16, v16, v16pad;
  {
    Bf16Autocast ac(true, torch::kCUDA);
    EXPECT_TRUE(at::autocast::is_enabled());
    EXPECT_EQ(torch::matmul(torch::ones({2, 2}, torch::kCUDA), torch::ones({2, 2}, torch::kCUDA)).scalar_type(),
              torch::kBFloat16);
    e16 = m->embedEcg(ecg).to(torch::kFloat32);
    v16 = m->embedEcho(views, valid).to(torch::kFloat32);
    auto padded = views.clone();
    padded[0][3].fill_(40.0);  // a padded view's content must not matter
    v16pad = m->embedEcho(padded, valid).to(torch::kFloat32);
  }
  EXPECT_FALSE(at::autocast::is_enabled());
  EXPECT_GT(minCosine(e16, e32), 0.995);
  EXPECT_GT(minCosine(v16, v32), 0.995);
  EXPECT_GT(maxAbsDiff(e16, e32), 0.0);  // autocast really ran
  EXPECT_LT(maxAbsDiff(v16pad, v16), 1e-6);
}

TEST(Cuda, ContrastiveStepMatchesTheCpuStep) {
  SKIP_WITHOUT_CUDA();
  const auto cpu = e2e::test::firstContrastiveStep(torch::kCPU, false);
  const auto gpu = e2e::test::firstContrastiveStep(torch::kCUDA, false);
  const auto gpu16 = e2e::test::firstContrastiveStep(torch::kCUDA, true);  // the default on CUDA
  for (const auto* s : {&gpu, &gpu16}) {
    EXPECT_TRUE(s->device.is_cuda());
    EXPECT_GT(maxAbsDiff(s->after, s->before), 0.0);
  }
  EXPECT_EQ(maxAbsDiff(gpu.before, cpu.before), 0.0);  // the same initial weights
  ASSERT_TRUE(std::isfinite(gpu16.loss));
  EXPECT_NEAR(gpu.loss, cpu.loss, 1e-3 * cpu.loss);
  EXPECT_NEAR(gpu16.loss, cpu.loss, 0.02 * cpu.loss);
  // AdamW's first step moves each weight by about lr (5e-4) in the sign of its gradient: the GPU step
  // lands where the CPU's did, except where a near-zero gradient's sign is decided by rounding.
  const double moved = ((gpu.after - cpu.after).abs() > 1e-4).to(torch::kFloat32).mean().item<double>();
  EXPECT_LT(moved, 0.01);
}
