// torchvision 0.14 mvit_v2_s in libtorch; see mvit.h. Every forward step follows
// torchvision/models/video/mvit.py operation by operation (same ops, same order), so outputs match
// PyTorch to float rounding.
#include "model/mvit.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace e2e::model {

namespace nn = torch::nn;
namespace F = torch::nn::functional;
using Thw = std::array<int64_t, 3>;

namespace {

int64_t prod(const Thw& a) { return a[0] * a[1] * a[2]; }
std::vector<int64_t> vec(const Thw& a) { return {a[0], a[1], a[2]}; }
Thw half(const Thw& k) { return {k[0] / 2, k[1] / 2, k[2] / 2}; }

// LayerNorm input in fp32: under bfloat16 CPU autocast libtorch 1.13's layer_norm kernel rejects a
// bfloat16 input with fp32 weights (as in model.cpp). A no-op for fp32 tensors (the parity path).
torch::Tensor lnIn(const torch::Tensor& x) {
  return x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf ? x.to(torch::kFloat32) : x;
}

// _interpolate: resize a relative-position table [L, C] to d rows (linear, align_corners = false).
torch::Tensor interpolateRelPos(const torch::Tensor& e, int64_t d) {
  if (e.size(0) == d) return e;
  return F::interpolate(e.permute({1, 0}).unsqueeze(0), F::InterpolateFuncOptions()
                                                            .size(std::vector<int64_t>{d})
                                                            .mode(torch::kLinear)
                                                            .align_corners(false))
      .squeeze(0)
      .permute({1, 0});
}

// dist = arange(q)[:, None] * q_ratio - (arange(k)[None, :] + (1 - k)) * k_ratio, as torchvision
// computes it (int64 arange times a Python float -> float32, then .long()).
torch::Tensor relDist(int64_t q, int64_t k) {
  const double qRatio = std::max(static_cast<double>(k) / static_cast<double>(q), 1.0);
  const double kRatio = std::max(static_cast<double>(q) / static_cast<double>(k), 1.0);
  auto a = torch::arange(q).unsqueeze(1) * qRatio;
  auto b = (torch::arange(k).unsqueeze(0) + (1.0 - static_cast<double>(k))) * kRatio;
  return (a - b).to(torch::kLong);
}

torch::Tensor gatherRows(const torch::Tensor& table, const torch::Tensor& idx) {
  return table.index_select(0, idx.flatten()).view({idx.size(0), idx.size(1), table.size(1)});
}

// _add_rel_pos: decomposed (t, h, w) relative position terms added to attn[:, :, 1:, 1:] in place.
void addRelPos(torch::Tensor& attn, const torch::Tensor& q, const Thw& qThw, const Thw& kThw,
               const torch::Tensor& relPosH, const torch::Tensor& relPosW, const torch::Tensor& relPosT) {
  const int64_t qt = qThw[0], qh = qThw[1], qw = qThw[2];
  const int64_t kt = kThw[0], kh = kThw[1], kw = kThw[2];
  const int64_t dh = 2 * std::max(qh, kh) - 1, dw = 2 * std::max(qw, kw) - 1, dt = 2 * std::max(qt, kt) - 1;
  auto Rh = gatherRows(interpolateRelPos(relPosH, dh), relDist(qh, kh));
  auto Rw = gatherRows(interpolateRelPos(relPosW, dw), relDist(qw, kw));
  auto Rt = gatherRows(interpolateRelPos(relPosT, dt), relDist(qt, kt));

  const int64_t B = q.size(0), nHead = q.size(1), dim = q.size(3);
  auto rQ = q.slice(2, 1).reshape({B, nHead, qt, qh, qw, dim});
  auto relHq = torch::einsum("bythwc,hkc->bythwk", {rQ, Rh});  // [B, H, qt, qh, qw, kh]
  auto relWq = torch::einsum("bythwc,wkc->bythwk", {rQ, Rw});  // [B, H, qt, qh, qw, kw]
  rQ = rQ.permute({2, 0, 1, 3, 4, 5}).reshape({qt, B * nHead * qh * qw, dim});
  auto relQt = torch::matmul(rQ, Rt.transpose(1, 2)).transpose(0, 1);
  relQt = relQt.view({B, nHead, qh, qw, qt, kt}).permute({0, 1, 4, 2, 3, 5});

  auto relPos = (relHq.unsqueeze(5).unsqueeze(7) + relWq.unsqueeze(5).unsqueeze(6) +
                 relQt.unsqueeze(6).unsqueeze(7))
                    .reshape({B, nHead, qt * qh * qw, kt * kh * kw});
  attn.slice(2, 1).slice(3, 1).add_(relPos);
}

void initLinear(nn::Linear& l) {
  torch::NoGradGuard ng;
  nn::init::normal_(l->weight, 0.0, 0.02);  // trunc_normal_(std=0.02) truncates at +-2 (absolute)
  if (l->bias.defined()) nn::init::zeros_(l->bias);
}

}  // namespace

