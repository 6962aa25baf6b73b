#include "browser/StudyTreeModel.h"

#include <QFont>
#include <utility>

namespace e2e::ui {

namespace {
QString qs(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

StudyTreeModel::StudyTreeModel(QObject* parent) : QAbstractItemModel(parent) {}

void StudyTreeModel::setTree(vm::StudyTree tree) {
  beginResetModel();
  tree_ = std::move(tree);
  rebuildNodes();
  endResetModel();
}

void StudyTreeModel::rebuildNodes() {
  nodes_.clear();
  roots_.clear();
  const auto add = [this](Kind k, int parent, std::size_t p, std::size_t st, std::size_t se, std::size_t in) {
    const int id = static_cast<int>(nodes_.size());
    nodes_.push_back({k, parent, 0, p, st, se, in, {}});
    // Only now a reference into nodes_: the push_back above may have moved it.
    std::vector<int>& siblings = parent < 0 ? roots_ : nodes_[static_cast<std::size_t>(parent)].children;
    nodes_.back().row = static_cast<int>(siblings.size());
    siblings.push_back(id);
    return id;
  };
  const auto& patients = tree_.patients();
  for (std::size_t p = 0; p < patients.size(); ++p) {
    const int pn = add(Kind::Patient, -1, p, 0, 0, 0);
    for (std::size_t st = 0; st < patients[p].studies.size(); ++st) {
      const int sn = add(Kind::Study, pn, p, st, 0, 0);
      const auto& series = patients[p].studies[st].series;
      for (std::size_t se = 0; se < series.size(); ++se) {
        const int sen = add(Kind::Series, sn, p, st, se, 0);
        for (std::size_t in = 0; in < series[se].instances.size(); ++in) add(Kind::Instance, sen, p, st, se, in);
      }
    }
  }
}

void StudyTreeModel::setCompact(bool compact) {
  if (compact == compact_) return;
  Q_EMIT layoutAboutToBeChanged();
  compact_ = compact;
  Q_EMIT layoutChanged();
  Q_EMIT headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
}

QString StudyTreeModel::compactText(const Node& n) const {
  // The columns' texts in the order that reads best for each kind, " · " between the non-empty ones.
  static const std::vector<int> patientOrder = {NameColumn, IdColumn, DateColumn, ModalityColumn, ObjectsColumn};
  static const std::vector<int> studyOrder = {DateColumn, ModalityColumn, NameColumn, ObjectsColumn, IdColumn};
  static const std::vector<int> seriesOrder = {ModalityColumn, NameColumn, ObjectsColumn};
  static const std::vector<int> instanceOrder = {NameColumn, ModalityColumn};
  const std::vector<int>& order = n.kind == Kind::Patient ? patientOrder
                                  : n.kind == Kind::Study ? studyOrder
                                  : n.kind == Kind::Series ? seriesOrder
                                                           : instanceOrder;
  QStringList parts;
  for (int c : order)
    if (const QString t = text(n, c); !t.isEmpty()) parts << t;
  return parts.join(QStringLiteral(" \u00B7 "));
}

const StudyTreeModel::Node* StudyTreeModel::node(const QModelIndex& index) const {
  if (!index.isValid() || index.model() != this) return nullptr;
  const auto id = static_cast<std::size_t>(index.internalId());
  return id >= 1 && id <= nodes_.size() ? &nodes_[id - 1] : nullptr;
}

QModelIndex StudyTreeModel::index(int row, int column, const QModelIndex& parent) const {
  if (row < 0 || column < 0 || column >= ColumnCount) return {};
  const Node* pn = node(parent);
  if (parent.isValid() && !pn) return {};
  const std::vector<int>& children = pn ? pn->children : roots_;
  if (row >= static_cast<int>(children.size())) return {};
  return createIndex(row, column, static_cast<quintptr>(children[static_cast<std::size_t>(row)] + 1));
}

QModelIndex StudyTreeModel::parent(const QModelIndex& child) const {
  const Node* n = node(child);
  if (!n || n->parent < 0) return {};
  const Node& p = nodes_[static_cast<std::size_t>(n->parent)];
  return createIndex(p.row, 0, static_cast<quintptr>(n->parent + 1));
}

int StudyTreeModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return 0;
  const Node* pn = node(parent);
  if (parent.isValid() && !pn) return 0;
  return static_cast<int>((pn ? pn->children : roots_).size());
}

int StudyTreeModel::columnCount(const QModelIndex&) const { return ColumnCount; }

QString StudyTreeModel::text(const Node& n, int column) const {
  const vm::TreePatient& p = tree_.patients()[n.p];
  switch (n.kind) {
    case Kind::Patient: {
      const QString name = p.displayName.empty() ? QStringLiteral("(no name)") : qs(p.displayName);
      const std::string cells[] = {name.toStdString(), p.patientId, vm::displayStudyDate(p.latestDate()),
                                   p.modalities(),
                                   std::to_string(p.studies.size()) +
                                       (p.studies.size() == 1 ? " study / " : " studies / ") +
                                       std::to_string(p.instanceCount()) + " inst."};
      return qs(cells[column]);
    }
    case Kind::Study: {
      const vm::TreeStudy& s = p.studies[n.st];
      const std::string what = s.modalities().empty() ? "study" : s.modalities() + " study";
      const std::string cells[] = {s.description.empty() ? "(" + what + ")" : s.description,
                                   s.accession.empty() ? "" : "Acc. " + s.accession, vm::displayStudyDate(s.date),
                                   s.modalities(),
                                   std::to_string(s.series.size()) + " ser. / " +
                                       std::to_string(s.instanceCount()) + " inst."};
      return qs(cells[column]);
    }
    case Kind::Series: {
      const vm::TreeSeries& se = p.studies[n.st].series[n.se];
      const std::string label =
          "Series " + std::to_string(se.number) + (se.description.empty() ? "" : ": " + se.description);
      const std::string cells[] = {label, "", "", se.modality,
                                   std::to_string(se.instances.size()) + " inst."};
      return qs(cells[column]);
    }
    case Kind::Instance: {
      const vm::TreeInstance& i = p.studies[n.st].series[n.se].instances[n.in];
      const std::string cells[] = {i.fileName(), "", "", i.format, ""};
      return qs(cells[column]);
    }
  }
  return {};
}

QString StudyTreeModel::toolTip(const Node& n) const {
  const vm::TreePatient& p = tree_.patients()[n.p];
  switch (n.kind) {
    case Kind::Patient:
      return QStringLiteral("%1\nPatient ID: %2\nBirth date: %3  Sex: %4\n%5 studies, %6")
          .arg(qs(p.displayName), qs(p.patientId), qs(vm::displayStudyDate(p.birthDate)), qs(p.sex))
          .arg(p.studies.size())
          .arg(qs(vm::objectCountText(p.seriesCount(), p.instanceCount())));
    case Kind::Study: {
      const vm::TreeStudy& s = p.studies[n.st];
      return QStringLiteral("%1%2\nAccession: %3\nStudy UID: %4")
          .arg(qs(s.description), s.synthetic ? QStringLiteral(" [SYNTHETIC DATA]") : QString(), qs(s.accession),
               qs(s.studyUid));
    }
    case Kind::Series:
      return QStringLiteral("Series UID: %1").arg(qs(p.studies[n.st].series[n.se].seriesUid));
    case Kind::Instance:
      return qs(p.studies[n.st].series[n.se].instances[n.in].path);
  }
  return {};
}

QVariant StudyTreeModel::data(const QModelIndex& index, int role) const {
  const Node* n = node(index);
  if (!n) return {};
  switch (role) {
    case Qt::DisplayRole: {
      const QString t = compact_ && index.column() == NameColumn ? compactText(*n) : text(*n, index.column());
      return t.isEmpty() ? QVariant() : QVariant(t);
    }
    case Qt::ToolTipRole: return toolTip(*n);
    case Qt::FontRole:
      if (n->kind == Kind::Patient && index.column() == NameColumn) {
        QFont f;
        f.setBold(true);
        return f;
      }
      return {};
    case KindRole: return static_cast<int>(n->kind);
    case PathRole: {
      const vm::TreeInstance* i = instanceAt(index);
      return i ? QVariant(qs(i->path)) : QVariant();
    }
    case ModalityRole: return modalityAt(index);
  }
  return {};
}

QVariant StudyTreeModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || (role != Qt::DisplayRole && role != Qt::ToolTipRole)) return {};
  static const char* names[] = {"Patient / study / series", "ID", "Date", "Mod.", "Objects"};
  static const char* tips[] = {"Patient name (FAMILY, Given); study description; series; file",
                               "Patient ID; study accession number", "Study date (patient: the newest study)",
                               "Modality", "Studies, series and instances below"};
  if (role == Qt::ToolTipRole && section >= 0 && section < ColumnCount) return QString::fromLatin1(tips[section]);
  if (compact_ && section == NameColumn) return QStringLiteral("Patient / study / series (date, modality, objects)");
  return section >= 0 && section < ColumnCount ? QString::fromLatin1(names[section]) : QVariant();
}

