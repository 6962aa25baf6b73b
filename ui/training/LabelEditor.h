// Labels for fine-tuning: import a labels CSV (study_uid / accession / patient_id keyed; the
// matched and unmatched rows are reported) and view/edit the labels of one study
// (lvef_percent, lvef_class, shd; every other label is listed read-only).
#pragma once
#include <QString>
#include <QWidget>

#include "labels/labels_csv.h"

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace e2e::ui {

class LabelEditor : public QWidget {
  Q_OBJECT
 public:
  explicit LabelEditor(QWidget* parent = nullptr);

  void setDatabasePath(const QString& path);
  QString databasePath() const { return dbPath_; }
  // Selects a study by its Study Instance UID; false if it is not in the database.
  bool setStudy(const QString& studyUid);
  QString currentStudy() const;

  // Imports a labels CSV (throws nothing: errors go to the report); returns the result.
  e2e::labels::ImportResult importCsv(const QString& path, e2e::labels::KeyColumn by = e2e::labels::KeyColumn::Auto);

  QLineEdit* lvefPercentEdit() const { return lvefPercent_; }
  QComboBox* lvefClassBox() const { return lvefClass_; }
  QComboBox* shdBox() const { return shd_; }
  QTableWidget* labelTable() const { return table_; }
  QPlainTextEdit* reportView() const { return report_; }
  QComboBox* studyBox() const { return study_; }

 public Q_SLOTS:
  void reloadStudies();
  bool save();  // writes the edited values of the current study (source "manual")
  void importCsvInteractive();

 Q_SIGNALS:
  void labelsChanged(const QString& studyUid);

 private:
  void loadStudy();
  QString dbPath_;
  QComboBox *study_ = nullptr, *lvefClass_ = nullptr, *shd_ = nullptr, *by_ = nullptr;
  QLineEdit* lvefPercent_ = nullptr;
  QTableWidget* table_ = nullptr;
  QPlainTextEdit* report_ = nullptr;
  QPushButton *save_ = nullptr, *import_ = nullptr;
  QLabel* info_ = nullptr;
};

}  // namespace e2e::ui
