// Retrieval panel on a synthetic cohort imported into a temp database, with embeddings put
// directly: ranking by cosine similarity, same-patient exclusion, labels, thumbnails, and
// opening/comparing results in the echo grid (the grid needs an X display).
#include <gtest/gtest.h>

#include <memory>

#include <QCheckBox>
#include <QDockWidget>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QTableView>

#include "ai/PredictionPanel.h"
#include "ai/RetrievalPanel.h"
#include "app/MainWindow.h"
#include "browser/ImportDialog.h"
#include "browser/StudyBrowser.h"
#include "cohort_fixture.h"
#include "db/database.h"
#include "echo/EchoView.h"
#include "jobs/import/importer.h"
#include "pipeline/embedding_model.h"
#include "panels_test_util.h"
#include "synth/cohort.h"
#include "viewmodel/prediction_view.h"

using namespace e2e;
using e2e::ui::RetrievalPanel;

namespace {

const char* kEcgModel = "echo2ecg:1.0.0/ecg-aligned";
const char* kStudyModel = "echo2ecg:1.0.0/echo-study-aligned";

struct Cohort {
  QTemporaryDir tmp;
  QString dbPath;
  synth::CohortResult res;
  std::vector<std::int64_t> study;  // study row id per patient index
  std::vector<std::int64_t> ecg;    // ECG instance row id per patient index
  std::vector<std::string> lvefClass;

  Cohort() {
    dbPath = tmp.filePath(QStringLiteral("studies.db"));
    res = test::generateAndImport(tmp.path().toStdString(), dbPath.toStdString(), test::smallCohort(4, 7, 8, 2));
    db::Database d(dbPath.toStdString());
    for (const auto& p : res.patients) {
      db::Filter f;
      f.text = p.patientId;
      const auto studies = d.listStudies(f);
      EXPECT_EQ(studies.size(), 1u);
      study.push_back(studies.empty() ? 0 : studies.front().id);
      db::Filter fi;
      fi.studyRowId = study.back();
      fi.modality = "ECG";
      const auto ecgs = d.listInstances(fi);
      ecg.push_back(ecgs.empty() ? 0 : ecgs.front().id);
      std::string cls;
      for (const auto& l : d.labelsForStudy(study.back()))
        if (l.key == "lvef_class") cls = l.value;
      lvefClass.push_back(cls);
    }
  }

  void putEmbeddings() {
    db::Database d(dbPath.toStdString());
    auto put = [&](std::optional<std::int64_t> inst, std::optional<std::int64_t> st, const char* model,
                   const std::string& hash, std::vector<float> v) {
      db::EmbeddingKey k;
      k.instanceRowId = inst;
      k.studyRowId = st;
      k.modelId = model;
      k.weightsHash = hash;
      k.preprocVersion = pipeline::kPreprocVersion;
      d.putEmbedding(k, v);
    };
    put(ecg[0], std::nullopt, kEcgModel, "w1", {1, 0, 0, 0});
    put(std::nullopt, study[0], kStudyModel, "w1", {1, 0, 0, 0.05f});  // same patient: most similar
    put(std::nullopt, study[1], kStudyModel, "w1", {0.9f, 0.1f, 0, 0});   // 0.994
    put(std::nullopt, study[2], kStudyModel, "w1", {0.5f, 0.5f, 0, 0});   // 0.707
    put(std::nullopt, study[3], kStudyModel, "w1", {0, 1, 0, 0});         // 0
    // Another weights hash: must not be mixed in.
    put(std::nullopt, study[3], kStudyModel, "w0", {1, 0, 0, 0});
  }
};

Cohort& cohort() {
  static Cohort* c = [] {
    auto* c = new Cohort;
    c->putEmbeddings();
    return c;
  }();
  return *c;
}

std::vector<std::int64_t> studyIds(const RetrievalPanel& p) {
  std::vector<std::int64_t> out;
  for (const auto& r : p.results()) out.push_back(r.studyRowId);
  return out;
}

}  // namespace

