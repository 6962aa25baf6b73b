// `train --task pretrain | ecg-pretrain | lvef | shd`: the Echo2ECG encoder (CLIP-style ECG <->
// multi-view echo, or ECG-only self-supervised) and the LVEF / SHD heads on it (linear, kNN, full
// fine-tuning, and the hand-crafted-feature baselines). One run = one object whose steps are:
// data and split, the model to start from, trainables and optimiser, inputs, the epoch loop, and
// saving + testing + registering the result.
#include <cmath>
#include <filesystem>
#include <set>

#include "jobs/train/common.h"
#include "jobs/train/trust_fit.h"
#include "model/train.h"
#include "pipeline/bundle.h"
#include "pipeline/classification_report.h"
#include "pipeline/embedder.h"
#include "pipeline/predictor.h"
#include "common/text.h"

namespace fs = std::filesystem;

namespace e2e::jobs::train {

using namespace e2e::pipeline;

namespace {

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

struct ModelTrainingRun {
  const TrainRequest& o;
  const Emitter& em;
  const job::CancelToken& cancel;
  // what the task asks for
  bool ssl = false, pairs = false, pretrain = false, baseline = false, knnMethod = false;
  bool trains = false, trainNet = false, needData = false;
  // device
  torch::Device device = torch::kCPU;
  std::string deviceName;
  bool amp = false;
  db::Database db;
  // data
  std::vector<Sample> samples;
  std::vector<int> labels;
  std::vector<std::string> classes;
  int K = 0;
  std::string labelKey;
  std::vector<std::size_t> part[3];
  int bs = 1, epochs = 0, stepsPerEpoch = 0;
  // model
  Bundle base;
  std::string parent, baseDir, videoParent, baseHash;
  model::LinearHead head{nullptr};
  int64_t featDim = 512;
  Trainables tr{nullptr};
  double lr = 0, wd = 0;
  std::vector<double> groupScale;
  std::unique_ptr<torch::optim::AdamW> opt;
  std::int64_t startEpoch = 0;
  bool resumed = false;
  // inputs: ECG tensors (trained encoder) or features (frozen); view sets (pretrain)
  std::vector<std::vector<float>> ecgIn, feats;
  std::vector<torch::Tensor> viewSets;
  torch::Tensor fmean, fstd;
  Json trust = Json::object();  // "calibration" and "ood" of a head (issue 23), for its card

  ModelTrainingRun(const TrainRequest& r, const Emitter& e, const job::CancelToken& c);
  TrainReport run();

