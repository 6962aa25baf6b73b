// `train --task echo-pretrain`: report-supervised pretraining of the per-view video encoder. Each
// echo loop regresses its study's echo-report measurements (z-scored with training-split
// statistics, masked where one is missing). It stands in for how EchoPrime's video encoder learned
// cardiac function (video <-> report contrastive pretraining on its own cohort): run it on a cohort
// disjoint from the one used for Echo2ECG pretraining and evaluation, then start
// `--task pretrain --video-model` from its bundle.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "jobs/train/common.h"
#include "labels/study_labels.h"
#include "model/train.h"
#include "pipeline/bundle.h"
#include "pipeline/embedder.h"
#include "common/text.h"

namespace fs = std::filesystem;

namespace e2e::jobs::train {

using namespace e2e::pipeline;

namespace {

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

std::vector<std::string> targetKeys(const std::string& targets) {
  if (targets.empty()) return echoReportKeys();
  std::vector<std::string> keys;
  std::stringstream ss(targets);
  for (std::string k; std::getline(ss, k, ',');)
    if (!k.empty()) keys.push_back(k);
  if (keys.empty()) badRequest("--targets names no label key");
  return keys;
}

struct Study {
  std::int64_t row = 0;
  std::vector<float> y, mask;
};
struct Loop {
  std::int64_t id = 0;
  std::size_t study = 0;
  std::string path;
};

struct EchoPretrainRun {
  const TrainRequest& o;
  const Emitter& em;
  const job::CancelToken& cancel;
  std::vector<std::string> keys;
  int64_t T = 0;
  torch::Device device = torch::kCPU;
  db::Database db;
  std::vector<Study> studies;
  std::vector<Sample> splitKeys;  // only patient identity is used by splitByPatient
  std::vector<Loop> loops;
  std::vector<std::size_t> part[3];
  std::set<std::int64_t> pats[3];
  std::size_t studiesIn[3] = {0, 0, 0};
  std::vector<double> mu, sd;
  std::vector<torch::Tensor> raw;  // decoded loops, uint8 [C, frames, H, W] at the encoder's size
  Bundle b;
  VideoTrainables vt{nullptr};

  EchoPretrainRun(const TrainRequest& r, const Emitter& e, const job::CancelToken& c)
      : o(r), em(e), cancel(c), keys(targetKeys(r.targets)), T(static_cast<int64_t>(keys.size())), db(r.dbPath) {}

