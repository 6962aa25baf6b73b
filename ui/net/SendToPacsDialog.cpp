#include "net/SendToPacsDialog.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "db/database.h"
#include "common/person_name.h"

namespace e2e::ui {

SendToPacsDialog::SendToPacsDialog(const std::vector<std::string>& files, const QString& what, QWidget* parent)
    : QDialog(parent), files_(files) {
  setWindowTitle(QStringLiteral("Send to PACS"));
  settings_ = NetworkSettings::load();
  auto* lay = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  auto* whatLabel = new QLabel(what, this);
  whatLabel->setWordWrap(true);
  form->addRow(QStringLiteral("Study:"), whatLabel);
  peer_ = new QComboBox(this);
  for (const PacsPeer& p : settings_.peers) peer_->addItem(p.label());
  form->addRow(QStringLiteral("To:"), peer_);
  lay->addLayout(form);
  progress_ = new QProgressBar(this);
  progress_->setRange(0, std::max<int>(1, static_cast<int>(files_.size())));
  progress_->setValue(0);
  lay->addWidget(progress_);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  lay->addWidget(status_);
  auto* row = new QHBoxLayout;
  send_ = new QPushButton(QStringLiteral("Send"), this);
  cancel_ = new QPushButton(QStringLiteral("Cancel"), this);
  cancel_->setEnabled(false);
  auto* close = new QPushButton(QStringLiteral("Close"), this);
  connect(send_, &QPushButton::clicked, this, &SendToPacsDialog::send);
  connect(cancel_, &QPushButton::clicked, this, &SendToPacsDialog::cancel);
  connect(close, &QPushButton::clicked, this, &QDialog::reject);
  row->addWidget(send_);
  row->addWidget(cancel_);
  row->addStretch(1);
  row->addWidget(close);
  lay->addLayout(row);
  watch_ = new QFutureWatcher<std::pair<net::SendReport, QString>>(this);
  connect(watch_, &QFutureWatcher<std::pair<net::SendReport, QString>>::finished, this, &SendToPacsDialog::onDone);
  if (settings_.peers.isEmpty()) {
    setStatus(QStringLiteral("No PACS peer configured: add one in Settings > Network…"), true);
    send_->setEnabled(false);
  } else if (files_.empty()) {
    setStatus(QStringLiteral("Nothing to send: the study has no stored files."), true);
    send_->setEnabled(false);
  }
  resize(520, 200);
}

SendToPacsDialog::~SendToPacsDialog() {
  token_.cancel();
  watch_->waitForFinished();
}

std::vector<std::string> SendToPacsDialog::studyFilesOf(const QString& dbPath, const QString& path, QString* what) {
  db::Database d(dbPath.toStdString(), db::Database::Mode::ReadOnly);
  std::string studyUid;
  db::Filter byPath;
  byPath.text = path.toStdString();
  for (const auto& i : d.listInstances(byPath))
    if (i.path == byPath.text) studyUid = i.studyUid;
  std::vector<std::string> files;
  if (studyUid.empty()) return files;
  const auto sid = d.studyRowIdByUid(studyUid);
  if (!sid) return files;
  db::Filter f;
  f.studyRowId = *sid;
  const auto rows = d.listInstances(f);
  for (const auto& i : rows) files.push_back(i.path);
  if (what && !rows.empty())
    *what = QStringLiteral("%1 (%2), study date %3, %4 file(s)")
                .arg(QString::fromStdString(formatPersonName(rows.front().patientName)), QString::fromStdString(rows.front().patientId),
                     QString::fromStdString(rows.front().studyDate))
                .arg(files.size());
  return files;
}

QString SendToPacsDialog::statusText() const { return status_->text(); }

void SendToPacsDialog::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
}

void SendToPacsDialog::send() {
  const int i = peer_->currentIndex();
  if (busy_ || i < 0 || i >= settings_.peers.size() || files_.empty()) return;
  net::Association assoc;
  try {
    assoc = settings_.association(settings_.peers[i]);
  } catch (const std::exception& e) {
    setStatus(QString::fromStdString(e.what()), true);
    return;
  }
  busy_ = true;
  send_->setEnabled(false);
  cancel_->setEnabled(true);
  token_ = job::CancelToken();
  setStatus(QStringLiteral("Sending %1 file(s) to %2…").arg(files_.size()).arg(peer_->currentText()), false);
  const job::CancelToken cancel = token_;
  const std::vector<std::string> files = files_;
  watch_->setFuture(QtConcurrent::run([this, assoc, files, cancel] {
    std::pair<net::SendReport, QString> out;
    try {
      out.first = net::send(assoc, net::SendRequest{files}, cancel, [this](const net::SendProgress& p) {
        QMetaObject::invokeMethod(this, [this, p] { progress_->setValue(p.done); }, Qt::QueuedConnection);
      });
    } catch (const net::NetError& e) {
      out.second = QStringLiteral("%1: %2").arg(QString::fromLatin1(net::toString(e.kind())), QString::fromStdString(e.what()));
    } catch (const std::exception& e) {
      out.second = QString::fromStdString(e.what());
    }
    return out;
  }));
}

void SendToPacsDialog::onDone() {
  const auto out = watch_->result();
  report_ = out.first;
  busy_ = false;
  send_->setEnabled(true);
  cancel_->setEnabled(false);
  QString text;
  bool ok = false;
  if (!out.second.isEmpty()) {
    text = QStringLiteral("Send failed: ") + out.second;
  } else {
    ok = report_.ok();
    text = QStringLiteral("Send %1: sent %2 of %3, failed %4")
               .arg(report_.cancelled ? QStringLiteral("cancelled") : QStringLiteral("finished"))
               .arg(report_.sent).arg(files_.size()).arg(report_.failures.size());
    if (!report_.failures.empty())
      text += QStringLiteral("\nFirst failure: ") + QString::fromStdString(report_.failures.front().message);
    if (ok) progress_->setValue(progress_->maximum());
  }
  setStatus(text, !ok);
  Q_EMIT logMessage(text, !ok);
  Q_EMIT sendFinished(ok, text);
}

void SendToPacsDialog::cancel() {
  if (busy_) token_.cancel();
}

}  // namespace e2e::ui
