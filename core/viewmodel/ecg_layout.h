// Qt-free layout model of the clinical ECG viewer: where each lead panel, each
// calibration pulse and each median beat lies on the (virtual) ECG paper, in millimetres,
// and which time window each panel shows. Also the caliper and QTc arithmetic.
//
// Coordinates: origin at the top-left corner of the grid area, x to the right, y down, mm.
// The painter (ui/ecg/EcgPainter) adds the header strip and margins around it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::vm {

enum class EcgLayoutKind { Grid3x4, Grid3x4Rhythm, Grid6x2, Grid12x1 };
enum class LeadOrder { Standard, Cabrera };

const char* toString(EcgLayoutKind k);
std::optional<EcgLayoutKind> layoutFromString(const std::string& s);

struct EcgLayoutParams {
  double speedMmPerS = 25.0;   // paper speed: 12.5, 25 or 50
  double gainMmPerMv = 10.0;   // gain: 5, 10 or 20
  EcgLayoutKind layout = EcgLayoutKind::Grid3x4Rhythm;
  LeadOrder order = LeadOrder::Standard;
  double durationS = 10.0;     // record duration (the layout shows at most 10 s of it)
  double startS = 0.0;         // start of the 10 s page in long records; clamped to [0, durationS - 10]
  std::vector<std::string> leads;  // canonical labels present in the record (empty: assume 12 standard)
  std::string rhythmLead = "II";   // lead of the rhythm strip (3x4 + rhythm)
  double medianDurationS = 0.0;    // > 0: add a median-beat block (2 rows x 6) under the grid
  // > 0: the grid must fit this height (a printout on fixed paper): the row spacing shrinks in
  // 5 mm steps (never under 10 mm) and traces run over their neighbouring rows, as on paper.
  // The scale (speed, gain) never changes.
  double maxHeightMm = 0.0;
};

struct EcgPanel {
  std::string lead;      // canonical lead whose samples are drawn ("aVR" for -aVR)
  std::string label;     // text printed on the paper ("-aVR" for the inverted lead)
  bool inverted = false; // draw -samples (Cabrera -aVR)
  bool available = true; // false when the record has no such lead
  bool rhythm = false;   // the long rhythm strip
  bool median = false;   // a median-beat panel
  int row = 0, col = 0;
  double xMm = 0, yMm = 0, wMm = 0, hMm = 0;  // panel rectangle
  double baselineYMm = 0;                     // y of 0 mV
  double t0 = 0, t1 = 0;                      // time window shown, seconds from record start
};

// A 1 mV x 200 ms calibration pulse drawn at the start of each row.
struct CalibrationPulse {
  int row = 0;
  double xMm = 0;         // left edge of the pulse
  double baselineYMm = 0; // foot of the pulse
  double wMm = 0;         // 0.2 s * speed
  double hMm = 0;         // 1 mV * gain
};

struct EcgLayout {
  std::vector<EcgPanel> panels;           // lead panels (incl. rhythm and median panels)
  std::vector<CalibrationPulse> pulses;   // one per row
  double calAreaMm = 0;                   // width of the calibration column at the left
  double widthMm = 0, heightMm = 0;       // total grid area
  int rows = 0, cols = 0;
  double columnWindowS = 0;               // seconds shown by one column
  double startS = 0, endS = 0;            // time range of the record on this page (rhythm panels)
  double medianTopMm = -1;                // y of the median block, -1 if none
  double rowPitchMm = 0;                  // spacing of the lead rows (baseline to baseline)
  double topHeadroomMm = 0;               // room added above the first row (fitTraceHeadroom)
  double bottomHeadroomMm = 0;            // room added under the last row
};

// Computes the layout. Throws std::invalid_argument on non-positive speed/gain.
EcgLayout computeEcgLayout(const EcgLayoutParams& p);

// Highest and lowest point a panel's trace reaches (y in mm, grid coordinates; y grows down),
// from the samples of its time window at the given gain; NaN when the panel has no samples.
struct TraceExtent {
  double topMm = kNaN, bottomMm = kNaN;
};
TraceExtent traceExtentMm(const EcgPanel& p, const EcgGroup& g, double gainMmPerMv);

// Traces are never cut at the grid: a trace may run over its neighbouring rows, and the first
// row's peaks and the last row's troughs get room above and under the grid (whole 5 mm squares;
// every panel, pulse and the median block move down by the room added on top). With
// maxHeightMm > 0 the grid grows at most to that height; what a trace still needs beyond it
// runs into the page around the grid (the painter clips only at the page edge, and marks it).
void fitTraceHeadroom(EcgLayout& l, const EcgRecord& r, double gainMmPerMv, double maxHeightMm = 0.0);

// Index of the panel under (xMm, yMm) or -1.
int panelAt(const EcgLayout& l, double xMm, double yMm);

// ---- caliper arithmetic ----
double mmToMs(double dxMm, double speedMmPerS);          // horizontal distance -> ms
double mmToMv(double dyMm, double gainMmPerMv);          // vertical distance -> mV
double msToMm(double ms, double speedMmPerS);
double mvToMm(double mv, double gainMmPerMv);
double rateFromIntervalMs(double ms);                    // 60000 / ms (NaN if <= 0)
// Time (s from record start) at x within a panel; amplitude (mV) at y (sign-corrected for inverted panels).
double panelTimeAt(const EcgPanel& p, double xMm, double speedMmPerS);
double panelAmplitudeAt(const EcgPanel& p, double yMm, double gainMmPerMv);
// Sample value (mV) of a channel at time t (linear interpolation); NaN outside.
double sampleAt(const EcgGroup& g, const std::string& lead, double tSeconds);

// ---- QTc ----
double qtcBazett(double qtMs, double rrMs);      // QT / sqrt(RR[s])
double qtcFridericia(double qtMs, double rrMs);  // QT / cbrt(RR[s])

struct QtcResult {
  double qtcMs = kNaN;
  std::string formula;  // "Bazett", "Fridericia" or the device's name
  bool computed = false; // true when computed here from QT and RR (device gave only QT)
};
// Device QTc if given (formula as the device named it, or "device" when unnamed); otherwise
// computes it from QT and RR (RR from the heart rate when absent) with `preferred`
// ("Bazett" or "Fridericia").
QtcResult qtcFor(const EcgMeasurements& m, const std::string& preferred = "Bazett");

// "0.05-150 Hz, notch 60 Hz" from the channel filter settings of a group ("" when none given).
std::string deviceFilterText(const EcgGroup& g);

}  // namespace e2e::vm
