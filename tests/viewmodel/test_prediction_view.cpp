// Texts of the prediction and retrieval panels (core/viewmodel/prediction_view, Qt-free).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "viewmodel/prediction_view.h"

using namespace e2e::vm;

TEST(PredictionView, TaskTitlesAndClassNamesWithRanges) {
  EXPECT_EQ(taskTitle("lvef"), "LVEF class \u2014 probability");
  EXPECT_EQ(taskTitle("shd"), "Structural heart disease \u2014 probability");
  const auto c = taskClasses("lvef");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].key, "<40");
  EXPECT_EQ(c[0].name, "LVEF < 40 %");
  EXPECT_EQ(c[1].name, "LVEF 40\u201349 %");
  EXPECT_EQ(c[2].name, "LVEF \u2265 50 %");
  EXPECT_EQ(className("lvef", ">=50"), "LVEF \u2265 50 %");
  EXPECT_EQ(className("lvef", "odd"), "odd");
  EXPECT_EQ(taskClasses("shd").size(), 2u);
  EXPECT_TRUE(taskClasses("other").empty());
}

TEST(PredictionView, ArgmaxAndProbabilities) {
  EXPECT_EQ(argmax({0.1, 0.807, 0.093}), 1);
  EXPECT_EQ(argmax({0.5, 0.5}), 0) << "ties: the first";
  EXPECT_EQ(argmax({}), -1);
  EXPECT_EQ(argmax({NAN, 0.2}), 1);
  EXPECT_EQ(argmax({NAN}), -1);
  EXPECT_EQ(probabilityText(0.807), "80.7 %");
  EXPECT_EQ(probabilityText(1.5), "100.0 %");
  EXPECT_EQ(probabilityText(NAN), "\u2014");
  EXPECT_DOUBLE_EQ(*shdProbability({{"no_shd", 0.3}, {"shd", 0.7}}), 0.7);
  EXPECT_DOUBLE_EQ(*shdProbability({{"no_shd", 0.9}}), 1.0 - 0.9);
  EXPECT_DOUBLE_EQ(*shdProbability({{"1", 0.25}}), 0.25);
  EXPECT_FALSE(shdProbability({{"a", 0.2}, {"b", 0.8}}).has_value());
}

TEST(PredictionView, LabelsAndMissingValues) {
  EXPECT_EQ(labelText("lvef_percent", "66.66"), "LVEF 66.7 %");
  EXPECT_EQ(labelText("lvef_percent", "n/a"), "LVEF n/a");
  EXPECT_EQ(labelText("lvef_class", "2"), "LVEF \u2265 50 %");
  EXPECT_EQ(labelText("lvef_class", "0"), "LVEF < 40 %");
  EXPECT_EQ(labelText("lvef_class", "40-49"), "LVEF 40\u201349 %");
  EXPECT_EQ(labelText("lvef_class", "7"), "LVEF class 7");
  EXPECT_EQ(labelText("shd", "0"), "SHD: no");
  EXPECT_EQ(labelText("shd", "1"), "SHD: yes");
  EXPECT_EQ(labelText("shd", ""), "SHD: \u2014");
  EXPECT_EQ(labelText("rhythm", "AF"), "rhythm: AF");
  const auto l = studyLabelTexts({{"shd", "0"}, {"lvef_class", "2"}, {"lvef_percent", "66.7"}, {"edv", "120"}});
  EXPECT_EQ(l, (std::vector<std::string>{"LVEF 66.7 %", "LVEF \u2265 50 %", "SHD: no"}));
  EXPECT_EQ(dicomDateText("20240131"), "2024-01-31");
  EXPECT_EQ(dicomDateText(""), "\u2014");
  EXPECT_EQ(dicomDateText("2024"), "2024");
  EXPECT_EQ(orMissing("  "), "\u2014");
  EXPECT_EQ(orMissing(" A "), "A");
  EXPECT_EQ(patientText("Anonymized", ""), "Anonymized (ID \u2014)");
  EXPECT_EQ(patientText("", ""), "\u2014 (ID \u2014)");
  EXPECT_EQ(patientText("DOE JOHN", "123"), "DOE JOHN (ID 123)");
  EXPECT_EQ(patientText("Anonymized", "").find("()"), std::string::npos);
  EXPECT_EQ(similarityText(0.99412), "0.994");
  EXPECT_NE(similarityMeaning().find("cosine"), std::string::npos);
}

