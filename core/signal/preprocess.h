// Echo2ECG / OTiS ECG model preprocessing and the 12 x T lead matrix builder.
//
// Reference behaviour (oetu/MMCL-ECG-CMR utils/preprocessing.py, process_ecg), reproduced:
//   1. NaN -> 0                                  (np.nan_to_num)
//   2. clip to [-4 s, +4 s], s = population standard deviation of the WHOLE 12 x T array,
//      computed about its mean (np.std), bounds centred on 0 (np.clip(-4*std, 4*std))
//   3. per lead, subtract the asymmetric-least-squares baseline (Eilers & Boelens 2005):
//      lambda 1e7, p 0.3, 5 iterations, second-difference penalty; weights after each solve
//      w = p where y > z, 1 - p where y < z, 0 where y == z (as in the reference)
//   4. group-wise z-normalisation over leads {I,II,III}, {aVR,aVL,aVF}, {V1..V6}:
//      (x - mean_group) / sqrt(var_group + 1e-12), mean/var (population) over the whole block.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "common/types.h"
#include "signal/resample.h"

namespace e2e::signal {

// Row-major lead matrix: rows = leads, cols = samples; data[r * cols + c].
struct LeadMatrix {
  std::size_t rows = 0, cols = 0;
  std::vector<float> data;
  LeadMatrix() = default;
  LeadMatrix(std::size_t r, std::size_t c, float v = 0.f) : rows(r), cols(c), data(r * c, v) {}
  float& at(std::size_t r, std::size_t c) { return data[r * cols + c]; }
  float at(std::size_t r, std::size_t c) const { return data[r * cols + c]; }
  float* row(std::size_t r) { return data.data() + r * cols; }
  const float* row(std::size_t r) const { return data.data() + r * cols; }
};

// Asymmetric least squares baseline of y: minimises sum w_i (y_i - z_i)^2 + lambda sum (D2 z)^2,
// re-weighting `iterations` times. Each solve is a banded (pentadiagonal, SPD) LDL^T
// factorisation: O(n) time and memory. n < 3: returns y. If fewer than two samples carry weight
// (e.g. a constant lead that the previous solve fits exactly) the previous baseline is kept.
std::vector<double> alsBaseline(const std::vector<double>& y, double lambda = 1e7, double p = 0.3,
                                int iterations = 5);

// Solves (diag(w) + lambda * D2'D2) z = w .* y with the banded solver (exposed for tests).
// Throws std::runtime_error if the system is not positive definite.
std::vector<double> alsSolve(const std::vector<double>& y, const std::vector<double>& w, double lambda);

struct PreprocessOptions {
  double clipSigmas = 4.0;   // <= 0 disables clipping
  bool removeBaseline = true;
  double alsLambda = 1e7;
  double alsP = 0.3;
  int alsIterations = 5;
  bool normalise = true;
  double normEps = 1e-12;    // added to the variance
};

// Group boundaries (end rows) of the 12-lead z-normalisation: {3, 6, 12}.
const std::vector<std::size_t>& leadGroupEnds();

// Clip step: returns the clip bound used (4 * std of the whole array).
double clipWholeArray(LeadMatrix& m, double sigmas);
// Z-normalises each row block [prevEnd, end) of groupEnds over the whole block. Rows beyond the
// last end are left alone.
void groupZNormalise(LeadMatrix& m, const std::vector<std::size_t>& groupEnds, double eps = 1e-12);

// The full Echo2ECG/OTiS preprocessing of a 12 x T matrix in standard lead order (in place).
// Throws std::invalid_argument if m.rows != 12.
void preprocessEcg(LeadMatrix& m, const PreprocessOptions& opt = {});

struct TwelveLead {
  LeadMatrix matrix;                  // 12 x T, standard lead order, mV
  double samplingHz = 0;
  std::vector<std::string> missing;   // standard leads not available (zero-filled)
  std::vector<std::string> derived;   // leads computed from others (III, aVR, aVL, aVF, I or II)
  std::vector<std::string> notes;     // other facts (NaNs replaced, source rate, cropping, ...)
};

// Builds the 12 x T matrix from the rhythm group of `rec`: leads in standard order, converted
// to mV (uV and V scaled; other units are taken as mV and noted), NaN -> 0, resampled to
// targetHz (targetHz <= 0 keeps the source rate). Limb leads missing from the record are
// derived by Einthoven/Goldberger from I and II (or I from II and III, II from I and III);
// other missing leads are zero-filled and listed. targetSamples > 0 crops or zero-pads at the
// end to exactly that many samples. Throws std::invalid_argument if the record has no rhythm
// group or none of the 12 leads can be obtained.
// method: WindowedSinc resamples to round(n * targetHz / fs) samples with resample(); Fourier to
// floor(n * targetHz / fs) with resampleFourier(), as the official Echo2ECG preprocessing does.
TwelveLead buildTwelveLead(const EcgRecord& rec, double targetHz, std::size_t targetSamples = 0,
                           ResampleMethod method = ResampleMethod::WindowedSinc);

}  // namespace e2e::signal
