// Classification metrics as the jobs report them (see classification_report.h).
#include "pipeline/classification_report.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace e2e::pipeline {

namespace {
using Metric = std::function<double(const std::vector<int>&, const model::Scores&)>;

std::vector<std::pair<std::string, Metric>> metricFunctions(int K) {
  return {
      {"accuracy", [](auto& t, auto& s) { return model::accuracy(t, model::argmaxRows(s)); }},
      {"balanced_accuracy", [K](auto& t, auto& s) { return model::balancedAccuracy(t, model::argmaxRows(s), K); }},
      {"f1", [K](auto& t, auto& s) { return model::macroF1(t, model::argmaxRows(s), K); }},
      {"auroc", [](auto& t, auto& s) { return model::evaluate(t, s).auroc; }},
      {"auprc", [](auto& t, auto& s) { return model::evaluate(t, s).auprc; }},
  };
}

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
}  // namespace

const std::vector<std::string>& classificationMetricNames() {
  static const std::vector<std::string> names{"accuracy", "balanced_accuracy", "f1", "auroc", "auprc"};
  return names;
}

nlohmann::ordered_json MetricsWithCi::toJson() const {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (n == 0) return j;
  for (const auto& name : classificationMetricNames()) {
    auto it = ci.find(name);
    if (it == ci.end()) continue;
    j[name] = it->second.value;
    j[name + "_ci"] = {it->second.lower, it->second.upper};
  }
  j["n"] = n;
  return j;
}

MetricsWithCi metricsWithCi(const std::vector<int>& truth, const model::Scores& scores, int resamples) {
  MetricsWithCi o;
  if (truth.empty()) return o;
  o.n = truth.size();
  const int K = static_cast<int>(scores[0].size());
  for (auto& [name, fn] : metricFunctions(K)) o.ci[name] = model::bootstrapCi(truth, scores, fn, resamples, 0.95, 42);
  return o;
}

nlohmann::ordered_json pointMetricsJson(const std::vector<int>& truth, const model::Scores& scores) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  if (truth.empty()) return j;
  const auto r = model::evaluate(truth, scores);
  j["accuracy"] = r.accuracy;
  j["balanced_accuracy"] = r.balancedAccuracy;
  j["f1"] = r.macroF1;
  j["auroc"] = r.auroc;
  j["auprc"] = r.auprc;
  return j;
}

nlohmann::ordered_json rocJson(const std::vector<int>& truth, const model::Scores& scores,
                               const std::vector<std::string>& classes) {
  const int K = static_cast<int>(classes.size());
  auto one = [&](int c) {
    std::vector<int> pos;
    std::vector<double> sc;
    for (std::size_t i = 0; i < truth.size(); ++i) {
      pos.push_back(truth[i] == c ? 1 : 0);
      sc.push_back(scores[i][static_cast<std::size_t>(c)]);
    }
    const auto r = rocCurve(pos, sc);
    return nlohmann::ordered_json{{"fpr", r.fpr}, {"tpr", r.tpr}};
  };
  if (K == 2) return one(1);
  auto out = nlohmann::ordered_json::array();
  for (int c = 0; c < K; ++c) {
    nlohmann::ordered_json e{{"class", classes[static_cast<std::size_t>(c)]}};
    const auto curve = one(c);
    for (auto& [k, v] : curve.items()) e[k] = v;
    out.push_back(std::move(e));
  }
  return out;
}

nlohmann::ordered_json confusionJson(const std::vector<int>& truth, const model::Scores& scores, int K) {
  std::vector<std::vector<int>> m(static_cast<std::size_t>(K), std::vector<int>(static_cast<std::size_t>(K), 0));
  const auto pred = model::argmaxRows(scores);
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (truth[i] >= 0 && truth[i] < K && pred[i] >= 0 && pred[i] < K)
      ++m[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(pred[i])];
  return m;
}

}  // namespace e2e::pipeline
