#include "model/model.h"

#include "model/autocast.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>

#include "common/hash.h"
#include "common/types.h"

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace e2e::model {

namespace {
// LayerNorm input in fp32: under bfloat16 autocast, CUDA runs layer_norm in fp32 by itself, the CPU
// kernels of libtorch 1.13 reject a bfloat16 input with fp32 weights. A no-op for fp32 tensors.
torch::Tensor fp32(const torch::Tensor& x) {
  return x.scalar_type() == torch::kBFloat16 || x.scalar_type() == torch::kHalf ? x.to(torch::kFloat32) : x;
}
}  // namespace

// ------------------------------------------------------------------ ECG encoder ----

PatchEmbedImpl::PatchEmbedImpl(const EcgEncoderConfig& c) {
  proj = register_module("proj", nn::Conv2d(nn::Conv2dOptions(1, c.dim, {1, c.patch}).stride({1, c.patch})));
  norm = register_module("norm", nn::LayerNorm(nn::LayerNormOptions({c.dim}).eps(c.patchNormEps)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& x) {
  auto y = proj->forward(x.unsqueeze(1));  // [B, dim, L, P]
  y = y.permute({0, 2, 3, 1});             // [B, L, P, dim]
  return F::gelu(norm->forward(fp32(y)));
}

namespace {
std::atomic<bool> gFusedAttention{true};
}
void setFusedAttention(bool on) { gFusedAttention = on; }
bool fusedAttention() { return gFusedAttention; }

AttentionImpl::AttentionImpl(int64_t dim, int64_t h, double drop) : heads(h), attnDrop(drop) {
  qkv = register_module("qkv", nn::Linear(nn::LinearOptions(dim, 3 * dim).bias(true)));
  attn = register_module("attn", nn::MultiheadAttention(nn::MultiheadAttentionOptions(dim, h).dropout(drop)));
  proj = register_module("proj", nn::Linear(dim, dim));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
  // Training under bfloat16 autocast takes the literal path: there the fused weight products,
  // recomputed every step in grad mode, cost more than they save (docs/benchmarks.md).
  const bool amp = at::autocast::is_enabled() || at::autocast::is_cpu_enabled();
  const bool fused = gFusedAttention && !(amp && torch::GradMode::is_enabled());
  return fused ? forwardFused(x) : forwardReference(x);
}

torch::Tensor AttentionImpl::forwardReference(const torch::Tensor& x) {
  auto qkvOut = qkv->forward(x).transpose(0, 1);  // [N, B, 3C] (MultiheadAttention is sequence-first)
  auto chunks = qkvOut.chunk(3, -1);
  auto out = std::get<0>(attn->forward(chunks[0], chunks[1], chunks[2], {}, /*need_weights=*/false));
  return proj->forward(out.transpose(0, 1));
}

AttentionImpl::Fused AttentionImpl::fusedWeights() {
  const auto& wq = qkv->weight;  // [3C, C]
  const auto& bq = qkv->bias;
  const auto& wi = attn->in_proj_weight;  // [3C, C] (q, k, v stacked)
  const auto& bi = attn->in_proj_bias;
  const auto& wo = attn->out_proj->weight;
  const auto& bo = attn->out_proj->bias;
  const auto& wp = proj->weight;
  const auto& bp = proj->bias;
  const bool cacheable = !torch::GradMode::is_enabled();
  std::vector<int64_t> key;
  if (cacheable) {
    for (const auto* t : {&wq, &bq, &wi, &bi, &wo, &bo, &wp, &bp}) {
      if (t->is_inference()) {  // no version counter: cannot tell when it changes, so do not cache
        key.clear();
        break;
      }
      key.push_back(t->_version());
      key.push_back(reinterpret_cast<int64_t>(t->data_ptr()));
    }
    if (!key.empty()) key.push_back(static_cast<int64_t>(wq.scalar_type()));
    if (!key.empty() && key == cacheKey_ && cache_.wIn.defined()) return cache_;
  }
  const int64_t C = wq.size(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(C / heads));
  Fused f;
  // Chunk j of qkv feeds block j of in_proj: W_j = Wi_j * Wq_j, b_j = Wi_j * bq_j + bi_j.
  std::vector<torch::Tensor> ws, bs;
  for (int64_t j = 0; j < 3; ++j) {
    auto wqj = wq.narrow(0, j * C, C), bqj = bq.narrow(0, j * C, C);
    auto wij = wi.narrow(0, j * C, C), bij = bi.narrow(0, j * C, C);
    auto w = torch::matmul(wij, wqj);
    auto b = torch::addmv(bij, wij, bqj);
    if (j == 0) {  // fold the query scale
      w = w * scale;
      b = b * scale;
    }
    ws.push_back(w);
    bs.push_back(b);
  }
  f.wIn = torch::cat(ws, 0);
  f.bIn = torch::cat(bs, 0);
  f.wOut = torch::matmul(wp, wo);
  f.bOut = torch::addmv(bp, wp, bo);
  if (cacheable && !key.empty()) {
    cache_ = f;
    cacheKey_ = std::move(key);
  }
  return f;
}

torch::Tensor AttentionImpl::forwardFused(const torch::Tensor& x) {
  const int64_t B = x.size(0), N = x.size(1), C = x.size(2), d = C / heads;
  const auto f = fusedWeights();
  auto qkvOut = F::linear(x, f.wIn, f.bIn).view({B, N, 3, heads, d}).permute({2, 0, 3, 1, 4});  // [3, B, h, N, d]
  auto q = qkvOut[0], k = qkvOut[1], v = qkvOut[2];
  auto a = torch::matmul(q, k.transpose(-2, -1)).softmax(-1);  // [B, h, N, N]
  if (attnDrop > 0.0 && is_training()) a = F::dropout(a, F::DropoutFuncOptions().p(attnDrop).training(true));
  auto out = torch::matmul(a, v).transpose(1, 2).reshape({B, N, C});
  return F::linear(out, f.wOut, f.bOut);
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden) {
  fc1 = register_module("fc1", nn::Linear(dim, hidden));
  fc2 = register_module("fc2", nn::Linear(hidden, dim));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) { return fc2->forward(F::gelu(fc1->forward(x))); }

torch::Tensor dropPath(const torch::Tensor& x, double p, bool training) {
  if (!training || p <= 0.0) return x;
  const double keep = 1.0 - p;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  auto mask = torch::empty(shape, x.options()).bernoulli_(keep);
  return x.div(keep) * mask;
}

BlockImpl::BlockImpl(const EcgEncoderConfig& c, double dp) : dropPathRate(dp) {
  norm1 = register_module("norm1", nn::LayerNorm(nn::LayerNormOptions({c.dim}).eps(c.normEps)));
  attn = register_module("attn", Attention(c.dim, c.heads, c.attnDrop));
  norm2 = register_module("norm2", nn::LayerNorm(nn::LayerNormOptions({c.dim}).eps(c.normEps)));
  mlp = register_module("mlp", Mlp(c.dim, c.mlpDim));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x) {
  auto y = x + dropPath(attn->forward(norm1->forward(fp32(x))), dropPathRate, is_training());
  return y + dropPath(mlp->forward(norm2->forward(fp32(y))), dropPathRate, is_training());
}

torch::Tensor sinCosTable1d(int64_t width, int64_t positions) {
  // MAE get_1d_sincos_pos_embed: omega_i = 1 / 10000^(i / (width/2)); [sin(p * omega), cos(p * omega)].
  const int64_t half = width / 2;
  auto omega = torch::arange(half, torch::kFloat64) / static_cast<double>(half);
  omega = 1.0 / torch::pow(10000.0, omega);
  auto pos = torch::arange(positions, torch::kFloat64);
  auto out = torch::outer(pos, omega);
  auto table = torch::cat({torch::sin(out), torch::cos(out)}, 1).to(torch::kFloat32);
  return torch::cat({torch::zeros({1, width}), table}, 0);  // row 0: CLS
}

EcgEncoderImpl::EcgEncoderImpl(EcgEncoderConfig c) : cfg(c) {
  if (cfg.dim % 2 != 0 || cfg.samples % cfg.patch != 0) throw std::invalid_argument("EcgEncoder: bad config");
  patch_embed = register_module("patch_embed", PatchEmbed(cfg));
  cls_token = register_parameter("cls_token", torch::randn({1, 1, cfg.dim}) * 0.02);
  pos_embed_y = register_module(
      "pos_embed_y", nn::Embedding(nn::EmbeddingOptions(cfg.leads + 1, cfg.dim / 2).padding_idx(0)));
  pos_embed_x = register_buffer("pos_embed_x", sinCosTable1d(cfg.dim / 2, cfg.numPatches()));
  blocks = register_module("blocks", nn::ModuleList());
  for (int64_t i = 0; i < cfg.depth; ++i) {
    const double dp = cfg.depth > 1 ? cfg.dropPath * static_cast<double>(i) / (cfg.depth - 1) : 0.0;
    blocks->push_back(Block(cfg, dp));
  }
  fc_norm = register_module("fc_norm", nn::LayerNorm(nn::LayerNormOptions({cfg.dim}).eps(cfg.globalNormEps)));
}

torch::Tensor EcgEncoderImpl::positionalEmbedding() const {
  const int64_t L = cfg.leads, P = cfg.numPatches();
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(pos_embed_x.device());
  auto leadIds = torch::cat({torch::zeros({1}, opts), torch::arange(1, L + 1, opts).repeat_interleave(P)});
  auto timeIds = torch::cat({torch::zeros({1}, opts), torch::arange(1, P + 1, opts).repeat({L})});
  return torch::cat({pos_embed_y->weight.index_select(0, leadIds), pos_embed_x.index_select(0, timeIds)}, 1);
}

torch::Tensor EcgEncoderImpl::forwardTokens(const torch::Tensor& ecg) {
  TORCH_CHECK(ecg.dim() == 3 && ecg.size(1) == cfg.leads && ecg.size(2) == cfg.samples,
              "EcgEncoder expects [B, ", cfg.leads, ", ", cfg.samples, "], got ", ecg.sizes());
  const int64_t B = ecg.size(0);
  auto x = patch_embed->forward(ecg).reshape({B, -1, cfg.dim});  // lead-major tokens
  x = torch::cat({cls_token.expand({B, 1, cfg.dim}), x}, 1);
  x = x + positionalEmbedding().unsqueeze(0).to(x.dtype());
  for (const auto& b : *blocks) x = b->as<BlockImpl>()->forward(x);
  return x;
}

torch::Tensor EcgEncoderImpl::forward(const torch::Tensor& ecg) {
  auto tokens = forwardTokens(ecg);
  return fc_norm->forward(fp32(tokens.slice(1, 1).mean(1)));
}

double ecgEncoderFlops(const EcgEncoderConfig& c, bool fused) {
  const double N = 1.0 + static_cast<double>(c.leads * c.numPatches());
  const double C = static_cast<double>(c.dim), H = static_cast<double>(c.mlpDim);
  const double patch = 2.0 * c.leads * c.numPatches() * c.patch * C;
  const double inProj = fused ? 2.0 * N * C * 3 * C                             // one fused GEMM
                              : 2.0 * N * C * 3 * C + 2.0 * N * C * 3 * C;      // qkv, then in_proj
  const double outProj = fused ? 2.0 * N * C * C : 2.0 * 2.0 * N * C * C;       // out_proj, proj
  const double perBlock = inProj + 2.0 * 2.0 * N * N * C  // QK^T and AV
                          + outProj + 2.0 * 2.0 * N * C * H;  // fc1, fc2
  return patch + c.depth * perBlock;
}

// ------------------------------------------------------------------ echo side ----

std::vector<int> clipFrameIndices(int loopFrames, const VideoInputSpec& spec, int startFrame) {
  if (loopFrames <= 0) throw std::invalid_argument("clipFrameIndices: no frames");
  std::vector<int> idx;
  idx.reserve(static_cast<std::size_t>(std::max<int64_t>(0, spec.frames)));
  for (int64_t i = 0; i < spec.frames; ++i)
    idx.push_back(static_cast<int>((startFrame + i * spec.frameStride) % loopFrames));
  return idx;
}

namespace {
// The clip from the loop frames `idx` of `fr`, in clip order. Frame by frame (the same operations
// as on the stacked clip, so the same values): memory is one frame in float plus the small clip.
torch::Tensor clipFromFrames(const EchoFrames& fr, const std::vector<int>& idx, const VideoInputSpec& spec) {
  if (fr.frames <= 0 || fr.rows <= 0 || fr.cols <= 0) throw std::invalid_argument("prepareClip: no frames");
  const int64_t ch = fr.channels;
  const auto mean = torch::tensor(spec.mean).view({1, -1, 1, 1});
  const auto sd = torch::tensor(spec.std).view({1, -1, 1, 1});
  std::vector<torch::Tensor> resized;
  resized.reserve(idx.size());
  for (int f : idx) {
    if (f < 0 || f >= fr.frames) throw std::invalid_argument("prepareClip: frame index out of range");
    auto t = torch::from_blob(const_cast<std::uint8_t*>(fr.frame(f)), {1, fr.rows, fr.cols, ch}, torch::kUInt8);
    auto x = t.to(torch::kFloat32).permute({0, 3, 1, 2});  // [1, ch, H, W]
    if (spec.channels == 3 && ch == 1) x = x.expand({-1, 3, -1, -1});
    if (spec.channels == 1 && ch == 3) x = x.mean(1, true);
    x = F::interpolate(x.contiguous(), F::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{spec.height, spec.width})
                                           .mode(torch::kBilinear)
                                           .align_corners(false));
    resized.push_back((x - mean) / sd);
  }
  return torch::cat(resized).permute({1, 0, 2, 3}).contiguous();  // [C, T, H, W]
}
}  // namespace

torch::Tensor prepareClip(const EchoFrames& fr, const VideoInputSpec& spec, int startFrame) {
  if (fr.frames <= 0 || fr.rows <= 0 || fr.cols <= 0) throw std::invalid_argument("prepareClip: no frames");
  return clipFromFrames(fr, clipFrameIndices(fr.frames, spec, startFrame), spec);
}

torch::Tensor prepareClipFromPicked(const EchoFrames& picked, const VideoInputSpec& spec) {
  if (picked.frames != spec.frames)
    throw std::invalid_argument("prepareClipFromPicked: " + std::to_string(picked.frames) + " frames for a clip of " +
                                std::to_string(spec.frames));
  std::vector<int> idx(static_cast<std::size_t>(picked.frames));
  for (int i = 0; i < picked.frames; ++i) idx[static_cast<std::size_t>(i)] = i;
  return clipFromFrames(picked, idx, spec);
}

SmallVideoNetImpl::SmallVideoNetImpl(int64_t inChannels, int64_t embedDim) {
  stem = register_module("stem", nn::Sequential());
  const std::vector<int64_t> widths{32, 64, 128, 256};
  int64_t in = inChannels;
  for (size_t i = 0; i < widths.size(); ++i) {
    std::vector<int64_t> stride = i == 0 ? std::vector<int64_t>{1, 2, 2} : std::vector<int64_t>{2, 2, 2};
    stem->push_back(nn::Conv3d(nn::Conv3dOptions(in, widths[i], 3).stride(stride).padding(1).bias(false)));
    stem->push_back(nn::BatchNorm3d(widths[i]));
    stem->push_back(nn::ReLU(true));
    in = widths[i];
  }
  head = register_module("head", nn::Linear(in, embedDim));
}

torch::Tensor SmallVideoNetImpl::forward(const torch::Tensor& x) {
  auto y = stem->forward(x);
  y = y.mean({2, 3, 4});
  return head->forward(y);
}

SmallVideoEncoder::SmallVideoEncoder(VideoInputSpec spec, int64_t embedDim)
    : spec_(std::move(spec)), embedDim_(embedDim), net_(SmallVideoNet(spec_.channels, embedDim)) {}

torch::Tensor SmallVideoEncoder::encode(const torch::Tensor& clips) {
  TORCH_CHECK(clips.dim() == 5 && clips.size(1) == spec_.channels, "SmallVideoEncoder expects [N, ",
              spec_.channels, ", T, H, W], got ", clips.sizes());
  return net_->forward(clips);
}

EchoAggregatorImpl::EchoAggregatorImpl(int64_t viewDim, int64_t dim, int64_t heads, int64_t maxV) : maxViews(maxV) {
  proj = register_module("proj", nn::Linear(viewDim, dim));
  attn = register_module("attn", nn::MultiheadAttention(nn::MultiheadAttentionOptions(dim, heads)));
}

torch::Tensor EchoAggregatorImpl::forward(const torch::Tensor& views, const torch::Tensor& valid) {
  TORCH_CHECK(views.dim() == 3 && valid.dim() == 2 && valid.size(0) == views.size(0) &&
                  valid.size(1) == views.size(1),
              "EchoAggregator expects views [B, V, D] and valid [B, V]");
  TORCH_CHECK(views.size(1) <= maxViews, "EchoAggregator: more than ", maxViews, " views");
  auto v = valid.to(torch::kBool);
  TORCH_CHECK(v.any(1).all().item<bool>(), "EchoAggregator: a study has no valid view");
  // fp32 even under bfloat16 autocast: MultiheadAttention's key-padding mask (masked_fill) has no
  // bfloat16 CPU kernel in libtorch 1.13, and this pooling is a negligible part of the compute.
  AutocastOff fp32Only;
  auto h = proj->forward(views.to(torch::kFloat32));   // [B, V, dim]
  auto m = v.unsqueeze(-1).to(h.dtype());
  auto q = (h * m).sum(1, true) / m.sum(1, true);      // [B, 1, dim] masked mean
  auto kv = h.transpose(0, 1);                         // [V, B, dim]
  auto out = std::get<0>(attn->forward(q.transpose(0, 1), kv, kv, v.logical_not(), /*need_weights=*/false));
  return out.squeeze(0);
}

// ------------------------------------------------------------------ joint model ----

Echo2EcgImpl::Echo2EcgImpl(EcgEncoderConfig ecg, int64_t viewDim, int64_t echoDim, int64_t sharedDim,
                           int64_t echoHeads) {
  ecg_encoder = register_module("ecg_encoder", EcgEncoder(ecg));
  echo_aggregator = register_module("echo_aggregator", EchoAggregator(viewDim, echoDim, echoHeads));
  ecg_proj = register_module("ecg_proj", nn::Linear(nn::LinearOptions(ecg.dim, sharedDim).bias(false)));
  echo_proj = register_module("echo_proj", nn::Linear(nn::LinearOptions(echoDim, sharedDim).bias(false)));
}

torch::Tensor Echo2EcgImpl::embedEcg(const torch::Tensor& ecg) {
  return F::normalize(ecg_proj->forward(ecg_encoder->forward(ecg)), F::NormalizeFuncOptions().dim(-1));
}

torch::Tensor Echo2EcgImpl::embedEcho(const torch::Tensor& views, const torch::Tensor& valid) {
  return F::normalize(echo_proj->forward(echo_aggregator->forward(views, valid)), F::NormalizeFuncOptions().dim(-1));
}

torch::Tensor clipLoss(const torch::Tensor& ecgEmb, const torch::Tensor& echoEmb, double temperature, double lambda) {
  TORCH_CHECK(ecgEmb.sizes() == echoEmb.sizes() && ecgEmb.dim() == 2, "clipLoss: shapes differ");
  auto a = F::normalize(ecgEmb.to(torch::kFloat32), F::NormalizeFuncOptions().dim(-1));
  auto b = F::normalize(echoEmb.to(torch::kFloat32), F::NormalizeFuncOptions().dim(-1));
  auto logits = a.matmul(b.t()) / temperature;
  auto labels = torch::arange(a.size(0), torch::TensorOptions().dtype(torch::kLong).device(a.device()));
  return lambda * F::cross_entropy(logits, labels) + (1.0 - lambda) * F::cross_entropy(logits.t(), labels);
}

LinearHeadImpl::LinearHeadImpl(int64_t inDim, int64_t numClasses) {
  head = register_module("head", nn::Linear(inDim, numClasses));
}

// ------------------------------------------------------------------ weights I/O ----

TensorMap stateDict(const torch::nn::Module& m) {
  TensorMap out;
  for (const auto& p : m.named_parameters(true)) out[p.key()] = p.value();
  for (const auto& b : m.named_buffers(true)) out[b.key()] = b.value();
  return out;
}

LoadReport loadStateDict(torch::nn::Module& m, const TensorMap& weights, bool strict, const std::string& prefix) {
  LoadReport r;
  torch::NoGradGuard ng;
  std::set<std::string> seen;
  auto visit = [&](const std::string& name, torch::Tensor& dst) {
    const std::string key = prefix + name;
    auto it = weights.find(key);
    if (it == weights.end()) {
      r.missing.push_back(key);
      return;
    }
    seen.insert(key);
    if (it->second.sizes() != dst.sizes()) {
      std::ostringstream os;
      os << key << " " << it->second.sizes() << " vs " << dst.sizes();
      r.mismatched.push_back(os.str());
      return;
    }
    dst.copy_(it->second.to(dst.device(), dst.scalar_type()));
    r.loaded.push_back(key);
  };
  for (auto& p : m.named_parameters(true)) visit(p.key(), p.value());
  for (auto& b : m.named_buffers(true)) visit(b.key(), b.value());
  for (const auto& kv : weights)
    if (kv.first.compare(0, prefix.size(), prefix) == 0 && !seen.count(kv.first)) r.unexpected.push_back(kv.first);
  if (strict && (!r.missing.empty() || !r.unexpected.empty() || !r.mismatched.empty())) {
    std::ostringstream os;
    os << "loadStateDict:";
    auto list = [&](const char* what, const std::vector<std::string>& v) {
      if (v.empty()) return;
      os << " " << what << " (" << v.size() << "):";
      for (size_t i = 0; i < v.size() && i < 8; ++i) os << " " << v[i];
      if (v.size() > 8) os << " ...";
    };
    list("missing", r.missing);
    list("unexpected", r.unexpected);
    list("mismatched", r.mismatched);
    throw std::runtime_error(os.str());
  }
  return r;
}

void saveTensorArchive(const std::string& path, const TensorMap& tensors) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& kv : tensors) dict.insert(kv.first, kv.second.detach().cpu().contiguous());
  auto bytes = torch::pickle_save(dict);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw ReadError(path, "cannot write tensor archive");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) throw ReadError(path, "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw ReadError(path, "cannot rename temporary file");
}

