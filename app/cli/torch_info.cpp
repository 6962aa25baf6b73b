#include "torch_info.h"

#include <torch/cuda.h>
#include <torch/version.h>

#include "model/precision.h"

namespace e2e::cli {

TorchInfo torchInfo() {
  TorchInfo t;
  t.version = TORCH_VERSION;
  t.cudaUsable = torch::cuda::is_available();
  t.cudaDevices = t.cudaUsable ? static_cast<int>(torch::cuda::device_count()) : 0;
  const auto& flags = model::hostCpuFlags();
  const auto choice = model::resolvePrecision(std::nullopt, t.cudaUsable);  // E2E_PRECISION, else the CPU
  t.defaultPrecision = choice.name();
  t.precisionReason = choice.reason;
  for (const char* f : {"avx512f", "avx512_bf16", "amx_bf16"})
    t.cpuFlags += std::string(t.cpuFlags.empty() ? "" : ", ") + f + (flags.count(f) ? " yes" : " no");
  return t;
}

}  // namespace e2e::cli
