// Zero-phase display filters for ECG leads: forward-backward (filtfilt) cascades of biquads.
#pragma once
#include <cstddef>
#include <vector>

namespace e2e::signal {

// One second-order section, a0 normalised to 1:
// y[n] = b0 x[n] + b1 x[n-1] + b2 x[n-2] - a1 y[n-1] - a2 y[n-2]
struct Biquad {
  double b0 = 1, b1 = 0, b2 = 0, a1 = 0, a2 = 0;
  double dcGain() const { return (b0 + b1 + b2) / (1 + a1 + a2); }
};

// RBJ audio-EQ-cookbook designs (bilinear transform with pre-warping). Throw
// std::invalid_argument unless 0 < f < fs/2 and q > 0.
Biquad designLowpass(double cutoffHz, double fs, double q = 0.70710678118654752);
Biquad designHighpass(double cutoffHz, double fs, double q = 0.70710678118654752);
Biquad designNotch(double centreHz, double fs, double q = 30.0);

// Butterworth of even order (2, 4, 6, 8) as a cascade of biquads.
std::vector<Biquad> butterworthLowpass(int order, double cutoffHz, double fs);
std::vector<Biquad> butterworthHighpass(int order, double cutoffHz, double fs);

// Causal filtering through the cascade (direct form II transposed), zero initial state.
std::vector<double> sosfilt(const std::vector<Biquad>& sos, const std::vector<double>& x);

// Zero-phase filtering: the signal is extended at both ends by odd reflection (padLen samples,
// at most n-1), each section starts in its steady state for the first padded sample, and the
// cascade is run forward then backward. Magnitude response = |H|^2, phase = 0.
// padLen = 0 selects a default of 3 * (number of sections * 2) + 1 (like scipy's sosfiltfilt).
std::vector<double> sosfiltfilt(const std::vector<Biquad>& sos, const std::vector<double>& x,
                                std::size_t padLen = 0);

// ---- display filters (float leads, sampling rate fs in Hz) ----

// Baseline wander removal: zero-phase 2nd-order Butterworth high-pass (default 0.5 Hz; the
// forward-backward pass makes it -6 dB at the cut-off). Pads by up to 3 cut-off periods.
std::vector<float> removeBaseline(const std::vector<float>& x, double fs, double cutoffHz = 0.5);
// Zero-phase 4th-order Butterworth low-pass (40, 100 or 150 Hz for display). If the cut-off is
// at or above 0.95 * fs/2 the signal is returned unchanged.
std::vector<float> lowpass(const std::vector<float>& x, double fs, double cutoffHz);
// Zero-phase mains notch (50 or 60 Hz), RBJ notch with Q = 30 (about 1.7 Hz wide at 50 Hz).
// Unchanged if the mains frequency is not below fs/2.
std::vector<float> notch(const std::vector<float>& x, double fs, double mainsHz, double q = 30.0);

struct DisplayFilter {
  bool baseline = false;      // high-pass at baselineHz
  double baselineHz = 0.5;
  double lowpassHz = 0;       // 0 = off; 40, 100, 150 typical
  double notchHz = 0;         // 0 = off; 50 or 60
};
// Applies notch, then baseline, then low-pass (each zero-phase). NaN samples are treated as 0
// during filtering and restored as NaN in the output.
std::vector<float> applyDisplayFilter(const std::vector<float>& x, double fs, const DisplayFilter& f);

}  // namespace e2e::signal
