#include "signal/preprocess.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string>

#include "signal/resample.h"

namespace e2e::signal {

std::vector<double> alsSolve(const std::vector<double>& y, const std::vector<double>& w, double lambda) {
  const std::size_t n = y.size();
  if (w.size() != n) throw std::invalid_argument("alsSolve: y and w differ in length");
  if (n < 3) {
    std::vector<double> z(n);
    for (std::size_t i = 0; i < n; ++i) z[i] = y[i];
    return z;
  }
  // A = diag(w) + lambda * D'D, D the (n-2) x n second-difference matrix. Symmetric
  // pentadiagonal: a0 (main), a1 (first super-diagonal), a2 (second super-diagonal).
  std::vector<double> a0(w), a1(n, 0.0), a2(n, 0.0);
  for (std::size_t r = 0; r + 2 < n; ++r) {
    a0[r] += lambda;
    a0[r + 1] += 4 * lambda;
    a0[r + 2] += lambda;
    a1[r] += -2 * lambda;
    a1[r + 1] += -2 * lambda;
    a2[r] += lambda;
  }
  // LDL^T with unit lower L: l1[i] = L(i+1, i), l2[i] = L(i+2, i).
  std::vector<double> d(n), l1(n, 0.0), l2(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double di = a0[i];
    if (i >= 1) di -= l1[i - 1] * l1[i - 1] * d[i - 1];
    if (i >= 2) di -= l2[i - 2] * l2[i - 2] * d[i - 2];
    if (!(di > 0) || !std::isfinite(di)) throw std::runtime_error("alsSolve: system is not positive definite");
    d[i] = di;
    double t = a1[i];
    if (i >= 1) t -= l2[i - 1] * l1[i - 1] * d[i - 1];
    l1[i] = t / di;
    l2[i] = a2[i] / di;
  }
  // Solve L u = w.*y, then D v = u, then L' z = v.
  std::vector<double> z(n);
  for (std::size_t i = 0; i < n; ++i) {
    double u = w[i] * y[i];
    if (i >= 1) u -= l1[i - 1] * z[i - 1];
    if (i >= 2) u -= l2[i - 2] * z[i - 2];
    z[i] = u;
  }
  for (std::size_t i = 0; i < n; ++i) z[i] /= d[i];
  for (std::size_t k = n; k-- > 0;) {
    if (k + 1 < n) z[k] -= l1[k] * z[k + 1];
    if (k + 2 < n) z[k] -= l2[k] * z[k + 2];
  }
  return z;
}

std::vector<double> alsBaseline(const std::vector<double>& y, double lambda, double p, int iterations) {
  const std::size_t n = y.size();
  if (n < 3) return y;
  std::vector<double> w(n, 1.0), z = y;
  for (int it = 0; it < iterations; ++it) {
    std::size_t weighted = 0;
    for (double v : w) weighted += v > 0 ? 1 : 0;
    if (weighted < 2) break;  // the previous baseline already fits (e.g. constant lead)
    try {
      z = alsSolve(y, w, lambda);
    } catch (const std::runtime_error&) {
      break;  // numerically singular: keep the previous baseline
    }
    for (std::size_t i = 0; i < n; ++i) w[i] = y[i] > z[i] ? p : (y[i] < z[i] ? 1.0 - p : 0.0);
  }
  return z;
}

const std::vector<std::size_t>& leadGroupEnds() {
  static const std::vector<std::size_t> ends = {3, 6, 12};
  return ends;
}

double clipWholeArray(LeadMatrix& m, double sigmas) {
  if (m.data.empty() || sigmas <= 0) return 0;
  double sum = 0;
  for (float v : m.data) sum += v;
  const double mean = sum / static_cast<double>(m.data.size());
  double ss = 0;
  for (float v : m.data) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(m.data.size()));
  const float bound = static_cast<float>(sigmas * sd);
  for (float& v : m.data) v = std::clamp(v, -bound, bound);
  return bound;
}

