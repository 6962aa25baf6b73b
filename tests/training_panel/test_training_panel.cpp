// The training panel driven by a fake `echo2ecg train` (fake_trainer.cpp) that speaks the
// protocol: live curves, split check, cancel/resume, restore after restart, crash, the result
// (ROC, confusion matrix) and the new version in the model registry; plus the label editor.
#include <QFile>
#include <QLabel>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QComboBox>
#include <QLineEdit>
#include <QTableWidget>
#include <QTemporaryDir>
#include <cstdlib>
#include <memory>

#include "jobs/JobRunner.h"
#include "panel_test_util.h"
#include "training/LabelEditor.h"
#include "training/ModelRegistryView.h"
#include "training/TrainingPanel.h"

using e2e::ui::LabelEditor;
using e2e::ui::ModelRegistryView;
using e2e::ui::TrainingPanel;
using e2e::vm::RunState;

namespace {

class TrainingPanelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    e2e::test::panelApp();
    ASSERT_TRUE(tmp_.isValid());
    db_ = tmp_.filePath(QStringLiteral("studies.db"));
    e2e::test::makeCohort(db_.toStdString(), 20);
    waitFile_ = tmp_.filePath(QStringLiteral("go"));
    QSettings().remove(TrainingPanel::settingsGroup());
  }
  std::unique_ptr<TrainingPanel> makePanel(int epochs, QProcessEnvironment extra = {}) {
    auto p = std::make_unique<TrainingPanel>();
    p->setTrainerProgram(QStringLiteral(E2E_FAKE_TRAINER));
    p->setDatabasePath(db_);
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("FAKE_TRAIN_STEP_MS"), QStringLiteral("1"));
    env.insert(QStringLiteral("FAKE_TRAIN_SPE"), QStringLiteral("4"));
    for (const auto& k : extra.keys()) env.insert(k, extra.value(k));
    p->setProcessEnvironment(env);
    auto c = p->config();
    c.epochs = epochs;
    c.task = "lvef";
    c.labelKey = "lvef_class";
    p->setConfig(c);
    return p;
  }
  QProcessEnvironment holdAfterFirstEpoch() {
    QProcessEnvironment e;
    e.insert(QStringLiteral("FAKE_TRAIN_WAIT_FILE"), waitFile_);
    return e;
  }
  void release() { QFile(waitFile_).open(QIODevice::WriteOnly); }
  static bool ended(const TrainingPanel& p) {
    const auto s = p.state();
    return !p.isProcessRunning() && s != RunState::Running && s != RunState::Checking && s != RunState::Cancelling;
  }
  QTemporaryDir tmp_;
  QString db_, waitFile_;
};

TEST_F(TrainingPanelTest, DefaultsAndCohort) {
  TrainingPanel p;
  p.setDatabasePath(db_);
  const auto c = p.config();
  EXPECT_EQ(c.task, "lvef");
  EXPECT_EQ(c.method, "linear");
  EXPECT_EQ(c.batchSize, 64);
  EXPECT_DOUBLE_EQ(c.lr, 5e-4);
  EXPECT_DOUBLE_EQ(c.weightDecay, 1e-7);
  EXPECT_EQ(c.seed, 0);
  EXPECT_EQ(c.device, "auto");
  EXPECT_EQ(c.labelKey, "lvef_class");
  EXPECT_EQ(p.trainerProgram(), e2e::ui::echo2ecgPath());  // the one lookup ("" when there is none)
  EXPECT_TRUE(p.cohortLabel()->text().startsWith(QStringLiteral("20 patient")));
  EXPECT_EQ(p.runsRoot(), QDir(tmp_.path()).filePath(QStringLiteral("runs")));
  EXPECT_FALSE(p.cancelButton()->isEnabled());
  EXPECT_FALSE(p.resumeButton()->isEnabled());
}

TEST_F(TrainingPanelTest, CheckSplitShowsCounts) {
  auto p = makePanel(2);
  ASSERT_TRUE(p->checkSplit());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
  EXPECT_EQ(p->state(), RunState::Checked) << p->statusLabel()->text().toStdString();
  EXPECT_EQ(p->splitTable()->item(0, 0)->text(), QStringLiteral("14"));  // 70 % of 20
  EXPECT_EQ(p->splitTable()->item(1, 0)->text(), QStringLiteral("3"));
  EXPECT_EQ(p->splitTable()->item(2, 0)->text(), QStringLiteral("3"));
  EXPECT_TRUE(p->splitTable()->item(0, 1)->text().contains(QStringLiteral("<40: ")));
  EXPECT_FALSE(QDir(p->runsRoot()).exists(QStringLiteral("split-check/last.ckpt")));
}

