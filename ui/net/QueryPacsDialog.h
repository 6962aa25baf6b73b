// File > Query PACS…: choose a peer (Settings > Network), fill patient ID / name (wildcards * ?),
// study date from/to, modality, accession and level; Search runs C-FIND off the GUI thread and
// fills the results tree; expanding a study runs a series-level C-FIND and lists its series
// (number, modality, description, instance count). Retrieve selected runs C-GET of the selected
// studies and series (a series whose study is selected too comes with its study) into the current
// database, all on one association, with a progress bar and Cancel (C-CANCEL through the
// job::CancelToken). Every error shows in the dialog (and the log), never as a crash. Closing the
// dialog cancels what runs.
#pragma once

#include <QDialog>
#include <QFutureWatcher>
#include <map>
#include <vector>

#include "jobs/job.h"
#include "net/NetworkSettings.h"
#include "net/scu.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace e2e::ui {

class QueryPacsDialog : public QDialog {
  Q_OBJECT
 public:
  QueryPacsDialog(const QString& dbPath, QWidget* parent = nullptr);
  ~QueryPacsDialog() override;  // cancels and waits for a running search / retrieve

  enum Column { Patient, PatientId, BirthDate, StudyDate, Description, Modalities, Series, Instances, NumColumns };
  // Peers from the settings (reloaded by reloadPeers()).
  void reloadPeers();
  QComboBox* peerBox() const { return peer_; }
  QLineEdit* patientIdEdit() const { return patientId_; }
  QLineEdit* patientNameEdit() const { return patientName_; }
  QLineEdit* dateFromEdit() const { return dateFrom_; }
  QLineEdit* dateToEdit() const { return dateTo_; }
  QComboBox* modalityBox() const { return modality_; }
  QLineEdit* accessionEdit() const { return accession_; }
  QComboBox* levelBox() const { return level_; }
  // One top-level item per result row; a study's series are its children once loaded.
  QTreeWidget* resultsTree() const { return results_; }
  QProgressBar* progressBar() const { return progress_; }
  QString statusText() const;
  bool busy() const { return busy_; }
  // The study UIDs of the result rows (study level), in table order.
  const std::vector<net::FindRow>& rows() const { return rows_; }
  // The series of result row `studyRow` (empty until loaded).
  std::vector<net::FindRow> seriesOf(int studyRow) const;
  const net::RetrieveReport& lastRetrieve() const { return lastRetrieve_; }

 public Q_SLOTS:
  void search();
  void retrieveSelected();
  // Series-level C-FIND for result row `studyRow` (what expanding it does); ends in seriesLoaded().
  void loadSeries(int studyRow);
  void cancel();

 Q_SIGNALS:
  void searchFinished(bool ok, const QString& text);
  void retrieveFinished(bool ok, const QString& text);
  void seriesLoaded(bool ok, const QString& text);
  void logMessage(const QString& text, bool error);

 private:
  struct Outcome {
    bool ok = false;
    QString text;
    std::vector<net::FindRow> rows;
    net::RetrieveReport retrieve;
    int studyRow = -1;  // series search: whose series
  };
  QWidget* buildQueryForm();
  QWidget* buildButtons();
  bool association(net::Association& out);
  bool buildRequest(net::FindRequest& r);
  void showRows(const std::vector<net::FindRow>& rows);
  void showSeries(int studyRow, const std::vector<net::FindRow>& series);
  std::vector<net::RetrieveRequest> selectedRequests() const;
  void setBusy(bool busy);
  void setStatus(const QString& text, bool error);
  void onSearchDone();
  void onRetrieveDone();
  void onSeriesDone();

  QString dbPath_;
  NetworkSettings settings_;
  QComboBox* peer_ = nullptr;
  QLineEdit *patientId_ = nullptr, *patientName_ = nullptr, *dateFrom_ = nullptr, *dateTo_ = nullptr, *accession_ = nullptr;
  QComboBox* modality_ = nullptr;
  QComboBox* level_ = nullptr;
  QTreeWidget* results_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QPushButton *search_ = nullptr, *retrieve_ = nullptr, *cancel_ = nullptr;
  bool busy_ = false;
  std::vector<net::FindRow> rows_;
  std::map<int, std::vector<net::FindRow>> series_;  // result row -> its series (once loaded)
  net::RetrieveReport lastRetrieve_;
  job::CancelToken token_;
  QFutureWatcher<Outcome>* searchWatch_ = nullptr;
  QFutureWatcher<Outcome>* retrieveWatch_ = nullptr;
  QFutureWatcher<Outcome>* seriesWatch_ = nullptr;
};

}  // namespace e2e::ui
