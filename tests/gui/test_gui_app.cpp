// echo2ecg-gui's command line: --db FILE opens that database for the run; no option or file given
// on the command line is written to the settings (ECG layout, recent databases, recent files),
// while what the user changes in the window still is.
#include <gtest/gtest.h>

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>

#include "app/MainWindow.h"
#include "db/database.h"
#include "ecg/EcgView.h"
#include "gui_test_util.h"
#include "test_util.h"

using namespace e2e;

namespace {
// The workstation's own settings (organisation/application of app/gui/main.cpp), in this test
// process's private XDG_CONFIG_HOME.
QSettings& guiSettings() {
  static QSettings s(QStringLiteral("Echo2ECG"), QStringLiteral("Echo2ECG Workstation"));
  return s;
}

struct GuiRun {
  int rc = -1;
  QString out, err;
};
GuiRun runGui(const QStringList& args) {
  QProcess p;
  p.start(QStringLiteral(E2E_GUI_PATH), args);
  GuiRun r;
  if (!p.waitForStarted(30000) || !p.waitForFinished(180000)) {
    p.kill();
    p.waitForFinished();
    return r;
  }
  r.rc = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}
}  // namespace

// In process: a layout set for the session is shown and never saved, not even by a later change of
// something else; a layout the user picks is saved.
TEST(EcgViewSettings, SessionLayoutIsNotSavedUserChangesAre) {
  test::app();
  QSettings().setValue(QStringLiteral("ecg/layout"), QStringLiteral("6x2"));
  QSettings().setValue(QStringLiteral("ecg/speed"), 25.0);
  {
    ui::EcgView v;
    EXPECT_EQ(v.layoutKind(), vm::EcgLayoutKind::Grid6x2);
    v.setLayoutKindForSession(vm::EcgLayoutKind::Grid12x1);
    EXPECT_EQ(v.layoutKind(), vm::EcgLayoutKind::Grid12x1);
    v.setSpeed(50.0);  // a user's change of something else
    EXPECT_EQ(QSettings().value(QStringLiteral("ecg/layout")).toString(), QStringLiteral("6x2"));
    EXPECT_DOUBLE_EQ(QSettings().value(QStringLiteral("ecg/speed")).toDouble(), 50.0);
  }
  {
    ui::EcgView v;
    EXPECT_EQ(v.layoutKind(), vm::EcgLayoutKind::Grid6x2);
    v.setLayoutKind(vm::EcgLayoutKind::Grid3x4);  // the user's choice
    EXPECT_EQ(QSettings().value(QStringLiteral("ecg/layout")).toString(), QStringLiteral("3x4"));
  }
  QSettings().remove(QStringLiteral("ecg"));
}

// In process: $E2E_DB (what --db sets) is the window's database for this run and is not added to
// the recent databases, so the next start opens the last one the user chose.
TEST(MainWindowDatabase, EnvironmentDatabaseIsNotRemembered) {
  if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";
  test::app(true);
  QTemporaryDir tmp;
  const QString chosen = tmp.filePath(QStringLiteral("chosen.db")), session = tmp.filePath(QStringLiteral("session.db"));
  { db::Database a(chosen.toStdString()); }
  { db::Database b(session.toStdString()); }
  QSettings().setValue(QStringLiteral("recentDatabases"), QStringList{chosen});
  qputenv("E2E_DB", session.toUtf8());
  {
    ui::MainWindow w;
    EXPECT_EQ(w.databasePath(), session);
    EXPECT_FALSE(w.databaseReadOnly());
    EXPECT_EQ(w.recentDatabases(), QStringList{chosen});
  }
  qunsetenv("E2E_DB");
  {
    ui::MainWindow w;
    EXPECT_EQ(w.databasePath(), chosen);
    w.setDatabase(session);  // opened from the menu: remembered
    EXPECT_EQ(w.recentDatabases(), (QStringList{session, chosen}));
  }
  QSettings().remove(QStringLiteral("recentDatabases"));
  qunsetenv("E2E_DB");
}

// The real binary: `--layout 12x1 --grid 2x2 --db FILE --screenshot DIR ECG` works and leaves the
// saved layout, recent databases and recent files as they were; a --db that is not a database fails.
TEST(GuiCommandLine, OptionsApplyToThisRunOnly) {
  if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";
  test::app(true);
  QTemporaryDir tmp;
  const QString chosen = tmp.filePath(QStringLiteral("chosen.db")), session = tmp.filePath(QStringLiteral("session.db"));
  { db::Database a(chosen.toStdString()); }
  { db::Database b(session.toStdString()); }
  QSettings& s = guiSettings();
  s.setValue(QStringLiteral("ecg/layout"), QStringLiteral("6x2"));
  s.setValue(QStringLiteral("recentDatabases"), QStringList{chosen});
  s.remove(QStringLiteral("recentFiles"));
  s.sync();
  const QString ecg = QString::fromStdString(test::dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm").string());

  const GuiRun r = runGui({QStringLiteral("--layout"), QStringLiteral("12x1"), QStringLiteral("--grid"), QStringLiteral("2x2"),
                           QStringLiteral("--db"), session, QStringLiteral("--screenshot"), tmp.filePath(QStringLiteral("shots")), ecg});
  ASSERT_EQ(r.rc, 0) << r.out.toStdString() << r.err.toStdString();
  EXPECT_TRUE(r.out.contains(QStringLiteral("ecg_paper.png"))) << r.out.toStdString();
  EXPECT_TRUE(QFileInfo::exists(tmp.filePath(QStringLiteral("shots/main_window.png"))));
  s.sync();
  EXPECT_EQ(s.value(QStringLiteral("ecg/layout")).toString(), QStringLiteral("6x2"));
  EXPECT_EQ(s.value(QStringLiteral("recentDatabases")).toStringList(), QStringList{chosen});
  EXPECT_TRUE(s.value(QStringLiteral("recentFiles")).toStringList().isEmpty())
      << s.value(QStringLiteral("recentFiles")).toStringList().join(QLatin1Char(',')).toStdString();

  // --db names a file that is not a study database: the run says so and fails.
  const QString bad = tmp.filePath(QStringLiteral("bad.db"));
  {
    QFile f(bad);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(200, 'x'));
  }
  const GuiRun b = runGui({QStringLiteral("--db"), bad, QStringLiteral("--screenshot"), tmp.filePath(QStringLiteral("shots2"))});
  EXPECT_EQ(b.rc, 1) << b.out.toStdString() << b.err.toStdString();
  EXPECT_TRUE(b.err.contains(QStringLiteral("cannot open database"))) << b.err.toStdString();
  s.sync();
  EXPECT_EQ(s.value(QStringLiteral("recentDatabases")).toStringList(), QStringList{chosen});
}
