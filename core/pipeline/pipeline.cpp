// The torch side of the pipeline: model bundles, embedding, training, evaluation, prediction,
// retrieval. One translation unit on purpose (libtorch headers compile slowly).
#include <torch/torch.h>

#include "common/text.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "io/dicom_echo.h"
#include "io/video_reader.h"
#include "model/autocast.h"
#include "model/metrics.h"
#include "model/model.h"
#include "model/mvit.h"
#include "model/train.h"
#include "pipeline/pipeline.h"
#include "retrieval/embedding_index.h"
#include "retrieval/retrieval_metrics.h"

namespace fs = std::filesystem;
using e2e::model::Scores;

namespace e2e::pipeline {
namespace {

// ------------------------------------------------------------------ small JSON helpers ----

// JSON string literals: the shared escaper.
std::string jstr(const std::string& s) { return jsonQuote(s); }
std::string jnum(double v) {
  if (!std::isfinite(v)) return "null";
  char b[64];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}
template <class T, class F>
std::string jarr(const std::vector<T>& v, F f) {
  std::string o = "[";
  for (std::size_t i = 0; i < v.size(); ++i) o += (i ? "," : "") + f(v[i]);
  return o + "]";
}
std::string jnums(const std::vector<double>& v) { return jarr(v, [](double x) { return jnum(x); }); }
std::string jints(const std::vector<int>& v) {
  return jarr(v, [](int x) { return std::to_string(x); });
}

// Minimal lookups in a flat JSON text written by this file (keys are unique).
std::optional<std::string> jsonString(const std::string& text, const std::string& key) {
  const std::string pat = "\"" + key + "\":";
  auto p = text.find(pat);
  if (p == std::string::npos) return std::nullopt;
  p += pat.size();
  while (p < text.size() && text[p] == ' ') ++p;
  if (p >= text.size() || text[p] != '"') return std::nullopt;
  std::string out;
  for (++p; p < text.size() && text[p] != '"'; ++p) {
    if (text[p] == '\\' && p + 1 < text.size()) ++p;
    out += text[p];
  }
  return out;
}
std::optional<double> jsonNumber(const std::string& text, const std::string& key) {
  const std::string pat = "\"" + key + "\":";
  auto p = text.find(pat);
  if (p == std::string::npos) return std::nullopt;
  p += pat.size();
  char* end = nullptr;
  double v = std::strtod(text.c_str() + p, &end);
  if (end == text.c_str() + p) return std::nullopt;
  return v;
}
std::string readText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
void writeTextAtomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!f) throw std::runtime_error("cannot write " + tmp);
    f << text;
  }
  fs::rename(tmp, path);
}

// ------------------------------------------------------------------ devices ----

torch::Device pickDevice(const std::string& d) {
  if (d == "cuda") {
    if (!torch::cuda::is_available()) throw std::runtime_error("CUDA requested but not available");
    return torch::kCUDA;
  }
  if (d == "auto" && torch::cuda::is_available()) return torch::kCUDA;
  return torch::kCPU;
}
void setThreads(int threads) {
  if (const char* env = std::getenv("E2E_TORCH_THREADS"); env && std::atoi(env) > 0 && threads <= 0)
    threads = std::atoi(env);
  const int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
}

// ------------------------------------------------------------------ bundle ----

model::TensorMap withPrefix(const model::TensorMap& m, const std::string& prefix) {
  model::TensorMap o;
  for (auto& [k, v] : m) o[prefix + k] = v;
  return o;
}

struct Bundle {
  std::string dir, modelId = "echo2ecg", version = "1";
  model::EcgEncoderConfig ecgCfg;
  model::VideoInputSpec spec;
  model::Echo2Ecg net{nullptr};
  std::shared_ptr<model::VideoEncoder> video;
  std::string videoEncoder = "small3dcnn";  // bundle.json "video_encoder": small3dcnn | mvit_v2_s
  // bundle.json "role": "" for an Echo2ECG model; "video-encoder" for `train --task echo-pretrain`
  // bundles, whose ECG side is an untrained placeholder (usable only through --video-model);
  // "ecg-encoder" for `train --task ecg-pretrain` bundles, whose echo side is untrained (no retrieval).
  std::string role;
  std::string hash;
  torch::Device device = torch::kCPU;
  // Per-dimension standardisation of the view embeddings before the aggregator (estimated on the
  // training loops at pretraining; undefined = identity). A frozen, randomly initialised video
  // encoder gives nearly collinear view embeddings (mean cosine ~0.999): without this the echo
  // side of the contrastive objective has no signal.
  torch::Tensor viewMean, viewStd;
  // The video encoder's weights were loaded in float32 (a converted external encoder such as
  // EchoPrime's MViT): saveBundle keeps them in float32 in their own file (video.pt) instead of
  // rounding them to float16 with the rest, so a frozen encoder stays exactly the one it was.
  bool videoFp32 = false;

  model::TensorMap allWeights() const {
    auto m = withPrefix(model::stateDict(*net), "net.");
    for (auto& [k, v] : withPrefix(model::stateDict(*video->module()), "video.")) m[k] = v;
    if (viewMean.defined()) {
      m["viewnorm.mean"] = viewMean.detach().to(torch::kCPU);
      m["viewnorm.std"] = viewStd.detach().to(torch::kCPU);
    }
    return m;
  }
  torch::Tensor normViews(const torch::Tensor& v) const {
    if (!viewMean.defined()) return v;
    return (v - viewMean.to(v.device())) / viewStd.to(v.device());
  }
  void rehash() { hash = model::weightsHash(allWeights()); }
  void to(torch::Device d) {
    device = d;
    net->to(d);
    video->module()->to(d);
  }
};

std::string bundleJson(const Bundle& b) {
  std::ostringstream o;
  o << "{\n  \"model_id\":" << jstr(b.modelId) << ",\n  \"version\":" << jstr(b.version)
    << ",\n  \"weights\":\"echo2ecg.pt\",\n  \"weights_dtype\":\"float16\",\n  \"preprocessing\":" << jstr(kPreprocVersion)
    << ",\n  \"ecg_depth\":" << b.ecgCfg.depth << ",\n  \"ecg_dim\":" << b.ecgCfg.dim << ",\n  \"ecg_heads\":"
    << b.ecgCfg.heads << ",\n  \"ecg_mlp_dim\":" << b.ecgCfg.mlpDim << ",\n  \"video_encoder\":" << jstr(b.videoEncoder)
    << ",\n  \"video_frames\":" << b.spec.frames << ",\n  \"video_stride\":" << b.spec.frameStride
    << ",\n  \"video_size\":" << b.spec.height << ",\n  \"video_mean\":" << jnum(b.spec.mean[0])
    << ",\n  \"video_std\":" << jnum(b.spec.std[0])
    << (b.videoFp32 ? ",\n  \"video_weights\":\"video.pt\",\n  \"video_weights_dtype\":\"float32\"" : "")
    << (b.role.empty() ? std::string() : ",\n  \"role\":" + jstr(b.role)) << ",\n  \"weights_hash\":" << jstr(b.hash)
    << ",\n  \"synthetic_training_data\":true\n}\n";
  return o.str();
}

Bundle freshBundle(int depth, int videoSize, std::uint64_t seed) {
  Bundle b;
  b.ecgCfg.depth = depth;
  b.spec.height = b.spec.width = videoSize;
  b.spec.mean = {30.f, 30.f, 30.f};
  b.spec.std = {50.f, 50.f, 50.f};
  torch::manual_seed(seed);
  b.net = model::Echo2Ecg(b.ecgCfg);
  b.video = std::make_shared<model::SmallVideoEncoder>(b.spec);
  b.rehash();
  return b;
}

// Saves weights in fp16 (a float32 video encoder, b.videoFp32: in float32, in video.pt) and reloads
// them, so the in-memory model equals what a later load gives.
void saveBundle(Bundle& b, const std::string& dir) {
  fs::create_directories(dir);
  model::TensorMap half, video32;
  for (auto& [k, v] : b.allWeights()) {
    auto t = v.detach().to(torch::kCPU);
    if (b.videoFp32 && k.rfind("video.", 0) == 0) video32[k] = t.is_floating_point() ? t.to(torch::kFloat32) : t;
    else half[k] = t.is_floating_point() ? t.to(torch::kFloat16) : t;
  }
  auto write = [&](const model::TensorMap& m, const std::string& name) {
    const std::string tmp = (fs::path(dir) / (name + ".tmp")).string();
    model::saveTensorArchive(tmp, m);
    fs::rename(tmp, fs::path(dir) / name);
  };
  if (b.videoFp32) write(video32, "video.pt");
  write(half, "echo2ecg.pt");
  model::TensorMap back = video32;
  for (auto& [k, v] : half) back[k] = v.is_floating_point() ? v.to(torch::kFloat32) : v;
  const auto dev = b.device;
  b.to(torch::kCPU);
  model::loadStateDict(*b.net, back, false, "net.");
  model::loadStateDict(*b.video->module(), back, false, "video.");
  if (back.count("viewnorm.mean")) {
    b.viewMean = back["viewnorm.mean"];
    b.viewStd = back["viewnorm.std"];
  }
  b.to(dev);
  b.rehash();
  b.dir = dir;
  writeTextAtomic((fs::path(dir) / "bundle.json").string(), bundleJson(b));
}

// checkHash: refuse weights that differ from bundle.json's weights_hash. Callers that compare the
// weights with a registry row or a head's card right after loading pass false, so their error names
// the registered version and what to do about it.
Bundle loadBundle(const std::string& dir, bool checkHash = true) {
  const std::string text = readText((fs::path(dir) / "bundle.json").string());
  Bundle b;
  b.dir = dir;
  b.modelId = jsonString(text, "model_id").value_or("echo2ecg");
  b.version = jsonString(text, "version").value_or("1");
  b.ecgCfg.depth = static_cast<int64_t>(jsonNumber(text, "ecg_depth").value_or(12));
  b.ecgCfg.dim = static_cast<int64_t>(jsonNumber(text, "ecg_dim").value_or(192));
  b.ecgCfg.heads = static_cast<int64_t>(jsonNumber(text, "ecg_heads").value_or(3));
  b.ecgCfg.mlpDim = static_cast<int64_t>(jsonNumber(text, "ecg_mlp_dim").value_or(768));
  b.videoEncoder = jsonString(text, "video_encoder").value_or("small3dcnn");
  b.role = jsonString(text, "role").value_or("");
  if (b.videoEncoder == "small3dcnn") {
    b.spec.frames = static_cast<int64_t>(jsonNumber(text, "video_frames").value_or(16));
    b.spec.frameStride = static_cast<int64_t>(jsonNumber(text, "video_stride").value_or(2));
    b.spec.height = b.spec.width = static_cast<int64_t>(jsonNumber(text, "video_size").value_or(112));
    const float mean = static_cast<float>(jsonNumber(text, "video_mean").value_or(0));
    const float sd = static_cast<float>(jsonNumber(text, "video_std").value_or(255));
    b.spec.mean = {mean, mean, mean};
    b.spec.std = {sd, sd, sd};
    b.video = std::make_shared<model::SmallVideoEncoder>(b.spec);
  } else if (b.videoEncoder == "mvit_v2_s") {
    // EchoPrime's MViT-v2-S: 224 x 224, per-channel EchoPrime mean/std; frames/stride may be overridden
    // (the model's temporal size follows video_frames; EchoPrime's weights need 16).
    b.spec = model::echoPrimeInputSpec();
    b.spec.frames = static_cast<int64_t>(jsonNumber(text, "video_frames").value_or(b.spec.frames));
    b.spec.frameStride = static_cast<int64_t>(jsonNumber(text, "video_stride").value_or(b.spec.frameStride));
    const auto size = jsonNumber(text, "video_size");
    if (size && static_cast<int64_t>(*size) != b.spec.height)
      throw std::runtime_error(dir + "/bundle.json: video_encoder mvit_v2_s takes 224 x 224 clips, video_size is " +
                               std::to_string(static_cast<int64_t>(*size)));
    if (b.spec.frames < 2 || b.spec.frames % 2 != 0 || b.spec.frameStride < 1)
      throw std::runtime_error(dir + "/bundle.json: video_encoder mvit_v2_s needs an even video_frames >= 2 and "
                               "video_stride >= 1");
    model::MvitConfig mc;
    mc.temporalSize = b.spec.frames;
    b.video = std::make_shared<model::MvitVideoEncoder>(mc, b.spec);
  } else {
    throw std::runtime_error(dir + "/bundle.json: unknown video_encoder \"" + b.videoEncoder +
                             "\" (known: small3dcnn, mvit_v2_s)");
  }
  b.net = model::Echo2Ecg(b.ecgCfg);
  // "weights": Echo2Ecg tensors ("net."-prefixed, or unprefixed as tools/convert_checkpoint.py writes
  // them); "video_weights" (default: the same file): the video encoder's tensors, "video."-prefixed
  // (mvit_v2_s: tools/convert_checkpoint.py echoprime echo_prime_encoder.pt OUT.pt).
  const std::string weightsFile = jsonString(text, "weights").value_or("echo2ecg.pt");
  const std::string videoFile = jsonString(text, "video_weights").value_or(weightsFile);
  auto w = model::loadTensorArchive((fs::path(dir) / weightsFile).string());
  auto wv = videoFile == weightsFile ? w : model::loadTensorArchive((fs::path(dir) / videoFile).string());
  for (auto& [k, v] : wv)
    if (k.rfind("video.", 0) == 0 && v.is_floating_point() && v.scalar_type() != torch::kFloat16) b.videoFp32 = true;
  for (auto* m : {&w, &wv})
    for (auto& [k, v] : *m)
      if (v.is_floating_point()) v = v.to(torch::kFloat32);
  bool prefixed = false;
  for (auto& [k, v] : w) prefixed = prefixed || k.rfind("net.", 0) == 0;
  auto r1 = model::loadStateDict(*b.net, w, false, prefixed ? "net." : "");
  auto r2 = model::loadStateDict(*b.video->module(), wv, false, "video.");
  if (!r1.ok() || !r2.ok()) {
    std::string msg = "weights in " + dir + " do not match the model:";
    for (auto& m : r1.missing) msg += " missing net." + m;
    for (auto& m : r1.mismatched) msg += " mismatched net." + m;
    for (size_t i = 0; i < r2.missing.size() && i < 8; ++i) msg += " missing " + r2.missing[i];
    if (r2.missing.size() > 8) msg += " ... (" + std::to_string(r2.missing.size()) + " missing video tensors)";
    for (auto& m : r2.mismatched) msg += " mismatched " + m;
    if (r2.loaded.empty())
      msg += " (" + videoFile + " holds none of the video.* tensors of video_encoder " + b.videoEncoder +
             (b.videoEncoder == "mvit_v2_s" ? "; convert EchoPrime's echo_prime_encoder.pt with tools/"
                                              "convert_checkpoint.py echoprime and name it in \"video_weights\")"
                                            : ")");
    throw std::runtime_error(msg);
  }
  if (w.count("viewnorm.mean")) {
    b.viewMean = w["viewnorm.mean"];
    b.viewStd = w["viewnorm.std"];
  }
  b.net->eval();
  b.video->module()->eval();
  b.rehash();
  // bundle.json's weights_hash (written by saveBundle) names the weights the bundle was made with:
  // embeddings and predictions are keyed by it, so damaged or swapped weights must not pass as them.
  if (const auto want = jsonString(text, "weights_hash"); checkHash && want && !want->empty() && *want != b.hash)
    throw std::runtime_error(dir + ": the weights do not match bundle.json's weights_hash (" + want->substr(0, 12) +
                             " expected, " + b.hash.substr(0, 12) + " found): " + weightsFile +
                             " was changed or is damaged; restore it, or for weights you converted yourself "
                             "remove \"weights_hash\" from bundle.json");
  return b;
}