 private:
  void loadData();
  void chooseBaseModel();
  void baseFromRegistry();
  void takeVideoEncoder();
  void makeTrainables();
  RunRecord makeRecord() const;
  void prepareInputs();
  void prepareViews();
  void dropUnusable();
  void featureScaling();
  torch::Tensor ecgBatch(const std::vector<std::size_t>& idx);
  std::pair<torch::Tensor, torch::Tensor> viewBatch(const std::vector<std::size_t>& idx);
  torch::Tensor classify(const std::vector<std::size_t>& idx, bool training);
  torch::Tensor lossOf(const std::vector<std::size_t>& idx, bool training);
  model::Scores predictScores(const std::vector<std::size_t>& items, std::vector<int>& truth);
  double evalLoss(const std::vector<std::size_t>& items);
  bool trainEpochs(EpochLoop& loop);
  void saveEncoder(RunRecord& rec);
  Json saveHead(RunRecord& rec);
  Json saveKnnHead(RunRecord& rec, std::vector<int>& truth, model::Scores& scores);
  void fitTrust(const std::vector<int>& testTruth, const model::Scores& testScores, Json& extra);
};

ModelTrainingRun::ModelTrainingRun(const TrainRequest& r, const Emitter& e, const job::CancelToken& c)
    : o(r), em(e), cancel(c), db(r.dbPath) {
  ssl = o.task == "ecg-pretrain";
  pairs = o.task == "pretrain";
  pretrain = pairs || ssl;  // trains an encoder, no classifier
  baseline = o.method == "ecg-features" || o.method == "ecg-features-knn";
  knnMethod = o.method == "knn" || o.method == "ecg-features-knn";
  trains = !(knnMethod && !pretrain);
  trainNet = pretrain || o.method == "full";
}

void ModelTrainingRun::loadData() {
  labelKey = !o.labelKey.empty() ? o.labelKey : (o.task == "lvef" ? "lvef_class" : "shd");
  for (auto& s : loadSamples(db, o.filterText, pairs)) {
    if (o.excludePatients.count(s.patientRowId)) continue;
    const int y = pretrain ? -1 : labelFor(s, o.task);
    if (!pretrain && y < 0) continue;
    samples.push_back(s);
    labels.push_back(y);
  }
  classes = pretrain ? std::vector<std::string>{} : classNames(o.task);
  K = static_cast<int>(classes.size());
  const auto split = splitByPatient(samples, o.seed);
  for (std::size_t i = 0; i < samples.size(); ++i) part[split[i]].push_back(i);
  if (part[0].empty())
    failed("no training samples (" + std::string(pairs ? "paired ECG + echo studies" : (ssl ? "ECGs" : "labelled ECGs")) +
           ") in the database");
  bs = std::max(1, o.batchSize);
  if (baseline && pretrain) badRequest("the ecg-features baseline is for lvef / shd");
  epochs = trains ? std::max(0, o.epochs) : 0;
  stepsPerEpoch = trains ? static_cast<int>((part[0].size() + bs - 1) / bs) : 0;
}

// --base-model ID:VERSION: a registered encoder bundle, its weights checked.
void ModelTrainingRun::baseFromRegistry() {
  std::string id = o.baseModel, ver;
  if (auto c = id.find(':'); c != std::string::npos) {
    ver = id.substr(c + 1);
    id = id.substr(0, c);
  }
  auto row = findModel(db, id, ver);
  if (!row) badRequest("base model " + o.baseModel + " is not registered");
  try {
    baseDir = nlohmann::json::parse(row->cardJson).value("bundle_dir", "");
  } catch (const nlohmann::json::exception&) {
    baseDir.clear();
  }
  if (baseDir.empty()) badRequest("base model " + o.baseModel + " is not an encoder bundle");
  const bool registered = !row->weightsHash.empty() && row->weightsHash.find('+') == std::string::npos;
  base = loadBundle(baseDir, !registered);
  if (registered && base.hash != row->weightsHash)
    failed("the weights of base model " + o.baseModel + " in " + baseDir + " changed since they were registered (" +
           base.hash.substr(0, 12) + " != " + row->weightsHash.substr(0, 12) + ")");
  parent = row->modelId + ":" + row->version;
}

// pretrain --video-model: the video encoder (and its clip geometry) of another bundle, e.g.
// echo2ecg-echo-pretrain; the view standardisation is re-estimated on this run's training loops.
void ModelTrainingRun::takeVideoEncoder() {
  auto vm = resolveEmbeddingModel(db, o.videoModel);
  Bundle vb = loadEmbeddingBundle(vm);
  if (vb.role == "ecg-encoder")
    badRequest("--video-model " + vm.label() + " is an ECG-only encoder (train --task ecg-pretrain): its video "
               "encoder is untrained; take the video encoder of an echo-pretrain bundle, a converted EchoPrime "
               "bundle or an Echo2ECG model (an ECG-only encoder goes in --model)");
  base.video = vb.video;
  base.spec = vb.spec;
  base.videoEncoder = vb.videoEncoder;
  base.videoFp32 = vb.videoFp32;
  base.viewMean = torch::Tensor();
  base.viewStd = torch::Tensor();
  base.rehash();
  videoParent = vm.label() + " (" + vm.dir + ")";
}

void ModelTrainingRun::chooseBaseModel() {
  if (!o.baseModel.empty()) {
    baseFromRegistry();
  } else if (baseline) {
    base = freshBundle(1, 16, o.seed);  // unused placeholder (no network in the baseline)
  } else if (pretrain && o.model.empty()) {
    base = freshBundle(o.ecgDepth, o.videoSize, o.seed);
  } else {
    // --model ID:VERSION|DIR, else the database's embedding model (active echo2ecg-pretrain, else bundled).
    auto m = resolveEmbeddingModel(db, o.model);
    base = loadEmbeddingBundle(m);
    requireEcgSide(base, m.label());
    if (!o.videoModel.empty() && base.role != "ecg-encoder")
      badRequest("--video-model with --model needs an ECG-only encoder (train --task ecg-pretrain); " + m.label() +
                 " already has its echo side");
    baseDir = m.dir;
    parent = m.label();
  }
  if (pairs && !o.videoModel.empty()) takeVideoEncoder();
  baseHash = base.hash;  // the frozen encoder of a linear / kNN head
  base.to(device);
}

void ModelTrainingRun::makeTrainables() {
  featDim = baseline ? 30 : 512;
  if (!pretrain && !knnMethod) {
    torch::manual_seed(o.seed + 1);
    head = model::LinearHead(featDim, K);
    head->to(device);
  }
  tr = Trainables(trainNet ? base.net : model::Echo2Ecg(nullptr), head);
  lr = o.lr > 0 ? o.lr : (pretrain ? 3e-4 : (o.method == "full" ? 1e-4 : 1e-2));
  wd = o.weightDecay >= 0 ? o.weightDecay : (pretrain ? 1e-7 : 1e-4);
  // Layer-wise lr decay (model::llrdParamGroups, as OTiS / Echo2ECG): ECG block i of D trains at
  // lr * decay^(D - i), the patch / positional embeddings at lr * decay^(D + 1), the rest at lr.
  if (trains) {
    auto llrd = model::makeLlrdAdamW(*tr, lr, wd, trainNet ? o.layerDecay : 1.0, trainNet ? base.ecgCfg.depth : 0,
                                     "net.ecg_encoder.");
    for (auto& g : llrd.groups) groupScale.push_back(g.lrScale);
    opt = std::move(llrd.optimizer);
  }
  resumed = o.resume && fs::exists(lastCkptPath(o.runDir));
  if (resumed) startEpoch = loadCkpt(lastCkptPath(o.runDir), *tr, opt.get());
}

RunRecord ModelTrainingRun::makeRecord() const {
  RunRecord rec{o, o.task};
  rec.classes = classes;
  rec.split = splitParts([&](int p) {
    std::set<std::int64_t> pats;
    std::vector<int> cc(static_cast<std::size_t>(std::max(K, 0)), 0);
    for (auto i : part[p]) {
      pats.insert(samples[i].patientRowId);
      if (labels[i] >= 0 && labels[i] < K) ++cc[static_cast<std::size_t>(labels[i])];
    }
    Json j{{"patients", pats.size()}, {"samples", part[p].size()}};
    if (K > 0) j["class_counts"] = cc;
    return j;
  });
  rec.preprocessing = base.preprocVersion;
  rec.device = deviceName;
  rec.precision = amp && trainNet ? "bf16" : "fp32";  // linear / kNN heads always train in fp32
  rec.method = pairs ? "contrastive" : (ssl ? "ecg-contrastive" : o.method);
  rec.epochs = epochs;
  rec.stepsPerEpoch = stepsPerEpoch;
  rec.batchSize = bs;
  rec.lr = lr;
  rec.weightDecay = wd;
  return rec;
}

// Reads the ECG inputs (trained encoder), hand-crafted or aligned features (frozen), view sets.
void ModelTrainingRun::prepareInputs() {
  ecgIn.assign(samples.size(), {});
  feats.assign(samples.size(), {});
  viewSets.assign(samples.size(), torch::Tensor());
  needData = !(pretrain && epochs == 0);  // a fresh bundle needs no data
  if (baseline || (trainNet && needData)) {
    for (std::size_t i = 0; i < samples.size(); ++i) {
      if (cancel.cancelled()) break;
      try {
        if (baseline) feats[i] = handcraftedEcgFeatures(samples[i]);
        else ecgIn[i] = ecgInputFromSample(samples[i], base.preprocVersion);
      } catch (const std::exception& e) {
        em.text(std::string("skipping ECG: ") + errorText(e));
      }
    }
  }
  if (pairs && needData) {
    prepareViews();
  } else if (!trainNet && !baseline) {
    base.precision = model::Precision::Fp32;  // heads train on fp32 embeddings whatever E2E_PRECISION says
    EcgEmbedder fc(db, base);
    std::vector<std::string> changed;
    fc.ensure(withUnchangedEcgFiles(samples, [&](std::int64_t id) { return !db.getEmbedding(fc.key(id)); }, changed),
              16, cancel);
    for (const auto& c : changed) em.text("skipping ECG: " + c);
    for (std::size_t i = 0; i < samples.size(); ++i)
      if (const auto* v = fc.find(samples[i].ecgInstanceId)) feats[i] = *v;
  }
  dropUnusable();
}

void ModelTrainingRun::prepareViews() {
  EchoEmbedder ec(db, base);
  std::vector<std::pair<std::int64_t, std::string>> loops;
  for (auto& s : samples)
    for (std::size_t j = 0; j < s.echoInstanceIds.size(); ++j) {
      const std::int64_t id = s.echoInstanceIds[j];
      if (j < s.echoSha256s.size() && !db.getEmbedding(ec.viewKey(id))) {
        try {  // a loop replaced since import is never decoded
          requireUnchanged(s.echoPaths[j], s.echoSha256s[j]);
        } catch (const std::exception& e) {
          em.text(std::string("skipping echo loop: ") + errorText(e));
          continue;
        }
      }
      loops.emplace_back(id, s.echoPaths[j]);
    }
  ec.ensureViews(loops, 8, cancel);
  // the aggregator's limit (128 views, as the reference): the first ones in loop order, as embed does
  const std::size_t maxViews = base.net ? static_cast<std::size_t>(base.net->echo_aggregator->maxViews) : std::size_t{128};
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
}

void ModelTrainingRun::dropUnusable() {
  if (!needData || cancel.cancelled()) return;  // cancelled while reading: reported as cancelled
  for (auto& p : part) {
    std::vector<std::size_t> keep;
    for (auto i : p) {
      bool ok = trainNet ? !ecgIn[i].empty() : !feats[i].empty();
      if (pairs) ok = ok && viewSets[i].defined();
      if (ok) keep.push_back(i);
    }
    p = keep;
  }
  if (part[0].empty()) failed("no usable training samples");
}

// feature standardisation (frozen features) / scaling (trained encoder)
void ModelTrainingRun::featureScaling() {
  fmean = torch::zeros({featDim});
  fstd = torch::full({featDim}, 1.0 / std::sqrt(512.0));
  if (!pretrain && !trainNet) {
    std::vector<std::vector<float>> tf;
    for (auto i : part[0]) tf.push_back(feats[i]);
    auto t = featTensor(tf);
    fmean = t.mean(0);
    fstd = t.size(0) > 1 ? t.std(0).clamp_min(1e-6) : torch::ones({featDim});
  }
  fmean = fmean.to(device);
  fstd = fstd.to(device);
}

torch::Tensor ModelTrainingRun::ecgBatch(const std::vector<std::size_t>& idx) {
  std::vector<std::vector<float>> xs;
  for (auto i : idx) xs.push_back(ecgIn[i]);
  return ecgBatchTensor(xs).to(device);
}

std::pair<torch::Tensor, torch::Tensor> ModelTrainingRun::viewBatch(const std::vector<std::size_t>& idx) {
  int64_t V = 1;
  for (auto i : idx) V = std::max<int64_t>(V, viewSets[i].size(0));
  auto v = torch::zeros({static_cast<int64_t>(idx.size()), V, 512});
  auto valid = torch::zeros({static_cast<int64_t>(idx.size()), V}, torch::kBool);
  for (std::size_t j = 0; j < idx.size(); ++j) {
    auto n = viewSets[idx[j]].size(0);
    v[static_cast<int64_t>(j)].narrow(0, 0, n).copy_(viewSets[idx[j]]);
    valid[static_cast<int64_t>(j)].narrow(0, 0, n).fill_(true);
  }
  return {v.to(device), valid.to(device)};
}

// logits of the classifier on a batch
torch::Tensor ModelTrainingRun::classify(const std::vector<std::size_t>& idx, bool training) {
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
}

torch::Tensor ModelTrainingRun::lossOf(const std::vector<std::size_t>& idx, bool training) {
  if (ssl) {  // two independently augmented views of each ECG, also for the validation loss
    auto in = ecgBatch(idx);
    const model::EcgAugmentConfig aug{};
    return model::clipLoss(base.net->embedEcg(model::augmentEcg(in, aug)), base.net->embedEcg(model::augmentEcg(in, aug)),
                           o.temperature, 0.5);
  }
  if (pretrain) {
    auto in = ecgBatch(idx);
    if (training) in = model::augmentEcg(in, model::EcgAugmentConfig{});
    auto [v, valid] = viewBatch(idx);
    return model::clipLoss(base.net->embedEcg(in), base.net->embedEcho(v, valid), o.temperature, 0.5);
  }
  std::vector<int64_t> y;
  for (auto i : idx) y.push_back(labels[i]);
  return torch::nn::functional::cross_entropy(classify(idx, training), torch::tensor(y).to(device));
}

model::Scores ModelTrainingRun::predictScores(const std::vector<std::size_t>& items, std::vector<int>& truth) {
  model::Scores sc;
  torch::NoGradGuard ng;
  if (trainNet) base.net->eval();
  head->eval();
  for (auto& bidx : chunks(items, 32)) {
    auto p = torch::softmax(classify(bidx, false), 1).to(torch::kCPU).to(torch::kFloat64).contiguous();
    for (int64_t i = 0; i < p.size(0); ++i) sc.emplace_back(p[i].data_ptr<double>(), p[i].data_ptr<double>() + K);
    for (auto i : bidx) truth.push_back(labels[i]);
  }
  return sc;
}

double ModelTrainingRun::evalLoss(const std::vector<std::size_t>& items) {
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
}

// Heads (linear / full) keep the epoch with the lowest validation loss (best.ckpt, kept across
// --resume), not simply the last one; pretraining keeps its last epoch.
bool ModelTrainingRun::trainEpochs(EpochLoop& loop) {
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
  loop.selectBest = !pretrain && !part[1].empty();
  loop.amp = amp && trainNet;
  loop.device = device;
  loop.loss = [&](const std::vector<std::size_t>& bidx) { return lossOf(bidx, true); };
  loop.valLoss = [&] { return evalLoss(part[1]); };
  if (!pretrain && !part[1].empty())
    loop.valMetrics = [&] {
      std::vector<int> vt;
      auto vs = predictScores(part[1], vt);
      return pointMetricsJson(vt, vs);
    };
  if (!loop.run(part[0], cancel)) return false;
  loop.restoreBest();
  return true;
}

void ModelTrainingRun::saveEncoder(RunRecord& rec) {
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
  rec.testMetrics = Json{{ssl ? "ssl_clip_loss" : "clip_loss", needData ? evalLoss(part[2]) : std::nan("")}};
}

// kNN: the training features are the head (baseline: Euclidean kNN on z-scored hand-crafted features).
Json ModelTrainingRun::saveKnnHead(RunRecord& rec, std::vector<int>& tt, model::Scores& ts) {
  std::vector<std::vector<float>> tf;
  std::vector<int> tl;
  for (auto i : part[0]) {
    tf.push_back(feats[i]);
    tl.push_back(labels[i]);
  }
  if (baseline) {
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
  model::saveTensorArchive(rec.weightsPath + ".tmp", m);
  fs::rename(rec.weightsPath + ".tmp", rec.weightsPath);
  model::KnnClassifier knn(5);
  knn.fit(tf, tl, K);
  std::vector<std::vector<float>> xf;
  for (auto i : part[2]) {
    xf.push_back(feats[i]);
    tt.push_back(labels[i]);
  }
  ts = knn.predictProba(xf);
  rec.weightsHash = model::weightsHash(m);
  return Json::object();
}

// The head (and, for full fine-tuning, the encoder) saved and tested; returns the done event's extras.
Json ModelTrainingRun::saveHead(RunRecord& rec) {
  rec.modelId = baseline ? "ecg-baseline-" + o.task : taskModelId(o.task);
  rec.version = nextVersion(db, rec.modelId);
  rec.weightsPath = (fs::path(o.runDir) / (o.task + "_head.pt")).string();
  std::vector<int> tt;
  model::Scores ts;
  Json extra = Json::object();
  if (knnMethod) {
    extra = saveKnnHead(rec, tt, ts);
  } else {
    head->to(torch::kCPU);
    saveLinearHead(rec.weightsPath, head, fmean.to(torch::kCPU), fstd.to(torch::kCPU));
    head->to(device);
    ts = predictScores(part[2], tt);
    rec.weightsHash = model::weightsHash(model::loadTensorArchive(rec.weightsPath));
    if (o.method == "full") {
      base.modelId = rec.modelId + "-encoder";
      base.version = rec.version;
      base.to(torch::kCPU);
      saveBundle(base, (fs::path(o.runDir) / "encoder").string());
      extra["encoder_dir"] = (fs::path(o.runDir) / "encoder").string();
      rec.weightsHash = base.hash + "+" + rec.weightsHash;
    }
  }
  fitTrust(tt, ts, extra);
  if (!tt.empty()) {
    rec.testMetrics = metricsWithCi(tt, ts, 200).toJson();
    extra["roc"] = rocJson(tt, ts, classes);
    extra["confusion"] = confusionJson(tt, ts, K);
  }
  return extra;
}

// Issue 23: a temperature fitted on the validation split (ECE before / after on val and test), and,
// for a head on frozen aligned embeddings (what predict scores), the Mahalanobis statistics of the
// training embeddings with the threshold at the 99th percentile of the validation distances.
void ModelTrainingRun::fitTrust(const std::vector<int>& tt, const model::Scores& ts, Json& extra) {
  if (part[1].empty()) return;
  std::vector<int> vt;
  model::Scores vs;
  if (knnMethod) {
    std::vector<std::vector<float>> tf, vf;
    std::vector<int> tl;
    for (auto i : part[0]) tf.push_back(feats[i]), tl.push_back(labels[i]);
    for (auto i : part[1]) vf.push_back(feats[i]), vt.push_back(labels[i]);
    model::KnnClassifier knn(5);
    knn.fit(tf, tl, K);
    vs = knn.predictProba(vf);
  } else {
    vs = predictScores(part[1], vt);
  }
  const auto cal = fitCalibration(vt, vs, tt, ts);
  trust["calibration"] = calibrationJson(cal);
  extra["calibration"] = trust["calibration"];
  em.text("calibration: temperature " + num(cal.temperature) + ", ECE (val, 15 bins) " + num(cal.valBefore.ece) +
          " -> " + num(cal.valAfter.ece) + ", test " + num(cal.testBefore.ece) + " -> " + num(cal.testAfter.ece));
  if (trainNet || baseline) return;  // the fine-tuned encoder / hand-crafted features: no OOD statistics
  std::vector<std::vector<float>> tf, vf;
  for (auto i : part[0]) tf.push_back(feats[i]);
  for (auto i : part[1]) vf.push_back(feats[i]);
  if (tf.size() < 2) return;
  const auto stats = model::fitOod(tf, vf);
  const std::string file = fs::absolute(fs::path(o.runDir) / "ood.pt").string();
  model::saveOod(stats, file);
  trust["ood"] = oodJson(stats, file, baseHash);
  em.text("out-of-distribution threshold (99th percentile of " + std::to_string(vf.size()) +
          " validation distances): " + num(stats.threshold));
}

TrainReport ModelTrainingRun::run() {
  setThreads(0);
  device = pickDevice(o.device);
  deviceName = device.is_cuda() ? "cuda" : "cpu";
  amp = useAmp(o.precision, device);
  model::seedEverything(o.seed);
  loadData();
  chooseBaseModel();
  makeTrainables();
  RunRecord rec = makeRecord();
  rec.synthetic = anySyntheticStudy(db);
  em.event(rec.startEvent(startEpoch, resumed));
  em.text("train " + o.task + " (" + rec.method + "): " + std::to_string(part[0].size()) + " train / " +
          std::to_string(part[1].size()) + " val / " + std::to_string(part[2].size()) + " test samples on " + deviceName);
  if (o.dryRun) return {TrainStatus::Done, "", "", ""};
  fs::create_directories(o.runDir);
  prepareInputs();
  if (cancel.cancelled()) {
    em.cancelledBeforeTraining(startEpoch);
    return {TrainStatus::Cancelled, "cancelled", "", ""};
  }
  featureScaling();
  EpochLoop loop{em, *tr};
  if (!trainEpochs(loop)) return {TrainStatus::Cancelled, "cancelled", "", ""};
  rec.parent = parent;
  rec.baseDir = baseDir;
  Json extra = Json::object();
  if (pretrain) saveEncoder(rec);
  else extra = saveHead(rec);
  Json fields = !pretrain && !baseline && o.method != "full" ? Json{{"base_weights_hash", baseHash}} : Json::object();
  append(fields, trust);
  Json recipe = Json::object();
  if (trainNet) recipe["layer_decay"] = o.layerDecay;
  if (loop.selectBest) {
    recipe["selected_epoch"] = loop.bestEpoch;
    recipe["selection"] = "lowest val loss";
  }
  if (pretrain) {
    recipe["temperature"] = o.temperature;
    recipe["video_model"] = videoParent;
  }
  Json data{{"filter", o.filterText}, {"label_key", pretrain ? "" : labelKey}};
  if (!o.excludePatients.empty()) data["excluded_patients"] = o.excludePatients.size();
  rec.finish(db, em, rec.card(fields, data, recipe), extra);
  std::set<std::int64_t> seen;
  for (const auto& s : samples) seen.insert(s.patientRowId);
  return {TrainStatus::Done, "", rec.modelId, rec.version, {seen.begin(), seen.end()}};
}

}  // namespace

TrainReport runModelTraining(const TrainRequest& o, const Emitter& em, const job::CancelToken& cancel) {
  ModelTrainingRun run(o, em, cancel);
  return run.run();
}

}  // namespace e2e::jobs::train
