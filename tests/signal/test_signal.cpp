// Signal processing tests: resampling, zero-phase filters, ALS baseline, OTiS preprocessing and
// the 12 x T builder on real WFDB records.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "io/wfdb.h"
#include "signal/filters.h"
#include "signal/preprocess.h"
#include "signal/resample.h"
#include "test_util.h"

namespace sig = e2e::signal;

namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<double> sine(std::size_t n, double fs, double f, double amp, double phase = 0) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = amp * std::sin(2 * kPi * f * i / fs + phase);
  return x;
}

std::vector<float> toF(const std::vector<double>& x) { return {x.begin(), x.end()}; }

double maxAbsDiff(const std::vector<float>& a, const std::vector<double>& b, std::size_t from, std::size_t to) {
  double m = 0;
  for (std::size_t i = from; i < to; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

double rms(const std::vector<float>& a, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += double(a[i]) * a[i];
  return std::sqrt(s / double(to - from));
}

// Amplitude of the component at frequency f (least-squares projection on sin/cos).
double amplitudeAt(const std::vector<double>& x, double fs, double f, std::size_t from, std::size_t to) {
  double s = 0, c = 0;
  for (std::size_t i = from; i < to; ++i) {
    s += x[i] * std::sin(2 * kPi * f * i / fs);
    c += x[i] * std::cos(2 * kPi * f * i / fs);
  }
  return 2 * std::hypot(s, c) / double(to - from);
}

// Dense reference solve of (diag(w) + lambda D'D) z = w.*y, Gaussian elimination with partial
// pivoting in long double, D built explicitly as an (n-2) x n matrix.
std::vector<double> denseAls(const std::vector<double>& y, const std::vector<double>& w, double lambda) {
  const std::size_t n = y.size();
  std::vector<std::vector<long double>> D(n - 2, std::vector<long double>(n, 0));
  for (std::size_t r = 0; r + 2 < n; ++r) {
    D[r][r] = 1;
    D[r][r + 1] = -2;
    D[r][r + 2] = 1;
  }
  std::vector<std::vector<long double>> A(n, std::vector<long double>(n + 1, 0));
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      long double s = 0;
      for (std::size_t r = 0; r + 2 < n; ++r) s += D[r][i] * D[r][j];
      A[i][j] = lambda * s + (i == j ? w[i] : 0);
    }
  for (std::size_t i = 0; i < n; ++i) A[i][n] = w[i] * y[i];
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::fabs(A[r][c]) > std::fabs(A[piv][c])) piv = r;
    std::swap(A[c], A[piv]);
    for (std::size_t r = c + 1; r < n; ++r) {
      long double f = A[r][c] / A[c][c];
      for (std::size_t k = c; k <= n; ++k) A[r][k] -= f * A[c][k];
    }
  }
  std::vector<double> z(n);
  for (std::size_t i = n; i-- > 0;) {
    long double s = A[i][n];
    for (std::size_t k = i + 1; k < n; ++k) s -= A[i][k] * z[k];
    z[i] = static_cast<double>(s / A[i][i]);
  }
  return z;
}

e2e::EcgRecord cincRecord(const std::string& name) {
  return e2e::readWfdb(e2e::test::dataFile("ecg_wfdb/torch_ecg_cinc2021/" + name + ".hea").string());
}

}  // namespace

// ------------------------------------------------------------------ resampling ----

struct RateCase {
  double from, to;
};

class ResampleSine : public ::testing::TestWithParam<RateCase> {};

