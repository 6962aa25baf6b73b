// "Nice" axis ticks for the charts (Qt-free): steps of 1, 2, 2.5 or 5 x 10^k, an axis range that
// starts and ends on a tick, and the decimals a tick label needs. The training panel's loss,
// metric and ROC axes use it (ui/training), so ticks read 0.4 / 0.6 / 0.8 rather than 0.43 / 0.77.
#pragma once

#include <string>

namespace e2e::vm {

// The smallest of 1, 2, 2.5, 5 x 10^k that is >= rawStep (rawStep > 0, finite); 1 for anything else.
double niceStep(double rawStep);
// The next larger nice step after a nice `step` (1 -> 2 -> 2.5 -> 5 -> 10 ...).
double nextNiceStep(double step);
// Decimals that print every multiple of a nice `step` exactly: 0.25 -> 2, 0.5 -> 1, 5 -> 0.
int stepDecimals(double step);

struct AxisTicks {
  double min = 0, max = 1, step = 0.2;
  int intervals = 5;  // (max - min) / step
  int decimals = 1;   // for the tick labels
  std::string labelFormat() const;  // printf format, e.g. "%.1f"
};

// Ticks for data in [lo, hi]: at most `maxIntervals` (>= 1) intervals of a nice step no smaller
// than `minStep` (e.g. 1 for whole epochs; 0 = none). An empty or reversed range is widened around
// its value; non-finite bounds give [0, 1].
AxisTicks niceTicks(double lo, double hi, int maxIntervals = 5, double minStep = 0);

}  // namespace e2e::vm
