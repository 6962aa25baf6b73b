#include "net/NetworkSettingsDialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "net/scu.h"

namespace e2e::ui {

namespace {
enum PeerColumn { Name, Aet, Host, Port };

struct EchoOutcome {
  bool ok = false;
  QString text;
};
}  // namespace

NetworkSettingsDialog::NetworkSettingsDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(QStringLiteral("Network settings"));
  auto* lay = new QVBoxLayout(this);
  lay->addWidget(buildLocalGroup());
  lay->addWidget(buildPeersGroup(), 1);
  errors_ = new QLabel(this);
  errors_->setObjectName(QStringLiteral("networkErrors"));
  errors_->setStyleSheet(QStringLiteral("color: #b00020;"));
  errors_->setWordWrap(true);
  errors_->hide();
  lay->addWidget(errors_);
  auto* box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(box, &QDialogButtonBox::accepted, this, &NetworkSettingsDialog::accept);
  connect(box, &QDialogButtonBox::rejected, this, &QDialog::reject);
  lay->addWidget(box);
  setSettings(NetworkSettings::load());
  resize(640, 620);
}

QWidget* NetworkSettingsDialog::buildLocalGroup() {
  auto* g = new QGroupBox(QStringLiteral("This workstation (DICOM receiver)"), this);
  auto* form = new QFormLayout(g);
  aet_ = new QLineEdit(g);
  aet_->setPlaceholderText(QStringLiteral("1-16 characters, e.g. ECHO2ECG"));
  form->addRow(QStringLiteral("AE title:"), aet_);
  port_ = new QLineEdit(g);
  port_->setPlaceholderText(QStringLiteral("1-65535, e.g. 11112"));
  form->addRow(QStringLiteral("Port:"), port_);
  start_ = new QCheckBox(QStringLiteral("Start the receiver when the application starts"), g);
  form->addRow(start_);
  acceptAny_ = new QCheckBox(QStringLiteral("Accept any calling AE from any host"), g);
  form->addRow(acceptAny_);
  allowed_ = new QPlainTextEdit(g);
  allowed_->setPlaceholderText(QStringLiteral("One calling peer per line: AET@HOST (HOST: name, IP address or *)"));
  allowed_->setMaximumHeight(90);
  form->addRow(QStringLiteral("Allowed peers:"), allowed_);
  connect(acceptAny_, &QCheckBox::toggled, allowed_, [this](bool any) { allowed_->setEnabled(!any); });
  return g;
}

QWidget* NetworkSettingsDialog::buildPeersGroup() {
  auto* g = new QGroupBox(QStringLiteral("PACS peers (query / retrieve / send)"), this);
  auto* lay = new QVBoxLayout(g);
  peers_ = new QTableWidget(0, 4, g);
  peers_->setHorizontalHeaderLabels({QStringLiteral("Name"), QStringLiteral("AE title"), QStringLiteral("Host"), QStringLiteral("Port")});
  peers_->horizontalHeader()->setStretchLastSection(true);
  peers_->setSelectionBehavior(QAbstractItemView::SelectRows);
  peers_->setSelectionMode(QAbstractItemView::SingleSelection);
  peers_->verticalHeader()->hide();
  lay->addWidget(peers_);
  auto* buttons = new QHBoxLayout;
  auto* add = new QPushButton(QStringLiteral("Add"), g);
  connect(add, &QPushButton::clicked, this, [this] {
    addPeer({QStringLiteral("PACS"), QStringLiteral("ORTHANC"), QStringLiteral("localhost"), 4242});
    peers_->selectRow(peers_->rowCount() - 1);
  });
  auto* remove = new QPushButton(QStringLiteral("Remove"), g);
  connect(remove, &QPushButton::clicked, this, [this] {
    if (peers_->currentRow() >= 0) peers_->removeRow(peers_->currentRow());
  });
  verify_ = new QPushButton(QStringLiteral("Verify (C-ECHO)"), g);
  connect(verify_, &QPushButton::clicked, this, &NetworkSettingsDialog::verifySelected);
  buttons->addWidget(add);
  buttons->addWidget(remove);
  buttons->addStretch(1);
  buttons->addWidget(verify_);
  lay->addLayout(buttons);
  verifyResult_ = new QLabel(g);
  verifyResult_->setWordWrap(true);
  verifyResult_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  lay->addWidget(verifyResult_);
  return g;
}

void NetworkSettingsDialog::addPeer(const PacsPeer& p) {
  const int r = peers_->rowCount();
  peers_->insertRow(r);
  peers_->setItem(r, Name, new QTableWidgetItem(p.name));
  peers_->setItem(r, Aet, new QTableWidgetItem(p.aet));
  peers_->setItem(r, Host, new QTableWidgetItem(p.host));
  peers_->setItem(r, Port, new QTableWidgetItem(QString::number(p.port)));
}