std::vector<MvitBlockConfig> MvitConfig::v2s() {
  const int64_t heads[] = {1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8};
  const int64_t in[] = {96, 96, 192, 192, 384, 384, 384, 384, 384, 384, 384, 384, 384, 384, 384, 768};
  const int64_t out[] = {96, 192, 192, 384, 384, 384, 384, 384, 384, 384, 384, 384, 384, 384, 768, 768};
  const int64_t sq[] = {1, 2, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1};   // stride_q = [1, s, s]
  const int64_t skv[] = {8, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1};  // stride_kv = [1, s, s]
  std::vector<MvitBlockConfig> v;
  for (int i = 0; i < 16; ++i)
    v.push_back({heads[i], in[i], out[i], {3, 3, 3}, {3, 3, 3}, {1, sq[i], sq[i]}, {1, skv[i], skv[i]}});
  return v;
}

// ------------------------------------------------------------------ Pool ----

MvitPoolImpl::MvitPoolImpl(int64_t channels, const Thw& kernel, const Thw& stride, double eps) {
  conv = register_module("pool", nn::Conv3d(nn::Conv3dOptions(channels, channels, vec(kernel))
                                                 .stride(vec(stride))
                                                 .padding(vec(half(kernel)))
                                                 .groups(channels)
                                                 .bias(false)));
  norm_act = register_module(
      "norm_act", nn::Sequential(nn::LayerNorm(nn::LayerNormOptions({channels}).eps(eps))));
}

MvitPoolImpl::MvitPoolImpl(const Thw& stride) {
  Thw kernel{};
  for (int i = 0; i < 3; ++i) kernel[i] = stride[i] > 1 ? stride[i] + 1 : stride[i];
  maxpool = register_module(
      "pool", nn::MaxPool3d(nn::MaxPool3dOptions(vec(kernel)).stride(vec(stride)).padding(vec(half(kernel)))));
}

torch::Tensor MvitPoolImpl::forward(const torch::Tensor& input, Thw& thw) {
  const bool three = input.dim() == 3;
  TORCH_CHECK(three || input.dim() == 4, "MViT pool expects [B, N, C] or [B, heads, N, C], got ", input.sizes());
  auto x = three ? input.unsqueeze(1) : input;
  auto classToken = x.slice(2, 0, 1);
  x = x.slice(2, 1).transpose(2, 3);
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2);
  x = x.reshape({B * N, C, thw[0], thw[1], thw[2]}).contiguous();
  x = conv ? conv->forward(x) : maxpool->forward(x);
  thw = {x.size(2), x.size(3), x.size(4)};
  x = x.reshape({B, N, C, -1}).transpose(2, 3);
  x = torch::cat({classToken, x}, 2);
  if (norm_act) x = norm_act->forward(lnIn(x));
  return three ? x.squeeze(1) : x;
}

// ------------------------------------------------------------------ attention ----

MultiscaleAttentionImpl::MultiscaleAttentionImpl(const Thw& inputSize, const MvitBlockConfig& c, double eps)
    : heads(c.heads), headDim(c.outChannels / c.heads), outDim(c.outChannels) {
  scaler = 1.0 / std::sqrt(static_cast<double>(headDim));
  qkv = register_module("qkv", nn::Linear(c.inChannels, 3 * c.outChannels));
  nn::Linear proj(c.outChannels, c.outChannels);
  initLinear(qkv);
  initLinear(proj);
  project = register_module("project", nn::Sequential(proj));
  if (prod(c.kernelQ) > 1 || prod(c.strideQ) > 1)
    pool_q = register_module("pool_q", MvitPool(headDim, c.kernelQ, c.strideQ, eps));
  if (prod(c.kernelKv) > 1 || prod(c.strideKv) > 1) {
    pool_k = register_module("pool_k", MvitPool(headDim, c.kernelKv, c.strideKv, eps));
    pool_v = register_module("pool_v", MvitPool(headDim, c.kernelKv, c.strideKv, eps));
  }
  const int64_t size = std::max(inputSize[1], inputSize[2]);
  const int64_t qSize = size / c.strideQ[1], kvSize = size / c.strideKv[1];
  const int64_t spatialDim = 2 * std::max(qSize, kvSize) - 1, temporalDim = 2 * inputSize[0] - 1;
  rel_pos_h = register_parameter("rel_pos_h", torch::randn({spatialDim, headDim}) * 0.02);
  rel_pos_w = register_parameter("rel_pos_w", torch::randn({spatialDim, headDim}) * 0.02);
  rel_pos_t = register_parameter("rel_pos_t", torch::randn({temporalDim, headDim}) * 0.02);
}

