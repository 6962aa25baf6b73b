// Mahalanobis out-of-distribution statistics (see ood.h).
#include "model/ood.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "model/model.h"

namespace e2e::model {

namespace {
torch::Tensor rowsTensor(const std::vector<std::vector<float>>& rows, const char* what) {
  const auto d = rows.empty() ? 0 : rows[0].size();
  auto t = torch::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(d)}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != d)
      throw std::invalid_argument(std::string("OOD statistics: ") + what + " embeddings differ in length (" +
                                  std::to_string(rows[i].size()) + " vs " + std::to_string(d) + ")");
    for (std::size_t k = 0; k < d; ++k) a[static_cast<int64_t>(i)][static_cast<int64_t>(k)] = rows[i][k];
  }
  return t;
}

// Ledoit & Wolf (2004): S* = (1 - a) S + a mu I, mu = tr(S)/d, a = min(b2, d2) / d2 with
// d2 = ||S - mu I||^2_F and b2 = 1/n^2 sum_k ||x_k x_k' - S||^2_F (x centred, S = X'X/n).
std::pair<torch::Tensor, double> shrunkCovariance(const torch::Tensor& xc) {
  const auto n = static_cast<double>(xc.size(0));
  const auto d = xc.size(1);
  auto S = xc.t().mm(xc) / n;
  const double mu = S.trace().item<double>() / static_cast<double>(d);
  auto eye = torch::eye(d, torch::kFloat64);
  const double d2 = (S - mu * eye).pow(2).sum().item<double>();
  // ||x x' - S||^2 = ||x||^4 - 2 x'Sx + ||S||^2
  auto sq = xc.pow(2).sum(1);
  auto xSx = (xc.mm(S) * xc).sum(1);
  const double sF = S.pow(2).sum().item<double>();
  const double b2bar = (sq.pow(2) - 2 * xSx + sF).sum().item<double>() / (n * n);
  const double a = d2 > 0 ? std::clamp(std::min(b2bar, d2) / d2, 0.0, 1.0) : 1.0;
  auto shrunk = (1 - a) * S + a * std::max(mu, 1e-12) * eye;
  return {shrunk, a};
}
}  // namespace

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = std::clamp(q, 0.0, 100.0) * static_cast<double>(v.size() - 1) / 100.0;
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const auto hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
}

OodStats fitOod(const std::vector<std::vector<float>>& train, const std::vector<std::vector<float>>& val) {
  if (train.size() < 2) throw std::invalid_argument("OOD statistics need at least 2 training embeddings");
  if (train[0].empty()) throw std::invalid_argument("OOD statistics: empty embeddings");
  auto x = rowsTensor(train, "training");
  OodStats s;
  s.mean = x.mean(0);
  auto [cov, a] = shrunkCovariance(x - s.mean);
  s.shrinkage = a;
  // symmetric positive definite: the inverse through its Cholesky factor
  s.precision = torch::cholesky_inverse(torch::linalg::cholesky(cov));
  s.nTrain = static_cast<std::int64_t>(train.size());
  s.nVal = static_cast<std::int64_t>(val.size());
  if (!val.empty() && val[0].size() != train[0].size())
    throw std::invalid_argument("OOD statistics: validation and training embeddings differ in length");
  s.threshold = percentile(s.distances(val.empty() ? train : val), 99.0);
  return s;
}

double OodStats::distance(const std::vector<float>& x) const { return distances({x})[0]; }

std::vector<double> OodStats::distances(const std::vector<std::vector<float>>& xs) const {
  std::vector<double> out;
  if (xs.empty()) return out;
  for (const auto& x : xs)
    if (static_cast<std::int64_t>(x.size()) != dim())
      throw std::invalid_argument("OOD score: the embedding has " + std::to_string(x.size()) +
                                  " values, the model's statistics " + std::to_string(dim()));
  auto xc = rowsTensor(xs, "query") - mean;
  auto d2 = (xc.mm(precision) * xc).sum(1).clamp_min(0).sqrt().contiguous();
  out.assign(d2.data_ptr<double>(), d2.data_ptr<double>() + d2.size(0));
  return out;
}

