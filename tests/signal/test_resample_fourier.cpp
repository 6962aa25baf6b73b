// The Fourier resampler of the official Echo2ECG preprocessing (scipy.signal.resample semantics).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "io/wfdb.h"
#include "signal/preprocess.h"
#include "signal/resample.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::signal;

namespace {
const double kPi = std::acos(-1.0);

std::vector<double> testSignal(std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(0.37 * static_cast<double>(i)) + 0.25 * ((i * 7) % 5) - 0.3;
  return x;
}
}  // namespace

// Golden values: scipy.signal.resample(x, num) with scipy 1.10.1 (Debian 12 python3-scipy) on
// x[i] = sin(0.37 i) + 0.25 ((7 i) mod 5) - 0.3: even and odd lengths, down and up, so that the
// Nyquist-bin fold (down) and split (up) and the num/n scaling are all pinned.
TEST(ResampleFourier, MatchesScipyResample) {
  struct Case {
    std::size_t n, num;
    std::vector<double> want;
  };
  const std::vector<Case> cases = {
      {10, 4, {-0.0729509832928275, 1.27705919866781, 0.905015918319661, 0.771943664329673}},
      {11, 4, {-0.280496287031035, 1.2975121702328, 0.928109877417233, 0.372268186345475}},
      {4, 10, {-0.3, -0.166080842459916, 0.293975148485403, 0.81135856665504, 1.18844653152379, 1.37428791162815,
               1.35542647848078, 1.0815377962711, 0.564154378101465, 0.000899104497071868}},
      {5, 8, {-0.3, -0.190861149133563, 1.06861480946356, 1.46187729640719, 0.880525135138566, 0.943873181534769,
              1.49284635444651, 0.927096970240235}},
      {12, 7, {-0.234459660523762, 1.06077257374386, 1.137851701715, 0.948143060109404, 0.964236146323482,
               0.192184645380311, -0.701631299762019}},
      {7, 12, {-0.3, -0.241374767221456, 0.912410510540276, 1.50587689186604, 1.03079680337482, 0.802930905758775,
               1.29470364386637, 1.40590057421415, 0.853218380878104, 0.69103292085169, 0.99629084621659,
               0.623053659406948}},
  };
  for (const auto& c : cases) {
    const auto y = resampleFourier(testSignal(c.n), c.num);
    ASSERT_EQ(y.size(), c.num);
    for (std::size_t i = 0; i < c.num; ++i) EXPECT_NEAR(y[i], c.want[i], 1e-12) << c.n << " -> " << c.num << " [" << i << "]";
  }
}

// A periodic band-limited signal (whole cycles in the window, below both Nyquist rates) is
// reproduced exactly at the new rate: 10 s at 500 Hz -> 100 Hz and 100 Hz -> 250 Hz.
TEST(ResampleFourier, ReproducesBandLimitedPeriodicSignals) {
  auto tone = [](double fs, std::size_t n) {
    std::vector<double> x(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double t = static_cast<double>(i) / fs;
      x[i] = 0.8 * std::sin(2 * kPi * 1.2 * t) + 0.3 * std::cos(2 * kPi * 17.0 * t + 0.4) - 0.05;
    }
    return x;
  };
  for (auto [from, to] : {std::pair{500.0, 100.0}, std::pair{100.0, 250.0}, std::pair{1000.0, 100.0}}) {
    const std::size_t n = static_cast<std::size_t>(10 * from);
    const auto y = resampleFourier(tone(from, n), fourierResampledLength(n, from, to));
    const auto want = tone(to, y.size());
    ASSERT_EQ(y.size(), static_cast<std::size_t>(10 * to));
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) worst = std::max(worst, std::fabs(y[i] - want[i]));
    EXPECT_LT(worst, 1e-9) << from << " -> " << to;
  }
}

TEST(ResampleFourier, LengthsAndBadArguments) {
  EXPECT_EQ(fourierResampledLength(5000, 500, 100), 1000u);
  EXPECT_EQ(fourierResampledLength(5003, 500, 100), 1000u);  // floor, as Python's int()
  EXPECT_EQ(fourierResampledLength(2397, 240, 100), 998u);
  EXPECT_THROW(resampleFourier({}, 10), std::invalid_argument);
  EXPECT_THROW(resampleFourier({1.0, 2.0}, 0), std::invalid_argument);
  EXPECT_THROW(fourierResampledLength(5000, 0.0, 100), std::invalid_argument);
  // A sampling rate off by orders of magnitude is an error naming the limit, not gigabytes.
  EXPECT_THROW(fourierResampledLength(5000, 0.01, 100), std::invalid_argument);
  EXPECT_THROW(resampledLength(5000, 1e-300, 100), std::invalid_argument);
  EXPECT_THROW(resample(std::vector<double>(5000, 1.0), 1e300, 100), std::invalid_argument);
  const auto same = testSignal(9);
  EXPECT_EQ(resampleFourier(same, 9), same);
}

// A real LUDB ECG (500 Hz, 10 s) through buildTwelveLead with each method: 1000 samples either way,
// the two resamplers agree inside the record (they also differ near the ends, where the Fourier
// resampler wraps around and the windowed sinc reflects).
TEST(ResampleFourier, TwelveLeadOfARealEcg) {
  const auto rec = readWfdb((fs::path(E2E_DATA_DIR) / "ecg_wfdb/ludb/data/1.hea").string());
  const auto sinc = buildTwelveLead(rec, 100.0, 1008, ResampleMethod::WindowedSinc);
  const auto fft = buildTwelveLead(rec, 100.0, 1008, ResampleMethod::Fourier);
  ASSERT_EQ(fft.matrix.cols, 1008u);
  double worst = 0, peak = 0;
  for (std::size_t r = 0; r < 12; ++r) {
    for (std::size_t c = 1000; c < 1008; ++c) EXPECT_EQ(fft.matrix.at(r, c), 0.f);  // zero-padded 1000 -> 1008
    for (std::size_t c = 100; c < 900; ++c) {
      worst = std::max(worst, static_cast<double>(std::fabs(fft.matrix.at(r, c) - sinc.matrix.at(r, c))));
      peak = std::max(peak, static_cast<double>(std::fabs(sinc.matrix.at(r, c))));
    }
  }
  EXPECT_GT(peak, 0.3);            // mV: a real QRS is in there
  // The same signal: they differ by the band 45-50 Hz (the sinc's cut-off is 0.9 x Nyquist, the
  // Fourier resampler's is Nyquist itself): a few per cent of the QRS peak.
  EXPECT_LT(worst, 0.06 * peak);
  EXPECT_GT(worst, 0.0);           // but not the same resampler
}
