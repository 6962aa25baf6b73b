// Inference precision (see precision.h).
#include "model/precision.h"

#include <cstdlib>

#include <fstream>
#include <sstream>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace e2e::model {

const char* precisionName(Precision p) { return p == Precision::Bf16 ? "bf16" : "fp32"; }

Precision parsePrecision(const std::string& name) {
  if (name == "fp32") return Precision::Fp32;
  if (name == "bf16") return Precision::Bf16;
  throw std::invalid_argument("unknown precision '" + name + "' (fp32 or bf16)");
}

bool validPrecisionSpec(const std::string& spec) { return spec == "auto" || spec == "fp32" || spec == "bf16"; }

CpuFlags cpuFlagsFromCpuinfo(const std::string& text) {
  CpuFlags flags;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.pop_back();
    if (key != "flags") continue;
    std::istringstream words(line.substr(colon + 1));
    std::string w;
    while (words >> w) flags.insert(w);
    break;  // every core lists the same flags
  }
  return flags;
}

namespace {
CpuFlags readHostFlags() {
  std::ifstream in("/proc/cpuinfo");
  if (in) {
    std::ostringstream text;
    text << in.rdbuf();
    auto flags = cpuFlagsFromCpuinfo(text.str());
    if (!flags.empty()) return flags;
  }
  CpuFlags flags;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
    if (d & (1u << 22)) flags.insert("amx_bf16");
    if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a & (1u << 5))) flags.insert("avx512_bf16");
  }
#endif
  return flags;
}
}  // namespace

const CpuFlags& hostCpuFlags() {
  static const CpuFlags flags = readHostFlags();
  return flags;
}

PrecisionRequest parsePrecisionRequest(const std::string& spec) {
  if (!validPrecisionSpec(spec))
    throw std::invalid_argument("--precision must be auto, fp32 or bf16 (not '" + spec + "')");
  if (spec == "auto") return std::nullopt;
  return parsePrecision(spec);
}

PrecisionChoice resolvePrecision(PrecisionRequest request, const CpuFlags& cpu, bool cudaDevice) {
  PrecisionChoice c;
  if (request) {
    c.precision = *request;
    c.reason = std::string("set by --precision ") + precisionName(*request);
    return c;
  }
  if (cudaDevice) {
    c.precision = Precision::Bf16;
    c.reason = "auto: a CUDA device (bfloat16 autocast)";
    return c;
  }
  for (const char* f : {"avx512_bf16", "amx_bf16"})
    if (cpu.count(f)) {
      c.precision = Precision::Bf16;
      c.reason = std::string("auto: the CPU has ") + f + " (native bfloat16)";
      return c;
    }
  c.precision = Precision::Fp32;
  c.reason = "auto: the CPU has neither avx512_bf16 nor amx_bf16 (no native bfloat16; --precision bf16 still runs, "
             "emulated by oneDNN)";
  return c;
}

PrecisionChoice resolvePrecision(PrecisionRequest request, bool cudaDevice) {
  if (!request) {
    const char* env = std::getenv("E2E_PRECISION");
    if (env && *env && std::string(env) != "auto") {
      PrecisionChoice c;
      try {
        c.precision = parsePrecision(env);
      } catch (const std::invalid_argument&) {
        throw std::invalid_argument(std::string("E2E_PRECISION must be auto, fp32 or bf16 (not '") + env + "')");
      }
      c.reason = std::string("set by E2E_PRECISION=") + env;
      return c;
    }
  }
  return resolvePrecision(request, hostCpuFlags(), cudaDevice);
}

}  // namespace e2e::model
