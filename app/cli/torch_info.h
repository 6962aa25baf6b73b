// What libtorch this echo2ecg runs with, for `echo2ecg --version` (torch_info.cpp is compiled only
// when the model code is built; E2E_CLI_WITH_TORCH is defined then).
#pragma once
#include <string>

namespace e2e::cli {

struct TorchInfo {
  std::string version;     // TORCH_VERSION of the headers built against
  bool cudaUsable = false; // torch::cuda::is_available()
  int cudaDevices = 0;     // torch::cuda::device_count()
  // The model jobs' default inference precision on this machine (--precision auto, model/precision.h),
  // why, and the CPU flags it was chosen from ("avx512f yes, avx512_bf16 no, amx_bf16 no").
  std::string defaultPrecision, precisionReason, cpuFlags;
};
TorchInfo torchInfo();

}  // namespace e2e::cli
