// The run-time choice of the inference precision (model/precision.h): "auto" is bf16 on a CUDA
// device or a CPU with native bfloat16 (avx512_bf16, amx_bf16), fp32 elsewhere (AVX-512 without
// BF16 included); an explicit fp32 / bf16 always wins; other values are refused with the three names.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "model/blas_core.h"
#include "model/precision.h"

using namespace e2e::model;

namespace {
// A Sapphire Rapids-like, a Skylake-SP-like (this CI machine's kind: AVX-512 without BF16) and a
// desktop AVX2 flag list, as /proc/cpuinfo writes them.
const CpuFlags kAmx = {"fpu", "sse2", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile", "amx_int8"};
const CpuFlags kAvx512NoBf16 = {"fpu", "sse2", "avx2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni"};
const CpuFlags kAvx2 = {"fpu", "sse2", "avx", "avx2", "fma"};
}  // namespace

TEST(PrecisionResolve, AutoFollowsTheCpuFlags) {
  EXPECT_EQ(resolvePrecision(std::nullopt, kAmx, false).precision, Precision::Bf16);
  EXPECT_EQ(resolvePrecision(std::nullopt, CpuFlags{"avx512f", "avx512_bf16"}, false).precision, Precision::Bf16);
  EXPECT_EQ(resolvePrecision(std::nullopt, CpuFlags{"amx_bf16"}, false).precision, Precision::Bf16);
  EXPECT_EQ(resolvePrecision(std::nullopt, kAvx512NoBf16, false).precision, Precision::Fp32);
  EXPECT_EQ(resolvePrecision(std::nullopt, kAvx2, false).precision, Precision::Fp32);
  EXPECT_EQ(resolvePrecision(std::nullopt, CpuFlags{}, false).precision, Precision::Fp32);
  // near misses are not bfloat16 support
  EXPECT_EQ(resolvePrecision(std::nullopt, CpuFlags{"avx512_fp16", "amx_int8", "avx512bf16x"}, false).precision,
            Precision::Fp32);
  // the reason names the flag that decided
  EXPECT_NE(resolvePrecision(std::nullopt, kAmx, false).reason.find("avx512_bf16"), std::string::npos);
  EXPECT_NE(resolvePrecision(std::nullopt, CpuFlags{"amx_bf16"}, false).reason.find("amx_bf16"), std::string::npos);
  EXPECT_NE(resolvePrecision(std::nullopt, kAvx2, false).reason.find("neither"), std::string::npos);
}

TEST(PrecisionResolve, AutoIsBf16OnCudaWhateverTheCpu) {
  const auto c = resolvePrecision(std::nullopt, kAvx2, true);
  EXPECT_EQ(c.precision, Precision::Bf16);
  EXPECT_NE(c.reason.find("CUDA"), std::string::npos);
}

TEST(PrecisionResolve, ExplicitPrecisionOverridesTheMachine) {
  EXPECT_EQ(resolvePrecision(Precision::Fp32, kAmx, true).precision, Precision::Fp32);
  EXPECT_EQ(resolvePrecision(Precision::Bf16, kAvx2, false).precision, Precision::Bf16);
  EXPECT_NE(resolvePrecision(Precision::Bf16, kAvx2, false).reason.find("--precision bf16"), std::string::npos);
  EXPECT_STREQ(resolvePrecision(Precision::Bf16, kAvx2, false).name(), "bf16");
}

TEST(PrecisionResolve, ParsesOnlyAutoFp32Bf16) {
  EXPECT_FALSE(parsePrecisionRequest("auto").has_value());
  EXPECT_EQ(parsePrecisionRequest("fp32"), Precision::Fp32);
  EXPECT_EQ(parsePrecisionRequest("bf16"), Precision::Bf16);
  for (const char* bad : {"", "fp16", "BF16", "float32", "auto ", "bfloat16"}) {
    try {
      parsePrecisionRequest(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("auto, fp32 or bf16"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(parsePrecision("bf16"), Precision::Bf16);
  EXPECT_THROW(parsePrecision("auto"), std::invalid_argument);  // a stored precision is never "auto"
  EXPECT_STREQ(precisionName(Precision::Fp32), "fp32");
}

TEST(PrecisionResolve, ReadsTheFlagsLineOfCpuinfo) {
  const std::string text =
      "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\n"
      "flags\t\t: fpu vme avx512f avx512_bf16 amx_bf16\nbugs\t\t: spectre_v1\n"
      "processor\t: 1\nflags\t\t: fpu\n";
  const auto f = cpuFlagsFromCpuinfo(text);
  EXPECT_EQ(f, (CpuFlags{"fpu", "vme", "avx512f", "avx512_bf16", "amx_bf16"}));
  EXPECT_TRUE(cpuFlagsFromCpuinfo("processor : 0\nvendor_id : x\n").empty());
  // "vmx flags" (a different line) is not the flags line
  EXPECT_EQ(cpuFlagsFromCpuinfo("vmx flags\t: ept vpid\nflags\t: sse2\n"), CpuFlags{"sse2"});
}

// On Linux the host flags are those of /proc/cpuinfo, and the machine's auto choice follows them.
TEST(PrecisionResolve, HostFlagsAreTheKernelsAndDecideAuto) {
  std::ifstream in("/proc/cpuinfo");
  if (!in) GTEST_SKIP() << "no /proc/cpuinfo";
  std::ostringstream text;
  text << in.rdbuf();
  const auto expected = cpuFlagsFromCpuinfo(text.str());
  if (expected.empty()) GTEST_SKIP() << "/proc/cpuinfo has no flags line";
  EXPECT_EQ(hostCpuFlags(), expected);
  const bool native = expected.count("avx512_bf16") || expected.count("amx_bf16");
  EXPECT_EQ(resolvePrecision(std::nullopt, false).precision, native ? Precision::Bf16 : Precision::Fp32);
}

// OpenBLAS's generic Prescott kernels on a CPU with AVX-512 or AVX2 are replaced by the kernels the
// flags allow (model/blas_core.h); any other running core, or a CPU without either, is left alone.
TEST(BlasCore, PrescottOnAModernCpuGetsItsKernels) {
  const e2e::model::CpuFlags avx512{"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"};
  const e2e::model::CpuFlags avx2{"avx2", "fma", "avx"};
  EXPECT_EQ(e2e::model::betterOpenBlasCore("Prescott", avx512), "SkylakeX");
  EXPECT_EQ(e2e::model::betterOpenBlasCore("prescott", avx512), "SkylakeX");
  EXPECT_EQ(e2e::model::betterOpenBlasCore("Prescott", avx2), "Haswell");
  EXPECT_EQ(e2e::model::betterOpenBlasCore("Prescott", {"avx2", "fma", "avx512f"}), "Haswell");  // F without BW/DQ/VL
  EXPECT_EQ(e2e::model::betterOpenBlasCore("Prescott", {"avx2"}), "");                          // no FMA
  EXPECT_EQ(e2e::model::betterOpenBlasCore("Prescott", {"sse3", "avx"}), "");
  EXPECT_EQ(e2e::model::betterOpenBlasCore("SkylakeX", avx512), "");
  EXPECT_EQ(e2e::model::betterOpenBlasCore("Haswell", avx512), "");  // a choice OpenBLAS made itself stays
  EXPECT_EQ(e2e::model::betterOpenBlasCore("", avx512), "");         // not OpenBLAS
}
