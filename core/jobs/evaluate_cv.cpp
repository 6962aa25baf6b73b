// The cross-validated evaluate job (see evaluate_cv.h): the target of each ECG, its representations,
// then the folds, probes and bootstrap of evaluate_cv_stats.cpp.
#include "jobs/evaluate_cv.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>

#include "jobs/train/train.h"
#include "labels/study_labels.h"
#include "pipeline/bundle.h"
#include "pipeline/embedder.h"

namespace e2e::jobs {

using namespace e2e::pipeline;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kRepresentations{"encoder", "random", "handcrafted", "ssl-per-fold"};
const std::vector<std::string> kProbes{"linear", "knn"};

// Lower case, surrounding blanks and a trailing '.' dropped: "Left ventricular hypertrophy. " ==
// "left ventricular hypertrophy".
std::string normalised(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && (std::isspace(static_cast<unsigned char>(s[b - 1])) || s[b - 1] == '.')) --b;
  std::string out = s.substr(a, b - a);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value itself or one of its "; "-joined items (a multi-line CSV cell) equals `want`.
bool labelMatches(const std::string& value, const std::string& want) {
  const std::string w = normalised(want);
  if (normalised(value) == w) return true;
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto end = value.find(';', start);
    const std::string item = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (normalised(item) == w) return true;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return false;
}

void validate(const EvaluateCvRequest& o) {
  const bool byLabel = !o.labelKey.empty(), byDx = !normalised(o.diagnosis).empty();
  if (byLabel == byDx) throw std::invalid_argument("give exactly one target: a study label KEY=VALUE or a diagnosis");
  if (byLabel && normalised(o.labelValue).empty())
    throw std::invalid_argument("the label target needs a value (KEY=VALUE): '" + o.labelKey + "='");
  if (o.absentIsNegative && !byLabel) throw std::invalid_argument("absent-is-negative applies to a label target only");
  if (o.representations.empty() || o.probes.empty())
    throw std::invalid_argument("no representation or no probe asked for");
  for (const auto& r : o.representations)
    if (std::find(kRepresentations.begin(), kRepresentations.end(), r) == kRepresentations.end())
      throw std::invalid_argument("unknown representation '" + r + "' (encoder, random, handcrafted, ssl-per-fold)");
  for (const auto& p : o.probes)
    if (std::find(kProbes.begin(), kProbes.end(), p) == kProbes.end())
      throw std::invalid_argument("unknown probe '" + p + "' (linear, knn)");
  if (o.folds < 2 || o.folds > 20) throw std::invalid_argument("folds must be 2-20, not " + std::to_string(o.folds));
  if (o.knnK < 1 || o.knnK > 1000) throw std::invalid_argument("k must be 1-1000, not " + std::to_string(o.knnK));
  if (o.bootstrap < 10 || o.bootstrap > 100000)
    throw std::invalid_argument("bootstrap must be 10-100000 resamples, not " + std::to_string(o.bootstrap));
  if (!(o.l2 > 0) || o.l2 > 1e6) throw std::invalid_argument("the L2 penalty must be > 0 and <= 1e6");
  if (o.pretrainEpochs < 1 || o.pretrainEpochs > 1000)
    throw std::invalid_argument("pretraining epochs must be 1-1000, not " + std::to_string(o.pretrainEpochs));
  if (o.pretrainDepth < 1 || o.pretrainDepth > 12)
    throw std::invalid_argument("the pretrained encoder's depth must be 1-12 blocks, not " + std::to_string(o.pretrainDepth));
  if (o.pretrainBatchSize < 2 || o.pretrainBatchSize > 4096)
    throw std::invalid_argument("the pretraining batch size must be 2-4096, not " + std::to_string(o.pretrainBatchSize));
  if (!std::isfinite(o.pretrainLr) || o.pretrainLr > 1)
    throw std::invalid_argument("the pretraining learning rate must be at most 1");
  if (o.pretrainPrecision != "fp32" && o.pretrainPrecision != "bf16")
    throw std::invalid_argument("the pretraining precision must be fp32 or bf16, not '" + o.pretrainPrecision + "'");
}

// Target of each sample: 1, 0, or -1 (unlabelled). `seen` tells whether the label key or the
// diagnosis occurs at all.
std::vector<int> targetOf(db::Database& db, const std::vector<Sample>& samples, const EvaluateCvRequest& o,
                          bool& seen) {
  seen = false;
  std::vector<int> y(samples.size(), -1);
  const std::string key = normalised(o.labelKey), dx = normalised(o.diagnosis);
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& s = samples[i];
    if (!key.empty()) {
      const auto labels = labels::studyLabels(db, s.patientRowId, s.studyRowId);
      auto it = std::find_if(labels.begin(), labels.end(), [&](const auto& kv) { return normalised(kv.first) == key; });
      if (it == labels.end()) {
        if (o.absentIsNegative) y[i] = 0;
        continue;
      }
      seen = true;
      y[i] = labelMatches(it->second, o.labelValue) ? 1 : 0;
    } else {
      const auto d = db.details(s.ecgInstanceId);
      if (!d || !d->ecg || d->ecg->diagnoses.empty()) continue;
      y[i] = 0;
      for (const auto& st : d->ecg->diagnoses)
        if (normalised(st) == dx) y[i] = 1;
      seen = seen || y[i] == 1;
    }
  }
  return y;
}

