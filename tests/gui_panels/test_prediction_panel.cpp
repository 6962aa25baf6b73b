// Prediction panel: predictions stored in the database shown as bars with percentages, the
// model version and weights, the permanent synthetic-data banner; Predict without a CLI.
#include <gtest/gtest.h>

#include <QLabel>
#include <QProgressBar>
#include <QFile>
#include <QPushButton>
#include <fstream>

#include "ai/PredictionPanel.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "panels_test_util.h"

using namespace e2e;
using e2e::ui::PredictionPanel;

namespace {

struct EcgDb {
  QTemporaryDir tmp;
  QString dbPath;
  std::int64_t ecgId = 0;
  std::string uid, path;
  EcgDb() {
    dbPath = tmp.filePath(QStringLiteral("studies.db"));
    path = tmp.filePath(QStringLiteral("test_ecg.dcm")).toStdString();
    test::copyFile(test::dataDir() + "/ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm", path);
    db::Database d(dbPath.toStdString());
    importer::ImportOptions o;
    o.paths = {path};
    const auto rep = importer::runImport(d, o);
    EXPECT_EQ(rep.added, 1);
    const auto rows = d.listInstances();
    if (!rows.empty()) {
      ecgId = rows.front().id;
      uid = rows.front().sopInstanceUid;
    }
  }
};

db::PredictionRow pred(std::int64_t id, const std::string& task, std::map<std::string, double> p,
                       const std::string& version = "1.2.0") {
  db::PredictionRow r;
  r.instanceRowId = id;
  r.modelId = "echo2ecg-ecg";
  r.modelVersion = version;
  r.weightsHash = "0123456789abcdef0123456789abcdef";
  r.task = task;
  r.probabilities = std::move(p);
  return r;
}

}  // namespace

TEST(PredictionPanel, ShowsStoredPredictionsAsBars) {
  test::app();
  EcgDb f;
  ASSERT_GT(f.ecgId, 0);
  {
    db::Database d(f.dbPath.toStdString());
    // An older prediction, then the newer one that must be shown.
    d.addPrediction(pred(f.ecgId, "lvef", {{"<40", 0.1}, {"40-49", 0.1}, {">=50", 0.8}}, "1.0.0"));
    d.addPrediction(pred(f.ecgId, "lvef", {{"<40", 0.625}, {"40-49", 0.25}, {">=50", 0.125}}));
    d.addPrediction(pred(f.ecgId, "shd", {{"no_shd", 0.3}, {"shd", 0.7}}));
  }
  PredictionPanel panel;
  panel.resize(420, 560);
  panel.show();
  EXPECT_EQ(panel.banner()->text(), QString::fromUtf8(PredictionPanel::bannerText()));
  EXPECT_TRUE(panel.banner()->text().contains(QStringLiteral("SYNTHETIC")));
  EXPECT_FALSE(panel.predictButton()->isEnabled()) << "nothing selected";
  panel.setDatabasePath(f.dbPath);
  panel.setInstance(f.ecgId);

  EXPECT_EQ(panel.bar(QStringLiteral("<40"))->value(), 625);
  EXPECT_EQ(panel.bar(QStringLiteral("<40"))->text(), QStringLiteral("62.5 %"));
  EXPECT_EQ(panel.bar(QStringLiteral("40-49"))->value(), 250);
  EXPECT_EQ(panel.bar(QStringLiteral("40-49"))->text(), QStringLiteral("25.0 %"));
  EXPECT_EQ(panel.bar(QStringLiteral(">=50"))->value(), 125);
  EXPECT_EQ(panel.bar(QStringLiteral(">=50"))->text(), QStringLiteral("12.5 %"));
  EXPECT_EQ(panel.bar(QStringLiteral("shd"))->value(), 700);
  EXPECT_EQ(panel.bar(QStringLiteral("shd"))->text(), QStringLiteral("70.0 %"));
  const QString model = panel.modelLabel()->text();
  EXPECT_TRUE(model.contains(QStringLiteral("echo2ecg-ecg"))) << model.toStdString();
  EXPECT_TRUE(model.contains(QStringLiteral("v1.2.0"))) << model.toStdString();
  EXPECT_FALSE(model.contains(QStringLiteral("v1.0.0"))) << "the latest prediction is shown";
  EXPECT_TRUE(model.contains(QStringLiteral("0123456789ab"))) << "short weights hash";
  EXPECT_FALSE(model.contains(QStringLiteral("0123456789abcdef0123"))) << "the hash is shortened";
  EXPECT_TRUE(panel.predictButton()->isEnabled());
  EXPECT_TRUE(panel.banner()->isVisible());
  test::saveShot(&panel, QStringLiteral("prediction_panel.png"));

  // Looked up by SOP Instance UID (an ECG opened from a file), and by path for UID-less sources.
  PredictionPanel byUid;
  byUid.setDatabasePath(f.dbPath);
  EXPECT_EQ(byUid.setInstanceByUid(QString::fromStdString(f.uid)), f.ecgId);
  EXPECT_EQ(byUid.bar(QStringLiteral("shd"))->value(), 700);
  EXPECT_EQ(PredictionPanel::findInstance(f.dbPath, QString(), QString::fromStdString(f.path)), f.ecgId);
  EXPECT_EQ(byUid.setInstanceByUid(QStringLiteral("1.2.3.4.5.nope")), 0);
  EXPECT_TRUE(byUid.messageLabel()->text().contains(QStringLiteral("not in the study database")));
  EXPECT_EQ(byUid.bar(QStringLiteral("shd"))->text(), QStringLiteral("–"));
}

