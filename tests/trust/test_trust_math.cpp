// Issue 23: the numbers behind "know when not to answer": Mahalanobis distances against a known
// Gaussian, the 99th-percentile threshold, temperature scaling of over-confident logits, the ECE.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "model/calibration.h"
#include "model/ood.h"

using namespace e2e::model;
namespace fs = std::filesystem;

namespace {
// n draws of x = mu + L z (z standard normal): covariance L L'.
std::vector<std::vector<float>> gaussian(std::size_t n, const std::vector<double>& mu,
                                         const std::vector<std::vector<double>>& L, std::mt19937& rng) {
  std::normal_distribution<double> nd;
  const std::size_t d = mu.size();
  std::vector<std::vector<float>> out(n, std::vector<float>(d));
  for (auto& x : out) {
    std::vector<double> z(d);
    for (auto& v : z) v = nd(rng);
    for (std::size_t i = 0; i < d; ++i) {
      double s = mu[i];
      for (std::size_t k = 0; k <= i; ++k) s += L[i][k] * z[k];
      x[i] = static_cast<float>(s);
    }
  }
  return out;
}
}  // namespace

TEST(TrustMath, MahalanobisMatchesTheKnownGaussian) {
  std::mt19937 rng(7);
  // d = 3, covariance = L L' with a strong correlation between the first two dimensions
  const std::vector<double> mu = {1.0, -2.0, 0.5};
  const std::vector<std::vector<double>> L = {{2.0, 0, 0}, {1.5, 0.5, 0}, {0, 0, 0.25}};
  const auto train = gaussian(20000, mu, L, rng);
  const auto val = gaussian(5000, mu, L, rng);
  const OodStats s = fitOod(train, val);
  ASSERT_EQ(s.dim(), 3);
  EXPECT_LT(s.shrinkage, 0.01) << "n >> d: almost no shrinkage";
  // x = mu + L z has the distance |z|: z = (1, 0, 0) -> 1; z = (0, 0, 2) -> 2; z = (3, 4, 0) -> 5.
  auto point = [&](std::vector<double> z) {
    std::vector<float> x(3);
    for (std::size_t i = 0; i < 3; ++i) {
      double v = mu[i];
      for (std::size_t k = 0; k <= i; ++k) v += L[i][k] * z[k];
      x[i] = static_cast<float>(v);
    }
    return x;
  };
  EXPECT_NEAR(s.distance(point({0, 0, 0})), 0.0, 0.05);
  EXPECT_NEAR(s.distance(point({1, 0, 0})), 1.0, 0.03);
  EXPECT_NEAR(s.distance(point({0, 0, 2})), 2.0, 0.05);
  EXPECT_NEAR(s.distance(point({3, 4, 0})), 5.0, 0.12);
  // The Euclidean distance would rank these the other way: (0,0,2) is 0.5 away, (1,0,0) 2.5 away.
  EXPECT_GT(s.distance(point({0, 0, 2})), s.distance(point({1, 0, 0})));
  // d^2 of a 3-d Gaussian is chi-square(3): its 99th percentile is 11.345, so the threshold is ~3.368.
  EXPECT_NEAR(s.threshold, std::sqrt(11.345), 0.1);
  EXPECT_THROW(s.distance({1.f, 2.f}), std::invalid_argument);
}

TEST(TrustMath, ThresholdIsThe99thPercentileOfTheValidationDistances) {
  std::mt19937 rng(3);
  const std::vector<std::vector<double>> L = {{1, 0}, {0, 1}};
  const auto train = gaussian(400, {0, 0}, L, rng);
  const auto val = gaussian(301, {0, 0}, L, rng);
  const OodStats s = fitOod(train, val);
  auto d = s.distances(val);
  std::sort(d.begin(), d.end());
  // 301 values: the 99th percentile is exactly the order statistic at 0.99 * 300 = 297.
  EXPECT_DOUBLE_EQ(s.threshold, d[297]);
  std::size_t above = 0;
  for (double v : d) above += s.isOut(v) ? 1 : 0;
  EXPECT_EQ(above, 3u);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({5}, 99), 5);
  EXPECT_TRUE(std::isnan(percentile({}, 99)));
  EXPECT_EQ(oodFlag(std::nullopt, 0.1), "unknown") << "no statistics is never 'in'";
  EXPECT_EQ(oodFlag(s, s.threshold * 2), "out");
  EXPECT_EQ(oodFlag(s, 0.0), "in");
}