// The deep representations (the 192-d global feature of each encoder), computed while the ECGs are
// read, 32 inputs at a time, so that only one batch of encoder inputs is ever held in memory.
struct DeepFeatures {
  std::vector<std::pair<std::string, model::EcgEncoder>> encoders;  // "encoder" / "random"
  std::map<std::string, std::vector<std::vector<float>>> feats;
  std::vector<std::vector<float>> pending;

  void addEncoder(const std::string& name, model::EcgEncoder e) {
    e->eval();
    encoders.emplace_back(name, e);
  }
  void add(std::vector<float> input) {
    pending.push_back(std::move(input));
    if (pending.size() >= 32) flush();
  }
  void flush() {
    if (pending.empty()) return;
    torch::NoGradGuard ng;
    const auto batch = ecgBatchTensor(pending);
    for (auto& [name, e] : encoders) {
      auto f = e->forward(batch).to(torch::kFloat32).contiguous();
      for (int64_t r = 0; r < f.size(0); ++r) feats[name].push_back(rowVec(f[r]));
    }
    pending.clear();
  }
};

struct Labelled {
  std::vector<Sample> samples;
  std::vector<int> y;
};

// The labelled samples whose files read; the others are error lines.
Labelled labelledSamples(db::Database& db, const EvaluateCvRequest& o, EvaluateCvReport& rep) {
  std::vector<Sample> all;
  for (auto& s : loadSamples(db)) {
    if (s.ecgPath.find(o.pathContains) != std::string::npos) all.push_back(std::move(s));
    else ++rep.outsidePath;
  }
  if (all.empty())
    throw std::invalid_argument(o.pathContains.empty() ? "the database holds no ECG"
                                                       : "no ECG path contains '" + o.pathContains + "'");
  bool seen = false;
  const auto y = targetOf(db, all, o, seen);
  if (!seen)
    throw std::invalid_argument(o.labelKey.empty()
                                    ? "no ECG has the diagnosis '" + o.diagnosis + "' (" + std::to_string(all.size()) +
                                          " ECGs searched; statements compare case-insensitively)"
                                    : "no study has the label '" + o.labelKey + "' (import it: echo2ecg labels import)");
  Labelled l;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (y[i] < 0) {
      ++rep.unlabelled;
      continue;
    }
    l.samples.push_back(all[i]);
    l.y.push_back(y[i]);
  }
  return l;
}