TEST_P(ResampleSine, KeepsFrequencyAndAmplitude) {
  const auto rc = GetParam();
  const double seconds = 10;
  const std::size_t n = static_cast<std::size_t>(seconds * rc.from);
  // 10 Hz at 1.0 plus 45 Hz at 0.3: both well inside either band.
  std::vector<double> x = sine(n, rc.from, 10, 1.0, 0.3);
  auto x2 = sine(n, rc.from, 45, 0.3, 1.1);
  for (std::size_t i = 0; i < n; ++i) x[i] += x2[i];
  auto y = sig::resample(x, rc.from, rc.to);
  ASSERT_EQ(y.size(), static_cast<std::size_t>(std::round(seconds * rc.to)));
  std::vector<double> expect = sine(y.size(), rc.to, 10, 1.0, 0.3);
  auto e2 = sine(y.size(), rc.to, 45, 0.3, 1.1);
  double maxErrMid = 0, maxErrAll = 0;
  const std::size_t edge = static_cast<std::size_t>(0.25 * rc.to);
  for (std::size_t i = 0; i < y.size(); ++i) {
    double e = std::fabs(y[i] - expect[i] - e2[i]);
    maxErrAll = std::max(maxErrAll, e);
    if (i >= edge && i + edge < y.size()) maxErrMid = std::max(maxErrMid, e);
  }
  EXPECT_LT(maxErrMid, 2e-4) << rc.from << " -> " << rc.to;
  EXPECT_LT(maxErrAll, 0.03) << rc.from << " -> " << rc.to;
  EXPECT_NEAR(amplitudeAt(y, rc.to, 10, edge, y.size() - edge), 1.0, 2e-3);
  EXPECT_NEAR(amplitudeAt(y, rc.to, 45, edge, y.size() - edge), 0.3, 2e-3);
}

INSTANTIATE_TEST_SUITE_P(Rates, ResampleSine,
                         ::testing::Values(RateCase{1000, 500}, RateCase{240, 250}, RateCase{500, 250},
                                           RateCase{250, 500}, RateCase{360, 500}, RateCase{500, 257.3}));

TEST(Resample, DecimationRemovesAliases) {
  // 1000 -> 250 Hz: a 200 Hz tone would alias to 50 Hz; the anti-alias filter must remove it.
  const double fs = 1000, to = 250;
  std::vector<double> x = sine(10000, fs, 10, 1.0);
  auto hf = sine(10000, fs, 200, 1.0);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += hf[i];
  auto y = sig::resample(x, fs, to);
  ASSERT_EQ(y.size(), 2500u);
  EXPECT_LT(amplitudeAt(y, to, 50, 100, 2400), 1e-3);
  EXPECT_NEAR(amplitudeAt(y, to, 10, 100, 2400), 1.0, 2e-3);
}

TEST(Resample, IdentityAndDcAndErrors) {
  std::vector<double> x = {1, 2, 3, 4};
  EXPECT_EQ(sig::resample(x, 500, 500), x);
  std::vector<double> dc(1000, 0.75);
  for (double v : sig::resample(dc, 500, 240)) EXPECT_NEAR(v, 0.75, 1e-12);
  EXPECT_TRUE(sig::resample(std::vector<double>{}, 500, 250).empty());
  EXPECT_THROW(sig::resample(x, 0, 250), std::invalid_argument);
  EXPECT_THROW(sig::resample(x, 500, -1), std::invalid_argument);
  auto f = sig::resample(std::vector<float>(500, 1.f), 500, 250);
  EXPECT_EQ(f.size(), 250u);
}

// -------------------------------------------------------------------- filters ----

TEST(Filters, NotchRemovesMainsAndPassesTenHz) {
  const double fs = 500;
  const std::size_t n = 5000, edge = 500;
  for (double mains : {50.0, 60.0}) {
    auto hum = toF(sine(n, fs, mains, 1.0));
    auto y = sig::notch(hum, fs, mains);
    EXPECT_LT(rms(y, edge, n - edge), 0.01) << mains;
    EXPECT_GT(rms(hum, edge, n - edge), 0.7);
    auto ten = sine(n, fs, 10, 1.0);
    auto y10 = sig::notch(toF(ten), fs, mains);
    EXPECT_LT(maxAbsDiff(y10, ten, edge, n - edge), 0.01) << mains;
  }
}

