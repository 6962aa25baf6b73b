// Model bundles: bundle.json + weights files <-> Bundle (see bundle.h).
#include "pipeline/bundle.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/files.h"
#include "model/mvit.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace e2e::pipeline {

namespace {
model::TensorMap withPrefix(const model::TensorMap& m, const std::string& prefix) {
  model::TensorMap o;
  for (auto& [k, v] : m) o[prefix + k] = v;
  return o;
}

std::string bundleJson(const Bundle& b) {
  nlohmann::ordered_json j;
  j["model_id"] = b.modelId;
  j["version"] = b.version;
  j["weights"] = "echo2ecg.pt";
  j["weights_dtype"] = b.weightsFp32 ? "float32" : "float16";
  j["preprocessing"] = b.preprocVersion;
  j["ecg_depth"] = b.ecgCfg.depth;
  j["ecg_dim"] = b.ecgCfg.dim;
  j["ecg_heads"] = b.ecgCfg.heads;
  j["ecg_mlp_dim"] = b.ecgCfg.mlpDim;
  j["ecg_global_norm_eps"] = b.ecgCfg.globalNormEps;
  j["view_dim"] = b.viewDim;
  j["echo_dim"] = b.echoDim;
  j["echo_heads"] = b.echoHeads;
  j["shared_dim"] = b.sharedDim;
  j["video_encoder"] = b.videoEncoder;
  j["video_frames"] = b.spec.frames;
  j["video_stride"] = b.spec.frameStride;
  j["video_size"] = b.spec.height;
  j["video_mean"] = b.spec.mean[0];
  j["video_std"] = b.spec.std[0];
  if (b.videoFp32) {
    j["video_weights"] = "video.pt";
    j["video_weights_dtype"] = "float32";
  }
  if (!b.role.empty()) j["role"] = b.role;
  j["weights_hash"] = b.hash;
  j["synthetic_training_data"] = b.syntheticTrainingData;
  if (!b.sourceJson.empty()) j["source"] = nlohmann::ordered_json::parse(b.sourceJson);
  return j.dump(2) + "\n";
}

// bundle.json, parsed; a malformed file is an error that names it.
json readBundleJson(const std::string& dir) {
  const std::string path = (fs::path(dir) / "bundle.json").string();
  try {
    json j = json::parse(readTextFile(path));
    if (!j.is_object()) throw std::runtime_error("not a JSON object");
    return j;
  } catch (const json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
}

template <class T>
T field(const json& j, const char* key, T fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw std::runtime_error(std::string("bundle.json: \"") + key + "\" has the wrong type");
  }
}
}  // namespace

model::TensorMap Bundle::allWeights() const {
  auto m = withPrefix(model::stateDict(*net), "net.");
  for (auto& [k, v] : withPrefix(model::stateDict(*video->module()), "video.")) m[k] = v;
  if (viewMean.defined()) {
    m["viewnorm.mean"] = viewMean.detach().to(torch::kCPU);
    m["viewnorm.std"] = viewStd.detach().to(torch::kCPU);
  }
  return m;
}

torch::Tensor Bundle::normViews(const torch::Tensor& v) const {
  if (!viewMean.defined()) return v;
  return (v - viewMean.to(v.device())) / viewStd.to(v.device());
}

void Bundle::to(torch::Device d) {
  device = d;
  net->to(d);
  video->module()->to(d);
}

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
    else half[k] = t.is_floating_point() ? t.to(b.weightsFp32 ? torch::kFloat32 : torch::kFloat16) : t;
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
  writeFileAtomic((fs::path(dir) / "bundle.json").string(), bundleJson(b));
}

// checkHash: refuse weights that differ from bundle.json's weights_hash. Callers that compare the
// weights with a registry row or a head's card right after loading pass false, so their error names
// the registered version and what to do about it.

