// CUDA paths of the Echo2ECG networks (ctest label "gpu"): the same weights give the CPU's
// embeddings on the GPU, bfloat16 autocast on CUDA stays close to fp32 and keeps the padded-view
// mask, and a contrastive training step on the GPU matches the CPU step. Every test skips when
// libtorch sees no CUDA device (Debian's libtorch is CPU-only; CI has no GPU).
#include <gtest/gtest.h>

#include <cmath>

#include "model_test_util.h"

namespace {

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to libtorch"

using e2e::test::maxAbsDiff;
using e2e::test::minCosine;

}  // namespace

TEST(Cuda, SameWeightsGiveTheCpuEmbeddings) {
  SKIP_WITHOUT_CUDA();
  // the same weights (seed 3) on each device, through the same comparison
  const auto cpu = e2e::test::compareUnderBf16(e2e::test::seededJointModel(2, 3), torch::kCPU);
  const auto gpu = e2e::test::compareUnderBf16(e2e::test::seededJointModel(2, 3), torch::kCUDA);
  ASSERT_TRUE(gpu.computedOn.is_cuda());
  // fp32 on both (cuDNN may use TF32 for the patch convolution: a few 1e-4 at most)
  EXPECT_LT(maxAbsDiff(gpu.e32, cpu.e32), 2e-3);
  EXPECT_LT(maxAbsDiff(gpu.v32, cpu.v32), 2e-3);
  EXPECT_GT(minCosine(gpu.e32, cpu.e32), 0.9999);
  EXPECT_GT(minCosine(gpu.v32, cpu.v32), 0.9999);
}

TEST(Cuda, Bf16AutocastIsCloseToFp32AndKeepsTheViewMask) {
  SKIP_WITHOUT_CUDA();
  const auto r = e2e::test::compareUnderBf16(e2e::test::seededJointModel(2, 5), torch::kCUDA);
  EXPECT_TRUE(r.enabledInside);
  EXPECT_EQ(r.matmulInside, torch::kBFloat16);
  EXPECT_FALSE(at::autocast::is_enabled());
  EXPECT_GT(minCosine(r.e16, r.e32), 0.995);
  EXPECT_GT(minCosine(r.v16, r.v32), 0.995);
  EXPECT_GT(maxAbsDiff(r.e16, r.e32), 0.0);  // autocast really ran
  EXPECT_LT(maxAbsDiff(r.v16pad, r.v16), 1e-6);
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