TEST(Filters, LowpassPassesBandAndRemovesAbove) {
  const double fs = 500;
  const std::size_t n = 5000, edge = 250;
  auto ten = sine(n, fs, 10, 1.0);
  auto hf = sine(n, fs, 120, 1.0);
  std::vector<double> mix(n);
  for (std::size_t i = 0; i < n; ++i) mix[i] = ten[i] + hf[i];
  auto y = sig::lowpass(toF(mix), fs, 40);
  EXPECT_LT(maxAbsDiff(y, ten, edge, n - edge), 0.01);
  auto y150 = sig::lowpass(toF(mix), fs, 150);  // 120 Hz passes a 150 Hz low-pass
  EXPECT_LT(maxAbsDiff(y150, mix, edge, n - edge), 0.05);
  // Constant signal stays constant (steady-state edge handling), including at the edges.
  auto c = sig::lowpass(std::vector<float>(n, 2.5f), fs, 40);
  for (float v : c) EXPECT_NEAR(v, 2.5f, 1e-4);
  // Cut-off above Nyquist: unchanged.
  EXPECT_EQ(sig::lowpass(toF(mix), 250, 150), toF(mix));
}

TEST(Filters, BaselineRemovesSlowDrift) {
  const double fs = 500;
  const std::size_t n = 10000, edge = 1000;
  auto drift = sine(n, fs, 0.1, 1.0, 0.4);
  auto ecgLike = sine(n, fs, 10, 0.2);
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = drift[i] + ecgLike[i] + 0.3;  // plus an offset
  auto y = sig::removeBaseline(toF(x), fs);
  EXPECT_LT(maxAbsDiff(y, ecgLike, edge, n - edge), 0.02);
  EXPECT_GT(maxAbsDiff(toF(x), ecgLike, edge, n - edge), 0.5);
}

TEST(Filters, ZeroPhaseKeepsPeakPosition) {
  const double fs = 500;
  const std::size_t n = 5000, peak = 2345;
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) {
    double t = (double(i) - peak) / fs;
    x[i] = 1.5 * std::exp(-t * t / (2 * 0.012 * 0.012)) + 0.2 * std::sin(2 * kPi * 0.2 * i / fs);
  }
  auto argmax = [](const auto& v) { return std::size_t(std::max_element(v.begin(), v.end()) - v.begin()); };
  sig::DisplayFilter f;
  f.baseline = true;
  f.lowpassHz = 40;
  f.notchHz = 50;
  auto y = sig::applyDisplayFilter(toF(x), fs, f);
  EXPECT_LE(std::labs(long(argmax(y)) - long(peak)), 1);
  EXPECT_EQ(argmax(sig::lowpass(toF(x), fs, 40)), peak);
  // The causal (one-way) cascade does delay the peak: the check above can fail.
  auto causal = sig::sosfilt(sig::butterworthLowpass(4, 40, fs), x);
  EXPECT_GE(long(argmax(causal)) - long(peak), 3);
}

TEST(Filters, NanSamplesAreRestoredAndDesignsValidate) {
  std::vector<float> x(1000, 0.f);
  x[500] = std::numeric_limits<float>::quiet_NaN();
  sig::DisplayFilter f;
  f.lowpassHz = 40;
  auto y = sig::applyDisplayFilter(x, 500, f);
  EXPECT_TRUE(std::isnan(y[500]));
  EXPECT_FLOAT_EQ(y[100], 0.f);
  EXPECT_THROW(sig::designLowpass(300, 500), std::invalid_argument);
  EXPECT_THROW(sig::designNotch(0, 500), std::invalid_argument);
}

// ------------------------------------------------------------------------ ALS ----

TEST(Als, BandedSolverMatchesDenseSolve) {
  std::mt19937 rng(7);
  std::normal_distribution<double> nd(0, 1);
  for (double lambda : {1e2, 1e5, 1e7}) {
    const std::size_t n = 150;
    std::vector<double> y(n), w(n);
    for (std::size_t i = 0; i < n; ++i) {
      y[i] = std::sin(i * 0.05) + 0.3 * nd(rng);
      w[i] = (i % 7 == 3) ? 0.0 : (nd(rng) > 0 ? 0.3 : 0.7);
    }
    auto zb = sig::alsSolve(y, w, lambda);
    auto zd = denseAls(y, w, lambda);
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(zb[i], zd[i], 1e-6) << "lambda " << lambda << " i " << i;
  }
}