// Reads every labelled ECG once (the encoders' input when `deep` has encoders, in `preproc`; the
// hand-crafted features when `handcrafted`); an unreadable or changed file is an error line and
// leaves the ECG out. Fills the report's per-ECG vectors. False when cancelled.
bool readEcgs(const Labelled& lab, DeepFeatures& deep, const std::string& preproc, bool handcrafted,
              std::vector<std::vector<float>>& hand, std::vector<std::vector<float>>* sslInputs, EvaluateCvReport& rep,
              const EvaluateCvProgress& progress, const job::CancelToken& cancel) {
  for (std::size_t i = 0; i < lab.samples.size(); ++i) {
    if (cancel.cancelled()) {
      rep.cancelled = true;
      return false;
    }
    const auto& s = lab.samples[i];
    try {
      std::vector<float> in, hf;
      if (!deep.encoders.empty()) in = ecgInputFromSample(s, preproc);
      if (handcrafted) hf = handcraftedEcgFeatures(s);
      if (sslInputs) sslInputs->push_back(preproc == kPreprocVersion && !in.empty() ? in : ecgInputFromSample(s));
      if (!deep.encoders.empty()) deep.add(std::move(in));
      hand.push_back(std::move(hf));
      rep.ecgInstanceIds.push_back(s.ecgInstanceId);
      rep.patientRowIds.push_back(s.patientRowId);
      rep.truth.push_back(lab.y[i]);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      rep.errors.push_back(what.find(s.ecgPath) != std::string::npos ? what : s.ecgPath + ": " + what);
    }
    if (progress) progress("reading ECGs", static_cast<int>(i + 1), static_cast<int>(lab.samples.size()));
  }
  deep.flush();
  return true;
}

// Each result's AUROC against the random-weights encoder's with the same probe (paired resamples),
// and the per-fold SSL encoder's against the bundled/active encoder's.
void pairWithRandom(EvaluateCvReport& rep) {
  for (auto& r : rep.results)
    for (const auto& b : rep.results) {
      if (b.representation == "random" && r.representation != "random" && b.probe == r.probe)
        r.aurocVsRandom = pairedDifference(r.metrics.at("auroc"), b.metrics.at("auroc"));
      if (b.representation == "encoder" && r.representation == "ssl-per-fold" && b.probe == r.probe)
        r.aurocVsEncoder = pairedDifference(r.metrics.at("auroc"), b.metrics.at("auroc"));
    }
}

// Where the folds' pretraining runs go: the directory asked for, else a fresh temporary one,
// removed with everything in it when done.
struct PretrainRoot {
  fs::path root;
  bool temporary = false;
  explicit PretrainRoot(const std::string& asked) {
    if (!asked.empty()) {
      root = asked;
      return;
    }
    std::random_device rd;
    root = fs::temp_directory_path() / ("echo2ecg-evaluate-pretrain-" + std::to_string(rd()) + std::to_string(rd()));
    temporary = true;
  }
  ~PretrainRoot() {
    std::error_code ec;
    if (temporary) fs::remove_all(root, ec);
  }
  PretrainRoot(const PretrainRoot&) = delete;
  PretrainRoot& operator=(const PretrainRoot&) = delete;
};

// The 192-d global features (fp32, whatever E2E_PRECISION says) of `inputs` by the encoder of a bundle dir.
std::vector<std::vector<float>> encoderFeatures(db::Database& db, const std::string& dir,
                                                const std::vector<std::vector<float>>& inputs) {
  auto m = resolveEmbeddingModel(db, dir);
  Bundle b = loadEmbeddingBundle(m);
  requireEcgSide(b, m.label());
  if (b.preprocVersion != kPreprocVersion)
    throw std::runtime_error(dir + ": the pretrained encoder expects ECG preprocessing " + b.preprocVersion + ", not " +
                             kPreprocVersion);
  b.precision = model::Precision::Fp32;
  auto enc = b.net->ecg_encoder;
  enc->eval();
  torch::NoGradGuard ng;
  std::vector<std::vector<float>> out;
  for (std::size_t a = 0; a < inputs.size(); a += 32) {
    const std::vector<std::vector<float>> part(inputs.begin() + static_cast<std::ptrdiff_t>(a),
                                               inputs.begin() + static_cast<std::ptrdiff_t>(std::min(inputs.size(), a + 32)));
    auto f = enc->forward(ecgBatchTensor(part)).to(torch::kFloat32).contiguous();
    for (int64_t r = 0; r < f.size(0); ++r) out.push_back(rowVec(f[r]));
  }
  return out;
}