torch::Tensor MultiscaleAttentionImpl::forward(const torch::Tensor& x, Thw& thw) {
  const int64_t B = x.size(0), N = x.size(1);
  auto qkvs = qkv->forward(x).reshape({B, N, 3, heads, headDim}).transpose(1, 3).unbind(2);
  auto q = qkvs[0], k = qkvs[1], v = qkvs[2];
  Thw kThw = thw;
  if (pool_k) k = pool_k->forward(k, kThw);
  if (pool_v) {
    Thw vThw = thw;
    v = pool_v->forward(v, vThw);
  }
  if (pool_q) q = pool_q->forward(q, thw);

  auto attn = torch::matmul(q * scaler, k.transpose(2, 3));
  addRelPos(attn, q, thw, kThw, rel_pos_h, rel_pos_w, rel_pos_t);
  attn = attn.softmax(-1);
  auto y = torch::matmul(attn, v);
  y.slice(2, 1).add_(q.slice(2, 1));  // residual pooling, CLS excluded (residual_with_cls_embed = false)
  y = y.transpose(1, 2).reshape({B, -1, outDim});
  return project->forward(y);
}

// ------------------------------------------------------------------ block ----

MultiscaleBlockImpl::MultiscaleBlockImpl(const Thw& inputSize, const MvitBlockConfig& c, double eps) {
  if (prod(c.strideQ) > 1) pool_skip = register_module("pool_skip", MvitPool(c.strideQ));
  const int64_t attnDim = c.outChannels;  // proj_after_attn
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({c.inChannels}).eps(eps)));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({attnDim}).eps(eps)));
  attn = register_module("attn", MultiscaleAttention(inputSize, c, eps));
  nn::Linear fc1(attnDim, 4 * attnDim), fc2(4 * attnDim, c.outChannels);
  initLinear(fc1);
  initLinear(fc2);
  mlp = register_module("mlp", nn::Sequential(fc1, nn::GELU(), nn::Dropout(0.0), fc2, nn::Dropout(0.0)));
  if (c.inChannels != c.outChannels) {
    project = register_module("project", nn::Linear(c.inChannels, c.outChannels));
    initLinear(project);
  }
}

torch::Tensor MultiscaleBlockImpl::forward(const torch::Tensor& input, Thw& thw) {
  auto xNorm1 = norm1->forward(lnIn(input));
  Thw thwIn = thw;
  auto xAttn = attn->forward(xNorm1, thw);  // thw -> the pooled query grid
  auto x = project ? project->forward(xNorm1) : input;
  auto xSkip = pool_skip ? pool_skip->forward(x, thwIn) : x;
  x = xSkip + xAttn;  // stochastic depth: identity at inference
  auto xNorm2 = norm2->forward(lnIn(x));
  return x + mlp->forward(xNorm2);
}

// ------------------------------------------------------------------ model ----

MvitPositionalEncodingImpl::MvitPositionalEncodingImpl(int64_t dim) {
  class_token = register_parameter("class_token", torch::randn({dim}) * 0.02);
}

torch::Tensor MvitPositionalEncodingImpl::forward(const torch::Tensor& x) {
  auto cls = class_token.expand({x.size(0), -1}).unsqueeze(1);
  return torch::cat({cls, x}, 1);
}

MvitImpl::MvitImpl(MvitConfig c) : cfg(std::move(c)) {
  if (cfg.blocks.empty()) cfg.blocks = MvitConfig::v2s();
  const auto& b0 = cfg.blocks.front();
  conv_proj = register_module("conv_proj", nn::Conv3d(nn::Conv3dOptions(3, b0.inChannels, {3, 7, 7})
                                                           .stride({2, 4, 4})
                                                           .padding({1, 3, 3})));
  pos_encoding = register_module("pos_encoding", MvitPositionalEncoding(b0.inChannels));
  blocks = register_module("blocks", nn::ModuleList());
  Thw inputSize{cfg.temporalSize / 2, cfg.spatialSize / 4, cfg.spatialSize / 4};
  for (const auto& bc : cfg.blocks) {
    blocks->push_back(MultiscaleBlock(inputSize, bc, cfg.normEps));
    for (int i = 0; i < 3; ++i) inputSize[i] /= bc.strideQ[i];
  }
  const int64_t outDim = cfg.blocks.back().outChannels;
  norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({outDim}).eps(cfg.normEps)));
  nn::Linear fc(outDim, cfg.numClasses);
  initLinear(fc);
  head = register_module("head", nn::Sequential(nn::Dropout(cfg.dropout), fc));
}