Qt::ItemFlags StudyTreeModel::flags(const QModelIndex& index) const {
  return node(index) ? Qt::ItemIsEnabled | Qt::ItemIsSelectable : Qt::NoItemFlags;
}

vm::TreeSortKey StudyTreeModel::sortKey(int column) {
  static const vm::TreeSortKey keys[] = {vm::TreeSortKey::Name, vm::TreeSortKey::Id, vm::TreeSortKey::Date,
                                         vm::TreeSortKey::Modality, vm::TreeSortKey::Count};
  return column >= 0 && column < ColumnCount ? keys[column] : vm::TreeSortKey::Date;
}

void StudyTreeModel::sort(int column, Qt::SortOrder order) {
  if (column < 0 || column >= ColumnCount) return;
  beginResetModel();
  tree_.sort(sortKey(column), order == Qt::DescendingOrder);
  rebuildNodes();
  endResetModel();
}

const vm::TreeInstance* StudyTreeModel::instanceAt(const QModelIndex& index) const {
  const Node* n = node(index);
  if (!n || (n->kind != Kind::Instance && n->kind != Kind::Series)) return nullptr;
  const vm::TreeSeries& se = tree_.patients()[n->p].studies[n->st].series[n->se];
  if (n->kind == Kind::Series) return se.instances.size() == 1 ? &se.instances.front() : nullptr;
  return &se.instances[n->in];
}

QString StudyTreeModel::modalityAt(const QModelIndex& index) const {
  const Node* n = node(index);
  if (!n || (n->kind != Kind::Instance && n->kind != Kind::Series)) return {};
  return qs(tree_.patients()[n->p].studies[n->st].series[n->se].modality);
}

QModelIndex StudyTreeModel::indexOfPath(const QString& path) const {
  const std::string p = path.toStdString();
  for (std::size_t id = 0; id < nodes_.size(); ++id) {
    const Node& n = nodes_[id];
    if (n.kind == Kind::Instance && tree_.patients()[n.p].studies[n.st].series[n.se].instances[n.in].path == p)
      return createIndex(n.row, 0, static_cast<quintptr>(id + 1));
  }
  return {};
}

}  // namespace e2e::ui