TEST(PredictionView, ModelProvenance) {
  // A bundled head: its source, and synthetic as the bundled bundle.json says.
  auto b = modelProvenance("echo2ecg-lvef-bundled", "1", std::nullopt, true);
  EXPECT_EQ(b.source, ModelSource::Bundled);
  EXPECT_EQ(b.synthetic, std::optional<bool>(true));
  EXPECT_EQ(b.describe(), "echo2ecg-lvef-bundled v1 (bundled)");
  // Not registered and not bundled: unknown.
  auto u = modelProvenance("echo2ecg-ecg", "1.2.0", std::nullopt, true);
  EXPECT_EQ(u.source, ModelSource::Unknown);
  EXPECT_FALSE(u.synthetic.has_value());
  // Trained here on a synthetic cohort.
  auto t = modelProvenance("echo2ecg-lvef", "3", std::string(R"({"task":"lvef","data":{"synthetic":true}})"), false);
  EXPECT_EQ(t.source, ModelSource::TrainedHere);
  EXPECT_EQ(t.synthetic, std::optional<bool>(true));
  EXPECT_EQ(t.describe(), "echo2ecg-lvef v3 (trained here)");
  // Trained here on real labels, but on the bundled (synthetic) encoder: synthetic-trained.
  auto r = modelProvenance("echo2ecg-lvef", "4", std::string(R"({"task":"lvef","base_dir":"","data":{"synthetic":false}})"), true);
  EXPECT_EQ(r.synthetic, std::optional<bool>(true));
  // ... on a real encoder bundle in a folder.
  const std::string dir = ::testing::TempDir() + "e2e_prediction_view_bundle";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/bundle.json") << R"({"model_id":"echo2ecg","synthetic_training_data":false})";
  const std::string card = R"({"task":"lvef","base_dir":")" + dir + R"(","data":{"synthetic":false}})";
  auto real = modelProvenance("echo2ecg-lvef", "5", card, true);
  EXPECT_EQ(real.synthetic, std::optional<bool>(false));
  EXPECT_EQ(bundleSynthetic(dir), std::optional<bool>(false));
  EXPECT_FALSE(bundleSynthetic(dir + "/nope").has_value());
  std::ofstream(dir + "/bundle.json", std::ios::trunc) << R"({"model_id":"echo2ecg-synthetic","version":"3","synthetic_training_data":true})";
  EXPECT_EQ(bundleSyntheticFor(dir, "echo2ecg-synthetic", "3"), std::optional<bool>(true));
  EXPECT_FALSE(bundleSyntheticFor(dir, "echo2ecg-synthetic", "4").has_value()) << "another version: not known";
  EXPECT_FALSE(bundleSyntheticFor(dir, "echo2ecg-pretrain", "3").has_value());
  std::ofstream(dir + "/bundle.json", std::ios::trunc) << R"({"model_id":"echo2ecg"})";
  EXPECT_EQ(bundleSynthetic(dir), std::optional<bool>(true)) << "absent field: synthetic, as the loader reads it";
  std::ofstream(dir + "/bundle.json", std::ios::trunc) << "{not json";
  EXPECT_FALSE(bundleSynthetic(dir).has_value());
  // Imported published weights.
  auto i = modelProvenance("echo2ecg-pretrain", "2", std::string(R"({"task":"import","import":{},"data":{"synthetic":false}})"), true);
  EXPECT_EQ(i.source, ModelSource::Imported);
  EXPECT_EQ(i.synthetic, std::optional<bool>(false));
  EXPECT_EQ(sourceText(ModelSource::Imported), "imported");
  // A registered row with a broken card: registered, source and data unknown, no crash.
  auto bad = modelProvenance("echo2ecg-lvef", "6", std::string("{oops"), true);
  EXPECT_EQ(bad.source, ModelSource::Unknown);
  EXPECT_FALSE(bad.synthetic.has_value());
}
