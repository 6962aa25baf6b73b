// EchoPrime's echo video encoder: torchvision 0.14 `mvit_v2_s` (MViTv2-S, Li et al. 2022) in libtorch.
//
// A literal port of torchvision/models/video/mvit.py (MViT with residual_pool, rel_pos_embed,
// proj_after_attn = dim_mul_in_att, residual_with_cls_embed = false): conv_proj patch embedding,
// CLS token, 16 MultiscaleBlocks with pooling attention (depthwise Conv3d + LayerNorm pools for
// q/k/v, decomposed relative position embeddings, residual pooling), MaxPool3d skip pooling, final
// LayerNorm, CLS token -> head (Dropout, Linear). EchoPrime replaces head[-1] with Linear(768, 512).
//
// Parameter names equal torchvision's state_dict keys (conv_proj.weight, pos_encoding.class_token,
// blocks.N.attn.{qkv, project.0, pool_q.pool, pool_q.norm_act.0, rel_pos_h, ...}, blocks.N.mlp.{0,3},
// blocks.N.project, norm, head.1), so a converted EchoPrime checkpoint loads with loadStateDict
// strictly (tools/convert_checkpoint.py echoprime).
#pragma once

#include <torch/torch.h>

#include <array>
#include <memory>
#include <vector>

#include "model/model.h"

namespace e2e::model {

struct MvitBlockConfig {
  int64_t heads;
  int64_t inChannels;
  int64_t outChannels;
  std::array<int64_t, 3> kernelQ, kernelKv, strideQ, strideKv;
};

struct MvitConfig {
  int64_t temporalSize = 16;  // input frames
  int64_t spatialSize = 224;  // input height = width
  int64_t numClasses = 512;   // EchoPrime head; torchvision's Kinetics head has 400
  double dropout = 0.5;       // head dropout (eval: identity)
  double normEps = 1e-6;
  std::vector<MvitBlockConfig> blocks;  // empty -> the mvit_v2_s setting
  static std::vector<MvitBlockConfig> v2s();
};

// torchvision's Pool: [B, heads, 1 + THW, C] -> pool over (T, H, W) with the CLS token set aside,
// then LayerNorm (norm_act.0) on all tokens; with no norm it is the block's MaxPool3d skip pool.
struct MvitPoolImpl : torch::nn::Module {
  // Depthwise Conv3d (no bias) + LayerNorm(channels): the q/k/v pools.
  MvitPoolImpl(int64_t channels, const std::array<int64_t, 3>& kernel, const std::array<int64_t, 3>& stride,
               double eps);
  // MaxPool3d(kernel = stride + 1 where stride > 1, padding kernel / 2), no norm: the skip pool.
  explicit MvitPoolImpl(const std::array<int64_t, 3>& stride);
  // x: [B, N, C] or [B, heads, N, C] (CLS first); thw is updated to the pooled grid.
  torch::Tensor forward(const torch::Tensor& x, std::array<int64_t, 3>& thw);
  torch::nn::Conv3d conv{nullptr};        // registered as "pool"
  torch::nn::MaxPool3d maxpool{nullptr};  // registered as "pool"
  torch::nn::Sequential norm_act{nullptr};  // norm_act.0 = LayerNorm, or null
};
TORCH_MODULE(MvitPool);

struct MultiscaleAttentionImpl : torch::nn::Module {
  MultiscaleAttentionImpl(const std::array<int64_t, 3>& inputSize, const MvitBlockConfig& c, double eps);
  torch::Tensor forward(const torch::Tensor& x, std::array<int64_t, 3>& thw);
  torch::nn::Linear qkv{nullptr};
  torch::nn::Sequential project{nullptr};  // project.0 = Linear(out, out)
  MvitPool pool_q{nullptr}, pool_k{nullptr}, pool_v{nullptr};
  torch::Tensor rel_pos_h, rel_pos_w, rel_pos_t;
  int64_t heads, headDim, outDim;
  double scaler;
};
TORCH_MODULE(MultiscaleAttention);

struct MultiscaleBlockImpl : torch::nn::Module {
  MultiscaleBlockImpl(const std::array<int64_t, 3>& inputSize, const MvitBlockConfig& c, double eps);
  torch::Tensor forward(const torch::Tensor& x, std::array<int64_t, 3>& thw);
  MvitPool pool_skip{nullptr};  // MaxPool3d(stride + 1, stride), only where stride_q > 1
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  MultiscaleAttention attn{nullptr};
  torch::nn::Sequential mlp{nullptr};  // 0 Linear, 1 GELU, 2 Dropout, 3 Linear, 4 Dropout
  torch::nn::Linear project{nullptr};  // in != out channels only
};
TORCH_MODULE(MultiscaleBlock);

struct MvitPositionalEncodingImpl : torch::nn::Module {
  explicit MvitPositionalEncodingImpl(int64_t dim);
  torch::Tensor forward(const torch::Tensor& x);  // prepends the class token
  torch::Tensor class_token;                      // [dim]
};
TORCH_MODULE(MvitPositionalEncoding);

struct MvitImpl : torch::nn::Module {
  explicit MvitImpl(MvitConfig c = {});
  torch::Tensor forward(const torch::Tensor& x);          // [N, 3, T, H, W] -> head output [N, numClasses]
  torch::Tensor forwardFeatures(const torch::Tensor& x);  // normed CLS token before the head [N, 768]
  MvitConfig cfg;
  torch::nn::Conv3d conv_proj{nullptr};
  MvitPositionalEncoding pos_encoding{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::nn::Sequential head{nullptr};  // 0 Dropout, 1 Linear
};
TORCH_MODULE(Mvit);

// Analytic forward FLOPs of one clip (multiply-add = 2 FLOPs; convs, linears, attention matmuls and
// the relative-position einsums; norms, softmax, GELU and pooling maxima not counted).
double mvitFlops(const MvitConfig& c = {});

// EchoPrime's clip: 16 frames at stride 2, 224 x 224 RGB, per-channel mean/std in 0..255 units.
VideoInputSpec echoPrimeInputSpec();

class MvitVideoEncoder : public VideoEncoder {
 public:
  explicit MvitVideoEncoder(MvitConfig cfg = {}, VideoInputSpec spec = echoPrimeInputSpec());
  VideoInputSpec inputSpec() const override { return spec_; }
  int64_t embedDim() const override { return net_->cfg.numClasses; }
  torch::Tensor encode(const torch::Tensor& clips) override;
  std::shared_ptr<torch::nn::Module> module() override { return net_.ptr(); }
  Mvit net() { return net_; }

 private:
  VideoInputSpec spec_;
  Mvit net_{nullptr};
};

}  // namespace e2e::model
