#include "training/ModelRegistryView.h"

#include <algorithm>

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "db/database.h"
#include "jobs/JobRunner.h"
#include "training/ModelImportDialog.h"
#include "pipeline/embedding_model.h"
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
  activate_->setToolTip(tr("Use this version for new predictions of its model; an embedding model "
                           "(echo2ecg-pretrain) also re-embeds the database for retrieval"));
  refresh_ = new QPushButton(tr("Refresh"));
  import_ = new QPushButton(tr("Import…"));
  import_->setToolTip(tr("Import published weights (an Echo2ECG run, OTiS, EchoPrime, a bundle) as a model version"));
  info_ = new QLabel;
  info_->setWordWrap(true);
  progress_ = new QProgressBar;
  progress_->setObjectName(QStringLiteral("embedProgress"));
  progress_->setRange(0, 0);
  progress_->setVisible(false);
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setToolTip(tr("Stop the re-embedding job (what is done is kept)"));
  cancel_->setVisible(false);
  auto* bl = new QHBoxLayout;
  bl->addWidget(info_, 1);
  bl->addWidget(progress_);
  bl->addWidget(cancel_);
  bl->addWidget(import_);
  bl->addWidget(refresh_);
  bl->addWidget(activate_);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(table_);
  split->addWidget(card_);
  auto* l = new QVBoxLayout(this);
  l->addWidget(split, 1);
  l->addLayout(bl);
  connect(refresh_, &QPushButton::clicked, this, &ModelRegistryView::refresh);
  connect(import_, &QPushButton::clicked, this, &ModelRegistryView::openImportDialog);
  connect(activate_, &QPushButton::clicked, this, &ModelRegistryView::activateSelected);
  connect(table_, &QTableWidget::itemSelectionChanged, this, &ModelRegistryView::showCard);
  connect(cancel_, &QPushButton::clicked, this, &ModelRegistryView::cancelEmbedding);
  activate_->setEnabled(false);

  job_ = new CliJob(this);
  connect(job_, &CliJob::line, this, [this](const QString& l) {
    JobProgress p;
    if (parseJobProgress(l, &p)) {
      progress_->setRange(0, std::max(1, p.total));
      progress_->setValue(p.done);
      progress_->setFormat(QStringLiteral("%1 %v/%m").arg(p.stage == QStringLiteral("ecg") ? tr("ECG") : tr("echo loops")));
      return;
    }
    if (!l.startsWith(QLatin1Char('{'))) Q_EMIT logMessage(l);
  });
  connect(job_, &CliJob::finished, this, [this](bool ok, const QString& msg) {
    progress_->setVisible(false);
    cancel_->setVisible(false);
    const QString id = embedding_.section(QLatin1Char(':'), 0, -2), ver = embedding_.section(QLatin1Char(':'), -1);
    if (ok) info_->setText(tr("Embeddings of %1 are up to date; retrieval uses them.").arg(embedding_));
    else if (job_->finishedWithProblems())
      info_->setText(tr("Embeddings of %1 are stored; %2 file(s) could not be read and are left out (see the log): %3")
                         .arg(embedding_)
                         .arg(job_->errorLines().size())
                         .arg(job_->errorLines().value(0)));
    else if (cancelled_)
      info_->setText(tr("Re-embedding with %1 cancelled (what was done is kept; embed again to finish).").arg(embedding_));
    else info_->setText(tr("Re-embedding with %1 failed: %2").arg(embedding_, msg));
    updateButtons();
    Q_EMIT logMessage(msg);
    Q_EMIT embeddingFinished(ok, id, ver, msg);
  });
}

bool ModelRegistryView::isEmbedding() const { return job_ && job_->isRunning(); }

void ModelRegistryView::updateButtons() { activate_->setEnabled(table_->currentRow() >= 0 && !isEmbedding()); }

bool ModelRegistryView::isEmbeddingModel(const QString& modelId, const QString& version) const {
  if (dbPath_.isEmpty() || !QFileInfo::exists(dbPath_)) return false;
  try {
    e2e::db::Database db(dbPath_.toStdString(), e2e::db::Database::Mode::ReadOnly);
    e2e::pipeline::resolveEmbeddingModel(db, (modelId + QLatin1Char(':') + version).toStdString(), false);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool ModelRegistryView::startEmbedding(const QString& modelId, const QString& version) {
  if (isEmbedding() || dbPath_.isEmpty()) return false;
  embedding_ = modelId + QLatin1Char(':') + version;
  cancelled_ = false;
  progress_->setRange(0, 0);  // busy until the first progress line
  progress_->setVisible(true);
  cancel_->setVisible(true);
  cancel_->setEnabled(true);
  info_->setText(tr("Re-embedding the database with %1 (retrieval shows its results when done)…").arg(embedding_));
  activate_->setEnabled(false);
  if (!job_->start({QStringLiteral("embed"), QStringLiteral("--db"), dbPath_, QStringLiteral("--model"), embedding_,
                    QStringLiteral("--json-progress")},
                   cli_))
    return false;
  Q_EMIT embeddingStarted(modelId, version);
  return true;
}

void ModelRegistryView::cancelEmbedding() {
  if (!isEmbedding()) return;
  cancelled_ = true;
  cancel_->setEnabled(false);
  info_->setText(tr("Cancelling the re-embedding…"));
  job_->cancel();
}

ModelImportDialog* ModelRegistryView::openImportDialog() {
  auto* dlg = new ModelImportDialog(dbPath_, this);
  dlg->setAttribute(Qt::WA_DeleteOnClose);
  dlg->setCliProgram(cli_);
  connect(dlg, &ModelImportDialog::logMessage, this, &ModelRegistryView::logMessage);
  connect(dlg, &ModelImportDialog::importFinished, this, [this](bool ok, const QString& id, const QString& ver) {
    if (!ok) return;
    refresh();
    selectVersion(id, ver);
  });
  dlg->show();
  return dlg;
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
    e2e::db::Database db(dbPath_.toStdString(), e2e::db::Database::Mode::Auto);  // viewing: read-only is fine
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
    cards_ << q(e2e::vm::prettyJson(m.cardJson) + "\n" + e2e::vm::cardTrustText(m.cardJson));
    ++r;
  }
  table_->resizeColumnsToContents();
  if (!isEmbedding()) info_->setText(tr("%1 model version(s)").arg(models.size()));
  if (!selId.isEmpty()) selectVersion(selId, selVer);
  updateButtons();
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
  updateButtons();
}

bool ModelRegistryView::activateSelected() {
  const int r = table_->currentRow();
  if (r < 0 || dbPath_.isEmpty() || isEmbedding()) return false;
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
  const QString keep = info_->text();
  Q_EMIT activated(id, ver);
  // An embedding model: its embeddings are (re)computed now; retrieval never falls back to the old ones.
  if (embedOnActivate_ && isEmbeddingModel(id, ver)) startEmbedding(id, ver);
  else info_->setText(keep);
  return true;
}

}  // namespace e2e::ui
