// Models > Import…: the dialog drives the real `echo2ecg models import --json` (a child process) on a
// copy of the bundled model (models/: bundle.json + *.pt) and on the official run layout written by
// tools/echo2ecg_reference.py; the registry is checked through core/db, never through the GUI.
#include <gtest/gtest.h>

#include <QAction>
#include <QCheckBox>
#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTemporaryDir>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include "app/MainWindow.h"
#include "db/database.h"
#include "gui_test_util.h"
#include "training/ModelImportDialog.h"
#include "training/ModelRegistryView.h"

namespace fs = std::filesystem;
using e2e::ui::ModelImportDialog;
using State = ModelImportDialog::State;

namespace {

const QString kCli = QStringLiteral(E2E_CLI_PATH);

bool spinUntil(const std::function<bool()>& pred, int limitMs = 300000) {
  QElapsedTimer t;
  t.start();
  while (!pred()) {
    if (t.elapsed() > limitMs) return false;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
  }
  return true;
}

// Runs the import and waits for its end (the dialog's importFinished).
bool runImport(ModelImportDialog& dlg) {
  bool finished = false;
  auto c = QObject::connect(&dlg, &ModelImportDialog::importFinished, [&] { finished = true; });
  dlg.startImport();
  const bool ok = spinUntil([&] { return finished && !dlg.isRunning(); });
  QObject::disconnect(c);
  return ok;
}

// A copy of the project's bundled model (bundle.json and the weights it names).
QString copyBundle(const QTemporaryDir& tmp) {
  const QString out = tmp.filePath(QStringLiteral("bundle"));
  fs::copy(fs::path(E2E_SOURCE_DIR) / "models", out.toStdString(), fs::copy_options::recursive);
  return out;
}

QJsonObject readJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  return QJsonDocument::fromJson(f.readAll()).object();
}

QString sha256(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  QCryptographicHash h(QCryptographicHash::Sha256);
  h.addData(&f);
  return QString::fromLatin1(h.result().toHex());
}

std::vector<e2e::db::ModelRow> versionsOf(const QString& db, const QString& modelId) {
  std::vector<e2e::db::ModelRow> out;
  if (!QFileInfo::exists(db)) return out;
  e2e::db::Database d(db.toStdString(), e2e::db::Database::Mode::ReadOnly);
  for (auto& m : d.listModels())
    if (m.modelId == modelId.toStdString()) out.push_back(m);
  return out;
}

int filesUnder(const QString& dir) {
  int n = 0;
  for (QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories); it.hasNext(); it.next()) ++n;
  return n;
}

// docs/screenshots when E2E_UPDATE_SCREENSHOTS=1, else a temp folder.
void saveShot(QWidget* w, const QString& name) {
  QString dir = qEnvironmentVariable("E2E_UPDATE_SCREENSHOTS") == QStringLiteral("1")
                    ? QStringLiteral(E2E_SCREENSHOT_DIR)
                    : QDir::tempPath() + QStringLiteral("/e2e-gui-model-import-screens");
  QDir().mkpath(dir);
  QCoreApplication::processEvents();
  w->grab().toImage().save(QDir(dir).filePath(name), "PNG");
}

std::size_t modelCount(const QString& db) {
  if (!QFileInfo::exists(db)) return 0;
  e2e::db::Database d(db.toStdString(), e2e::db::Database::Mode::ReadOnly);
  return d.listModels().size();
}

}  // namespace

