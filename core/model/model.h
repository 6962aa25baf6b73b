// Echo2ECG networks in libtorch (arXiv 2603.08505; reference code michelleespranita/Echo2ECG).
//
//  * EcgEncoder      - OTiS ViT "baseDeep" (width 192, 12 blocks, 3 heads) on [B, 12, 1008] ECGs.
//  * VideoEncoder    - abstract per-view echo video encoder (512-d); SmallVideoEncoder is a CPU 3-D CNN.
//  * EchoAggregator  - study-level attention pooling of up to 128 view embeddings (512 -> 1024).
//  * Echo2Ecg        - encoder + aggregator + bias-free alignment heads into the shared 512-d space.
//
// Parameter names mirror the PyTorch module names of tools/echo2ecg_reference.py, so a state_dict
// (written as a tensor archive, see saveTensorArchive) maps 1:1 onto these modules.
#pragma once

#include <torch/torch.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace e2e {
struct EchoFrames;
}

namespace e2e::model {

// ------------------------------------------------------------------ ECG encoder ----

struct EcgEncoderConfig {
  int64_t leads = 12;        // I, II, III, aVR, aVL, aVF, V1..V6
  int64_t samples = 1008;    // input length (after the 1008-sample crop)
  int64_t patch = 24;        // patch width in samples -> 42 patches per lead
  int64_t dim = 192;
  int64_t depth = 12;
  int64_t heads = 3;
  int64_t mlpDim = 768;
  double dropPath = 0.1;     // maximum stochastic depth (linear over depth), training only
  double attnDrop = 0.0;
  double patchNormEps = 1e-5;
  double normEps = 1e-6;
  // LayerNorm over the mean of the patch tokens (fc_norm): 1e-6 in this project's own models; the
  // official Echo2ECG code applies its token aggregator's nn.LayerNorm (ecg_layernorm_global, 1e-5).
  double globalNormEps = 1e-6;
  int64_t numPatches() const { return samples / patch; }
};

// Conv2d(1 -> dim, kernel = stride = (1, patch)) then LayerNorm + GELU over the channel dim.
struct PatchEmbedImpl : torch::nn::Module {
  explicit PatchEmbedImpl(const EcgEncoderConfig& c);
  torch::Tensor forward(const torch::Tensor& x);  // [B, L, T] -> [B, L, T/patch, dim]
  torch::nn::Conv2d proj{nullptr};
  torch::nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(PatchEmbed);

// qkv Linear -> nn::MultiheadAttention(q, k, v chunks) -> proj Linear (the OTiS attention).
//
// The reference applies two affine maps in a row on each side of the attention core:
// qkv (C -> 3C) then MultiheadAttention's in_proj (per q/k/v chunk, C -> C), and out_proj then proj
// (C -> C twice). A product of affine maps is affine, so forward() runs ONE fused GEMM for each pair
// (with the 1/sqrt(head_dim) query scale folded in) and the attention core on [B, heads, N, d].
// The parameters and their names stay exactly the reference's (checkpoints load unchanged; training
// differentiates through the fusion). Without grad mode the fused weights are cached and rebuilt
// when any source parameter changes (version counters: optimiser steps, loadStateDict, .to()).
// setFusedAttention(false) selects the literal reference path (benchmarks, parity tests).
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int64_t dim, int64_t heads, double attnDrop);
  torch::Tensor forward(const torch::Tensor& x);  // [B, N, C]
  torch::Tensor forwardReference(const torch::Tensor& x);
  torch::Tensor forwardFused(const torch::Tensor& x);
  torch::nn::Linear qkv{nullptr};
  torch::nn::MultiheadAttention attn{nullptr};
  torch::nn::Linear proj{nullptr};
  int64_t heads = 1;
  double attnDrop = 0.0;

 private:
  struct Fused {
    torch::Tensor wIn, bIn, wOut, bOut;
  };
  Fused fusedWeights();
  Fused cache_;
  std::vector<int64_t> cacheKey_;
};
TORCH_MODULE(Attention);