// Fold k's "ssl-per-fold" encoder: the train job (ecg-pretrain, a fresh encoder, nothing registered)
// on every ECG of the database but those of the fold's test patients; returns the features of all
// evaluated ECGs by it. Empty when cancelled.
std::vector<std::vector<float>> pretrainFold(db::Database& db, const EvaluateCvRequest& o, int k, const fs::path& root,
                                             const std::vector<std::vector<float>>& inputs, EvaluateCvReport& rep,
                                             const EvaluateCvProgress& progress, const job::CancelToken& cancel) {
  FoldPretraining fp;
  fp.fold = k;
  TrainRequest t;
  for (std::size_t i = 0; i < rep.foldOf.size(); ++i)
    if (rep.foldOf[i] == k) t.excludePatients.insert(rep.patientRowIds[i]);
  fp.heldOut.assign(t.excludePatients.begin(), t.excludePatients.end());
  t.dbPath = o.dbPath;
  t.task = "ecg-pretrain";
  t.runDir = fp.runDir = (root / ("fold-" + std::to_string(k + 1))).string();
  t.epochs = o.pretrainEpochs;
  t.batchSize = o.pretrainBatchSize;
  t.lr = o.pretrainLr;
  t.ecgDepth = o.pretrainDepth;
  t.precision = o.pretrainPrecision;
  t.seed = o.pretrainSeed;
  t.registerModel = false;
  const std::string stage = "pretraining fold " + std::to_string(k + 1);
  TrainEvents ev;
  ev.event = [&](const nlohmann::ordered_json& j) {
    if (progress && j.value("event", "") == "epoch") progress(stage, j.value("epoch", 0) + 1, o.pretrainEpochs);
  };
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = runTrain(t, ev, cancel);
  fp.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  setThreads(o.threads);  // the train job sets its own
  if (r.status == TrainStatus::Cancelled || cancel.cancelled()) return {};
  if (r.status != TrainStatus::Done) throw std::runtime_error(stage + ": " + r.message);
  fp.trainPatients = r.patients;
  rep.pretraining.push_back(fp);
  return encoderFeatures(db, t.runDir, inputs);
}

// Out-of-fold scores of the per-fold features: fold k's ECGs scored by the probe fitted on the other
// folds' features of fold k's encoder.
std::vector<double> perFoldScores(const std::vector<std::vector<std::vector<float>>>& featsOfFold,
                                  const std::vector<int>& truth, const std::vector<int>& foldOf,
                                  const std::string& probe, int knnK, double l2) {
  std::vector<double> out(truth.size(), std::nan(""));
  for (std::size_t k = 0; k < featsOfFold.size(); ++k) {
    std::vector<int> split(foldOf.size());
    for (std::size_t i = 0; i < foldOf.size(); ++i) split[i] = foldOf[i] == static_cast<int>(k) ? 1 : 0;
    const auto s = crossValidatedScores(featsOfFold[k], truth, split, probe, knnK, l2);
    for (std::size_t i = 0; i < foldOf.size(); ++i)
      if (split[i]) out[i] = s[i];
  }
  return out;
}

}  // namespace

