// Beat detection and median beats for the signal-quality assessment: the limb-lead (LA/RA)
// reversal rule works on the median beat of each lead.
#include <algorithm>
#include <cmath>

#include "signal/ecg_quality_internal.h"
#include "signal/filters.h"

namespace e2e::signal::quality {

namespace {

// Beat detector parameters (a simple energy detector in the spirit of Pan & Tompkins 1985).
constexpr double kQrsBandLowHz = 5.0;     // QRS energy band
constexpr double kQrsBandHighHz = 30.0;
constexpr double kEnergySmoothS = 0.08;   // moving-average window of the energy
constexpr double kBeatThreshold = 0.3;    // of the 99th percentile of the energy
constexpr double kRefractoryS = 0.25;
// Median-beat window and the measurement windows (s, relative to the energy peak = QRS centre).
constexpr double kBeatBeforeS = 0.30, kBeatAfterS = 0.50;
constexpr double kBaseFromS = -0.10, kBaseToS = -0.065;  // PR segment
constexpr double kPFromS = -0.26, kPToS = -0.10;
constexpr double kQrsFromS = -0.06, kQrsToS = 0.06;
constexpr double kTFromS = 0.12, kTToS = 0.42;
constexpr int kMinBeats = 3;
constexpr double kReversalMaxCorrIV6 = -0.2;  // tuned on LUDB: originals >= -0.2 except 4 of 200

enum { I = 0, aVR = 3, V6 = 11 };

std::vector<double> energy(const std::vector<std::vector<double>>& rows, const std::vector<bool>& usable, double fs) {
  std::size_t n = 0;
  for (std::size_t li = 0; li < rows.size(); ++li)
    if (usable[li]) n = std::max(n, rows[li].size());
  std::vector<double> e(n, 0.0);
  const bool band = kQrsBandHighHz < 0.95 * fs / 2;
  std::vector<Biquad> sos = butterworthHighpass(2, kQrsBandLowHz, fs);
  if (band) {
    const auto lp = butterworthLowpass(2, kQrsBandHighHz, fs);
    sos.insert(sos.end(), lp.begin(), lp.end());
  }
  for (std::size_t li = 0; li < rows.size(); ++li) {
    if (!usable[li] || rows[li].size() != n) continue;
    std::vector<double> b = sosfiltfilt(sos, rows[li]);
    std::vector<double> d(n, 0.0);
    for (std::size_t t = 1; t < n; ++t) d[t] = std::fabs(b[t] - b[t - 1]);
    const double scale = percentile(d, 0.99);
    if (!(scale > 0)) continue;
    for (std::size_t t = 0; t < n; ++t) e[t] += std::min(d[t] / scale, 3.0);
  }
  // centred moving average
  const auto half = static_cast<std::size_t>(kEnergySmoothS * fs / 2);
  std::vector<double> cum(n + 1, 0.0);
  for (std::size_t t = 0; t < n; ++t) cum[t + 1] = cum[t] + e[t];
  std::vector<double> s(n, 0.0);
  for (std::size_t t = 0; t < n; ++t) {
    const std::size_t a = t >= half ? t - half : 0, b = std::min(n, t + half + 1);
    s[t] = (cum[b] - cum[a]) / static_cast<double>(b - a);
  }
  return s;
}

double meanOver(const std::vector<double>& beat, double fs, double from, double to, double origin) {
  const auto a = static_cast<std::ptrdiff_t>(std::lround(origin + from * fs));
  const auto b = static_cast<std::ptrdiff_t>(std::lround(origin + to * fs));
  double acc = 0.0;
  int k = 0;
  for (auto t = std::max<std::ptrdiff_t>(a, 0); t <= b && t < static_cast<std::ptrdiff_t>(beat.size()); ++t) {
    acc += beat[static_cast<std::size_t>(t)];
    ++k;
  }
  return k ? acc / k : 0.0;
}

// Sample-wise median of the beats of one lead (window kBeatBeforeS .. kBeatAfterS around each peak).
std::vector<double> medianBeat(const std::vector<double>& x, const std::vector<std::size_t>& peaks, double fs) {
  const auto before = static_cast<std::size_t>(kBeatBeforeS * fs), after = static_cast<std::size_t>(kBeatAfterS * fs);
  std::vector<std::size_t> use;
  for (std::size_t p : peaks)
    if (p >= before && p + after < x.size()) use.push_back(p);
  std::vector<double> beat(before + after + 1, 0.0), col(use.size());
  if (use.empty()) return beat;
  for (std::size_t k = 0; k < beat.size(); ++k) {
    for (std::size_t j = 0; j < use.size(); ++j) col[j] = x[use[j] - before + k];
    beat[k] = percentile(col, 0.5);
  }
  return beat;
}

double correlation(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  if (n < 2) return 0.0;
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < n; ++i) ma += a[i], mb += b[i];
  ma /= n, mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

}  // namespace

std::vector<std::size_t> detectBeats(const std::vector<std::vector<double>>& rows, const std::vector<bool>& usable,
                                     double fs) {
  std::vector<std::size_t> peaks;
  if (!(fs > 2 * kQrsBandLowHz)) return peaks;
  const std::vector<double> e = energy(rows, usable, fs);
  if (e.size() < 3) return peaks;
  const double thr = kBeatThreshold * percentile(e, 0.99);
  if (!(thr > 0)) return peaks;
  const auto refractory = static_cast<std::size_t>(kRefractoryS * fs);
  for (std::size_t t = 1; t + 1 < e.size(); ++t) {
    if (e[t] < thr || e[t] < e[t - 1] || e[t] < e[t + 1]) continue;
    if (!peaks.empty() && t - peaks.back() < refractory) {
      if (e[t] > e[peaks.back()]) peaks.back() = t;
      continue;
    }
    peaks.push_back(t);
  }
  return peaks;
}

ReversalFeatures reversalFeatures(const std::vector<std::vector<double>>& rows, const std::vector<bool>& usable,
                                  double fs) {
  ReversalFeatures f;
  if (rows.size() < 12 || !usable[I] || !usable[aVR]) return f;
  const std::vector<std::size_t> peaks = detectBeats(rows, usable, fs);
  f.beats = static_cast<int>(peaks.size());
  if (f.beats < kMinBeats) return f;
  const auto hp = butterworthHighpass(2, kWanderCutHz, fs);
  auto beatOf = [&](int lead) { return medianBeat(sosfiltfilt(hp, rows[lead]), peaks, fs); };
  const std::vector<double> bI = beatOf(I), bR = beatOf(aVR);
  const double origin = kBeatBeforeS * fs;
  auto area = [&](const std::vector<double>& b, double from, double to) {
    const double base = meanOver(b, fs, kBaseFromS, kBaseToS, origin);
    return (meanOver(b, fs, from, to, origin) - base) * (to - from);
  };
  f.qrsI = area(bI, kQrsFromS, kQrsToS);
  f.pI = area(bI, kPFromS, kPToS);
  f.tI = area(bI, kTFromS, kTToS);
  f.qrsAvr = area(bR, kQrsFromS, kQrsToS);
  f.haveV6 = usable[V6];
  if (f.haveV6) f.corrIV6 = correlation(bI, beatOf(V6));
  f.valid = true;
  return f;
}

bool reversalLikely(const ReversalFeatures& f) {
  if (!f.valid) return false;
  // Lead I and V6 look at the heart from nearly the same (left lateral) side, so their beats are
  // alike; an LA/RA reversal inverts lead I only. Rule: I anti-correlated with V6 and lead I's P
  // wave or QRS negative. Measured on the 200 LUDB records (docs/results.md): 190/200 swapped
  // copies flagged, 1/200 originals. Without V6 the classic rule (I: negative P and QRS; aVR
  // upright) is used, which is more specific but less sensitive (117/200, 1/200).
  if (f.haveV6) return f.corrIV6 < kReversalMaxCorrIV6 && (f.qrsI < 0 || f.pI < 0);
  return f.qrsI < 0 && f.pI < 0 && f.qrsAvr > 0;
}

void reversalFinding(EcgQuality& q, const std::vector<std::vector<double>>& rows, const std::vector<bool>& usable,
                     double fs) {
  const ReversalFeatures f = reversalFeatures(rows, usable, fs);
  if (!reversalLikely(f)) return;
  q.issues.push_back({"", "limb_reversal", QualityIssue::Severity::Warning,
                      f.haveV6 ? "likely LA/RA limb-lead reversal (lead I inverted against V6, correlation " + fmt(f.corrIV6, 2) + ")"
                               : std::string("likely LA/RA limb-lead reversal (lead I: inverted P wave and QRS; aVR upright)")});
}

}  // namespace e2e::signal::quality
