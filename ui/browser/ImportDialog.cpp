#include "browser/ImportDialog.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMutex>
#include <QMutexLocker>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>

#include "db/database.h"
#include "jobs/import/importer.h"

namespace e2e::ui {

struct ImportDialog::Shared {
  QMutex mu;
  importer::ImportProgress progress;
  bool fresh = false;
  job::CancelToken cancel;
};

ImportDialog::ImportDialog(const QString& dbPath, QWidget* parent) : QDialog(parent), dbPath_(dbPath) {
  setWindowTitle(QStringLiteral("Import into %1").arg(QFileInfo(dbPath).fileName()));
  bar_ = new QProgressBar(this);
  bar_->setRange(0, 100);
  bar_->setValue(0);
  status_ = new QLabel(QStringLiteral("Ready"), this);
  status_->setWordWrap(true);
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  table_ = new QTableWidget(0, 3, this);
  table_->setHorizontalHeaderLabels({QStringLiteral("Result"), QStringLiteral("File"), QStringLiteral("Reason / details")});
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSortingEnabled(false);
  cancel_ = new QPushButton(QStringLiteral("Cancel"), this);
  cancel_->setEnabled(false);
  close_ = new QPushButton(QStringLiteral("Close"), this);
  auto* buttons = new QDialogButtonBox(this);
  buttons->addButton(cancel_, QDialogButtonBox::RejectRole);
  buttons->addButton(close_, QDialogButtonBox::AcceptRole);
  auto* v = new QVBoxLayout(this);
  v->addWidget(bar_);
  v->addWidget(status_);
  v->addWidget(summary_);
  v->addWidget(table_, 1);
  v->addWidget(buttons);
  connect(cancel_, &QPushButton::clicked, this, &ImportDialog::cancel);
  connect(close_, &QPushButton::clicked, this, [this] {
    if (!isRunning()) accept();
  });
  watcher_ = new QFutureWatcher<Outcome>(this);
  connect(watcher_, &QFutureWatcher<Outcome>::finished, this, &ImportDialog::onDone);
  poll_ = new QTimer(this);
  poll_->setInterval(100);  // the bar is updated at most 10 times a second
  connect(poll_, &QTimer::timeout, this, &ImportDialog::pollProgress);
  resize(900, 500);
}

ImportDialog::~ImportDialog() {
  if (isRunning()) {
    shared_->cancel.cancel();
    watcher_->disconnect(this);
    watcher_->waitForFinished();
  }
}

bool ImportDialog::isRunning() const { return watcher_->isRunning(); }

void ImportDialog::cancel() {
  if (!isRunning()) return;
  shared_->cancel.cancel();
  cancel_->setEnabled(false);
  status_->setText(QStringLiteral("Cancelling…"));
}

bool ImportDialog::start(const QStringList& paths) {
  if (isRunning()) return false;
  outcome_ = {};
  table_->setRowCount(0);
  summary_->clear();
  shared_ = std::make_shared<Shared>();
  bar_->setRange(0, 0);  // busy until the walk has counted the inputs
  bar_->setValue(0);
  status_->setText(QStringLiteral("Scanning %1…").arg(paths.join(QStringLiteral(", "))));
  cancel_->setEnabled(true);
  close_->setEnabled(false);
  importer::ImportOptions opts;
  for (const QString& p : paths) opts.paths.push_back(p.toStdString());
  opts.progressInterval = std::chrono::milliseconds(100);
  const std::string dbPath = dbPath_.toStdString();
  auto shared = shared_;
  Q_EMIT logMessage(QStringLiteral("Import of %1 into %2 started").arg(paths.join(QStringLiteral(", ")), dbPath_));
  watcher_->setFuture(QtConcurrent::run([shared, opts, dbPath]() -> Outcome {
    Outcome o;
    try {
      db::Database d(dbPath);  // one connection per thread
      const std::int64_t before = d.maxInstanceRowId();
      const importer::ImportReport r = importer::runImport(d, opts, shared->cancel, [shared](const importer::ImportProgress& p) {
        QMutexLocker lock(&shared->mu);
        shared->progress = p;
        shared->fresh = true;
      });
      o.cancelled = r.cancelled;
      o.ok = r.ok();
      o.summary = QString::fromStdString(importer::summary(r));
      o.added = r.added;
      o.skipped = r.skipped;
      o.unsupported = static_cast<qint64>(r.unsupported.size());
      o.conflicts = static_cast<qint64>(r.conflicts.size());
      o.errors = static_cast<qint64>(r.errors.size());
      o.warnings = static_cast<qint64>(r.warnings.size());
      auto add = [&](const char* kind, const std::vector<importer::ImportIssue>& v) {
        for (const auto& i : v) {
          QString reason = QString::fromStdString(i.message);
          if (!i.uid.empty()) reason += QStringLiteral(" (UID %1)").arg(QString::fromStdString(i.uid));
          o.rows.push_back({QString::fromLatin1(kind), QString::fromStdString(i.path), reason});
        }
      };
      add("error", r.errors);
      add("conflict", r.conflicts);
      add("unsupported", r.unsupported);
      add("warning", r.warnings);
      // Files stored by this run: instances with a row id above the largest one before it.
      for (const auto& i : d.instancesAfter(before, 100000))
        o.rows.push_back({QStringLiteral("added"), QString::fromStdString(i.path), QString::fromStdString(i.format)});
    } catch (const std::exception& e) {
      o.ok = false;
      o.error = QString::fromStdString(e.what());
      o.summary = QStringLiteral("Import failed: ") + o.error;
    }
    return o;
  }));
  poll_->start();
  return true;
}

void ImportDialog::pollProgress() {
  if (!shared_) return;
  importer::ImportProgress p;
  {
    QMutexLocker lock(&shared_->mu);
    if (!shared_->fresh) return;
    shared_->fresh = false;
    p = shared_->progress;
  }
  if (p.scanDone && p.filesFound > 0) {
    bar_->setRange(0, 100);
    bar_->setValue(static_cast<int>(100 * p.filesDone / p.filesFound));
  }
  status_->setText(QStringLiteral("%1 / %2%3 — added %4, skipped %5, unsupported %6, conflicts %7, errors %8\n%9")
                       .arg(p.filesDone)
                       .arg(p.filesFound)
                       .arg(p.scanDone ? QString() : QStringLiteral("+"))
                       .arg(p.added)
                       .arg(p.skipped)
                       .arg(p.unsupported)
                       .arg(p.conflicts)
                       .arg(p.errors)
                       .arg(QString::fromStdString(p.currentPath)));
}

void ImportDialog::onDone() {
  poll_->stop();
  outcome_ = watcher_->result();
  bar_->setRange(0, 100);
  bar_->setValue(outcome_.cancelled ? bar_->value() : (outcome_.error.isEmpty() ? 100 : bar_->value()));
  cancel_->setEnabled(false);
  close_->setEnabled(true);
  status_->setText(outcome_.cancelled ? QStringLiteral("Cancelled — files stored so far are kept.")
                                      : (outcome_.error.isEmpty() ? QStringLiteral("Done") : outcome_.error));
  fillReport();
  Q_EMIT logMessage(QStringLiteral("Import: ") + outcome_.summary);
  for (const auto& r : outcome_.rows)
    if (r.kind != QStringLiteral("added")) Q_EMIT logMessage(QStringLiteral("  %1: %2 — %3").arg(r.kind, r.path, r.reason));
  Q_EMIT importFinished(outcome_.ok, outcome_.summary);
}

void ImportDialog::fillReport() {
  summary_->setText(QStringLiteral("<b>Added %1</b>, skipped %2, unsupported %3, conflicts %4, errors %5, warnings %6%7")
                        .arg(outcome_.added)
                        .arg(outcome_.skipped)
                        .arg(outcome_.unsupported)
                        .arg(outcome_.conflicts)
                        .arg(outcome_.errors)
                        .arg(outcome_.warnings)
                        .arg(outcome_.cancelled ? QStringLiteral(" (cancelled)") : QString()));
  table_->setRowCount(static_cast<int>(outcome_.rows.size()));
  int i = 0;
  for (const auto& r : outcome_.rows) {
    auto* kind = new QTableWidgetItem(r.kind);
    if (r.kind == QStringLiteral("error") || r.kind == QStringLiteral("conflict")) kind->setForeground(QColor(190, 20, 20));
    else if (r.kind == QStringLiteral("added")) kind->setForeground(QColor(20, 130, 40));
    else if (r.kind == QStringLiteral("warning")) kind->setForeground(QColor(170, 110, 0));
    table_->setItem(i, 0, kind);
    auto* file = new QTableWidgetItem(QFileInfo(r.path).fileName());
    file->setToolTip(r.path);
    file->setData(Qt::UserRole, r.path);
    table_->setItem(i, 1, file);
    auto* reason = new QTableWidgetItem(r.reason);
    reason->setToolTip(r.reason);
    table_->setItem(i, 2, reason);
    ++i;
  }
  table_->resizeColumnToContents(0);
  table_->setColumnWidth(1, std::max(table_->columnWidth(1), 220));
}

}  // namespace e2e::ui