std::string requireModelsDir(const std::string& explicitDir) {
  const std::string d = findModelsDir(explicitDir);
  if (d.empty())
    throw std::runtime_error(explicitDir.empty() ? "no model bundle found (set --model DIR or E2E_MODELS_DIR)"
                                                 : "no bundle.json in " + explicitDir);
  return d;
}

// The bundle of a resolved embedding model, its weights checked: a registered version must hash to
// its registered weights hash (embeddings are keyed by it), never silently to something else. The
// keys use the resolved id:version; for a directory the loaded hash is filled into `m`.
// ECG embeddings, retrieval and heads need a trained ECG side: a video-encoder bundle has none.
void requireEcgSide(const Bundle& b, const std::string& label) {
  if (b.role == "video-encoder")
    throw std::runtime_error(label + " is an echo video encoder (train --task echo-pretrain): its ECG side is not "
                             "trained, so it cannot embed ECGs, retrieve or carry heads; use it as "
                             "`echo2ecg train --task pretrain --video-model " + label + "`");
}

// Retrieval needs a trained echo side: an ECG-only self-supervised bundle has none.
void requireEchoSide(const Bundle& b, const std::string& label) {
  if (b.role == "ecg-encoder")
    throw std::runtime_error(label + " is an ECG-only encoder (train --task ecg-pretrain): its echo side is not "
                             "trained, so it cannot retrieve echo studies; it embeds ECGs and carries heads, or "
                             "starts Echo2ECG pretraining (`echo2ecg train --task pretrain --model " + label + "`)");
}

Bundle loadEmbeddingBundle(EmbeddingModel& m) {
  Bundle b;
  try {
    b = loadBundle(m.dir, m.source != EmbeddingModel::Source::Registry);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot load embedding model " + m.label() + " from " + m.dir + ": " + e.what());
  }
  if (m.source == EmbeddingModel::Source::Registry) {
    if (b.hash != m.weightsHash)
      throw std::runtime_error("the weights of " + m.label() + " in " + m.dir +
                               " changed since they were registered (they hash to " + b.hash.substr(0, 12) +
                               ", the registry has " + m.weightsHash.substr(0, 12) +
                               "); restore the files or activate another version (`echo2ecg models list`)");
    b.modelId = m.modelId;
    b.version = m.version;
  } else {
    m.modelId = b.modelId;
    m.version = b.version;
    m.weightsHash = b.hash;
  }
  return b;
}

// ------------------------------------------------------------------ inference helpers ----

EchoFrames readEchoFrames(const std::string& path) {
  if (looksLikeVideoFile(path)) return readVideoFrames(path);
  return readDicomEchoFrames(path);
}

torch::Tensor ecgBatchTensor(const std::vector<std::vector<float>>& xs) {
  auto t = torch::empty({static_cast<int64_t>(xs.size()), static_cast<int64_t>(kEcgLeads),
                         static_cast<int64_t>(kEcgSamples)});
  for (std::size_t i = 0; i < xs.size(); ++i)
    std::memcpy(t[static_cast<int64_t>(i)].data_ptr<float>(), xs[i].data(), xs[i].size() * sizeof(float));
  return t;
}

std::vector<float> rowVec(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU).to(torch::kFloat32).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// The stored embedding of each (id, path) under keyOf(id); the missing ones (each id once) are
// computed in batches, load(path) -> one input and encode(inputs) -> [n, D], and stored one
// transaction per batch. A file that cannot be read is an error line, not a stop.
template <typename KeyOf, typename Load, typename Encode>
void embedMissing(db::Database& db, const std::vector<std::pair<std::int64_t, std::string>>& items, KeyOf keyOf,
                  std::map<std::int64_t, std::vector<float>>& out, int& added, int& skipped,
                  std::vector<std::string>& errors, int batch, const Cancel& cancel,
                  const std::function<void(int, int)>& progress, Load load, Encode encode) {
  using Input = decltype(load(std::string()));
  std::vector<std::pair<std::int64_t, std::string>> todo;
  std::set<std::int64_t> queued;
  for (auto& it : items) {
    if (out.count(it.first) || queued.count(it.first)) continue;
    if (auto v = db.getEmbedding(keyOf(it.first))) {
      out[it.first] = *v;
      ++skipped;
    } else {
      todo.push_back(it);
      queued.insert(it.first);
    }
  }
  torch::NoGradGuard ng;
  const std::size_t step = static_cast<std::size_t>(std::max(1, batch));
  int done = 0;
  for (std::size_t i = 0; i < todo.size(); i += step) {
    if (cancel.requested()) return;
    std::vector<Input> xs;
    std::vector<std::int64_t> ids;
    const std::size_t end = std::min(todo.size(), i + step);
    for (std::size_t j = i; j < end; ++j) {
      try {
        xs.push_back(load(todo[j].second));
        ids.push_back(todo[j].first);
      } catch (const std::exception& e) {
        // the file readers' errors already start with the path
        const std::string what = e.what();
        const std::string& path = todo[j].second;
        errors.push_back(what.rfind(path, 0) == 0 ? what : path + ": " + what);
      }
    }
    done += static_cast<int>(end - i);
    if (!xs.empty()) {
      auto emb = encode(xs).to(torch::kCPU);
      db::Database::Transaction tx(db);
      for (std::size_t j = 0; j < ids.size(); ++j) {
        auto v = rowVec(emb[static_cast<int64_t>(j)]);
        db.putEmbedding(keyOf(ids[j]), v);
        out[ids[j]] = std::move(v);
        ++added;
      }
      tx.commit();
    }
    if (progress) progress(done, static_cast<int>(todo.size()));
  }
}

// The database key of an embedding made by bundle `b`: its id for that kind of vector (`kindId`), the
// weights hash and the preprocessing version, for an instance or a study (exactly one of the two).
db::EmbeddingKey bundleEmbeddingKey(const Bundle& b, std::string kindId, std::optional<std::int64_t> instanceRowId,
                                    std::optional<std::int64_t> studyRowId = std::nullopt) {
  db::EmbeddingKey k;
  k.instanceRowId = instanceRowId;
  k.studyRowId = studyRowId;
  k.modelId = std::move(kindId);
  k.weightsHash = b.hash;
  k.preprocVersion = kPreprocVersion;
  return k;
}

// Aligned ECG embeddings of the given samples (from the DB, computing and storing missing ones).
struct EcgFeatureCache {
  db::Database& db;
  Bundle& b;
  std::map<std::int64_t, std::vector<float>> byInstance;
  int added = 0, skipped = 0;
  std::vector<std::string> errors;

  db::EmbeddingKey key(std::int64_t inst) const {
    return bundleEmbeddingKey(b, ecgEmbeddingId(b.modelId, b.version), inst);
  }
  void ensure(const std::vector<Sample>& samples, int batch, const Cancel& cancel,
              const std::function<void(int, int)>& progress = {}) {
    std::vector<std::pair<std::int64_t, std::string>> items;
    for (auto& s : samples) items.emplace_back(s.ecgInstanceId, s.ecgPath);
    b.net->eval();
    embedMissing(
        db, items, [&](std::int64_t id) { return key(id); }, byInstance, added, skipped, errors, batch, cancel,
        progress, [](const std::string& path) { return ecgInputFromFile(path); },
        [&](const std::vector<std::vector<float>>& xs) { return b.net->embedEcg(ecgBatchTensor(xs).to(b.device)); });
  }
};

// Per-loop view embeddings (and the counts of the study vectors that embedAllEcho makes from them).
struct EchoCache {
  db::Database& db;
  Bundle& b;
  std::map<std::int64_t, std::vector<float>> views;  // by echo instance id
  int viewAdded = 0, viewSkipped = 0, studyAdded = 0, studyUpdated = 0, studySkipped = 0, studyDropped = 0;
  std::vector<std::string> errors;

  db::EmbeddingKey viewKey(std::int64_t inst) const {
    return bundleEmbeddingKey(b, viewEmbeddingId(b.modelId, b.version), inst);
  }
  db::EmbeddingKey studyKey(std::int64_t study) const {
    return bundleEmbeddingKey(b, studyEmbeddingId(b.modelId, b.version), std::nullopt, study);
  }
  // loops: (instance id, path)
  // Each loop read here gets its decode error recorded in the database ('' when it decoded).
  void ensureViews(const std::vector<std::pair<std::int64_t, std::string>>& loops, int batch, const Cancel& cancel,
                   const std::function<void(int, int)>& progress = {}) {
    b.video->module()->eval();
    std::map<std::string, std::int64_t> idOf;
    for (auto& l : loops) idOf.emplace(l.second, l.first);
    std::vector<std::pair<std::int64_t, std::string>> readResult;  // (loop, error or "")
    embedMissing(
        db, loops, [&](std::int64_t id) { return viewKey(id); }, views, viewAdded, viewSkipped, errors, batch, cancel,
        progress,
        [&](const std::string& path) {
          try {
            auto clip = model::prepareClip(readEchoFrames(path), b.spec, 0);
            readResult.emplace_back(idOf.at(path), "");
            return clip;
          } catch (const std::exception& e) {
            readResult.emplace_back(idOf.at(path), e.what());
            throw;
          }
        },
        [&](const std::vector<torch::Tensor>& clips) { return b.video->encode(torch::stack(clips).to(b.device)); });
    db::Database::Transaction tx(db);
    for (auto& [id, error] : readResult) db.setLoopDecodeError(id, error);
    tx.commit();
  }
};

// Every echo study in the database: study row id -> (loop id, path) list, and study -> patient row.
struct EchoStudies {
  std::map<std::int64_t, std::vector<std::pair<std::int64_t, std::string>>> loops;
  std::map<std::int64_t, std::int64_t> patientOf;
  std::map<std::int64_t, std::string> uidOf, patientIdOf;
};
EchoStudies listEchoStudies(db::Database& db) {
  EchoStudies out;
  std::map<std::string, db::StudyRow> studies;
  for (auto& s : db.listStudies()) studies[s.studyUid] = s;
  db::Filter us;
  us.modality = "US";
  for (auto& i : db.listInstances(us)) {
    auto it = studies.find(i.studyUid);
    if (it == studies.end()) continue;
    out.loops[it->second.id].emplace_back(i.id, i.path);
    out.patientOf[it->second.id] = it->second.patientRowId;
    out.uidOf[it->second.id] = it->second.studyUid;
    out.patientIdOf[it->second.id] = it->second.patientId;
  }
  for (auto& [k, v] : out.loops) std::sort(v.begin(), v.end());
  return out;
}

// Every loop of every echo study gets its view vector (each loop without one is tried again, so an
// undecodable loop is reported on every run), then every study whose stored vector was made from
// other loops than it has now (loops imported into or deleted from it since, a loop that decodes
// now, or a vector written before inputs were recorded) gets its vector (re)made.
void embedAllEcho(db::Database& db, Bundle& b, EchoCache& cache, int batch, const Cancel& cancel,
                  const std::function<void(int, int)>& progress = {}) {
  auto es = listEchoStudies(db);
  const auto stored = db.embeddedInstanceIds(viewEmbeddingId(b.modelId, b.version), b.hash, kPreprocVersion);
  std::vector<std::pair<std::int64_t, std::string>> needed;
  for (auto& [study, loops] : es.loops)
    for (auto& l : loops) {
      if (stored.count(l.first)) ++cache.viewSkipped;
      else needed.push_back(l);
    }
  cache.ensureViews(needed, batch, cancel, progress);
  if (cancel.requested()) return;
  auto hasView = [&](std::int64_t id) { return stored.count(id) > 0 || cache.views.count(id) > 0; };
  torch::NoGradGuard ng;
  b.net->eval();
  db::Database::Transaction tx(db);
  for (auto& [study, loops] : es.loops) {
    std::vector<std::int64_t> ids;
    for (auto& l : loops) ids.push_back(l.first);
    const std::string inputs = studyVectorInputs(ids, hasView);
    const auto before = db.embeddingInputs(cache.studyKey(study));
    if (before && *before == inputs) {
      ++cache.studySkipped;
      continue;
    }
    // The aggregator takes up to maxViews views (128, as the reference): the first ones in loop order.
    const auto maxViews = static_cast<std::size_t>(b.net->echo_aggregator->maxViews);
    std::vector<torch::Tensor> vs;
    for (auto& l : loops) {
      if (vs.size() == maxViews) break;
      if (auto it = cache.views.find(l.first); it != cache.views.end()) vs.push_back(torch::tensor(it->second));
      else if (stored.count(l.first))
        if (auto v = db.getEmbedding(cache.viewKey(l.first))) vs.push_back(torch::tensor(*v));
    }
    if (vs.empty()) {  // no loop of it decodes: no vector (the errors name the loops), nor an old one
      if (before && db.deleteEmbedding(cache.studyKey(study))) ++cache.studyDropped;
      continue;
    }
    auto v = b.normViews(torch::stack(vs)).unsqueeze(0).to(b.device);
    auto valid = torch::ones({1, v.size(1)}, torch::kBool).to(b.device);
    db.putEmbedding(cache.studyKey(study), rowVec(b.net->embedEcho(v, valid)[0]), inputs);
    ++(before ? cache.studyUpdated : cache.studyAdded);
  }
  // A study that has no loops any more (all deleted) keeps no vector made from them.
  for (const auto& [study, inputs] : db.studyEmbeddingInputs(studyEmbeddingId(b.modelId, b.version), b.hash,
                                                             kPreprocVersion))
    if (!es.loops.count(study) && db.deleteEmbedding(cache.studyKey(study))) ++cache.studyDropped;
  tx.commit();
}

// ------------------------------------------------------------------ heads / predictors ----

struct Predictor {
  std::string task, modelId, version, weightsHash, method = "linear", baseDir, seedText;
  std::uint64_t seed = 0;
  Bundle base;
  model::LinearHead head{nullptr};
  torch::Tensor mean, sd;
  std::unique_ptr<model::KnnClassifier> knn;
  int numClasses = 0;

  Scores scores(const std::vector<std::vector<float>>& feats) {
    Scores out;
    if (feats.empty()) return out;
    if (method == "knn") return knn->predictProba(feats);
    torch::NoGradGuard ng;
    head->eval();
    auto x = torch::empty({static_cast<int64_t>(feats.size()), static_cast<int64_t>(feats[0].size())});
    for (std::size_t i = 0; i < feats.size(); ++i)
      std::memcpy(x[static_cast<int64_t>(i)].data_ptr<float>(), feats[i].data(), feats[i].size() * sizeof(float));
    auto p = torch::softmax(head->forward((x - mean) / sd), 1).to(torch::kFloat64).contiguous();
    for (int64_t i = 0; i < p.size(0); ++i)
      out.emplace_back(p[i].data_ptr<double>(), p[i].data_ptr<double>() + p.size(1));
    return out;
  }
};

