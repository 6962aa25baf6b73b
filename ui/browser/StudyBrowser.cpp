#include "browser/StudyBrowser.h"

#include <QComboBox>
#include <QDockWidget>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QResizeEvent>
#include <QSignalBlocker>
#include <QStackedWidget>
#include <QTableView>
#include <QTimer>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>
#include <algorithm>

#include "browser/StudyTreeModel.h"
#include "common/person_name.h"
#include "db/database.h"

namespace e2e::ui {

InstanceTableModel::InstanceTableModel(QObject* parent) : QAbstractTableModel(parent) {}
int InstanceTableModel::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : static_cast<int>(rows_.size()); }
int InstanceTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : 6; }

namespace {
// The text a column shows for a row (also the sort key: dates are YYYYMMDD, so text order is time order).
QString cellText(const InstanceTableModel::Row& r, int column) {
  switch (column) {
    case 0: return r.patientName;
    case 1: return r.patientId;
    case 2: return r.studyDate;
    case 3: return r.modality;
    case 4: return r.format;
    case 5: return QFileInfo(r.path).fileName();
  }
  return {};
}
}  // namespace

QVariant InstanceTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  if (role == Qt::ToolTipRole) return r.path;
  if (role != Qt::DisplayRole) return {};
  const QString t = cellText(r, index.column());
  return t.isNull() ? QVariant() : QVariant(t);
}

QVariant InstanceTableModel::headerData(int section, Qt::Orientation o, int role) const {
  if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
  static const char* names[] = {"Patient", "ID", "Date", "Modality", "Format", "File"};
  return (section >= 0 && section < 6) ? QString::fromLatin1(names[section]) : QVariant();
}

void InstanceTableModel::setRows(std::vector<Row> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  endResetModel();
}

const InstanceTableModel::Row* InstanceTableModel::row(int i) const {
  return (i >= 0 && i < static_cast<int>(rows_.size())) ? &rows_[static_cast<std::size_t>(i)] : nullptr;
}

void InstanceTableModel::sort(int column, Qt::SortOrder order) {
  if (column < 0 || column >= columnCount()) return;
  Q_EMIT layoutAboutToBeChanged();
  std::stable_sort(rows_.begin(), rows_.end(), [&](const Row& a, const Row& b) {
    const int c = QString::compare(cellText(a, column), cellText(b, column), Qt::CaseInsensitive);
    return order == Qt::AscendingOrder ? c < 0 : c > 0;
  });
  Q_EMIT layoutChanged();
}

namespace {
// "2023-01-31" or "20230131" -> "20230131"; "" stays ""; anything else -> null QString.
QString normaliseDate(const QString& in) {
  QString d = in.trimmed();
  d.remove(QLatin1Char('-'));
  if (d.isEmpty()) return QStringLiteral("");
  if (d.size() != 8) return QString();
  for (QChar c : d)
    if (!c.isDigit()) return QString();
  return d;
}

// The database filter of a query; an error text for a malformed date, else "".
QString toDbFilter(const InstanceTableModel::Query& q, db::Filter& f) {
  const QString from = normaliseDate(q.dateFrom), to = normaliseDate(q.dateTo);
  if (from.isNull() || to.isNull()) return QStringLiteral("Study date must be YYYYMMDD or YYYY-MM-DD.");
  f.text = q.text.trimmed().toStdString();
  f.modality = q.modality.trimmed().toStdString();
  f.dateFrom = from.toStdString();
  f.dateTo = to.toStdString();
  const QString label = q.label.trimmed();
  const int eq = label.indexOf(QLatin1Char('='));
  f.labelKey = (eq < 0 ? label : label.left(eq)).trimmed().toStdString();
  if (eq >= 0) f.labelValue = label.mid(eq + 1).trimmed().toStdString();
  return QString();
}

QString noDatabaseText(const QString& dbPath) {
  return QStringLiteral("No study database yet (%1). Import files to fill it.").arg(dbPath);
}
}  // namespace

