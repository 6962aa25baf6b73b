// Nice axis ticks and the training result's ROC/confusion view (core/viewmodel, Qt-free).
#include <gtest/gtest.h>

#include <cmath>

#include "viewmodel/chart_ticks.h"
#include "viewmodel/training_result_view.h"

using namespace e2e::vm;

namespace {
// Whether `step` is 1, 2, 2.5 or 5 times a power of ten.
bool isNice(double step) {
  const double p = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (std::fabs(step - m * p) < 1e-9 * p) return true;
  return false;
}
}  // namespace

TEST(ChartTicks, NiceStepRoundsUpToOneTwoTwoHalfFive) {
  EXPECT_DOUBLE_EQ(niceStep(0.136), 0.2);
  EXPECT_DOUBLE_EQ(niceStep(0.2), 0.2);
  EXPECT_DOUBLE_EQ(niceStep(0.21), 0.25);
  EXPECT_DOUBLE_EQ(niceStep(0.3), 0.5);
  EXPECT_DOUBLE_EQ(niceStep(0.51), 1.0);
  EXPECT_DOUBLE_EQ(niceStep(7), 10.0);
  EXPECT_DOUBLE_EQ(niceStep(1200), 2000.0);
  EXPECT_DOUBLE_EQ(niceStep(0.0), 1.0);
  EXPECT_DOUBLE_EQ(niceStep(-3), 1.0);
  EXPECT_DOUBLE_EQ(niceStep(NAN), 1.0);
  EXPECT_DOUBLE_EQ(nextNiceStep(0.2), 0.25);
  EXPECT_DOUBLE_EQ(nextNiceStep(0.25), 0.5);
  EXPECT_DOUBLE_EQ(nextNiceStep(5), 10.0);
  EXPECT_DOUBLE_EQ(nextNiceStep(10), 20.0);
  EXPECT_EQ(stepDecimals(0.25), 2);
  EXPECT_EQ(stepDecimals(0.5), 1);
  EXPECT_EQ(stepDecimals(5), 0);
  EXPECT_EQ(stepDecimals(2.5), 1);
  EXPECT_EQ(stepDecimals(0.002), 3);
}

TEST(ChartTicks, TheLossAxisOfTheReportReadsNicely) {
  // The cardiologist saw 0.43 / 0.77 / 1.11: a loss from 0.43 to 1.11 now ticks at 0.4 .. 1.2 by 0.2.
  const AxisTicks t = niceTicks(0.43, 1.11, 5);
  EXPECT_DOUBLE_EQ(t.step, 0.2);
  EXPECT_NEAR(t.min, 0.4, 1e-12);
  EXPECT_NEAR(t.max, 1.2, 1e-12);
  EXPECT_EQ(t.intervals, 4);
  EXPECT_EQ(t.decimals, 1);
  EXPECT_EQ(t.labelFormat(), "%.1f");
}

TEST(ChartTicks, RangesCoverTheDataWithFewNiceIntervals) {
  for (double lo : {0.0, 0.013, 0.43, 1.7, 12.0, 950.0})
    for (double span : {0.004, 0.07, 0.68, 3.3, 47.0, 12345.0})
      for (int maxIv : {2, 4, 5, 8}) {
        const AxisTicks t = niceTicks(lo, lo + span, maxIv);
        EXPECT_LE(t.min, lo + 1e-12) << lo << " " << span;
        EXPECT_GE(t.max, lo + span - 1e-12) << lo << " " << span;
        EXPECT_LE(t.intervals, maxIv) << lo << " " << span;
        EXPECT_GE(t.intervals, 1);
        EXPECT_TRUE(isNice(t.step)) << t.step;
        EXPECT_NEAR(t.min / t.step, std::round(t.min / t.step), 1e-6) << "starts on a tick";
        EXPECT_NEAR((t.max - t.min) / t.step, t.intervals, 1e-6);
      }
}

