#include "MainWindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>

#include "EcgView.h"
#ifdef E2E_HAVE_TRAINING_UI
#include <QDialog>
#include <QVBoxLayout>

#include "LabelEditor.h"
#include "ModelRegistryView.h"
#include "TrainingPanel.h"
#include "db/database.h"
#endif
#include "EchoView.h"
#include "StudyBrowser.h"

#ifdef E2E_HAVE_DICOM_ECG
#include "io/dicom_ecg.h"
#endif
#ifdef E2E_HAVE_WFDB
#include "io/wfdb.h"
#endif
#ifdef E2E_HAVE_DICOM_ECHO
#include "io/dicom_echo.h"
#endif

namespace e2e::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(QStringLiteral("Echo2ECG Workstation"));
  tabs_ = new QTabWidget(this);
  ecg_ = new EcgView(tabs_);
  echo_ = new EchoGrid(tabs_);
  tabs_->addTab(ecg_, QStringLiteral("ECG"));
  tabs_->addTab(echo_, QStringLiteral("Echo"));
#ifdef E2E_HAVE_TRAINING_UI
  {  // Fine-tuning / pretraining jobs (run as `echo2ecg train` child processes).
    auto* training = new TrainingPanel(tabs_);
    training->setDatabasePath(QString::fromStdString(db::Database::defaultPath()));
    training->restoreUnfinishedRun();
    tabs_->addTab(training, QStringLiteral("Training"));
  }