TEST(TrustMath, ShrinkageKeepsTheCovarianceInvertibleWhenDimensionExceedsSamples) {
  std::mt19937 rng(11);
  std::vector<std::vector<double>> L(64, std::vector<double>(64, 0.0));
  for (int i = 0; i < 64; ++i) L[i][i] = 1.0;
  const auto train = gaussian(40, std::vector<double>(64, 0.0), L, rng);  // 40 samples, 64 dimensions
  const auto val = gaussian(40, std::vector<double>(64, 0.0), L, rng);
  const OodStats s = fitOod(train, val);
  EXPECT_GT(s.shrinkage, 0.05);
  EXPECT_TRUE(std::isfinite(s.threshold));
  std::vector<float> far(64, 10.0f);
  EXPECT_TRUE(s.isOut(s.distance(far)));
  // saved and loaded: the same distances (float32 on disk)
  const auto path = (fs::temp_directory_path() / "trust_ood.pt").string();
  saveOod(s, path);
  const OodStats back = loadOod(path);
  EXPECT_NEAR(back.threshold, s.threshold, 1e-9);
  EXPECT_NEAR(back.distance(far), s.distance(far), 1e-3 * s.distance(far));
  EXPECT_EQ(back.nTrain, 40);
  fs::remove(path);
  EXPECT_THROW(loadOod(path), std::runtime_error);
  EXPECT_THROW(fitOod({{1.f, 2.f}}, {}), std::invalid_argument);
  EXPECT_THROW(fitOod({{1.f, 2.f}, {1.f}}, {}), std::invalid_argument);
}

TEST(TrustMath, TemperatureLowersNllAndEceOfOverconfidentLogits) {
  // A 3-class classifier that is right 70 % of the time but says so with ~99 % confidence: logits
  // scaled by 4 from a calibrated model (calibrated probabilities = softmax(z), confidence ~0.7).
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int> truth;
  Scores over;
  for (int i = 0; i < 3000; ++i) {
    const int predicted = i % 3;
    const int y = u(rng) < 0.7 ? predicted : (predicted + 1 + (u(rng) < 0.5 ? 0 : 1)) % 3;
    std::vector<double> z(3, 0.0);
    z[static_cast<std::size_t>(predicted)] = std::log(0.7 / 0.15) * 4.0;  // calibrated logit x 4
    double s = 0;
    for (auto& v : z) s += (v = std::exp(v));
    for (auto& v : z) v /= s;
    truth.push_back(y);
    over.push_back(z);
  }
  const double t = fitTemperature(truth, over);
  EXPECT_NEAR(t, 4.0, 0.3) << "the temperature undoes the x4 over-confidence";
  const auto cal = applyTemperature(over, t);
  EXPECT_LT(negativeLogLikelihood(truth, cal), negativeLogLikelihood(truth, over) - 0.5);
  const auto before = calibrationSummary(truth, over), after = calibrationSummary(truth, cal);
  EXPECT_GT(before.ece, 0.25);
  EXPECT_LT(after.ece, 0.05);
  ASSERT_EQ(before.bins.size(), 15u);
  int n = 0;
  for (const auto& b : after.bins) n += b.count;
  EXPECT_EQ(n, 3000);
  // An already calibrated model keeps T close to 1 and gains nothing.
  const double t1 = fitTemperature(truth, cal);
  EXPECT_NEAR(t1, 1.0, 0.1);
  EXPECT_THROW(applyTemperature(over, 0.0), std::invalid_argument);
  EXPECT_THROW(fitTemperature({5}, {{0.5, 0.5}}), std::invalid_argument);
}

TEST(TrustMath, EceOfAHandCountedCase) {
  // 4 predictions: confidences 0.9, 0.9 (one right) and 0.6, 0.6 (both right).
  const std::vector<int> truth = {0, 1, 1, 1};
  const Scores p = {{0.9, 0.1}, {0.9, 0.1}, {0.4, 0.6}, {0.4, 0.6}};
  const auto s = calibrationSummary(truth, p, 15);
  // bin of 0.9: accuracy 0.5, |0.5 - 0.9| = 0.4; bin of 0.6: accuracy 1, |1 - 0.6| = 0.4 -> ECE 0.4
  EXPECT_NEAR(s.ece, 0.4, 1e-12);
  EXPECT_EQ(s.bins[13].count, 2);  // 0.9 * 15 = 13.5
  EXPECT_EQ(s.bins[9].count, 2);   // 0.6 * 15 = 9.0
}
