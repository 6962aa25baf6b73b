#include "signal/filters.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace e2e::signal {
namespace {

constexpr double kPi = 3.14159265358979323846;

void checkFreq(double f, double fs, double q, const char* what) {
  if (!(fs > 0) || !(f > 0) || !(f < fs / 2) || !(q > 0))
    throw std::invalid_argument(std::string(what) + ": need 0 < f < fs/2 and q > 0 (f=" + std::to_string(f) +
                                ", fs=" + std::to_string(fs) + ")");
}

Biquad normalise(double b0, double b1, double b2, double a0, double a1, double a2) {
  return Biquad{b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
}

std::vector<double> butterworthQs(int order) {
  if (order < 2 || order % 2 != 0 || order > 16)
    throw std::invalid_argument("Butterworth order must be even, 2..16");
  std::vector<double> qs;
  for (int k = 1; k <= order / 2; ++k) qs.push_back(1.0 / (2.0 * std::cos(kPi * (2.0 * k - 1.0) / (2.0 * order))));
  return qs;
}

// Steady-state DF2T state of one section for a constant unit input.
void steadyState(const Biquad& s, double& z1, double& z2) {
  const double g = s.dcGain();
  z2 = s.b2 - s.a2 * g;
  z1 = s.b1 - s.a1 * g + z2;
}

// Runs the cascade in place starting from the steady state for a constant input x[0].
void runCascade(const std::vector<Biquad>& sos, std::vector<double>& x) {
  if (x.empty()) return;
  double level = x[0];
  for (const auto& s : sos) {
    double z1, z2;
    steadyState(s, z1, z2);
    z1 *= level;
    z2 *= level;
    for (double& v : x) {
      const double in = v;
      const double out = s.b0 * in + z1;
      z1 = s.b1 * in - s.a1 * out + z2;
      z2 = s.b2 * in - s.a2 * out;
      v = out;
    }
    level *= s.dcGain();
  }
}

std::vector<float> toFloat(const std::vector<double>& y) { return std::vector<float>(y.begin(), y.end()); }

std::vector<float> filtFloat(const std::vector<Biquad>& sos, const std::vector<float>& x, std::size_t padLen) {
  std::vector<double> xd(x.begin(), x.end());
  return toFloat(sosfiltfilt(sos, xd, padLen));
}

std::size_t periodsPad(double fs, double f, double periods) {
  return static_cast<std::size_t>(std::ceil(periods * fs / f)) + 1;
}

}  // namespace

Biquad designLowpass(double fc, double fs, double q) {
  checkFreq(fc, fs, q, "designLowpass");
  const double w0 = 2 * kPi * fc / fs, c = std::cos(w0), alpha = std::sin(w0) / (2 * q);
  return normalise((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha);
}

Biquad designHighpass(double fc, double fs, double q) {
  checkFreq(fc, fs, q, "designHighpass");
  const double w0 = 2 * kPi * fc / fs, c = std::cos(w0), alpha = std::sin(w0) / (2 * q);
  return normalise((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha);
}

Biquad designNotch(double f0, double fs, double q) {
  checkFreq(f0, fs, q, "designNotch");
  const double w0 = 2 * kPi * f0 / fs, c = std::cos(w0), alpha = std::sin(w0) / (2 * q);
  return normalise(1, -2 * c, 1, 1 + alpha, -2 * c, 1 - alpha);
}

std::vector<Biquad> butterworthLowpass(int order, double fc, double fs) {
  std::vector<Biquad> sos;
  for (double q : butterworthQs(order)) sos.push_back(designLowpass(fc, fs, q));
  return sos;
}

std::vector<Biquad> butterworthHighpass(int order, double fc, double fs) {
  std::vector<Biquad> sos;
  for (double q : butterworthQs(order)) sos.push_back(designHighpass(fc, fs, q));
  return sos;
}

std::vector<double> sosfilt(const std::vector<Biquad>& sos, const std::vector<double>& x) {
  std::vector<double> y = x;
  for (const auto& s : sos) {
    double z1 = 0, z2 = 0;
    for (double& v : y) {
      const double in = v;
      const double out = s.b0 * in + z1;
      z1 = s.b1 * in - s.a1 * out + z2;
      z2 = s.b2 * in - s.a2 * out;
      v = out;
    }
  }
  return y;
}

std::vector<double> sosfiltfilt(const std::vector<Biquad>& sos, const std::vector<double>& x, std::size_t padLen) {
  const std::size_t n = x.size();
  if (n == 0 || sos.empty()) return x;
  if (padLen == 0) padLen = 3 * (2 * sos.size()) + 1;
  padLen = std::min(padLen, n - 1);
  std::vector<double> ext;
  ext.reserve(n + 2 * padLen);
  for (std::size_t i = padLen; i >= 1; --i) ext.push_back(2 * x[0] - x[i]);
  ext.insert(ext.end(), x.begin(), x.end());
  for (std::size_t i = 1; i <= padLen; ++i) ext.push_back(2 * x[n - 1] - x[n - 1 - i]);
  runCascade(sos, ext);
  std::reverse(ext.begin(), ext.end());
  runCascade(sos, ext);
  std::reverse(ext.begin(), ext.end());
  return std::vector<double>(ext.begin() + static_cast<std::ptrdiff_t>(padLen),
                             ext.begin() + static_cast<std::ptrdiff_t>(padLen + n));
}

std::vector<float> removeBaseline(const std::vector<float>& x, double fs, double cutoffHz) {
  return filtFloat(butterworthHighpass(2, cutoffHz, fs), x, periodsPad(fs, cutoffHz, 3));
}

std::vector<float> lowpass(const std::vector<float>& x, double fs, double cutoffHz) {
  if (cutoffHz >= 0.95 * fs / 2) return x;
  return filtFloat(butterworthLowpass(4, cutoffHz, fs), x, periodsPad(fs, cutoffHz, 3));
}

std::vector<float> notch(const std::vector<float>& x, double fs, double mainsHz, double q) {
  if (mainsHz >= fs / 2) return x;
  // The notch rings for about q / (pi f0) seconds; pad by three time constants.
  return filtFloat({designNotch(mainsHz, fs, q)}, x, periodsPad(fs, mainsHz / q, 3));
}

std::vector<float> applyDisplayFilter(const std::vector<float>& x, double fs, const DisplayFilter& f) {
  std::vector<float> y = x;
  std::vector<std::size_t> nans;
  for (std::size_t i = 0; i < y.size(); ++i)
    if (!std::isfinite(y[i])) {
      nans.push_back(i);
      y[i] = 0.f;
    }
  if (f.notchHz > 0) y = notch(y, fs, f.notchHz);
  if (f.baseline) y = removeBaseline(y, fs, f.baselineHz);
  if (f.lowpassHz > 0) y = lowpass(y, fs, f.lowpassHz);
  for (std::size_t i : nans) y[i] = std::numeric_limits<float>::quiet_NaN();
  return y;
}

}  // namespace e2e::signal