TEST_F(TrainingPanelTest, LiveCurvesThenResultAndRegistry) {
  auto p = makePanel(6, holdAfterFirstEpoch());
  ModelRegistryView reg;
  reg.setDatabasePath(db_);
  EXPECT_EQ(reg.table()->rowCount(), 0);
  QObject::connect(p.get(), &TrainingPanel::modelRegistered, &reg, &ModelRegistryView::refresh);
  ASSERT_TRUE(p->startTraining());
  EXPECT_EQ(p->state(), RunState::Running);
  EXPECT_TRUE(p->cancelButton()->isEnabled());
  EXPECT_FALSE(p->startButton()->isEnabled());
  // Epoch 0 arrives while the job waits before epoch 1: the curves have its points already.
  ASSERT_TRUE(e2e::test::waitUntil([&] { return p->trainLossSeries()->count() == 1; }));
  EXPECT_EQ(p->state(), RunState::Running);
  EXPECT_EQ(p->stepLossSeries()->count(), 4);
  EXPECT_EQ(p->valLossSeries()->count(), 1);
  ASSERT_NE(p->valMetricSeries(QStringLiteral("auroc")), nullptr);
  EXPECT_EQ(p->valMetricSeries(QStringLiteral("auroc"))->count(), 1);
  EXPECT_GT(p->progressBar()->value(), 0);
  EXPECT_LT(p->progressBar()->value(), 1000);
  EXPECT_TRUE(p->statusLabel()->text().contains(QStringLiteral("epoch 1/6")));
  release();
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
  ASSERT_EQ(p->state(), RunState::Done) << p->statusLabel()->text().toStdString()
                                        << p->logView()->toPlainText().toStdString();
  EXPECT_EQ(p->stepLossSeries()->count(), 24);
  EXPECT_EQ(p->trainLossSeries()->count(), 6);
  EXPECT_EQ(p->valMetricSeries(QStringLiteral("auroc"))->count(), 6);
  EXPECT_EQ(p->progressBar()->value(), 1000);
  // Result: one ROC curve per class, the 3x3 confusion matrix.
  ASSERT_EQ(p->rocSeries().size(), 3);
  EXPECT_EQ(p->rocSeries()[0]->count(), 5);
  EXPECT_EQ(p->rocSeries()[0]->name(), QStringLiteral("&lt;40"));  // legends are rich text
  ASSERT_EQ(p->confusionTable()->rowCount(), 3);
  ASSERT_EQ(p->confusionTable()->columnCount(), 3);
  EXPECT_EQ(p->confusionTable()->item(2, 2)->text(), QStringLiteral("8"));
  EXPECT_EQ(p->confusionTable()->horizontalHeaderItem(1)->text(), QStringLiteral("40-49"));
  EXPECT_TRUE(QFile::exists(QDir(p->runDir()).filePath(QStringLiteral("model.pt"))));
  EXPECT_TRUE(p->runDir().startsWith(QDir(tmp_.path()).filePath(QStringLiteral("runs/lvef-"))));
  // The registry shows the new version; activating it marks it active in the database.
  const int row = reg.rowOf(QStringLiteral("echo2ecg-lvef"), QStringLiteral("1"));
  ASSERT_GE(row, 0);
  EXPECT_EQ(reg.table()->item(row, ModelRegistryView::ColParent)->text(), QStringLiteral("echo2ecg-pretrain:1"));
  EXPECT_TRUE(reg.table()->item(row, ModelRegistryView::ColMetrics)->text().contains(QStringLiteral("AUROC 0.830")));
  EXPECT_TRUE(reg.table()->item(row, ModelRegistryView::ColActive)->text().isEmpty());
  ASSERT_TRUE(reg.selectVersion(QStringLiteral("echo2ecg-lvef"), QStringLiteral("1")));
  EXPECT_TRUE(reg.cardView()->toPlainText().contains(QStringLiteral("\"recipe\"")));
  ASSERT_TRUE(reg.activateSelected());
  EXPECT_FALSE(reg.table()->item(row, ModelRegistryView::ColActive)->text().isEmpty());
  {
    e2e::db::Database d(db_.toStdString());
    const auto models = d.listModels();
    ASSERT_EQ(models.size(), 1u);
    EXPECT_TRUE(models[0].active);
  }
  // A finished run is not offered for resuming after a restart.
  TrainingPanel restarted;
  EXPECT_FALSE(restarted.restoreUnfinishedRun());

  // Screenshot of the finished run (docs/ only on request).
  p->resize(1500, 950);
  p->show();
  QApplication::processEvents();
  const QString dir = qEnvironmentVariable("E2E_UPDATE_SCREENSHOTS") == QLatin1String("1")
                          ? QStringLiteral(E2E_SCREENSHOT_DIR)
                          : tmp_.path();
  QDir().mkpath(dir);
  const QString shot = QDir(dir).filePath(QStringLiteral("training_panel.png"));
  ASSERT_TRUE(p->grab().save(shot));
  std::printf("screenshot: %s\n", shot.toLocal8Bit().constData());
  if (const char* keep = std::getenv("E2E_PANEL_SHOT_COPY")) p->grab().save(QString::fromLocal8Bit(keep));
}

