// The retrieval panel's out-of-distribution flag (issue 23) as it is shown: the query ECG's latest
// stored prediction decides. Not scored yet -> an amber "not scored yet" line and normal cards; out
// of distribution -> a grey bold line with the OOD score and the model, and every result card
// greyed (disabled, its text no longer drawn in black); declined for signal quality -> the reason,
// cards greyed; a newer in-distribution prediction -> a plain line and normal cards again.
// Synthetic cohort imported into a temp database, embeddings and predictions put directly.
#include <gtest/gtest.h>

#include <QLabel>
#include <QPushButton>
#include <QTemporaryDir>

#include "ai/RetrievalPanel.h"
#include "cohort_fixture.h"
#include "db/database.h"
#include "panels_test_util.h"
#include "pipeline/embedding_model.h"

using namespace e2e;
using e2e::ui::RetrievalPanel;

namespace {

struct OodCohort {
  QTemporaryDir tmp;
  QString dbPath;
  std::vector<std::int64_t> study, ecg;  // per patient

  OodCohort() {
    dbPath = tmp.filePath(QStringLiteral("studies.db"));
    const auto res = test::generateAndImport(tmp.path().toStdString(), dbPath.toStdString(), test::smallCohort(3, 23, 8, 2));
    db::Database d(dbPath.toStdString());
    for (const auto& p : res.patients) {
      db::Filter f;
      f.text = p.patientId;
      const auto studies = d.listStudies(f);
      study.push_back(studies.empty() ? 0 : studies.front().id);
      db::Filter fi;
      fi.studyRowId = study.back();
      fi.modality = "ECG";
      const auto ecgs = d.listInstances(fi);
      ecg.push_back(ecgs.empty() ? 0 : ecgs.front().id);
    }
    auto put = [&](std::optional<std::int64_t> inst, std::optional<std::int64_t> st, const char* model,
                   std::vector<float> v) {
      db::EmbeddingKey k;
      k.instanceRowId = inst;
      k.studyRowId = st;
      k.modelId = model;
      k.weightsHash = "w1";
      k.preprocVersion = pipeline::kPreprocVersion;
      d.putEmbedding(k, v);
    };
    put(ecg[0], std::nullopt, "echo2ecg:1.0.0/ecg-aligned", {1, 0, 0});
    put(std::nullopt, study[1], "echo2ecg:1.0.0/echo-study-aligned", {0.9f, 0.1f, 0});
    put(std::nullopt, study[2], "echo2ecg:1.0.0/echo-study-aligned", {0.2f, 0.9f, 0});
  }

  void addPrediction(const std::string& ood, std::optional<double> score, const std::string& declinedReason = "") {
    db::Database d(dbPath.toStdString());
    db::PredictionRow r;
    r.instanceRowId = ecg[0];
    r.modelId = "echo2ecg-lvef-bundled";
    r.modelVersion = "3";
    r.weightsHash = "0123456789abcdef";
    r.task = "lvef";
    r.ood = ood;
    r.oodScore = score;
    r.syntheticTraining = true;
    r.qualityScore = declinedReason.empty() ? 0.9 : 0.05;
    r.qualityUsable = declinedReason.empty();
    r.qualityReason = declinedReason;
    if (declinedReason.empty()) r.probabilities = r.calibratedProbabilities = {{"<40", 0.2}, {"40-49", 0.3}, {">=50", 0.5}};
    d.addPrediction(r);
  }
};

// Near-black pixels of the card's text (enabled rich text is drawn black; a disabled label uses the
// palette's disabled, lighter text colour).
int blackTextPixels(ui::ResultCard* card) {
  const QImage img = card->textLabel()->grab().toImage();
  int n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor c = img.pixelColor(x, y);
      n += c.red() < 60 && c.green() < 60 && c.blue() < 60;
    }
  return n;
}

// The flag line's own background (inside its padding, away from the text).
QColor flagBackground(QLabel* l) {
  const QImage img = l->grab().toImage();
  return img.pixelColor(1, 1);
}

void expectCardsGreyed(const RetrievalPanel& panel, bool greyed) {
  ASSERT_EQ(panel.cards().size(), 2u);
  for (auto* c : panel.cards()) {
    EXPECT_EQ(c->isEnabled(), !greyed) << c->result().rank;
    EXPECT_EQ(c->openButton()->isEnabled(), !greyed && !c->result().usPaths.isEmpty());
    if (greyed) EXPECT_EQ(blackTextPixels(c), 0) << "card " << c->result().rank << " is drawn greyed";
    else EXPECT_GT(blackTextPixels(c), 20) << "card " << c->result().rank << " is drawn in black";
  }
}

}  // namespace

TEST(RetrievalOod, QueryFlagGreysTheResultsOfAnOutOfDistributionOrDeclinedEcg) {
  test::app();
  OodCohort c;
  ASSERT_GT(c.ecg[0], 0);
  RetrievalPanel panel;
  panel.resize(560, 720);
  panel.show();
  panel.setDatabasePath(c.dbPath);
  panel.setInstance(c.ecg[0]);
  ASSERT_EQ(panel.results().size(), 2u) << panel.messageLabel()->text().toStdString();
  QLabel* flag = panel.queryOodLabel();
  ASSERT_NE(flag, nullptr);

  // No prediction of this ECG yet: said so, results shown normally.
  EXPECT_TRUE(flag->isVisible());
  EXPECT_EQ(flag->property("ood").toString(), QStringLiteral("unknown"));
  EXPECT_TRUE(flag->text().contains(QStringLiteral("not scored yet"))) << flag->text().toStdString();
  expectCardsGreyed(panel, false);
  const QColor plainBackground = flagBackground(flag);

  // Out of distribution: the score and the model on a grey line, every card greyed.
  c.addPrediction("out", 87.4);
  panel.refresh();
  ASSERT_EQ(panel.cards().size(), 2u);
  EXPECT_EQ(flag->property("ood").toString(), QStringLiteral("out"));
  const QString out = flag->text();
  EXPECT_TRUE(out.startsWith(QStringLiteral("Query ECG out of distribution (OOD score 87.4)"))) << out.toStdString();
  EXPECT_TRUE(out.contains(QStringLiteral("not meaningful"))) << out.toStdString();
  EXPECT_TRUE(out.contains(QStringLiteral("(echo2ecg-lvef-bundled v3)"))) << out.toStdString();
  EXPECT_EQ(flagBackground(flag), QColor(0xe9, 0xe9, 0xe9)) << "the grey backing of the flag";
  expectCardsGreyed(panel, true);

  // Declined for signal quality (newer): the reason, cards still greyed.
  c.addPrediction("unknown", std::nullopt, "6 of 12 standard leads usable (at least 8 needed)");
  panel.refresh();
  EXPECT_TRUE(flag->text().startsWith(QStringLiteral("Query ECG declined: 6 of 12 standard leads usable")))
      << flag->text().toStdString();
  EXPECT_EQ(flagBackground(flag), QColor(0xe9, 0xe9, 0xe9));
  expectCardsGreyed(panel, true);

  // A newer in-distribution prediction: a plain line, normal cards.
  c.addPrediction("in", 12.5);
  panel.refresh();
  EXPECT_EQ(flag->property("ood").toString(), QStringLiteral("in"));
  EXPECT_TRUE(flag->text().startsWith(QStringLiteral("Query ECG in distribution (OOD score 12.5)"))) << flag->text().toStdString();
  EXPECT_EQ(flagBackground(flag), plainBackground);
  EXPECT_NE(flagBackground(flag), QColor(0xe9, 0xe9, 0xe9));
  expectCardsGreyed(panel, false);
}
