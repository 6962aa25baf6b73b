// File > Send to PACS…: C-STORE of a study's instance files (net::send) to a peer from
// Settings > Network, off the GUI thread, with progress and Cancel. Errors show in the dialog.
#pragma once

#include <QDialog>
#include <QFutureWatcher>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "net/NetworkSettings.h"
#include "net/scu.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;

namespace e2e::ui {

class SendToPacsDialog : public QDialog {
  Q_OBJECT
 public:
  // `what`: the study as the user sees it ("DOE JANE, 2013-01-25, 3 files").
  SendToPacsDialog(const std::vector<std::string>& files, const QString& what, QWidget* parent = nullptr);
  ~SendToPacsDialog() override;  // cancels and waits
  QComboBox* peerBox() const { return peer_; }
  QProgressBar* progressBar() const { return progress_; }
  QString statusText() const;
  bool busy() const { return busy_; }
  const net::SendReport& lastReport() const { return report_; }

  // Files of the study that holds `path` in the database (empty when it is not there).
  static std::vector<std::string> studyFilesOf(const QString& dbPath, const QString& path, QString* what);

 public Q_SLOTS:
  void send();
  void cancel();

 Q_SIGNALS:
  void sendFinished(bool ok, const QString& text);
  void logMessage(const QString& text, bool error);

 private:
  void setStatus(const QString& text, bool error);
  void onDone();

  std::vector<std::string> files_;
  NetworkSettings settings_;
  QComboBox* peer_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QPushButton *send_ = nullptr, *cancel_ = nullptr;
  bool busy_ = false;
  job::CancelToken token_;
  net::SendReport report_;
  QFutureWatcher<std::pair<net::SendReport, QString>>* watch_ = nullptr;
};

}  // namespace e2e::ui
