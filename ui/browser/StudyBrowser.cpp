#include "browser/StudyBrowser.h"

#include <QFileInfo>
#include <algorithm>
#include <QComboBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QHBoxLayout>
#include <QTableView>
#include <QVBoxLayout>

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
}  // namespace

QString InstanceTableModel::load(const QString& dbPath, const Query& q) {
  const QString from = normaliseDate(q.dateFrom), to = normaliseDate(q.dateTo);
  if (from.isNull() || to.isNull()) {
    setRows({});
    return QStringLiteral("Study date must be YYYYMMDD or YYYY-MM-DD.");
  }
  try {
    if (!QFileInfo::exists(dbPath)) {
      setRows({});
      return QStringLiteral("No study database yet (%1). Import files to fill it.").arg(dbPath);
    }
    db::Database database(dbPath.toStdString(), db::Database::Mode::ReadOnly);
    db::Filter f;
    f.text = q.text.trimmed().toStdString();
    f.modality = q.modality.trimmed().toStdString();
    f.dateFrom = from.toStdString();
    f.dateTo = to.toStdString();
    const QString label = q.label.trimmed();
    const int eq = label.indexOf(QLatin1Char('='));
    f.labelKey = (eq < 0 ? label : label.left(eq)).trimmed().toStdString();
    if (eq >= 0) f.labelValue = label.mid(eq + 1).trimmed().toStdString();
    f.limit = 5000;
    std::vector<Row> rows;
    for (const auto& i : database.listInstances(f))
      rows.push_back({QString::fromStdString(i.patientName).replace(QLatin1Char('^'), QLatin1Char(' ')).trimmed(),
                      QString::fromStdString(i.patientId), QString::fromStdString(i.studyDate),
                      QString::fromStdString(i.modality), QString::fromStdString(i.format), QString::fromStdString(i.path)});
    setRows(std::move(rows));
    return QString();
  } catch (const std::exception& e) {
    setRows({});
    return QString::fromStdString(e.what());
  }
}

StudyBrowser::StudyBrowser(QWidget* parent) : QWidget(parent) {
  model_ = new InstanceTableModel(this);
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(QStringLiteral("Filter: patient name or ID"));
  auto* refreshBtn = new QPushButton(QStringLiteral("Refresh"), this);
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
  table_ = new QTableView(this);
  table_->setModel(model_);
  table_->setSortingEnabled(true);
  table_->horizontalHeader()->setSortIndicatorShown(true);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* top = new QHBoxLayout;
  top->addWidget(filter_, 1);
  top->addWidget(refreshBtn);
  auto* second = new QHBoxLayout;
  second->addWidget(modality_);
  second->addWidget(dateFrom_);
  second->addWidget(dateTo_);
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(2, 2, 2, 2);
  v->addLayout(top);
  v->addLayout(second);
  v->addWidget(label_);
  v->addWidget(table_, 1);
  v->addWidget(status_);
  connect(refreshBtn, &QPushButton::clicked, this, &StudyBrowser::refresh);
  for (QLineEdit* e : {filter_, dateFrom_, dateTo_, label_})
    connect(e, &QLineEdit::returnPressed, this, &StudyBrowser::refresh);
  connect(modality_, qOverload<int>(&QComboBox::currentIndexChanged), this, &StudyBrowser::refresh);
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    if (const auto* r = model_->row(i.row())) Q_EMIT openRequested(r->path);
  });
  refresh();
}

void StudyBrowser::refresh() {
  const QString path = QString::fromStdString(db::Database::defaultPath());
  InstanceTableModel::Query q;
  q.text = filter_->text();
  q.modality = modality_->currentData().toString();
  q.dateFrom = dateFrom_->text();
  q.dateTo = dateTo_->text();
  q.label = label_->text();
  const QString err = model_->load(path, q);
  const auto* header = table_->horizontalHeader();
  if (header->sortIndicatorSection() >= 0 && header->sortIndicatorSection() < model_->columnCount())
    model_->sort(header->sortIndicatorSection(), header->sortIndicatorOrder());
  status_->setText(err.isEmpty() ? QStringLiteral("%1 objects in %2").arg(model_->rowCount()).arg(path) : err);
}

}  // namespace e2e::ui
