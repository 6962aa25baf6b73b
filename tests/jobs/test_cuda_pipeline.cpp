// The model jobs on the GPU (ctest label "gpu"): `train --device cuda` (bfloat16 autocast by default
// there), `embed --device cuda` and a head on the GPU encoder. Skipped without a CUDA device; one
// test runs only WITHOUT one and checks that asking for CUDA fails clearly instead of falling back.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "cli_util.h"
#include "cohort_fixture.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

auto& lines = test::nonEmptyLines;
auto& field = test::jsonField;

class CudaPipeline : public ::testing::Test {
 protected:
  static inline test::CohortDb c;
  static void SetUpTestSuite() {
    c = test::makeCohortDb("e2e_cuda_pipeline", test::smallCohort(12, 31, 16));
  }
  static void TearDownTestSuite() { fs::remove_all(c.dir); }
  static test::CliResult cli(const std::string& args) { return test::runCli(args, true); }
};

}  // namespace

TEST_F(CudaPipeline, AskingForCudaWithoutOneFailsClearly) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is visible";
  for (const std::string cmd : {"train --db " + c.dbPath + " --task pretrain --run-dir " + (c.dir / "nocuda").string() +
                                    " --epochs 0 --ecg-depth 1 --device cuda",
                                "embed --db " + c.dbPath + " --device cuda"}) {
    auto r = cli(cmd);
    EXPECT_EQ(r.rc, 1) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("CUDA requested but not available"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(fs::exists(c.dir / "nocuda" / "bundle.json"));
}

TEST_F(CudaPipeline, TrainEmbedAndHeadOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to libtorch";
  const auto run = (c.dir / "gpu_pre").string();
  auto r = cli("train --db " + c.dbPath + " --task pretrain --run-dir " + run +
               " --epochs 2 --batch-size 4 --ecg-depth 1 --video-size 32 --seed 3 --device cuda --json-progress");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto ls = lines(r.out);
  std::string start, done;
  for (auto& l : ls) {
    if (field(l, "event") == "start") start = l;
    if (field(l, "event") == "done") done = l;
    if (field(l, "event") == "epoch") EXPECT_TRUE(std::isfinite(std::stod(field(l, "train_loss")))) << l;
  }
  EXPECT_EQ(field(start, "device"), "cuda") << start;
  EXPECT_EQ(field(start, "precision"), "bf16") << start;  // auto = bfloat16 autocast on CUDA
  ASSERT_FALSE(done.empty()) << r.out;

  auto e = cli("embed --db " + c.dbPath + " --model " + run + " --device cuda --json-progress");
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e.out, "ecg_added"), "12") << e.out;
  EXPECT_EQ(field(e.out, "studies_added"), "12") << e.out;

  auto h = cli("train --db " + c.dbPath + " --task lvef --method linear --model " + run + " --run-dir " +
               (c.dir / "gpu_head").string() + " --epochs 3 --batch-size 4 --seed 3 --device cuda --json-progress");
  ASSERT_EQ(h.rc, 0) << h.out;
  EXPECT_FALSE(field(lines(h.out).back(), "auroc").empty()) << h.out;
}
