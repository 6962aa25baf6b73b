// Study browser dock: a table over the study database's instance list (core/db) with a text
// filter; double-click opens the file. Without the database library it shows a placeholder.
#pragma once

#include <QAbstractTableModel>
#include <QWidget>
#include <memory>

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
  // Loads from the database at dbPath (listInstances with a text filter). Returns an error text or "".
  QString load(const QString& dbPath, const QString& text);

 private:
  std::vector<Row> rows_;
};

class StudyBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit StudyBrowser(QWidget* parent = nullptr);
  static bool databaseAvailable();
  InstanceTableModel* model() const { return model_; }
 public Q_SLOTS:
  void refresh();
 Q_SIGNALS:
  void openRequested(const QString& path);

 private:
  InstanceTableModel* model_ = nullptr;
  QTableView* table_ = nullptr;
  QLineEdit* filter_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace e2e::ui
