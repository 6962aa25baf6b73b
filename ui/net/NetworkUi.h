// The DICOM network parts of the main window, kept out of MainWindow: Settings > Network…,
// File > Query PACS… / Send to PACS…, the background receiver (ReceiverService on the current
// database) with its status-bar indicator, the "Received objects" dock, and every receiver event
// in the log (MainWindow::logMessage). MainWindow creates it once, tells it when the database
// changes (the receiver restarts on the new one) and shuts it down on close.
#pragma once

#include <QObject>
#include <QPointer>
#include <QStringList>

#include "net/storage_scp.h"

class QAction;
class QDockWidget;
class QLabel;

namespace e2e::ui {

class MainWindow;
class NetworkSettingsDialog;
class QueryPacsDialog;
class ReceivedObjectsView;
class ReceiverService;
class SendToPacsDialog;

class NetworkUi : public QObject {
  Q_OBJECT
 public:
  explicit NetworkUi(MainWindow* window);  // starts the receiver if the settings say so
  ~NetworkUi() override;

  ReceiverService* receiver() const { return receiver_; }
  ReceivedObjectsView* receivedView() const { return received_; }
  QLabel* statusLabel() const { return status_; }
  QAction* receiverAction() const { return receiverAction_; }

  // The current database changed: received objects go there from now on (a running receiver
  // restarts on it; a read-only one stops it with a clear error).
  void setDatabasePath(const QString& path, bool readOnly);
  void shutdown();  // stops the receiver (window closing)
  // PNGs of the network settings, query dialog and received-objects list into dir.
  QStringList saveScreenshots(const QString& dir);

 public Q_SLOTS:
  // Starts (or restarts) the receiver with the saved settings on the current database.
  void startReceiver();
  void stopReceiver();
  NetworkSettingsDialog* openSettingsDialog();
  QueryPacsDialog* openQueryDialog();
  // Sends the study that holds `instancePath` (empty: the instance last selected in the study
  // browser); nullptr (and a message) when there is none.
  SendToPacsDialog* openSendDialog(const QString& instancePath = {});

 private:
  void buildMenus();
  void buildDock();
  void onScpEvent(const net::ScpEvent& e);

  MainWindow* window_;
  ReceiverService* receiver_ = nullptr;
  ReceivedObjectsView* received_ = nullptr;
  QDockWidget* dock_ = nullptr;
  QLabel* status_ = nullptr;
  QAction* receiverAction_ = nullptr;
  QString dbPath_;
  QString selectedPath_;  // the instance last selected in the study browser
  bool readOnly_ = false;
  QPointer<QueryPacsDialog> query_;
};

}  // namespace e2e::ui