struct MlpImpl : torch::nn::Module {
  MlpImpl(int64_t dim, int64_t hidden);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

// Process-wide switch between the fused attention (default) and the literal reference path.
void setFusedAttention(bool on);
bool fusedAttention();

// Stochastic depth: drops whole residual branches per sample (training only).
torch::Tensor dropPath(const torch::Tensor& x, double p, bool training);

struct BlockImpl : torch::nn::Module {
  BlockImpl(const EcgEncoderConfig& c, double dropPathRate);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
  double dropPathRate = 0.0;
};
TORCH_MODULE(Block);

// 1-D sin-cos table [positions + 1, width] with a zero first row (the CLS slot).
torch::Tensor sinCosTable1d(int64_t width, int64_t positions);

struct EcgEncoderImpl : torch::nn::Module {
  explicit EcgEncoderImpl(EcgEncoderConfig c = {});
  // All tokens after the last block: [B, 1 + leads * patches, dim] (CLS first, then lead-major).
  torch::Tensor forwardTokens(const torch::Tensor& ecg);
  // Global ECG feature: fc_norm(mean of the patch tokens) -> [B, dim].
  torch::Tensor forward(const torch::Tensor& ecg);
  // The positional embedding added to the tokens: [1 + leads * patches, dim].
  torch::Tensor positionalEmbedding() const;