// Head archive: head.weight, head.bias, feat_mean, feat_std (+ knn_features, knn_labels for kNN).
void saveHead(const std::string& path, Predictor& p) {
  model::TensorMap m;
  if (p.method == "knn") {
    throw std::logic_error("saveHead: knn is saved by saveKnn");
  }
  for (auto& [k, v] : model::stateDict(*p.head)) m[k] = v.detach().to(torch::kCPU);
  m["feat_mean"] = p.mean.to(torch::kCPU);
  m["feat_std"] = p.sd.to(torch::kCPU);
  model::saveTensorArchive(path + ".tmp", m);
  fs::rename(path + ".tmp", path);
}

void loadHeadInto(Predictor& p, const std::string& path) {
  auto m = model::loadTensorArchive(path);
  if (m.count("knn_features")) {
    p.method = "knn";
    auto f = m["knn_features"].to(torch::kFloat32).contiguous();
    auto l = m["knn_labels"].to(torch::kInt64).contiguous();
    std::vector<std::vector<float>> fs_;
    std::vector<int> ls;
    for (int64_t i = 0; i < f.size(0); ++i) {
      fs_.emplace_back(f[i].data_ptr<float>(), f[i].data_ptr<float>() + f.size(1));
      ls.push_back(static_cast<int>(l[i].item<int64_t>()));
    }
    p.numClasses = static_cast<int>(m["num_classes"].item<int64_t>());
    p.knn = std::make_unique<model::KnnClassifier>(5);
    p.knn->fit(fs_, ls, p.numClasses);
    return;
  }
  auto w = m.at("head.weight");
  p.numClasses = static_cast<int>(w.size(0));
  p.head = model::LinearHead(w.size(1), w.size(0));
  model::TensorMap hm{{"head.weight", w.to(torch::kFloat32)}, {"head.bias", m.at("head.bias").to(torch::kFloat32)}};
  model::loadStateDict(*p.head, hm, true);
  p.mean = m.at("feat_mean").to(torch::kFloat32);
  p.sd = m.at("feat_std").to(torch::kFloat32);
}

std::string taskModelId(const std::string& task) { return "echo2ecg-" + task; }

std::optional<db::ModelRow> findModel(db::Database& db, const std::string& modelId, const std::string& version) {
  std::optional<db::ModelRow> best;
  for (auto& m : db.listModels()) {
    if (m.modelId != modelId) continue;
    if (!version.empty()) {
      if (m.version == version) return m;
      continue;
    }
    if (m.active) return m;
  }
  return best;
}

// The classifier for a task: `spec` "ID:VERSION", "ID" (active version), "" (active
// echo2ecg-<task>, else the bundled head in the models dir). An explicit `modelDir` with no `spec`
// is what the caller asked for: its own <task>_head.pt if it has one (never a registered head on
// another encoder), else the active registered head, only if that was trained on its weights.
Predictor loadPredictor(db::Database& db, const std::string& task, const std::string& spec,
                        const std::string& modelDir) {
  Predictor p;
  p.task = task;
  auto headPathIn = [&](const std::string& dir) { return fs::path(dir) / (task + "_head.pt"); };
  auto headOfBundle = [&](const std::string& dir) {
    const fs::path headPath = headPathIn(dir);
    if (!fs::exists(headPath)) throw std::runtime_error("no " + task + " head in " + dir + " (train one first)");
    p.base = loadBundle(dir);
    loadHeadInto(p, headPath.string());
    p.modelId = taskModelId(task) + "-bundled";
    p.version = p.base.version;
    p.weightsHash = p.base.hash + "+" + model::weightsHash(model::loadTensorArchive(headPath.string()));
    p.seed = 0;
  };
  // the directory the caller named (no spec), resolved once; "" when none was named
  const std::string askedDir = spec.empty() && !modelDir.empty() ? requireModelsDir(modelDir) : "";
  if (!askedDir.empty() && fs::exists(headPathIn(askedDir))) {
    headOfBundle(askedDir);
    return p;
  }
  std::string id = spec, version;
  if (auto c = spec.find(':'); c != std::string::npos) {
    id = spec.substr(0, c);
    version = spec.substr(c + 1);
  }
  if (id.empty()) id = taskModelId(task);
  auto row = findModel(db, id, version);
  if (row && !row->cardJson.empty()) {
    const auto& card = row->cardJson;
    p.modelId = row->modelId;
    p.version = row->version;
    p.weightsHash = row->weightsHash;
    p.method = jsonString(card, "method").value_or("linear");
    p.seed = static_cast<std::uint64_t>(jsonNumber(card, "seed").value_or(0));
    const std::string baseDir = jsonString(card, "base_dir").value_or("");
    const std::string weights = jsonString(card, "weights_path").value_or("");
    const std::string fullDir = jsonString(card, "encoder_dir").value_or("");
    // The head's features come from the encoder it was trained on: its files must be unchanged.
    const auto bh = jsonString(card, "base_weights_hash");
    const bool headChecks = bh && !bh->empty() && fullDir.empty();
    p.base = loadBundle(!fullDir.empty() ? fullDir : requireModelsDir(baseDir), !headChecks);
    if (headChecks && *bh != p.base.hash)
      throw std::runtime_error("the encoder of " + p.modelId + ":" + p.version + " in " + p.base.dir +
                               " changed since the head was trained (weights " + p.base.hash.substr(0, 12) +
                               ", trained on " + bh->substr(0, 12) + "); retrain the head or restore the encoder");
    std::error_code ec;
    if (!askedDir.empty() && !fs::equivalent(askedDir, p.base.dir, ec)) {
      const Bundle asked = loadBundle(askedDir);
      if (asked.hash != p.base.hash)
        throw std::runtime_error(askedDir + " has no " + task + " head, and the active " + p.modelId + ":" + p.version +
                                 " was trained on another encoder (" + p.base.dir + ", weights " +
                                 p.base.hash.substr(0, 12) + "; " + askedDir + ": " + asked.hash.substr(0, 12) +
                                 "); train one on it (`echo2ecg train --task " + task + " --model " + askedDir +
                                 "`) or leave out the directory");
    }
    loadHeadInto(p, weights);
    return p;
  }
  if (!spec.empty() && spec != taskModelId(task))
    throw std::runtime_error("model " + spec + " is not registered in the database");
  headOfBundle(!askedDir.empty() ? askedDir : requireModelsDir(modelDir));
  return p;
}

// ------------------------------------------------------------------ metrics helpers ----

struct Roc {
  std::vector<double> fpr, tpr;
};
Roc rocCurve(const std::vector<int>& positive, const std::vector<double>& score) {
  std::vector<std::size_t> idx(score.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  double P = 0, N = 0;
  for (int v : positive) (v ? P : N) += 1;
  Roc r;
  r.fpr.push_back(0);
  r.tpr.push_back(0);
  double tp = 0, fp = 0;
  for (std::size_t i = 0; i < idx.size(); ++i) {
    (positive[idx[i]] ? tp : fp) += 1;
    if (i + 1 < idx.size() && score[idx[i + 1]] == score[idx[i]]) continue;
    r.fpr.push_back(N > 0 ? fp / N : 0);
    r.tpr.push_back(P > 0 ? tp / P : 0);
  }
  return r;
}

struct MetricsOut {
  model::ClassificationReport rep;
  std::map<std::string, model::ConfidenceInterval> ci;
  std::string json;  // {"accuracy":..,"accuracy_ci":[..],...}
};
MetricsOut metricsWithCi(const std::vector<int>& truth, const Scores& scores, int resamples) {
  MetricsOut o;
  if (truth.empty()) {
    o.json = "{}";
    return o;
  }
  o.rep = model::evaluate(truth, scores);
  const int K = static_cast<int>(scores[0].size());
  using Fn = std::function<double(const std::vector<int>&, const Scores&)>;
  std::vector<std::pair<std::string, Fn>> fns = {
      {"accuracy", [](auto& t, auto& s) { return model::accuracy(t, model::argmaxRows(s)); }},
      {"balanced_accuracy", [K](auto& t, auto& s) { return model::balancedAccuracy(t, model::argmaxRows(s), K); }},
      {"f1", [K](auto& t, auto& s) { return model::macroF1(t, model::argmaxRows(s), K); }},
      {"auroc", [](auto& t, auto& s) { return model::evaluate(t, s).auroc; }},
      {"auprc", [](auto& t, auto& s) { return model::evaluate(t, s).auprc; }},
  };
  std::string j = "{";
  bool first = true;
  for (auto& [name, fn] : fns) {
    auto c = model::bootstrapCi(truth, scores, fn, resamples, 0.95, 42);
    o.ci[name] = c;
    j += (first ? "" : ",") + jstr(name) + ":" + jnum(c.value) + "," + jstr(name + "_ci") + ":[" + jnum(c.lower) +
         "," + jnum(c.upper) + "]";
    first = false;
  }
  j += ",\"n\":" + std::to_string(truth.size()) + "}";
  o.json = j;
  return o;
}

std::string valMetricsJson(const std::vector<int>& truth, const Scores& scores) {
  if (truth.empty()) return "{}";
  auto r = model::evaluate(truth, scores);
  return "{\"accuracy\":" + jnum(r.accuracy) + ",\"balanced_accuracy\":" + jnum(r.balancedAccuracy) +
         ",\"f1\":" + jnum(r.macroF1) + ",\"auroc\":" + jnum(r.auroc) + ",\"auprc\":" + jnum(r.auprc) + "}";
}

std::string rocJson(const std::vector<int>& truth, const Scores& scores, const std::vector<std::string>& classes) {
  const int K = static_cast<int>(classes.size());
  auto one = [&](int c) {
    std::vector<int> pos;
    std::vector<double> sc;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      pos.push_back(truth[i] == c ? 1 : 0);
      sc.push_back(scores[i][static_cast<std::size_t>(c)]);
    }
    auto r = rocCurve(pos, sc);
    return "\"fpr\":" + jnums(r.fpr) + ",\"tpr\":" + jnums(r.tpr);
  };
  if (K == 2) return "{" + one(1) + "}";
  std::string o = "[";
  for (int c = 0; c < K; ++c) o += (c ? "," : "") + std::string("{\"class\":") + jstr(classes[c]) + "," + one(c) + "}";
  return o + "]";
}

std::string confusionJson(const std::vector<int>& truth, const Scores& scores, int K) {
  std::vector<std::vector<int>> m(K, std::vector<int>(K, 0));
  auto pred = model::argmaxRows(scores);
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (truth[i] >= 0 && truth[i] < K && pred[i] >= 0 && pred[i] < K) ++m[truth[i]][pred[i]];
  return jarr(m, [](const std::vector<int>& r) { return jints(r); });
}

// ------------------------------------------------------------------ training job ----

struct Emitter {
  bool json = false;
  void line(const std::string& s) const {
    if (json) {
      std::fputs((s + "\n").c_str(), stdout);
      std::fflush(stdout);
    }
  }
  void text(const std::string& s) const {
    std::fputs((s + "\n").c_str(), stderr);
    std::fflush(stderr);
  }
  void error(const std::string& msg) const {
    line("{\"event\":\"error\",\"message\":" + jstr(msg) + "}");
    text("error: " + msg);
  }
  // The training-protocol events shared by every training loop (docs/training-protocol.md).
  void step(std::int64_t epoch, int step, int totalSteps, double loss, double lr, double elapsed, double eta) const {
    line("{\"event\":\"step\",\"epoch\":" + std::to_string(epoch) + ",\"step\":" + std::to_string(step) +
         ",\"total_steps\":" + std::to_string(totalSteps) + ",\"loss\":" + jnum(loss) + ",\"lr\":" + jnum(lr) +
         ",\"elapsed_s\":" + jnum(elapsed) + ",\"eta_s\":" + jnum(std::max(0.0, eta)) + "}");
  }
  void epochDone(std::int64_t epoch, double trainLoss, double valLoss, const std::string& valMetricsJson) const {
    line("{\"event\":\"epoch\",\"epoch\":" + std::to_string(epoch) + ",\"train_loss\":" + jnum(trainLoss) +
         ",\"val_loss\":" + jnum(valLoss) + ",\"val_metrics\":" + valMetricsJson + "}");
    text("epoch " + std::to_string(epoch) + ": train loss " + jnum(trainLoss) + ", val loss " + jnum(valLoss));
  }
  void checkpoint(std::int64_t epoch, const std::string& path) const {
    line("{\"event\":\"checkpoint\",\"epoch\":" + std::to_string(epoch) + ",\"path\":" + jstr(path) + "}");
  }
  void cancelled(std::int64_t epoch, const std::string& path) const {
    line("{\"event\":\"cancelled\",\"epoch\":" + std::to_string(epoch) + ",\"checkpoint\":" + jstr(path) + "}");
    text("cancelled in epoch " + std::to_string(epoch) + "; resume with --resume");
  }
};

std::string nextVersion(db::Database& db, const std::string& modelId) {
  long long mx = 0;
  for (auto& m : db.listModels())
    if (m.modelId == modelId) {
      char* end = nullptr;
      long long v = std::strtoll(m.version.c_str(), &end, 10);
      if (end && *end == '\0') mx = std::max(mx, v);
    }
  return std::to_string(mx + 1);
}

torch::Tensor featTensor(const std::vector<std::vector<float>>& f) {
  auto t = torch::empty({static_cast<int64_t>(f.size()), f.empty() ? 0 : static_cast<int64_t>(f[0].size())});
  for (std::size_t i = 0; i < f.size(); ++i)
    std::memcpy(t[static_cast<int64_t>(i)].data_ptr<float>(), f[i].data(), f[i].size() * sizeof(float));
  return t;
}

std::vector<std::size_t> permutation(std::size_t n, std::uint64_t seed, std::int64_t epoch) {
  std::vector<std::size_t> p(n);
  std::iota(p.begin(), p.end(), 0);
  std::mt19937_64 g(seed * 1000003ULL + static_cast<std::uint64_t>(epoch) + 17);
  for (std::size_t i = n; i > 1; --i) std::swap(p[i - 1], p[g() % i]);
  return p;
}

void saveCkpt(const std::string& path, std::int64_t epoch, torch::nn::Module& m, torch::optim::Optimizer* opt) {
  torch::serialize::OutputArchive a;
  a.write("epoch", torch::tensor(epoch));
  torch::serialize::OutputArchive ma;
  m.save(ma);
  a.write("model", ma);
  if (opt) {
    torch::serialize::OutputArchive oa;
    opt->save(oa);
    a.write("optimizer", oa);
  }
  a.save_to(path + ".tmp");
  fs::rename(path + ".tmp", path);
}
std::int64_t loadCkpt(const std::string& path, torch::nn::Module& m, torch::optim::Optimizer* opt) {
  torch::serialize::InputArchive a;
  a.load_from(path);
  torch::Tensor e;
  a.read("epoch", e);
  torch::serialize::InputArchive ma;
  a.read("model", ma);
  m.load(ma);
  if (opt) {
    torch::serialize::InputArchive oa;
    if (a.try_read("optimizer", oa)) opt->load(oa);
  }
  return e.item<int64_t>();
}

// Consecutive slices of `items`, `n` at a time (the last one shorter).
std::vector<std::vector<std::size_t>> chunks(const std::vector<std::size_t>& items, std::size_t n) {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t i = 0; i < items.size(); i += n)
    out.emplace_back(items.begin() + static_cast<std::ptrdiff_t>(i),
                     items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), i + n)));
  return out;
}

