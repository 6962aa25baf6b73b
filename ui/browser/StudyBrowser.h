// Study browser dock: a table over the study database's instance list (core/db), filtered by
// patient name/ID text, modality, study date range and label, and sortable by any column;
// double-click opens the file. Without the database library it shows a placeholder.
#pragma once

#include <QAbstractTableModel>
#include <QWidget>
#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace e2e::ui {

// One row per instance: patient, ID, study date, modality, format, file.
class InstanceTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  struct Row {
    QString patientName, patientId, studyDate, modality, format, path;
  };
  explicit InstanceTableModel(QObject* parent = nullptr);
  int rowCount(const QModelIndex& = {}) const override;
  int columnCount(const QModelIndex& = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  void setRows(std::vector<Row> rows);
  const Row* row(int i) const;
  // Sorting is done in the model itself, so view rows are model rows (no proxy to map through).
  void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

  // What the browser asks the database for. Empty fields do not filter.
  struct Query {
    QString text;               // substring of patient name or ID
    QString modality;           // ECG, US, ...
    QString dateFrom, dateTo;   // study date bounds, YYYYMMDD or YYYY-MM-DD (inclusive)
    QString label;              // "key" (label present) or "key=value"
  };
  // Loads from the database at dbPath. Returns an error text (bad date, no database...) or "".
  QString load(const QString& dbPath, const Query& q);
  QString load(const QString& dbPath, const QString& text) {
    Query q;
    q.text = text;
    return load(dbPath, q);
  }

 private:
  std::vector<Row> rows_;
};

class StudyBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit StudyBrowser(QWidget* parent = nullptr);
  InstanceTableModel* model() const { return model_; }
 public Q_SLOTS:
  void refresh();
 Q_SIGNALS:
  void openRequested(const QString& path);

 private:
  InstanceTableModel* model_ = nullptr;
  QTableView* table_ = nullptr;
  QLineEdit* filter_ = nullptr;
  QComboBox* modality_ = nullptr;
  QLineEdit* dateFrom_ = nullptr;
  QLineEdit* dateTo_ = nullptr;
  QLineEdit* label_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace e2e::ui