  EcgEncoderConfig cfg;
  PatchEmbed patch_embed{nullptr};
  torch::Tensor cls_token;              // [1, 1, dim]
  torch::nn::Embedding pos_embed_y{nullptr};  // per-lead embedding [leads + 1, dim/2], row 0 = padding (CLS)
  torch::Tensor pos_embed_x;            // frozen time table [patches + 1, dim/2] (buffer), row 0 = CLS
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm fc_norm{nullptr};
};
TORCH_MODULE(EcgEncoder);

// Analytic forward FLOPs of one ECG through the encoder (multiply-add = 2 FLOPs): the reference
// architecture as written (fused = false) or as executed with the fused attention GEMMs.
double ecgEncoderFlops(const EcgEncoderConfig& c = {}, bool fused = false);

// ------------------------------------------------------------------ echo side ----

// What a video encoder expects: clip geometry and pixel normalisation.
struct VideoInputSpec {
  int64_t channels = 3;
  int64_t frames = 16;
  int64_t frameStride = 2;
  int64_t height = 112;
  int64_t width = 112;
  std::vector<float> mean{0.f, 0.f, 0.f};     // in 0..255 pixel units, per channel
  std::vector<float> std{255.f, 255.f, 255.f};
};

// Per-view echo video encoder: clips [N, C, T, H, W] (already normalised) -> [N, embedDim()].
// Implementations: SmallVideoEncoder (below, CPU-friendly) and MvitVideoEncoder (model/mvit.h,
// EchoPrime's MViT-v2-S); bundle.json "video_encoder" selects one.
class VideoEncoder {
 public:
  virtual ~VideoEncoder() = default;
  virtual VideoInputSpec inputSpec() const = 0;
  virtual int64_t embedDim() const { return 512; }
  virtual torch::Tensor encode(const torch::Tensor& clips) = 0;
  virtual std::shared_ptr<torch::nn::Module> module() = 0;  // for weight loading / device moves
};

// Decoded frames -> one normalised clip [C, T, H, W] for `spec`: `frames` frames at `frameStride`
// starting at `startFrame` (looping if the loop is short), bilinear resize, (x - mean) / std.
torch::Tensor prepareClip(const EchoFrames& frames, const VideoInputSpec& spec, int startFrame = 0);

// The loop frames prepareClip uses for a loop of `loopFrames` frames, in clip order (spec.frames
// entries, repeats where a short loop wraps): (startFrame + i * frameStride) % loopFrames. A reader
// can decode just these (pipeline::readEchoFrames(path, spec)). Throws std::invalid_argument for
// loopFrames <= 0.
std::vector<int> clipFrameIndices(int loopFrames, const VideoInputSpec& spec, int startFrame = 0);

// The clip from frames already picked with clipFrameIndices, in clip order (picked.frames ==
// spec.frames): the same tensor prepareClip gives for the whole loop.
torch::Tensor prepareClipFromPicked(const EchoFrames& picked, const VideoInputSpec& spec);

// A small CPU-friendly 3-D CNN: 4 x (Conv3d + BatchNorm3d + ReLU), global average pool, Linear -> 512.
struct SmallVideoNetImpl : torch::nn::Module {
  explicit SmallVideoNetImpl(int64_t inChannels = 3, int64_t embedDim = 512);
  torch::Tensor forward(const torch::Tensor& x);  // [N, C, T, H, W] -> [N, embedDim]
  torch::nn::Sequential stem{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(SmallVideoNet);

class SmallVideoEncoder : public VideoEncoder {
 public:
  explicit SmallVideoEncoder(VideoInputSpec spec = {}, int64_t embedDim = 512);
  VideoInputSpec inputSpec() const override { return spec_; }
  int64_t embedDim() const override { return embedDim_; }
  torch::Tensor encode(const torch::Tensor& clips) override;
  std::shared_ptr<torch::nn::Module> module() override { return net_.ptr(); }
  SmallVideoNet net() { return net_; }

 private:
  VideoInputSpec spec_;
  int64_t embedDim_;
  SmallVideoNet net_{nullptr};
};

// Study-level pooling: proj (512 -> 1024) per view, then MultiheadAttention(1024, 4 heads) with the
// masked mean of the valid projected views as the single query.
struct EchoAggregatorImpl : torch::nn::Module {
  EchoAggregatorImpl(int64_t viewDim = 512, int64_t dim = 1024, int64_t heads = 4, int64_t maxViews = 128);
  // views [B, V, viewDim], valid [B, V] bool (true = real view; every study needs at least one).
  torch::Tensor forward(const torch::Tensor& views, const torch::Tensor& valid);  // -> [B, dim]
  int64_t maxViews;
  torch::nn::Linear proj{nullptr};
  torch::nn::MultiheadAttention attn{nullptr};
};
TORCH_MODULE(EchoAggregator);

// ------------------------------------------------------------------ joint model ----

struct Echo2EcgImpl : torch::nn::Module {
  // echoDim / echoHeads: the view aggregator (official config: model.echo.view_aggregation
  // proj_embed_dim and num_heads); sharedDim: the alignment width (model.alignment.proj_embed_dim).
  explicit Echo2EcgImpl(EcgEncoderConfig ecg = {}, int64_t viewDim = 512, int64_t echoDim = 1024,
                        int64_t sharedDim = 512, int64_t echoHeads = 4);
  torch::Tensor embedEcg(const torch::Tensor& ecg);                                 // [B, 512], L2-normalised
  torch::Tensor embedEcho(const torch::Tensor& views, const torch::Tensor& valid);  // [B, 512], L2-normalised
  EcgEncoder ecg_encoder{nullptr};
  EchoAggregator echo_aggregator{nullptr};
  torch::nn::Linear ecg_proj{nullptr};   // 192 -> 512, no bias
  torch::nn::Linear echo_proj{nullptr};  // 1024 -> 512, no bias
};
TORCH_MODULE(Echo2Ecg);

// Symmetric CLIP / InfoNCE: logits = cos(ecg_i, echo_j) / temperature;
// total = lambda * CE(logits, diag) + (1 - lambda) * CE(logits^T, diag).
// Inputs need not be normalised (they are L2-normalised here).
torch::Tensor clipLoss(const torch::Tensor& ecgEmb, const torch::Tensor& echoEmb, double temperature = 0.5,
                       double lambda = 0.5);

// Linear classification head on a frozen feature (3-class LVEF, binary SHD).
struct LinearHeadImpl : torch::nn::Module {
  LinearHeadImpl(int64_t inDim, int64_t numClasses);
  torch::Tensor forward(const torch::Tensor& x) { return head->forward(x); }
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(LinearHead);

// ------------------------------------------------------------------ weights I/O ----

using TensorMap = std::map<std::string, torch::Tensor>;

// Parameters and buffers by dotted PyTorch name.
TensorMap stateDict(const torch::nn::Module& m);

struct LoadReport {
  std::vector<std::string> loaded, missing, unexpected, mismatched;  // mismatched: shape differs
  bool ok() const { return missing.empty() && mismatched.empty(); }
};
// Copies matching tensors into the module (under NoGradGuard). With strict, any missing,
// unexpected or mismatched name throws std::runtime_error listing them.
LoadReport loadStateDict(torch::nn::Module& m, const TensorMap& weights, bool strict = true,
                         const std::string& prefix = "");

// A plain tensor archive: a pickled {name: tensor} dict in torch.save's zip format
// (torch.load(path) in Python gives the dict back; tools/ scripts write the same format).
void saveTensorArchive(const std::string& path, const TensorMap& tensors);
TensorMap loadTensorArchive(const std::string& path);

// SHA-256 over the sorted names, dtypes, shapes and little-endian fp32 values: the weights hash
// that keys stored embeddings. Independent of the archive's container format.
std::string weightsHash(const TensorMap& tensors);
std::string weightsHash(const torch::nn::Module& m);

}  // namespace e2e::model