TEST(Als, IteratedBaselineMatchesDenseReference) {
  // The full 5-iteration reweighting, reproduced here with the dense solver.
  const std::size_t n = 120;
  std::vector<double> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = 0.01 * i + (i % 30 == 10 ? 2.0 : 0.0) + 0.1 * std::sin(i * 0.7);
  const double lambda = 1e7, p = 0.3;
  std::vector<double> w(n, 1.0), z;
  for (int it = 0; it < 5; ++it) {
    z = denseAls(y, w, lambda);
    for (std::size_t i = 0; i < n; ++i) w[i] = y[i] > z[i] ? p : (y[i] < z[i] ? 1 - p : 0);
  }
  auto zb = sig::alsBaseline(y, lambda, p, 5);
  for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(zb[i], z[i], 1e-6) << i;
}

TEST(Als, RemovesDriftUnderSpikes) {
  const double fs = 500;
  const std::size_t n = 5000;
  std::vector<double> drift(n), y(n);
  std::vector<bool> spike(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    double t = i / fs;
    drift[i] = 0.6 * std::sin(2 * kPi * 0.15 * t) + 0.05 * t - 0.2;
    double s = 0;
    for (double c = 0.4; c < 10; c += 0.8) {
      double d = (t - c) / 0.01;
      s += 1.5 * std::exp(-0.5 * d * d);
      if (std::fabs(d) < 5) spike[i] = true;
    }
    y[i] = drift[i] + s;
  }
  auto z = sig::alsBaseline(y);
  double errRms = 0, driftRms = 0;
  std::size_t cnt = 0;
  double minPeak = 1e9;
  for (std::size_t i = 0; i < n; ++i) {
    if (!spike[i]) {
      errRms += (y[i] - z[i]) * (y[i] - z[i]);
      driftRms += drift[i] * drift[i];
      ++cnt;
    }
  }
  for (double c = 0.4; c < 10; c += 0.8) {
    std::size_t i = static_cast<std::size_t>(std::lround(c * fs));
    minPeak = std::min(minPeak, y[i] - z[i]);
  }
  errRms = std::sqrt(errRms / cnt);
  driftRms = std::sqrt(driftRms / cnt);
  EXPECT_GT(driftRms, 0.3);
  EXPECT_LT(errRms, 0.1 * driftRms);
  EXPECT_GT(minPeak, 1.3);  // the spikes survive
}

TEST(Als, ConstantAndShortSignals) {
  auto z = sig::alsBaseline(std::vector<double>(100, 0.0));
  for (double v : z) EXPECT_EQ(v, 0.0);
  auto z2 = sig::alsBaseline(std::vector<double>{1.0, 2.0});
  EXPECT_EQ(z2, (std::vector<double>{1.0, 2.0}));
  auto z3 = sig::alsBaseline(std::vector<double>(50, 3.0));
  for (double v : z3) EXPECT_NEAR(v, 3.0, 1e-6);
}

// ------------------------------------------------------------- preprocessing ----

TEST(Preprocess, GroupZNormalisation) {
  std::mt19937 rng(3);
  sig::LeadMatrix m(12, 800);
  for (std::size_t r = 0; r < 12; ++r) {
    std::normal_distribution<float> nd(0.5f * r, 0.1f + 0.3f * r);
    for (std::size_t c = 0; c < 800; ++c) m.at(r, c) = nd(rng);
  }
  sig::groupZNormalise(m, sig::leadGroupEnds());
  std::size_t start = 0;
  for (std::size_t end : sig::leadGroupEnds()) {
    double s = 0, ss = 0;
    std::size_t cnt = 0;
    for (std::size_t r = start; r < end; ++r)
      for (std::size_t c = 0; c < 800; ++c) {
        s += m.at(r, c);
        ++cnt;
      }
    double mean = s / cnt;
    for (std::size_t r = start; r < end; ++r)
      for (std::size_t c = 0; c < 800; ++c) ss += (m.at(r, c) - mean) * (m.at(r, c) - mean);
    EXPECT_NEAR(mean, 0.0, 1e-5);
    EXPECT_NEAR(std::sqrt(ss / cnt), 1.0, 1e-4);
    // Per lead the std differs (the group shares one scale).
    start = end;
  }
}

