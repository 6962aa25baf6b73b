// Nice axis ticks (see chart_ticks.h).
#include "viewmodel/chart_ticks.h"

#include <algorithm>
#include <cmath>

namespace e2e::vm {

namespace {
constexpr double kMantissas[] = {1.0, 2.0, 2.5, 5.0, 10.0};
constexpr double kEps = 1e-9;
}  // namespace

double niceStep(double raw) {
  if (!(raw > 0) || !std::isfinite(raw)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : kMantissas)
    if (m * p >= raw * (1 - kEps)) return m * p;
  return 10.0 * p;
}

double nextNiceStep(double step) {
  if (!(step > 0) || !std::isfinite(step)) return 1.0;
  const double p = std::pow(10.0, std::floor(std::log10(step) + kEps));
  for (double m : kMantissas)
    if (m * p > step * (1 + kEps)) return m * p;
  return 10.0 * p;
}

int stepDecimals(double step) {
  if (!(step > 0) || !std::isfinite(step)) return 0;
  for (int d = 0; d < 12; ++d) {
    const double scaled = step * std::pow(10.0, d);
    if (std::fabs(scaled - std::round(scaled)) < 1e-6 * std::max(1.0, scaled)) return d;
  }
  return 12;
}

std::string AxisTicks::labelFormat() const { return "%." + std::to_string(decimals) + "f"; }

AxisTicks niceTicks(double lo, double hi, int maxIntervals, double minStep) {
  AxisTicks t;
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  maxIntervals = std::max(1, maxIntervals);
  if (hi - lo <= kEps * std::max(1.0, std::fabs(lo))) {
    // One value: a unit-wide window around it (its magnitude's unit for large values).
    const double half = std::fabs(lo) > 1 ? 0.5 * std::pow(10.0, std::floor(std::log10(std::fabs(lo)))) : 0.5;
    lo -= half;
    hi += half;
  }
  double step = std::max(niceStep((hi - lo) / maxIntervals), minStep > 0 ? niceStep(minStep) : 0.0);
  for (int guard = 0; guard < 64; ++guard) {
    t.min = std::floor(lo / step + kEps) * step;
    t.max = std::ceil(hi / step - kEps) * step;
    t.intervals = static_cast<int>(std::lround((t.max - t.min) / step));
    if (t.intervals <= maxIntervals) break;
    step = nextNiceStep(step);
  }
  if (std::fabs(t.min) < kEps * step) t.min = 0;  // never "-0.0"
  if (std::fabs(t.max) < kEps * step) t.max = 0;
  t.step = step;
  t.intervals = std::max(1, t.intervals);
  if (t.max <= t.min) t.max = t.min + step;
  t.decimals = stepDecimals(step);
  return t;
}

}  // namespace e2e::vm