// "auto" = bfloat16 autocast on CUDA, fp32 on the CPU; "bf16" forces autocast (also on the CPU);
// "fp32" turns it off.
bool useAmp(const std::string& precision, const torch::Device& device) {
  return precision == "bf16" || (precision == "auto" && device.is_cuda());
}

std::string lastCkptPath(const std::string& runDir) { return (fs::path(runDir) / "last.ckpt").string(); }

// The run-dir rule of every training job: --run-dir is required, and a checkpoint already in it is
// continued only with --resume (never overwritten). Returns 2 after an error event, else 0.
int checkRunDir(const TrainOptions& o, const Emitter& em) {
  if (o.runDir.empty()) {
    em.error("--run-dir is required");
    return 2;
  }
  if (fs::exists(lastCkptPath(o.runDir)) && !o.resume && !o.dryRun) {
    em.error("run dir " + o.runDir + " already has a checkpoint; use --resume or another --run-dir");
    return 2;
  }
  return 0;
}

// The epoch loop every training job shares (docs/training-protocol.md): per epoch a seeded shuffle of
// the training items in batches, the learning-rate schedule (warm-up then cosine to 0.1x, or
// constant), one optimiser step per batch with gradient clipping, `step` events with the run's ETA,
// cancel -> checkpoint + `cancelled`, the validation loss, optional best-epoch selection (best.ckpt,
// kept across --resume) and a resumable checkpoint after every epoch.
struct EpochLoop {
  const Emitter& em;
  torch::nn::Module& module;
  torch::optim::Optimizer* opt = nullptr;  // may be null only when epochs == 0
  std::vector<double> groupScale;          // lr multiplier of each parameter group (empty: 1)
  std::string runDir;
  int epochs = 0, stepsPerEpoch = 0, batchSize = 1;
  std::size_t minBatch = 1;  // smaller batches are skipped (contrastive loss, BatchNorm)
  std::int64_t startEpoch = 0;
  std::uint64_t seed = 0;
  double lr = 1e-3;
  bool cosine = true;      // false: constant lr
  double clipNorm = 1.0;   // <= 0: no clipping
  bool selectBest = false;
  std::function<void(std::int64_t epoch)> beginEpoch;                 // optional, after module.train()
  std::function<torch::Tensor(const std::vector<std::size_t>&)> loss;  // training loss of a batch
  std::function<double()> valLoss;
  std::function<std::string()> valMetrics;  // optional, JSON object
  bool amp = false;
  torch::Device device = torch::kCPU;

  std::int64_t bestEpoch = -1;
  double bestVal = std::numeric_limits<double>::infinity();

  std::string ckptPath() const { return lastCkptPath(runDir); }
  std::string bestPath() const { return (fs::path(runDir) / "best.ckpt").string(); }
  std::string bestValPath() const { return (fs::path(runDir) / "best_val.txt").string(); }

  // Returns false when cancelled (the checkpoint is written and `cancelled` emitted).
  bool run(const std::vector<std::size_t>& train, const Cancel& cancel) {
    if (selectBest && startEpoch > 0 && fs::exists(bestPath()) && fs::exists(bestValPath())) {
      std::ifstream bf(bestValPath());
      bf >> bestVal >> bestEpoch;
      if (!bf) bestVal = std::numeric_limits<double>::infinity(), bestEpoch = -1;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const int totalSteps = epochs * stepsPerEpoch;
    int stepsDone = 0;
    for (std::int64_t epoch = startEpoch; epoch < epochs; ++epoch) {
      torch::manual_seed(seed * 7919ULL + static_cast<std::uint64_t>(epoch));
      module.train();
      if (beginEpoch) beginEpoch(epoch);
      std::vector<std::size_t> order;
      for (auto p : permutation(train.size(), seed, epoch)) order.push_back(train[p]);
      double lossSum = 0;
      int lossN = 0, step = 0;
      for (auto& bidx : chunks(order, static_cast<std::size_t>(std::max(1, batchSize)))) {
        if (bidx.size() < minBatch) continue;
        const double pos = static_cast<double>(epoch) + static_cast<double>(step) / std::max(1, stepsPerEpoch);
        const double curLr = cosine ? model::warmupCosineLr(pos, lr, 0.1 * lr, std::min(1.0, epochs * 0.2), epochs) : lr;
        auto& groups = opt->param_groups();
        for (std::size_t gi = 0; gi < groups.size(); ++gi)
          groups[gi].options().set_lr(curLr * (gi < groupScale.size() ? groupScale[gi] : 1.0));
        opt->zero_grad();
        torch::Tensor l;
        {
          model::Bf16Autocast ac(amp, device);
          l = loss(bidx);
        }
        l = l.to(torch::kFloat32);
        l.backward();
        if (clipNorm > 0) torch::nn::utils::clip_grad_norm_(module.parameters(), clipNorm);
        opt->step();
        const double lv = l.item<double>();
        if (!std::isfinite(lv))
          throw std::runtime_error("training loss is not finite in epoch " + std::to_string(epoch) + " step " +
                                   std::to_string(step + 1) + " (lower --lr, or --precision fp32)");
        lossSum += lv * static_cast<double>(bidx.size());
        lossN += static_cast<int>(bidx.size());
        ++step;
        ++stepsDone;
        const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        // remaining steps of the whole run (after --resume, elapsed time counts this process only)
        em.step(epoch, step, totalSteps, lv, curLr, el,
                el / stepsDone * (totalSteps - static_cast<int>(epoch) * stepsPerEpoch - step));
        if (cancel.requested()) break;
      }
      if (cancel.requested()) {
        // the interrupted epoch is redone on resume (the weights keep the finished steps)
        saveCkpt(ckptPath(), epoch, module, opt);
        em.cancelled(epoch, ckptPath());
        return false;
      }
      const double val = valLoss ? valLoss() : std::nan("");
      em.epochDone(epoch, lossN ? lossSum / lossN : std::nan(""), val, valMetrics ? valMetrics() : "{}");
      if (selectBest && std::isfinite(val) && val < bestVal) {
        bestVal = val;
        bestEpoch = epoch;
        saveCkpt(bestPath(), epoch, module, nullptr);
        writeTextAtomic(bestValPath(), jnum(bestVal) + " " + std::to_string(bestEpoch) + "\n");
      }
      saveCkpt(ckptPath(), epoch + 1, module, opt);
      em.checkpoint(epoch, ckptPath());
    }
    return true;
  }

  // Loads the selected epoch's weights (selectBest); false when there is none.
  bool restoreBest() {
    if (!selectBest || bestEpoch < 0 || !fs::exists(bestPath())) return false;
    loadCkpt(bestPath(), module, nullptr);
    em.text("kept epoch " + std::to_string(bestEpoch) + " (lowest validation loss " + jnum(bestVal) + ")");
    return true;
  }
};

// What a training job records about itself, held once: the `start` event, card.json, the registry
// row and the `done` event are all built from it, so every job reports the common fields the same way.
// The JSON fragments passed in (`extra`, `fields`, `data`, `recipe`) are empty or start with ','.
struct RunRecord {
  const TrainOptions& o;
  std::string task, method, device, precision, splitJson;
  std::vector<std::string> classes;
  bool synthetic = false;
  int epochs = 0, stepsPerEpoch = 0, batchSize = 0;
  double lr = 0, weightDecay = 0;
  // known once trained
  std::string modelId, version, parent, baseDir, weightsPath, bundleDir, weightsHash, testJson = "{}";

  std::string classesJson() const { return jarr(classes, [](const std::string& c) { return jstr(c); }); }

  std::string startEvent(std::int64_t startEpoch, bool resumed, const std::string& extra = "") const {
    return "{\"event\":\"start\",\"task\":" + jstr(task) + ",\"method\":" + jstr(method) + ",\"run_dir\":" +
           jstr(o.runDir) + ",\"device\":" + jstr(device) + ",\"precision\":" + jstr(precision) +
           ",\"total_epochs\":" + std::to_string(epochs) + ",\"steps_per_epoch\":" + std::to_string(stepsPerEpoch) +
           ",\"start_epoch\":" + std::to_string(startEpoch) + ",\"resumed\":" + (resumed ? "true" : "false") +
           ",\"classes\":" + classesJson() + extra + ",\"split\":" + splitJson +
           ",\"synthetic_data\":" + (synthetic ? "true" : "false") + "}";
  }

  // card.json: identity, `fields`, preprocessing version, data (db, `data`, synthetic, split), recipe
  // (epochs, batch size, lr, weight decay, seed, device, precision, then `recipe`), seed, test metrics.
  std::string card(const std::string& fields, const std::string& data, const std::string& recipe) const {
    std::ostringstream c;
    c << "{\"model_id\":" << jstr(modelId) << ",\"version\":" << jstr(version) << ",\"task\":" << jstr(task)
      << ",\"method\":" << jstr(method) << ",\"parent\":" << jstr(parent) << ",\"base_dir\":" << jstr(baseDir)
      << ",\"weights_path\":" << jstr(fs::absolute(weightsPath).string())
      << (bundleDir.empty() ? std::string() : ",\"bundle_dir\":" + jstr(fs::absolute(bundleDir).string()))
      << ",\"weights_hash\":" << jstr(weightsHash) << fields << ",\"preprocessing\":" << jstr(kPreprocVersion)
      << ",\"data\":{\"db\":" << jstr(o.dbPath) << data << ",\"synthetic\":" << (synthetic ? "true" : "false")
      << ",\"split\":" << splitJson << "},\"recipe\":{\"epochs\":" << epochs << ",\"batch_size\":" << batchSize
      << ",\"lr\":" << jnum(lr) << ",\"weight_decay\":" << jnum(weightDecay) << ",\"seed\":" << o.seed
      << ",\"device\":" << jstr(device) << ",\"precision\":" << jstr(precision) << recipe << "},\"seed\":" << o.seed
      << ",\"test_metrics\":" << testJson << "}";
    return c.str();
  }

  // Writes card.json atomically, registers and activates the version (unless --no-register), then
  // emits `done` (`extra` goes before its classes).
  void finish(db::Database& db, const Emitter& em, const std::string& cardJson, const std::string& extra = "") const {
    writeTextAtomic((fs::path(o.runDir) / "card.json").string(), cardJson);
    if (o.register_) {
      db::ModelRow row;
      row.modelId = modelId;
      row.version = version;
      row.parent = parent;
      row.weightsHash = weightsHash;
      row.cardJson = cardJson;
      db.registerModel(row);
      db.setActiveModel(modelId, version);
    }
    em.line("{\"event\":\"done\",\"model_id\":" + jstr(modelId) + ",\"version\":" + jstr(version) +
            ",\"parent\":" + jstr(parent) + ",\"weights_hash\":" + jstr(weightsHash) + ",\"weights_path\":" +
            jstr(fs::absolute(weightsPath).string()) + ",\"test_metrics\":" + testJson + extra +
            ",\"classes\":" + classesJson() + "}");
    em.text("done: " + modelId + " version " + version + " test " + testJson);
  }
};

// The `split` object of a training job: {"train":{...},"val":{...},"test":{...}}, the fields of part p
// (0 train, 1 val, 2 test) from `partFields(p)`.
std::string splitPartsJson(const std::function<std::string(int)>& partFields) {
  static const char* const names[3] = {"train", "val", "test"};
  std::string s = "{";
  for (int p = 0; p < 3; ++p) s += std::string(p ? "," : "") + "\"" + names[p] + "\":{" + partFields(p) + "}";
  return s + "}";
}

bool anySyntheticStudy(db::Database& db) {
  for (auto& st : db.listStudies())
    if (st.synthetic) return true;
  return false;
}

// Module holding everything that is trained (so one checkpoint covers it).
struct TrainablesImpl : torch::nn::Module {
  TrainablesImpl(model::Echo2Ecg net, model::LinearHead head) {
    if (net) this->net = register_module("net", net);
    if (head) this->head = register_module("head", head);
  }
  model::Echo2Ecg net{nullptr};
  model::LinearHead head{nullptr};
};
TORCH_MODULE(Trainables);

}  // namespace

// ------------------------------------------------------------------ embed ----