TEST(ChartTicks, EpochsUseWholeStepsAndDegenerateRangesAreWidened) {
  const AxisTicks e = niceTicks(0, 3, 6, 1);
  EXPECT_DOUBLE_EQ(e.step, 1.0);
  EXPECT_EQ(e.decimals, 0);
  EXPECT_DOUBLE_EQ(e.max, 3.0);
  const AxisTicks e20 = niceTicks(0, 20, 6, 1);
  EXPECT_DOUBLE_EQ(e20.step, 5.0);
  EXPECT_DOUBLE_EQ(e20.max, 20.0);
  const AxisTicks unit = niceTicks(0, 1, 5);
  EXPECT_DOUBLE_EQ(unit.step, 0.2);
  EXPECT_DOUBLE_EQ(unit.min, 0.0);
  EXPECT_DOUBLE_EQ(unit.max, 1.0);
  const AxisTicks one = niceTicks(0.7, 0.7, 5);
  EXPECT_LT(one.min, 0.7);
  EXPECT_GT(one.max, 0.7);
  const AxisTicks rev = niceTicks(2, 1, 5);
  EXPECT_LE(rev.min, 1.0);
  EXPECT_GE(rev.max, 2.0);
  const AxisTicks bad = niceTicks(NAN, INFINITY, 5);
  EXPECT_DOUBLE_EQ(bad.min, 0.0);
  EXPECT_DOUBLE_EQ(bad.max, 1.0);
  const AxisTicks neg = niceTicks(-0.0001, 0.9, 5);
  EXPECT_LE(neg.min, -0.0001);
}

TEST(TrainingResultView, RocOnlyForClassesWithPositivesAndNegatives) {
  const std::vector<std::string> classes = {"<40", "40-49", ">=50"};
  // No sample of 40-49 in the test split: its curve is flat and meaningless.
  const std::vector<std::vector<double>> cm = {{4, 1, 0}, {0, 0, 0}, {0, 1, 8}};
  const auto v = rocClasses(classes, classes, cm, {});
  ASSERT_EQ(v.size(), 3u);
  EXPECT_TRUE(v[0].defined);
  EXPECT_EQ(v[0].positives, 5);
  EXPECT_EQ(v[0].negatives, 9);
  EXPECT_FALSE(v[1].defined);
  EXPECT_EQ(v[1].reason, "not defined: no positives in test split");
  EXPECT_TRUE(v[2].defined);
  // Every test sample in one class: the others have no positives, that one no negatives.
  const auto all = rocClasses(classes, classes, {{0, 0, 0}, {0, 0, 0}, {1, 2, 7}}, {});
  EXPECT_FALSE(all[2].defined);
  EXPECT_EQ(all[2].reason, "not defined: no negatives in test split");
  // Binary: the single curve is the positive class (row 1); from split counts when no matrix.
  const auto bin = rocClasses({""}, {"no", "yes"}, {}, {6, 0});
  ASSERT_EQ(bin.size(), 1u);
  EXPECT_EQ(bin[0].classIndex, 1);
  EXPECT_FALSE(bin[0].defined);
  const auto binOk = rocClasses({""}, {"no", "yes"}, {{9, 2}, {3, 6}}, {});
  EXPECT_TRUE(binOk[0].defined);
  EXPECT_EQ(binOk[0].positives, 9);
  // Unknown counts: the curve is shown.
  EXPECT_TRUE(rocClasses({"x"}, {}, {}, {})[0].defined);
}

TEST(TrainingResultView, RowPercentages) {
  const auto p = rowPercentages({{4, 1, 0}, {0, 0, 0}, {0, 1, 8}});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_DOUBLE_EQ(p[0][0], 80.0);
  EXPECT_DOUBLE_EQ(p[0][1], 20.0);
  EXPECT_DOUBLE_EQ(p[1][0], -1.0);
  EXPECT_NEAR(p[2][2], 800.0 / 9, 1e-9);
  EXPECT_EQ(percentText(p[2][2]), "89 %");
  EXPECT_EQ(percentText(p[1][1]), "\u2014");
}
