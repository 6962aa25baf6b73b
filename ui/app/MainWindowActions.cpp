// MainWindow: the reading shortcuts (View menu and the ECG view's own actions). Help > Keyboard
// shortcuts lists them from these actions (app/ShortcutsDialog.h).
#include <QAction>
#include <QMenu>
#include <QTabWidget>

#include <algorithm>
#include <tuple>
#include <vector>

#include "app/MainWindow.h"
#include "browser/StudyBrowser.h"
#include "ecg/EcgView.h"
#include "echo/EchoView.h"

namespace e2e::ui {

namespace {
// The next value of `steps` above (dir 1) or below (dir -1) `now`; `now` at either end.
double stepValue(const std::vector<double>& steps, double now, int dir) {
  if (dir > 0) {
    for (double v : steps)
      if (v > now + 1e-9) return v;
  } else {
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
      if (*it < now - 1e-9) return *it;
  }
  return now;
}

QAction* addShortcut(QMenu* menu, const QString& text, const QKeySequence& keys) {
  QAction* a = menu->addAction(text);
  a->setShortcut(keys);
  return a;
}
}  // namespace

void MainWindow::buildReadingActions(QMenu* view) {
  view->addSeparator();
  const std::vector<double> gains{5.0, 10.0, 20.0}, speeds{12.5, 25.0, 50.0};
  connect(addShortcut(view, QStringLiteral("Increase ECG gain"), QKeySequence(QStringLiteral("Ctrl+Shift+Up"))),
          &QAction::triggered, this, [this, gains] { ecg_->setGain(stepValue(gains, ecg_->gain(), 1)); });
  connect(addShortcut(view, QStringLiteral("Decrease ECG gain"), QKeySequence(QStringLiteral("Ctrl+Shift+Down"))),
          &QAction::triggered, this, [this, gains] { ecg_->setGain(stepValue(gains, ecg_->gain(), -1)); });
  connect(addShortcut(view, QStringLiteral("Faster paper speed"), QKeySequence(QStringLiteral("Ctrl+Shift+Right"))),
          &QAction::triggered, this, [this, speeds] { ecg_->setSpeed(stepValue(speeds, ecg_->speed(), 1)); });
  connect(addShortcut(view, QStringLiteral("Slower paper speed"), QKeySequence(QStringLiteral("Ctrl+Shift+Left"))),
          &QAction::triggered, this, [this, speeds] { ecg_->setSpeed(stepValue(speeds, ecg_->speed(), -1)); });
  view->addSeparator();
  connect(addShortcut(view, QStringLiteral("Next study"), QKeySequence(QStringLiteral("Ctrl+Down"))), &QAction::triggered,
          this, [this] { browser_->selectAdjacentStudy(1); });
  connect(addShortcut(view, QStringLiteral("Previous study"), QKeySequence(QStringLiteral("Ctrl+Up"))), &QAction::triggered,
          this, [this] { browser_->selectAdjacentStudy(-1); });
  connect(addShortcut(view, QStringLiteral("Play / pause echo loops"), QKeySequence(QStringLiteral("Ctrl+Space"))),
          &QAction::triggered, this, [this] {
            bool playing = false;
            for (int i = 0; i < echo_->viewCount(); ++i) playing = playing || (echo_->view(i) && echo_->view(i)->isPlaying());
            if (playing) echo_->pauseAll();
            else echo_->playAll();
            tabs_->setCurrentWidget(echo_);
          });
  // Paging through a long ECG: only while the ECG view has the focus (the tree keeps its own keys).
  for (auto [text, key, step] : {std::tuple{"Next 10 s of the ECG", Qt::Key_PageDown, 10.0},
                                 std::tuple{"Previous 10 s of the ECG", Qt::Key_PageUp, -10.0}}) {
    auto* a = new QAction(QString::fromLatin1(text), ecg_);
    a->setShortcut(QKeySequence(key));
    a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    a->setProperty("shortcutPlace", QStringLiteral("ECG view"));
    connect(a, &QAction::triggered, this, [this, step = step] { ecg_->setStartTime(ecg_->startTime() + step); });
    ecg_->addAction(a);
  }
}

}  // namespace e2e::ui
