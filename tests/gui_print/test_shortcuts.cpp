// Help > Keyboard shortcuts (issue 20): the table is read from the main window's actions, so
// every action with a shortcut is listed with its keys; the reading shortcuts (print, gain,
// speed, ECG paging) exist and act. The main window needs an X display (xvfb-run).
#include <gtest/gtest.h>

#include <QAction>
#include <QTableWidget>
#include <QTemporaryDir>

#include "app/MainWindow.h"
#include "app/ShortcutsDialog.h"
#include "db/database.h"
#include "ecg/EcgView.h"
#include "gui_test_util.h"

using namespace e2e;

namespace {

class Shortcuts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";
    test::app(true);
    const QString db = tmp_.filePath(QStringLiteral("studies.db"));
    { db::Database d(db.toStdString()); }
    qputenv("E2E_DB", db.toUtf8());
  }
  void TearDown() override { qunsetenv("E2E_DB"); }
  static QAction* action(QWidget& w, const QString& text) {
    for (QAction* a : w.findChildren<QAction*>())
      if (QString(a->text()).remove(QLatin1Char('&')) == text) return a;
    return nullptr;
  }
  QTemporaryDir tmp_;
};

TEST_F(Shortcuts, EveryActionWithAShortcutIsListedWithItsKeys) {
  ui::MainWindow w;
  ui::ShortcutsDialog dlg(w);
  QTableWidget* t = dlg.table();
  int withShortcut = 0;
  for (QAction* a : w.findChildren<QAction*>()) {
    if (a->shortcuts().isEmpty()) continue;
    ++withShortcut;
    QStringList keys;
    for (const auto& k : a->shortcuts()) keys << k.toString(QKeySequence::NativeText);
    bool found = false;
    for (int r = 0; r < t->rowCount() && !found; ++r)
      found = t->item(r, 0)->text() == keys.join(QStringLiteral(", ")) &&
              QString(a->text()).remove(QLatin1Char('&')).startsWith(t->item(r, 1)->text());
    EXPECT_TRUE(found) << a->text().toStdString() << " " << keys.join(QStringLiteral(", ")).toStdString();
  }
  EXPECT_EQ(t->rowCount(), withShortcut);
  EXPECT_GE(withShortcut, 12);
  // The usual ones are there, with their place.
  const auto entries = ui::collectShortcuts(w);
  std::string all;  // for the failure messages
  for (const auto& e : entries) all += (e.keys + QStringLiteral(" | ") + e.command + QStringLiteral(" | ") + e.where + QStringLiteral("\n")).toStdString();
  auto has = [&](const QString& cmd, const QKeySequence& k, const QString& where) {
    for (const auto& e : entries)
      if (e.command == cmd && e.keys.contains(k.toString(QKeySequence::NativeText)) && e.where == where) return true;
    return false;
  };
  EXPECT_TRUE(has(QStringLiteral("Print ECG"), QKeySequence::Print, QStringLiteral("File"))) << all;
  EXPECT_TRUE(has(QStringLiteral("Keyboard shortcuts"), QKeySequence(Qt::Key_F1), QStringLiteral("Help"))) << all;
  EXPECT_TRUE(has(QStringLiteral("Keyboard shortcuts"), QKeySequence(QStringLiteral("Ctrl+/")), QStringLiteral("Help"))) << all;
  EXPECT_TRUE(has(QStringLiteral("Increase ECG gain"), QKeySequence(QStringLiteral("Ctrl+Shift+Up")), QStringLiteral("View"))) << all;
  EXPECT_TRUE(has(QStringLiteral("Next study"), QKeySequence(QStringLiteral("Ctrl+Down")), QStringLiteral("View"))) << all;
  EXPECT_TRUE(has(QStringLiteral("Play / pause echo loops"), QKeySequence(QStringLiteral("Ctrl+Space")), QStringLiteral("View"))) << all;
  EXPECT_TRUE(has(QStringLiteral("Next 10 s of the ECG"), QKeySequence(Qt::Key_PageDown), QStringLiteral("ECG view"))) << all;
}

TEST_F(Shortcuts, NewActionWithAShortcutAppearsWithoutEditingAList) {
  ui::MainWindow w;
  auto* extra = new QAction(QStringLiteral("Test-only command"), &w);
  extra->setShortcut(QKeySequence(QStringLiteral("Ctrl+Alt+J")));
  w.addAction(extra);
  bool found = false;
  for (const auto& e : ui::collectShortcuts(w))
    found = found || (e.command == QStringLiteral("Test-only command") &&
                      e.keys == QKeySequence(QStringLiteral("Ctrl+Alt+J")).toString(QKeySequence::NativeText));
  EXPECT_TRUE(found);
}

TEST_F(Shortcuts, HelpActionOpensTheTableAndReadingShortcutsAct) {
  ui::MainWindow w;
  QAction* help = action(w, QStringLiteral("Keyboard shortcuts"));
  ASSERT_NE(help, nullptr);
  help->trigger();
  auto* dlg = w.findChild<ui::ShortcutsDialog*>(QStringLiteral("shortcutsDialog"));
  ASSERT_NE(dlg, nullptr);
  EXPECT_GT(dlg->table()->rowCount(), 10);
  dlg->close();
  ui::EcgView* ecg = w.ecgView();
  ecg->setGain(10.0);
  ecg->setSpeed(25.0);
  action(w, QStringLiteral("Increase ECG gain"))->trigger();
  EXPECT_EQ(ecg->gain(), 20.0);
  action(w, QStringLiteral("Increase ECG gain"))->trigger();
  EXPECT_EQ(ecg->gain(), 20.0);  // the top stays the top
  action(w, QStringLiteral("Decrease ECG gain"))->trigger();
  action(w, QStringLiteral("Decrease ECG gain"))->trigger();
  EXPECT_EQ(ecg->gain(), 5.0);
  action(w, QStringLiteral("Faster paper speed"))->trigger();
  EXPECT_EQ(ecg->speed(), 50.0);
  action(w, QStringLiteral("Slower paper speed"))->trigger();
  action(w, QStringLiteral("Slower paper speed"))->trigger();
  EXPECT_EQ(ecg->speed(), 12.5);
  QSettings().remove(QStringLiteral("ecg"));
}

}  // namespace
