#include "StudyBrowser.h"

#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QHBoxLayout>
#include <QTableView>
#include <QVBoxLayout>

#ifdef E2E_HAVE_DB
#include "db/database.h"
#endif

namespace e2e::ui {

InstanceTableModel::InstanceTableModel(QObject* parent) : QAbstractTableModel(parent) {}
int InstanceTableModel::rowCount(const QModelIndex& p) const { return p.isValid() ? 0 : static_cast<int>(rows_.size()); }
int InstanceTableModel::columnCount(const QModelIndex& p) const { return p.isValid() ? 0 : 6; }

QVariant InstanceTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  if (role == Qt::ToolTipRole) return r.path;
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case 0: return r.patientName;
    case 1: return r.patientId;
    case 2: return r.studyDate;
    case 3: return r.modality;
    case 4: return r.format;
    case 5: return QFileInfo(r.path).fileName();
  }
  return {};
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

QString InstanceTableModel::load(const QString& dbPath, const QString& text) {
#ifdef E2E_HAVE_DB
  try {
    if (!QFileInfo::exists(dbPath)) {
      setRows({});
      return QStringLiteral("No study database yet (%1). Import files to fill it.").arg(dbPath);
    }
    db::Database database(dbPath.toStdString(), db::Database::Mode::ReadOnly);
    db::Filter f;
    f.text = text.toStdString();
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
#else
  (void)dbPath;
  (void)text;
  setRows({});
  return QStringLiteral("The study database is not part of this build.");
#endif
}

bool StudyBrowser::databaseAvailable() {
#ifdef E2E_HAVE_DB
  return true;
#else
  return false;
#endif
}

StudyBrowser::StudyBrowser(QWidget* parent) : QWidget(parent) {
  model_ = new InstanceTableModel(this);
  filter_ = new QLineEdit(this);
  filter_->setPlaceholderText(QStringLiteral("Filter: patient name or ID"));
  auto* refreshBtn = new QPushButton(QStringLiteral("Refresh"), this);
  table_ = new QTableView(this);
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  auto* top = new QHBoxLayout;
  top->addWidget(filter_, 1);
  top->addWidget(refreshBtn);
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(2, 2, 2, 2);
  v->addLayout(top);
  v->addWidget(table_, 1);
  v->addWidget(status_);
  connect(refreshBtn, &QPushButton::clicked, this, &StudyBrowser::refresh);
  connect(filter_, &QLineEdit::returnPressed, this, &StudyBrowser::refresh);
  connect(table_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    if (const auto* r = model_->row(i.row())) Q_EMIT openRequested(r->path);
  });
  refresh();
}

void StudyBrowser::refresh() {
#ifdef E2E_HAVE_DB
  const QString path = QString::fromStdString(db::Database::defaultPath());
#else
  const QString path;
#endif
  const QString err = model_->load(path, filter_->text());
  status_->setText(err.isEmpty() ? QStringLiteral("%1 objects in %2").arg(model_->rowCount()).arg(path) : err);
}

}  // namespace e2e::ui
