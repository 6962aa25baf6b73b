#include "net/QueryPacsDialog.h"
#include "common/person_name.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace e2e::ui {

namespace {
constexpr int kStudyRole = Qt::UserRole, kSeriesRole = Qt::UserRole + 1;  // indices (the tree may be sorted)
QString q(const std::string& s) { return QString::fromStdString(s); }
QString count(int n) { return n < 0 ? QString() : QString::number(n); }
// "John^Doe" -> "John Doe" for display.
QString personName(const std::string& s) { return QString::fromStdString(formatPersonName(s)); }
}  // namespace

QueryPacsDialog::QueryPacsDialog(const QString& dbPath, QWidget* parent) : QDialog(parent), dbPath_(dbPath) {
  setWindowTitle(QStringLiteral("Query PACS"));
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(buildQueryForm());
  results_ = new QTreeWidget(this);
  results_->setColumnCount(NumColumns);
  results_->setHeaderLabels({QStringLiteral("Patient / series"), QStringLiteral("ID"), QStringLiteral("Birth date"),
                             QStringLiteral("Study date"), QStringLiteral("Description"), QStringLiteral("Modalities"),
                             QStringLiteral("#Series"), QStringLiteral("#Instances")});
  results_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  results_->setSelectionBehavior(QAbstractItemView::SelectRows);
  results_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  results_->setRootIsDecorated(true);
  results_->header()->setStretchLastSection(true);
  connect(results_, &QTreeWidget::itemExpanded, this, [this](QTreeWidgetItem* item) {
    const int i = item->data(0, kStudyRole).toInt();
    if (!item->parent() && series_.count(i) == 0) loadSeries(i);
  });
  lay->addWidget(results_, 1);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, 100);
  progress_->setValue(0);
  lay->addWidget(progress_);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  lay->addWidget(status_);
  lay->addWidget(buildButtons());
  searchWatch_ = new QFutureWatcher<Outcome>(this);
  retrieveWatch_ = new QFutureWatcher<Outcome>(this);
  seriesWatch_ = new QFutureWatcher<Outcome>(this);
  connect(searchWatch_, &QFutureWatcher<Outcome>::finished, this, &QueryPacsDialog::onSearchDone);
  connect(retrieveWatch_, &QFutureWatcher<Outcome>::finished, this, &QueryPacsDialog::onRetrieveDone);
  connect(seriesWatch_, &QFutureWatcher<Outcome>::finished, this, &QueryPacsDialog::onSeriesDone);
  reloadPeers();
  resize(980, 620);
}

QueryPacsDialog::~QueryPacsDialog() {
  // The background work captures `this` (progress): stop it before the widgets go.
  token_.cancel();
  searchWatch_->waitForFinished();
  retrieveWatch_->waitForFinished();
  seriesWatch_->waitForFinished();
}

QWidget* QueryPacsDialog::buildQueryForm() {
  auto* w = new QWidget(this);
  auto* form = new QFormLayout(w);
  form->setContentsMargins(0, 0, 0, 0);
  peer_ = new QComboBox(w);
  form->addRow(QStringLiteral("PACS:"), peer_);
  auto* row1 = new QHBoxLayout;
  patientId_ = new QLineEdit(w);
  patientId_->setPlaceholderText(QStringLiteral("Patient ID (* ? wildcards)"));
  patientName_ = new QLineEdit(w);
  patientName_->setPlaceholderText(QStringLiteral("Patient name, e.g. DOE* (* ? wildcards)"));
  row1->addWidget(patientId_);
  row1->addWidget(patientName_);
  form->addRow(QStringLiteral("Patient:"), row1);
  auto* row2 = new QHBoxLayout;
  dateFrom_ = new QLineEdit(w);
  dateFrom_->setPlaceholderText(QStringLiteral("from YYYYMMDD"));
  dateTo_ = new QLineEdit(w);
  dateTo_->setPlaceholderText(QStringLiteral("to YYYYMMDD"));
  modality_ = new QComboBox(w);
  modality_->addItems({QStringLiteral("Any"), QStringLiteral("ECG"), QStringLiteral("US")});
  accession_ = new QLineEdit(w);
  accession_->setPlaceholderText(QStringLiteral("Accession number"));
  level_ = new QComboBox(w);
  level_->addItem(QStringLiteral("Study"), static_cast<int>(net::QueryLevel::Study));
  level_->addItem(QStringLiteral("Patient"), static_cast<int>(net::QueryLevel::Patient));
  row2->addWidget(dateFrom_);
  row2->addWidget(dateTo_);
  row2->addWidget(new QLabel(QStringLiteral("Modality:"), w));
  row2->addWidget(modality_);
  row2->addWidget(accession_);
  row2->addWidget(new QLabel(QStringLiteral("Level:"), w));
  row2->addWidget(level_);
  form->addRow(QStringLiteral("Study date:"), row2);
  for (QLineEdit* e : {patientId_, patientName_, dateFrom_, dateTo_, accession_})
    connect(e, &QLineEdit::returnPressed, this, &QueryPacsDialog::search);
  return w;
}

