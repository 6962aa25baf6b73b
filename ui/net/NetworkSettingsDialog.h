// Settings > Network…: our AE title and port, who may send to us (AET@HOST list or "accept
// any"), "start the receiver when the app starts", and the PACS peers (name, AE title, host,
// port) with Verify (C-ECHO off the GUI thread: round trip or the error). OK validates (clear
// messages in the dialog) and saves to QSettings group "network".
#pragma once

#include <QDialog>

#include "net/NetworkSettings.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace e2e::ui {

class NetworkSettingsDialog : public QDialog {
  Q_OBJECT
 public:
  explicit NetworkSettingsDialog(QWidget* parent = nullptr);

  void setSettings(const NetworkSettings& s);
  // What the fields say now; problems with fields that do not parse (port) go to `problems`.
  NetworkSettings settings(QStringList* problems = nullptr) const;
  // Validates; on success saves and returns true, else shows the problems and returns false.
  bool validateAndSave();
  QString errorText() const;
  QString verifyText() const;
  QTableWidget* peerTable() const { return peers_; }
  QLineEdit* aetEdit() const { return aet_; }
  QLineEdit* portEdit() const { return port_; }
  QPlainTextEdit* allowedEdit() const { return allowed_; }
  QCheckBox* acceptAnyBox() const { return acceptAny_; }
  QCheckBox* startBox() const { return start_; }
  void addPeer(const PacsPeer& p);
  bool verifying() const { return verifying_; }

 public Q_SLOTS:
  void accept() override;
  // C-ECHO to the selected peer (the first if none is selected); the result shows in verifyText().
  void verifySelected();

 Q_SIGNALS:
  void saved();
  void verifyFinished(bool ok, const QString& text);

 private:
  QWidget* buildLocalGroup();
  QWidget* buildPeersGroup();
  PacsPeer peerAt(int row) const;

  QLineEdit* aet_ = nullptr;
  QLineEdit* port_ = nullptr;
  QCheckBox* start_ = nullptr;
  QCheckBox* acceptAny_ = nullptr;
  QPlainTextEdit* allowed_ = nullptr;
  QTableWidget* peers_ = nullptr;
  QPushButton* verify_ = nullptr;
  QLabel* verifyResult_ = nullptr;
  QLabel* errors_ = nullptr;
  bool verifying_ = false;
};

}  // namespace e2e::ui