TensorMap loadTensorArchive(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ReadError(path, "cannot open tensor archive");
  std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  torch::IValue iv;
  try {
    iv = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    throw ReadError(path, std::string("not a tensor archive: ") + e.what());
  }
  if (!iv.isGenericDict()) throw ReadError(path, "tensor archive is not a dict");
  TensorMap out;
  for (const auto& kv : iv.toGenericDict()) {
    if (!kv.key().isString() || !kv.value().isTensor()) throw ReadError(path, "archive entry is not name -> tensor");
    out[kv.key().toStringRef()] = kv.value().toTensor();
  }
  return out;
}

std::string weightsHash(const TensorMap& tensors) {
  Sha256 h;
  for (const auto& kv : tensors) {  // std::map: sorted by name
    auto t = kv.second.detach().cpu().contiguous();
    h.update(kv.first.data(), kv.first.size());
    const std::string dtype = c10::toString(t.scalar_type());
    h.update("\0", 1);
    h.update(dtype.data(), dtype.size());
    const int64_t nd = t.dim();
    h.update(&nd, sizeof nd);
    for (auto s : t.sizes()) h.update(&s, sizeof s);
    h.update(t.data_ptr(), t.numel() * t.element_size());
  }
  return h.hexDigest();
}

std::string weightsHash(const torch::nn::Module& m) { return weightsHash(stateDict(m)); }

}  // namespace e2e::model