QWidget* QueryPacsDialog::buildButtons() {
  auto* w = new QWidget(this);
  auto* row = new QHBoxLayout(w);
  row->setContentsMargins(0, 0, 0, 0);
  search_ = new QPushButton(QStringLiteral("Search"), w);
  search_->setDefault(true);
  retrieve_ = new QPushButton(QStringLiteral("Retrieve selected"), w);
  retrieve_->setToolTip(QStringLiteral("C-GET of the selected studies and series (expand a study to see its series)"));
  retrieve_->setEnabled(false);
  cancel_ = new QPushButton(QStringLiteral("Cancel"), w);
  cancel_->setEnabled(false);
  auto* close = new QPushButton(QStringLiteral("Close"), w);
  connect(search_, &QPushButton::clicked, this, &QueryPacsDialog::search);
  connect(retrieve_, &QPushButton::clicked, this, &QueryPacsDialog::retrieveSelected);
  connect(cancel_, &QPushButton::clicked, this, &QueryPacsDialog::cancel);
  connect(close, &QPushButton::clicked, this, &QDialog::reject);
  row->addWidget(search_);
  row->addWidget(retrieve_);
  row->addWidget(cancel_);
  row->addStretch(1);
  row->addWidget(close);
  return w;
}

void QueryPacsDialog::reloadPeers() {
  settings_ = NetworkSettings::load();
  peer_->clear();
  for (const PacsPeer& p : settings_.peers) peer_->addItem(p.label());
  if (settings_.peers.isEmpty())
    setStatus(QStringLiteral("No PACS peer configured: add one in Settings > Network…"), true);
}

QString QueryPacsDialog::statusText() const { return status_->text(); }

void QueryPacsDialog::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
}

void QueryPacsDialog::setBusy(bool busy) {
  busy_ = busy;
  search_->setEnabled(!busy);
  retrieve_->setEnabled(!busy && level_->currentData().toInt() == static_cast<int>(net::QueryLevel::Study) && !rows_.empty());
  cancel_->setEnabled(busy);
}

bool QueryPacsDialog::association(net::Association& out) {
  const int i = peer_->currentIndex();
  if (i < 0 || i >= settings_.peers.size()) {
    setStatus(QStringLiteral("No PACS peer configured: add one in Settings > Network…"), true);
    return false;
  }
  try {
    out = settings_.association(settings_.peers[i]);
    return true;
  } catch (const std::exception& e) {
    setStatus(QString::fromStdString(e.what()), true);
    return false;
  }
}

bool QueryPacsDialog::buildRequest(net::FindRequest& r) {
  static const QRegularExpression date(QStringLiteral("^\\d{8}$"));
  QString dates[2];
  QLineEdit* edits[2] = {dateFrom_, dateTo_};
  for (int k = 0; k < 2; ++k) {
    dates[k] = edits[k]->text().trimmed().remove(QLatin1Char('-'));
    if (!dates[k].isEmpty() && !date.match(dates[k]).hasMatch()) {
      setStatus(QStringLiteral("Study date \"%1\" is not a date: use YYYYMMDD or YYYY-MM-DD.").arg(edits[k]->text()), true);
      return false;
    }
  }
  r.level = static_cast<net::QueryLevel>(level_->currentData().toInt());
  r.patientId = patientId_->text().trimmed().toStdString();
  r.patientName = patientName_->text().trimmed().toStdString();
  r.dateFrom = dates[0].toStdString();
  r.dateTo = dates[1].toStdString();
  r.modality = modality_->currentIndex() == 0 ? std::string() : modality_->currentText().toStdString();
  r.accession = accession_->text().trimmed().toStdString();
  return true;
}