#endif
  setCentralWidget(tabs_);

  auto* dock = new QDockWidget(QStringLiteral("Studies"), this);
  dock->setObjectName(QStringLiteral("studiesDock"));
  browser_ = new StudyBrowser(dock);
  dock->setWidget(browser_);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  connect(browser_, &StudyBrowser::openRequested, this, [this](const QString& p) { openPath(p); });

  readout_ = new QLabel(this);
  statusBar()->addPermanentWidget(readout_);
  connect(ecg_, &EcgView::readoutChanged, readout_, &QLabel::setText);
  statusBar()->showMessage(QStringLiteral("Ready"));

  QSettings s;
  recent_ = s.value(QStringLiteral("recentFiles")).toStringList();
  buildMenus();
  rebuildRecentMenu();
  if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray())) resize(1600, 950);
  restoreState(s.value(QStringLiteral("window/state")).toByteArray());
  dock->setMinimumWidth(220);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(QStringLiteral("&File"));
  auto* openEcg = file->addAction(QStringLiteral("Open DICOM &ECG…"), this, &MainWindow::openEcgDialog);
  openEcg->setShortcut(QKeySequence::Open);
  auto* openWfdb = file->addAction(QStringLiteral("Open &WFDB record (.hea)…"), this, &MainWindow::openWfdbDialog);
  auto* openEcho = file->addAction(QStringLiteral("Open DICOM e&cho…"), this, &MainWindow::openEchoDialog);
  recentMenu_ = file->addMenu(QStringLiteral("&Recent files"));
  file->addSeparator();
  auto* pdf = file->addAction(QStringLiteral("Export ECG as &PDF…"), ecg_, &EcgView::exportPdfDialog);
  file->addAction(QStringLiteral("Export ECG as P&NG…"), ecg_, &EcgView::exportPngDialog);
  file->addAction(QStringLiteral("Save &screenshots…"), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Screenshot folder"));
    if (!dir.isEmpty()) statusBar()->showMessage(QStringLiteral("Saved ") + saveScreenshots(dir).join(QStringLiteral(", ")));
  });
  file->addSeparator();
  file->addAction(QStringLiteral("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

  auto* view = menuBar()->addMenu(QStringLiteral("&View"));
  auto* layoutMenu = view->addMenu(QStringLiteral("ECG &layout"));
  auto* lg = new QActionGroup(this);
  for (auto k : {vm::EcgLayoutKind::Grid3x4, vm::EcgLayoutKind::Grid3x4Rhythm, vm::EcgLayoutKind::Grid6x2, vm::EcgLayoutKind::Grid12x1}) {
    auto* a = layoutMenu->addAction(QString::fromLatin1(vm::toString(k)), this, [this, k] { ecg_->setLayoutKind(k); });
    a->setCheckable(true);
    a->setChecked(ecg_->layoutKind() == k);
    lg->addAction(a);
  }
  auto* cab = view->addAction(QStringLiteral("&Cabrera lead order"));
  cab->setCheckable(true);
  cab->setChecked(ecg_->leadOrder() == vm::LeadOrder::Cabrera);
  connect(cab, &QAction::toggled, this, [this](bool on) { ecg_->setLeadOrder(on ? vm::LeadOrder::Cabrera : vm::LeadOrder::Standard); });
  auto* speedMenu = view->addMenu(QStringLiteral("Paper &speed"));
  for (double v : {12.5, 25.0, 50.0}) speedMenu->addAction(QStringLiteral("%1 mm/s").arg(v), this, [this, v] { ecg_->setSpeed(v); });
  auto* gainMenu = view->addMenu(QStringLiteral("&Gain"));
  for (double v : {5.0, 10.0, 20.0}) gainMenu->addAction(QStringLiteral("%1 mm/mV").arg(v), this, [this, v] { ecg_->setGain(v); });
  view->addSeparator();
  auto* gridMenu = view->addMenu(QStringLiteral("Echo &grid"));
  for (auto [r, c] : {std::pair{1, 1}, std::pair{1, 2}, std::pair{2, 2}})
    gridMenu->addAction(QStringLiteral("%1x%2").arg(r).arg(c), this, [this, r = r, c = c] {
      echo_->setGrid(r, c);
      tabs_->setCurrentWidget(echo_);
    });

  auto* tools = menuBar()->addMenu(QStringLiteral("&Tools"));
  tools->addAction(QStringLiteral("Screen &ruler calibration…"), ecg_, &EcgView::calibrateScreen);
  tools->addAction(QStringLiteral("Refresh &study list"), browser_, &StudyBrowser::refresh);
#ifdef E2E_HAVE_TRAINING_UI
  const auto dbDialog = [this](const QString& title, auto* widget) {
    auto* dlg = new QDialog(this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    dlg->setWindowTitle(title);
    (new QVBoxLayout(dlg))->addWidget(widget);
    widget->setDatabasePath(QString::fromStdString(db::Database::defaultPath()));
    dlg->resize(900, 600);
    dlg->show();
  };
  auto* models = menuBar()->addMenu(QStringLiteral("&Models"));
  models->addAction(QStringLiteral("Model &registry…"), this,
                    [=] { dbDialog(QStringLiteral("Model registry"), new ModelRegistryView); });
  models->addAction(QStringLiteral("&Training panel"), this, [this] {
    if (auto* t = findChild<TrainingPanel*>()) tabs_->setCurrentWidget(t);
  });
  auto* labels = menuBar()->addMenu(QStringLiteral("&Labels"));
  labels->addAction(QStringLiteral("&Edit / import labels…"), this,
                    [=] { dbDialog(QStringLiteral("Labels"), new LabelEditor); });
#endif

  auto* help = menuBar()->addMenu(QStringLiteral("&Help"));
  help->addAction(QStringLiteral("&About"), this, [this] {
    QMessageBox::about(this, QStringLiteral("Echo2ECG Workstation"),
                       QStringLiteral("Echo2ECG Workstation %1\nOpen-source cardiology workstation: 12-lead ECG and echo viewing.\n"
                                      "Not for primary diagnosis without clinical validation.")
                           .arg(QApplication::applicationVersion()));
  });

  auto* tb = addToolBar(QStringLiteral("Main"));
  tb->setObjectName(QStringLiteral("mainToolbar"));
  tb->addAction(openEcg);
  tb->addAction(openWfdb);
  tb->addAction(openEcho);
  tb->addSeparator();
  tb->addAction(pdf);
}

void MainWindow::rebuildRecentMenu() {
  recentMenu_->clear();
  for (const QString& p : recent_) recentMenu_->addAction(p, this, [this, p] { openPath(p); });
  recentMenu_->setEnabled(!recent_.isEmpty());
}

void MainWindow::addRecent(const QString& path) {
  const QString abs = QFileInfo(path).absoluteFilePath();
  recent_.removeAll(abs);
  recent_.prepend(abs);
  while (recent_.size() > 10) recent_.removeLast();
  QSettings().setValue(QStringLiteral("recentFiles"), recent_);
  rebuildRecentMenu();
}

bool MainWindow::openEcg(const QString& path, bool wfdb) {
  EcgRecord r;
  if (wfdb) {
#ifdef E2E_HAVE_WFDB
    r = readWfdb(path.toStdString());
#else
    throw ReadError(path.toStdString(), "the WFDB reader is not part of this build");
#endif
  } else {
#ifdef E2E_HAVE_DICOM_ECG
    r = readDicomEcg(path.toStdString());
#else
    throw ReadError(path.toStdString(), "the DICOM ECG reader is not part of this build");
#endif
  }
  ecg_->setRecord(r);
  tabs_->setCurrentWidget(ecg_);
  QString msg = QStringLiteral("Opened ECG %1").arg(QFileInfo(path).fileName());
  if (!r.warnings.empty()) msg += QStringLiteral(" (%1 warnings: %2)").arg(r.warnings.size()).arg(QString::fromStdString(r.warnings.front()));
  statusBar()->showMessage(msg);
  return true;
}

bool MainWindow::openEcho(const QString& path) {
  const int cell = echo_->openFile(path);
  tabs_->setCurrentWidget(echo_);
  statusBar()->showMessage(QStringLiteral("Opened echo %1 in cell %2").arg(QFileInfo(path).fileName()).arg(cell + 1));
  return true;
}

bool MainWindow::openPath(const QString& path, bool interactive) {
  try {
    const QString suffix = QFileInfo(path).suffix().toLower();
    bool ok = false;
    if (suffix == QStringLiteral("hea")) {
      ok = openEcg(path, true);
    } else {
      // DICOM: an ECG/waveform first, then ultrasound.
      std::string firstError;
      try {
        ok = openEcg(path, false);
      } catch (const std::exception& e) {
        firstError = e.what();
      }
      if (!ok) {
        try {
          ok = openEcho(path);
        } catch (const std::exception& e) {
          throw ReadError(path.toStdString(), std::string("not a readable ECG (") + firstError + ") nor echo (" + e.what() + ")");
        }
      }
    }
    if (ok) addRecent(path);
    return ok;
  } catch (const std::exception& e) {
    const QString msg = QString::fromStdString(e.what());
    statusBar()->showMessage(QStringLiteral("Cannot open: ") + msg);
    if (interactive) QMessageBox::warning(this, QStringLiteral("Cannot open file"), msg);
    return false;
  }
}

void MainWindow::openEcgDialog() {
  const QString p = QFileDialog::getOpenFileName(this, QStringLiteral("Open DICOM ECG"), QString(),
                                                 QStringLiteral("DICOM (*.dcm *.DCM);;All files (*)"));
  if (!p.isEmpty()) openPath(p);
}

void MainWindow::openWfdbDialog() {
  const QString p = QFileDialog::getOpenFileName(this, QStringLiteral("Open WFDB record"), QString(),
                                                 QStringLiteral("WFDB header (*.hea)"));
  if (!p.isEmpty()) openPath(p);
}

void MainWindow::openEchoDialog() {
  const QString p = QFileDialog::getOpenFileName(this, QStringLiteral("Open DICOM echo"), QString(),
                                                 QStringLiteral("DICOM (*.dcm *.DCM);;All files (*)"));
  if (p.isEmpty()) return;
  try {
    openEcho(p);
    addRecent(p);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, QStringLiteral("Cannot open echo"), QString::fromStdString(e.what()));
  }
}

QStringList MainWindow::saveScreenshots(const QString& dir) {
  QDir().mkpath(dir);
  QStringList saved;
  auto save = [&](const QImage& img, const QString& name) {
    const QString p = QDir(dir).filePath(name);
    if (!img.isNull() && img.save(p, "PNG")) saved << p;
  };
  save(renderEcgImage(ecg_->spec(), 10.0), QStringLiteral("ecg_paper.png"));
  QWidget* cur = tabs_->currentWidget();
  tabs_->setCurrentWidget(ecg_);
  QApplication::processEvents();
  save(ecg_->grab().toImage(), QStringLiteral("ecg_view.png"));
  tabs_->setCurrentWidget(echo_);
  QApplication::processEvents();
  save(echo_->grab().toImage(), QStringLiteral("echo_grid.png"));
  save(grab().toImage(), QStringLiteral("main_window.png"));
  tabs_->setCurrentWidget(cur);
  return saved;
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState());
  e->accept();
}

}  // namespace e2e::ui
