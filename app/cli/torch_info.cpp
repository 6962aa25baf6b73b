#include "torch_info.h"

#include <torch/cuda.h>
#include <torch/version.h>

namespace e2e::cli {

TorchInfo torchInfo() {
  TorchInfo t;
  t.version = TORCH_VERSION;
  t.cudaUsable = torch::cuda::is_available();
  t.cudaDevices = t.cudaUsable ? static_cast<int>(torch::cuda::device_count()) : 0;
  return t;
}

}  // namespace e2e::cli
