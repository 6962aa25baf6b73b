// Sample-rate conversion of one lead by band-limited (windowed-sinc) interpolation.
#pragma once
#include <cstddef>
#include <vector>

namespace e2e::signal {

struct ResampleOptions {
  // Anti-alias / interpolation cut-off as a fraction of the lower of the two Nyquist rates.
  double cutoffFraction = 0.9;
  // Zero crossings of the sinc kernel on each side (kernel half-width, in units of the
  // cut-off period). Larger = sharper transition band, slower.
  int zeroCrossings = 24;
  // Kaiser window shape parameter (8.6 ~ 90 dB stop band for long kernels).
  double kaiserBeta = 8.6;
};

// Number of output samples for n input samples: round(n * toHz / fromHz) (at least 1 when n > 0).
std::size_t resampledLength(std::size_t n, double fromHz, double toHz);

// Resamples x from fromHz to toHz. Output sample k lies at time k / toHz (the first sample is
// kept in place, no delay). The kernel is a Kaiser-windowed sinc whose cut-off is
// cutoffFraction * min(fromHz, toHz) / 2, so it is the anti-alias filter when decimating and the
// interpolation filter when up-sampling; linear phase (symmetric), weights renormalised to unit
// DC gain. Beyond the ends the signal is extended by odd reflection about the end samples.
// For rational ratios (e.g. 1000->500, 240->250, 500->250) the kernel is evaluated once per
// polyphase branch. Same rates: x is returned unchanged. Throws std::invalid_argument on
// non-positive rates.
std::vector<double> resample(const std::vector<double>& x, double fromHz, double toHz,
                             const ResampleOptions& opt = {});
std::vector<float> resample(const std::vector<float>& x, double fromHz, double toHz,
                            const ResampleOptions& opt = {});

// The most samples one resampled lead may have (10^7: 27 hours at 100 Hz). resample() and
// resampleFourier() throw std::invalid_argument naming the figure beyond it, instead of building
// gigabytes from a sampling frequency that is off by orders of magnitude.
inline constexpr std::size_t kMaxResampledLength = 10'000'000;

// Fourier resampling with the semantics of scipy.signal.resample(x, num) on a real signal, the
// resampler of the official Echo2ECG preprocessing: the signal is taken as one period of a periodic
// signal; its real DFT is truncated (down-sampling) or zero-padded (up-sampling) to num // 2 + 1
// bins, an even-length Nyquist bin is split (up) or folded (down) as scipy does, and the inverse
// real DFT of length num is scaled by num / n. Computed with FFTW (double precision). num == n
// returns x unchanged; n == 0 or num == 0 throws std::invalid_argument.
std::vector<double> resampleFourier(const std::vector<double>& x, std::size_t num);
// The output length of the official preprocessing: floor(n * toHz / fromHz) (Python's int() of it).
std::size_t fourierResampledLength(std::size_t n, double fromHz, double toHz);

// How buildTwelveLead resamples: this project's windowed sinc (preprocessing ecg-...-v1) or the
// official code's Fourier resampling (ecg-...-fft-v1, for imported published weights).
enum class ResampleMethod { WindowedSinc, Fourier };

}  // namespace e2e::signal