TEST(ModelImportDialog, BundleImportRegistersTheVersionThenReportsAlreadyImported) {
  e2e::test::app();
  QTemporaryDir tmp;
  ASSERT_TRUE(tmp.isValid());
  const QString bundle = copyBundle(tmp), db = tmp.filePath(QStringLiteral("studies.db"));
  const QJsonObject meta = readJson(bundle + QStringLiteral("/bundle.json"));
  const QString modelId = meta.value(QStringLiteral("model_id")).toString();
  const QString weights = meta.value(QStringLiteral("weights")).toString();
  ASSERT_FALSE(modelId.isEmpty());
  ASSERT_FALSE(weights.isEmpty());

  ModelImportDialog dlg(db);
  dlg.setCliProgram(kCli);
  dlg.show();
  EXPECT_FALSE(dlg.importButton()->isEnabled()) << "nothing chosen yet";
  dlg.setSourcePath(bundle);
  EXPECT_TRUE(dlg.kindLabel()->text().contains(QStringLiteral("bundle"))) << dlg.kindLabel()->text().toStdString();
  EXPECT_FALSE(dlg.echoPrimeEdit()->isEnabled()) << "no EchoPrime encoder with a bundle";
  dlg.setActivate(true);
  EXPECT_EQ(dlg.commandArguments(),
            (QStringList{QStringLiteral("models"), QStringLiteral("import"), bundle, QStringLiteral("--activate"),
                         QStringLiteral("--json"), QStringLiteral("--db"), db}));

  bool finished = false, finishedOk = false;
  QObject::connect(&dlg, &ModelImportDialog::importFinished, [&](bool ok, const QString&, const QString&) {
    finished = true;
    finishedOk = ok;
  });
  ASSERT_TRUE(dlg.startImport());
  EXPECT_TRUE(dlg.isRunning());
  EXPECT_TRUE(dlg.busyIndicator()->isVisible());
  EXPECT_TRUE(dlg.cancelButton()->isEnabled());
  EXPECT_FALSE(dlg.importButton()->isEnabled());
  EXPECT_FALSE(dlg.startImport()) << "one import at a time";
  ASSERT_TRUE(spinUntil([&] { return finished && !dlg.isRunning(); }));
  ASSERT_EQ(dlg.state(), State::Done) << dlg.errorMessage().toStdString();
  EXPECT_TRUE(finishedOk);
  EXPECT_FALSE(dlg.busyIndicator()->isVisible());
  EXPECT_FALSE(dlg.cancelButton()->isEnabled());
  EXPECT_FALSE(dlg.statusLines().isEmpty()) << "status events shown while working";

  const auto& r = dlg.result();
  EXPECT_EQ(r.kind, QStringLiteral("bundle"));
  EXPECT_EQ(r.modelId, modelId);
  EXPECT_FALSE(r.version.isEmpty());
  EXPECT_FALSE(r.alreadyImported);
  EXPECT_TRUE(r.activated);
  // Every source with the SHA-256 of the file that was imported.
  bool sawWeights = false, sawMeta = false;
  for (const auto& s : r.sources) {
    EXPECT_EQ(s.sha256, sha256(s.file)) << s.file.toStdString();
    sawWeights |= QFileInfo(s.file).fileName() == weights;
    sawMeta |= QFileInfo(s.file).fileName() == QStringLiteral("bundle.json");
  }
  EXPECT_TRUE(sawWeights && sawMeta);
  const QString shown = dlg.resultLabel()->text();
  EXPECT_TRUE(shown.contains(QStringLiteral("new version"))) << shown.toStdString();
  EXPECT_TRUE(shown.contains(modelId + QStringLiteral(" version ") + r.version)) << shown.toStdString();
  EXPECT_TRUE(shown.contains(sha256(bundle + QLatin1Char('/') + weights).left(12))) << "shortened SHA-256 shown";

  // The registry (read through core/db): the version, active, with the reported weights hash.
  auto rows = versionsOf(db, modelId);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(QString::fromStdString(rows[0].version), r.version);
  EXPECT_EQ(QString::fromStdString(rows[0].weightsHash), r.weightsHash);
  EXPECT_TRUE(rows[0].active);

  // The same files again: already imported, the same version, nothing new in the registry.
  const QString version = r.version;
  ASSERT_TRUE(runImport(dlg));
  ASSERT_EQ(dlg.state(), State::Done) << dlg.errorMessage().toStdString();
  EXPECT_TRUE(dlg.result().alreadyImported);
  EXPECT_EQ(dlg.result().version, version);
  EXPECT_TRUE(dlg.resultLabel()->text().contains(QStringLiteral("Already imported"))) << dlg.resultLabel()->text().toStdString();
  EXPECT_EQ(versionsOf(db, modelId).size(), 1u);
}