TEST_F(TrainingPanelTest, CancelThenResumeContinuesFromCheckpoint) {
  auto p = makePanel(3, holdAfterFirstEpoch());
  ASSERT_TRUE(p->startTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return p->trainLossSeries()->count() == 1; }));
  const QString ckpt = QDir(p->runDir()).filePath(QStringLiteral("last.ckpt"));
  ASSERT_TRUE(p->cancelTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
  ASSERT_EQ(p->state(), RunState::Cancelled) << p->logView()->toPlainText().toStdString();
  EXPECT_TRUE(p->statusLabel()->text().contains(QStringLiteral("Cancelled \u2014 resumable")));
  EXPECT_TRUE(QFile::exists(ckpt));
  EXPECT_TRUE(p->resumeButton()->isEnabled());
  EXPECT_EQ(QSettings().value(TrainingPanel::settingsGroup() + QStringLiteral("/runDir")).toString(), p->runDir());
  const QString runDir = p->runDir();

  release();
  ASSERT_TRUE(p->resumeTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
  ASSERT_EQ(p->state(), RunState::Done) << p->logView()->toPlainText().toStdString();
  EXPECT_EQ(p->runDir(), runDir);
  EXPECT_TRUE(p->run().startEvent().resumed);
  EXPECT_EQ(p->run().startEvent().startEpoch, 1);  // from the checkpoint, not from scratch
  // The curve continues: one point per epoch 1..3, no duplicates.
  ASSERT_EQ(p->trainLossSeries()->count(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(p->trainLossSeries()->at(i).x(), i + 1);
  EXPECT_EQ(p->stepLossSeries()->count(), 12);
  EXPECT_TRUE(QSettings().value(TrainingPanel::settingsGroup() + QStringLiteral("/runDir")).toString().isEmpty());
}

TEST_F(TrainingPanelTest, UnfinishedRunIsResumableAfterRestart) {
  QString runDir;
  {
    auto p = makePanel(3, holdAfterFirstEpoch());
    ASSERT_TRUE(p->startTraining());
    ASSERT_TRUE(e2e::test::waitUntil([&] { return p->trainLossSeries()->count() == 1; }));
    ASSERT_TRUE(p->cancelTraining());
    ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
    ASSERT_EQ(p->state(), RunState::Cancelled);
    runDir = p->runDir();
  }  // "the application quits"
  release();
  TrainingPanel p2;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("FAKE_TRAIN_STEP_MS"), QStringLiteral("1"));
  p2.setProcessEnvironment(env);
  ASSERT_TRUE(p2.restoreUnfinishedRun());
  EXPECT_EQ(p2.state(), RunState::Cancelled);
  EXPECT_EQ(p2.runDir(), runDir);
  EXPECT_EQ(p2.config().epochs, 3);
  EXPECT_EQ(p2.trainerProgram(), QStringLiteral(E2E_FAKE_TRAINER));
  EXPECT_TRUE(p2.resumeButton()->isEnabled());
  ASSERT_TRUE(p2.resumeTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(p2); }));
  ASSERT_EQ(p2.state(), RunState::Done) << p2.logView()->toPlainText().toStdString();
  EXPECT_EQ(p2.run().startEvent().startEpoch, 1);
  EXPECT_EQ(p2.trainLossSeries()->count(), 2);  // epochs 2 and 3 of this process
}