void saveOod(const OodStats& s, const std::string& path) {
  TensorMap m{{"ood.mean", s.mean.to(torch::kFloat32)},
              {"ood.precision", s.precision.to(torch::kFloat32)},
              {"ood.threshold", torch::tensor(s.threshold, torch::kFloat64)},
              {"ood.shrinkage", torch::tensor(s.shrinkage, torch::kFloat64)},
              {"ood.n_train", torch::tensor(s.nTrain, torch::kInt64)},
              {"ood.n_val", torch::tensor(s.nVal, torch::kInt64)}};
  saveTensorArchive(path + ".tmp", m);
  std::filesystem::rename(path + ".tmp", path);
}

OodStats loadOod(const std::string& path) {
  TensorMap m;
  try {
    m = loadTensorArchive(path);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot read the OOD statistics " + path + ": " + e.what());
  }
  for (const char* k : {"ood.mean", "ood.precision", "ood.threshold"})
    if (!m.count(k)) throw std::runtime_error(path + " is not an OOD statistics file (no " + k + ")");
  OodStats s;
  s.mean = m["ood.mean"].to(torch::kFloat64).contiguous();
  s.precision = m["ood.precision"].to(torch::kFloat64).contiguous();
  const auto d = s.mean.numel();
  if (s.mean.dim() != 1 || s.precision.dim() != 2 || s.precision.size(0) != d || s.precision.size(1) != d)
    throw std::runtime_error(path + ": OOD mean and precision do not fit each other");
  s.threshold = m["ood.threshold"].item<double>();
  if (m.count("ood.shrinkage")) s.shrinkage = m["ood.shrinkage"].item<double>();
  if (m.count("ood.n_train")) s.nTrain = m["ood.n_train"].item<int64_t>();
  if (m.count("ood.n_val")) s.nVal = m["ood.n_val"].item<int64_t>();
  return s;
}

std::vector<float> ecgInputFeatures(const std::vector<float>& input, std::int64_t leads, double hz) {
  if (leads < 1 || input.empty() || input.size() % static_cast<std::size_t>(leads) != 0 || !(hz > 0))
    throw std::invalid_argument("OOD input features: the input is not leads x samples");
  const auto n = static_cast<std::int64_t>(input.size()) / leads;
  auto x = torch::from_blob(const_cast<float*>(input.data()), {leads, n}, torch::kFloat32).to(torch::kFloat64);
  auto sd = x.std(1, /*unbiased=*/false);
  auto xc = x - x.mean(1, true);
  auto power = torch::fft::rfft(xc, c10::nullopt, 1).abs().pow(2);  // [leads, n/2+1]
  const auto bins = power.size(1);
  const double edges[] = {0.0, 0.5, 2.0, 5.0, 10.0, 20.0, hz / 2 + 1e-9};
  auto total = power.sum(1) + 1e-12;
  std::vector<float> out;
  out.reserve(static_cast<std::size_t>(leads) * 7);
  for (std::int64_t l = 0; l < leads; ++l) {
    out.push_back(static_cast<float>(std::log(sd[l].item<double>() + 1e-6)));
    for (int b = 0; b < 6; ++b) {
      const auto lo = static_cast<std::int64_t>(std::ceil(edges[b] * static_cast<double>(n) / hz));
      const auto hi = std::min<std::int64_t>(bins, static_cast<std::int64_t>(std::ceil(edges[b + 1] * static_cast<double>(n) / hz)));
      const double p = hi > lo ? power[l].slice(0, lo, hi).sum().item<double>() : 0.0;
      out.push_back(static_cast<float>(std::log(p / total[l].item<double>() + 1e-6)));
    }
  }
  return out;
}

std::string oodFlag(const std::optional<OodStats>& stats, double distance) {
  if (!stats || !std::isfinite(distance)) return "unknown";
  return stats->isOut(distance) ? "out" : "in";
}

}  // namespace e2e::model
