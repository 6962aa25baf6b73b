// Issue 23, Qt-free view texts: what the prediction panel shows for each trust state, and the
// reliability diagram read back from a card's "calibration" object (training panel, model card).
#include <gtest/gtest.h>

#include "viewmodel/prediction_view.h"
#include "viewmodel/training_card.h"

using namespace e2e::vm;

TEST(TrustView, EachStateSaysWhatItIs) {
  PredictionFlags f;
  f.probabilities = {{"<40", 0.1}, {"40-49", 0.8}, {">=50", 0.1}};
  f.calibrated = {{"<40", 0.2}, {"40-49", 0.6}, {">=50", 0.2}};
  f.qualityScore = 0.9;
  f.qualityUsable = true;
  f.oodScore = 40.0;
  f.ood = "out";
  auto v = predictionTrust(f);
  EXPECT_EQ(v.state, TrustState::OutOfDistribution);
  EXPECT_TRUE(v.greyed);
  EXPECT_FALSE(v.markPredicted);
  EXPECT_DOUBLE_EQ(v.shown.at("40-49"), 0.6) << "calibrated probabilities are shown";
  EXPECT_EQ(v.status.rfind("Out of distribution (OOD score 40.0)", 0), 0u) << v.status;
  f.ood = "unknown";
  f.oodScore.reset();
  v = predictionTrust(f);
  EXPECT_EQ(v.state, TrustState::Unknown);
  EXPECT_FALSE(v.greyed);
  EXPECT_NE(v.status.find("no out-of-distribution statistics"), std::string::npos);
  f.qualityUsable = false;
  f.qualityReason = "I: lead off";
  f.probabilities.clear();
  f.calibrated.clear();
  v = predictionTrust(f);
  EXPECT_EQ(v.state, TrustState::Declined);
  EXPECT_FALSE(v.showBars);
  EXPECT_EQ(v.status, "Declined: I: lead off");
  EXPECT_EQ(queryOodText("out", 30.0).rfind("Query ECG out of distribution (OOD score 30.0)", 0), 0u);
}

TEST(TrustView, ReliabilityDiagramFromACard) {
  const std::string card = R"({"model_id":"echo2ecg-lvef","calibration":{"temperature":1.5,"n_val":4,
    "ece_before":0.4,"ece_after":0.1,
    "reliability_before":[{"lower":0.6,"upper":0.6667,"count":2,"confidence":0.62,"accuracy":1.0},
                          {"lower":0.8666666666666667,"upper":0.9333333333333333,"count":2,"confidence":0.9,"accuracy":0.5},
                          {"lower":0.0,"upper":0.0667,"count":0,"confidence":0,"accuracy":0}],
    "reliability_after":[{"lower":0.6,"upper":0.6667,"count":4,"confidence":0.65,"accuracy":0.75}]},
    "ood":{"threshold":24.5,"n_val":150,"n_train":700,"dim":512}})";
  const auto v = reliabilityView(R"({"temperature":1.5,"n_val":4,"ece_before":0.4,"ece_after":0.1,
    "reliability_before":[{"lower":0.6,"upper":0.6667,"count":2,"confidence":0.62,"accuracy":1.0}]})");
  ASSERT_TRUE(v.present);
  EXPECT_EQ(v.before.size(), 1u);
  EXPECT_EQ(v.caption, "Temperature 1.50 \u2014 ECE (15 bins, validation, n 4) 0.400 \u2192 0.100");
  EXPECT_FALSE(reliabilityView("{}").present);
  EXPECT_FALSE(reliabilityView("not json").present);
  const std::string text = cardTrustText(card);
  EXPECT_NE(text.find("Mahalanobis threshold 24.500 (99th percentile of 150 validation ECGs"), std::string::npos) << text;
  EXPECT_NE(text.find("| 0.60\u20130.67 | 2 | 0.620 | 1.000 | 4 | 0.650 | 0.750 |"), std::string::npos) << text;
  EXPECT_NE(text.find("| 0.87\u20130.93 | 2 | 0.900 | 0.500 | 0 | |"), std::string::npos) << text;
  EXPECT_NE(cardTrustText(R"({"model_id":"x"})").find("no statistics (predictions say ood: unknown)"), std::string::npos);
}
