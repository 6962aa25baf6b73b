// Metrics, bootstrap CIs and kNN against small hand-computed cases (torch-free).
#include <gtest/gtest.h>

#include <cmath>

#include "model/metrics.h"

using namespace e2e::model;

TEST(Metrics, AurocPerfectReversedAndHandExample) {
  const std::vector<int> y{0, 0, 1, 1};
  EXPECT_DOUBLE_EQ(aurocBinary(y, {0.1, 0.2, 0.8, 0.9}), 1.0);
  EXPECT_DOUBLE_EQ(aurocBinary(y, {0.9, 0.8, 0.2, 0.1}), 0.0);
  // sklearn's roc_auc_score example: 3 of 4 positive/negative pairs ordered correctly.
  EXPECT_DOUBLE_EQ(aurocBinary(y, {0.1, 0.4, 0.35, 0.8}), 0.75);
  // ties count one half
  EXPECT_DOUBLE_EQ(aurocBinary(y, {0.5, 0.5, 0.5, 0.5}), 0.5);
  EXPECT_TRUE(std::isnan(aurocBinary({1, 1}, {0.1, 0.2})));
}

TEST(Metrics, AveragePrecisionHandExample) {
  // sklearn average_precision_score example: 0.8333...
  EXPECT_NEAR(auprcBinary({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}), 5.0 / 6.0, 1e-12);
  EXPECT_DOUBLE_EQ(auprcBinary({0, 0, 1, 1}, {0.1, 0.2, 0.8, 0.9}), 1.0);
  // reversed: positives ranked last -> precision 1/3 at recall .5, 2/4 at recall 1
  EXPECT_NEAR(auprcBinary({0, 0, 1, 1}, {0.9, 0.8, 0.2, 0.1}), 0.5 * (1.0 / 3.0) + 0.5 * 0.5, 1e-12);
}

TEST(Metrics, AccuracyBalancedAccuracyMacroF1) {
  const std::vector<int> t{0, 0, 1, 1, 2, 2}, p{0, 1, 1, 1, 2, 0};
  EXPECT_DOUBLE_EQ(accuracy(t, p), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(balancedAccuracy(t, p, 3), (0.5 + 1.0 + 0.5) / 3.0);
  EXPECT_NEAR(macroF1(t, p, 3), (0.5 + 0.8 + 2.0 / 3.0) / 3.0, 1e-12);
  // balanced accuracy differs from accuracy on imbalanced data
  EXPECT_DOUBLE_EQ(balancedAccuracy({0, 0, 0, 1}, {0, 0, 0, 0}, 2), 0.5);
  EXPECT_DOUBLE_EQ(accuracy({0, 0, 0, 1}, {0, 0, 0, 0}), 0.75);
}

TEST(Metrics, OneVsRestMacroAuroc) {
  const std::vector<int> t{0, 1, 2, 0, 1, 2};
  Scores perfect{{.8, .1, .1}, {.1, .8, .1}, {.1, .1, .8}, {.7, .2, .1}, {.2, .7, .1}, {.1, .2, .7}};
  EXPECT_DOUBLE_EQ(aurocOvr(t, perfect), 1.0);
  EXPECT_DOUBLE_EQ(auprcOvr(t, perfect), 1.0);
  // class 0 perfectly ranked, class 1 reversed (its score is highest on the others), class 2 perfect
  Scores mixed{{.8, .3, .1}, {.1, .0, .1}, {.1, .3, .8}, {.7, .3, .1}, {.2, .0, .1}, {.1, .3, .7}};
  EXPECT_NEAR(aurocOvr(t, mixed), (1.0 + 0.0 + 1.0) / 3.0, 1e-12);
  auto r = evaluate(t, perfect);
  EXPECT_DOUBLE_EQ(r.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(r.macroF1, 1.0);
  auto b = evaluate({0, 1, 1, 0}, {{.9, .1}, {.2, .8}, {.6, .4}, {.3, .7}});
  EXPECT_DOUBLE_EQ(b.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(b.auroc, 0.75);  // class-1 scores .1 .8 .4 .7: pairs (0.8>0.1,0.8>0.7,0.4>0.1,0.4<0.7)
}

TEST(Metrics, BootstrapCiIsDeterministicAndBracketsTheEstimate) {
  std::vector<int> t;
  Scores s;
  for (int i = 0; i < 60; ++i) {
    t.push_back(i % 2);
    const double noise = ((i * 37) % 11) / 10.0;
    s.push_back({1.0 - (0.3 * (i % 2) + 0.7 * noise), 0.3 * (i % 2) + 0.7 * noise});
  }
  auto auc = [](const std::vector<int>& tt, const Scores& ss) { return evaluate(tt, ss).auroc; };
  auto a = bootstrapCi(t, s, auc, 300, 0.95, 7);
  auto b = bootstrapCi(t, s, auc, 300, 0.95, 7);
  auto c = bootstrapCi(t, s, auc, 300, 0.95, 8);
  EXPECT_EQ(a.lower, b.lower);
  EXPECT_EQ(a.upper, b.upper);
  EXPECT_NE(a.lower, c.lower);
  EXPECT_LT(a.lower, a.value);
  EXPECT_GT(a.upper, a.value);
  EXPECT_EQ(a.resamples, 300);
  Scores perfect;
  for (int v : t) perfect.push_back({1.0 - v, double(v)});
  auto p = bootstrapCi(t, perfect, auc, 100, 0.95, 1);
  EXPECT_DOUBLE_EQ(p.lower, 1.0);
  EXPECT_DOUBLE_EQ(p.upper, 1.0);
}

TEST(Metrics, KnnClassifier) {
  KnnClassifier knn(5);
  std::vector<std::vector<float>> f;
  std::vector<int> y;
  for (int i = 0; i < 10; ++i) {
    f.push_back({float(i % 5) * 0.1f, 0.f});
    y.push_back(0);
    f.push_back({10.f + float(i % 5) * 0.1f, 10.f});
    y.push_back(1);
  }
  f.push_back({0.05f, 0.0f});  // one mislabelled point near cluster 0
  y.push_back(1);
  knn.fit(f, y, 2);
  EXPECT_EQ(knn.predict({0.f, 0.f}), 0);  // 1 wrong neighbour out of 5 is outvoted
  EXPECT_EQ(knn.predict({9.f, 9.f}), 1);
  auto p = knn.predictProba({0.05f, 0.f});
  EXPECT_NEAR(p[0] + p[1], 1.0, 1e-12);
  EXPECT_NEAR(p[1], 0.2, 1e-12);
  EXPECT_THROW(knn.predict({1.f}), std::invalid_argument);
}
