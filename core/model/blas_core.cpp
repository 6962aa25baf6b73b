// OpenBLAS's kernel choice (see blas_core.h).
#include "model/blas_core.h"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>

namespace e2e::model {

std::string betterOpenBlasCore(const std::string& runningCore, const CpuFlags& cpu) {
  std::string core = runningCore;
  std::transform(core.begin(), core.end(), core.begin(), [](unsigned char c) { return std::tolower(c); });
  if (core != "prescott") return "";
  auto has = [&](const char* f) { return cpu.count(f) > 0; };
  if (has("avx512f") && has("avx512bw") && has("avx512dq") && has("avx512vl")) return "SkylakeX";
  if (has("avx2") && has("fma")) return "Haswell";
  return "";
}

std::string runningOpenBlasCore() {
  using CoreName = char* (*)();
  auto fn = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!fn) return "";
  const char* name = fn();
  return name ? std::string(name) : std::string();
}

}  // namespace e2e::model
