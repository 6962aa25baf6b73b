#include "net/ReceivedObjectsView.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "db/database.h"
#include "io/reader.h"
#include "common/person_name.h"

namespace e2e::ui {

ReceivedObjectsView::ReceivedObjectsView(QWidget* parent) : QWidget(parent) {
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  table_ = new QTableWidget(0, NumColumns, this);
  table_->setHorizontalHeaderLabels({QStringLiteral("Time"), QStringLiteral("Calling AE"), QStringLiteral("Patient"),
                                     QStringLiteral("SOP class"), QStringLiteral("Result")});
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->verticalHeader()->hide();
  table_->setWordWrap(false);
  table_->horizontalHeader()->setStretchLastSection(true);
  lay->addWidget(table_);
  auto* row = new QHBoxLayout;
  summary_ = new QLabel(this);
  row->addWidget(summary_, 1);
  auto* clearBtn = new QPushButton(QStringLiteral("Clear list"), this);
  connect(clearBtn, &QPushButton::clicked, this, &ReceivedObjectsView::clear);
  row->addWidget(clearBtn);
  lay->addLayout(row);
  updateSummary();
}

int ReceivedObjectsView::count() const { return table_->rowCount(); }

QString ReceivedObjectsView::patientOf(const net::StoreResult& r) {
  // The importer's rows say whose object it is (objects it does not read, e.g. PDF, have none).
  if (dbPath_.isEmpty() || r.sopInstanceUid.empty()) return {};
  const QString study = QString::fromStdString(r.studyUid);
  if (auto it = patients_.constFind(study); it != patients_.constEnd() && !study.isEmpty()) return *it;
  try {
    db::Database d(dbPath_.toStdString(), db::Database::Mode::ReadOnly);
    if (auto i = d.instanceByUid(r.sopInstanceUid)) {
      const QString text = QStringLiteral("%1 (%2)").arg(QString::fromStdString(formatPersonName(i->patientName)),
                                                         QString::fromStdString(i->patientId));
      if (!study.isEmpty()) patients_.insert(study, text);
      return text;
    }
  } catch (const std::exception&) {
    // No database yet or being written: the patient column stays empty, the log has the event.
  }
  return {};
}

void ReceivedObjectsView::addEvent(const net::ScpEvent& e) {
  if (e.type == net::ScpEvent::Type::AssociationRefused) {
    ++refused_;
    updateSummary();
    return;
  }
  if (e.type != net::ScpEvent::Type::ObjectStored && e.type != net::ScpEvent::Type::ObjectAborted) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.time.time_since_epoch()).count();
  const net::StoreResult& r = e.object;
  QString result = e.type == net::ScpEvent::Type::ObjectAborted ? QStringLiteral("Aborted")
                                                                : QString::fromLatin1(net::toString(r.outcome));
  if (!result.isEmpty()) result[0] = result[0].toUpper();  // "Added", "Skipped (already stored)"
  if (!r.message.empty()) result += QStringLiteral(": ") + QString::fromStdString(r.message);
  else if (!e.message.empty()) result += QStringLiteral(": ") + QString::fromStdString(e.message);
  QString sop = r.sopClassUid.empty() ? QString() : QString::fromStdString(sopClassName(r.sopClassUid));
  if (sop.isEmpty()) sop = QString::fromStdString(r.sopClassUid);
  const QStringList cells = {QDateTime::fromMSecsSinceEpoch(ms).toString(QStringLiteral("HH:mm:ss")),
                             QStringLiteral("%1@%2").arg(QString::fromStdString(e.callingAet), QString::fromStdString(e.peerHost)),
                             patientOf(r), sop, result};
  const int n = table_->rowCount();
  table_->insertRow(n);
  for (int c = 0; c < NumColumns; ++c) {
    auto* item = new QTableWidgetItem(cells[c]);
    if (c == SopClass) item->setToolTip(QString::fromStdString(r.sopClassUid));
    if (c == Result) item->setToolTip(QString::fromStdString(r.path));
    if (c == Result && !r.accepted()) item->setForeground(Qt::red);
    table_->setItem(n, c, item);
  }
  if (n < 200) table_->resizeColumnsToContents();  // later rows keep the widths (cost)
  table_->scrollToBottom();
  updateSummary();
}

void ReceivedObjectsView::clear() {
  table_->setRowCount(0);
  refused_ = 0;
  updateSummary();
}

void ReceivedObjectsView::updateSummary() {
  summary_->setText(QStringLiteral("%1 object(s) received, %2 association(s) refused").arg(table_->rowCount()).arg(refused_));
}

}  // namespace e2e::ui