namespace {
// The video encoder bundle.json describes (small3dcnn or mvit_v2_s), with its input geometry.
void makeVideoEncoder(Bundle& b, const json& j, const std::string& dir) {
  if (b.videoEncoder == "small3dcnn") {
    b.spec.frames = field<int64_t>(j, "video_frames", 16);
    b.spec.frameStride = field<int64_t>(j, "video_stride", 2);
    b.spec.height = b.spec.width = field<int64_t>(j, "video_size", 112);
    const float mean = field<float>(j, "video_mean", 0.f);
    const float sd = field<float>(j, "video_std", 255.f);
    b.spec.mean = {mean, mean, mean};
    b.spec.std = {sd, sd, sd};
    b.video = std::make_shared<model::SmallVideoEncoder>(b.spec, b.viewDim);
  } else if (b.videoEncoder == "mvit_v2_s") {
    // EchoPrime's MViT-v2-S: 224 x 224, per-channel EchoPrime mean/std; frames/stride may be overridden
    // (the model's temporal size follows video_frames; EchoPrime's weights need 16).
    b.spec = model::echoPrimeInputSpec();
    b.spec.frames = field<int64_t>(j, "video_frames", b.spec.frames);
    b.spec.frameStride = field<int64_t>(j, "video_stride", b.spec.frameStride);
    const auto size = field<int64_t>(j, "video_size", b.spec.height);
    if (size != b.spec.height)
      throw std::runtime_error(dir + "/bundle.json: video_encoder mvit_v2_s takes 224 x 224 clips, video_size is " +
                               std::to_string(size));
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
}

// Architecture fields of bundle.json beyond the ECG depth and width (defaults: this project's models),
// each checked, and the provenance fields kept as they are.
void readEchoSide(Bundle& b, const json& j, const std::string& dir) {
  b.ecgCfg.globalNormEps = field<double>(j, "ecg_global_norm_eps", 1e-6);
  b.viewDim = field<int64_t>(j, "view_dim", 512);
  b.echoDim = field<int64_t>(j, "echo_dim", 1024);
  b.echoHeads = field<int64_t>(j, "echo_heads", 4);
  b.sharedDim = field<int64_t>(j, "shared_dim", 512);
  const bool ok = b.ecgCfg.globalNormEps > 0 && b.ecgCfg.globalNormEps < 1e-2 && b.viewDim > 0 && b.echoDim > 0 &&
                  b.echoHeads > 0 && b.echoDim % b.echoHeads == 0 && b.sharedDim > 0 && b.viewDim <= 65536 &&
                  b.echoDim <= 65536 && b.sharedDim <= 65536;
  if (!ok)
    throw std::runtime_error(dir + "/bundle.json: ecg_global_norm_eps, view_dim, echo_dim, echo_heads, shared_dim "
                             "are out of range (echo_dim must be a multiple of echo_heads)");
  if (b.viewDim != 512 && b.videoEncoder == "mvit_v2_s")
    throw std::runtime_error(dir + "/bundle.json: video_encoder mvit_v2_s gives 512-d views, view_dim is " +
                             std::to_string(b.viewDim));
  b.syntheticTrainingData = field<bool>(j, "synthetic_training_data", true);
  if (auto it = j.find("source"); it != j.end() && !it->is_null()) b.sourceJson = it->dump();
}

// The error of weights that do not fit the model: every missing or mis-shaped tensor by name.
std::string mismatchMessage(const Bundle& b, const std::string& dir, const std::string& videoFile,
                            const model::LoadReport& r1, const model::LoadReport& r2) {
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
  return msg;
}

// Loads the weights files bundle.json names into b.net and b.video (float32 in memory).
void loadWeights(Bundle& b, const json& j, const std::string& dir) {
  // "weights": Echo2Ecg tensors ("net."-prefixed, or unprefixed as tools/convert_checkpoint.py writes
  // them); "video_weights" (default: the same file): the video encoder's tensors, "video."-prefixed
  // (mvit_v2_s: tools/convert_checkpoint.py echoprime echo_prime_encoder.pt OUT.pt).
  const std::string weightsFile = field<std::string>(j, "weights", "echo2ecg.pt");
  const std::string videoFile = field<std::string>(j, "video_weights", weightsFile);
  auto w = model::loadTensorArchive((fs::path(dir) / weightsFile).string());
  auto wv = videoFile == weightsFile ? w : model::loadTensorArchive((fs::path(dir) / videoFile).string());
  for (auto& [k, v] : wv)
    if (k.rfind("video.", 0) == 0 && v.is_floating_point() && v.scalar_type() != torch::kFloat16) b.videoFp32 = true;
  for (auto& [k, v] : w)
    if (k.rfind("video.", 0) != 0 && v.is_floating_point() && v.scalar_type() == torch::kFloat32) b.weightsFp32 = true;
  for (auto* m : {&w, &wv})
    for (auto& [k, v] : *m)
      if (v.is_floating_point()) v = v.to(torch::kFloat32);
  bool prefixed = false;
  for (auto& [k, v] : w) prefixed = prefixed || k.rfind("net.", 0) == 0;
  auto r1 = model::loadStateDict(*b.net, w, false, prefixed ? "net." : "");
  auto r2 = model::loadStateDict(*b.video->module(), wv, false, "video.");
  if (!r1.ok() || !r2.ok()) throw std::runtime_error(mismatchMessage(b, dir, videoFile, r1, r2));
  if (w.count("viewnorm.mean")) {
    b.viewMean = w["viewnorm.mean"];
    b.viewStd = w["viewnorm.std"];
  }
}
}  // namespace

Bundle loadBundle(const std::string& dir, bool checkHash) {
  const json j = readBundleJson(dir);
  Bundle b;
  b.dir = dir;
  b.modelId = field<std::string>(j, "model_id", "echo2ecg");
  b.version = field<std::string>(j, "version", "1");
  b.ecgCfg.depth = field<int64_t>(j, "ecg_depth", 12);
  b.ecgCfg.dim = field<int64_t>(j, "ecg_dim", 192);
  b.ecgCfg.heads = field<int64_t>(j, "ecg_heads", 3);
  b.ecgCfg.mlpDim = field<int64_t>(j, "ecg_mlp_dim", 768);
  b.videoEncoder = field<std::string>(j, "video_encoder", "small3dcnn");
  b.role = field<std::string>(j, "role", "");
  b.preprocVersion = field<std::string>(j, "preprocessing", kPreprocVersion);
  try {
    requireKnownPreprocVersion(b.preprocVersion);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(dir + "/bundle.json: " + e.what());
  }
  readEchoSide(b, j, dir);
  makeVideoEncoder(b, j, dir);
  b.net = model::Echo2Ecg(b.ecgCfg, b.viewDim, b.echoDim, b.sharedDim, b.echoHeads);
  loadWeights(b, j, dir);
  b.net->eval();
  b.video->module()->eval();
  b.rehash();
  // bundle.json's weights_hash (written by saveBundle) names the weights the bundle was made with:
  // embeddings and predictions are keyed by it, so damaged or swapped weights must not pass as them.
  const std::string want = field<std::string>(j, "weights_hash", "");
  if (checkHash && !want.empty() && want != b.hash)
    throw std::runtime_error(dir + ": the weights do not match bundle.json's weights_hash (" + want.substr(0, 12) +
                             " expected, " + b.hash.substr(0, 12) + " found): " +
                             field<std::string>(j, "weights", "echo2ecg.pt") +
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


}  // namespace e2e::pipeline
