// Study browser dock: the study database (core/db) as a patient -> study -> series -> instance
// tree (core/viewmodel/study_tree: grouping, sorting, filtering), newest study first, filtered
// live as the user types (name, ID, date, modality, description, accession); the database-side
// filters (modality, study date range, label) re-read the database. A flat, sortable list of the
// same instances is one click away. Double-click on an instance (or a one-instance series) opens
// the file. The dock's title counts what is shown: "Studies (37 patients, 52 studies)".
#pragma once

#include <QAbstractTableModel>
#include <QStringList>
#include <QWidget>
#include <memory>

#include "viewmodel/study_tree.h"

class QComboBox;
class QLabel;
class QMenu;
class QLineEdit;
class QStackedWidget;
class QTableView;
class QTimer;
class QToolButton;
class QTreeView;

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

class StudyTreeModel;

class StudyBrowser : public QWidget {
  Q_OBJECT
 public:
  explicit StudyBrowser(QWidget* parent = nullptr);
  // The instances the tree shows (its leaves), one row each, for the flat list view.
  InstanceTableModel* model() const { return model_; }
  StudyTreeModel* treeModel() const { return treeModel_; }
  QTreeView* treeView() const { return tree_; }
  QLineEdit* filterEdit() const { return filter_; }
  // "Studies (37 patients, 52 studies)"; also the title of the dock the browser is in.
  QString title() const { return title_; }
  QSize sizeHint() const override;

  // The instance files a tree node stands for (a patient: all of theirs; an instance: itself).
  QStringList pathsUnder(const QModelIndex& index) const;
  // Moves to the first instance of the next (delta 1) or previous (-1) study in the tree and asks
  // for it to be opened (openRequested); with nothing selected, the first (last) study; false at
  // either end or when the tree is empty.
  bool selectAdjacentStudy(int delta);
  // The tree's context menu ("Export anonymised…" for the node's DICOM objects).
  QMenu* contextMenuFor(const QModelIndex& index);

 protected:
  // Below 440 px the tree shows one column that says it all (StudyTreeModel::setCompact).
  void resizeEvent(QResizeEvent* e) override;
 public Q_SLOTS:
  // Re-reads the database (with the modality, date and label filters), then applies the text filter.
  void refresh();
  // Applies the text filter to what was read (no database access); typing calls it ~150 ms after
  // the last key, Enter at once.
  void applyFilter();
 Q_SIGNALS:
  void openRequested(const QString& path);
  // The current node stands for one instance (an instance, or a series of one instance).
  void instanceSelected(const QString& path, const QString& modality);
  void titleChanged(const QString& title);

 private:
  void buildViews();
  void layoutControls(QToolButton* listToggle);
  void connectControls(QToolButton* listToggle);
  void onTreeCurrentChanged(const QModelIndex& current);
  void onTreeDoubleClicked(const QModelIndex& index);
  void showTree(vm::StudyTree shown);
  void setTitle(const QString& title);
  void setCompact(bool compact);
  void setupContextMenu();  // StudyBrowserActions.cpp

  InstanceTableModel* model_ = nullptr;
  QTableView* table_ = nullptr;
  StudyTreeModel* treeModel_ = nullptr;
  QTreeView* tree_ = nullptr;
  QStackedWidget* views_ = nullptr;
  QTimer* filterTimer_ = nullptr;
  QTimer* queryTimer_ = nullptr;
  vm::StudyTree all_;  // what the database filters selected
  QString title_;
  QString loadError_;
  bool restoring_ = false;  // re-selecting the current instance after a reload
  QLineEdit* filter_ = nullptr;
  QComboBox* modality_ = nullptr;
  QLineEdit* dateFrom_ = nullptr;
  QLineEdit* dateTo_ = nullptr;
  QLineEdit* label_ = nullptr;
  QLabel* status_ = nullptr;
};

}  // namespace e2e::ui