void groupZNormalise(LeadMatrix& m, const std::vector<std::size_t>& groupEnds, double eps) {
  std::size_t start = 0;
  for (std::size_t end : groupEnds) {
    end = std::min(end, m.rows);
    if (end <= start) continue;
    float* b = m.row(start);
    const std::size_t count = (end - start) * m.cols;
    if (count == 0) {
      start = end;
      continue;
    }
    double sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum += b[i];
    const double mean = sum / static_cast<double>(count);
    double ss = 0;
    for (std::size_t i = 0; i < count; ++i) ss += (b[i] - mean) * (b[i] - mean);
    const double scale = 1.0 / std::sqrt(ss / static_cast<double>(count) + eps);
    for (std::size_t i = 0; i < count; ++i) b[i] = static_cast<float>((b[i] - mean) * scale);
    start = end;
  }
}

void preprocessEcg(LeadMatrix& m, const PreprocessOptions& opt) {
  if (m.rows != 12) throw std::invalid_argument("preprocessEcg: expected 12 leads, got " + std::to_string(m.rows));
  if (m.data.size() != m.rows * m.cols) throw std::invalid_argument("preprocessEcg: matrix data size mismatch");
  for (float& v : m.data)
    if (!std::isfinite(v)) v = 0.f;
  if (opt.clipSigmas > 0) clipWholeArray(m, opt.clipSigmas);
  if (opt.removeBaseline && m.cols >= 3) {
    std::vector<double> y(m.cols);
    for (std::size_t r = 0; r < m.rows; ++r) {
      float* row = m.row(r);
      for (std::size_t c = 0; c < m.cols; ++c) y[c] = row[c];
      std::vector<double> z = alsBaseline(y, opt.alsLambda, opt.alsP, opt.alsIterations);
      for (std::size_t c = 0; c < m.cols; ++c) row[c] = static_cast<float>(y[c] - z[c]);
    }
  }
  if (opt.normalise) groupZNormalise(m, leadGroupEnds(), opt.normEps);
}

namespace {

double unitScaleToMv(const std::string& unit, bool& known) {
  std::string u;
  for (unsigned char c : unit) u += static_cast<char>(std::tolower(c));
  known = true;
  if (u.empty() || u == "mv") return 1.0;
  if (u == "uv" || u == "\xc2\xb5v") return 1e-3;
  if (u == "v") return 1e3;
  known = false;
  return 1.0;
}

}  // namespace