TEST(RetrievalPanel, RanksByCosineAndExcludesTheSamePatient) {
  test::app();
  Cohort& c = cohort();
  ASSERT_GT(c.ecg[0], 0);
  RetrievalPanel panel;
  panel.resize(560, 720);
  panel.show();
  panel.setDatabasePath(c.dbPath);
  panel.setInstance(c.ecg[0]);
  EXPECT_EQ(studyIds(panel), (std::vector<std::int64_t>{c.study[1], c.study[2], c.study[3]}))
      << panel.messageLabel()->text().toStdString();
  ASSERT_EQ(panel.results().size(), 3u);
  EXPECT_NEAR(panel.results()[0].similarity, 0.9f / std::sqrt(0.82f), 1e-4);
  EXPECT_NEAR(panel.results()[1].similarity, std::sqrt(0.5f), 1e-4);
  EXPECT_NEAR(panel.results()[2].similarity, 0.f, 1e-4);
  EXPECT_EQ(panel.results()[0].rank, 1);
  EXPECT_TRUE(panel.embeddingKeyText().contains(QStringLiteral("w1")));
  EXPECT_FALSE(panel.embedButton()->isVisible());

  // Labels, date and views on the cards.
  ASSERT_EQ(panel.cards().size(), 3u);
  const auto& r1 = panel.results()[0];
  ASSERT_FALSE(c.lvefClass[1].empty());
  EXPECT_EQ(r1.labels.value(QStringLiteral("lvef_class")).toStdString(), c.lvefClass[1]);
  EXPECT_TRUE(r1.labels.contains(QStringLiteral("lvef_percent")));
  EXPECT_TRUE(r1.labels.contains(QStringLiteral("shd")));
  EXPECT_FALSE(r1.studyDate.isEmpty());
  EXPECT_EQ(r1.usPaths.size(), 4);
  EXPECT_TRUE(r1.views.contains(QStringLiteral("A4C"))) << r1.views.join(QStringLiteral(",")).toStdString();
  const QString text = panel.cards()[0]->textLabel()->text();
  EXPECT_TRUE(text.contains(QStringLiteral("#1"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("0.994"))) << text.toStdString();
  // Labels in words ("LVEF ≥ 50 %", "SHD: no"), never raw keys (lvef_class=2).
  EXPECT_TRUE(text.contains(QString::fromStdString(vm::labelText("lvef_class", c.lvefClass[1])).toHtmlEscaped())) << text.toStdString();
  EXPECT_FALSE(text.contains(QStringLiteral("lvef_class"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("PLAX")));

  // Thumbnails: the first frames of the first loop, decoded off the GUI thread, looping.
  ASSERT_GE(test::spinUntil([&] {
              for (auto* card : panel.cards())
                if (!card->thumbnailLoaded()) return false;
              return true;
            }),
            0);
  for (auto* card : panel.cards()) EXPECT_EQ(card->thumbnailFrames(), 8);
  ASSERT_GE(test::spinUntil([&] { return panel.cards()[0]->currentFrame() != 0; }), 0) << "the thumbnail plays";
  test::saveShot(&panel, QStringLiteral("retrieval_panel.png"));

  // Same patient included on request.
  panel.includeSamePatientBox()->setChecked(true);
  EXPECT_EQ(studyIds(panel), (std::vector<std::int64_t>{c.study[0], c.study[1], c.study[2], c.study[3]}));
  panel.setTopK(2);
  EXPECT_EQ(studyIds(panel), (std::vector<std::int64_t>{c.study[0], c.study[1]}));
  panel.includeSamePatientBox()->setChecked(false);
  EXPECT_EQ(studyIds(panel), (std::vector<std::int64_t>{c.study[1], c.study[2]}));
}

TEST(RetrievalPanel, WithoutEmbeddingsOffersEmbedNow) {
  test::app();
  Cohort& c = cohort();
  RetrievalPanel panel;
  panel.show();
  panel.setDatabasePath(c.dbPath);
  panel.setInstance(c.ecg[1]);  // no embedding stored for this ECG
  EXPECT_TRUE(panel.results().empty());
  EXPECT_TRUE(panel.embedButton()->isVisible());
  EXPECT_TRUE(panel.messageLabel()->text().contains(QStringLiteral("No embedding"))) << panel.messageLabel()->text().toStdString();
  panel.setCliProgram(QStringLiteral("/nonexistent/echo2ecg"));
  panel.embedButton()->click();
  ASSERT_GE(test::spinUntil([&] { return panel.messageLabel()->text().contains(QStringLiteral("Cannot start")); }), 0)
      << panel.messageLabel()->text().toStdString();
}

TEST(RetrievalPanel, OpenAndCompareLoadTheEchoGrid) {
  if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";
  test::app(true);
  Cohort& c = cohort();
  ui::EchoGrid grid;
  grid.resize(900, 700);
  grid.show();
  RetrievalPanel panel;
  panel.setEchoGrid(&grid);
  panel.setDatabasePath(c.dbPath);
  panel.setInstance(c.ecg[0]);
  ASSERT_EQ(panel.results().size(), 3u);
  int shown = 0;
  QObject::connect(&panel, &RetrievalPanel::echoGridShown, &panel, [&] { ++shown; });

  panel.cards()[0]->openButton()->click();
  EXPECT_EQ(shown, 1);
  EXPECT_EQ(grid.rows(), 2);
  EXPECT_EQ(grid.cols(), 2);
  QStringList opened;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(grid.view(i)->hasLoop()) << i;
    opened << QString::fromStdString(grid.view(i)->info().sourcePath);
  }
  for (const QString& p : panel.results()[0].usPaths) EXPECT_TRUE(opened.contains(p)) << p.toStdString();

  // Compare: check two results, the button enables, 1x2 with the first loop of each.
  EXPECT_FALSE(panel.compareButton()->isEnabled());
  panel.cards()[0]->compareBox()->setChecked(true);
  EXPECT_FALSE(panel.compareButton()->isEnabled());
  panel.cards()[2]->compareBox()->setChecked(true);
  EXPECT_TRUE(panel.compareButton()->isEnabled());
  panel.compareButton()->click();
  EXPECT_EQ(shown, 2);
  EXPECT_EQ(grid.rows(), 1);
  EXPECT_EQ(grid.cols(), 2);
  EXPECT_EQ(QString::fromStdString(grid.view(0)->info().sourcePath), panel.results()[0].usPaths.front());
  EXPECT_EQ(QString::fromStdString(grid.view(1)->info().sourcePath), panel.results()[2].usPaths.front());
  EXPECT_FALSE(grid.view(2)->hasLoop());
  EXPECT_FALSE(grid.view(3)->hasLoop());
}

TEST(MainWindowDatabase, OpenDatabaseRecentListImportAndPanels) {
  if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";
  test::app(true);
  Cohort& c = cohort();
  QSettings().remove(QStringLiteral("recentDatabases"));
  QTemporaryDir tmp;
  const QString other = tmp.filePath(QStringLiteral("other.db"));
  {
    ui::MainWindow w;
    w.show();
    ASSERT_NE(w.predictionPanel(), nullptr);
    ASSERT_NE(w.retrievalPanel(), nullptr);
    w.setDatabase(other);
    EXPECT_EQ(w.databasePath(), other);
    EXPECT_TRUE(w.windowTitle().contains(other));
    EXPECT_EQ(qEnvironmentVariable("E2E_DB"), other);
    w.setDatabase(c.dbPath);
    EXPECT_EQ(w.recentDatabases(), (QStringList{c.dbPath, other}));
    EXPECT_EQ(w.studyBrowser()->model()->rowCount(), 4 * 5) << "4 patients x (1 ECG + 4 loops)";
    // A file that is not a database: an error in the log, the current one stays.
    const QString bad = tmp.filePath(QStringLiteral("bad.db"));
    QFile f(bad);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(200, 'x'));
    f.close();
    w.setDatabase(bad);
    EXPECT_EQ(w.databasePath(), c.dbPath);

    // Selecting the ECG of patient 0 in the browser fills the retrieval panel.
    auto* table = w.studyBrowser()->findChild<QTableView*>();
    ASSERT_NE(table, nullptr);
    const auto* m = w.studyBrowser()->model();
    for (int r = 0; r < m->rowCount(); ++r)
      if (m->row(r)->modality == QStringLiteral("ECG") && m->row(r)->patientId.toStdString() == c.res.patients[0].patientId)
        table->setCurrentIndex(m->index(r, 0));
    EXPECT_EQ(w.retrievalPanel()->instance(), c.ecg[0]);
    EXPECT_EQ(w.retrievalPanel()->results().size(), 3u);
    EXPECT_EQ(w.predictionPanel()->instance(), c.ecg[0]);
    w.resize(1600, 950);
    // Only in the temp folder (docs/screenshots/main_window.png belongs to the viewer tests).
    QCoreApplication::processEvents();
    w.grab().toImage().save(QDir::tempPath() + QStringLiteral("/e2e-gui-panels-screens/main_window_panels.png"));
    if (auto* d = w.findChild<QDockWidget*>(QStringLiteral("retrievalDock"))) d->raise();
    QCoreApplication::processEvents();
    w.grab().toImage().save(QDir::tempPath() + QStringLiteral("/e2e-gui-panels-screens/main_window_retrieval.png"));

    // Import into a new database through the window: the browser refreshes at the end.
    w.setDatabase(other);
    auto* dlg = w.importPaths({QString::fromStdString(test::dataDir() + "/ecg_dicom")});
    ASSERT_NE(dlg, nullptr);
    bool done = false;
    QObject::connect(dlg, &ui::ImportDialog::importFinished, &w, [&] { done = true; });
    ASSERT_GE(test::spinUntil([&] { return done; }), 0);
    QCoreApplication::processEvents();
    EXPECT_EQ(w.studyBrowser()->model()->rowCount(), dlg->outcome().added);
    EXPECT_GT(dlg->outcome().added, 0);
    dlg->close();
  }
  // Persisted.
  EXPECT_EQ(QSettings().value(QStringLiteral("recentDatabases")).toStringList().front(), other);
  qunsetenv("E2E_DB");
}

