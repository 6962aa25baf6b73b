#pragma once
// bfloat16 autocast for a forward pass, on the device the tensors live on. bfloat16 keeps fp32's
// exponent range, so no loss scaling is needed; backward runs outside the guard (the cast ops
// recorded in the forward pass decide the backward dtypes).
//
// libtorch 1.13's CPU autocast leaves some ops to their kernels, which reject mixed dtypes: the
// model code therefore feeds LayerNorm fp32 input and keeps the echo view aggregator in fp32
// (core/model/model.cpp). On CUDA, autocast handles both by itself.
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

namespace e2e::model {

class Bf16Autocast {
 public:
  Bf16Autocast(bool on, const torch::Device& device) : on_(on), cuda_(device.is_cuda()) {
    if (!on_) return;
    if (cuda_) {
      prev_ = at::autocast::is_enabled();
      prevType_ = at::autocast::get_autocast_gpu_dtype();
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      prev_ = at::autocast::is_cpu_enabled();
      prevType_ = at::autocast::get_autocast_cpu_dtype();
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
  }
  ~Bf16Autocast() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda_) {
      at::autocast::set_enabled(prev_);
      at::autocast::set_autocast_gpu_dtype(prevType_);
    } else {
      at::autocast::set_cpu_enabled(prev_);
      at::autocast::set_autocast_cpu_dtype(prevType_);
    }
  }
  Bf16Autocast(const Bf16Autocast&) = delete;
  Bf16Autocast& operator=(const Bf16Autocast&) = delete;

 private:
  bool on_, cuda_, prev_ = false;
  at::ScalarType prevType_ = at::kBFloat16;
};

// Turns autocast off (CPU and CUDA) for its scope and restores the previous state.
class AutocastOff {
 public:
  AutocastOff() : cpu_(at::autocast::is_cpu_enabled()), gpu_(at::autocast::is_enabled()) {
    at::autocast::set_cpu_enabled(false);
    at::autocast::set_enabled(false);
  }
  ~AutocastOff() {
    at::autocast::set_cpu_enabled(cpu_);
    at::autocast::set_enabled(gpu_);
  }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  bool cpu_, gpu_;
};

}  // namespace e2e::model