  // Studies with at least one report measurement (patient labels, overridden by study labels) and
  // their loops in the patient split.
  void collectStudies() {
    auto es = listEchoStudies(db);
    for (auto& [studyRow, studyLoops] : es.loops) {
      std::map<std::string, double> v;
      for (auto& [key, value] : labels::studyLabels(db, es.patientOf[studyRow], studyRow)) {
        char* end = nullptr;
        const double x = std::strtod(value.c_str(), &end);
        if (end && *end == '\0' && !value.empty() && std::isfinite(x)) v[key] = x;
      }
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
    const auto studySplit = splitByPatient(splitKeys, o.seed);
    for (std::size_t si = 0; si < studies.size(); ++si) {
      const int p = studySplit[si];
      ++studiesIn[p];
      pats[p].insert(splitKeys[si].patientRowId);
      for (auto& [id, path] : es.loops[studies[si].row]) {
        part[p].push_back(loops.size());
        loops.push_back({id, si, path});
      }
    }
    if (part[0].empty())
      failed("no echo loops with report measurements (" + o.targets +
             (o.targets.empty() ? "lvef_percent, edv, esv, wall_mm, lv_mass_g" : "") +
             ") in the database: import a labels table first");
  }

  // z-scoring statistics from the training studies
  void targetStatistics() {
    mu.assign(static_cast<std::size_t>(T), 0.0);
    sd.assign(static_cast<std::size_t>(T), 1.0);
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
  }

  // Every loop decoded once at the encoder's size; loops that cannot be decoded are left out.
  void decodeLoops() {
    const auto spec = b.video->inputSpec();
    raw.assign(loops.size(), torch::Tensor());
    int decodeErrors = 0;
    for (std::size_t i = 0; i < loops.size(); ++i) {
      if (cancel.cancelled()) break;
      try {
        // a loop replaced since import is never decoded (FileChangedError)
        if (const auto inst = db.instanceById(loops[i].id)) requireUnchanged(loops[i].path, inst->sha256);
        auto fr = readEchoFrames(loops[i].path);
        auto full = spec;
        full.frames = fr.frames;
        full.frameStride = 1;
        full.mean.assign(full.mean.size(), 0.f);
        full.std.assign(full.std.size(), 1.f);
        raw[i] = model::prepareClip(fr, full, 0).round().clamp(0, 255).to(torch::kUInt8);
      } catch (const std::exception& e) {
        if (++decodeErrors <= 5) em.text(std::string("skipping echo loop: ") + errorText(e));
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
  }

  // Clips of `spec.frames` frames at `frameStride` from `starts` (looping), as prepareClip picks them.
  torch::Tensor clipBatch(const std::vector<std::size_t>& idx, const std::vector<int64_t>& starts) {
    const auto spec = b.video->inputSpec();
    auto mean = torch::tensor(spec.mean).view({1, -1, 1, 1, 1});
    auto sdev = torch::tensor(spec.std).view({1, -1, 1, 1, 1});
    std::vector<torch::Tensor> cs;
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const auto& r = raw[idx[j]];
      const int64_t n = r.size(1);
      auto fi = (torch::arange(spec.frames) * spec.frameStride + starts[j]).remainder(n);
      cs.push_back(r.index_select(1, fi));
    }
    return ((torch::stack(cs).to(torch::kFloat32) - mean) / sdev).to(device);
  }

  std::pair<torch::Tensor, torch::Tensor> targetBatch(const std::vector<std::size_t>& idx) {
    auto y = torch::empty({static_cast<int64_t>(idx.size()), T}), m = torch::empty_like(y);
    for (std::size_t j = 0; j < idx.size(); ++j) {
      const auto& s = studies[loops[idx[j]].study];
      for (int64_t k = 0; k < T; ++k) {
        y[static_cast<int64_t>(j)][k] = static_cast<float>((s.y[k] - mu[k]) / sd[k]);
        m[static_cast<int64_t>(j)][k] = s.mask[k];
      }
    }
    return {y.to(device), m.to(device)};
  }

  torch::Tensor forward(const std::vector<std::size_t>& idx, const std::vector<int64_t>& starts) {
    return vt->head->forward(b.video->encode(clipBatch(idx, starts)));
  }

  static torch::Tensor maskedMse(const torch::Tensor& p, const torch::Tensor& y, const torch::Tensor& m) {
    return ((p - y).pow(2) * m).sum() / m.sum().clamp_min(1.0);
  }

  // Predictions (z units) of a part at clip start 0, the way `embed` samples a loop.
  torch::Tensor predictPart(const std::vector<std::size_t>& items) {
    torch::NoGradGuard ng;
    vt->eval();
    std::vector<torch::Tensor> out;
    for (auto& bidx : chunks(items, 32)) out.push_back(forward(bidx, std::vector<int64_t>(bidx.size(), 0)).to(torch::kCPU));
    return out.empty() ? torch::empty({0, T}) : torch::cat(out);
  }

  double evalLoss(const std::vector<std::size_t>& items) {
    if (items.empty()) return std::nan("");
    auto p = predictPart(items);
    auto [y, m] = targetBatch(items);
    return maskedMse(p, y.to(torch::kCPU), m.to(torch::kCPU)).item<double>();
  }

  // Test metrics per measurement, in its own units: MAE and R^2 over test loops.
  Json testMetrics() {
    Json j{{"mse_z", evalLoss(part[2])}};
    if (part[2].empty()) return j;
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
      j[keys[k] + "_mae"] = n ? ae / n : std::nan("");
      j[keys[k] + "_r2"] = var > 0 ? 1.0 - se / var : std::nan("");
    }
    return j;
  }

  TrainReport run();
};

TrainReport EchoPretrainRun::run() {
  setThreads(0);
  device = pickDevice(o.device);
  const std::string deviceName = device.is_cuda() ? "cuda" : "cpu";
  const bool amp = useAmp(o.precision, device);
  model::seedEverything(o.seed);
  collectStudies();
  targetStatistics();
  // a fresh bundle (its ECG side is an untrained placeholder) whose video encoder is trained
  b = freshBundle(1, o.videoSize, o.seed);
  b.role = "video-encoder";
  vt = VideoTrainables(b.video->module(), b.video->embedDim(), T);
  vt->to(device);
  b.device = device;
  const int bs = std::max(2, o.batchSize);
  const double lr = o.lr > 0 ? o.lr : 1e-3;
  const double wd = o.weightDecay >= 0 ? o.weightDecay : 1e-4;
  auto opt = std::make_unique<torch::optim::AdamW>(vt->parameters(), torch::optim::AdamWOptions(lr).weight_decay(wd));
  const bool resumed = o.resume && fs::exists(lastCkptPath(o.runDir));
  const std::int64_t startEpoch = resumed ? loadCkpt(lastCkptPath(o.runDir), *vt, opt.get()) : 0;
  RunRecord rec{o, "echo-pretrain", "report-regression", deviceName, amp ? "bf16" : "fp32"};
  rec.split = splitParts([&](int p) {
    return Json{{"patients", pats[p].size()}, {"studies", studiesIn[p]}, {"samples", part[p].size()}};
  });
  rec.synthetic = anySyntheticStudy(db);
  rec.epochs = std::max(0, o.epochs);
  rec.stepsPerEpoch = static_cast<int>((part[0].size() + bs - 1) / bs);
  rec.batchSize = bs;
  rec.lr = lr;
  rec.weightDecay = wd;
  em.event(rec.startEvent(startEpoch, resumed, Json{{"targets", keys}}));
  em.text("train echo-pretrain (report regression of " + std::to_string(T) + " measurements): " +
          std::to_string(part[0].size()) + " train / " + std::to_string(part[1].size()) + " val / " +
          std::to_string(part[2].size()) + " test loops on " + deviceName);
  if (o.dryRun) return {TrainStatus::Done, "", "", ""};
  fs::create_directories(o.runDir);
  decodeLoops();
  if (cancel.cancelled()) {
    em.cancelledBeforeTraining(startEpoch);
    return {TrainStatus::Cancelled, "cancelled", "", ""};
  }
  if (part[0].empty()) failed("no decodable training loops");

  std::mt19937_64 g;  // clip start of each training loop, reseeded per epoch
  EpochLoop loop{em, *vt};
  loop.opt = opt.get();
  loop.runDir = o.runDir;
  loop.epochs = rec.epochs;
  loop.stepsPerEpoch = rec.stepsPerEpoch;
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
  if (!loop.run(part[0], cancel)) return {TrainStatus::Cancelled, "cancelled", "", ""};

  rec.modelId = "echo2ecg-echo-pretrain";
  rec.version = nextVersion(db, rec.modelId);
  rec.testMetrics = testMetrics();
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
             rec.card(Json{{"video_encoder", b.videoEncoder}, {"targets", keys}, {"target_mean", mu}, {"target_sd", sd}},
                      Json::object(), Json{{"video_size", b.video->inputSpec().height}}));
  return {TrainStatus::Done, "", rec.modelId, rec.version};
}

}  // namespace

TrainReport runEchoPretrain(const TrainRequest& o, const Emitter& em, const job::CancelToken& cancel) {
  EchoPretrainRun run(o, em, cancel);
  return run.run();
}

}  // namespace e2e::jobs::train