TwelveLead buildTwelveLead(const EcgRecord& rec, double targetHz, std::size_t targetSamples, ResampleMethod method) {
  const EcgGroup* g = rec.rhythm();
  if (!g) throw std::invalid_argument("buildTwelveLead: record has no rhythm waveform group");
  if (!(g->samplingHz > 0)) throw std::invalid_argument("buildTwelveLead: rhythm group has no sampling rate");
  const auto& leads = standardLeads();
  std::size_t n = g->numSamples;
  for (const auto& c : g->channels) n = std::max(n, c.samples.size());
  TwelveLead out;
  std::vector<std::vector<double>> rows(12);
  std::vector<bool> have(12, false);
  std::size_t nanCount = 0;
  for (std::size_t li = 0; li < 12; ++li) {
    const EcgChannel* ch = g->channel(leads[li]);
    if (!ch)
      for (const auto& c : g->channels)
        if (canonicalLeadName(c.label) == leads[li]) {
          ch = &c;
          break;
        }
    if (!ch) continue;
    bool known = true;
    const double scale = unitScaleToMv(ch->unit, known);
    if (!known) out.notes.push_back(leads[li] + ": unit '" + ch->unit + "' taken as mV");
    rows[li].assign(n, 0.0);
    for (std::size_t t = 0; t < ch->samples.size(); ++t) {
      const float v = ch->samples[t];
      if (std::isfinite(v)) rows[li][t] = v * scale;
      else ++nanCount;
    }
    if (ch->samples.size() < n) out.notes.push_back(leads[li] + ": shorter than the group, zero-padded");
    have[li] = true;
  }
  if (nanCount) out.notes.push_back(std::to_string(nanCount) + " NaN samples replaced by 0");
  // Limb leads: Einthoven (III = II - I) and Goldberger augmented leads.
  enum { I = 0, II = 1, III = 2, aVR = 3, aVL = 4, aVF = 5 };
  auto derive = [&](int target, auto fn) {
    rows[target].assign(n, 0.0);
    for (std::size_t t = 0; t < n; ++t) rows[target][t] = fn(t);
    have[target] = true;
    out.derived.push_back(leads[target]);
  };
  if (!have[I] && have[II] && have[III]) derive(I, [&](std::size_t t) { return rows[II][t] - rows[III][t]; });
  if (!have[II] && have[I] && have[III]) derive(II, [&](std::size_t t) { return rows[I][t] + rows[III][t]; });
  if (have[I] && have[II]) {
    if (!have[III]) derive(III, [&](std::size_t t) { return rows[II][t] - rows[I][t]; });
    if (!have[aVR]) derive(aVR, [&](std::size_t t) { return -0.5 * (rows[I][t] + rows[II][t]); });
    if (!have[aVL]) derive(aVL, [&](std::size_t t) { return rows[I][t] - 0.5 * rows[II][t]; });
    if (!have[aVF]) derive(aVF, [&](std::size_t t) { return rows[II][t] - 0.5 * rows[I][t]; });
  }
  bool any = false;
  for (std::size_t li = 0; li < 12; ++li) {
    if (have[li]) any = true;
    else out.missing.push_back(leads[li]);
  }
  if (!any) throw std::invalid_argument("buildTwelveLead: none of the 12 standard leads is present");

  const double fs = g->samplingHz;
  const bool doResample = targetHz > 0 && std::fabs(targetHz - fs) > 1e-9 * fs;
  out.samplingHz = doResample ? targetHz : fs;
  const bool fourier = method == ResampleMethod::Fourier;
  if (doResample) {
    out.notes.push_back("resampled from " + std::to_string(fs) + " Hz to " + std::to_string(targetHz) + " Hz" +
                        (fourier ? " (Fourier)" : ""));
  }
  // The Fourier resampler treats its input as one period: it is given only the part that the crop
  // keeps (the official preprocessing was only ever applied to 10 s ECGs, which this leaves whole).
  if (fourier && doResample && targetSamples > 0) {
    const double keep = std::ceil(static_cast<double>(targetSamples) * fs / targetHz);
    if (keep < static_cast<double>(n)) {
      n = static_cast<std::size_t>(keep);
      for (auto& r : rows) if (r.size() > n) r.resize(n);
      out.notes.push_back("first " + std::to_string(n) + " samples used");
    }
  }
  std::size_t len = !doResample ? n : fourier ? fourierResampledLength(n, fs, targetHz) : resampledLength(n, fs, targetHz);
  if (doResample && len == 0) throw std::invalid_argument("buildTwelveLead: too few samples to resample");
  const std::size_t cols = targetSamples > 0 ? targetSamples : len;
  if (targetSamples > 0 && targetSamples != len)
    out.notes.push_back(std::string(targetSamples < len ? "cropped" : "zero-padded") + " from " +
                        std::to_string(len) + " to " + std::to_string(targetSamples) + " samples");
  out.matrix = LeadMatrix(12, cols, 0.f);
  for (std::size_t li = 0; li < 12; ++li) {
    if (!have[li]) continue;
    std::vector<double> r = !doResample ? rows[li] : fourier ? resampleFourier(rows[li], len) : resample(rows[li], fs, targetHz);
    float* dst = out.matrix.row(li);
    const std::size_t m = std::min(cols, r.size());
    for (std::size_t t = 0; t < m; ++t) dst[t] = static_cast<float>(r[t]);
  }
  return out;
}

}  // namespace e2e::signal