TEST_F(TrainingPanelTest, CrashShowsAClearError) {
  QProcessEnvironment e;
  e.insert(QStringLiteral("FAKE_TRAIN_CRASH_EPOCH"), QStringLiteral("1"));
  auto p = makePanel(3, e);
  ASSERT_TRUE(p->startTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
  EXPECT_EQ(p->state(), RunState::Failed);
  EXPECT_TRUE(p->statusLabel()->text().contains(QStringLiteral("crashed"))) << p->statusLabel()->text().toStdString();
  EXPECT_TRUE(p->logView()->toPlainText().contains(QStringLiteral("simulated crash")));
  EXPECT_TRUE(p->resumeButton()->isEnabled());  // a checkpoint of epoch 0 exists
  EXPECT_TRUE(p->startButton()->isEnabled());

  // A trainer that cannot start at all: not a crash, "cannot start PROGRAM: reason".
  const QString missing = tmp_.filePath(QStringLiteral("no-such-trainer"));
  p->setTrainerProgram(missing);
  ASSERT_TRUE(p->startTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
  EXPECT_EQ(p->state(), RunState::Failed);
  EXPECT_TRUE(p->logView()->toPlainText().contains(QStringLiteral("Cannot start")));
  const QString status = p->statusLabel()->text();
  EXPECT_TRUE(status.startsWith(QStringLiteral("Failed: cannot start ") + missing + QStringLiteral(": ")))
      << status.toStdString();
  EXPECT_FALSE(status.contains(QStringLiteral("crashed"))) << status.toStdString();
  EXPECT_TRUE(status.contains(QStringLiteral("No such file")) || status.contains(QStringLiteral("execve")))
      << "the reason (QProcess::errorString) is shown: " << status.toStdString();
}

TEST_F(TrainingPanelTest, MalformedLinesAreLoggedAndIgnored) {
  QProcessEnvironment e;
  e.insert(QStringLiteral("FAKE_TRAIN_GARBAGE"), QStringLiteral("1"));
  auto p = makePanel(2, e);
  ASSERT_TRUE(p->startTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] { return ended(*p); }));
  EXPECT_EQ(p->state(), RunState::Done);
  EXPECT_EQ(p->stepLossSeries()->count(), 8);
  const QString log = p->logView()->toPlainText();
  EXPECT_EQ(log.count(QStringLiteral("warning: ignored progress line")), 6) << log.toStdString();
}

TEST_F(TrainingPanelTest, LabelEditorImportAndEdit) {
  LabelEditor ed;
  ed.setDatabasePath(db_);
  EXPECT_EQ(ed.studyBox()->count(), 20);
  const QString csv = tmp_.filePath(QStringLiteral("labels.csv"));
  {
    QFile f(csv);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write("accession,lvef_percent,lvef_class\nACC1,33,0\nACC99,60,2\n");
  }
  const auto r = ed.importCsv(csv);
  EXPECT_EQ(r.matchedRows, 1);
  ASSERT_EQ(r.unmatched.size(), 1u);
  const QString rep = ed.reportView()->toPlainText();
  EXPECT_TRUE(rep.contains(QStringLiteral("1 matched, 1 unmatched"))) << rep.toStdString();
  EXPECT_TRUE(rep.contains(QStringLiteral("ACC99")));
  const QString uid = QStringLiteral("1.2.826.0.1.3680043.99.2");  // ACC1
  ASSERT_TRUE(ed.setStudy(uid));
  EXPECT_EQ(ed.lvefPercentEdit()->text(), QStringLiteral("33"));
  EXPECT_EQ(ed.lvefClassBox()->currentData().toString(), QStringLiteral("0"));
  EXPECT_EQ(ed.shdBox()->currentData().toString(), QStringLiteral("0"));
  EXPECT_GE(ed.labelTable()->rowCount(), 3);
  ed.lvefPercentEdit()->setText(QStringLiteral("52.5"));
  ed.lvefClassBox()->setCurrentIndex(ed.lvefClassBox()->findData(QStringLiteral("2")));
  ed.shdBox()->setCurrentIndex(ed.shdBox()->findData(QStringLiteral("1")));
  ASSERT_TRUE(ed.save());
  e2e::db::Database d(db_.toStdString());
  std::map<std::string, std::pair<std::string, std::string>> m;
  for (const auto& l : d.labelsForStudy(*d.studyRowIdByUid(uid.toStdString())))
    if (l.source == "manual") m[l.key] = {l.value, l.source};
  EXPECT_EQ(m["lvef_percent"].first, "52.5");
  EXPECT_EQ(m["lvef_percent"].second, "manual");
  EXPECT_EQ(m["lvef_class"].first, "2");
  EXPECT_EQ(m["shd"].first, "1");
  // The manual values win over the imported ones when shown again.
  ASSERT_TRUE(ed.setStudy(QStringLiteral("1.2.826.0.1.3680043.99.1")));
  ASSERT_TRUE(ed.setStudy(uid));
  EXPECT_EQ(ed.lvefPercentEdit()->text(), QStringLiteral("52.5"));
  EXPECT_EQ(ed.lvefClassBox()->currentData().toString(), QStringLiteral("2"));
  EXPECT_FALSE(ed.setStudy(QStringLiteral("9.9.9")));
}

}  // namespace