torch::Tensor MvitImpl::forwardFeatures(const torch::Tensor& input) {
  TORCH_CHECK(input.dim() == 5 && input.size(1) == 3 && input.size(2) == cfg.temporalSize &&
                  input.size(3) == cfg.spatialSize && input.size(4) == cfg.spatialSize,
              "mvit_v2_s expects [N, 3, ", cfg.temporalSize, ", ", cfg.spatialSize, ", ", cfg.spatialSize,
              "], got ", input.sizes());
  auto x = conv_proj->forward(input);
  x = x.flatten(2).transpose(1, 2);
  x = pos_encoding->forward(x);
  Thw thw{cfg.temporalSize / 2, cfg.spatialSize / 4, cfg.spatialSize / 4};
  for (const auto& m : *blocks) x = m->as<MultiscaleBlockImpl>()->forward(x, thw);
  x = norm->forward(lnIn(x));
  return x.select(1, 0);
}

torch::Tensor MvitImpl::forward(const torch::Tensor& x) { return head->forward(forwardFeatures(x)); }

double mvitFlops(const MvitConfig& c0) {
  MvitConfig c = c0;
  if (c.blocks.empty()) c.blocks = MvitConfig::v2s();
  const double mac = 2.0;
  Thw thw{c.temporalSize / 2, c.spatialSize / 4, c.spatialSize / 4};
  double f = mac * static_cast<double>(prod(thw)) * c.blocks.front().inChannels * (3 * 3 * 7 * 7);
  auto pooled = [](const Thw& g, const Thw& k, const Thw& s) {
    Thw o{};
    for (int i = 0; i < 3; ++i) o[i] = (g[i] + 2 * (k[i] / 2) - k[i]) / s[i] + 1;
    return o;
  };
  for (const auto& b : c.blocks) {
    const double n = 1.0 + static_cast<double>(prod(thw));
    const int64_t hd = b.outChannels / b.heads;
    const Thw q = pooled(thw, b.kernelQ, b.strideQ), kv = pooled(thw, b.kernelKv, b.strideKv);
    const double nq = 1.0 + static_cast<double>(prod(q)), nk = 1.0 + static_cast<double>(prod(kv));
    f += mac * n * b.inChannels * 3 * b.outChannels;                                              // qkv
    f += mac * b.heads * hd * (prod(q) * prod(b.kernelQ) + 2.0 * prod(kv) * prod(b.kernelKv));  // pools
    f += mac * b.heads * nq * nk * hd * 2;                                                        // QK^T, AV
    f += mac * b.heads * static_cast<double>(prod(q)) * hd * (kv[0] + kv[1] + kv[2]);            // rel pos
    f += mac * nq * b.outChannels * b.outChannels;                                                // attn.project
    if (b.inChannels != b.outChannels) f += mac * n * b.inChannels * b.outChannels;              // project
    f += mac * nq * b.outChannels * 4 * b.outChannels * 2;                                        // mlp
    thw = q;
  }
  f += mac * c.blocks.back().outChannels * c.numClasses;  // head
  return f;
}

// ------------------------------------------------------------------ encoder ----

VideoInputSpec echoPrimeInputSpec() {
  VideoInputSpec s;
  s.channels = 3;
  s.frames = 16;
  s.frameStride = 2;
  s.height = s.width = 224;
  s.mean = {29.110628f, 28.076836f, 29.096405f};
  s.std = {47.989223f, 46.456997f, 47.20083f};
  return s;
}

MvitVideoEncoder::MvitVideoEncoder(MvitConfig cfg, VideoInputSpec spec) : spec_(std::move(spec)) {
  if (spec_.channels != 3 || spec_.frames != cfg.temporalSize || spec_.height != cfg.spatialSize ||
      spec_.width != cfg.spatialSize)
    throw std::invalid_argument("mvit_v2_s: clip spec " + std::to_string(spec_.channels) + "x" +
                                std::to_string(spec_.frames) + "x" + std::to_string(spec_.height) + "x" +
                                std::to_string(spec_.width) + " does not match the model's 3x" +
                                std::to_string(cfg.temporalSize) + "x" + std::to_string(cfg.spatialSize) + "x" +
                                std::to_string(cfg.spatialSize));
  net_ = Mvit(std::move(cfg));
}

torch::Tensor MvitVideoEncoder::encode(const torch::Tensor& clips) { return net_->forward(clips); }

}  // namespace e2e::model
