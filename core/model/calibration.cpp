// Temperature scaling and the expected calibration error (see calibration.h).
#include "model/calibration.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace e2e::model {

namespace {
constexpr double kFloor = 1e-12;

void checkInputs(const std::vector<int>& truth, const Scores& p) {
  if (truth.size() != p.size())
    throw std::invalid_argument("calibration: " + std::to_string(truth.size()) + " labels for " +
                                std::to_string(p.size()) + " probability rows");
  for (std::size_t i = 0; i < truth.size(); ++i)
    if (truth[i] < 0 || static_cast<std::size_t>(truth[i]) >= p[i].size())
      throw std::invalid_argument("calibration: label " + std::to_string(truth[i]) + " out of range");
}

std::vector<double> scaledRow(const std::vector<double>& row, double t) {
  std::vector<double> z(row.size());
  double mx = -INFINITY;
  for (std::size_t k = 0; k < row.size(); ++k) {
    z[k] = std::log(std::max(row[k], kFloor)) / t;
    mx = std::max(mx, z[k]);
  }
  double s = 0;
  for (auto& v : z) s += (v = std::exp(v - mx));
  for (auto& v : z) v /= s;
  return z;
}
}  // namespace

Scores applyTemperature(const Scores& probabilities, double temperature) {
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw std::invalid_argument("calibration: the temperature must be a positive number");
  Scores out;
  out.reserve(probabilities.size());
  for (const auto& row : probabilities) out.push_back(scaledRow(row, temperature));
  return out;
}

double negativeLogLikelihood(const std::vector<int>& truth, const Scores& probabilities) {
  checkInputs(truth, probabilities);
  if (truth.empty()) return 0;
  double s = 0;
  for (std::size_t i = 0; i < truth.size(); ++i)
    s -= std::log(std::max(probabilities[i][static_cast<std::size_t>(truth[i])], kFloor));
  return s / static_cast<double>(truth.size());
}

double fitTemperature(const std::vector<int>& truth, const Scores& probabilities) {
  checkInputs(truth, probabilities);
  if (truth.empty()) return 1.0;
  auto nll = [&](double logT) { return negativeLogLikelihood(truth, applyTemperature(probabilities, std::exp(logT))); };
  // NLL(T) of temperature scaling is unimodal in log T: golden-section search.
  const double g = (std::sqrt(5.0) - 1) / 2;
  double a = std::log(0.05), b = std::log(20.0);
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = nll(c), fd = nll(d);
  while (b - a > 1e-4) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - g * (b - a);
      fc = nll(c);
    } else {
      a = c, c = d, fc = fd;
      d = a + g * (b - a);
      fd = nll(d);
    }
  }
  const double best = std::exp((a + b) / 2);
  // never worse than leaving the probabilities as they are
  return nll(std::log(best)) <= nll(0.0) ? best : 1.0;
}

CalibrationSummary calibrationSummary(const std::vector<int>& truth, const Scores& probabilities, int bins) {
  checkInputs(truth, probabilities);
  if (bins < 1 || bins > 1000) throw std::invalid_argument("calibration: 1 to 1000 bins");
  CalibrationSummary s;
  s.bins.resize(static_cast<std::size_t>(bins));
  for (int b = 0; b < bins; ++b) {
    s.bins[static_cast<std::size_t>(b)].lower = static_cast<double>(b) / bins;
    s.bins[static_cast<std::size_t>(b)].upper = static_cast<double>(b + 1) / bins;
  }
  for (std::size_t i = 0; i < truth.size(); ++i) {
    const auto& row = probabilities[i];
    const auto best = std::max_element(row.begin(), row.end());
    const double conf = *best;
    const int b = std::clamp(static_cast<int>(std::floor(conf * bins)), 0, bins - 1);
    auto& bin = s.bins[static_cast<std::size_t>(b)];
    ++bin.count;
    bin.confidence += conf;
    bin.accuracy += (best - row.begin()) == truth[i] ? 1.0 : 0.0;
  }
  const double n = static_cast<double>(truth.size());
  for (auto& bin : s.bins) {
    if (bin.count == 0) continue;
    bin.confidence /= bin.count;
    bin.accuracy /= bin.count;
    s.ece += bin.count / n * std::abs(bin.accuracy - bin.confidence);
  }
  return s;
}

}  // namespace e2e::model