TEST(ModelImportDialog, BadPathShowsTheToolsErrorInTheDialog) {
  e2e::test::app();
  QTemporaryDir tmp;
  const QString db = tmp.filePath(QStringLiteral("studies.db"));
  const QString missing = tmp.filePath(QStringLiteral("no_such_run"));
  ModelImportDialog dlg(db);
  dlg.setCliProgram(kCli);
  dlg.setSourcePath(missing);
  EXPECT_TRUE(dlg.kindLabel()->text().contains(QStringLiteral("Not found")));
  ASSERT_TRUE(runImport(dlg));
  EXPECT_EQ(dlg.state(), State::Failed);
  EXPECT_TRUE(dlg.errorMessage().contains(missing)) << dlg.errorMessage().toStdString();
  EXPECT_TRUE(dlg.resultLabel()->text().contains(dlg.errorMessage())) << dlg.resultLabel()->text().toStdString();
  EXPECT_EQ(modelCount(db), 0u);

  // A folder that is neither a run nor a bundle: the tool's message, shown as it is.
  const QString empty = tmp.filePath(QStringLiteral("empty"));
  QDir().mkpath(empty);
  dlg.setSourcePath(empty);
  ASSERT_TRUE(runImport(dlg));
  EXPECT_EQ(dlg.state(), State::Failed);
  EXPECT_TRUE(dlg.errorMessage().contains(QStringLiteral("bundle.json"))) << dlg.errorMessage().toStdString();
  EXPECT_TRUE(dlg.resultLabel()->text().contains(dlg.errorMessage()));

  // No tool: said in the dialog, not a crash.
  dlg.setCliProgram(tmp.filePath(QStringLiteral("no-echo2ecg")));
  ASSERT_TRUE(runImport(dlg));
  EXPECT_EQ(dlg.state(), State::Failed);
  EXPECT_FALSE(dlg.resultLabel()->text().isEmpty());
  EXPECT_EQ(modelCount(db), 0u);
}

TEST(ModelImportDialog, CancelStopsTheImportAndRegistersNothing) {
  e2e::test::app();
  QTemporaryDir tmp;
  const QString bundle = copyBundle(tmp), db = tmp.filePath(QStringLiteral("studies.db"));
  ModelImportDialog dlg(db);
  dlg.setCliProgram(kCli);
  dlg.setSourcePath(bundle);
  bool finished = false;
  QObject::connect(&dlg, &ModelImportDialog::importFinished, [&] { finished = true; });
  ASSERT_TRUE(dlg.startImport());
  dlg.cancelButton()->click();  // at once: the tool is still loading
  ASSERT_TRUE(spinUntil([&] { return finished && !dlg.isRunning(); }, 60000));
  EXPECT_EQ(dlg.state(), State::Cancelled);
  EXPECT_TRUE(dlg.resultLabel()->text().contains(QStringLiteral("cancelled"))) << dlg.resultLabel()->text().toStdString();
  EXPECT_EQ(modelCount(db), 0u);
  EXPECT_TRUE(dlg.importButton()->isEnabled()) << "can be started again";
}

TEST(ModelImportDialog, RegistryImportButtonOpensTheDialogAndTheTableShowsTheVersion) {
  e2e::test::app();
  QTemporaryDir tmp;
  const QString bundle = copyBundle(tmp), db = tmp.filePath(QStringLiteral("studies.db"));
  { e2e::db::Database create(db.toStdString()); }  // an empty registry
  e2e::ui::ModelRegistryView view;
  view.setCliProgram(kCli);
  view.setEmbedOnActivate(false);
  view.setDatabasePath(db);
  EXPECT_EQ(view.table()->rowCount(), 0);
  view.importButton()->click();
  auto* dlg = view.findChild<ModelImportDialog*>();
  ASSERT_NE(dlg, nullptr);
  EXPECT_EQ(dlg->databasePath(), db);
  dlg->setSourcePath(bundle);
  ASSERT_TRUE(runImport(*dlg));
  ASSERT_EQ(dlg->state(), State::Done) << dlg->errorMessage().toStdString();
  const auto& r = dlg->result();
  const int row = view.rowOf(r.modelId, r.version);
  ASSERT_GE(row, 0) << "the registry view shows the imported version";
  EXPECT_EQ(view.table()->currentRow(), row);
  ASSERT_EQ(versionsOf(db, r.modelId).size(), 1u);
  EXPECT_FALSE(versionsOf(db, r.modelId)[0].active) << "not activated unless asked";
  EXPECT_TRUE(dlg->resultLabel()->text().contains(QStringLiteral("Model registry"))) << "what to do next";
}

