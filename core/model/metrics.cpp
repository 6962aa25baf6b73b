#include "model/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>

namespace e2e::model {

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

void checkSizes(std::size_t a, std::size_t b, const char* what) {
  if (a != b) throw std::invalid_argument(std::string(what) + ": size mismatch");
}

double quantileSorted(const std::vector<double>& v, double q) {
  if (v.empty()) return kNan;
  const double pos = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

int inferClasses(const std::vector<int>& truth, const Scores& scores) {
  int k = scores.empty() ? 0 : static_cast<int>(scores.front().size());
  for (int t : truth) k = std::max(k, t + 1);
  return k;
}
}  // namespace

double accuracy(const std::vector<int>& truth, const std::vector<int>& pred) {
  checkSizes(truth.size(), pred.size(), "accuracy");
  if (truth.empty()) return kNan;
  std::size_t ok = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) ok += truth[i] == pred[i];
  return static_cast<double>(ok) / static_cast<double>(truth.size());
}

double balancedAccuracy(const std::vector<int>& truth, const std::vector<int>& pred, int numClasses) {
  checkSizes(truth.size(), pred.size(), "balancedAccuracy");
  std::vector<double> tp(numClasses, 0), n(numClasses, 0);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= numClasses) throw std::invalid_argument("balancedAccuracy: label out of range");
    n[truth[i]] += 1;
    tp[truth[i]] += truth[i] == pred[i];
  }
  double sum = 0;
  int present = 0;
  for (int c = 0; c < numClasses; ++c)
    if (n[c] > 0) {
      sum += tp[c] / n[c];
      ++present;
    }
  return present ? sum / present : kNan;
}

double macroF1(const std::vector<int>& truth, const std::vector<int>& pred, int numClasses) {
  checkSizes(truth.size(), pred.size(), "macroF1");
  if (numClasses <= 0) return kNan;
  std::vector<double> tp(numClasses, 0), fp(numClasses, 0), fn(numClasses, 0);
  for (std::size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == pred[i]) {
      tp[truth[i]] += 1;
    } else {
      if (pred[i] >= 0 && pred[i] < numClasses) fp[pred[i]] += 1;
      fn[truth[i]] += 1;
    }
  }
  double sum = 0;
  for (int c = 0; c < numClasses; ++c) {
    const double denom = 2 * tp[c] + fp[c] + fn[c];
    sum += denom > 0 ? 2 * tp[c] / denom : 0.0;
  }
  return sum / numClasses;
}

double aurocBinary(const std::vector<int>& positive, const std::vector<double>& score) {
  checkSizes(positive.size(), score.size(), "aurocBinary");
  const std::size_t n = score.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return score[a] < score[b]; });
  double rankSumPos = 0, nPos = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && score[idx[j]] == score[idx[i]]) ++j;
    const double avgRank = 0.5 * static_cast<double>(i + 1 + j);  // mean of ranks i+1..j
    for (std::size_t t = i; t < j; ++t)
      if (positive[idx[t]] != 0) {
        rankSumPos += avgRank;
        nPos += 1;
      }
    i = j;
  }
  const double nNeg = static_cast<double>(n) - nPos;
  if (nPos == 0 || nNeg == 0) return kNan;
  return (rankSumPos - nPos * (nPos + 1) / 2) / (nPos * nNeg);
}

double auprcBinary(const std::vector<int>& positive, const std::vector<double>& score) {
  checkSizes(positive.size(), score.size(), "auprcBinary");
  const std::size_t n = score.size();
  double nPos = 0;
  for (int p : positive) nPos += p != 0;
  if (nPos == 0) return kNan;
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
  double tp = 0, fp = 0, prevRecall = 0, ap = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && score[idx[j]] == score[idx[i]]) {
      (positive[idx[j]] != 0 ? tp : fp) += 1;
      ++j;
    }
    const double recall = tp / nPos, precision = tp / (tp + fp);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
    i = j;
  }
  return ap;
}

namespace {
template <typename Fn>
double ovrMacro(const std::vector<int>& truth, const Scores& scores, Fn fn) {
  checkSizes(truth.size(), scores.size(), "ovr");
  const int k = inferClasses(truth, scores);
  double sum = 0;
  int used = 0;
  for (int c = 0; c < k; ++c) {
    std::vector<int> pos(truth.size());
    std::vector<double> s(truth.size());
    for (std::size_t i = 0; i < truth.size(); ++i) {
      pos[i] = truth[i] == c;
      s[i] = scores[i].at(c);
    }
    const double v = fn(pos, s);
    if (!std::isnan(v)) {
      // a class needs negatives too for AUROC; AP is defined with positives only but we keep
      // the same class set as AUROC (both present) for comparability
      const auto npos = std::count(pos.begin(), pos.end(), 1);
      if (npos == 0 || npos == static_cast<long>(pos.size())) continue;
      sum += v;
      ++used;
    }
  }
  return used ? sum / used : kNan;
}
}  // namespace

