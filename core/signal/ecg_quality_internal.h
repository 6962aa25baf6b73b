// Internals of the ECG signal-quality assessment (ecg_quality.cpp, ecg_quality_beats.cpp): the
// thresholds, per-lead measures and the beat-based limb-reversal features. Exposed for tests.
#pragma once
#include <string>
#include <vector>

#include "signal/ecg_quality.h"

namespace e2e::signal::quality {

inline constexpr const char* kQualityVersion = "quality-v1";

// ---- record usability (issue 23) ----
inline constexpr double kMinDurationS = 2.0;      // issue 23: less than 2 s of signal is not usable
inline constexpr int kMinUsableLeads = 8;         // issue 23: at least 8 of the 12 standard leads
inline constexpr double kUnusableFraction = 0.5;  // issue 23: a lead stuck/clipped beyond half is not usable
inline constexpr double kUnusableScoreCap = 0.2;  // a record that is not usable scores at most this
// Long recordings (Holter-like WFDB records) are assessed on their first 5 minutes: bounded time and
// memory when a record is opened in the viewer; the models read the first 10 s.
inline constexpr double kMaxAnalysisS = 300.0;

// ---- amplitude ranges ----
// Ranges are taken between the 0.5th and 99.5th percentiles, so that a handful of artefact
// samples do not make a dead lead look alive.
inline constexpr double kRangeTail = 0.005;
// Flat: the baseline-corrected range is below 40 uV. The smallest QRS of a real lead (aVR/aVL
// near the perpendicular axis) is still about 0.1 mV in the 200 LUDB records; 40 uV is about the
// noise floor of a resting ECG (AHA 2007 recommendations: noise < 30-40 uV p-p).
inline constexpr double kFlatRangeMv = 0.04;
// Lead-off: a flat lead held away from zero (DC offset of a disconnected electrode), or a lead
// that stays at exactly one value for at least a second (a real ECG never does: the quantum of
// a 12-lead recorder is 1-5 uV and the noise floor is larger).
inline constexpr double kLeadOffOffsetMv = 0.5;
inline constexpr double kLeadOffRunS = 1.0;
inline constexpr double kStuckMinRunS = 0.2;      // constant runs counted in the stuck fraction
inline constexpr double kStuckTolMv = 1e-6;       // "the same value" (identical ADC codes)

// ---- clipping: plateaus at the extreme values of the lead (ADC rail or amplifier saturation) ----
inline constexpr double kClipTolMv = 1e-6;        // identical codes: saturation repeats the rail value
inline constexpr double kClipMinRunS = 0.008;     // a plateau of >= 8 ms (4 samples at 500 Hz)
inline constexpr std::size_t kClipMinRunSamples = 3;
inline constexpr int kClipMinRuns = 3;            // repeated: at least 3 plateaus in the record
inline constexpr double kClipMinFraction = 0.005; // and >= 0.5 % of the samples on them

// ---- noise ----
inline constexpr double kNoiseCutHz = 40.0;       // issue 23: residual above 40 Hz
inline constexpr double kNoiseWindowS = 0.1;      // median of 100 ms window RMS (skips the QRS)
// Residual RMS above which a lead is called noisy. Chosen just above the largest value measured on
// the 200 clean LUDB records (0.049 mV, LUDB 169 aVL, visible muscle tremor; docs/results.md).
inline constexpr double kNoiseRmsMv = 0.05;
inline constexpr double kMainsRmsMv = 0.05;       // 50/60 Hz component (notch residual) RMS
// Noise-dominated: the < 40 Hz signal range is below this multiple of the noise RMS.
// A white noise alone gives a ratio of about 2.5 at 500 Hz; a clean lead 20 or more.
inline constexpr double kNoiseDominatedRatio = 4.0;
// The mains frequency is named in the message when its RMS is at least this share of the > 40 Hz
// residual (otherwise the notch residual is just a slice of broadband noise).
inline constexpr double kMainsShareOfNoise = 0.5;

// ---- baseline wander ----
inline constexpr double kWanderCutHz = 0.5;       // issue 23: excursion below 0.5 Hz
// Range of the < 0.5 Hz component: above the largest value on the 200 clean LUDB records (under
// 0.9 mV), i.e. a wander of a whole 10 mm square at the standard 10 mm/mV gain.
inline constexpr double kWanderMv = 1.0;
inline constexpr double kWanderSmoothS = 0.2;     // moving average before the low-pass
inline constexpr double kWanderEdgeS = 1.0;       // ends left out of the range (filter start-up)

// ---- pacing spikes (need >= 500 Hz: a 0.5-2 ms stimulus is lost at lower rates) ----
inline constexpr double kPacingMinHz = 500.0;
inline constexpr double kSpikeMinMv = 1.0;        // step between two samples (>= 500 mV/s at 500 Hz)
inline constexpr double kSpikeNoiseFactor = 8.0; // and 8x the lead's median step (noise floor)
inline constexpr double kSpikeMaxWidthS = 0.004;  // undone within 4 ms (QRS slopes are not)
inline constexpr double kSpikeRefractoryS = 0.2;
inline constexpr int kPacingMinSpikes = 3;
inline constexpr int kPacingMinLeads = 2;

struct LeadMeasures {
  double peakToPeakMv = 0, median = 0, rangeMv = 0, signalRangeMv = 0;
  double noiseRmsMv = 0, mainsRmsMv = 0, mainsHz = 0, wanderMv = 0;
  double clippedFraction = 0, longestConstantS = 0, stuckFraction = 0;
  int clipRuns = 0, pacingSpikes = 0;
};
LeadMeasures measureLead(const std::vector<double>& x, double fs);
int countPacingSpikes(const std::vector<double>& x, double fs);

// ---- limb-lead reversal (LA/RA) from the median beat ----
struct ReversalFeatures {
  bool valid = false;     // enough beats and leads I, aVR present
  int beats = 0;
  double qrsI = 0, pI = 0, tI = 0, qrsAvr = 0;  // net areas (mV*s) relative to the PR baseline
  double corrIV6 = 0;     // correlation of the I and V6 median beats (0 when V6 unusable)
  bool haveV6 = false;
};
// rows: the 12 standard leads (mV, empty when missing); usable: per lead.
ReversalFeatures reversalFeatures(const std::vector<std::vector<double>>& rows, const std::vector<bool>& usable,
                                  double fs);
bool reversalLikely(const ReversalFeatures& f);
void reversalFinding(EcgQuality& q, const std::vector<std::vector<double>>& rows, const std::vector<bool>& usable,
                     double fs);
// R-peak sample indices from the usable leads.
std::vector<std::size_t> detectBeats(const std::vector<std::vector<double>>& rows, const std::vector<bool>& usable,
                                     double fs);

double percentile(std::vector<double> v, double p);
std::string fmt(double v, int decimals);

}  // namespace e2e::signal::quality