// The official run layout (tools/echo2ecg_reference.py --official-run, without --with-video: no
// echo_multimodal.ckpt): the EchoPrime field is offered; without it the tool says what is missing.
// The OTiS checkpoint of the same reference model imports as an ECG encoder, with the next step.
TEST(ModelImportDialog, OfficialRunWithoutEchoSideAndOtisCheckpoint) {
  e2e::test::app();
  QTemporaryDir tmp;
  const QString ref = tmp.filePath(QStringLiteral("ref")), run = tmp.filePath(QStringLiteral("run"));
  const QString cmd = QStringLiteral("/usr/bin/python3 %1/tools/echo2ecg_reference.py --out %2 --official-run %3 > %4 2>&1")
                          .arg(QStringLiteral(E2E_SOURCE_DIR), ref, run, tmp.filePath(QStringLiteral("ref.log")));
  if (std::system(cmd.toLocal8Bit().constData()) != 0) GTEST_SKIP() << "no python3-torch for the reference run";
  const QString db = tmp.filePath(QStringLiteral("studies.db"));
  ModelImportDialog dlg(db);
  dlg.setCliProgram(kCli);
  dlg.setSourcePath(run);
  EXPECT_TRUE(dlg.kindLabel()->text().contains(QStringLiteral("run"))) << dlg.kindLabel()->text().toStdString();
  EXPECT_TRUE(dlg.echoPrimeEdit()->isEnabled());
  EXPECT_TRUE(dlg.echoPrimeBrowseButton()->isEnabled());
  ASSERT_TRUE(runImport(dlg));
  EXPECT_EQ(dlg.state(), State::Failed);
  EXPECT_TRUE(dlg.errorMessage().contains(QStringLiteral("echoprime"), Qt::CaseInsensitive)) << dlg.errorMessage().toStdString();
  EXPECT_TRUE(dlg.resultLabel()->text().contains(dlg.errorMessage()));
  EXPECT_TRUE(dlg.resultLabel()->text().contains(QStringLiteral("\"EchoPrime encoder\" field"))) << "where to give it";
  EXPECT_EQ(modelCount(db), 0u);
  dlg.show();
  saveShot(&dlg, QStringLiteral("model_import_error.png"));

  const QString otis = QDir(ref).filePath(QStringLiteral("otis_checkpoint.pth"));
  ASSERT_TRUE(QFileInfo::exists(otis)) << "the reference writes the OTiS checkpoint";
  dlg.setSourcePath(otis);
  EXPECT_TRUE(dlg.echoPrimeEdit()->isEnabled());
  // Cancel while the converter runs: the job ends, nothing is registered, no bundle is left behind.
  bool finished = false;
  auto c = QObject::connect(&dlg, &ModelImportDialog::importFinished, [&] { finished = true; });
  ASSERT_TRUE(dlg.startImport());
  ASSERT_TRUE(spinUntil([&] { return !dlg.statusLines().isEmpty() || !dlg.isRunning(); }, 60000));
  ASSERT_TRUE(dlg.isRunning()) << "still converting";
  dlg.cancelButton()->click();
  ASSERT_TRUE(spinUntil([&] { return finished && !dlg.isRunning(); }, 60000));
  QObject::disconnect(c);
  EXPECT_EQ(dlg.state(), State::Cancelled);
  EXPECT_EQ(modelCount(db), 0u);
  EXPECT_EQ(filesUnder(db + QStringLiteral(".models")), 0) << "no partial bundle left behind";

  ASSERT_TRUE(runImport(dlg));
  ASSERT_EQ(dlg.state(), State::Done) << dlg.errorMessage().toStdString();
  EXPECT_EQ(dlg.result().kind, QStringLiteral("otis"));
  EXPECT_EQ(dlg.result().role, QStringLiteral("ecg-encoder"));
  EXPECT_TRUE(dlg.resultLabel()->text().contains(QStringLiteral("Training panel"))) << dlg.resultLabel()->text().toStdString();
  dlg.show();
  saveShot(&dlg, QStringLiteral("model_import.png"));
  ASSERT_EQ(versionsOf(db, dlg.result().modelId).size(), 1u);
  EXPECT_EQ(QString::fromStdString(versionsOf(db, dlg.result().modelId)[0].weightsHash), dlg.result().weightsHash);
}

// Models > Import… in the main window opens the dialog on the main window's current database.
TEST(ModelImportDialog, MainWindowModelsMenuOpensItOnTheCurrentDatabase) {
  if (!e2e::test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";
  e2e::test::app(true);
  QTemporaryDir tmp;
  const QString db = tmp.filePath(QStringLiteral("current.db"));
  e2e::ui::MainWindow w;
  w.setDatabase(db, false);
  QAction* import = nullptr;
  for (QAction* m : w.menuBar()->actions())
    if (m->menu() && m->text() == QStringLiteral("&Models"))
      for (QAction* a : m->menu()->actions())
        if (a->text() == QStringLiteral("&Import…")) import = a;
  ASSERT_NE(import, nullptr) << "Models > Import…";
  import->trigger();
  auto* dlg = w.findChild<ModelImportDialog*>();
  ASSERT_NE(dlg, nullptr);
  EXPECT_TRUE(dlg->isVisible());
  EXPECT_EQ(dlg->databasePath(), w.databasePath());
  EXPECT_EQ(dlg->databasePath(), QFileInfo(db).absoluteFilePath());
  dlg->close();
}
