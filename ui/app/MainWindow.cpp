#include "app/MainWindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QDateTime>
#include <QDialog>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSettings>
#include <QStatusBar>
#include <QScrollArea>
#include <QTabWidget>
#include <QTimer>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

#include "ai/PredictionPanel.h"
#include "ai/RetrievalPanel.h"
#include "app/AboutDialog.h"
#include "app/ShortcutsDialog.h"
#include "app/DatabaseObserver.h"
#include "browser/ImportDialog.h"
#include "browser/StudyBrowser.h"
#include "db/database.h"
#include "ecg/EcgView.h"
#include "ecg/PrintDialog.h"
#include "echo/EchoView.h"
#include "io/dicom_ecg.h"
#include "io/dicom_echo.h"
#include "io/reader.h"
#include "io/wfdb.h"
#include "net/NetworkUi.h"
#include "training/LabelEditor.h"
#include "training/ModelImportDialog.h"
#include "training/ModelRegistryView.h"
#include "training/TrainingPanel.h"

namespace e2e::ui {

namespace {
// A non-modal dialog around a database widget (model registry, label editor) on the window's database.
template <class W>
void showDatabaseDialog(QWidget* parent, const QString& title, W* widget, const QString& dbPath) {
  auto* dlg = new QDialog(parent);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  dlg->setWindowTitle(title);
  (new QVBoxLayout(dlg))->addWidget(widget);
  widget->setDatabasePath(dbPath.isEmpty() ? QString::fromStdString(db::Database::defaultPath()) : dbPath);
  dlg->resize(900, 600);
  dlg->show();
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(QStringLiteral("Echo2ECG Workstation"));
  tabs_ = new QTabWidget(this);
  ecg_ = new EcgView(tabs_);
  echo_ = new EchoGrid(tabs_);
  tabs_->addTab(ecg_, QStringLiteral("ECG"));
  tabs_->addTab(echo_, QStringLiteral("Echo"));
  {  // Fine-tuning / pretraining jobs (run as `echo2ecg train` child processes). In a scroll area:
     // its form and four charts must not set the window's minimum width (the docks need the room).
    auto* scroll = new QScrollArea(tabs_);
    scroll->setObjectName(QStringLiteral("trainingTab"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* training = new TrainingPanel(scroll);
    training->setDatabasePath(QString::fromStdString(db::Database::defaultPath()));
    training->restoreUnfinishedRun();
    scroll->setWidget(training);
    tabs_->addTab(scroll, QStringLiteral("Training"));
  }
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
  buildDatabaseUi();
  network_ = new NetworkUi(this);  // after the database: the receiver may start on it
  if (!restoreGeometry(s.value(QStringLiteral("window/geometry")).toByteArray())) resize(1600, 950);
  const bool restored = restoreState(s.value(QStringLiteral("window/state")).toByteArray());
  dock->setMinimumWidth(220);
  if (!restored)  // first start: once shown, the study tree gets room for name, ID, date and modality
    QTimer::singleShot(0, this, [this, dock] {
      if (auto* pred = findChild<QDockWidget*>(QStringLiteral("predictionsDock")))
        resizeDocks({dock, pred}, {380, 360}, Qt::Horizontal);
    });
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus() {
  const ToolBarActions toolbarActions = buildFileMenu();
  buildViewMenu();
  buildToolsMenu();
  buildModelsMenu();
  buildLabelsMenu();
  buildHelpMenu();
  buildToolBar(toolbarActions);
}

MainWindow::ToolBarActions MainWindow::buildFileMenu() {
  auto* file = menuBar()->addMenu(QStringLiteral("&File"));
  auto* openEcg = file->addAction(QStringLiteral("Open &ECG…"), this, &MainWindow::openEcgDialog);
  openEcg->setShortcut(QKeySequence::Open);
  auto* openWfdb = file->addAction(QStringLiteral("Open &WFDB record (.hea)…"), this, &MainWindow::openWfdbDialog);
  auto* openEcho = file->addAction(QStringLiteral("Open DICOM e&cho…"), this, &MainWindow::openEchoDialog);
  recentMenu_ = file->addMenu(QStringLiteral("&Recent files"));
  file->addSeparator();
  // The printout (paper, layout, calipers; exact scale): ecg/PrintDialog.h.
  auto* print = file->addAction(QStringLiteral("&Print ECG…"), this, [this] { printEcgInteractive(*ecg_, this); });
  print->setShortcut(QKeySequence::Print);
  auto* pdf = file->addAction(QStringLiteral("Export ECG as &PDF…"), this, [this] { exportEcgPdfInteractive(*ecg_, this); });
  pdf->setShortcut(QKeySequence(QStringLiteral("Ctrl+E")));
  file->addAction(QStringLiteral("Export ECG as P&NG…"), ecg_, &EcgView::exportPngDialog);
  file->addAction(QStringLiteral("Save &screenshots…"), this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Screenshot folder"));
    if (!dir.isEmpty()) statusBar()->showMessage(QStringLiteral("Saved ") + saveScreenshots(dir).join(QStringLiteral(", ")));
  });
  file->addSeparator();
  file->addAction(QStringLiteral("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);
  return {openEcg, openWfdb, openEcho, pdf};
}

void MainWindow::buildViewMenu() {
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
  buildReadingActions(view);
}

void MainWindow::buildToolsMenu() {
  auto* tools = menuBar()->addMenu(QStringLiteral("&Tools"));
  tools->addAction(QStringLiteral("Screen &ruler calibration…"), ecg_, &EcgView::calibrateScreen);
  tools->addAction(QStringLiteral("Refresh &study list"), browser_, &StudyBrowser::refresh);
}

void MainWindow::buildModelsMenu() {
  auto* models = menuBar()->addMenu(QStringLiteral("&Models"));
  models->addAction(QStringLiteral("Model &registry…"), this, [this] {
    auto* reg = new ModelRegistryView;
    connect(reg, &ModelRegistryView::logMessage, this, [this](const QString& t) { logMessage(t); });
    // Activating an embedding model starts the re-embedding job in the registry: the retrieval panel
    // shows the new version (its embeddings missing until the job ends) and refreshes when it ends.
    connect(reg, &ModelRegistryView::activated, this, [this] {
      if (observer_) observer_->pollNow();
    });
    connect(reg, &ModelRegistryView::embeddingFinished, this, [this](bool ok, const QString&, const QString&, const QString& msg) {
      if (observer_) observer_->pollNow();
      logMessage(msg, !ok);
    });
    if (observer_) connect(observer_, &DatabaseObserver::modelsChanged, reg, &ModelRegistryView::refresh);
    showDatabaseDialog(this, QStringLiteral("Model registry"), reg, dbPath_);
  });
  // Published weights (an official run, OTiS, EchoPrime, a bundle) into the current database's registry,
  // by `echo2ecg models import` as a child process; the registry views refresh through the observer.
  models->addAction(QStringLiteral("&Import…"), this, [this] {
    auto* dlg = new ModelImportDialog(dbPath_, this);
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    connect(dlg, &ModelImportDialog::importFinished, this, [this] {
      if (observer_) observer_->pollNow();
    });
    connect(dlg, &ModelImportDialog::logMessage, this, [this](const QString& t) { logMessage(t); });
    dlg->show();
  });
  models->addAction(QStringLiteral("&Training panel"), this, [this] {
    if (auto* t = findChild<QScrollArea*>(QStringLiteral("trainingTab"))) tabs_->setCurrentWidget(t);
  });
}

void MainWindow::buildLabelsMenu() {
  auto* labels = menuBar()->addMenu(QStringLiteral("&Labels"));
  labels->addAction(QStringLiteral("&Edit / import labels…"), this,
                    [this] { showDatabaseDialog(this, QStringLiteral("Labels"), new LabelEditor, dbPath_); });
}

void MainWindow::buildHelpMenu() {
  auto* help = menuBar()->addMenu(QStringLiteral("&Help"));
  auto* keys = help->addAction(QStringLiteral("&Keyboard shortcuts"), this, [this] {
    auto* dlg = new ShortcutsDialog(*this, this);  // read from this window's actions when opened
    dlg->setAttribute(Qt::WA_DeleteOnClose);
    dlg->show();
  });
  keys->setShortcuts({QKeySequence(Qt::Key_F1), QKeySequence(QStringLiteral("Ctrl+/"))});
  help->addAction(QStringLiteral("&About"), this, [this] {
    // Versions of this build, and libtorch/CUDA as the echo2ecg CLI reports them (non-modal).
    auto* about = new AboutDialog(this);
    about->setAttribute(Qt::WA_DeleteOnClose);
    about->show();
  });
}

void MainWindow::buildToolBar(const ToolBarActions& actions) {
  auto* tb = addToolBar(QStringLiteral("Main"));
  tb->setObjectName(QStringLiteral("mainToolbar"));
  tb->addAction(actions.openEcg);
  tb->addAction(actions.openWfdb);
  tb->addAction(actions.openEcho);
  tb->addSeparator();
  tb->addAction(actions.exportPdf);
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

bool MainWindow::openEcg(const QString& path) {
  // DICOM waveforms, WFDB records and the vendor exports (MUSE, HL7 aECG, SCP-ECG, Philips, CardioSoft).
  LoadedObject obj = readAny(path.toStdString());
  auto* rec = std::get_if<EcgRecord>(&obj);
  if (!rec) return false;
  EcgRecord r = std::move(*rec);
  ecg_->setRecord(r);
  tabs_->setCurrentWidget(ecg_);
  QString msg = QStringLiteral("Opened ECG %1").arg(QFileInfo(path).fileName());
  if (!r.warnings.empty()) msg += QStringLiteral(" (%1 warnings: %2)").arg(r.warnings.size()).arg(QString::fromStdString(r.warnings.front()));
  statusBar()->showMessage(msg);
  ecgOpened(path);
  return true;
}

bool MainWindow::openEcho(const QString& path) {
  const int cell = echo_->openFile(path);
  tabs_->setCurrentWidget(echo_);
  statusBar()->showMessage(QStringLiteral("Opened echo %1 in cell %2").arg(QFileInfo(path).fileName()).arg(cell + 1));
  return true;
}

bool MainWindow::openPath(const QString& path, bool interactive, bool remember) {
  try {
    // What the file is, by content (DICOM SOP class, SCP-ECG / XML signatures) or by name (.hea, videos).
    const ProbeResult probe = probeFile(path.toStdString());
    if (!probe.supported()) throw ReadError(path.toStdString(), probe.reason);
    const bool echo = probe.kind == ProbeKind::DicomEcho || probe.kind == ProbeKind::Video;
    const bool ok = echo ? openEcho(path) : openEcg(path);
    if (ok && remember) addRecent(path);
    return ok;
  } catch (const std::exception& e) {
    const QString msg = QString::fromStdString(e.what());
    statusBar()->showMessage(QStringLiteral("Cannot open: ") + msg);
    if (interactive) QMessageBox::warning(this, QStringLiteral("Cannot open file"), msg);
    return false;
  }
}

void MainWindow::openEcgDialog() {
  const QString p = QFileDialog::getOpenFileName(
      this, QStringLiteral("Open ECG"), QString(),
      QStringLiteral("ECG files (*.dcm *.DCM *.xml *.XML *.scp *.SCP *.hea);;DICOM (*.dcm *.DCM);;"
                     "Vendor exports: MUSE, HL7 aECG, Philips, CardioSoft XML, SCP-ECG (*.xml *.XML *.scp *.SCP);;"
                     "All files (*)"));
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
  if (network_) saved << network_->saveScreenshots(dir);
  // The similar-echo-studies panel shares its dock area with the predictions: raise it for its shot.
  if (retrieval_) {
    if (auto* dock = qobject_cast<QDockWidget*>(retrieval_->parentWidget())) {
      dock->raise();
      QApplication::processEvents();
      save(retrieval_->grab().toImage(), QStringLiteral("retrieval.png"));
      if (auto* pred = predictions_ ? qobject_cast<QDockWidget*>(predictions_->parentWidget()) : nullptr) pred->raise();
    }
  }
  return saved;
}

void MainWindow::closeEvent(QCloseEvent* e) {
  QSettings s;
  s.setValue(QStringLiteral("window/geometry"), saveGeometry());
  s.setValue(QStringLiteral("window/state"), saveState());
  if (network_) network_->shutdown();  // the receiver stops before the window goes
  e->accept();
}

// ---- Study database, import, prediction and retrieval ---------------------------------------
void MainWindow::buildDatabaseUi() {
  buildDocks();
  watchDatabase();
  addDatabaseFileActions();
  connectBrowserSelection();
  openInitialDatabase();
}

void MainWindow::buildDocks() {
  // Log dock (errors of imports and tools; never a crash).
  auto* logDock = new QDockWidget(QStringLiteral("Log"), this);
  logDock->setObjectName(QStringLiteral("logDock"));
  log_ = new QPlainTextEdit(logDock);
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  logDock->setWidget(log_);
  addDockWidget(Qt::BottomDockWidgetArea, logDock);
  logDock->hide();

  auto* predDock = new QDockWidget(QStringLiteral("Predictions"), this);
  predDock->setObjectName(QStringLiteral("predictionsDock"));
  predictions_ = new PredictionPanel(predDock);
  predDock->setWidget(predictions_);
  addDockWidget(Qt::RightDockWidgetArea, predDock);
  auto* retDock = new QDockWidget(QStringLiteral("Similar echo studies"), this);
  retDock->setObjectName(QStringLiteral("retrievalDock"));
  retrieval_ = new RetrievalPanel(retDock);
  retrieval_->setEchoGrid(echo_);
  retDock->setWidget(retrieval_);
  addDockWidget(Qt::RightDockWidgetArea, retDock);
  tabifyDockWidget(predDock, retDock);  // each gets the full height; drag a tab out to see both
  predDock->raise();
  resizeDocks({predDock}, {440}, Qt::Horizontal);
  resizeDocks({logDock}, {140}, Qt::Vertical);
  connect(predictions_, &PredictionPanel::logMessage, this, [this](const QString& t) { logMessage(t); });
  connect(retrieval_, &RetrievalPanel::logMessage, this, [this](const QString& t) { logMessage(t); });
  connect(retrieval_, &RetrievalPanel::echoGridShown, this, [this] { tabs_->setCurrentWidget(echo_); });
}

void MainWindow::watchDatabase() {
  // Whoever changes the database (an import, an echo2ecg child process, another program), the
  // views that show that part refresh.
  observer_ = new DatabaseObserver(this);
  connect(observer_, &DatabaseObserver::studiesChanged, browser_, &StudyBrowser::refresh);
  connect(observer_, &DatabaseObserver::changed, this, [this](const db::DatabaseChange& c) {
    if (c.other) browser_->refresh();
    if (c.embeddings || c.models || c.labels || c.studies || c.other) retrieval_->refresh();
    if (c.predictions || c.models || c.other) predictions_->refresh();
  });
}

void MainWindow::addDatabaseFileActions() {
  // File menu: Import folder…, Open database…, Recent databases (before the first separator).
  QMenu* file = menuBar()->actions().isEmpty() ? nullptr : menuBar()->actions().front()->menu();
  if (file) {
    QAction* before = nullptr;
    for (QAction* a : file->actions())
      if (a->isSeparator()) {
        before = a;
        break;
      }
    auto* sep = new QAction(file);
    sep->setSeparator(true);
    auto* imp = new QAction(QStringLiteral("&Import folder…"), file);
    imp->setShortcut(QKeySequence(QStringLiteral("Ctrl+I")));
    connect(imp, &QAction::triggered, this, &MainWindow::importFolderDialog);
    auto* openDb = new QAction(QStringLiteral("Open &database…"), file);
    connect(openDb, &QAction::triggered, this, &MainWindow::openDatabaseDialog);
    recentDbMenu_ = new QMenu(QStringLiteral("Recent data&bases"), file);
    file->insertAction(before, sep);
    file->insertAction(before, imp);
    file->insertAction(before, openDb);
    file->insertMenu(before, recentDbMenu_);
  }
}

void MainWindow::connectBrowserSelection() {
  // Selecting an ECG in the study browser selects it in the panels.
  if (auto* table = browser_->findChild<QTableView*>()) {
    connect(table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& cur) {
      const auto* row = browser_->model()->row(cur.row());
      if (!row || row->modality != QStringLiteral("ECG")) return;
      try {
        const std::int64_t id = PredictionPanel::findInstance(dbPath_, QString(), row->path);
        predictions_->setInstance(id);
        retrieval_->setInstance(id);
      } catch (const std::exception& e) {
        logMessage(QString::fromStdString(e.what()), true);
      }
    });
  }
}

void MainWindow::openInitialDatabase() {
  // The current database: $E2E_DB (or echo2ecg-gui --db) for this run only, not remembered;
  // else the last one used, else the default.
  QString path = qEnvironmentVariable("E2E_DB");
  if (!path.isEmpty()) {
    setDatabase(path, false);
    return;
  }
  const QStringList recent = recentDatabases();
  path = !recent.isEmpty() && QFileInfo::exists(recent.front()) ? recent.front()
                                                                 : QString::fromStdString(db::Database::defaultPath());
  setDatabase(path, QFileInfo::exists(path));  // a default that was never created is not "recent"
}

QStringList MainWindow::recentDatabases() const {
  return QSettings().value(QStringLiteral("recentDatabases")).toStringList();
}

void MainWindow::rebuildRecentDatabasesMenu() {
  if (!recentDbMenu_) return;
  recentDbMenu_->clear();
  const QStringList recent = recentDatabases();
  for (const QString& p : recent) recentDbMenu_->addAction(p, this, [this, p] { setDatabase(p); });
  recentDbMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::setDatabase(const QString& path, bool remember) {
  const QString abs = QFileInfo(path).absoluteFilePath();
  // An existing file must be a study database (migrated to the latest schema here when it may be
  // written; one this user may not write is viewed read-only); a new one is created by the first
  // import.
  bool readOnly = false;
  QString readOnlyReason;
  try {
    if (QFileInfo::exists(abs)) {
      db::Database d(abs.toStdString(), db::Database::Mode::Auto);
      readOnly = d.readOnly();
      readOnlyReason = QString::fromStdString(d.readOnlyReason());
    }
  } catch (const std::exception& e) {
    logMessage(QStringLiteral("Cannot open database %1: %2").arg(abs, QString::fromStdString(e.what())), true);
    return;
  }
  dbPath_ = abs;
  dbReadOnly_ = readOnly;
  qputenv("E2E_DB", abs.toUtf8());  // StudyBrowser, TrainingPanel and child processes use it
  if (remember) {
    QStringList recent = recentDatabases();
    recent.removeAll(abs);
    recent.prepend(abs);
    while (recent.size() > 10) recent.removeLast();
    QSettings().setValue(QStringLiteral("recentDatabases"), recent);
  }
  rebuildRecentDatabasesMenu();
  setWindowTitle(QStringLiteral("Echo2ECG Workstation — %1%2").arg(abs, readOnly ? QStringLiteral(" [read-only]") : QString()));
  if (auto* t = findChild<TrainingPanel*>()) t->setDatabasePath(abs);
  browser_->refresh();
  predictions_->setDatabasePath(abs);
  retrieval_->setDatabasePath(abs);
  observer_->setDatabasePath(abs);
  if (network_) network_->setDatabasePath(abs, readOnly);  // a running receiver restarts on it
  logMessage(readOnly ? QStringLiteral("Database: %1 (read-only: %2; viewing only, import and training are not "
                                       "possible)")
                            .arg(abs, readOnlyReason)
                      : QStringLiteral("Database: %1").arg(abs));
}

void MainWindow::logMessage(const QString& text, bool error) {
  statusBar()->showMessage(text, error ? 0 : 8000);
  if (log_) {
    log_->appendPlainText(QStringLiteral("%1 %2%3").arg(QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss")),
                                                      error ? QStringLiteral("ERROR ") : QString(), text));
    if (error)
      if (auto* d = qobject_cast<QDockWidget*>(log_->parentWidget())) d->show();
  }
}

ImportDialog* MainWindow::importPaths(const QStringList& paths) {
  auto* dlg = new ImportDialog(dbPath_, this);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  connect(dlg, &ImportDialog::logMessage, this, [this](const QString& t) { logMessage(t); });
  connect(dlg, &ImportDialog::importFinished, this, [this](bool ok, const QString& summary) {
    observer_->pollNow();  // the views see the imported studies now, not at the next tick
    logMessage(QStringLiteral("Import finished: ") + summary, !ok);
  });
  dlg->show();
  dlg->start(paths);
  return dlg;
}

void MainWindow::importFolderDialog() {
  const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Import folder (recursively)"));
  if (!dir.isEmpty()) importPaths({dir});
}

void MainWindow::openDatabaseDialog() {
  const QString p = QFileDialog::getSaveFileName(this, QStringLiteral("Open or create a study database"), dbPath_,
                                                 QStringLiteral("Study database (*.db *.sqlite);;All files (*)"), nullptr,
                                                 QFileDialog::DontConfirmOverwrite);
  if (!p.isEmpty()) setDatabase(p);
}

void MainWindow::ecgOpened(const QString& path) {
  if (!predictions_) return;
  try {
    const EcgRecord* r = ecg_->record();
    const QString uid = r ? QString::fromStdString(r->identity.sopInstanceUid) : QString();
    const std::int64_t id = PredictionPanel::findInstance(dbPath_, uid, path);
    predictions_->setInstance(id);
    retrieval_->setInstance(id);
    if (!id) logMessage(QStringLiteral("%1 is not in the study database: import it for predictions and retrieval.")
                            .arg(QFileInfo(path).fileName()));
  } catch (const std::exception& e) {
    logMessage(QString::fromStdString(e.what()), true);
  }
}

}  // namespace e2e::ui
