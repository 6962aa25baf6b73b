// Model registry -> re-embedding job -> retrieval panel, with the real `echo2ecg` (embed / train):
// activating an embedding model (echo2ecg-pretrain version) in the ModelRegistryView starts
// `echo2ecg embed` as a child process with progress and Cancel; meanwhile the retrieval panel shows
// the new version's embeddings as missing (never the old version's results) and, once the job has
// finished, results of the new version. Plain widgets (offscreen). Skipped when echo2ecg was built
// without the models.
#include <gtest/gtest.h>

#include <QLabel>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>

#include "ai/RetrievalPanel.h"
#include "cohort_fixture.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "jobs/JobRunner.h"
#include "panels_test_util.h"
#include "synth/cohort.h"
#include "training/ModelRegistryView.h"

using namespace e2e;

namespace {

bool runCli(const QStringList& args, QString* out = nullptr) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(QStringLiteral(E2E_CLI_PATH), args);
  if (!p.waitForFinished(300000)) return false;
  if (out) *out = QString::fromUtf8(p.readAll());
  return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

}  // namespace

TEST(ReembedOnActivation, RegistryActivationRunsTheEmbedJobAndRetrievalSwitchesVersion) {
  test::app();
  QTemporaryDir tmp;
  ASSERT_TRUE(tmp.isValid());
  const QString db = tmp.filePath(QStringLiteral("studies.db"));
  test::generateAndImport(tmp.path().toStdString(), db.toStdString(), test::smallCohort(5, 9, 8, 2));
  std::int64_t ecg = 0;
  {
    db::Database d(db.toStdString());
    db::Filter f;
    f.modality = "ECG";
    ecg = d.listInstances(f).front().id;
  }
  // Two tiny encoder versions; version 1 embedded and active, version 2 without embeddings.
  QString out;
  for (const char* seed : {"5", "6"})
    ASSERT_TRUE(runCli({QStringLiteral("train"), QStringLiteral("--db"), db, QStringLiteral("--task"), QStringLiteral("pretrain"),
                        QStringLiteral("--run-dir"), tmp.filePath(QStringLiteral("run%1").arg(QLatin1String(seed))),
                        QStringLiteral("--epochs"), QStringLiteral("0"), QStringLiteral("--ecg-depth"), QStringLiteral("1"),
                        QStringLiteral("--video-size"), QStringLiteral("32"), QStringLiteral("--seed"), QLatin1String(seed)},
                       &out))
        << out.toStdString();
  ASSERT_TRUE(runCli({QStringLiteral("models"), QStringLiteral("activate"), QStringLiteral("echo2ecg-pretrain"),
                      QStringLiteral("1"), QStringLiteral("--embed"), QStringLiteral("--db"), db},
                     &out))
      << out.toStdString();

  ui::RetrievalPanel panel;
  panel.setCliProgram(QStringLiteral(E2E_CLI_PATH));
  panel.show();
  panel.setDatabasePath(db);
  panel.setInstance(ecg);
  EXPECT_EQ(panel.modelText(), QStringLiteral("echo2ecg-pretrain v1"));
  EXPECT_TRUE(panel.modelLabel()->isVisible());
  EXPECT_TRUE(panel.modelLabel()->text().contains(QStringLiteral("v1"))) << panel.modelLabel()->text().toStdString();
  ASSERT_EQ(panel.results().size(), 4u) << panel.messageLabel()->text().toStdString();  // every other patient
  EXPECT_TRUE(panel.embeddingKeyText().startsWith(QStringLiteral("echo2ecg-pretrain:1/ecg-aligned")));

  ui::ModelRegistryView reg;
  reg.setCliProgram(QStringLiteral(E2E_CLI_PATH));
  reg.setDatabasePath(db);
  // As the main window wires them: activation refreshes the panel at once, the job's end again.
  QObject::connect(&reg, &ui::ModelRegistryView::activated, &panel, &ui::RetrievalPanel::refresh);
  bool finished = false, finishedOk = false;
  QString finishedVersion;
  QObject::connect(&reg, &ui::ModelRegistryView::embeddingFinished, &panel,
                   [&](bool ok, const QString&, const QString& version, const QString&) {
                     finished = true;
                     finishedOk = ok;
                     finishedVersion = version;
                     panel.refresh();
                   });
  int progressLines = 0;
  QObject::connect(reg.embedJob(), &ui::CliJob::line, &reg, [&](const QString& l) {
    progressLines += ui::parseJobProgress(l, nullptr) ? 1 : 0;
  });
  EXPECT_TRUE(reg.isEmbeddingModel(QStringLiteral("echo2ecg-pretrain"), QStringLiteral("2")));
  ASSERT_TRUE(reg.selectVersion(QStringLiteral("echo2ecg-pretrain"), QStringLiteral("2")));
  ASSERT_TRUE(reg.activateSelected());

  // The job runs as a child process, with progress and Cancel; Activate waits for it.
  EXPECT_TRUE(reg.isEmbedding());
  EXPECT_EQ(reg.embeddingModel(), QStringLiteral("echo2ecg-pretrain:2"));
  EXPECT_FALSE(reg.embedProgress()->isHidden());
  EXPECT_FALSE(reg.cancelButton()->isHidden());
  EXPECT_FALSE(reg.activateButton()->isEnabled());
  EXPECT_TRUE(reg.infoLabel()->text().contains(QStringLiteral("Re-embedding"))) << reg.infoLabel()->text().toStdString();
  // Meanwhile the panel reports the new version and its missing embeddings - no version-1 results.
  EXPECT_EQ(panel.modelText(), QStringLiteral("echo2ecg-pretrain v2"));
  EXPECT_TRUE(panel.results().empty());
  EXPECT_EQ(panel.missingStudies(), 5);
  EXPECT_TRUE(panel.messageLabel()->text().contains(QStringLiteral("Missing embeddings of echo2ecg-pretrain v2")))
      << panel.messageLabel()->text().toStdString();
  EXPECT_TRUE(panel.embedButton()->isVisibleTo(&panel));

  ASSERT_GE(test::spinUntil([&] { return finished; }), 0) << "the embed job did not finish";
  EXPECT_TRUE(finishedOk) << reg.embedJob()->output().toStdString();
  EXPECT_EQ(finishedVersion, QStringLiteral("2"));
  EXPECT_GT(progressLines, 0) << reg.embedJob()->output().toStdString();
  EXPECT_TRUE(reg.embedProgress()->isHidden());
  EXPECT_TRUE(reg.cancelButton()->isHidden());
  EXPECT_TRUE(reg.activateButton()->isEnabled());
  EXPECT_TRUE(reg.infoLabel()->text().contains(QStringLiteral("up to date"))) << reg.infoLabel()->text().toStdString();

  // The panel refreshed: results of version 2 only.
  EXPECT_EQ(panel.modelText(), QStringLiteral("echo2ecg-pretrain v2"));
  EXPECT_TRUE(panel.modelLabel()->text().contains(QStringLiteral("v2"))) << panel.modelLabel()->text().toStdString();
  EXPECT_EQ(panel.missingStudies(), 0);
  EXPECT_EQ(panel.results().size(), 4u) << panel.messageLabel()->text().toStdString();
  EXPECT_TRUE(panel.embeddingKeyText().startsWith(QStringLiteral("echo2ecg-pretrain:2/ecg-aligned")))
      << panel.embeddingKeyText().toStdString();
  EXPECT_FALSE(panel.embedButton()->isVisibleTo(&panel));

  // A loop deleted from a study after it was embedded: the panel still searches it (with the vector
  // made from its old loops) and says so, offering Embed now; re-embedding re-makes it.
  {
    db::Database d(db.toStdString());
    db::Filter us;
    us.modality = "US";
    ASSERT_TRUE(d.deleteInstance(d.listInstances(us).back().id));
  }
  panel.refresh();
  EXPECT_EQ(panel.outdatedStudies(), 1);
  EXPECT_EQ(panel.results().size(), 4u) << panel.messageLabel()->text().toStdString();
  EXPECT_TRUE(panel.messageLabel()->text().contains(QStringLiteral("1 echo study had loops imported or deleted")))
      << panel.messageLabel()->text().toStdString();
  EXPECT_TRUE(panel.embedButton()->isVisibleTo(&panel));
  // Embed now, with a real loop that cannot be decoded in the database as well (JPEG 2000, its own
  // study): the outdated study is re-made and the panel says what could not be read, not "failed".
  {
    db::Database d(db.toStdString());
    importer::ImportOptions io;
    io.paths = {std::string(E2E_DATA_DIR) + "/us_dicom/pydicom-data/US1_J2KR.dcm"};
    ASSERT_EQ(importer::runImport(d, io).added, 1);
  }
  QStringList log;
  QObject::connect(&panel, &ui::RetrievalPanel::logMessage, &panel, [&](const QString& m) { log << m; });
  panel.embedNow();
  EXPECT_FALSE(panel.embedButton()->isEnabled());
  ASSERT_GE(test::spinUntil([&] { return panel.embedButton()->isEnabled(); }), 0) << "the embed job did not finish";
  EXPECT_EQ(panel.outdatedStudies(), 0);
  EXPECT_EQ(panel.results().size(), 4u) << panel.messageLabel()->text().toStdString();
  const QString msg = panel.messageLabel()->text();
  EXPECT_TRUE(msg.contains(QStringLiteral("1 input(s) could not be used"))) << msg.toStdString();
  EXPECT_TRUE(msg.contains(QStringLiteral("Everything else is embedded."))) << msg.toStdString();
  EXPECT_TRUE(msg.contains(QStringLiteral("US1_J2KR.dcm"))) << msg.toStdString();
  EXPECT_FALSE(msg.contains(QStringLiteral("failed"))) << msg.toStdString();
  EXPECT_NE(panel.messageLabel()->styleSheet(), QStringLiteral("color:#b00020;")) << "shown as an error";
  EXPECT_TRUE(log.join(QLatin1Char('\n')).contains(QStringLiteral("echo studies re-made: 1"))) << log.join(QLatin1Char('\n')).toStdString();
  // The JPEG 2000 study stays unsearched, and the panel says that embedding again will not help it.
  EXPECT_EQ(panel.missingStudies(), 1);
  EXPECT_EQ(panel.undecodableStudies(), 1);
  panel.refresh();
  EXPECT_TRUE(panel.messageLabel()->text().contains(QStringLiteral("1 with no loop this build can decode")))
      << panel.messageLabel()->text().toStdString();
  EXPECT_FALSE(panel.embedButton()->isVisibleTo(&panel));

  // A prediction head is not an embedding model: activating it starts no job.
  ASSERT_TRUE(runCli({QStringLiteral("models"), QStringLiteral("register"), QStringLiteral("--model-id"),
                      QStringLiteral("echo2ecg-lvef"), QStringLiteral("--version"), QStringLiteral("1"),
                      QStringLiteral("--db"), db}));
  reg.refresh();
  ASSERT_TRUE(reg.selectVersion(QStringLiteral("echo2ecg-lvef"), QStringLiteral("1")));
  ASSERT_TRUE(reg.activateSelected());
  EXPECT_FALSE(reg.isEmbedding());
}