namespace {
// n, positives and the patient counts of the evaluated ECGs.
void countEvaluated(EvaluateCvReport& rep) {
  rep.n = rep.truth.size();
  rep.positives = static_cast<std::size_t>(std::count(rep.truth.begin(), rep.truth.end(), 1));
  std::set<std::int64_t> pats, posPats;
  for (std::size_t i = 0; i < rep.n; ++i) {
    pats.insert(rep.patientRowIds[i]);
    if (rep.truth[i]) posPats.insert(rep.patientRowIds[i]);
  }
  rep.patients = pats.size();
  rep.positivePatients = posPats.size();
}

// Each representation with each probe: pooled out-of-fold scores and their bootstrap metrics.
// False when cancelled.
bool probeAll(const EvaluateCvRequest& o, const std::map<std::string, std::vector<std::vector<float>>>& feats,
              const std::vector<std::vector<std::vector<float>>>& sslOfFold, EvaluateCvReport& rep,
              const EvaluateCvProgress& progress, const job::CancelToken& cancel) {
  const int total = static_cast<int>(o.representations.size() * o.probes.size());
  for (const auto& name : o.representations)
    for (const auto& probe : o.probes) {
      if (cancel.cancelled()) return false;
      EvaluateCvResult r;
      r.representation = name;
      r.probe = probe;
      const bool ssl = name == "ssl-per-fold";
      const auto& f = ssl ? sslOfFold.front() : feats.at(name);
      r.dim = f.empty() ? 0 : static_cast<int>(f.front().size());
      r.scores = ssl ? perFoldScores(sslOfFold, rep.truth, rep.foldOf, probe, o.knnK, o.l2)
                     : crossValidatedScores(f, rep.truth, rep.foldOf, probe, o.knnK, o.l2);
      r.metrics = patientBootstrapMetrics(rep.truth, r.scores, rep.patientRowIds, o.bootstrap, o.seed);
      rep.results.push_back(std::move(r));
      if (progress) progress("cross-validation", static_cast<int>(rep.results.size()), total);
    }
  return true;
}
}  // namespace

EvaluateCvReport runEvaluateCv(const EvaluateCvRequest& o, const EvaluateCvProgress& progress,
                               const job::CancelToken& cancel) {
  validate(o);
  setThreads(o.threads);
  EvaluateCvReport rep;
  rep.target = o.labelKey.empty() ? "diagnosis '" + o.diagnosis + "'"
                                  : "label " + o.labelKey + "=" + o.labelValue +
                                        (o.absentIsNegative ? " (absent = negative)" : "");
  rep.folds = o.folds;
  rep.seed = o.seed;
  rep.knnK = o.knnK;
  rep.l2 = o.l2;
  rep.bootstrap = o.bootstrap;
  rep.randomWeightsSeed = o.randomWeightsSeed;
  db::Database db(o.dbPath);
  auto lab = labelledSamples(db, o, rep);

  const auto wants = [&](const char* r) {
    return std::find(o.representations.begin(), o.representations.end(), r) != o.representations.end();
  };
  const bool deep = wants("encoder") || wants("random");
  std::optional<Bundle> bundle;
  DeepFeatures deepFeats;
  if (deep) {
    auto m = resolveEmbeddingModel(db, o.model);
    bundle = loadEmbeddingBundle(m);
    requireEcgSide(*bundle, m.label());
    bundle->precision = model::Precision::Fp32;  // the features are fp32 whatever E2E_PRECISION says
    rep.encoderModel = m.describe();
    rep.encoderSyntheticTraining = bundle->syntheticTrainingData;
    if (wants("encoder")) deepFeats.addEncoder("encoder", bundle->net->ecg_encoder);
    torch::manual_seed(o.randomWeightsSeed);
    if (wants("random")) deepFeats.addEncoder("random", model::EcgEncoder(bundle->ecgCfg));
  }
  std::vector<std::vector<float>> hand, sslIn;
  if (!readEcgs(lab, deepFeats, deep ? bundle->preprocVersion : "", wants("handcrafted"), hand,
                wants("ssl-per-fold") ? &sslIn : nullptr, rep, progress, cancel))
    return rep;
  countEvaluated(rep);
  rep.foldOf = stratifiedPatientFolds(rep.patientRowIds, rep.truth, o.folds, o.seed);

  std::vector<std::vector<std::vector<float>>> sslOfFold;
  if (wants("ssl-per-fold")) {
    const PretrainRoot root(o.pretrainDir);
    for (int k = 0; k < o.folds; ++k) {
      sslOfFold.push_back(pretrainFold(db, o, k, root.root, sslIn, rep, progress, cancel));
      if (sslOfFold.back().empty()) {
        rep.cancelled = true;
        return rep;
      }
    }
  }
  deepFeats.feats["handcrafted"] = std::move(hand);
  if (!probeAll(o, deepFeats.feats, sslOfFold, rep, progress, cancel)) {
    rep.cancelled = true;
    return rep;
  }
  pairWithRandom(rep);
  return rep;
}

}  // namespace e2e::jobs