double aurocOvr(const std::vector<int>& truth, const Scores& scores) { return ovrMacro(truth, scores, aurocBinary); }
double auprcOvr(const std::vector<int>& truth, const Scores& scores) { return ovrMacro(truth, scores, auprcBinary); }

std::vector<int> argmaxRows(const Scores& scores) {
  std::vector<int> out;
  out.reserve(scores.size());
  for (const auto& row : scores)
    out.push_back(static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()));
  return out;
}

ClassificationReport evaluate(const std::vector<int>& truth, const Scores& scores) {
  ClassificationReport r;
  const int k = inferClasses(truth, scores);
  const auto pred = argmaxRows(scores);
  r.accuracy = accuracy(truth, pred);
  r.balancedAccuracy = balancedAccuracy(truth, pred, k);
  r.macroF1 = macroF1(truth, pred, k);
  if (k == 2) {
    std::vector<int> pos(truth.size());
    std::vector<double> s(truth.size());
    for (std::size_t i = 0; i < truth.size(); ++i) {
      pos[i] = truth[i] == 1;
      s[i] = scores[i].at(1);
    }
    r.auroc = aurocBinary(pos, s);
    r.auprc = auprcBinary(pos, s);
  } else {
    r.auroc = aurocOvr(truth, scores);
    r.auprc = auprcOvr(truth, scores);
  }
  return r;
}

ConfidenceInterval bootstrapCi(const std::vector<int>& truth, const Scores& scores,
                               const std::function<double(const std::vector<int>&, const Scores&)>& metric,
                               int resamples, double level, std::uint64_t seed) {
  checkSizes(truth.size(), scores.size(), "bootstrapCi");
  ConfidenceInterval ci;
  ci.value = metric(truth, scores);
  if (truth.empty()) return ci;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, truth.size() - 1);
  std::vector<double> values;
  values.reserve(resamples);
  std::vector<int> t(truth.size());
  Scores s(truth.size());
  for (int r = 0; r < resamples; ++r) {
    for (std::size_t i = 0; i < truth.size(); ++i) {
      const std::size_t j = pick(rng);
      t[i] = truth[j];
      s[i] = scores[j];
    }
    const double v = metric(t, s);
    if (!std::isnan(v)) values.push_back(v);
  }
  std::sort(values.begin(), values.end());
  ci.resamples = static_cast<int>(values.size());
  const double alpha = (1.0 - level) / 2.0;
  ci.lower = quantileSorted(values, alpha);
  ci.upper = quantileSorted(values, 1.0 - alpha);
  return ci;
}

void KnnClassifier::fit(std::vector<std::vector<float>> features, std::vector<int> labels, int numClasses) {
  checkSizes(features.size(), labels.size(), "KnnClassifier::fit");
  if (features.empty()) throw std::invalid_argument("KnnClassifier::fit: no samples");
  for (const auto& f : features)
    if (f.size() != features.front().size()) throw std::invalid_argument("KnnClassifier::fit: ragged features");
  for (int l : labels)
    if (l < 0 || l >= numClasses) throw std::invalid_argument("KnnClassifier::fit: label out of range");
  features_ = std::move(features);
  labels_ = std::move(labels);
  numClasses_ = numClasses;
}

std::vector<std::pair<double, int>> KnnClassifier::neighbours(const std::vector<float>& x) const {
  if (features_.empty()) throw std::logic_error("KnnClassifier: not fitted");
  if (x.size() != features_.front().size()) throw std::invalid_argument("KnnClassifier: feature size differs");
  std::vector<std::pair<double, int>> d(features_.size());
  for (std::size_t i = 0; i < features_.size(); ++i) {
    double s = 0;
    for (std::size_t j = 0; j < x.size(); ++j) {
      const double diff = static_cast<double>(x[j]) - features_[i][j];
      s += diff * diff;
    }
    d[i] = {s, static_cast<int>(i)};
  }
  const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(k_), d.size());
  std::partial_sort(d.begin(), d.begin() + static_cast<long>(k), d.end());
  d.resize(k);
  return d;
}

std::vector<double> KnnClassifier::predictProba(const std::vector<float>& x) const {
  const auto nb = neighbours(x);
  std::vector<double> p(numClasses_, 0.0);
  for (const auto& n : nb) p[labels_[n.second]] += 1.0 / static_cast<double>(nb.size());
  return p;
}

Scores KnnClassifier::predictProba(const std::vector<std::vector<float>>& xs) const {
  Scores out;
  out.reserve(xs.size());
  for (const auto& x : xs) out.push_back(predictProba(x));
  return out;
}

int KnnClassifier::predict(const std::vector<float>& x) const {
  const auto nb = neighbours(x);
  std::vector<int> votes(numClasses_, 0);
  std::vector<double> dist(numClasses_, 0.0);
  for (const auto& n : nb) {
    votes[labels_[n.second]] += 1;
    dist[labels_[n.second]] += std::sqrt(n.first);
  }
  int best = 0;
  for (int c = 1; c < numClasses_; ++c)
    if (votes[c] > votes[best] || (votes[c] == votes[best] && votes[c] > 0 && dist[c] < dist[best])) best = c;
  return best;
}

}  // namespace e2e::model
