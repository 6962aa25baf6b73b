// Inference precision of the encoders: fp32, or bfloat16 autocast (model/autocast.h). "auto" is
// resolved at run time from the machine: bf16 where it is fast (a CUDA device, or a CPU with native
// bfloat16 arithmetic: AVX512-BF16 or AMX-BF16), fp32 elsewhere (there oneDNN emulates bfloat16;
// --precision bf16 still selects it). Torch- and Qt-free; the resolution is a pure function of the
// CPU's feature flags so that it is testable with any flag set.
//
// Stored embeddings carry the precision name they were made with (embeddings.precision, schema 7):
// vectors of different precisions are never compared or mixed in one index.
#pragma once
#include <optional>
#include <set>
#include <string>

namespace e2e::model {

enum class Precision { Fp32, Bf16 };

// "fp32" / "bf16" (the names stored with embeddings and accepted by --precision).
const char* precisionName(Precision p);
// "fp32" / "bf16" -> the precision; anything else throws std::invalid_argument.
Precision parsePrecision(const std::string& name);
// A valid --precision value: "auto", "fp32" or "bf16".
bool validPrecisionSpec(const std::string& spec);

// The CPU's feature flags as /proc/cpuinfo names them ("avx512f", "avx512_bf16", "amx_bf16", ...).
using CpuFlags = std::set<std::string>;
// The flags of the first "flags" line of /proc/cpuinfo text (empty when there is none).
CpuFlags cpuFlagsFromCpuinfo(const std::string& cpuinfoText);
// This machine's flags: /proc/cpuinfo where readable, else CPUID (x86; the bfloat16 bits only), else none.
const CpuFlags& hostCpuFlags();

struct PrecisionChoice {
  Precision precision = Precision::Fp32;
  std::string reason;  // why, in words: "auto: the CPU has avx512_bf16 (...)", "set by --precision bf16", ...
  const char* name() const { return precisionName(precision); }
};

// What a request asks for: a precision, or nullopt = "auto" (chosen from the machine).
using PrecisionRequest = std::optional<Precision>;
// "auto" -> nullopt, "fp32" / "bf16" -> that precision; anything else throws std::invalid_argument
// ("--precision must be auto, fp32 or bf16 (not 'x')").
PrecisionRequest parsePrecisionRequest(const std::string& spec);

// A set precision is taken as it is. nullopt (auto): bf16 on a CUDA device (`cudaDevice`) or when
// `cpu` has avx512_bf16 or amx_bf16, else fp32.
PrecisionChoice resolvePrecision(PrecisionRequest request, const CpuFlags& cpu, bool cudaDevice);
// The same with this machine's CPU flags; for auto, a site default in $E2E_PRECISION (fp32 or bf16;
// "auto" or empty: the machine decides) comes first. The test suite pins it to fp32 (tests/test_home.cpp)
// so that results do not depend on the CPU that runs them.
PrecisionChoice resolvePrecision(PrecisionRequest request, bool cudaDevice);

}  // namespace e2e::model
