#include "net/NetworkUi.h"

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "app/DatabaseObserver.h"
#include "app/MainWindow.h"
#include "browser/StudyBrowser.h"
#include "net/NetworkSettingsDialog.h"
#include "net/QueryPacsDialog.h"
#include "net/ReceivedObjectsView.h"
#include "net/ReceiverService.h"
#include "net/SendToPacsDialog.h"

namespace e2e::ui {

NetworkUi::NetworkUi(MainWindow* window) : QObject(window), window_(window) {
  receiver_ = new ReceiverService(this);
  status_ = new QLabel(window_);
  status_->setObjectName(QStringLiteral("receiverStatus"));
  status_->setText(receiver_->statusText());
  window_->statusBar()->addPermanentWidget(status_);
  connect(receiver_, &ReceiverService::stateChanged, this, [this](ReceiverService::State s, const QString& text) {
    status_->setText(text);
    status_->setStyleSheet(s == ReceiverService::State::Error ? QStringLiteral("color: #b00020;") : QString());
    if (receiverAction_) {
      const QSignalBlocker block(receiverAction_);
      receiverAction_->setChecked(s == ReceiverService::State::Starting || s == ReceiverService::State::Listening);
    }
    window_->logMessage(text, s == ReceiverService::State::Error);
  });
  connect(receiver_, &ReceiverService::scpEvent, this, &NetworkUi::onScpEvent);
  buildDock();
  buildMenus();
  connect(window_->studyBrowser(), &StudyBrowser::instanceSelected, this,
          [this](const QString& path, const QString&) { selectedPath_ = path; });
  dbPath_ = window_->databasePath();
  readOnly_ = window_->databaseReadOnly();
  received_->setDatabasePath(dbPath_);
  if (NetworkSettings::load().startReceiver) startReceiver();
}

NetworkUi::~NetworkUi() {
  receiver_->disconnect(this);  // the window's widgets may be gone already
  receiver_->stop();
}

void NetworkUi::buildDock() {
  dock_ = new QDockWidget(QStringLiteral("Received objects"), window_);
  dock_->setObjectName(QStringLiteral("receivedDock"));
  received_ = new ReceivedObjectsView(dock_);
  dock_->setWidget(received_);
  window_->addDockWidget(Qt::BottomDockWidgetArea, dock_);
  if (auto* log = window_->findChild<QDockWidget*>(QStringLiteral("logDock"))) window_->tabifyDockWidget(log, dock_);
  dock_->hide();
}

void NetworkUi::buildMenus() {
  QMenuBar* bar = window_->menuBar();
  // File: Query PACS… and Send to PACS… after the database entries (before the second separator).
  if (QMenu* file = bar->actions().isEmpty() ? nullptr : bar->actions().front()->menu()) {
    QAction* before = nullptr;
    int separators = 0;
    for (QAction* a : file->actions())
      if (a->isSeparator() && ++separators == 2) {
        before = a;
        break;
      }
    auto* query = new QAction(QStringLiteral("&Query PACS…"), file);
    query->setShortcut(QKeySequence(QStringLiteral("Ctrl+Shift+Q")));
    connect(query, &QAction::triggered, this, &NetworkUi::openQueryDialog);
    auto* send = new QAction(QStringLiteral("Send study to PAC&S…"), file);
    connect(send, &QAction::triggered, this, [this] { openSendDialog(); });
    file->insertAction(before, query);
    file->insertAction(before, send);
  }
  // Settings (before Help): Network…, the receiver switch, the received-objects dock.
  auto* settings = new QMenu(QStringLiteral("&Settings"), bar);
  QAction* help = nullptr;
  for (QAction* a : bar->actions())
    if (a->menu() && a->menu()->title() == QStringLiteral("&Help")) help = a;
  bar->insertMenu(help, settings);
  settings->addAction(QStringLiteral("&Network…"), this, &NetworkUi::openSettingsDialog);
  receiverAction_ = settings->addAction(QStringLiteral("DICOM &receiver running"));
  receiverAction_->setCheckable(true);
  connect(receiverAction_, &QAction::toggled, this, [this](bool on) { on ? startReceiver() : stopReceiver(); });
  settings->addAction(dock_->toggleViewAction());
}

void NetworkUi::startReceiver() {
  if (dbPath_.isEmpty()) return receiver_->fail(QStringLiteral("no study database is open"));
  if (readOnly_) return receiver_->fail(QStringLiteral("the database %1 is read-only").arg(dbPath_));
  try {
    receiver_->start(NetworkSettings::load().scpOptions(dbPath_));
    dock_->show();
  } catch (const std::exception& e) {
    receiver_->fail(QString::fromStdString(e.what()));
  }
}

void NetworkUi::stopReceiver() { receiver_->stop(); }

void NetworkUi::shutdown() {
  if (receiver_) receiver_->stop();
}

void NetworkUi::setDatabasePath(const QString& path, bool readOnly) {
  if (path == dbPath_ && readOnly == readOnly_) return;
  dbPath_ = path;
  readOnly_ = readOnly;
  received_->setDatabasePath(path);
  if (receiver_->running() || receiver_->state() == ReceiverService::State::Error) {
    window_->logMessage(QStringLiteral("Receiver: restarting on %1").arg(path));
    startReceiver();
  }
}

void NetworkUi::onScpEvent(const net::ScpEvent& e) {
  using T = net::ScpEvent::Type;
  const bool problem = e.type == T::AssociationRefused || e.type == T::AssociationAborted || e.type == T::ObjectAborted ||
                       (e.type == T::ObjectStored && !e.object.accepted());
  window_->logMessage(describeScpEvent(e), problem);
  received_->addEvent(e);
  if (e.type == T::ObjectStored && e.object.outcome == net::StoreOutcome::Added)
    if (auto* obs = window_->findChild<DatabaseObserver*>()) obs->pollNow();  // the browser shows it at once
}

NetworkSettingsDialog* NetworkUi::openSettingsDialog() {
  auto* dlg = new NetworkSettingsDialog(window_);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  connect(dlg, &NetworkSettingsDialog::saved, this, [this] {
    window_->logMessage(QStringLiteral("Network settings saved"));
    if (receiver_->running()) startReceiver();  // the new AE title / port / allow list
    if (query_) query_->reloadPeers();
  });
  dlg->show();
  return dlg;
}

QueryPacsDialog* NetworkUi::openQueryDialog() {
  auto* dlg = new QueryPacsDialog(dbPath_, window_);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  connect(dlg, &QueryPacsDialog::logMessage, window_, &MainWindow::logMessage);
  connect(dlg, &QueryPacsDialog::retrieveFinished, this, [this] {
    if (auto* obs = window_->findChild<DatabaseObserver*>()) obs->pollNow();
  });
  query_ = dlg;
  dlg->show();
  return dlg;
}

SendToPacsDialog* NetworkUi::openSendDialog(const QString& instancePath) {
  const QString path = instancePath.isEmpty() ? selectedPath_ : instancePath;
  QString what;
  std::vector<std::string> files;
  try {
    if (!path.isEmpty()) files = SendToPacsDialog::studyFilesOf(dbPath_, path, &what);
  } catch (const std::exception& e) {
    window_->logMessage(QString::fromStdString(e.what()), true);
  }
  if (files.empty()) {
    QMessageBox::information(window_, QStringLiteral("Send to PACS"),
                             QStringLiteral("Select an instance of the study to send in the study browser first "
                                            "(a study stored in the current database)."));
    return nullptr;
  }
  auto* dlg = new SendToPacsDialog(files, what, window_);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  connect(dlg, &SendToPacsDialog::logMessage, window_, &MainWindow::logMessage);
  dlg->show();
  return dlg;
}

QStringList NetworkUi::saveScreenshots(const QString& dir) {
  QStringList saved;
  auto save = [&](QWidget* w, const QString& name) {
    w->show();
    QApplication::processEvents();
    const QString p = QDir(dir).filePath(name);
    if (w->grab().toImage().save(p, "PNG")) saved << p;
  };
  {
    NetworkSettingsDialog dlg(window_);
    save(&dlg, QStringLiteral("network_settings.png"));
  }
  {
    QueryPacsDialog dlg(dbPath_, window_);
    save(&dlg, QStringLiteral("query_pacs.png"));
  }
  const bool shown = dock_->isVisible();
  dock_->show();
  dock_->raise();
  save(received_, QStringLiteral("received_objects.png"));
  if (!shown) dock_->hide();
  return saved;
}

}  // namespace e2e::ui
