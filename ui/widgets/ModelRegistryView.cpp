#include "ModelRegistryView.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "db/database.h"
#include "viewmodel/training_card.h"

namespace e2e::ui {

namespace {
QString q(const std::string& s) { return QString::fromStdString(s); }
}  // namespace

ModelRegistryView::ModelRegistryView(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("ModelRegistryView"));
  table_ = new QTableWidget(0, ColCount);
  table_->setHorizontalHeaderLabels(
      {tr("Model"), tr("Version"), tr("Parent"), tr("Weights hash"), tr("Created"), tr("Active"), tr("Key metrics")});
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  card_ = new QPlainTextEdit;
  card_->setReadOnly(true);
  card_->setPlaceholderText(tr("Model card of the selected version"));
  QFont mono(QStringLiteral("monospace"));
  mono.setStyleHint(QFont::TypeWriter);
  card_->setFont(mono);
  activate_ = new QPushButton(tr("Activate"));
  activate_->setToolTip(tr("Use this version for new predictions of its model"));
  refresh_ = new QPushButton(tr("Refresh"));
  info_ = new QLabel;
  auto* bl = new QHBoxLayout;
  bl->addWidget(info_, 1);
  bl->addWidget(refresh_);
  bl->addWidget(activate_);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(table_);
  split->addWidget(card_);
  auto* l = new QVBoxLayout(this);
  l->addWidget(split, 1);
  l->addLayout(bl);
  connect(refresh_, &QPushButton::clicked, this, &ModelRegistryView::refresh);
  connect(activate_, &QPushButton::clicked, this, &ModelRegistryView::activateSelected);
  connect(table_, &QTableWidget::itemSelectionChanged, this, &ModelRegistryView::showCard);
  activate_->setEnabled(false);
}

void ModelRegistryView::setDatabasePath(const QString& path) {
  dbPath_ = path;
  refresh();
}

void ModelRegistryView::refresh() {
  QString selId, selVer;
  if (int r = table_->currentRow(); r >= 0 && table_->item(r, ColModel)) {
    selId = table_->item(r, ColModel)->text();
    selVer = table_->item(r, ColVersion)->text();
  }
  table_->setRowCount(0);
  cards_.clear();
  card_->clear();
  if (dbPath_.isEmpty() || !QFileInfo::exists(dbPath_)) {
    info_->setText(tr("no database"));
    return;
  }
  std::vector<e2e::db::ModelRow> models;
  try {
    e2e::db::Database db(dbPath_.toStdString());
    models = db.listModels();
  } catch (const std::exception& e) {
    info_->setText(tr("database error: %1").arg(QString::fromUtf8(e.what())));
    return;
  }
  table_->setRowCount(static_cast<int>(models.size()));
  int r = 0;
  for (const auto& m : models) {
    const QString cells[ColCount] = {q(m.modelId),
                                     q(m.version),
                                     m.parent.empty() ? QStringLiteral("\u2014") : q(m.parent),
                                     q(m.weightsHash.substr(0, 12)),
                                     q(m.createdAt),
                                     m.active ? QStringLiteral("\u2714 active") : QString(),
                                     q(e2e::vm::cardMetricsSummary(m.cardJson, 3))};
    for (int c = 0; c < ColCount; ++c) {
      auto* it = new QTableWidgetItem(cells[c]);
      if (c == ColHash) it->setToolTip(q(m.weightsHash));
      if (m.active) {
        QFont f = it->font();
        f.setBold(true);
        it->setFont(f);
      }
      table_->setItem(r, c, it);
    }
    cards_ << q(e2e::vm::prettyJson(m.cardJson));
    ++r;
  }
  table_->resizeColumnsToContents();
  info_->setText(tr("%1 model version(s)").arg(models.size()));
  if (!selId.isEmpty()) selectVersion(selId, selVer);
  activate_->setEnabled(table_->currentRow() >= 0);
}

int ModelRegistryView::rowOf(const QString& modelId, const QString& version) const {
  for (int r = 0; r < table_->rowCount(); ++r)
    if (table_->item(r, ColModel)->text() == modelId && table_->item(r, ColVersion)->text() == version) return r;
  return -1;
}

bool ModelRegistryView::selectVersion(const QString& modelId, const QString& version) {
  const int r = rowOf(modelId, version);
  if (r < 0) return false;
  table_->selectRow(r);
  table_->setCurrentCell(r, 0);
  return true;
}

void ModelRegistryView::showCard() {
  const int r = table_->currentRow();
  card_->setPlainText(r >= 0 && r < cards_.size() ? cards_[r] : QString());
  activate_->setEnabled(r >= 0);
}

bool ModelRegistryView::activateSelected() {
  const int r = table_->currentRow();
  if (r < 0 || dbPath_.isEmpty()) return false;
  const QString id = table_->item(r, ColModel)->text(), ver = table_->item(r, ColVersion)->text();
  try {
    e2e::db::Database db(dbPath_.toStdString());
    db.setActiveModel(id.toStdString(), ver.toStdString());
  } catch (const std::exception& e) {
    info_->setText(tr("cannot activate: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
  refresh();
  selectVersion(id, ver);
  Q_EMIT activated(id, ver);
  return true;
}

}  // namespace e2e::ui
