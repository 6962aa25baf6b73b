// Signal quality of an ECG, per lead and per record, computed from the samples as read (before the
// model's preprocessing): flat or missing leads, clipping/saturation, high-frequency noise, baseline
// wander, lead-off, likely limb-lead reversal and pacing spikes. A record that is not usable gets no
// model output, only the reasons (issue 23). Qt-free, no torch.
#pragma once
#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::signal {

// One finding on one lead (or on the record, lead ""). `code` is stable (for JSON, the database and
// tests): "missing", "flat", "clipped", "noise", "baseline_wander", "lead_off", "limb_reversal",
// "pacing". `severity`: Warning (shown, prediction still made) or Unusable (no prediction).
struct QualityIssue {
  enum class Severity { Warning, Unusable };
  std::string lead;     // canonical lead name, "" for the record
  std::string code;
  Severity severity = Severity::Warning;
  std::string message;  // user-facing, e.g. "V3: flat (peak-to-peak 0.002 mV over 10 s)"
};

struct LeadQuality {
  std::string lead;          // canonical name (I, II, ..., V6)
  bool present = false;      // the record has this lead (measured or derived)
  double score = 0.0;        // 0 (unusable) .. 1 (clean)
  double peakToPeakMv = 0.0;
  double noiseRmsMv = 0.0;   // high-frequency (> 40 Hz) residual RMS
  double wanderMv = 0.0;     // low-frequency (< 0.5 Hz) excursion
  double clippedFraction = 0.0;
  int pacingSpikes = 0;
  std::vector<std::string> codes;  // the issue codes found on this lead
};

struct EcgQuality {
  std::vector<LeadQuality> leads;    // the 12 standard leads, in standardLeads() order
  std::vector<QualityIssue> issues;  // all findings, record-level first
  double score = 0.0;                // 0..1, the record's overall quality
  bool usable = false;               // false: no prediction is made from this record
  std::string reason;                // why not usable ("" when usable): the Unusable messages joined by "; "
  std::string version;               // the algorithm version (stored beside the result), e.g. "quality-v1"
  // Added by the implementation (informative):
  double samplingHz = 0.0;           // of the rhythm group
  double durationS = 0.0;            // of the rhythm group
  int usableLeads = 0;               // standard leads present and not flat / lead-off / clipped beyond 50 %
  bool pacingAssessable = true;      // false below 500 Hz sampling (see notes)
  std::vector<std::string> notes;    // facts that are not issues, e.g. "pacing spikes not assessable at 257 Hz"
};

// The quality of the rhythm group of `record` (the first non-median group). Never throws for a
// record that passed import plausibility; a record with no rhythm group is not usable.
EcgQuality assessEcgQuality(const EcgRecord& record);

// Stable names for JSON and the database.
const char* toString(QualityIssue::Severity s);

}  // namespace e2e::signal
