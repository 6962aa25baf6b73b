// File > Import folder…: runs the core import job (core/importer) on a worker thread with a
// throttled progress bar, a Cancel button and, at the end, the import report in a table
// (added files, skipped, unsupported, conflicts, errors, warnings: file + reason).
#pragma once

#include <QDialog>
#include <QFutureWatcher>
#include <QStringList>
#include <memory>

class QLabel;
class QProgressBar;
class QPushButton;
class QTableWidget;
class QTimer;

namespace e2e::ui {

class ImportDialog : public QDialog {
  Q_OBJECT
 public:
  struct Outcome {
    bool ok = false, cancelled = false;
    QString error;    // the database itself failed ("" otherwise)
    QString summary;  // one line
    qint64 added = 0, skipped = 0, unsupported = 0, conflicts = 0, errors = 0, warnings = 0;
    struct Row {
      QString kind, path, reason;
    };
    std::vector<Row> rows;  // the report table's rows
  };

  explicit ImportDialog(const QString& dbPath, QWidget* parent = nullptr);
  ~ImportDialog() override;  // cancels and waits for a running job

  // Starts importing files/folders (recursively). Returns false if a job is running already.
  bool start(const QStringList& paths);
  bool isRunning() const;
  const Outcome& outcome() const { return outcome_; }

  QProgressBar* progressBar() const { return bar_; }
  QTableWidget* reportTable() const { return table_; }
  QPushButton* cancelButton() const { return cancel_; }
  QLabel* statusLabel() const { return status_; }

 public Q_SLOTS:
  void cancel();

 Q_SIGNALS:
  void importFinished(bool ok, const QString& summary);
  void logMessage(const QString& text);

 private:
  struct Shared;
  void pollProgress();
  void onDone();
  void fillReport();

  QString dbPath_;
  std::shared_ptr<Shared> shared_;
  QFutureWatcher<Outcome>* watcher_ = nullptr;
  QTimer* poll_ = nullptr;
  QProgressBar* bar_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* summary_ = nullptr;
  QTableWidget* table_ = nullptr;
  QPushButton* cancel_ = nullptr;
  QPushButton* close_ = nullptr;
  Outcome outcome_;
};

}  // namespace e2e::ui
