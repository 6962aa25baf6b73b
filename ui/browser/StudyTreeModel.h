// The study browser's tree as a Qt item model: it only shows a vm::StudyTree (core/viewmodel),
// which does the grouping, sorting and filtering. Columns: name (patient / study description /
// series / file), ID (patient ID, study accession), date, modality, objects (series, instances).
#pragma once

#include <QAbstractItemModel>
#include <vector>

#include "viewmodel/study_tree.h"

namespace e2e::ui {

class StudyTreeModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { NameColumn, IdColumn, DateColumn, ModalityColumn, ObjectsColumn, ColumnCount };
  enum class Kind { Patient, Study, Series, Instance };
  // Qt::UserRole + ...: what a node is, for the browser and tests.
  static constexpr int KindRole = Qt::UserRole + 1;      // int(Kind)
  static constexpr int PathRole = Qt::UserRole + 2;      // an instance's file
  static constexpr int ModalityRole = Qt::UserRole + 3;  // a series' or instance's series modality

  explicit StudyTreeModel(QObject* parent = nullptr);
  void setTree(vm::StudyTree tree);
  // Compact: for a narrow dock, the first column says it all ("PATIENT, Test · 123-654";
  // "1999-12-23 · ECG · description · 1 ser. / 1 inst."), the others are hidden by the view.
  void setCompact(bool compact);
  bool compact() const { return compact_; }
  const vm::StudyTree& tree() const { return tree_; }

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation o, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  // Sorts patients and, inside each, studies by the column (vm::StudyTree::sort).
  void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
  // The tree's sort key of a column (Date for an unknown column).
  static vm::TreeSortKey sortKey(int column);

  // The instance a node stands for: an instance, or a series of exactly one instance; else null.
  const vm::TreeInstance* instanceAt(const QModelIndex& index) const;
  QString modalityAt(const QModelIndex& index) const;
  // The index of the instance with this file (column 0), invalid when it is not shown.
  QModelIndex indexOfPath(const QString& path) const;

 private:
  // One node per patient, study, series and instance; internalId = position in nodes_ + 1.
  struct Node {
    Kind kind;
    int parent;  // node position, -1 for patients
    int row;     // row under its parent
    std::size_t p, st, se, in;  // positions in the tree
    std::vector<int> children;
  };
  void rebuildNodes();
  const Node* node(const QModelIndex& index) const;
  QString text(const Node& n, int column) const;
  QString compactText(const Node& n) const;
  QString toolTip(const Node& n) const;

  vm::StudyTree tree_;
  std::vector<Node> nodes_;
  std::vector<int> roots_;
  bool compact_ = false;
};

}  // namespace e2e::ui
