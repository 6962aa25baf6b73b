// The training panel with the real `echo2ecg train` on a small generated cohort (slow; needs the
// CLI built with the models, E2E_BUILD_MODELS=ON). Skipped when the binary has no train command.
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QLabel>
#include <QProcess>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QFile>
#include <QDir>

#include "panel_test_util.h"
#include "training/ModelRegistryView.h"
#include "training/TrainingPanel.h"

using e2e::ui::ModelRegistryView;
using e2e::ui::TrainingPanel;
using e2e::vm::RunState;

namespace {

// E2E_TRAIN_CLI overrides the echo2ecg of this build (e.g. one built with the models elsewhere).
QString cliPath() {
  const QString env = qEnvironmentVariable("E2E_TRAIN_CLI");
  return env.isEmpty() ? QStringLiteral(E2E_CLI_PATH) : env;
}

bool runCli(const QStringList& args, QString* out = nullptr) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(cliPath(), args);
  if (!p.waitForFinished(600000)) return false;
  if (out) *out = QString::fromUtf8(p.readAll());
  return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

void runToEnd(TrainingPanel& p) {
  ASSERT_TRUE(e2e::test::waitUntil(
      [&] {
        const auto s = p.state();
        return !p.isProcessRunning() && s != RunState::Running && s != RunState::Checking && s != RunState::Cancelling;
      },
      900000));
}

}  // namespace

TEST(TrainingPanelReal, PretrainThenKnnOnGeneratedCohort) {
  e2e::test::panelApp();
  QTemporaryDir tmp;
  ASSERT_TRUE(tmp.isValid());
  const QString data = tmp.filePath(QStringLiteral("cohort")), db = tmp.filePath(QStringLiteral("studies.db"));
  QString out;
  ASSERT_TRUE(runCli({QStringLiteral("generate"), QStringLiteral("--out"), data, QStringLiteral("--patients"),
                      QStringLiteral("24"), QStringLiteral("--seed"), QStringLiteral("3")},
                     &out))
      << out.toStdString();
  runCli({QStringLiteral("import"), data, QStringLiteral("--db"), db}, &out);
  QSettings().remove(TrainingPanel::settingsGroup());

  TrainingPanel p;
  p.setTrainerProgram(cliPath());
  p.setDatabasePath(db);
  auto c = p.config();
  c.task = "pretrain";
  c.epochs = 1;
  c.batchSize = 8;
  c.device = "cpu";
  c.labelKey.clear();
  c.extraArgs = {"--ecg-depth", "1", "--video-size", "32"};  // a tiny encoder keeps this fast
  p.setConfig(c);
  ASSERT_TRUE(p.checkSplit());
  runToEnd(p);
  ASSERT_EQ(p.state(), RunState::Checked) << p.logView()->toPlainText().toStdString();
  EXPECT_FALSE(p.splitTable()->item(0, 0)->text().isEmpty());

  ASSERT_TRUE(p.startTraining());
  runToEnd(p);
  ASSERT_EQ(p.state(), RunState::Done) << p.logView()->toPlainText().toStdString();
  EXPECT_GT(p.stepLossSeries()->count(), 0);
  const std::string pretrained = p.run().doneEvent().modelId + ":" + p.run().doneEvent().version;

  c = p.config();
  c.task = "lvef";
  c.method = "knn";
  c.labelKey = "lvef_class";
  c.baseModel = pretrained;
  c.extraArgs.clear();
  p.setConfig(c);
  ASSERT_TRUE(p.startTraining());
  runToEnd(p);
  ASSERT_EQ(p.state(), RunState::Done) << p.logView()->toPlainText().toStdString();
  EXPECT_FALSE(p.rocSeries().isEmpty());
  EXPECT_EQ(p.confusionTable()->rowCount(), 3);

  ModelRegistryView reg;
  reg.setDatabasePath(db);
  EXPECT_GE(reg.table()->rowCount(), 2);
  EXPECT_GE(reg.rowOf(QString::fromStdString(p.run().doneEvent().modelId),
                      QString::fromStdString(p.run().doneEvent().version)),
            0);
}

TEST(TrainingPanelReal, CancelThenResumeRealJob) {
  e2e::test::panelApp();
  QTemporaryDir tmp;
  ASSERT_TRUE(tmp.isValid());
  const QString data = tmp.filePath(QStringLiteral("cohort")), db = tmp.filePath(QStringLiteral("studies.db"));
  ASSERT_TRUE(runCli({QStringLiteral("generate"), QStringLiteral("--out"), data, QStringLiteral("--patients"),
                      QStringLiteral("24"), QStringLiteral("--seed"), QStringLiteral("3")}));
  runCli({QStringLiteral("import"), data, QStringLiteral("--db"), db});
  QSettings().remove(TrainingPanel::settingsGroup());

  TrainingPanel p;
  p.setTrainerProgram(cliPath());
  p.setDatabasePath(db);
  auto c = p.config();
  c.task = "pretrain";
  c.epochs = 6;
  c.batchSize = 8;
  c.device = "cpu";
  c.labelKey.clear();
  c.extraArgs = {"--ecg-depth", "1", "--video-size", "32"};
  p.setConfig(c);
  ASSERT_TRUE(p.startTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return p.trainLossSeries()->count() >= 1 || !p.isProcessRunning(); }, 900000));
  ASSERT_TRUE(p.cancelTraining()) << p.logView()->toPlainText().toStdString();
  runToEnd(p);
  ASSERT_EQ(p.state(), RunState::Cancelled) << p.logView()->toPlainText().toStdString();
  EXPECT_TRUE(QFile::exists(QDir(p.runDir()).filePath(QStringLiteral("last.ckpt"))));
  const int before = p.trainLossSeries()->count();
  ASSERT_TRUE(p.resumeTraining());
  runToEnd(p);
  ASSERT_EQ(p.state(), RunState::Done) << p.logView()->toPlainText().toStdString();
  EXPECT_TRUE(p.run().startEvent().resumed);
  EXPECT_GE(p.run().startEvent().startEpoch, 1);
  EXPECT_GE(p.trainLossSeries()->count(), before);
  EXPECT_EQ(p.trainLossSeries()->count(), 6);  // one point per epoch, no duplicates
}