TEST(Preprocess, ClipUsesWholeArrayStd) {
  sig::LeadMatrix m(12, 100, 0.f);
  for (std::size_t r = 0; r < 12; ++r)
    for (std::size_t c = 0; c < 100; ++c) m.at(r, c) = ((r * 100 + c) % 2 ? 1.f : -1.f);
  m.at(4, 50) = 1000.f;
  m.at(9, 3) = -1000.f;
  double mean = 0, ss = 0;
  for (float v : m.data) mean += v;
  mean /= m.data.size();
  for (float v : m.data) ss += (v - mean) * (v - mean);
  const double bound = 4 * std::sqrt(ss / m.data.size());
  EXPECT_NEAR(sig::clipWholeArray(m, 4), bound, 1e-3);
  EXPECT_NEAR(m.at(4, 50), bound, 1e-3);
  EXPECT_NEAR(m.at(9, 3), -bound, 1e-3);
  EXPECT_EQ(m.at(0, 1), 1.f);
}

TEST(Preprocess, RealRecordPipeline) {
  auto rec = cincRecord("JS20011");  // largest amplitude (11.4 mV) of the set
  auto tl = sig::buildTwelveLead(rec, 500);
  ASSERT_EQ(tl.matrix.rows, 12u);
  ASSERT_EQ(tl.matrix.cols, 5000u);
  sig::LeadMatrix m = tl.matrix;
  m.at(2, 17) = std::numeric_limits<float>::quiet_NaN();
  sig::preprocessEcg(m);
  for (float v : m.data) ASSERT_TRUE(std::isfinite(v));
  std::size_t start = 0;
  for (std::size_t end : sig::leadGroupEnds()) {
    double s = 0, ss = 0;
    const std::size_t cnt = (end - start) * m.cols;
    for (std::size_t i = start * m.cols; i < end * m.cols; ++i) s += m.data[i];
    for (std::size_t i = start * m.cols; i < end * m.cols; ++i) ss += (m.data[i] - s / cnt) * (m.data[i] - s / cnt);
    EXPECT_NEAR(s / cnt, 0.0, 1e-4);
    EXPECT_NEAR(std::sqrt(ss / cnt), 1.0, 1e-3);
    start = end;
  }
  // Each lead's slow baseline is gone: the 1 s moving average stays small relative to the lead.
  for (std::size_t r = 0; r < 12; ++r) {
    double maxAvg = 0;
    for (std::size_t c0 = 0; c0 + 500 <= m.cols; c0 += 250) {
      double a = 0;
      for (std::size_t c = c0; c < c0 + 500; ++c) a += m.at(r, c);
      maxAvg = std::max(maxAvg, std::fabs(a / 500));
    }
    EXPECT_LT(maxAvg, 0.6) << "lead " << r;
  }
  sig::LeadMatrix bad(8, 10);
  EXPECT_THROW(sig::preprocessEcg(bad), std::invalid_argument);
}

// --------------------------------------------------------------- 12 x T builder ----