EmbedReport runEmbed(db::Database& db, const EmbedOptions& opt, Cancel cancel) {
  EmbedReport rep;
  const auto t0 = std::chrono::steady_clock::now();
  setThreads(opt.threads);
  rep.model = resolveEmbeddingModel(db, opt.model);
  Bundle b = loadEmbeddingBundle(rep.model);
  requireEcgSide(b, rep.model.label());
  b.to(pickDevice(opt.device));
  rep.modelKey = rep.model.label();
  rep.weightsHash = rep.model.weightsHash;
  auto samples = loadSamples(db);
  auto say = [&](const char* stage, const char* what) {
    return [&, stage, what](int done, int total) {
      if (opt.progress) opt.progress(stage, done, total);
      else if (!opt.quiet) std::fprintf(stderr, "\r%s %d/%d   ", what, done, total);
    };
  };
  const bool text = !opt.quiet && !opt.progress;
  EcgFeatureCache ecg{db, b, {}, 0, 0, {}};
  ecg.ensure(samples, opt.batchSize, cancel, say("ecg", "ECG"));
  if (text) std::fprintf(stderr, "\n");
  EchoCache echo{db, b};
  if (!cancel.requested() && b.role != "ecg-encoder")  // an ECG-only encoder has no trained echo side
    embedAllEcho(db, b, echo, std::max(1, opt.batchSize / 2), cancel, say("echo", "echo loops"));
  if (text) std::fprintf(stderr, "\n");
  rep.ecgAdded = ecg.added;
  rep.ecgSkipped = ecg.skipped;
  rep.viewAdded = echo.viewAdded;
  rep.viewSkipped = echo.viewSkipped;
  rep.studyAdded = echo.studyAdded;
  rep.studyUpdated = echo.studyUpdated;
  rep.studyDropped = echo.studyDropped;
  rep.studySkipped = echo.studySkipped;
  rep.errorMessages = ecg.errors;
  rep.errorMessages.insert(rep.errorMessages.end(), echo.errors.begin(), echo.errors.end());
  rep.errors = static_cast<int>(rep.errorMessages.size());
  rep.cancelled = cancel.requested();
  // Rows of other versions of this model id are stale: kept unless asked (never deleted by default),
  // and only after a complete run.
  if (opt.pruneStale && !rep.cancelled) rep.prunedRows = staleEmbeddingRows(db, rep.model, true);
  rep.staleRows = staleEmbeddingRows(db, rep.model, false);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

// ------------------------------------------------------------------ train ----

namespace {
// ------------------------------------------------------------------ echo-pretrain ----
// Report-supervised pretraining of the per-view video encoder: each echo loop regresses its study's
// echo-report measurements (z-scored with training-split statistics, masked where one is missing).
// It stands in for how EchoPrime's video encoder learned cardiac function (video <-> report
// contrastive pretraining on its own cohort): run it on a cohort disjoint from the one used for
// Echo2ECG pretraining and evaluation, then start `--task pretrain --video-model` from its bundle.

const std::vector<std::string>& echoReportKeys() {
  static const std::vector<std::string> k{"lvef_percent", "edv", "esv", "wall_mm", "lv_mass_g"};
  return k;
}

struct VideoTrainablesImpl : torch::nn::Module {
  VideoTrainablesImpl(std::shared_ptr<torch::nn::Module> videoModule, int64_t dim, int64_t targets) {
    video = register_module("video", std::move(videoModule));
    head = register_module("head", torch::nn::Linear(dim, targets));
  }
  std::shared_ptr<torch::nn::Module> video;
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(VideoTrainables);

int runEchoPretrain(const TrainOptions& o, Cancel cancel) {
  Emitter em{o.jsonProgress};
  if (const int rc = checkRunDir(o, em)) return rc;
  const std::string ckptPath = lastCkptPath(o.runDir);
  std::vector<std::string> keys;
  if (o.targets.empty()) {
    keys = echoReportKeys();
  } else {
    std::stringstream ss(o.targets);
    for (std::string k; std::getline(ss, k, ',');)
      if (!k.empty()) keys.push_back(k);
  }
  if (keys.empty()) {
    em.error("--targets names no label key");
    return 2;
  }
  try {
    setThreads(0);
    const torch::Device device = pickDevice(o.device);
    const std::string deviceName = device.is_cuda() ? "cuda" : "cpu";
    const bool amp = useAmp(o.precision, device);
    db::Database db(o.dbPath);
    model::seedEverything(o.seed);
    const int64_t T = static_cast<int64_t>(keys.size());

    // ---- studies with at least one report measurement; patient labels, overridden by study labels
    auto es = listEchoStudies(db);
    struct Study {
      std::int64_t row = 0;
      std::vector<float> y, mask;
    };
    std::vector<Study> studies;
    std::vector<Sample> splitKeys;  // only patient identity is used by splitByPatient
    for (auto& [studyRow, loops] : es.loops) {
      std::map<std::string, double> v;
      auto take = [&](const std::vector<db::LabelRow>& rows, bool studyLevel) {
        for (auto& l : rows) {
          if (!studyLevel && l.studyRowId) continue;
          char* end = nullptr;
          const double x = std::strtod(l.value.c_str(), &end);
          if (end && *end == '\0' && !l.value.empty() && std::isfinite(x)) v[l.key] = x;
        }
      };
      take(db.labelsForPatient(es.patientOf[studyRow]), false);
      take(db.labelsForStudy(studyRow), true);
      Study s;
      s.row = studyRow;
      bool any = false;
      for (auto& k : keys) {
        auto it = v.find(k);
        s.y.push_back(it == v.end() ? 0.f : static_cast<float>(it->second));
        s.mask.push_back(it == v.end() ? 0.f : 1.f);
        any = any || it != v.end();
      }
      if (!any) continue;
      studies.push_back(std::move(s));
      Sample k;
      k.patientId = es.patientIdOf[studyRow];
      k.patientRowId = es.patientOf[studyRow];
      splitKeys.push_back(std::move(k));
    }
    auto studySplit = splitByPatient(splitKeys, o.seed);
    // loops -> parts
    struct Loop {
      std::int64_t id = 0;
      std::size_t study = 0;
      std::string path;
    };
    std::vector<Loop> loops;
    std::vector<std::size_t> part[3];
    std::set<std::int64_t> pats[3];
    std::size_t studiesIn[3] = {0, 0, 0};
    for (std::size_t si = 0; si < studies.size(); ++si) {
      const int p = studySplit[si];
      ++studiesIn[p];
      pats[p].insert(splitKeys[si].patientRowId);
      for (auto& [id, path] : es.loops[studies[si].row]) {
        part[p].push_back(loops.size());
        loops.push_back({id, si, path});
      }
    }
    if (part[0].empty()) {
      em.error("no echo loops with report measurements (" + o.targets + (o.targets.empty() ? "lvef_percent, edv, esv, wall_mm, lv_mass_g" : "") +
               ") in the database: import a labels table first");
      return 1;
    }
    // z-scoring statistics from the training studies
    std::vector<double> mu(T, 0.0), sd(T, 1.0);
    for (int64_t k = 0; k < T; ++k) {
      double s = 0, s2 = 0;
      int n = 0;
      std::set<std::size_t> seen;
      for (auto li : part[0]) {
        const auto si = loops[li].study;
        if (!seen.insert(si).second || studies[si].mask[k] == 0.f) continue;
        s += studies[si].y[k];
        s2 += studies[si].y[k] * studies[si].y[k];
        ++n;
      }
      if (n > 0) mu[k] = s / n;
      if (n > 1) sd[k] = std::max(1e-6, std::sqrt(std::max(0.0, (s2 - n * mu[k] * mu[k]) / (n - 1))));
    }

    // ---- model: a fresh bundle (its ECG side is an untrained placeholder) whose video encoder is trained
    Bundle b = freshBundle(1, o.videoSize, o.seed);
    b.role = "video-encoder";
    auto vt = VideoTrainables(b.video->module(), b.video->embedDim(), T);
    vt->to(device);
    b.device = device;
    const int bs = std::max(2, o.batchSize);
    const int epochs = std::max(0, o.epochs);
    const int stepsPerEpoch = static_cast<int>((part[0].size() + bs - 1) / bs);
    const double lr = o.lr > 0 ? o.lr : 1e-3;
    const double wd = o.weightDecay >= 0 ? o.weightDecay : 1e-4;
    auto opt = std::make_unique<torch::optim::AdamW>(vt->parameters(), torch::optim::AdamWOptions(lr).weight_decay(wd));
    const bool resumed = o.resume && fs::exists(ckptPath);
    std::int64_t startEpoch = resumed ? loadCkpt(ckptPath, *vt, opt.get()) : 0;
    RunRecord rec{o, "echo-pretrain", "report-regression", deviceName, amp ? "bf16" : "fp32"};
    rec.splitJson = splitPartsJson([&](int p) {
      return "\"patients\":" + std::to_string(pats[p].size()) + ",\"studies\":" + std::to_string(studiesIn[p]) +
             ",\"samples\":" + std::to_string(part[p].size());
    });
    rec.synthetic = anySyntheticStudy(db);
    rec.epochs = epochs;
    rec.stepsPerEpoch = stepsPerEpoch;
    rec.batchSize = bs;
    rec.lr = lr;
    rec.weightDecay = wd;
    const std::string targetsJson = jarr(keys, [](const std::string& k) { return jstr(k); });
    em.line(rec.startEvent(startEpoch, resumed, ",\"targets\":" + targetsJson));
    em.text("train echo-pretrain (report regression of " + std::to_string(T) + " measurements): " +
            std::to_string(part[0].size()) + " train / " + std::to_string(part[1].size()) + " val / " +
            std::to_string(part[2].size()) + " test loops on " + deviceName);
    if (o.dryRun) return 0;
    fs::create_directories(o.runDir);

    // ---- decode every loop once: uint8 [C, frames, H, W] at the encoder's size
    const auto spec = b.video->inputSpec();
    std::vector<torch::Tensor> raw(loops.size());
    int decodeErrors = 0;
    for (std::size_t i = 0; i < loops.size(); ++i) {
      if (cancel.requested()) break;
      try {
        auto fr = readEchoFrames(loops[i].path);
        auto full = spec;
        full.frames = fr.frames;
        full.frameStride = 1;
        full.mean.assign(full.mean.size(), 0.f);
        full.std.assign(full.std.size(), 1.f);
        raw[i] = model::prepareClip(fr, full, 0).round().clamp(0, 255).to(torch::kUInt8);
      } catch (const std::exception& e) {
        if (++decodeErrors <= 5) em.text(std::string("skipping echo loop: ") + e.what());
      }
    }
    if (decodeErrors > 0)
      em.text(std::to_string(decodeErrors) + " of " + std::to_string(loops.size()) +
              " echo loops could not be decoded and are left out");
    for (auto& p : part) {
      std::vector<std::size_t> keep;
      for (auto i : p)
        if (raw[i].defined()) keep.push_back(i);
      p = keep;
    }
    if (cancel.requested()) {
      em.line("{\"event\":\"cancelled\",\"epoch\":" + std::to_string(startEpoch) + ",\"checkpoint\":null}");
      return 130;
    }
    if (part[0].empty()) {
      em.error("no decodable training loops");
      return 1;
    }
    auto mean = torch::tensor(spec.mean).view({1, -1, 1, 1, 1});
    auto sdev = torch::tensor(spec.std).view({1, -1, 1, 1, 1});
    // Clip of `spec.frames` frames at `frameStride` from `start` (looping), as prepareClip picks them.
    auto clipBatch = [&](const std::vector<std::size_t>& idx, const std::vector<int64_t>& starts) {
      std::vector<torch::Tensor> cs;
      for (std::size_t j = 0; j < idx.size(); ++j) {
        const auto& r = raw[idx[j]];
        const int64_t n = r.size(1);
        auto fi = (torch::arange(spec.frames) * spec.frameStride + starts[j]).remainder(n);
        cs.push_back(r.index_select(1, fi));
      }
      return ((torch::stack(cs).to(torch::kFloat32) - mean) / sdev).to(device);
    };
    auto targetBatch = [&](const std::vector<std::size_t>& idx) {
      auto y = torch::empty({static_cast<int64_t>(idx.size()), T}), m = torch::empty_like(y);
      for (std::size_t j = 0; j < idx.size(); ++j) {
        const auto& s = studies[loops[idx[j]].study];
        for (int64_t k = 0; k < T; ++k) {
          y[static_cast<int64_t>(j)][k] = static_cast<float>((s.y[k] - mu[k]) / sd[k]);
          m[static_cast<int64_t>(j)][k] = s.mask[k];
        }
      }
      return std::make_pair(y.to(device), m.to(device));
    };
    auto forward = [&](const std::vector<std::size_t>& idx, const std::vector<int64_t>& starts) {
      return vt->head->forward(b.video->encode(clipBatch(idx, starts)));
    };
    auto maskedMse = [](const torch::Tensor& p, const torch::Tensor& y, const torch::Tensor& m) {
      return ((p - y).pow(2) * m).sum() / m.sum().clamp_min(1.0);
    };
    // Predictions (z units) of a part at clip start 0, the way `embed` samples a loop.
    auto predictPart = [&](const std::vector<std::size_t>& items) {
      torch::NoGradGuard ng;
      vt->eval();
      std::vector<torch::Tensor> out;
      for (auto& bidx : chunks(items, 32))
        out.push_back(forward(bidx, std::vector<int64_t>(bidx.size(), 0)).to(torch::kCPU));
      return out.empty() ? torch::empty({0, T}) : torch::cat(out);
    };
    auto evalLoss = [&](const std::vector<std::size_t>& items) {
      if (items.empty()) return std::nan("");
      auto p = predictPart(items);
      auto [y, m] = targetBatch(items);
      return maskedMse(p, y.to(torch::kCPU), m.to(torch::kCPU)).item<double>();
    };

    std::mt19937_64 g;  // clip start of each training loop, reseeded per epoch
    EpochLoop loop{em, *vt};
    loop.opt = opt.get();
    loop.runDir = o.runDir;
    loop.epochs = epochs;
    loop.stepsPerEpoch = stepsPerEpoch;
    loop.batchSize = bs;
    loop.minBatch = 2;  // BatchNorm needs two clips
    loop.startEpoch = startEpoch;
    loop.seed = o.seed;
    loop.lr = lr;
    loop.amp = amp;
    loop.device = device;
    loop.beginEpoch = [&](std::int64_t epoch) { g.seed(o.seed * 31ULL + static_cast<std::uint64_t>(epoch) + 5); };
    loop.loss = [&](const std::vector<std::size_t>& bidx) {
      std::vector<int64_t> starts;
      for (auto i : bidx) starts.push_back(static_cast<int64_t>(g() % static_cast<std::uint64_t>(raw[i].size(1))));
      auto [y, m] = targetBatch(bidx);
      return maskedMse(forward(bidx, starts).to(torch::kFloat32), y, m);
    };
    loop.valLoss = [&] { return evalLoss(part[1]); };
    if (!loop.run(part[0], cancel)) return 130;

    // ---- test metrics per measurement, in its own units: MAE and R^2 over test loops
    std::string testJson = "{\"mse_z\":" + jnum(evalLoss(part[2]));
    if (!part[2].empty()) {
      auto p = predictPart(part[2]);
      auto [y, m] = targetBatch(part[2]);
      y = y.to(torch::kCPU);
      m = m.to(torch::kCPU);
      for (int64_t k = 0; k < T; ++k) {
        double ae = 0, se = 0, sy = 0, sy2 = 0;
        int n = 0;
        for (int64_t i = 0; i < p.size(0); ++i) {
          if (m[i][k].item<float>() == 0.f) continue;
          const double pv = p[i][k].item<double>() * sd[k] + mu[k], yv = y[i][k].item<double>() * sd[k] + mu[k];
          ae += std::fabs(pv - yv);
          se += (pv - yv) * (pv - yv);
          sy += yv;
          sy2 += yv * yv;
          ++n;
        }
        const double var = n > 1 ? sy2 - sy * sy / n : 0;
        testJson += ",\"" + keys[k] + "_mae\":" + jnum(n ? ae / n : std::nan("")) + ",\"" + keys[k] +
                    "_r2\":" + jnum(var > 0 ? 1.0 - se / var : std::nan(""));
      }
    }
    testJson += "}";

    // ---- save the bundle, card, registry
    rec.modelId = "echo2ecg-echo-pretrain";
    rec.version = nextVersion(db, rec.modelId);
    rec.testJson = testJson;
    b.modelId = rec.modelId;
    b.version = rec.version;
    vt->to(torch::kCPU);
    b.to(torch::kCPU);
    b.video->module()->eval();
    saveBundle(b, o.runDir);
    rec.weightsPath = (fs::path(o.runDir) / "echo2ecg.pt").string();
    rec.bundleDir = o.runDir;
    rec.weightsHash = b.hash;
    rec.finish(db, em,
               rec.card(",\"video_encoder\":" + jstr(b.videoEncoder) + ",\"targets\":" + targetsJson +
                            ",\"target_mean\":" + jnums(mu) + ",\"target_sd\":" + jnums(sd),
                        "", ",\"video_size\":" + std::to_string(spec.height)));
    return 0;
  } catch (const std::exception& e) {
    em.error(e.what());
    return 1;
  }
}

}  // namespace


int runTrain(const TrainOptions& o, Cancel cancel) {
  if (o.task == "echo-pretrain") return runEchoPretrain(o, cancel);
  Emitter em{o.jsonProgress};
  // pretrain: ECG <-> multi-view echo CLIP pretraining. ecg-pretrain: the ECG-only self-supervised
  // counterpart (two augmented views of each ECG, the same CLIP loss; no echo, no labels), the
  // "ECG foundation model without echo" baseline and a starting point for pretrain --model.
  const bool ssl = o.task == "ecg-pretrain";
  const bool pairs = o.task == "pretrain";
  const bool pretrain = pairs || ssl;  // trains an encoder, no classifier
  if (!pretrain && o.task != "lvef" && o.task != "shd") {
    em.error("unknown task '" + o.task + "' (pretrain, ecg-pretrain, lvef, shd, echo-pretrain)");
    return 2;
  }
  // ecg-features / ecg-features-knn: the ECG-only baseline (hand-crafted features, no network).
  const bool baseline = o.method == "ecg-features" || o.method == "ecg-features-knn";
  const bool knnMethod = o.method == "knn" || o.method == "ecg-features-knn";
  if (o.method != "linear" && o.method != "knn" && o.method != "full" && !baseline) {
    em.error("unknown method '" + o.method + "' (linear, knn, full)");
    return 2;
  }
  if (const int rc = checkRunDir(o, em)) return rc;
  const std::string ckptPath = lastCkptPath(o.runDir);
  try {
    setThreads(0);
    const torch::Device device = pickDevice(o.device);
    const std::string deviceName = device.is_cuda() ? "cuda" : "cpu";
    const bool amp = useAmp(o.precision, device);
    db::Database db(o.dbPath);
    model::seedEverything(o.seed);

    // ---- data
    auto all = loadSamples(db, o.filterText, pairs);
    std::vector<Sample> samples;
    std::vector<int> labels;
    const std::string labelKey = !o.labelKey.empty() ? o.labelKey : (o.task == "lvef" ? "lvef_class" : "shd");
    for (auto& s : all) {
      if (pretrain) {
        samples.push_back(s);
        labels.push_back(-1);
        continue;
      }
      int y = labelFor(s, o.task);
      if (y < 0) continue;
      samples.push_back(s);
      labels.push_back(y);
    }
    const auto classes = pretrain ? std::vector<std::string>{} : classNames(o.task);
    const int K = static_cast<int>(classes.size());
    auto split = splitByPatient(samples, o.seed);
    std::vector<std::size_t> part[3];
    for (std::size_t i = 0; i < samples.size(); ++i) part[split[i]].push_back(i);
    if (part[0].empty()) {
      em.error("no training samples (" + std::string(pairs ? "paired ECG + echo studies" : (ssl ? "ECGs" : "labelled ECGs")) +
               ") in the database");
      return 1;
    }
    const int bs = std::max(1, o.batchSize);
    if (baseline && pretrain) {
      em.error("the ecg-features baseline is for lvef / shd");
      return 2;
    }
    const bool trains = !(knnMethod && !pretrain);
    const int epochs = trains ? std::max(0, o.epochs) : 0;
    const int stepsPerEpoch = trains ? static_cast<int>((part[0].size() + bs - 1) / bs) : 0;

    // ---- model
    Bundle base;
    std::string parent;
    std::string baseDir;
    std::string videoParent;  // pretrain --video-model
    if (!o.baseModel.empty()) {
      std::string id = o.baseModel, ver;
      if (auto c = id.find(':'); c != std::string::npos) {
        ver = id.substr(c + 1);
        id = id.substr(0, c);
      }
      auto row = findModel(db, id, ver);
      if (!row) {
        em.error("base model " + o.baseModel + " is not registered");
        return 2;
      }
      baseDir = jsonString(row->cardJson, "bundle_dir").value_or("");
      if (baseDir.empty()) {
        em.error("base model " + o.baseModel + " is not an encoder bundle");
        return 2;
      }
      const bool registered = !row->weightsHash.empty() && row->weightsHash.find('+') == std::string::npos;
      base = loadBundle(baseDir, !registered);
      if (registered && base.hash != row->weightsHash) {
        em.error("the weights of base model " + o.baseModel + " in " + baseDir + " changed since they were registered (" +
                 base.hash.substr(0, 12) + " != " + row->weightsHash.substr(0, 12) + ")");
        return 1;
      }
      parent = row->modelId + ":" + row->version;
    } else if (baseline) {
      base = freshBundle(1, 16, o.seed);  // unused placeholder (no network in the baseline)
      parent = "";
    } else if (pretrain && o.modelDir.empty()) {
      base = freshBundle(o.ecgDepth, o.videoSize, o.seed);
      parent = "";
    } else {
      // --model ID:VERSION|DIR, else the database's embedding model (active echo2ecg-pretrain, else bundled).
      auto m = resolveEmbeddingModel(db, o.modelDir);
      base = loadEmbeddingBundle(m);
      requireEcgSide(base, m.label());
      if (!o.videoModel.empty() && base.role != "ecg-encoder") {
        em.error("--video-model with --model needs an ECG-only encoder (train --task ecg-pretrain); " + m.label() +
                 " already has its echo side");
        return 2;
      }
      baseDir = m.dir;
      parent = m.label();
    }
    if (pairs && !o.videoModel.empty()) {
      // The video encoder (and its clip geometry) of another bundle, e.g. echo2ecg-echo-pretrain; the
      // view standardisation is re-estimated on this run's training loops.
      auto vm = resolveEmbeddingModel(db, o.videoModel);
      Bundle vb = loadEmbeddingBundle(vm);
      if (vb.role == "ecg-encoder") {
        em.error("--video-model " + vm.label() + " is an ECG-only encoder (train --task ecg-pretrain): its video "
                 "encoder is untrained; take the video encoder of an echo-pretrain bundle, a converted EchoPrime "
                 "bundle or an Echo2ECG model (an ECG-only encoder goes in --model)");
        return 2;
      }
      base.video = vb.video;
      base.spec = vb.spec;
      base.videoEncoder = vb.videoEncoder;
      base.videoFp32 = vb.videoFp32;
      base.viewMean = torch::Tensor();
      base.viewStd = torch::Tensor();
      base.rehash();
      videoParent = vm.label() + " (" + vm.dir + ")";
    }
    const std::string baseHash = base.hash;  // the frozen encoder of a linear / kNN head
    base.to(device);

    // split counts
    RunRecord rec{o, o.task};
    rec.classes = classes;
    rec.splitJson = splitPartsJson([&](int p) {
      std::set<std::int64_t> pats;
      std::vector<int> cc(static_cast<std::size_t>(std::max(K, 0)), 0);
      for (auto i : part[p]) {
        pats.insert(samples[i].patientRowId);
        if (labels[i] >= 0 && labels[i] < K) ++cc[static_cast<std::size_t>(labels[i])];
      }
      return "\"patients\":" + std::to_string(pats.size()) + ",\"samples\":" + std::to_string(part[p].size()) +
             (K > 0 ? ",\"class_counts\":" + jints(cc) : "");
    });
    rec.synthetic = anySyntheticStudy(db);

    // resume?
    std::int64_t startEpoch = 0;
    const bool resumed = o.resume && fs::exists(ckptPath);

    // trainables
    const bool trainNet = pretrain || o.method == "full";
    const bool trainAmp = amp && trainNet;  // linear / kNN heads always train in fp32
    rec.device = deviceName;
    rec.precision = trainAmp ? "bf16" : "fp32";
    rec.method = pairs ? "contrastive" : (ssl ? "ecg-contrastive" : o.method);
    model::LinearHead head{nullptr};
    const int64_t featDim = baseline ? 30 : 512;
    if (!pretrain && !knnMethod) {
      torch::manual_seed(o.seed + 1);
      head = model::LinearHead(featDim, K);
      head->to(device);
    }
    Trainables tr(trainNet ? base.net : model::Echo2Ecg(nullptr), head);
    const double lr = o.lr > 0 ? o.lr : (pretrain ? 3e-4 : (o.method == "full" ? 1e-4 : 1e-2));
    const double wd = o.weightDecay >= 0 ? o.weightDecay : (pretrain ? 1e-7 : 1e-4);
    // Layer-wise lr decay (model::llrdParamGroups, as OTiS / Echo2ECG): ECG block i of D trains at
    // lr * decay^(D - i), the patch / positional embeddings at lr * decay^(D + 1), the rest at lr.
    std::vector<double> groupScale;
    std::unique_ptr<torch::optim::AdamW> opt;
    if (trains) {
      auto llrd = model::makeLlrdAdamW(*tr, lr, wd, trainNet ? o.layerDecay : 1.0, trainNet ? base.ecgCfg.depth : 0,
                                       "net.ecg_encoder.");
      for (auto& g : llrd.groups) groupScale.push_back(g.lrScale);
      opt = std::move(llrd.optimizer);
    }
    if (resumed) startEpoch = loadCkpt(ckptPath, *tr, opt.get());

    rec.epochs = epochs;
    rec.stepsPerEpoch = stepsPerEpoch;
    rec.batchSize = bs;
    rec.lr = lr;
    rec.weightDecay = wd;
    em.line(rec.startEvent(startEpoch, resumed));
    em.text("train " + o.task + " (" + rec.method + "): " + std::to_string(part[0].size()) + " train / " +
            std::to_string(part[1].size()) + " val / " + std::to_string(part[2].size()) + " test samples on " +
            deviceName);
    if (o.dryRun) return 0;
    fs::create_directories(o.runDir);

    // ---- inputs
    // ECG inputs (raw tensors) when the network is trained; aligned features otherwise.
    std::vector<std::vector<float>> ecgIn(samples.size());
    std::vector<std::vector<float>> feats(samples.size());
    std::vector<torch::Tensor> viewSets(samples.size());
    const bool needData = !(pretrain && epochs == 0);  // a fresh bundle needs no data
    if (baseline) {
      for (std::size_t i = 0; i < samples.size(); ++i) {
        if (cancel.requested()) break;
        try {
          feats[i] = handcraftedEcgFeatures(samples[i].ecgPath);
        } catch (const std::exception& e) {
          em.text(std::string("skipping ECG: ") + e.what());
        }
      }
    } else if (trainNet && needData) {
      for (std::size_t i = 0; i < samples.size(); ++i) {
        if (cancel.requested()) break;
        try {
          ecgIn[i] = ecgInputFromFile(samples[i].ecgPath);
        } catch (const std::exception& e) {
          em.text(std::string("skipping ECG: ") + e.what());
        }
      }
    }
    if (pairs && needData) {
      EchoCache ec{db, base};
      std::vector<std::pair<std::int64_t, std::string>> loops;
      for (auto& s : samples)
        for (std::size_t j = 0; j < s.echoInstanceIds.size(); ++j) loops.emplace_back(s.echoInstanceIds[j], s.echoPaths[j]);
      ec.ensureViews(loops, 8, cancel);
      // the aggregator's limit (128 views, as the reference): the first ones in loop order, as embed does
      const std::size_t maxViews =
          base.net ? static_cast<std::size_t>(base.net->echo_aggregator->maxViews) : std::size_t{128};
      for (std::size_t i = 0; i < samples.size(); ++i) {
        std::vector<torch::Tensor> vs;
        for (auto id : samples[i].echoInstanceIds)
          if (ec.views.count(id) && vs.size() < maxViews) vs.push_back(torch::tensor(ec.views[id]));
        if (!vs.empty()) viewSets[i] = torch::stack(vs);
      }
      if (!base.viewMean.defined()) {  // standardisation statistics from the training loops
        std::vector<torch::Tensor> tv;
        for (auto i : part[0])
          if (viewSets[i].defined()) tv.push_back(viewSets[i]);
        if (!tv.empty()) {
          auto all = torch::cat(tv);
          base.viewMean = all.mean(0);
          base.viewStd = all.size(0) > 1 ? all.std(0).clamp_min(1e-6) : torch::ones({all.size(1)});
        }
      }
      for (auto& v : viewSets)
        if (v.defined()) v = base.normViews(v);
    } else if (!trainNet && !baseline) {
      EcgFeatureCache fc{db, base, {}, 0, 0, {}};
      fc.ensure(samples, 16, cancel);
      for (std::size_t i = 0; i < samples.size(); ++i)
        if (fc.byInstance.count(samples[i].ecgInstanceId)) feats[i] = fc.byInstance[samples[i].ecgInstanceId];
    }
    // drop unusable samples from the parts
    for (auto& p : part) {
      if (!needData) break;
      std::vector<std::size_t> keep;
      for (auto i : p) {
        bool ok = trainNet ? !ecgIn[i].empty() : !feats[i].empty();
        if (pairs) ok = ok && viewSets[i].defined();
        if (ok) keep.push_back(i);
      }
      p = keep;
    }
    if (part[0].empty() && needData) {
      em.error("no usable training samples");
      return 1;
    }
    if (cancel.requested()) {
      em.line("{\"event\":\"cancelled\",\"epoch\":" + std::to_string(startEpoch) + ",\"checkpoint\":null}");
      return 130;
    }

    // feature standardisation (frozen features) / scaling (trained encoder)
    torch::Tensor fmean = torch::zeros({featDim}), fstd = torch::full({featDim}, 1.0 / std::sqrt(512.0));
    if (!pretrain && !trainNet) {
      std::vector<std::vector<float>> tf;
      for (auto i : part[0]) tf.push_back(feats[i]);
      auto t = featTensor(tf);
      fmean = t.mean(0);
      fstd = t.size(0) > 1 ? t.std(0).clamp_min(1e-6) : torch::ones({featDim});
    }
    fmean = fmean.to(device);
    fstd = fstd.to(device);

    auto ecgBatch = [&](const std::vector<std::size_t>& idx) {
      std::vector<std::vector<float>> xs;
      for (auto i : idx) xs.push_back(ecgIn[i]);
      return ecgBatchTensor(xs).to(device);
    };
    auto viewBatch = [&](const std::vector<std::size_t>& idx) {
      int64_t V = 1;
      for (auto i : idx) V = std::max<int64_t>(V, viewSets[i].size(0));
      auto v = torch::zeros({static_cast<int64_t>(idx.size()), V, 512});
      auto valid = torch::zeros({static_cast<int64_t>(idx.size()), V}, torch::kBool);
      for (std::size_t j = 0; j < idx.size(); ++j) {
        auto n = viewSets[idx[j]].size(0);
        v[static_cast<int64_t>(j)].narrow(0, 0, n).copy_(viewSets[idx[j]]);
        valid[static_cast<int64_t>(j)].narrow(0, 0, n).fill_(true);
      }
      return std::make_pair(v.to(device), valid.to(device));
    };
    // logits of the classifier on a batch
    auto classify = [&](const std::vector<std::size_t>& idx, bool training) {
      torch::Tensor x;
      if (trainNet) {
        auto in = ecgBatch(idx);
        if (training) in = model::augmentEcg(in, model::EcgAugmentConfig{});
        x = base.net->embedEcg(in);
      } else {
        std::vector<std::vector<float>> f;
        for (auto i : idx) f.push_back(feats[i]);
        x = featTensor(f).to(device);
      }
      return head->forward((x - fmean) / fstd);
    };
    auto labelTensor = [&](const std::vector<std::size_t>& idx) {
      std::vector<int64_t> y;
      for (auto i : idx) y.push_back(labels[i]);
      return torch::tensor(y).to(device);
    };
    auto lossOf = [&](const std::vector<std::size_t>& idx, bool training) {
      if (ssl) {  // two independently augmented views of each ECG, also for the validation loss
        auto in = ecgBatch(idx);
        const model::EcgAugmentConfig aug{};
        return model::clipLoss(base.net->embedEcg(model::augmentEcg(in, aug)),
                               base.net->embedEcg(model::augmentEcg(in, aug)), o.temperature, 0.5);
      }
      if (pretrain) {
        auto in = ecgBatch(idx);
        if (training) in = model::augmentEcg(in, model::EcgAugmentConfig{});
        auto [v, valid] = viewBatch(idx);
        return model::clipLoss(base.net->embedEcg(in), base.net->embedEcho(v, valid), o.temperature, 0.5);
      }
      return torch::nn::functional::cross_entropy(classify(idx, training), labelTensor(idx));
    };
    auto predictScores = [&](const std::vector<std::size_t>& items, std::vector<int>& truth) {
      Scores sc;
      torch::NoGradGuard ng;
      if (trainNet) base.net->eval();
      head->eval();
      for (auto& bidx : chunks(items, 32)) {
        auto p = torch::softmax(classify(bidx, false), 1).to(torch::kCPU).to(torch::kFloat64).contiguous();
        for (int64_t i = 0; i < p.size(0); ++i) sc.emplace_back(p[i].data_ptr<double>(), p[i].data_ptr<double>() + K);
        for (auto i : bidx) truth.push_back(labels[i]);
      }
      return sc;
    };
    auto evalLoss = [&](const std::vector<std::size_t>& items) {
      if (items.empty() || (pretrain && items.size() < 2)) return std::nan("");
      torch::NoGradGuard ng;
      tr->eval();
      double s = 0;
      int n = 0;
      for (auto& bidx : chunks(items, pretrain ? static_cast<std::size_t>(bs) : 64)) {
        if (pretrain && bidx.size() < 2) continue;
        s += lossOf(bidx, false).item<double>() * static_cast<double>(bidx.size());
        n += static_cast<int>(bidx.size());
      }
      return n ? s / n : std::nan("");
    };

    // ---- epochs
    // Heads (linear / full) keep the epoch with the lowest validation loss (best.ckpt, kept across
    // --resume), not simply the last one; pretraining keeps its last epoch.
    const bool selectBest = !pretrain && !part[1].empty();
    EpochLoop loop{em, *tr};
    loop.opt = opt.get();
    loop.groupScale = groupScale;
    loop.runDir = o.runDir;
    loop.epochs = epochs;
    loop.stepsPerEpoch = stepsPerEpoch;
    loop.batchSize = bs;
    loop.minBatch = pretrain ? 2 : 1;  // the contrastive loss needs two pairs
    loop.startEpoch = startEpoch;
    loop.seed = o.seed;
    loop.lr = lr;
    loop.cosine = trainNet;  // warm-up + cosine for an encoder, constant for a linear head
    loop.clipNorm = trainNet ? 1.0 : 0.0;
    loop.selectBest = selectBest;
    loop.amp = trainAmp;
    loop.device = device;
    loop.loss = [&](const std::vector<std::size_t>& bidx) { return lossOf(bidx, true); };
    loop.valLoss = [&] { return evalLoss(part[1]); };
    if (!pretrain && !part[1].empty())
      loop.valMetrics = [&] {
        std::vector<int> vt;
        auto vs = predictScores(part[1], vt);
        return valMetricsJson(vt, vs);
      };
    if (!loop.run(part[0], cancel)) return 130;

    // ---- save, test, register
    loop.restoreBest();
    std::string extra;  // done-event fields of a classifier
    rec.parent = parent;
    rec.baseDir = baseDir;
    if (pretrain) {
      rec.modelId = ssl ? "echo2ecg-ecg-pretrain" : "echo2ecg-pretrain";
      rec.version = nextVersion(db, rec.modelId);
      base.role = ssl ? "ecg-encoder" : "";  // pretrain from an ECG-only encoder trains its echo side
      base.modelId = rec.modelId;
      base.version = rec.version;
      base.to(torch::kCPU);
      saveBundle(base, o.runDir);
      rec.weightsPath = (fs::path(o.runDir) / "echo2ecg.pt").string();
      rec.bundleDir = o.runDir;
      rec.weightsHash = base.hash;
      const double testLoss = needData ? evalLoss(part[2]) : std::nan("");
      rec.testJson = std::string("{\"") + (ssl ? "ssl_clip_loss" : "clip_loss") + "\":" + jnum(testLoss) + "}";
    } else {
      rec.modelId = baseline ? "ecg-baseline-" + o.task : taskModelId(o.task);
      rec.version = nextVersion(db, rec.modelId);
      Predictor pr;
      pr.method = o.method;
      const std::string weightsPath = (fs::path(o.runDir) / (o.task + "_head.pt")).string();
      rec.weightsPath = weightsPath;
      std::vector<int> tt;
      Scores ts;
      if (knnMethod) {
        std::vector<std::vector<float>> tf;
        std::vector<int> tl;
        for (auto i : part[0]) {
          tf.push_back(feats[i]);
          tl.push_back(labels[i]);
        }
        if (baseline) {  // Euclidean kNN on z-scored hand-crafted features
          auto t = featTensor(tf);
          auto mu = t.mean(0), sdv = t.std(0).clamp_min(1e-6);
          for (auto& f : feats)
            if (!f.empty()) f = rowVec((torch::tensor(f) - mu) / sdv);
          tf.clear();
          for (auto i : part[0]) tf.push_back(feats[i]);
        }
        model::TensorMap m{{"knn_features", featTensor(tf)},
                           {"knn_labels", torch::tensor(std::vector<int64_t>(tl.begin(), tl.end()))},
                           {"num_classes", torch::tensor(static_cast<int64_t>(K))}};
        model::saveTensorArchive(weightsPath + ".tmp", m);
        fs::rename(weightsPath + ".tmp", weightsPath);
        model::KnnClassifier knn(5);
        knn.fit(tf, tl, K);
        std::vector<std::vector<float>> xf;
        for (auto i : part[2]) {
          xf.push_back(feats[i]);
          tt.push_back(labels[i]);
        }
        ts = knn.predictProba(xf);
        rec.weightsHash = model::weightsHash(m);
      } else {
        head->to(torch::kCPU);
        pr.head = head;
        pr.mean = fmean.to(torch::kCPU);
        pr.sd = fstd.to(torch::kCPU);
        saveHead(weightsPath, pr);
        head->to(device);
        ts = predictScores(part[2], tt);
        rec.weightsHash = model::weightsHash(model::loadTensorArchive(weightsPath));
        if (o.method == "full") {
          base.modelId = rec.modelId + "-encoder";
          base.version = rec.version;
          base.to(torch::kCPU);
          saveBundle(base, (fs::path(o.runDir) / "encoder").string());
          extra = ",\"encoder_dir\":" + jstr((fs::path(o.runDir) / "encoder").string());
          rec.weightsHash = base.hash + "+" + rec.weightsHash;
        }
      }
      if (!tt.empty()) {
        auto mo = metricsWithCi(tt, ts, 200);
        rec.testJson = mo.json;
        extra += ",\"roc\":" + rocJson(tt, ts, classes) + ",\"confusion\":" + confusionJson(tt, ts, K);
      }
    }
    rec.finish(
        db, em,
        rec.card(!pretrain && !baseline && o.method != "full" ? ",\"base_weights_hash\":" + jstr(baseHash) : "",
                 ",\"filter\":" + jstr(o.filterText) + ",\"label_key\":" + jstr(pretrain ? "" : labelKey),
                 (trainNet ? ",\"layer_decay\":" + jnum(o.layerDecay) : std::string()) +
                     (selectBest ? ",\"selected_epoch\":" + std::to_string(loop.bestEpoch) +
                                       ",\"selection\":\"lowest val loss\""
                                 : std::string()) +
                     (pretrain ? ",\"temperature\":" + jnum(o.temperature) + ",\"video_model\":" + jstr(videoParent)
                               : std::string())),
        extra);
    return 0;
  } catch (const std::exception& e) {
    em.error(e.what());
    return 1;
  }
}

// ------------------------------------------------------------------ evaluate ----

int runEvaluate(const EvaluateOptions& o) {
  setThreads(0);
  db::Database db(o.dbPath);
  auto pr = loadPredictor(db, o.task, o.model, o.modelDir);
  auto all = loadSamples(db);
  std::vector<Sample> samples;
  std::vector<int> labels;
  for (auto& s : all)
    if (int y = labelFor(s, o.task); y >= 0) {
      samples.push_back(s);
      labels.push_back(y);
    }
  const std::uint64_t seed = o.seed ? o.seed : pr.seed;
  auto split = splitByPatient(samples, seed);
  std::vector<Sample> test;
  std::vector<int> truth;
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (split[i] == 2) {
      test.push_back(samples[i]);
      truth.push_back(labels[i]);
    }
  if (test.empty()) throw std::runtime_error("no labelled test samples");
  EcgFeatureCache fc{db, pr.base, {}, 0, 0, {}};
  fc.ensure(test, 16, {});
  std::vector<std::vector<float>> feats;
  std::vector<int> t2;
  for (std::size_t i = 0; i < test.size(); ++i)
    if (fc.byInstance.count(test[i].ecgInstanceId)) {
      feats.push_back(fc.byInstance[test[i].ecgInstanceId]);
      t2.push_back(truth[i]);
    }
  auto sc = pr.scores(feats);
  auto m = metricsWithCi(t2, sc, o.bootstrap);
  std::printf("Model %s version %s (task %s, method %s), test split (seed %llu): %zu ECGs\n", pr.modelId.c_str(),
              pr.version.c_str(), o.task.c_str(), pr.method.c_str(), static_cast<unsigned long long>(seed), t2.size());
  for (auto& name : {"accuracy", "balanced_accuracy", "f1", "auroc", "auprc"}) {
    auto& c = m.ci[name];
    std::printf("  %-18s %.3f  (95%% CI %.3f-%.3f)\n", name, c.value, c.lower, c.upper);
  }
  std::printf("JSON %s\n", m.json.c_str());
  return 0;
}

// ------------------------------------------------------------------ predict ----

int runPredict(const PredictOptions& o) {
  setThreads(0);
  db::Database db(o.dbPath);
  auto all = loadSamples(db);
  std::vector<Sample> chosen;
  if (o.ids.empty()) {
    chosen = all;
  } else {
    for (auto& id : o.ids) {
      std::optional<std::int64_t> row;
      char* end = nullptr;
      long long v = std::strtoll(id.c_str(), &end, 10);
      if (end && *end == '\0') row = v;
      else if (auto inst = db.instanceByUid(id)) row = inst->id;
      bool found = false;
      for (auto& s : all)
        if (row && s.ecgInstanceId == *row) {
          chosen.push_back(s);
          found = true;
        }
      if (!found) throw std::invalid_argument("no ECG instance " + id);
    }
  }
  int stored = 0;
  for (const std::string task : {"lvef", "shd"}) {
    Predictor pr;
    try {
      pr = loadPredictor(db, task, "", o.modelDir);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "%s: %s\n", task.c_str(), e.what());
      continue;
    }
    EcgFeatureCache fc{db, pr.base, {}, 0, 0, {}};
    fc.ensure(chosen, 16, {});
    for (auto& err : fc.errors) std::fprintf(stderr, "skipped %s\n", err.c_str());
    const auto classes = classNames(task);
    for (auto& s : chosen) {
      if (!fc.byInstance.count(s.ecgInstanceId)) continue;
      auto sc = pr.scores({fc.byInstance[s.ecgInstanceId]});
      db::PredictionRow row;
      row.instanceRowId = s.ecgInstanceId;
      row.modelId = pr.modelId;
      row.modelVersion = pr.version;
      row.weightsHash = pr.weightsHash;
      row.task = task;
      std::string line;
      for (std::size_t c = 0; c < classes.size(); ++c) {
        row.probabilities[classes[c]] = sc[0][c];
        char b[64];
        std::snprintf(b, sizeof b, " %s=%.3f", classes[c].c_str(), sc[0][c]);
        line += b;
      }
      db.addPrediction(row);
      ++stored;
      std::printf("%lld %s %s %s:%s%s\n", static_cast<long long>(s.ecgInstanceId), s.patientId.c_str(), task.c_str(),
                  pr.modelId.c_str(), pr.version.c_str(), line.c_str());
    }
  }
  std::printf("%d predictions stored (not clinically validated; synthetic-data models unless you loaded real weights)\n",
              stored);
  return stored > 0 || chosen.empty() ? 0 : 1;
}

// ------------------------------------------------------------------ retrieve ----

namespace {
std::string modelJson(const EmbeddingModel& m) {
  return "{\"model_id\":" + jstr(m.modelId) + ",\"version\":" + jstr(m.version) + ",\"key\":" + jstr(m.label()) +
         ",\"weights_hash\":" + jstr(m.weightsHash) + ",\"preprocessing\":" + jstr(kPreprocVersion) +
         ",\"source\":" + jstr(m.sourceText()) + "}";
}
}  // namespace

namespace {
// Retrieval metrics of a [queries x targets] similarity matrix with LVEF-based relevance (within 0.5 SD
// of the targets' LVEF, as the reference), printed as text + JSON or as one JSON object.
// Targets of the query's own patient are left out of its ranking and relevance unless
// o.includeSamePatient (as single-query retrieval does).
int printRetrievalEvaluation(const std::vector<float>& sim, const std::vector<double>& qv, const std::vector<double>& tv,
                             const std::vector<std::int64_t>& qPatient, const std::vector<std::int64_t>& tPatient,
                             const RetrieveOptions& o, const std::string& modelJsonText, const std::string& modelText,
                             long long missing, const std::string& missingText) {
  auto rel = phenotypeRelevance(qv, tv, 0.5);
  auto rank = rankBySimilarity(sim, static_cast<int>(qv.size()), static_cast<int>(tv.size()));
  if (!o.includeSamePatient)
    for (std::size_t q = 0; q < rank.size(); ++q) {
      auto own = [&](int t) { return tPatient[static_cast<std::size_t>(t)] == qPatient[q]; };
      rank[q].erase(std::remove_if(rank[q].begin(), rank[q].end(), own), rank[q].end());
      rel[q].erase(std::remove_if(rel[q].begin(), rel[q].end(), own), rel[q].end());
    }
  auto m = computeRetrievalMetrics(rank, rel, {1, 3, 5, 10});
  std::string j = "{\"mAP\":" + jnum(m.mAP) + ",\"median_rank\":" + jnum(m.medianRank) +
                  ",\"queries\":" + std::to_string(m.queries) + ",\"targets\":" + std::to_string(tv.size());
  for (auto& [k, v] : m.recallAt) j += ",\"recall@" + std::to_string(k) + "\":" + jnum(v);
  for (auto& [k, v] : m.precisionAt) j += ",\"precision@" + std::to_string(k) + "\":" + jnum(v);
  j += ",\"model\":" + modelJsonText + ",\"missing_studies\":" + std::to_string(missing) + "}";
  if (o.json) {
    std::printf("%s\n", j.c_str());
    return 0;
  }
  std::printf("Retrieval (ECG -> echo study, %s, test split seed %llu): %zu queries, %zu targets, "
              "similar = LVEF within 0.5 SD\n",
              modelText.c_str(), static_cast<unsigned long long>(o.seed), qv.size(), tv.size());
  if (!missingText.empty()) std::printf("Missing embeddings: %s\n", missingText.c_str());
  std::printf("%s\n", formatRetrievalMetrics(m).c_str());
  std::printf("JSON %s\n", j.c_str());
  return 0;
}

// Paired-ECG retrieval (the ECG-only baselines): each test echo study is represented by its own
// paired ECG's vector z (one per study, the first ECG), and every test ECG ranks the test studies by
// the cosine similarity of its vector to theirs. No shared space is needed, so any ECG-only
// representation gets a retrieval mAP on the same test split and relevance as the aligned models.
int evaluatePairedEcgRetrieval(const std::vector<Sample>& lab, const std::vector<int>& split,
                               const std::function<bool(std::size_t, std::vector<float>&)>& vecOf,
                               const RetrieveOptions& o, const std::string& modelJsonText, const std::string& modelText) {
  std::vector<std::vector<float>> z;
  std::vector<double> lv;
  std::vector<std::int64_t> pat;
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < lab.size(); ++i) {
    if (split[i] != 2 || seen.count(lab[i].studyRowId)) continue;
    std::vector<float> v;
    if (!vecOf(i, v) || v.empty()) continue;
    seen.insert(lab[i].studyRowId);
    z.push_back(std::move(v));
    lv.push_back(lab[i].lvefPercent);
    pat.push_back(lab[i].patientRowId);
  }
  if (z.size() < 2) throw std::runtime_error("paired-ECG retrieval needs at least two test studies with a usable paired ECG");
  auto zt = torch::nn::functional::normalize(featTensor(z), torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto sm = torch::mm(zt, zt.t()).contiguous();
  std::vector<float> sim(sm.data_ptr<float>(), sm.data_ptr<float>() + sm.numel());
  return printRetrievalEvaluation(sim, lv, lv, pat, pat, o, modelJsonText, modelText, 0, "");
}

// Labelled paired samples and their patient split (the split every retrieval evaluation uses).
struct LabelledSplit {
  std::vector<Sample> lab;
  std::vector<int> split;  // per sample: 0 train, 1 val, 2 test
  std::vector<Sample> test() const {
    std::vector<Sample> t;
    for (std::size_t i = 0; i < lab.size(); ++i)
      if (split[i] == 2) t.push_back(lab[i]);
    return t;
  }
};
LabelledSplit labelledPairedSplit(db::Database& db, std::uint64_t seed) {
  LabelledSplit ls;
  for (auto& s : loadSamples(db, "", true))
    if (std::isfinite(s.lvefPercent)) ls.lab.push_back(s);
  ls.split = splitByPatient(ls.lab, seed);
  return ls;
}

// ECG-only retrieval baseline (no network): hand-crafted ECG features (handcraftedEcgFeatures,
// z-scored with training-split statistics) of query and target ECGs.
int runRetrieveEcgFeatureBaseline(const RetrieveOptions& o) {
  db::Database db(o.dbPath);
  const auto ls = labelledPairedSplit(db, o.seed);
  const auto& lab = ls.lab;
  const auto& split = ls.split;
  std::vector<std::vector<float>> f(lab.size());
  std::vector<std::vector<float>> train;
  for (std::size_t i = 0; i < lab.size(); ++i) {
    try {
      f[i] = handcraftedEcgFeatures(lab[i].ecgPath);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "skipping ECG: %s\n", e.what());
      continue;
    }
    if (split[i] == 0) train.push_back(f[i]);
  }
  if (train.size() < 2) throw std::runtime_error("the ecg-features retrieval baseline needs labelled paired studies in the training split");
  auto t = featTensor(train);
  auto mu = t.mean(0), sdv = t.std(0).clamp_min(1e-6);
  return evaluatePairedEcgRetrieval(
      lab, split,
      [&](std::size_t i, std::vector<float>& v) {
        if (f[i].empty()) return false;
        v = rowVec((torch::tensor(f[i]) - mu) / sdv);
        return true;
      },
      o, "{\"method\":\"ecg-features\"}", "ECG-only baseline: hand-crafted features of the paired ECGs");
}

// The same with a model's ECG embeddings (any model with an ECG side, ECG-only encoders included):
// how far an ECG representation alone ranks studies, without the echo side of the model.
int runRetrievePairedEcgEmbedding(const RetrieveOptions& o) {
  setThreads(0);
  db::Database db(o.dbPath);
  EmbeddingModel em = resolveEmbeddingModel(db, o.model);
  Bundle b = loadEmbeddingBundle(em);
  requireEcgSide(b, em.label());
  const auto ls = labelledPairedSplit(db, o.seed);
  const auto& lab = ls.lab;
  const auto& split = ls.split;
  EcgFeatureCache fc{db, b, {}, 0, 0, {}};
  fc.ensure(ls.test(), 16, {});
  for (auto& e : fc.errors) std::fprintf(stderr, "skipping ECG: %s\n", e.c_str());
  const std::string mj = modelJson(em);
  return evaluatePairedEcgRetrieval(
      lab, split,
      [&](std::size_t i, std::vector<float>& v) {
        auto it = fc.byInstance.find(lab[i].ecgInstanceId);
        if (it == fc.byInstance.end()) return false;
        v = it->second;
        return true;
      },
      o, "{\"method\":\"paired-ecg\",\"model\":" + mj + "}",
      "ECG embeddings of the paired ECGs (no echo side), " + em.describe());
}

}  // namespace