PacsPeer NetworkSettingsDialog::peerAt(int row) const {
  auto text = [&](int c) { return peers_->item(row, c) ? peers_->item(row, c)->text().trimmed() : QString(); };
  PacsPeer p;
  p.name = text(Name);
  p.aet = text(Aet);
  p.host = text(Host);
  bool ok = false;
  p.port = text(Port).toInt(&ok);
  if (!ok) p.port = 0;  // reported as "not in 1..65535"
  return p;
}

void NetworkSettingsDialog::setSettings(const NetworkSettings& s) {
  aet_->setText(s.aet);
  port_->setText(QString::number(s.port));
  start_->setChecked(s.startReceiver);
  acceptAny_->setChecked(s.acceptAny);
  allowed_->setEnabled(!s.acceptAny);
  allowed_->setPlainText(s.allowed.join(QLatin1Char('\n')));
  peers_->setRowCount(0);
  for (const PacsPeer& p : s.peers) addPeer(p);
}

NetworkSettings NetworkSettingsDialog::settings(QStringList* problems) const {
  NetworkSettings s;
  s.aet = aet_->text().trimmed();
  bool ok = false;
  s.port = port_->text().trimmed().toInt(&ok);
  if (!ok) {
    if (problems) *problems << QStringLiteral("Port \"%1\" is not a number in 1..65535.").arg(port_->text());
    s.port = 11112;  // only the message above is reported for it
  }
  s.startReceiver = start_->isChecked();
  s.acceptAny = acceptAny_->isChecked();
  for (const QString& line : allowed_->toPlainText().split(QLatin1Char('\n')))
    if (!line.trimmed().isEmpty()) s.allowed << line.trimmed();
  for (int r = 0; r < peers_->rowCount(); ++r) s.peers << peerAt(r);
  return s;
}

bool NetworkSettingsDialog::validateAndSave() {
  QStringList problems;
  const NetworkSettings s = settings(&problems);
  problems << s.validate();
  if (!problems.isEmpty()) {
    errors_->setText(problems.join(QLatin1Char('\n')));
    errors_->show();
    return false;
  }
  errors_->clear();
  errors_->hide();
  s.save();
  Q_EMIT saved();
  return true;
}

QString NetworkSettingsDialog::errorText() const { return errors_->text(); }
QString NetworkSettingsDialog::verifyText() const { return verifyResult_->text(); }

void NetworkSettingsDialog::accept() {
  if (validateAndSave()) QDialog::accept();
}

void NetworkSettingsDialog::verifySelected() {
  if (verifying_) return;
  int row = peers_->currentRow();
  if (row < 0) row = 0;
  if (row >= peers_->rowCount()) {
    verifyResult_->setText(QStringLiteral("Add a PACS peer first."));
    return;
  }
  const PacsPeer peer = peerAt(row);
  net::Association assoc;
  try {
    assoc = settings().association(peer);
  } catch (const std::exception& e) {
    verifyResult_->setText(QStringLiteral("✗ ") + QString::fromStdString(e.what()));
    Q_EMIT verifyFinished(false, verifyResult_->text());
    return;
  }
  verifying_ = true;
  verify_->setEnabled(false);
  verifyResult_->setText(QStringLiteral("C-ECHO to %1…").arg(peer.label()));
  // The echo captures only values: the dialog may close while it runs.
  auto* watcher = new QFutureWatcher<EchoOutcome>(this);
  connect(watcher, &QFutureWatcher<EchoOutcome>::finished, this, [this, watcher, peer] {
    const EchoOutcome r = watcher->result();
    watcher->deleteLater();
    verifying_ = false;
    verify_->setEnabled(true);
    verifyResult_->setText((r.ok ? QStringLiteral("✓ %1: %2") : QStringLiteral("✗ %1: %2")).arg(peer.label(), r.text));
    Q_EMIT verifyFinished(r.ok, verifyResult_->text());
  });
  watcher->setFuture(QtConcurrent::run([assoc] {
    EchoOutcome out;
    try {
      const net::EchoReport rep = net::echo(assoc);
      out.ok = net::isDimseSuccess(rep.status);
      out.text = QStringLiteral("%1, round trip %2 ms")
                     .arg(QString::fromStdString(net::dimseStatusText(rep.status)))
                     .arg(rep.roundTripMs, 0, 'f', 1);
    } catch (const net::NetError& e) {
      out.text = QStringLiteral("%1: %2").arg(QString::fromLatin1(net::toString(e.kind())), QString::fromStdString(e.what()));
    } catch (const std::exception& e) {
      out.text = QString::fromStdString(e.what());
    }
    return out;
  }));
}

}  // namespace e2e::ui