void QueryPacsDialog::search() {
  if (busy_) return;
  net::Association assoc;
  net::FindRequest req;
  if (!association(assoc) || !buildRequest(req)) {
    Q_EMIT searchFinished(false, statusText());
    return;
  }
  token_ = job::CancelToken();
  setBusy(true);
  progress_->setRange(0, 0);  // busy indicator
  setStatus(QStringLiteral("Searching %1…").arg(peer_->currentText()), false);
  const job::CancelToken cancel = token_;
  searchWatch_->setFuture(QtConcurrent::run([assoc, req, cancel] {
    Outcome o;
    try {
      net::FindReport rep = net::find(assoc, req, cancel);
      o.rows = std::move(rep.rows);
      o.ok = rep.ok();
      o.text = rep.cancelled ? QStringLiteral("Search cancelled: %1 result(s) so far").arg(o.rows.size())
                             : QStringLiteral("%1 result(s): %2").arg(o.rows.size()).arg(q(rep.statusText));
    } catch (const net::NetError& e) {
      o.text = QStringLiteral("Search failed (%1): %2").arg(QString::fromLatin1(net::toString(e.kind())), q(e.what()));
    } catch (const std::exception& e) {
      o.text = QStringLiteral("Search failed: %1").arg(q(e.what()));
    }
    return o;
  }));
}

void QueryPacsDialog::onSearchDone() {
  const Outcome o = searchWatch_->result();
  progress_->setRange(0, 100);
  progress_->setValue(0);
  rows_ = o.rows;
  series_.clear();
  showRows(rows_);
  setBusy(false);
  setStatus(o.text, !o.ok);
  if (!o.ok) Q_EMIT logMessage(QStringLiteral("Query PACS: ") + o.text, true);
  Q_EMIT searchFinished(o.ok, o.text);
}

void QueryPacsDialog::showRows(const std::vector<net::FindRow>& rows) {
  results_->clear();
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    const net::FindRow& r = rows[static_cast<std::size_t>(i)];
    const bool patient = r.level == net::QueryLevel::Patient;
    const QStringList cells = {personName(r.patientName), q(r.patientId), q(r.birthDate), q(r.studyDate),
                               q(r.studyDescription), q(r.modalitiesInStudy),
                               patient ? QStringLiteral("%1 studies").arg(count(r.numStudies)) : count(r.numSeries),
                               count(r.numInstances)};
    auto* item = new QTreeWidgetItem(results_, cells);
    item->setData(0, kStudyRole, i);
    if (!r.studyUid.empty()) {
      item->setToolTip(0, QStringLiteral("Study UID ") + q(r.studyUid));
      if (!patient) item->setChildIndicatorPolicy(QTreeWidgetItem::ShowIndicator);  // series on expand
    }
  }
  for (int c = 0; c < NumColumns; ++c) results_->resizeColumnToContents(c);
  if (!rows.empty()) results_->setCurrentItem(results_->topLevelItem(0));
}

std::vector<net::FindRow> QueryPacsDialog::seriesOf(int studyRow) const {
  const auto it = series_.find(studyRow);
  return it == series_.end() ? std::vector<net::FindRow>{} : it->second;
}

void QueryPacsDialog::loadSeries(int studyRow) {
  if (busy_ || studyRow < 0 || studyRow >= static_cast<int>(rows_.size())) return;
  const net::FindRow& study = rows_[static_cast<std::size_t>(studyRow)];
  net::Association assoc;
  if (study.studyUid.empty() || study.level != net::QueryLevel::Study || !association(assoc)) {
    Q_EMIT seriesLoaded(false, statusText());
    return;
  }
  net::FindRequest req;
  req.level = net::QueryLevel::Series;
  req.studyUid = study.studyUid;
  token_ = job::CancelToken();
  setBusy(true);
  progress_->setRange(0, 0);
  setStatus(QStringLiteral("Listing the series of study %1…").arg(q(study.studyUid)), false);
  const job::CancelToken cancel = token_;
  seriesWatch_->setFuture(QtConcurrent::run([assoc, req, cancel, studyRow] {
    Outcome o;
    o.studyRow = studyRow;
    try {
      net::FindReport rep = net::find(assoc, req, cancel);
      o.rows = std::move(rep.rows);
      o.ok = rep.ok();
      o.text = QStringLiteral("%1 series: %2").arg(o.rows.size()).arg(q(rep.statusText));
    } catch (const std::exception& e) {
      o.text = QStringLiteral("Series search failed: %1").arg(q(e.what()));
    }
    return o;
  }));
}