int runRetrieve(const RetrieveOptions& o) {
  const bool pairedEcg = o.method == "ecg-features" || o.method == "paired-ecg";
  if (!o.method.empty() && o.method != "embedding" && !pairedEcg)
    throw std::invalid_argument("--method must be embedding, ecg-features or paired-ecg");
  if (pairedEcg && !o.evaluate)
    throw std::invalid_argument("--method " + o.method + " is an evaluation baseline: use it with --evaluate");
  if (o.method == "ecg-features") return runRetrieveEcgFeatureBaseline(o);
  if (o.method == "paired-ecg") return runRetrievePairedEcgEmbedding(o);
  setThreads(0);
  db::Database db(o.dbPath);
  EmbeddingModel em = resolveEmbeddingModel(db, o.model);
  Bundle b = loadEmbeddingBundle(em);  // checks the weights; computes the query ECG's vector if missing
  requireEcgSide(b, em.label());
  requireEchoSide(b, em.label());
  auto es = listEchoStudies(db);
  auto samples = loadSamples(db);
  EcgFeatureCache fc{db, b, {}, 0, 0, {}};
  std::map<std::int64_t, double> lvefOfStudy;
  for (auto& s : samples) lvefOfStudy[s.studyRowId] = s.lvefPercent;

  // Targets: the STORED study vectors of exactly this model id, version, weights hash and
  // preprocessing. Never computed here and never another version's (stale) rows.
  std::map<std::int64_t, std::vector<float>> studyVec;
  for (auto& s : db.embeddingsFor(em.studyKey(), em.weightsHash, kPreprocVersion))
    if (s.key.studyRowId && es.loops.count(*s.key.studyRowId)) studyVec[*s.key.studyRowId] = std::move(s.vec);
  // A vector made from other loops than its study has now (loops imported or deleted since) is
  // searched as it is, with a warning to re-embed.
  long long outdated = 0;
  for (auto study : outdatedStudyVectors(db, em.studyKey(), em.weightsHash)) outdated += studyVec.count(study);
  const long long echoStudies = static_cast<long long>(es.loops.size());
  const long long missing = echoStudies - static_cast<long long>(studyVec.size());
  const long long stale = staleEmbeddingRows(db, em, false);
  const std::string embedCmd = "echo2ecg embed --db " + shellWord(o.dbPath) + (o.model.empty() ? "" : " --model " + shellWord(o.model));
  if (echoStudies == 0) throw std::runtime_error("no echo studies in " + o.dbPath);
  if (studyVec.empty()) {
    std::string msg = "missing embeddings: none of the " + std::to_string(echoStudies) +
                      " echo studies has an embedding of " + em.describe() +
                      (stale ? " (the " + std::to_string(stale) + " stored rows of other versions are never used)" : "") +
                      "; run `" + embedCmd + "` (or the workstation's re-embed job) first";
    if (o.json)
      std::printf("{\"error\":\"missing_embeddings\",\"message\":%s,\"model\":%s,\"echo_studies\":%lld,"
                  "\"missing_studies\":%lld,\"stale_rows_ignored\":%lld}\n",
                  jstr(msg).c_str(), modelJson(em).c_str(), echoStudies, missing, stale);
    throw std::runtime_error(msg);
  }
  // Of the missing studies, those none of whose loops decoded when embed last tried: re-embedding
  // does not help (the embed errors name the files).
  const long long undecodable = missing > 0 ? db.undecodableEchoStudies(em.studyKey(), em.weightsHash, kPreprocVersion) : 0;
  std::string missingText;
  if (missing > 0) {
    missingText = std::to_string(missing) + " of " + std::to_string(echoStudies) + " echo studies have no embedding of " +
                  em.label() + " and are not searched";
    if (undecodable > 0)
      missingText += " (" + std::to_string(undecodable) + " of them with no loop that decodes in this build; `echo2ecg " +
                     "embed` names the files)";
    if (missing > undecodable) missingText += ": run `" + embedCmd + "`";
  }
  if (missing > 0) std::fprintf(stderr, "warning: missing embeddings: %s\n", missingText.c_str());
  if (outdated > 0)
    std::fprintf(stderr,
                 "warning: outdated embeddings: %lld echo stud%s had loops imported or deleted since %s embedded; "
                 "%s searched with the loops %s had then: run `%s`\n",
                 outdated, outdated == 1 ? "y" : "ies", outdated == 1 ? "it was" : "they were",
                 outdated == 1 ? "it is" : "they are", outdated == 1 ? "it" : "they", embedCmd.c_str());

  if (o.evaluate) {
    const auto test = labelledPairedSplit(db, o.seed).test();
    fc.ensure(test, 16, {});
    std::vector<std::int64_t> targets;
    std::set<std::int64_t> seen;
    for (auto& s : test)
      if (studyVec.count(s.studyRowId) && seen.insert(s.studyRowId).second) targets.push_back(s.studyRowId);
    std::vector<const Sample*> queries;
    for (auto& s : test)
      if (fc.byInstance.count(s.ecgInstanceId)) queries.push_back(&s);
    if (queries.empty() || targets.size() < 2)
      throw std::runtime_error("retrieval evaluation needs test ECGs and at least two test echo studies with embeddings of " +
                               em.label() + "; the test split (seed " + std::to_string(o.seed) + ") has " +
                               std::to_string(queries.size()) + " ECG(s) and " + std::to_string(targets.size()) +
                               " stud" + (targets.size() == 1 ? "y" : "ies") +
                               (missing > 0 ? " (" + missingText + ")" : std::string(": the database needs more paired patients")));
    std::vector<float> sim(queries.size() * targets.size());
    std::vector<double> qv, tv;
    for (std::size_t q = 0; q < queries.size(); ++q) {
      auto& e = fc.byInstance[queries[q]->ecgInstanceId];
      qv.push_back(queries[q]->lvefPercent);
      for (std::size_t t = 0; t < targets.size(); ++t) {
        auto& f = studyVec[targets[t]];
        double d = 0, na = 0, nb = 0;
        for (std::size_t k = 0; k < e.size(); ++k) {
          d += e[k] * f[k];
          na += e[k] * e[k];
          nb += f[k] * f[k];
        }
        sim[q * targets.size() + t] = static_cast<float>(d / std::sqrt(std::max(1e-12, na * nb)));
      }
    }
    for (auto t : targets) tv.push_back(lvefOfStudy[t]);
    std::vector<std::int64_t> qp, tp;
    for (auto* q : queries) qp.push_back(q->patientRowId);
    for (auto t : targets) tp.push_back(es.patientOf[t]);
    return printRetrievalEvaluation(sim, qv, tv, qp, tp, o, modelJson(em), em.describe(), missing,
                                    missing > 0 ? missingText : std::string());
  }

  // single query
  std::optional<Sample> q;
  {
    char* end = nullptr;
    long long v = std::strtoll(o.query.c_str(), &end, 10);
    std::optional<std::int64_t> row;
    if (end && *end == '\0') row = v;
    else if (auto inst = db.instanceByUid(o.query)) row = inst->id;
    for (auto& s : samples)
      if (row && s.ecgInstanceId == *row) q = s;
  }
  if (!q) throw std::invalid_argument("no ECG instance " + o.query);
  fc.ensure({*q}, 1, {});  // the query's vector of the same model (stored for next time)
  if (!fc.byInstance.count(q->ecgInstanceId))
    throw std::runtime_error("cannot embed ECG " + o.query + (fc.errors.empty() ? "" : ": " + fc.errors.front()));
  EmbeddingIndex::Options io;
  if (o.hnswThreshold >= 0) io.hnswThreshold = static_cast<std::size_t>(o.hnswThreshold);
  EmbeddingIndex index(512, io);
  for (auto& [study, v] : studyVec) index.add(study, es.patientOf[study], v);
  if (index.usesHnsw()) {
    // The HNSW graph of 10^6 studies takes minutes to build: it is kept beside the database, one file
    // per study-embedding set, and used only when its fingerprint matches the current content.
    std::string name = em.studyKey();
    for (auto& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') c = '_';
    const fs::path file = fs::path(o.dbPath + ".index") / (name + ".hnsw");
    bool loaded = false;
    try {
      loaded = index.loadGraph(file.string());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: ignoring the saved retrieval index (it is rebuilt): %s\n", e.what());
    }
    if (!loaded) {
      const auto t0 = std::chrono::steady_clock::now();
      index.build();
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      try {
        fs::create_directories(file.parent_path());
        index.saveGraph(file.string());
        std::fprintf(stderr, "retrieval index: built the HNSW graph of %zu studies in %.1f s, saved to %s\n",
                     index.size(), secs, file.string().c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "warning: the retrieval index was built (%.1f s) but not saved: %s\n", secs, e.what());
      }
    }
  }
  auto hits = index.search(fc.byInstance[q->ecgInstanceId], o.k, o.includeSamePatient ? -1 : q->patientRowId);
  if (o.json) {
    std::string j = "{\"model\":" + modelJson(em) + ",\"query\":{\"ecg_instance_id\":" + std::to_string(q->ecgInstanceId) +
                    ",\"patient_id\":" + jstr(q->patientId) + "},\"include_same_patient\":" +
                    (o.includeSamePatient ? "true" : "false") + ",\"echo_studies\":" + std::to_string(echoStudies) +
                    ",\"searched_studies\":" + std::to_string(studyVec.size()) +
                    ",\"missing_studies\":" + std::to_string(missing) + ",\"outdated_studies\":" + std::to_string(outdated) +
                    ",\"stale_rows_ignored\":" + std::to_string(stale) +
                    ",\"results\":[";
    int r = 0;
    for (auto& h : hits) {
      auto lv = lvefOfStudy.count(h.id) ? lvefOfStudy[h.id] : kNaN;
      j += std::string(r ? "," : "") + "{\"rank\":" + std::to_string(r + 1) + ",\"study_row_id\":" + std::to_string(h.id) +
           ",\"similarity\":" + jnum(h.similarity) + ",\"patient_id\":" + jstr(es.patientIdOf[h.id]) +
           ",\"lvef_percent\":" + jnum(lv) + ",\"study_uid\":" + jstr(es.uidOf[h.id]) + "}";
      ++r;
    }
    std::printf("%s]}\n", j.c_str());
    return 0;
  }
  std::printf("Query ECG %lld (patient %s), model %s%s\n", static_cast<long long>(q->ecgInstanceId),
              q->patientId.c_str(), em.describe().c_str(), o.includeSamePatient ? "" : ", own patient excluded");
  std::printf("Searched %zu of %lld echo studies%s\n", studyVec.size(), echoStudies,
              missing > 0 ? (" (missing embeddings: " + missingText + ")").c_str() : "");
  std::printf("rank  study_row  similarity  patient  lvef  study_uid\n");
  int r = 0;
  for (auto& h : hits) {
    auto lv = lvefOfStudy.count(h.id) ? lvefOfStudy[h.id] : kNaN;
    std::printf("%4d  %9lld  %10.4f  %s  %s  %s\n", ++r, static_cast<long long>(h.id), h.similarity,
                es.patientIdOf[h.id].c_str(), std::isfinite(lv) ? jnum(lv).c_str() : "-", es.uidOf[h.id].c_str());
  }
  return 0;
}

}  // namespace e2e::pipeline