TEST(PredictionPanel, NoPredictionsAndMissingCommandGiveClearMessages) {
  test::app();
  EcgDb f;
  ASSERT_GT(f.ecgId, 0);
  PredictionPanel panel;
  panel.setDatabasePath(f.dbPath);
  panel.setInstance(f.ecgId);
  EXPECT_TRUE(panel.messageLabel()->text().contains(QStringLiteral("No predictions"))) << panel.messageLabel()->text().toStdString();
  EXPECT_EQ(panel.bar(QStringLiteral("<40"))->value(), 0);

  panel.setCliProgram(QStringLiteral("/nonexistent/echo2ecg"));
  panel.predictButton()->click();
  ASSERT_GE(test::spinUntil([&] { return panel.messageLabel()->text().contains(QStringLiteral("Cannot start")); }), 0)
      << panel.messageLabel()->text().toStdString();
  EXPECT_TRUE(panel.predictButton()->isEnabled()) << "usable again after the failure";

  // A command that fails: its last output line is shown.
  QTemporaryDir tmp;
  const QString script = tmp.filePath(QStringLiteral("echo2ecg"));
  {
    std::ofstream s(script.toStdString());
    s << "#!/bin/sh\necho \"error: no model installed (run echo2ecg train first)\" >&2\nexit 3\n";
  }
  QFile::setPermissions(script, QFile::permissions(script) | QFileDevice::ExeOwner);
  panel.setCliProgram(script);
  panel.predict();
  ASSERT_GE(test::spinUntil([&] { return panel.messageLabel()->text().contains(QStringLiteral("no model installed")); }), 0)
      << panel.messageLabel()->text().toStdString();
  EXPECT_TRUE(panel.messageLabel()->text().contains(QStringLiteral("exit 3")));
}

TEST(PredictionPanel, PredictRunsTheCommandAndRefreshes) {
  test::app();
  EcgDb f;
  ASSERT_GT(f.ecgId, 0);
  // A stand-in for the echo2ecg CLI that records its arguments.
  QTemporaryDir tmp;
  const QString args = tmp.filePath(QStringLiteral("args.txt"));
  const QString script = tmp.filePath(QStringLiteral("echo2ecg"));
  {
    std::ofstream s(script.toStdString());
    s << "#!/bin/sh\necho \"$@\" > '" << args.toStdString() << "'\necho predicted 1 ECG\n";
  }
  QFile::setPermissions(script, QFile::permissions(script) | QFileDevice::ExeOwner);
  PredictionPanel panel;
  panel.setCliProgram(script);
  panel.setDatabasePath(f.dbPath);
  panel.setInstance(f.ecgId);
  QStringList log;
  QObject::connect(&panel, &PredictionPanel::logMessage, &panel, [&](const QString& t) { log << t; });
  // The prediction appears in the database while the command runs.
  {
    db::Database d(f.dbPath.toStdString());
    d.addPrediction(pred(f.ecgId, "shd", {{"no_shd", 0.9}, {"shd", 0.1}}));
  }
  panel.predict();
  EXPECT_FALSE(panel.predictButton()->isEnabled()) << "disabled while running";
  ASSERT_GE(test::spinUntil([&] { return panel.predictButton()->isEnabled(); }), 0);
  QFile a(args);
  ASSERT_TRUE(a.open(QIODevice::ReadOnly));
  EXPECT_EQ(QString::fromUtf8(a.readAll()).trimmed(), QStringLiteral("predict --db %1 %2").arg(f.dbPath).arg(f.ecgId));
  EXPECT_EQ(panel.bar(QStringLiteral("shd"))->value(), 100) << "refreshed after the command";
  EXPECT_TRUE(log.contains(QStringLiteral("predicted 1 ECG"))) << log.join(QStringLiteral("|")).toStdString();
}