QString InstanceTableModel::load(const QString& dbPath, const Query& q) {
  db::Filter f;
  if (const QString err = toDbFilter(q, f); !err.isEmpty()) {
    setRows({});
    return err;
  }
  try {
    if (!QFileInfo::exists(dbPath)) {
      setRows({});
      return noDatabaseText(dbPath);
    }
    db::Database database(dbPath.toStdString(), db::Database::Mode::ReadOnly);
    f.limit = 5000;
    std::vector<Row> rows;
    for (const auto& i : database.listInstances(f))
      rows.push_back({QString::fromStdString(formatPersonName(i.patientName)), QString::fromStdString(i.patientId),
                      QString::fromStdString(i.studyDate), QString::fromStdString(i.modality),
                      QString::fromStdString(i.format), QString::fromStdString(i.path)});
    setRows(std::move(rows));
    return QString();
  } catch (const std::exception& e) {
    setRows({});
    return QString::fromStdString(e.what());
  }
}

StudyBrowser::StudyBrowser(QWidget* parent) : QWidget(parent) {
  buildViews();
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(QStringLiteral("Filter: name, ID, date, modality, description, accession"));
  filter_->setClearButtonEnabled(true);
  modality_ = new QComboBox(this);
  modality_->addItem(QStringLiteral("All modalities"), QString());
  modality_->addItem(QStringLiteral("ECG"), QStringLiteral("ECG"));
  modality_->addItem(QStringLiteral("US (echo)"), QStringLiteral("US"));
  dateFrom_ = new QLineEdit(this);
  dateFrom_->setPlaceholderText(QStringLiteral("from YYYY-MM-DD"));
  dateTo_ = new QLineEdit(this);
  dateTo_->setPlaceholderText(QStringLiteral("to YYYY-MM-DD"));
  label_ = new QLineEdit(this);
  label_->setPlaceholderText(QStringLiteral("label, e.g. lvef_class=0"));
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  filterTimer_ = new QTimer(this);
  filterTimer_->setSingleShot(true);
  filterTimer_->setInterval(150);
  queryTimer_ = new QTimer(this);
  queryTimer_->setSingleShot(true);
  queryTimer_->setInterval(300);
  auto* listToggle = new QToolButton(this);
  listToggle->setText(QStringLiteral("List"));
  listToggle->setCheckable(true);
  listToggle->setToolTip(QStringLiteral("Show the same instances as one flat list, sortable by any column"));
  layoutControls(listToggle);
  connectControls(listToggle);
  setupContextMenu();
  refresh();
}

