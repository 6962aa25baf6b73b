// The statistics of the cross-validated evaluate job (see evaluate_cv.h): patient-level stratified
// folds, the two probes on the out-of-fold split, the patient bootstrap and the report's JSON.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "jobs/evaluate_cv.h"

namespace e2e::jobs {

std::vector<int> stratifiedPatientFolds(const std::vector<std::int64_t>& patient, const std::vector<int>& truth,
                                        int k, std::uint64_t seed) {
  if (patient.size() != truth.size()) throw std::invalid_argument("folds: one patient per ECG needed");
  if (k < 2) throw std::invalid_argument("cross-validation needs at least 2 folds");
  std::map<std::int64_t, int> classOf;  // a patient is positive if any of its ECGs is
  for (std::size_t i = 0; i < patient.size(); ++i) classOf[patient[i]] = std::max(classOf[patient[i]], truth[i] ? 1 : 0);
  std::vector<std::int64_t> byClass[2];
  for (const auto& [p, c] : classOf) byClass[c].push_back(p);
  const char* names[2] = {"negative", "positive"};
  for (int c = 1; c >= 0; --c)
    if (byClass[c].size() < static_cast<std::size_t>(k))
      throw std::invalid_argument("too few " + std::string(names[c]) + " patients for " + std::to_string(k) +
                                  " folds: " + std::to_string(byClass[c].size()) + " (each fold needs at least one)");
  std::mt19937_64 rng(seed);
  std::map<std::int64_t, int> foldOfPatient;
  std::size_t next = 0;  // continue dealing across the classes so fold sizes differ by at most one
  for (auto& ids : byClass) {
    std::shuffle(ids.begin(), ids.end(), rng);
    for (auto p : ids) foldOfPatient[p] = static_cast<int>(next++ % static_cast<std::size_t>(k));
  }
  std::vector<int> out(patient.size());
  for (std::size_t i = 0; i < patient.size(); ++i) out[i] = foldOfPatient[patient[i]];
  return out;
}

namespace {

// Per-feature mean and SD of the training rows; a feature constant there gets scale 0 (it carries
// nothing the probe could learn, and dividing by ~0 would blow up the held-out rows).
struct Standardiser {
  std::vector<double> mean, scale;
  explicit Standardiser(const std::vector<const std::vector<float>*>& rows) {
    const std::size_t d = rows.front()->size();
    mean.assign(d, 0.0);
    scale.assign(d, 0.0);
    for (const auto* r : rows)
      for (std::size_t j = 0; j < d; ++j) mean[j] += (*r)[j];
    for (auto& m : mean) m /= static_cast<double>(rows.size());
    std::vector<double> var(d, 0.0);
    for (const auto* r : rows)
      for (std::size_t j = 0; j < d; ++j) var[j] += ((*r)[j] - mean[j]) * ((*r)[j] - mean[j]);
    for (std::size_t j = 0; j < d; ++j) {
      const double sd = std::sqrt(var[j] / static_cast<double>(rows.size()));
      scale[j] = sd > 1e-9 ? 1.0 / sd : 0.0;
    }
  }
  std::vector<float> apply(const std::vector<float>& x) const {
    std::vector<float> y(x.size());
    for (std::size_t j = 0; j < x.size(); ++j) y[j] = static_cast<float>((x[j] - mean[j]) * scale[j]);
    return y;
  }
};

std::vector<float> unitLength(std::vector<float> x) {
  double n = 0;
  for (float v : x) n += static_cast<double>(v) * v;
  n = std::sqrt(n);
  if (n > 0)
    for (auto& v : x) v = static_cast<float>(v / n);
  return x;
}

torch::Tensor rowsTensor(const std::vector<std::vector<float>>& rows) {
  const auto d = static_cast<int64_t>(rows.front().size());
  auto t = torch::empty({static_cast<int64_t>(rows.size()), d}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (int64_t j = 0; j < d; ++j) a[static_cast<int64_t>(i)][j] = rows[i][static_cast<std::size_t>(j)];
  return t;
}

// L2-penalised logistic regression (bias not penalised), minimised by L-BFGS in float64; returns the
// positive-class probabilities of `test`.
std::vector<double> logisticScores(const std::vector<std::vector<float>>& train, const std::vector<int>& y,
                                   const std::vector<std::vector<float>>& test, double l2) {
  torch::NoGradGuard outer;
  const auto X = rowsTensor(train), Xt = rowsTensor(test);
  auto yt = torch::empty({static_cast<int64_t>(y.size()), 1}, torch::kFloat64);
  for (std::size_t i = 0; i < y.size(); ++i) yt[static_cast<int64_t>(i)][0] = y[i] ? 1.0 : 0.0;
  auto w = torch::zeros({X.size(1), 1}, torch::kFloat64).requires_grad_(true);
  auto b = torch::zeros({1}, torch::kFloat64).requires_grad_(true);
  torch::optim::LBFGS opt({w, b}, torch::optim::LBFGSOptions(1.0)
                                      .max_iter(500)
                                      .max_eval(1000)
                                      .tolerance_grad(1e-9)
                                      .tolerance_change(1e-12)
                                      .history_size(20)
                                      .line_search_fn("strong_wolfe"));
  auto closure = [&]() {
    torch::AutoGradMode on(true);
    opt.zero_grad();
    auto z = torch::addmm(b, X, w);
    auto loss = torch::binary_cross_entropy_with_logits(z, yt, {}, {}, at::Reduction::Sum) +
                0.5 * l2 * w.pow(2).sum();
    loss.backward();
    return loss;
  };
  {
    torch::AutoGradMode on(true);
    opt.step(closure);
  }
  auto p = torch::sigmoid(torch::addmm(b, Xt, w)).contiguous();
  return std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
}

}  // namespace

std::vector<double> crossValidatedScores(const std::vector<std::vector<float>>& features, const std::vector<int>& truth,
                                         const std::vector<int>& foldOf, const std::string& probe, int knnK,
                                         double l2) {
  if (probe != "linear" && probe != "knn") throw std::invalid_argument("unknown probe '" + probe + "' (linear, knn)");
  if (features.size() != truth.size() || foldOf.size() != truth.size() || features.empty())
    throw std::invalid_argument("cross-validation: features, labels and folds differ in length");
  const int k = *std::max_element(foldOf.begin(), foldOf.end()) + 1;
  std::vector<double> scores(truth.size(), std::nan(""));
  for (int f = 0; f < k; ++f) {
    std::vector<const std::vector<float>*> trainRows;
    std::vector<int> trainY;
    std::vector<std::size_t> testIdx;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      if (foldOf[i] == f) {
        testIdx.push_back(i);
      } else {
        trainRows.push_back(&features[i]);
        trainY.push_back(truth[i]);
      }
    }
    if (testIdx.empty() || trainRows.empty()) continue;
    const Standardiser st(trainRows);
    const bool knn = probe == "knn";
    auto prep = [&](const std::vector<float>& x) { return knn ? unitLength(st.apply(x)) : st.apply(x); };
    std::vector<std::vector<float>> tr, te;
    for (const auto* r : trainRows) tr.push_back(prep(*r));
    for (auto i : testIdx) te.push_back(prep(features[i]));
    std::vector<double> s;
    if (knn) {  // Euclidean distance of unit vectors ranks neighbours as cosine similarity does
      model::KnnClassifier c(std::min<int>(knnK, static_cast<int>(tr.size())));
      c.fit(tr, trainY, 2);
      for (const auto& row : c.predictProba(te)) s.push_back(row[1]);
    } else {
      s = logisticScores(tr, trainY, te, l2);
    }
    for (std::size_t j = 0; j < testIdx.size(); ++j) scores[testIdx[j]] = s[j];
  }
  return scores;
}

namespace {

double balancedAccuracyAtHalf(const std::vector<int>& truth, const std::vector<double>& score) {
  std::vector<int> pred(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) pred[i] = score[i] >= 0.5 ? 1 : 0;
  std::set<int> present(truth.begin(), truth.end());
  if (present.size() < 2) return std::nan("");
  return model::balancedAccuracy(truth, pred, 2);
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

}  // namespace

std::map<std::string, MetricCi> patientBootstrapMetrics(const std::vector<int>& truth, const std::vector<double>& scores,
                                                         const std::vector<std::int64_t>& patient, int resamples,
                                                         std::uint64_t seed) {
  using Metric = double (*)(const std::vector<int>&, const std::vector<double>&);
  const std::vector<std::pair<std::string, Metric>> metrics = {
      {"auroc", &model::aurocBinary}, {"auprc", &model::auprcBinary}, {"balanced_accuracy", &balancedAccuracyAtHalf}};
  std::map<std::int64_t, std::vector<std::size_t>> itemsOf;
  for (std::size_t i = 0; i < patient.size(); ++i) itemsOf[patient[i]].push_back(i);
  std::vector<const std::vector<std::size_t>*> groups;
  for (const auto& [p, items] : itemsOf) groups.push_back(&items);
  std::map<std::string, std::vector<double>> draws;
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::uniform_int_distribution<std::size_t> pick(0, groups.size() - 1);
  std::vector<int> t;
  std::vector<double> s;
  for (int r = 0; r < resamples; ++r) {
    t.clear();
    s.clear();
    for (std::size_t g = 0; g < groups.size(); ++g)
      for (auto i : *groups[pick(rng)]) {
        t.push_back(truth[i]);
        s.push_back(scores[i]);
      }
    for (const auto& [name, fn] : metrics) draws[name].push_back(fn(t, s));
  }
  std::map<std::string, MetricCi> out;
  for (const auto& [name, fn] : metrics) {
    MetricCi ci;
    ci.value = fn(truth, scores);
    ci.draws = draws[name];
    std::vector<double> d;
    for (double v : ci.draws)
      if (std::isfinite(v)) d.push_back(v);
    ci.resamples = static_cast<int>(d.size());
    ci.lower = d.empty() ? std::nan("") : percentile(d, 0.025);
    ci.upper = d.empty() ? std::nan("") : percentile(d, 0.975);
    out[name] = ci;
  }
  return out;
}

MetricCi pairedDifference(const MetricCi& a, const MetricCi& b) {
  MetricCi out;
  out.value = a.value - b.value;
  std::vector<double> d;
  for (std::size_t i = 0; i < std::min(a.draws.size(), b.draws.size()); ++i)
    if (std::isfinite(a.draws[i]) && std::isfinite(b.draws[i])) d.push_back(a.draws[i] - b.draws[i]);
  out.resamples = static_cast<int>(d.size());
  out.lower = d.empty() ? std::nan("") : percentile(d, 0.025);
  out.upper = d.empty() ? std::nan("") : percentile(d, 0.975);
  return out;
}

nlohmann::ordered_json EvaluateCvReport::toJson() const {
  nlohmann::ordered_json j;
  j["target"] = target;
  j["n"] = n;
  j["positives"] = positives;
  j["patients"] = patients;
  j["positive_patients"] = positivePatients;
  j["unlabelled"] = unlabelled;
  j["outside_path"] = outsidePath;
  j["unreadable"] = errors.size();
  j["folds"] = folds;
  j["seed"] = seed;
  j["knn_k"] = knnK;
  j["l2"] = l2;
  j["bootstrap"] = bootstrap;
  j["random_weights_seed"] = randomWeightsSeed;
  j["encoder_model"] = encoderModel;
  j["encoder_synthetic_training"] = encoderSyntheticTraining;
  j["cancelled"] = cancelled;
  auto& rs = j["results"] = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json o{{"representation", r.representation}, {"probe", r.probe}, {"dim", r.dim}};
    for (const char* name : {"auroc", "auprc", "balanced_accuracy"}) {
      auto it = r.metrics.find(name);
      if (it == r.metrics.end()) continue;
      auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); };
      o[name] = num(it->second.value);
      o[std::string(name) + "_ci"] = {num(it->second.lower), num(it->second.upper)};
    }
    if (r.aurocVsRandom.resamples > 0) {
      auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); };
      o["auroc_minus_random"] = num(r.aurocVsRandom.value);
      o["auroc_minus_random_ci"] = {num(r.aurocVsRandom.lower), num(r.aurocVsRandom.upper)};
    }
    if (r.aurocVsEncoder.resamples > 0) {
      auto num = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); };
      o["auroc_minus_encoder"] = num(r.aurocVsEncoder.value);
      o["auroc_minus_encoder_ci"] = {num(r.aurocVsEncoder.lower), num(r.aurocVsEncoder.upper)};
    }
    rs.push_back(o);
  }
  auto& pt = j["pretraining"] = nlohmann::ordered_json::array();
  for (const auto& f : pretraining)
    pt.push_back({{"fold", f.fold + 1},
                  {"held_out_patients", f.heldOut.size()},
                  {"pretraining_patients", f.trainPatients.size()},
                  {"seconds", f.seconds},
                  {"run_dir", f.runDir}});
  j["errors"] = errors;
  return j;
}

}  // namespace e2e::jobs
