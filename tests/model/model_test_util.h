// One contrastive training step of a fresh 1-block Echo2ECG, shared by the CPU autocast test and
// the CUDA tests so both compare the very same step.
#pragma once
#include <torch/torch.h>

#include "model/model.h"
#include "model/train.h"

namespace e2e::test {

struct FirstStep {
  double loss = 0;
  torch::Tensor before, after;  // ecg_proj's weights before and after the step, on the CPU
  torch::Device device = torch::kCPU;  // where the weights were after the step
};

// Model from seed 11, batch of 4 random ECGs with 3 valid views each from seed 12, no augmentation,
// no warm-up. amp: bfloat16 autocast on `device` (on the CPU through TrainConfig::ampOnCpu).
inline FirstStep firstContrastiveStep(torch::Device device, bool amp) {
  using namespace e2e::model;
  torch::manual_seed(11);
  EcgEncoderConfig c;
  c.depth = 1;
  c.dropPath = 0.0;
  Echo2Ecg net(c);
  TrainConfig cfg;
  cfg.augment = false;
  cfg.warmupEpochs = 0;
  cfg.amp = amp;
  cfg.ampOnCpu = amp;
  cfg.device = device;
  ContrastiveTrainer tr(net, cfg);
  torch::manual_seed(12);
  ContrastiveBatch b{torch::randn({4, 12, 1008}), torch::randn({4, 3, 512}), torch::ones({4, 3}, torch::kBool)};
  FirstStep r;
  r.before = net->ecg_proj->weight.detach().to(torch::kCPU).clone();
  r.loss = tr.step(b, 0.0);
  r.device = net->ecg_proj->weight.device();
  r.after = net->ecg_proj->weight.detach().to(torch::kCPU).clone();
  return r;
}

}  // namespace e2e::test