void StudyBrowser::buildViews() {
  treeModel_ = new StudyTreeModel(this);
  tree_ = new QTreeView(this);
  tree_->setModel(treeModel_);
  tree_->setUniformRowHeights(true);
  tree_->setAlternatingRowColors(true);
  tree_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  tree_->setSelectionBehavior(QAbstractItemView::SelectRows);
  tree_->setExpandsOnDoubleClick(false);  // double-click opens an instance, toggles a group
  tree_->setIndentation(14);
  QHeaderView* th = tree_->header();
  th->setStretchLastSection(false);
  th->setSectionsClickable(true);
  th->setSortIndicatorShown(true);
  th->setSortIndicator(StudyTreeModel::DateColumn, Qt::DescendingOrder);
  // The name takes what the other columns leave; those fit their contents (showTree), the user may
  // widen them.
  th->setSectionResizeMode(StudyTreeModel::NameColumn, QHeaderView::Stretch);
  for (int c = StudyTreeModel::IdColumn; c < StudyTreeModel::ColumnCount; ++c)
    th->setSectionResizeMode(c, QHeaderView::Interactive);
  th->setMinimumSectionSize(40);

  model_ = new InstanceTableModel(this);
  table_ = new QTableView(this);
  table_->setModel(model_);
  table_->setSortingEnabled(true);
  table_->horizontalHeader()->setSortIndicatorShown(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();

  views_ = new QStackedWidget(this);
  views_->addWidget(tree_);
  views_->addWidget(table_);
}

void StudyBrowser::layoutControls(QToolButton* listToggle) {
  auto* refreshBtn = new QPushButton(QStringLiteral("Refresh"), this);
  connect(refreshBtn, &QPushButton::clicked, this, &StudyBrowser::refresh);
  auto* top = new QHBoxLayout;
  top->addWidget(filter_, 1);
  top->addWidget(listToggle);
  top->addWidget(refreshBtn);
  auto* second = new QHBoxLayout;
  second->addWidget(modality_);
  second->addWidget(dateFrom_);
  second->addWidget(dateTo_);
  second->addWidget(label_, 1);
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(2, 2, 2, 2);
  v->addLayout(top);
  v->addLayout(second);
  v->addWidget(views_, 1);
  v->addWidget(status_);
}

void StudyBrowser::connectControls(QToolButton* listToggle) {
  connect(listToggle, &QToolButton::toggled, this, [this](bool list) { views_->setCurrentIndex(list ? 1 : 0); });
  connect(filter_, &QLineEdit::textChanged, filterTimer_, qOverload<>(&QTimer::start));
  connect(filter_, &QLineEdit::returnPressed, this, &StudyBrowser::applyFilter);
  connect(filterTimer_, &QTimer::timeout, this, &StudyBrowser::applyFilter);
  for (QLineEdit* e : {dateFrom_, dateTo_, label_}) {
    connect(e, &QLineEdit::textChanged, queryTimer_, qOverload<>(&QTimer::start));
    connect(e, &QLineEdit::returnPressed, this, &StudyBrowser::refresh);
  }
  connect(queryTimer_, &QTimer::timeout, this, &StudyBrowser::refresh);
  connect(modality_, qOverload<int>(&QComboBox::currentIndexChanged), this, &StudyBrowser::refresh);
  connect(tree_->header(), &QHeaderView::sortIndicatorChanged, this, &StudyBrowser::applyFilter);
  connect(tree_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          [this](const QModelIndex& cur) { onTreeCurrentChanged(cur); });
  connect(tree_, &QTreeView::doubleClicked, this, [this](const QModelIndex& i) { onTreeDoubleClicked(i); });
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    if (const auto* r = model_->row(i.row())) Q_EMIT openRequested(r->path);
  });
}

QSize StudyBrowser::sizeHint() const {
  // Wide enough for every tree column at once (the dock's default width).
  return {520, 600};
}

namespace {
constexpr int kCompactWidth = 440;  // px: narrower than this, one column
}  // namespace

void StudyBrowser::resizeEvent(QResizeEvent* e) {
  QWidget::resizeEvent(e);
  setCompact(width() < kCompactWidth);
}

void StudyBrowser::setCompact(bool compact) {
  treeModel_->setCompact(compact);
  for (int c = StudyTreeModel::IdColumn; c < StudyTreeModel::ColumnCount; ++c)
    tree_->header()->setSectionHidden(c, compact);
}

void StudyBrowser::refresh() {
  queryTimer_->stop();
  const QString path = QString::fromStdString(db::Database::defaultPath());
  InstanceTableModel::Query q;
  q.modality = modality_->currentData().toString();
  q.dateFrom = dateFrom_->text();
  q.dateTo = dateTo_->text();
  q.label = label_->text();
  db::Filter f;
  loadError_ = toDbFilter(q, f);
  all_ = vm::StudyTree();
  if (loadError_.isEmpty()) {
    try {
      if (!QFileInfo::exists(path)) {
        loadError_ = noDatabaseText(path);
      } else {
        db::Database database(path.toStdString(), db::Database::Mode::ReadOnly);
        all_ = vm::StudyTree::fromDatabase(database, f);
      }
    } catch (const std::exception& e) {
      loadError_ = QString::fromStdString(e.what());
    }
  }
  applyFilter();
}

void StudyBrowser::applyFilter() {
  filterTimer_->stop();
  vm::StudyTree shown = all_.filtered(filter_->text().toStdString());
  const QHeaderView* th = tree_->header();
  shown.sort(StudyTreeModel::sortKey(th->sortIndicatorSection()), th->sortIndicatorOrder() == Qt::DescendingOrder);
  const vm::TreeCounts counts = shown.counts();
  setTitle(QString::fromStdString(vm::studyTreeTitle(counts, all_.counts())));
  showTree(std::move(shown));
  if (!loadError_.isEmpty()) status_->setText(loadError_);
  else
    status_->setText(QStringLiteral("%1 of %2 objects in %3")
                         .arg(counts.instances)
                         .arg(all_.counts().instances)
                         .arg(QString::fromStdString(db::Database::defaultPath())));
}

