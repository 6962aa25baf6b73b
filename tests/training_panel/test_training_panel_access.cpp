// Where the training panel's trainer comes from (the one echo2ecgPath() lookup), and what the
// workstation does with a database this user may not write: the browser lists it, import and
// training say clearly that it is read-only and start nothing. As root (chmod does not stop
// root) the read-only checks run in a child that becomes nobody (tests/unprivileged.h).
#include <QLabel>
#include <QPlainTextEdit>
#include <QTemporaryDir>
#include <cstdlib>

#include "browser/ImportDialog.h"
#include "browser/StudyBrowser.h"
#include "jobs/JobRunner.h"
#include "panel_test_util.h"
#include "test_util.h"
#include "training/TrainingPanel.h"
#include "unprivileged.h"

using e2e::ui::TrainingPanel;
using e2e::vm::RunState;

namespace {

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const QByteArray& value) : name_(name), had_(qEnvironmentVariableIsSet(name)), old_(qgetenv(name)) {
    qputenv(name, value);
  }
  ~ScopedEnv() {
    if (had_) qputenv(name_, old_);
    else qunsetenv(name_);
  }

 private:
  const char* name_;
  bool had_;
  QByteArray old_;
};

}  // namespace

// The trainer is echo2ecgPath(): $E2E_CLI here, else beside the GUI (see the gui_panels tests of
// echo2ecgPathNextTo); never a guessed "<app dir>/echo2ecg" that does not exist.
TEST(TrainingPanelTrainer, DefaultIsTheOneEcho2ecgLookup) {
  e2e::test::panelApp();
  {
    ScopedEnv cli("E2E_CLI", QByteArrayLiteral(E2E_CLI_PATH));
    EXPECT_EQ(TrainingPanel::defaultTrainerProgram(), e2e::ui::echo2ecgPath());
    TrainingPanel p;
    EXPECT_EQ(p.trainerProgram(), QStringLiteral(E2E_CLI_PATH));
  }
  // Nowhere to be found (this test binary has no echo2ecg beside it, PATH is empty): the panel
  // says so instead of starting a program that does not exist.
  ScopedEnv path("PATH", QByteArray());
  ASSERT_TRUE(e2e::ui::echo2ecgPath().isEmpty()) << e2e::ui::echo2ecgPath().toStdString();
  QTemporaryDir tmp;
  const QString db = tmp.filePath(QStringLiteral("studies.db"));
  e2e::test::makeCohort(db.toStdString(), 6);
  TrainingPanel p;
  p.setDatabasePath(db);
  EXPECT_TRUE(p.trainerProgram().isEmpty());
  EXPECT_FALSE(p.checkSplit());
  EXPECT_EQ(p.state(), RunState::Failed);
  EXPECT_TRUE(p.statusLabel()->text().contains(QStringLiteral("echo2ecg command-line tool was not found")))
      << p.statusLabel()->text().toStdString();
  EXPECT_FALSE(p.isProcessRunning());
}

TEST(ReadOnlyDatabaseGui, BrowserListsItImportAndTrainingSayItIsReadOnly) {
  // googletest re-runs this test in a fresh process for EXPECT_EXIT (no QApplication there yet);
  // the parent's set-up reaches it through the environment.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  static std::string root;
  if (const char* r = std::getenv("E2E_TEST_RO_GUI_ROOT"); r && *r) {
    root = r;
  } else {
    root = e2e::test::sharedTempDir("e2e-gui-readonly");
    ASSERT_FALSE(root.empty());
    const std::string dir = root + "/ro";
    std::filesystem::create_directories(dir);
    std::filesystem::create_directories(root + "/home");
    ::chmod((root + "/home").c_str(), 0777);
    e2e::test::makeCohort(dir + "/studies.db", 6);
    ASSERT_EQ(::chmod((dir + "/studies.db").c_str(), 0444), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 0555), 0);
    ::setenv("E2E_TEST_RO_GUI_ROOT", root.c_str(), 1);
  }
  EXPECT_EXIT(
      {
        std::string failures;
        auto check = [&](bool ok, const std::string& what) {
          if (!ok) failures += "FAILED: " + what + "\n";
        };
        const std::string drop = e2e::test::becomeUnprivileged();
        check(drop.empty(), drop);
        const std::string home = root + "/home/" + std::to_string(::getuid());
        std::filesystem::create_directories(home);
        for (const char* v : {"HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"}) ::setenv(v, home.c_str(), 1);
        ::unsetenv("XDG_RUNTIME_DIR");
        e2e::test::panelApp();
        const QString db = QString::fromStdString(root + "/ro/studies.db");

        // The browser lists what is there.
        e2e::ui::InstanceTableModel model;
        const QString err = model.load(db, e2e::ui::InstanceTableModel::Query{});
        check(err.isEmpty(), "browser: " + err.toStdString());

        // Training: refused before anything starts, with the reason.
        TrainingPanel p;
        p.setTrainerProgram(QStringLiteral(E2E_FAKE_TRAINER));
        p.setDatabasePath(db);
        check(!p.startTraining(), "training started");
        check(!p.isProcessRunning(), "a trainer process runs");
        check(p.state() == RunState::Failed, "training state is not Failed");
        const QString status = p.statusLabel()->text();
        check(status.contains(QStringLiteral("DB is read-only: ") + db), "training status: " + status.toStdString());
        check(p.cohortLabel()->text().contains(QStringLiteral("6 patient")), "cohort: " + p.cohortLabel()->text().toStdString());

        // Import: the dialog says the database is read-only.
        e2e::ui::ImportDialog dlg(db);
        bool done = false;
        QObject::connect(&dlg, &e2e::ui::ImportDialog::importFinished, [&] { done = true; });
        dlg.start({QString::fromStdString(e2e::test::dataDir().string() + "/ecg_dicom")});
        check(e2e::test::waitUntil([&] { return done; }), "import did not finish");
        check(dlg.outcome().error.contains(QStringLiteral("DB is read-only: ") + db),
              "import error: " + dlg.outcome().error.toStdString());
        check(dlg.statusLabel()->text().contains(QStringLiteral("DB is read-only")),
              "import status: " + dlg.statusLabel()->text().toStdString());
        std::fputs(failures.c_str(), stderr);
        std::fflush(stderr);
        std::_Exit(failures.empty() ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  ::unsetenv("E2E_TEST_RO_GUI_ROOT");
  e2e::test::removeSharedTempDir(root);
}
