// Plausibility of a decoded ECG record, checked at import (so that nothing implausible is stored)
// and again before a model sees it (so that no output is ever made from an empty or flat trace).
// Header-only: used by the importer and by the torch-free pipeline data code.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstddef>
#include <string>

#include "common/types.h"

namespace e2e::importer {

inline constexpr double kMinEcgHz = 50.0;
inline constexpr double kMaxEcgHz = 20000.0;
inline constexpr double kMinEcgSeconds = 1.0;       // a rhythm record shorter than this is no ECG
inline constexpr double kMaxEcgSeconds = 24 * 3600.0;
inline constexpr std::size_t kMaxEcgLeads = 64;

// Why `rec` cannot be stored ("" when it can): no waveform, a sampling frequency outside
// [50 Hz, 20 kHz], fewer than 2 samples, a rhythm shorter than 1 s or longer than 24 h, 0 or more
// than 64 leads. Each reason names the limit.
inline std::string ecgImplausibility(const EcgRecord& rec) {
  if (rec.groups.empty()) return "no waveform data";
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  for (const auto& g : rec.groups) {
    const std::string which = (g.isMedian() ? "median group '" : "waveform group '") + g.label + "'";
    if (!std::isfinite(g.samplingHz) || g.samplingHz < kMinEcgHz || g.samplingHz > kMaxEcgHz)
      return "ECG sampling frequency " + num(g.samplingHz) + " Hz of " + which +
             " is outside the plausible range 50 Hz - 20 kHz";
    if (g.channels.empty() || g.channels.size() > kMaxEcgLeads)
      return which + " has " + std::to_string(g.channels.size()) + " leads (plausible: 1 - 64)";
    if (g.numSamples < 2) return which + " has " + std::to_string(g.numSamples) + " sample(s): no signal";
    const double seconds = static_cast<double>(g.numSamples) / g.samplingHz;
    if (!g.isMedian() && seconds < kMinEcgSeconds)
      return which + " is " + num(seconds) + " s long (" + std::to_string(g.numSamples) + " samples at " +
             num(g.samplingHz) + " Hz); an ECG needs at least 1 s";
    if (seconds > kMaxEcgSeconds)
      return which + " is " + num(seconds) + " s long; the limit is 24 h";
  }
  return "";
}

// "no signal: ..." when no lead of the rhythm group (the first group if there is none) carries a
// signal: every sample invalid (NaN, padding) or every lead flat; "" otherwise.
inline std::string ecgNoSignal(const EcgRecord& rec) {
  const EcgGroup* g = rec.rhythm();
  if (!g && !rec.groups.empty()) g = &rec.groups.front();
  if (!g || g->channels.empty()) return "no signal: no leads";
  bool anyValid = false;
  for (const auto& c : g->channels) {
    double lo = INFINITY, hi = -INFINITY;
    for (float x : c.samples)
      if (std::isfinite(x)) {
        lo = std::min(lo, static_cast<double>(x));
        hi = std::max(hi, static_cast<double>(x));
      }
    if (lo > hi) continue;  // no valid sample in this lead
    anyValid = true;
    if (hi - lo > 1e-6) return "";  // this lead moves
  }
  return anyValid ? "no signal: all leads flat" : "no signal: all samples invalid (NaN or padding)";
}

}  // namespace e2e::importer
