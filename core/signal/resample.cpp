#include "signal/resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace e2e::signal {
namespace {

constexpr double kPi = 3.14159265358979323846;

double besselI0(double x) {
  // Power series; converges quickly for the beta values used here.
  double sum = 1.0, term = 1.0, q = x * x / 4.0;
  for (int k = 1; k < 200; ++k) {
    term *= q / (static_cast<double>(k) * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

struct Kernel {
  double fc;         // cut-off, cycles per input sample
  double halfWidth;  // in input samples
  double beta, i0beta;
  double operator()(double d) const {
    double ad = std::fabs(d);
    if (ad >= halfWidth) return 0.0;
    double a = 2.0 * fc * d;
    double s = a == 0.0 ? 1.0 : std::sin(kPi * a) / (kPi * a);
    double r = ad / halfWidth;
    return s * besselI0(beta * std::sqrt(1.0 - r * r)) / i0beta;
  }
};

// x extended by odd reflection about its end samples.
inline double sampleAt(const std::vector<double>& x, long long i) {
  const long long n = static_cast<long long>(x.size());
  if (i >= 0 && i < n) return x[static_cast<std::size_t>(i)];
  if (i < 0) {
    long long j = -i;
    if (j >= n) return x[0];
    return 2.0 * x[0] - x[static_cast<std::size_t>(j)];
  }
  long long j = 2 * (n - 1) - i;
  if (j < 0) return x[static_cast<std::size_t>(n - 1)];
  return 2.0 * x[static_cast<std::size_t>(n - 1)] - x[static_cast<std::size_t>(j)];
}

// Best rational approximation p/q of r with q <= maxDen (continued fractions); false if none is
// within a relative 1e-12.
bool rationalApprox(double r, long long maxDen, long long& p, long long& q) {
  long long h0 = 0, h1 = 1, k0 = 1, k1 = 0;
  double x = r;
  for (int it = 0; it < 64; ++it) {
    double a = std::floor(x);
    if (a > 1e12) break;
    long long ai = static_cast<long long>(a);
    long long h2 = ai * h1 + h0, k2 = ai * k1 + k0;
    if (k2 > maxDen) break;
    h0 = h1; h1 = h2; k0 = k1; k1 = k2;
    if (std::fabs(static_cast<double>(h1) / static_cast<double>(k1) - r) <= 1e-12 * r) {
      p = h1;
      q = k1;
      return p > 0;
    }
    double frac = x - a;
    if (frac < 1e-15) break;
    x = 1.0 / frac;
  }
  return false;
}

}  // namespace

std::size_t resampledLength(std::size_t n, double fromHz, double toHz) {
  if (n == 0) return 0;
  double len = std::round(static_cast<double>(n) * toHz / fromHz);
  if (!(len <= static_cast<double>(kMaxResampledLength)))
    throw std::invalid_argument("resample: " + std::to_string(n) + " samples from " + std::to_string(fromHz) +
                                " Hz to " + std::to_string(toHz) + " Hz would give more than " +
                                std::to_string(kMaxResampledLength) + " samples");
  return len < 1 ? 1 : static_cast<std::size_t>(len);
}

std::vector<double> resample(const std::vector<double>& x, double fromHz, double toHz, const ResampleOptions& opt) {
  if (!(fromHz > 0) || !(toHz > 0) || !std::isfinite(fromHz) || !std::isfinite(toHz))
    throw std::invalid_argument("resample: sampling rates must be positive");
  if (opt.cutoffFraction <= 0 || opt.cutoffFraction > 1 || opt.zeroCrossings < 1)
    throw std::invalid_argument("resample: invalid options");
  if (x.empty()) return {};
  if (fromHz == toHz) return x;
  const double ratio = toHz / fromHz;  // output samples per input sample
  // Beyond 10^4 either way the kernel (or the output) would be unbounded: a wrong rate, not a signal.
  if (ratio > 1e4 || ratio < 1e-4)
    throw std::invalid_argument("resample: rate ratio " + std::to_string(fromHz) + " Hz -> " + std::to_string(toHz) +
                                " Hz is beyond 1:10000");
  Kernel k;
  k.fc = 0.5 * opt.cutoffFraction * std::min(1.0, ratio);
  k.halfWidth = opt.zeroCrossings / (2.0 * k.fc);
  k.beta = opt.kaiserBeta;
  k.i0beta = besselI0(opt.kaiserBeta);
  const long long H = static_cast<long long>(std::ceil(k.halfWidth));
  const std::size_t nOut = resampledLength(x.size(), fromHz, toHz);
  std::vector<double> y(nOut);

  long long L = 0, M = 0;  // ratio = L / M: input position of output j = j * M / L
  if (rationalApprox(ratio, 100000, L, M) && L <= 4096) {
    // Polyphase: one weight table per phase (fractional offset phase / L).
    const std::size_t taps = static_cast<std::size_t>(2 * H + 1);
    std::vector<double> table(static_cast<std::size_t>(L) * taps);
    for (long long ph = 0; ph < L; ++ph) {
      const double frac = static_cast<double>(ph) / static_cast<double>(L);
      double sum = 0;
      double* w = &table[static_cast<std::size_t>(ph) * taps];
      for (long long j = -H; j <= H; ++j) {
        w[j + H] = k(frac - static_cast<double>(j));
        sum += w[j + H];
      }
      for (std::size_t t = 0; t < taps; ++t) w[t] /= sum;
    }
    for (std::size_t j = 0; j < nOut; ++j) {
      const long long num = static_cast<long long>(j) * M;
      const long long base = num / L, ph = num % L;
      const double* w = &table[static_cast<std::size_t>(ph) * taps];
      double acc = 0;
      if (base - H >= 0 && base + H < static_cast<long long>(x.size())) {
        const double* xp = &x[static_cast<std::size_t>(base - H)];
        for (std::size_t t = 0; t < taps; ++t) acc += w[t] * xp[t];
      } else {
        for (long long t = -H; t <= H; ++t) acc += w[t + H] * sampleAt(x, base + t);
      }
      y[j] = acc;
    }
  } else {
    // Irrational (or very fine) ratio: evaluate the kernel per output sample.
    for (std::size_t j = 0; j < nOut; ++j) {
      const double pos = static_cast<double>(j) / ratio;
      const long long base = static_cast<long long>(std::floor(pos));
      const double frac = pos - static_cast<double>(base);
      double acc = 0, sum = 0;
      for (long long t = -H; t <= H + 1; ++t) {
        double w = k(frac - static_cast<double>(t));
        acc += w * sampleAt(x, base + t);
        sum += w;
      }
      y[j] = acc / sum;
    }
  }
  return y;
}

std::vector<float> resample(const std::vector<float>& x, double fromHz, double toHz, const ResampleOptions& opt) {
  std::vector<double> xd(x.begin(), x.end());
  std::vector<double> yd = resample(xd, fromHz, toHz, opt);
  return std::vector<float>(yd.begin(), yd.end());
}

}  // namespace e2e::signal