TEST(TwelveLead, FromCincRecordAtSourceAndTargetRate) {
  auto rec = cincRecord("E07500");
  const auto& g = *rec.rhythm();
  auto same = sig::buildTwelveLead(rec, 500);
  ASSERT_EQ(same.matrix.cols, 5000u);
  EXPECT_TRUE(same.missing.empty());
  EXPECT_TRUE(same.derived.empty());
  for (std::size_t r = 0; r < 12; ++r)
    for (std::size_t c : {0ul, 1234ul, 4999ul}) EXPECT_EQ(same.matrix.at(r, c), g.channels[r].samples[c]);

  auto down = sig::buildTwelveLead(rec, 250);
  EXPECT_DOUBLE_EQ(down.samplingHz, 250.0);
  ASSERT_EQ(down.matrix.rows, 12u);
  ASSERT_EQ(down.matrix.cols, 2500u);
  for (std::size_t r = 0; r < 12; ++r) {
    // Close to plain decimation of the original (ECG has little energy above 112 Hz).
    double num = 0, da = 0, db = 0;
    for (std::size_t c = 0; c < 2500; ++c) {
      double a = down.matrix.at(r, c), b = g.channels[r].samples[2 * c];
      num += a * b;
      da += a * a;
      db += b * b;
    }
    EXPECT_GT(num / std::sqrt(da * db), 0.98) << "lead " << r;
  }
  auto fixed = sig::buildTwelveLead(rec, 250, 3000);
  ASSERT_EQ(fixed.matrix.cols, 3000u);
  EXPECT_EQ(fixed.matrix.at(5, 2600), 0.f);
  EXPECT_EQ(fixed.matrix.at(5, 100), down.matrix.at(5, 100));
}

TEST(TwelveLead, DerivesLimbLeadsAndZeroFillsMissing) {
  auto rec = cincRecord("HR06002");
  auto full = sig::buildTwelveLead(rec, 0);
  auto& ch = rec.groups[0].channels;
  // Keep only I, II, V1, V2, V4, V5, V6 (8-lead layout minus V3).
  ch.erase(std::remove_if(ch.begin(), ch.end(),
                          [](const e2e::EcgChannel& c) {
                            return c.label == "III" || c.label == "aVR" || c.label == "aVL" || c.label == "aVF" ||
                                   c.label == "V3";
                          }),
           ch.end());
  ASSERT_EQ(ch.size(), 7u);
  auto tl = sig::buildTwelveLead(rec, 0);
  EXPECT_EQ(tl.derived, (std::vector<std::string>{"III", "aVR", "aVL", "aVF"}));
  EXPECT_EQ(tl.missing, (std::vector<std::string>{"V3"}));
  for (std::size_t r = 2; r < 6; ++r) {
    double maxErr = 0;
    for (std::size_t c = 0; c < tl.matrix.cols; ++c)
      maxErr = std::max(maxErr, double(std::fabs(tl.matrix.at(r, c) - full.matrix.at(r, c))));
    EXPECT_LT(maxErr, 0.005) << "lead " << r;  // device-derived leads, rounded to 1 uV
  }
  for (std::size_t c = 0; c < tl.matrix.cols; ++c) ASSERT_EQ(tl.matrix.at(8, c), 0.f);
  EXPECT_EQ(tl.matrix.at(6, 10), full.matrix.at(6, 10));
}

TEST(TwelveLead, PtbRecordResampledTo500) {
  auto rec = e2e::readWfdb(e2e::test::dataFile("ecg_wfdb/wfdb-python_ptb_s0010_re/s0010_re.hea").string());
  auto tl = sig::buildTwelveLead(rec, 500);
  ASSERT_EQ(tl.matrix.rows, 12u);
  ASSERT_EQ(tl.matrix.cols, 19200u);
  EXPECT_TRUE(tl.missing.empty());
  const auto& v6 = rec.rhythm()->channels[11].samples;
  double maxErr = 0, maxAbs = 0;
  for (std::size_t c = 100; c + 100 < 19200; ++c) {
    maxErr = std::max(maxErr, double(std::fabs(tl.matrix.at(11, c) - v6[2 * c])));
    maxAbs = std::max(maxAbs, double(std::fabs(v6[2 * c])));
  }
  EXPECT_LT(maxErr, 0.1 * maxAbs);
  e2e::EcgRecord empty;
  EXPECT_THROW(sig::buildTwelveLead(empty, 500), std::invalid_argument);
}