void StudyBrowser::showTree(vm::StudyTree shown) {
  const QModelIndex current = tree_->currentIndex();
  const QString currentPath = treeModel_->data(current, StudyTreeModel::PathRole).toString();
  std::vector<InstanceTableModel::Row> rows;
  for (const auto& p : shown.patients())
    for (const auto& st : p.studies)
      for (const auto& se : st.series)
        for (const auto& i : se.instances)
          rows.push_back({QString::fromStdString(p.displayName), QString::fromStdString(p.patientId),
                          QString::fromStdString(st.date), QString::fromStdString(se.modality),
                          QString::fromStdString(i.format), QString::fromStdString(i.path)});
  model_->setRows(std::move(rows));
  const auto* header = table_->horizontalHeader();
  if (header->sortIndicatorSection() >= 0 && header->sortIndicatorSection() < model_->columnCount())
    model_->sort(header->sortIndicatorSection(), header->sortIndicatorOrder());

  const bool filtering = !filter_->text().trimmed().isEmpty();
  const std::size_t patients = shown.patients().size();
  treeModel_->setTree(std::move(shown));
  // Studies are visible at once; while filtering, the matching series too (when not too many).
  if (filtering && patients <= 200) tree_->expandToDepth(1);
  else if (patients <= 500) tree_->expandToDepth(0);
  // Columns fit their contents, a long patient ID no wider than kMaxIdWidth (its tooltip has it all).
  constexpr int kMaxIdWidth = 80;
  for (int c = StudyTreeModel::IdColumn; c < StudyTreeModel::ColumnCount; ++c) tree_->resizeColumnToContents(c);
  if (tree_->columnWidth(StudyTreeModel::IdColumn) > kMaxIdWidth)
    tree_->setColumnWidth(StudyTreeModel::IdColumn, kMaxIdWidth);
  if (!currentPath.isEmpty()) {
    // The same instance stays current, quietly: whoever was told of it is not told again.
    const QModelIndex again = treeModel_->indexOfPath(currentPath);
    if (again.isValid()) {
      restoring_ = true;
      tree_->scrollTo(again);
      tree_->setCurrentIndex(again);
      restoring_ = false;
    }
  }
}

void StudyBrowser::setTitle(const QString& title) {
  if (title == title_) return;
  title_ = title;
  setWindowTitle(title);
  for (QWidget* w = parentWidget(); w; w = w->parentWidget())
    if (auto* dock = qobject_cast<QDockWidget*>(w)) {
      dock->setWindowTitle(title);
      break;
    }
  Q_EMIT titleChanged(title);
}

void StudyBrowser::onTreeCurrentChanged(const QModelIndex& current) {
  const vm::TreeInstance* inst = treeModel_->instanceAt(current);
  if (!inst) return;
  const QString path = QString::fromStdString(inst->path);
  // The flat list follows, so that whoever watches its current row (the main window's panels) sees it.
  for (int r = 0; r < model_->rowCount(); ++r)
    if (model_->row(r)->path == path) {
      QSignalBlocker quiet(restoring_ ? table_->selectionModel() : nullptr);
      if (table_->currentIndex().row() != r) table_->setCurrentIndex(model_->index(r, 0));
      break;
    }
  if (!restoring_) Q_EMIT instanceSelected(path, treeModel_->modalityAt(current));
}

void StudyBrowser::onTreeDoubleClicked(const QModelIndex& index) {
  if (const vm::TreeInstance* inst = treeModel_->instanceAt(index)) {
    Q_EMIT openRequested(QString::fromStdString(inst->path));
    return;
  }
  const QModelIndex first = index.sibling(index.row(), 0);
  if (treeModel_->rowCount(first) > 0) tree_->setExpanded(first, !tree_->isExpanded(first));
}

}  // namespace e2e::ui
