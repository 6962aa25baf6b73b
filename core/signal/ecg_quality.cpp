// Signal quality of an ECG (issue 23): per-lead measures on the 12 standard leads at the source
// sampling rate, then record-level findings (limb-lead reversal, pacing, usability).
#include "signal/ecg_quality.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "signal/ecg_quality_internal.h"
#include "signal/filters.h"
#include "signal/preprocess.h"

namespace e2e::signal {

const char* toString(QualityIssue::Severity s) {
  return s == QualityIssue::Severity::Unusable ? "unusable" : "warning";
}

namespace quality {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0.0;
  const double pos = std::clamp(p, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  const auto k = static_cast<std::size_t>(pos);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

namespace {

// Median over consecutive windows of `win` samples of the RMS of x: robust to the QRS complexes,
// which fill only a minority of the windows of a normal ECG.
double medianWindowRms(const std::vector<double>& x, std::size_t win) {
  if (x.empty()) return 0.0;
  win = std::max<std::size_t>(1, std::min(win, x.size()));
  std::vector<double> rms;
  for (std::size_t s = 0; s + win <= x.size(); s += win) {
    double acc = 0.0;
    for (std::size_t i = s; i < s + win; ++i) acc += x[i] * x[i];
    rms.push_back(std::sqrt(acc / static_cast<double>(win)));
  }
  return percentile(rms, 0.5);
}

double rms(const std::vector<double>& x) {
  if (x.empty()) return 0.0;
  double acc = 0.0;
  for (double v : x) acc += v * v;
  return std::sqrt(acc / static_cast<double>(x.size()));
}

// Plateaus at the lead's extreme values: runs of at least `minRun` samples within kClipTolMv of
// the maximum (or minimum). Returns the fraction of samples in such runs and the run count.
void measureClipping(const std::vector<double>& x, double fs, LeadMeasures& m) {
  const std::size_t minRun = std::max<std::size_t>(kClipMinRunSamples,
                                                   static_cast<std::size_t>(std::lround(kClipMinRunS * fs)));
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  const double vmin = *lo, vmax = *hi;
  std::size_t inRuns = 0;
  int runs = 0;
  for (double level : {vmax, vmin}) {
    std::size_t run = 0;
    for (std::size_t i = 0; i <= x.size(); ++i) {
      if (i < x.size() && std::fabs(x[i] - level) <= kClipTolMv) {
        ++run;
        continue;
      }
      if (run >= minRun) {
        inRuns += run;
        ++runs;
      }
      run = 0;
    }
  }
  m.clipRuns = runs;
  m.clippedFraction = x.empty() ? 0.0 : static_cast<double>(inRuns) / static_cast<double>(x.size());
}

// Longest run of (numerically) constant samples, in samples, and the fraction of the lead in
// constant runs of at least kStuckMinRunS.
void measureStuck(const std::vector<double>& x, double fs, LeadMeasures& m) {
  const auto minRun = static_cast<std::size_t>(std::max(2.0, kStuckMinRunS * fs));
  std::size_t run = 1, longest = x.empty() ? 0 : 1, stuck = 0;
  for (std::size_t i = 1; i <= x.size(); ++i) {
    if (i < x.size() && std::fabs(x[i] - x[i - 1]) <= kStuckTolMv) {
      ++run;
      continue;
    }
    longest = std::max(longest, run);
    if (run >= minRun) stuck += run;
    run = 1;
  }
  m.longestConstantS = static_cast<double>(longest) / fs;
  m.stuckFraction = x.empty() ? 0.0 : static_cast<double>(stuck) / static_cast<double>(x.size());
}

// Range of the < kWanderCutHz component. A moving average first (so that the filter's edge
// padding does not start from a noisy end sample), and the first and last kWanderEdgeS are left
// out of the range when the record is long enough (the filter's start-up transient).
double wanderRange(const std::vector<double>& x, double fs) {
  const std::size_t n = x.size();
  const auto half = static_cast<std::size_t>(kWanderSmoothS * fs / 2);
  std::vector<double> cum(n + 1, 0.0), sm(n);
  for (std::size_t t = 0; t < n; ++t) cum[t + 1] = cum[t] + x[t];
  for (std::size_t t = 0; t < n; ++t) {
    const std::size_t a = t >= half ? t - half : 0, b = std::min(n, t + half + 1);
    sm[t] = (cum[b] - cum[a]) / static_cast<double>(b - a);
  }
  std::vector<double> wl = sosfiltfilt(butterworthLowpass(2, kWanderCutHz, fs), sm);
  const auto edge = static_cast<std::size_t>(kWanderEdgeS * fs);
  if (n > 4 * edge + 1) wl = std::vector<double>(wl.begin() + static_cast<std::ptrdiff_t>(edge), wl.end() - static_cast<std::ptrdiff_t>(edge));
  return percentile(wl, 1.0 - kRangeTail) - percentile(wl, kRangeTail);
}

}  // namespace

LeadMeasures measureLead(const std::vector<double>& x, double fs) {
  LeadMeasures m;
  if (x.empty() || !(fs > 0)) return m;
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  m.peakToPeakMv = *hi - *lo;
  m.median = percentile(x, 0.5);
  const std::vector<double> hp = fs > 2.0 ? sosfiltfilt(butterworthHighpass(2, kWanderCutHz, fs), x) : x;
  m.rangeMv = percentile(hp, 1.0 - kRangeTail) - percentile(hp, kRangeTail);
  std::vector<double> low = hp;
  std::vector<double> resid(hp.size(), 0.0);
  if (kNoiseCutHz < 0.95 * fs / 2) {
    low = sosfiltfilt(butterworthLowpass(4, kNoiseCutHz, fs), hp);
    for (std::size_t i = 0; i < hp.size(); ++i) resid[i] = hp[i] - low[i];
  }
  m.noiseRmsMv = medianWindowRms(resid, static_cast<std::size_t>(std::max(1.0, kNoiseWindowS * fs)));
  m.signalRangeMv = percentile(low, 1.0 - kRangeTail) - percentile(low, kRangeTail);
  for (double mains : {50.0, 60.0}) {
    if (mains >= 0.95 * fs / 2) continue;
    std::vector<double> n = sosfiltfilt({designNotch(mains, fs, 30.0)}, hp);
    for (std::size_t i = 0; i < n.size(); ++i) n[i] = hp[i] - n[i];
    const double r = rms(n);
    if (r > m.mainsRmsMv) {
      m.mainsRmsMv = r;
      m.mainsHz = mains;
    }
  }
  if (fs > 2.0) m.wanderMv = wanderRange(x, fs);
  measureClipping(x, fs, m);
  measureStuck(x, fs, m);
  if (fs >= kPacingMinHz) m.pacingSpikes = countPacingSpikes(x, fs);
  return m;
}

// Pacing spikes: a step between two samples of at least kSpikeMinMv and kSpikeNoiseFactor times
// the median step (the lead's noise floor) that is undone (an opposite step of at least half its
// size) within kSpikeMaxWidthS; one spike per kSpikeRefractoryS.
int countPacingSpikes(const std::vector<double>& x, double fs) {
  if (x.size() < 3) return 0;
  const auto width = static_cast<std::size_t>(std::max(1.0, std::ceil(kSpikeMaxWidthS * fs)));
  const auto refractory = static_cast<std::size_t>(kSpikeRefractoryS * fs);
  std::vector<double> steps(x.size() - 1);
  for (std::size_t i = 1; i < x.size(); ++i) steps[i - 1] = std::fabs(x[i] - x[i - 1]);
  const double minStep = std::max(kSpikeMinMv, kSpikeNoiseFactor * percentile(steps, 0.5));
  int count = 0;
  std::size_t last = 0;
  bool any = false;
  for (std::size_t i = 1; i + 1 < x.size(); ++i) {
    const double up = x[i] - x[i - 1];
    if (std::fabs(up) < minStep) continue;
    if (any && i - last < refractory) continue;
    for (std::size_t j = i + 1; j <= std::min(x.size() - 1, i + width); ++j) {
      const double back = x[j] - x[j - 1];
      if (back * up < 0 && std::fabs(back) >= 0.5 * std::fabs(up)) {
        ++count;
        last = i;
        any = true;
        break;
      }
    }
  }
  return count;
}

}  // namespace quality

namespace {

using namespace quality;
using Sev = QualityIssue::Severity;

void addIssue(EcgQuality& q, LeadQuality* lq, const std::string& code, Sev sev, const std::string& msg) {
  if (lq) lq->codes.push_back(code);
  q.issues.push_back({lq ? lq->lead : std::string(), code, sev, msg});
}

// The per-lead findings (all Warnings: a lead alone never stops the prediction). Returns whether
// the lead counts as usable (present and not flat, lead-off or clipped beyond half its length)
// and sets noiseDominated.
bool judgeLead(EcgQuality& q, LeadQuality& lq, const LeadMeasures& m, double durS, bool& noiseDominated) {
  const std::string& L = lq.lead;
  const bool flat = m.rangeMv < kFlatRangeMv;
  bool usable = true;
  if (flat) {
    addIssue(q, &lq, "flat", Sev::Warning,
             L + ": flat (peak-to-peak " + fmt(m.peakToPeakMv, 3) + " mV over " + fmt(durS, 1) + " s)");
    usable = false;
  }
  const bool offsetFlat = flat && std::fabs(m.median) >= kLeadOffOffsetMv;
  if (offsetFlat || (!flat && m.longestConstantS >= kLeadOffRunS)) {
    addIssue(q, &lq, "lead_off", Sev::Warning,
             L + ": lead off (signal stuck at " + fmt(m.median, 2) + " mV for " +
                 fmt(offsetFlat ? durS : m.longestConstantS, 1) + " s)");
    if (m.stuckFraction > kUnusableFraction) usable = false;
  }
  if (!flat && m.clipRuns >= kClipMinRuns && m.clippedFraction >= kClipMinFraction) {
    addIssue(q, &lq, "clipped", Sev::Warning,
             L + ": clipped (" + fmt(100.0 * m.clippedFraction, 1) + " % of samples at the extreme values, " +
                 std::to_string(m.clipRuns) + " plateaus)");
    if (m.clippedFraction > kUnusableFraction) usable = false;
  }
  noiseDominated = !flat && m.signalRangeMv < kNoiseDominatedRatio * m.noiseRmsMv;
  if (!flat && (m.noiseRmsMv > kNoiseRmsMv || m.mainsRmsMv > kMainsRmsMv || noiseDominated)) {
    std::string msg = L + ": noise (> " + fmt(kNoiseCutHz, 0) + " Hz residual " + fmt(1000 * m.noiseRmsMv, 0) +
                      " uV RMS";
    if (m.mainsRmsMv > kMainsRmsMv && m.mainsRmsMv > kMainsShareOfNoise * m.noiseRmsMv) msg += ", " + fmt(m.mainsHz, 0) + " Hz mains " + fmt(1000 * m.mainsRmsMv, 0) + " uV RMS";
    addIssue(q, &lq, "noise", Sev::Warning, msg + ")");
  }
  if (!flat && m.wanderMv > kWanderMv)
    addIssue(q, &lq, "baseline_wander", Sev::Warning,
             L + ": baseline wander (" + fmt(m.wanderMv, 2) + " mV below " + fmt(kWanderCutHz, 1) + " Hz)");
  return usable;
}

double leadScore(const LeadQuality& lq, const LeadMeasures& m, bool usable) {
  if (!lq.present || !usable) return 0.0;
  double s = 1.0;
  s -= std::min(0.5, 5.0 * m.clippedFraction);
  s -= std::min(0.5, 0.5 * m.stuckFraction);
  if (m.noiseRmsMv > 0 || m.mainsRmsMv > 0) {
    const double noise = std::max(m.noiseRmsMv, m.mainsRmsMv);
    s -= std::clamp(noise / (kNoiseRmsMv * 4.0), 0.0, 0.5);
  }
  s -= std::clamp(m.wanderMv / (kWanderMv * 4.0), 0.0, 0.25);
  return std::clamp(s, 0.0, 1.0);
}

void unusable(EcgQuality& q, const std::string& code, const std::string& msg) {
  addIssue(q, nullptr, code, Sev::Unusable, msg);
}

void finish(EcgQuality& q) {
  std::stable_partition(q.issues.begin(), q.issues.end(), [](const QualityIssue& i) { return i.lead.empty(); });
  q.usable = true;
  for (const auto& i : q.issues)
    if (i.severity == Sev::Unusable) {
      q.usable = false;
      q.reason += (q.reason.empty() ? "" : "; ") + i.message;
    }
  if (!q.usable) q.score = std::min(q.score, kUnusableScoreCap);
}

EcgQuality emptyQuality() {
  EcgQuality q;
  q.version = kQualityVersion;
  for (const auto& l : standardLeads()) q.leads.push_back(LeadQuality{l});
  return q;
}

void pacingFinding(EcgQuality& q, double fs) {
  if (fs < kPacingMinHz) {
    q.pacingAssessable = false;
    q.notes.push_back("pacing spikes not assessable at " + fmt(fs, 0) + " Hz (needs >= " + fmt(kPacingMinHz, 0) +
                      " Hz sampling)");
    return;
  }
  int leadsWith = 0, maxSpikes = 0;
  for (const auto& lq : q.leads)
    if (lq.present && lq.pacingSpikes >= kPacingMinSpikes) {
      ++leadsWith;
      maxSpikes = std::max(maxSpikes, lq.pacingSpikes);
    }
  if (leadsWith < kPacingMinLeads) return;
  for (auto& lq : q.leads)
    if (lq.present && lq.pacingSpikes >= kPacingMinSpikes) lq.codes.push_back("pacing");
  addIssue(q, nullptr, "pacing", Sev::Warning,
           "pacing spikes (up to " + std::to_string(maxSpikes) + " per lead on " + std::to_string(leadsWith) +
               " leads): paced rhythm likely");
}

// The number of samples assessed: 0 (all) unless the record is longer than kMaxAnalysisS.
std::size_t analysisLength(const EcgGroup& g, EcgQuality& q) {
  std::size_t total = g.numSamples;
  for (const auto& c : g.channels) total = std::max(total, c.samples.size());
  const double cap = kMaxAnalysisS * g.samplingHz;
  if (static_cast<double>(total) <= cap) return 0;
  q.notes.push_back("quality assessed on the first " + fmt(kMaxAnalysisS, 0) + " s of " +
                    fmt(static_cast<double>(total) / g.samplingHz, 0) + " s");
  return static_cast<std::size_t>(cap);
}

}  // namespace

EcgQuality assessEcgQuality(const EcgRecord& record) {
  EcgQuality q = emptyQuality();
  const EcgGroup* g = record.rhythm();
  if (!g) {
    unusable(q, "missing", "the record has no rhythm waveform");
    finish(q);
    return q;
  }
  if (!(g->samplingHz > 0) || !std::isfinite(g->samplingHz)) {
    unusable(q, "missing", "the rhythm waveform has no valid sampling rate");
    finish(q);
    return q;
  }
  TwelveLead tl;
  try {
    tl = buildTwelveLead(record, 0.0, analysisLength(*g, q));
  } catch (const std::invalid_argument&) {
    unusable(q, "missing", "none of the 12 standard leads is present");
    finish(q);
    return q;
  }
  const double fs = tl.samplingHz;
  const std::size_t n = tl.matrix.cols;
  const double durS = fs > 0 ? static_cast<double>(n) / fs : 0.0;
  q.samplingHz = fs;
  q.durationS = durS;
  std::vector<std::vector<double>> rows(12);
  std::vector<bool> usable(12, false), noiseDom(12, false);
  int usableCount = 0, presentCount = 0, noisyCount = 0;
  double scoreSum = 0.0;
  for (std::size_t li = 0; li < 12; ++li) {
    LeadQuality& lq = q.leads[li];
    lq.present = std::find(tl.missing.begin(), tl.missing.end(), lq.lead) == tl.missing.end();
    if (!lq.present) {
      addIssue(q, &lq, "missing", Sev::Warning, lq.lead + ": missing from the record");
      continue;
    }
    rows[li].assign(tl.matrix.row(li), tl.matrix.row(li) + n);
    const LeadMeasures m = measureLead(rows[li], fs);
    lq.peakToPeakMv = m.peakToPeakMv;
    lq.noiseRmsMv = m.noiseRmsMv;
    lq.wanderMv = m.wanderMv;
    lq.clippedFraction = m.clippedFraction;
    lq.pacingSpikes = m.pacingSpikes;
    bool nd = false;
    usable[li] = judgeLead(q, lq, m, durS, nd);
    noiseDom[li] = nd;
    lq.score = leadScore(lq, m, usable[li]);
    scoreSum += lq.score;
    ++presentCount;
    if (usable[li]) ++usableCount;
    if (usable[li] && nd) ++noisyCount;
  }
  q.usableLeads = usableCount;
  q.score = scoreSum / 12.0;
  pacingFinding(q, fs);
  if (durS >= kMinDurationS && usableCount >= 2) reversalFinding(q, rows, usable, fs);
  if (durS < kMinDurationS)
    unusable(q, "missing", "only " + fmt(durS, 2) + " s of signal (needs at least " + fmt(kMinDurationS, 0) + " s)");
  if (usableCount < kMinUsableLeads)
    unusable(q, "missing", "only " + std::to_string(usableCount) + " of 12 standard leads usable (needs at least " +
                               std::to_string(kMinUsableLeads) + ")");
  else if (noisyCount == usableCount)
    unusable(q, "noise", "every lead is dominated by noise");
  finish(q);
  return q;
}

}  // namespace e2e::signal
