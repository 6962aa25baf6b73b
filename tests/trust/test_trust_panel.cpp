// Issue 23 in the prediction panel: an out-of-distribution prediction is greyed with its reason (no
// confident bar, no "predicted" mark), a declined one shows the reason only, an in-distribution one
// shows normal bars with calibrated probabilities.
#include <gtest/gtest.h>

#include <QImage>
#include <cstdlib>

#include <QLabel>
#include <QProgressBar>
#include <QTemporaryDir>

#include "ai/PredictionPanel.h"
#include "db/database.h"
#include "gui_test_util.h"
#include "jobs/import/importer.h"

using namespace e2e;
using e2e::ui::PredictionPanel;

namespace {
struct EcgDb {
  QTemporaryDir tmp;
  QString dbPath;
  std::int64_t ecgId = 0;
  EcgDb() {
    dbPath = tmp.filePath(QStringLiteral("studies.db"));
    db::Database d(dbPath.toStdString());
    importer::ImportOptions o;
    o.paths = {std::string(E2E_DATA_DIR) + "/ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm"};
    importer::runImport(d, o);
    const auto rows = d.listInstances();
    if (!rows.empty()) ecgId = rows.front().id;
  }
};

db::PredictionRow row(std::int64_t id, const std::string& task, std::map<std::string, double> p,
                      std::map<std::string, double> cal, const std::string& ood, std::optional<double> score) {
  db::PredictionRow r;
  r.instanceRowId = id;
  r.modelId = "echo2ecg-" + task + "-bundled";
  r.modelVersion = "3";
  r.weightsHash = "0123456789abcdef";
  r.task = task;
  r.probabilities = std::move(p);
  r.calibratedProbabilities = std::move(cal);
  r.qualityScore = 0.91;
  r.qualityUsable = true;
  r.oodScore = score;
  r.ood = ood;
  r.syntheticTraining = true;
  return r;
}
}  // namespace

TEST(TrustPanel, GreysAnOutOfDistributionPredictionAndShowsADeclinedOneAsItsReason) {
  test::app();
  EcgDb f;
  ASSERT_GT(f.ecgId, 0);
  {
    db::Database d(f.dbPath.toStdString());
    d.addPrediction(row(f.ecgId, "lvef", {{"<40", 0.05}, {"40-49", 0.9}, {">=50", 0.05}},
                        {{"<40", 0.2}, {"40-49", 0.6}, {">=50", 0.2}}, "out", 512.3));
    auto declined = row(f.ecgId, "shd", {}, {}, "unknown", std::nullopt);
    declined.qualityScore = 0.05;
    declined.qualityUsable = false;
    declined.qualityReason = "V2: flat (peak-to-peak 0.001 mV over 10 s)";
    d.addPrediction(declined);
  }
  PredictionPanel panel;
  panel.resize(420, 600);
  panel.show();
  panel.setDatabasePath(f.dbPath);
  panel.setInstance(f.ecgId);
  // LVEF: out of distribution -> greyed, not marked as predicted, the reason shown
  EXPECT_TRUE(panel.taskGreyed(QStringLiteral("lvef")));
  auto* bar = panel.bar(QStringLiteral("40-49"));
  EXPECT_FALSE(bar->isEnabled()) << "a greyed bar, not a confident one";
  EXPECT_EQ(bar->value(), 600) << "the calibrated probability";
  EXPECT_TRUE(bar->text().startsWith(QStringLiteral("("))) << bar->text().toStdString();
  // Drawn grey, not in its class colour: a pixel of the filled part (60 % of the width) has R = G = B.
  {
    const QImage img = bar->grab().toImage();
    const QColor c = img.pixelColor(img.width() / 10, img.height() / 2);
    EXPECT_TRUE(std::abs(c.red() - c.green()) < 8 && std::abs(c.green() - c.blue()) < 8 && c.red() < 235)
        << "fill " << c.name().toStdString();
  }
  EXPECT_TRUE(panel.predictedClass(QStringLiteral("lvef")).isEmpty());
  EXPECT_FALSE(panel.classLabel(QStringLiteral("40-49"))->text().contains(QStringLiteral("predicted")));
  const QString lvefStatus = panel.taskStatus(QStringLiteral("lvef"))->text();
  EXPECT_TRUE(lvefStatus.contains(QStringLiteral("Out of distribution"))) << lvefStatus.toStdString();
  EXPECT_TRUE(lvefStatus.contains(QStringLiteral("512.3"))) << lvefStatus.toStdString();
  // SHD: declined -> no bars, the reason only
  EXPECT_TRUE(panel.taskDeclined(QStringLiteral("shd")));
  EXPECT_FALSE(panel.bar(QStringLiteral("shd"))->isVisible());
  const QString shdStatus = panel.taskStatus(QStringLiteral("shd"))->text();
  EXPECT_TRUE(shdStatus.startsWith(QStringLiteral("Declined: V2: flat"))) << shdStatus.toStdString();

  // A newer in-distribution prediction: normal bars, the predicted class marked
  {
    db::Database d(f.dbPath.toStdString());
    d.addPrediction(row(f.ecgId, "lvef", {{"<40", 0.1}, {"40-49", 0.2}, {">=50", 0.7}},
                        {{"<40", 0.15}, {"40-49", 0.25}, {">=50", 0.6}}, "in", 20.0));
  }
  panel.refresh();
  EXPECT_FALSE(panel.taskGreyed(QStringLiteral("lvef")));
  EXPECT_TRUE(panel.bar(QStringLiteral(">=50"))->isEnabled());
  {
    const QImage img = panel.bar(QStringLiteral(">=50"))->grab().toImage();
    const QColor c = img.pixelColor(img.width() / 10, img.height() / 2);
    EXPECT_FALSE(std::abs(c.red() - c.green()) < 8 && std::abs(c.green() - c.blue()) < 8)
        << "an in-distribution bar keeps its class colour, fill " << c.name().toStdString();
  }
  EXPECT_EQ(panel.predictedClass(QStringLiteral("lvef")), QStringLiteral(">=50"));
  EXPECT_TRUE(panel.taskStatus(QStringLiteral("lvef"))->text().startsWith(QStringLiteral("In distribution")));
}