void QueryPacsDialog::onSeriesDone() {
  const Outcome o = seriesWatch_->result();
  progress_->setRange(0, 100);
  progress_->setValue(0);
  setBusy(false);
  setStatus(o.text, !o.ok);
  if (o.ok) {
    series_[o.studyRow] = o.rows;
    showSeries(o.studyRow, o.rows);
  } else {
    Q_EMIT logMessage(QStringLiteral("Query PACS: ") + o.text, true);
  }
  Q_EMIT seriesLoaded(o.ok, o.text);
}

void QueryPacsDialog::showSeries(int studyRow, const std::vector<net::FindRow>& series) {
  QTreeWidgetItem* study = nullptr;
  for (int t = 0; t < results_->topLevelItemCount() && !study; ++t)
    if (results_->topLevelItem(t)->data(0, kStudyRole).toInt() == studyRow) study = results_->topLevelItem(t);
  if (!study) return;
  qDeleteAll(study->takeChildren());
  for (int j = 0; j < static_cast<int>(series.size()); ++j) {
    const net::FindRow& s = series[static_cast<std::size_t>(j)];
    const QString number = s.seriesNumber < 0 ? QString() : QString::number(s.seriesNumber);
    auto* item = new QTreeWidgetItem(study, QStringList{QStringLiteral("Series %1").arg(number).trimmed(), QString(),
                                                        QString(), QString(), q(s.seriesDescription), q(s.modality),
                                                        QString(), count(s.numInstances)});
    item->setData(0, kStudyRole, studyRow);
    item->setData(0, kSeriesRole, j);
    item->setToolTip(0, QStringLiteral("Series UID ") + q(s.seriesUid));
  }
  study->setChildIndicatorPolicy(series.empty() ? QTreeWidgetItem::DontShowIndicator : QTreeWidgetItem::ShowIndicator);
  study->setExpanded(true);
}

// The selected studies, and the selected series whose study is not selected too.
std::vector<net::RetrieveRequest> QueryPacsDialog::selectedRequests() const {
  std::vector<net::RetrieveRequest> out;
  const auto selected = results_->selectedItems();
  for (QTreeWidgetItem* item : selected) {
    const int i = item->data(0, kStudyRole).toInt();
    if (i < 0 || i >= static_cast<int>(rows_.size()) || rows_[static_cast<std::size_t>(i)].studyUid.empty()) continue;
    net::RetrieveRequest r;
    r.studyUid = rows_[static_cast<std::size_t>(i)].studyUid;
    if (item->parent()) {
      if (item->parent()->isSelected()) continue;
      const auto it = series_.find(i);
      const int j = item->data(0, kSeriesRole).toInt();
      if (it == series_.end() || j < 0 || j >= static_cast<int>(it->second.size())) continue;
      r.level = net::QueryLevel::Series;
      r.seriesUid = it->second[static_cast<std::size_t>(j)].seriesUid;
      if (r.seriesUid.empty()) continue;
    }
    out.push_back(r);
  }
  return out;
}