// A study can hold loops this build cannot decode (JPEG 2000): the card's thumbnail is the first loop
// that decodes, and a study with none says why.
TEST(RetrievalCard, ThumbnailIsTheFirstLoopThatDecodes) {
  test::app();
  const std::string us = std::string(E2E_DATA_DIR) + "/us_dicom/pydicom-data/";
  // A card for a study with these loops, once its thumbnail decode has ended.
  auto loadedCard = [&](std::initializer_list<const char*> files) {
    ui::RetrievalResult r;
    r.rank = 1;
    for (const char* f : files) r.usPaths << QString::fromStdString(us + f);
    auto card = std::make_unique<ui::ResultCard>(r);
    EXPECT_GE(test::spinUntil([&] { return card->thumbnailLoaded(); }), 0);
    return card;
  };
  auto card = loadedCard({"US1_J2KR.dcm", "US1_UNCR.dcm"});
  EXPECT_GT(card->thumbnailFrames(), 0);
  EXPECT_FALSE(card->thumbnailLabel()->pixmap().isNull());

  auto none = loadedCard({"US1_J2KI.dcm", "US1_J2KR.dcm"});
  EXPECT_EQ(none->thumbnailFrames(), 0);
  EXPECT_EQ(none->thumbnailLabel()->text(), QStringLiteral("no preview"));
  EXPECT_TRUE(none->thumbnailLabel()->toolTip().contains(QStringLiteral("JPEG 2000")))
      << none->thumbnailLabel()->toolTip().toStdString();
}