namespace {

// What a list of C-GETs brought, summed up.
net::RetrieveReport sumOf(const std::vector<net::RetrieveReport>& reps) {
  net::RetrieveReport sum;
  for (const auto& rep : reps) {
    sum.completed += rep.completed, sum.failed += rep.failed, sum.warning += rep.warning;
    sum.received += rep.received, sum.added += rep.added, sum.stored += rep.stored;
    sum.notImported += rep.notImported, sum.skipped += rep.skipped, sum.seconds += rep.seconds;
    sum.conflicts.insert(sum.conflicts.end(), rep.conflicts.begin(), rep.conflicts.end());
    sum.errors.insert(sum.errors.end(), rep.errors.begin(), rep.errors.end());
    sum.files.insert(sum.files.end(), rep.files.begin(), rep.files.end());
    sum.cancelled = sum.cancelled || rep.cancelled;
    if (rep.status != 0) sum.status = rep.status, sum.statusText = rep.statusText;
  }
  return sum;
}

QString retrieveText(const net::RetrieveReport& sum) {
  QString text = QStringLiteral("Retrieve %1: received %2 (added %3, already stored %4, not imported %5), failed %6, "
                                "conflicts %7, errors %8%9")
                     .arg(sum.cancelled ? QStringLiteral("cancelled") : QStringLiteral("finished"))
                     .arg(sum.received).arg(sum.added).arg(sum.skipped).arg(sum.notImported).arg(sum.failed)
                     .arg(sum.conflicts.size()).arg(sum.errors.size())
                     .arg(sum.statusText.empty() ? QString() : QStringLiteral(" (%1)").arg(q(sum.statusText)));
  if (!sum.errors.empty()) text += QStringLiteral("\nFirst error: ") + q(sum.errors.front().message);
  if (!sum.conflicts.empty()) text += QStringLiteral("\nFirst conflict: ") + q(sum.conflicts.front().message);
  return text;
}

}  // namespace

void QueryPacsDialog::retrieveSelected() {
  if (busy_) return;
  std::vector<net::RetrieveRequest> reqs = selectedRequests();
  net::Association assoc;
  if (reqs.empty()) {
    setStatus(QStringLiteral("Select one or more studies or series (study level) to retrieve."), true);
  } else if (dbPath_.isEmpty()) {
    setStatus(QStringLiteral("No study database is open: open one with File > Open database…"), true);
  } else if (association(assoc)) {
    for (auto& r : reqs) r.dbPath = dbPath_.toStdString();
    token_ = job::CancelToken();
    setBusy(true);
    progress_->setValue(0);
    setStatus(QStringLiteral("Retrieving %1 study(ies) / series from %2…").arg(reqs.size()).arg(peer_->currentText()),
              false);
    const job::CancelToken cancel = token_;
    retrieveWatch_->setFuture(QtConcurrent::run([this, assoc, reqs, cancel] {
      Outcome o;
      const int n = static_cast<int>(reqs.size());
      try {
        const auto reps = net::getMany(assoc, reqs, cancel, [this, n](std::size_t idx, const net::RetrieveProgress& p) {
          const int i = static_cast<int>(idx);
          QMetaObject::invokeMethod(this, [this, i, n, p] {
            const int done = p.completed + p.failed + p.warning, all = done + std::max(p.remaining, 0);
            const double frac = all > 0 ? static_cast<double>(done) / all : 0.0;
            progress_->setValue(static_cast<int>(100.0 * (i + frac) / n));
            setStatus(QStringLiteral("%1 of %2: %3 received, %4 remaining").arg(i + 1).arg(n).arg(p.received).arg(p.remaining),
                      false);
          }, Qt::QueuedConnection);
        });
        o.retrieve = sumOf(reps);
        o.retrieve.cancelled = o.retrieve.cancelled || cancel.cancelled();
        o.ok = o.retrieve.ok();
        o.text = retrieveText(o.retrieve);
      } catch (const net::NetError& e) {
        o.text = QStringLiteral("Retrieve failed (%1): %2").arg(QString::fromLatin1(net::toString(e.kind())), q(e.what()));
      } catch (const std::exception& e) {
        o.text = QStringLiteral("Retrieve failed: %1").arg(q(e.what()));
      }
      return o;
    }));
    return;
  }
  Q_EMIT retrieveFinished(false, statusText());
}

void QueryPacsDialog::onRetrieveDone() {
  const Outcome o = retrieveWatch_->result();
  lastRetrieve_ = o.retrieve;
  if (o.ok) progress_->setValue(100);
  setBusy(false);
  setStatus(o.text, !o.ok);
  Q_EMIT logMessage(QStringLiteral("Query PACS: ") + o.text, !o.ok);
  Q_EMIT retrieveFinished(o.ok, o.text);
}

void QueryPacsDialog::cancel() {
  if (!busy_) return;
  token_.cancel();  // C-CANCEL on the open association
  setStatus(QStringLiteral("Cancelling…"), false);
}

}  // namespace e2e::ui
