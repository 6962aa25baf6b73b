// ui/net in a real MainWindow on a temporary database: the background receiver (storescu sends
// real files; they reach the database, the study browser and the received-objects list; an
// unknown AE is refused and the status bar / log say so; a port in use is reported), File >
// Query PACS… against a real Orthanc (C-FIND fills the table with the right studies, C-GET
// brings them into the database with the progress at 100 %), Verify (C-ECHO) in Settings >
// Network…, and the settings validation.
#include <gtest/gtest.h>

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QSettings>
#include <QStatusBar>
#include <QTableWidget>
#include <QTreeWidget>
#include <QTemporaryDir>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include "app/MainWindow.h"
#include "browser/StudyBrowser.h"
#include "db/database.h"
#include "net/NetworkSettings.h"
#include "net/NetworkSettingsDialog.h"
#include "net/NetworkUi.h"
#include "net/QueryPacsDialog.h"
#include "net/ReceivedObjectsView.h"
#include "net/ReceiverService.h"
#include "net/SendToPacsDialog.h"
#include "net/scu.h"
#include "net_test_util.h"
#include "panels_test_util.h"

namespace {

using namespace e2e;
using test::OrthancServer;
using ui::NetworkSettings;

// Real files (tests/net/net_test_util.h): two ECG studies and two echo studies.
const std::vector<std::string> kPacsFiles = {test::kEcgHemo, test::kEcg12, test::kUsAloka, test::kUs1Uncr};

std::vector<db::InstanceRow> instancesIn(const QString& dbPath) {
  db::Database d(dbPath.toStdString(), db::Database::Mode::ReadOnly);
  return d.listInstances();
}

std::set<std::string> patientIdsIn(const QString& dbPath) {
  std::set<std::string> ids;
  for (const auto& i : instancesIn(dbPath)) ids.insert(i.patientId);
  return ids;
}

QString logText(ui::MainWindow& w) {
  auto* dock = w.findChild<QDockWidget*>(QStringLiteral("logDock"));
  auto* log = dock ? qobject_cast<QPlainTextEdit*>(dock->widget()) : nullptr;
  return log ? log->toPlainText() : QString();
}

void saveSettings(NetworkSettings s) { s.save(); }

class GuiNet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!OrthancServer::available()) return;
    orthanc_ = std::make_unique<OrthancServer>();
    std::vector<std::string> files;
    for (const auto& f : kPacsFiles) files.push_back(test::dataFile(f));
    net::Association a;
    a.ourAet = "E2ELOADER";
    a.peer = net::parsePeer(orthanc_->peer());
    const auto rep = net::send(a, net::SendRequest{files});
    loaded_ = rep.sent;
  }
  static void TearDownTestSuite() { orthanc_.reset(); }

  void SetUp() override {
    if (!OrthancServer::available()) GTEST_SKIP() << OrthancServer::kBinary << " is not installed (Debian package orthanc)";
    ASSERT_EQ(loaded_, static_cast<int>(kPacsFiles.size())) << "files sent to Orthanc";
    test::app();  // offscreen without a display: the main-window tests skip then (VTK needs X)
    QSettings().remove(QStringLiteral("network"));
    dbPath_ = tmp_.filePath(QStringLiteral("studies.db"));
    { db::Database d(dbPath_.toStdString()); }
    qputenv("E2E_DB", dbPath_.toUtf8());
    NetworkSettings s;
    s.aet = QStringLiteral("ECHO2ECG");
    s.port = test::freeTcpPort();
    s.allowed = {QStringLiteral("STORESCU@127.0.0.1")};
    s.peers = {{QStringLiteral("Test Orthanc"), QString::fromStdString(orthanc_->aet()), QStringLiteral("127.0.0.1"),
                orthanc_->dicomPort()}};
    s.save();
    settings_ = s;
  }
  void TearDown() override {
    qunsetenv("E2E_DB");
    QSettings().remove(QStringLiteral("network"));
  }

  test::ToolResult storescu(const QString& callingAet, const std::vector<std::string>& files) {
    std::string cmd = "storescu -aet " + callingAet.toStdString() + " -aec ECHO2ECG 127.0.0.1 " + std::to_string(settings_.port);
    for (const auto& f : files) cmd += " " + test::dataFile(f);
    return test::runTool(cmd);
  }

  static std::unique_ptr<OrthancServer> orthanc_;
  static int loaded_;
  QTemporaryDir tmp_;
  QString dbPath_;
  NetworkSettings settings_;
};
std::unique_ptr<OrthancServer> GuiNet::orthanc_;
#define NEED_DISPLAY() \
  if (!test::haveDisplay()) GTEST_SKIP() << "the main window needs an X display (run under xvfb-run)"
int GuiNet::loaded_ = 0;

}  // namespace

// Settings > DICOM receiver running: storescu's objects reach the database, the study browser and the
// received list; an AE that is not allowed is refused and the status bar / log say so; switching the
// database restarts the receiver on the new one; closing the window stops it.
TEST_F(GuiNet, ReceiverStoresObjectsRefusesUnknownAeAndFollowsTheDatabase) {
  NEED_DISPLAY();
  ui::MainWindow w;
  w.show();
  ASSERT_EQ(w.databasePath(), dbPath_);
  ui::NetworkUi* net = w.network();
  ASSERT_NE(net, nullptr);
  ui::ReceiverService* rx = net->receiver();
  EXPECT_EQ(net->statusLabel()->text(), QStringLiteral("Receiver off"));
  net->receiverAction()->trigger();  // Settings > DICOM receiver running
  ASSERT_GE(test::spinUntil([&] { return rx->state() != ui::ReceiverService::State::Starting; }), 0);
  ASSERT_EQ(rx->state(), ui::ReceiverService::State::Listening) << rx->errorText().toStdString();
  EXPECT_EQ(net->statusLabel()->text(), QStringLiteral("Receiving as ECHO2ECG:%1").arg(settings_.port));
  EXPECT_TRUE(net->receiverAction()->isChecked());

  auto r = storescu(QStringLiteral("STORESCU"), {test::kEcgHemo, test::kEcg12});
  EXPECT_EQ(r.rc, 0) << r.out;
  ui::ReceivedObjectsView* list = net->receivedView();
  ASSERT_GE(test::spinUntil([&] { return list->count() >= 2; }), 0);
  EXPECT_EQ(patientIdsIn(dbPath_), (std::set<std::string>{"123-654", "642341"}));
  QTableWidget* t = list->table();
  EXPECT_EQ(t->item(0, ui::ReceivedObjectsView::CallingAe)->text(), QStringLiteral("STORESCU@127.0.0.1"));
  EXPECT_TRUE(t->item(0, ui::ReceivedObjectsView::Patient)->text().contains(QStringLiteral("123-654")));
  EXPECT_TRUE(t->item(1, ui::ReceivedObjectsView::Patient)->text().contains(QStringLiteral("642341")));
  EXPECT_FALSE(t->item(0, ui::ReceivedObjectsView::SopClass)->text().isEmpty());
  EXPECT_TRUE(t->item(0, ui::ReceivedObjectsView::Result)->text().startsWith(QStringLiteral("Added")));
  // The study browser follows the database (DatabaseObserver).
  EXPECT_GE(test::spinUntil([&] { return w.studyBrowser()->model()->rowCount() == 2; }, 30000), 0);
  EXPECT_TRUE(logText(w).contains(QStringLiteral("Receiver: object STORESCU@127.0.0.1: ")));

  // An AE title that is not in the allow list: refused, nothing stored, and said so.
  r = storescu(QStringLiteral("INTRUDER"), {test::kUsAloka});
  EXPECT_NE(r.rc, 0) << r.out;
  ASSERT_GE(test::spinUntil([&] { return logText(w).contains(QStringLiteral("Receiver: association refused INTRUDER@127.0.0.1")); }), 0)
      << logText(w).toStdString();
  EXPECT_TRUE(w.statusBar()->currentMessage().contains(QStringLiteral("INTRUDER"))) << w.statusBar()->currentMessage().toStdString();
  EXPECT_EQ(list->count(), 2);
  EXPECT_EQ(patientIdsIn(dbPath_).size(), 2u);
  list->grab().save(test::screenshotPath(QStringLiteral("received_objects.png")));

  // Another database: the receiver restarts on it, what arrives now goes there.
  const QString other = tmp_.filePath(QStringLiteral("other.db"));
  w.setDatabase(other, false);
  ASSERT_GE(test::spinUntil([&] { return rx->state() != ui::ReceiverService::State::Starting; }), 0);
  ASSERT_EQ(rx->state(), ui::ReceiverService::State::Listening) << rx->errorText().toStdString();
  EXPECT_EQ(rx->options().dbPath, other.toStdString());
  r = storescu(QStringLiteral("STORESCU"), {test::kUsAloka});
  EXPECT_EQ(r.rc, 0) << r.out;
  ASSERT_GE(test::spinUntil([&] { return list->count() >= 3; }), 0);
  EXPECT_EQ(patientIdsIn(other), (std::set<std::string>{"98279"}));
  EXPECT_EQ(patientIdsIn(dbPath_).size(), 2u);

  w.close();  // stops the receiver: the port is free again
  EXPECT_EQ(rx->state(), ui::ReceiverService::State::Off);
  EXPECT_EQ(net->statusLabel()->text(), QStringLiteral("Receiver off"));
  EXPECT_FALSE(test::portAnswers(settings_.port));
}

// A port that is taken (Orthanc's): the status bar and the log say so, nothing crashes.
TEST_F(GuiNet, PortInUseIsReported) {
  NEED_DISPLAY();
  settings_.port = orthanc_->dicomPort();
  settings_.save();
  ui::MainWindow w;
  ui::NetworkUi* net = w.network();
  net->startReceiver();
  ASSERT_GE(test::spinUntil([&] { return net->receiver()->state() == ui::ReceiverService::State::Error; }), 0)
      << net->statusLabel()->text().toStdString();
  const QString status = net->statusLabel()->text();
  EXPECT_TRUE(status.startsWith(QStringLiteral("Receiver error: cannot listen on port %1").arg(settings_.port))) << status.toStdString();
  EXPECT_TRUE(status.contains(QStringLiteral("in use"))) << status.toStdString();
  EXPECT_TRUE(logText(w).contains(status)) << logText(w).toStdString();
  EXPECT_FALSE(net->receiverAction()->isChecked());
}

// File > Query PACS…: C-FIND with the dialog's fields lists the right studies; Retrieve selected
// (C-GET) brings them into the current database with the progress at 100 %; Send study to PACS sends one back.
TEST_F(GuiNet, QueryPacsFindsAndRetrievesStudies) {
  NEED_DISPLAY();
  ui::MainWindow w;
  w.show();
  QAction* queryAction = nullptr;
  for (QAction* a : w.menuBar()->actions().front()->menu()->actions())
    if (a->text() == QStringLiteral("&Query PACS…")) queryAction = a;
  ASSERT_NE(queryAction, nullptr) << "File > Query PACS…";
  queryAction->trigger();
  auto* dlg = w.findChild<ui::QueryPacsDialog*>();
  ASSERT_NE(dlg, nullptr);
  ASSERT_EQ(dlg->peerBox()->count(), 1);
  EXPECT_TRUE(dlg->peerBox()->currentText().startsWith(QStringLiteral("Test Orthanc (ORTHANC@127.0.0.1:")));
  auto search = [&] {
    dlg->search();
    EXPECT_GE(test::spinUntil([&] { return !dlg->busy(); }), 0);
    std::set<QString> ids;
    for (int r = 0; r < dlg->resultsTree()->topLevelItemCount(); ++r)
      ids.insert(dlg->resultsTree()->topLevelItem(r)->text(ui::QueryPacsDialog::PatientId));
    return ids;
  };
  dlg->patientIdEdit()->setText(QStringLiteral("123*"));
  ASSERT_EQ(search(), (std::set<QString>{QStringLiteral("123-654")})) << dlg->statusText().toStdString();
  QTreeWidget* t = dlg->resultsTree();
  EXPECT_EQ(t->topLevelItem(0)->text(ui::QueryPacsDialog::StudyDate), QStringLiteral("19991223"));
  EXPECT_EQ(t->topLevelItem(0)->text(ui::QueryPacsDialog::Patient), QStringLiteral("PATIENT, Test"));  // PN shown one way everywhere
  EXPECT_EQ(t->topLevelItem(0)->text(ui::QueryPacsDialog::Modalities), QStringLiteral("ECG"));
  EXPECT_EQ(t->topLevelItem(0)->text(ui::QueryPacsDialog::Instances), QStringLiteral("1"));

  dlg->patientIdEdit()->clear();
  dlg->modalityBox()->setCurrentText(QStringLiteral("ECG"));
  EXPECT_EQ(search(), (std::set<QString>{QStringLiteral("123-654"), QStringLiteral("642341")}));
  dlg->modalityBox()->setCurrentText(QStringLiteral("US"));
  EXPECT_EQ(search(), (std::set<QString>{QStringLiteral("98279"), QStringLiteral("13US1")}));
  dlg->modalityBox()->setCurrentIndex(0);  // any
  EXPECT_EQ(search().size(), 4u);

  dlg->dateFromEdit()->setText(QStringLiteral("2000-13"));
  search();
  EXPECT_TRUE(dlg->statusText().contains(QStringLiteral("is not a date"))) << dlg->statusText().toStdString();
  dlg->dateFromEdit()->setText(QStringLiteral("2000-01-01"));
  dlg->dateToEdit()->setText(QStringLiteral("20051231"));
  ASSERT_EQ(search(), (std::set<QString>{QStringLiteral("98279"), QStringLiteral("13US1")}));

  // Expanding a study lists its series (series-level C-FIND); one series is retrieved alone.
  QTreeWidgetItem* us1 = nullptr;
  for (int r = 0; r < t->topLevelItemCount(); ++r)
    if (t->topLevelItem(r)->text(ui::QueryPacsDialog::PatientId) == QStringLiteral("13US1")) us1 = t->topLevelItem(r);
  ASSERT_NE(us1, nullptr);
  bool seriesOk = false;
  auto conn = QObject::connect(dlg, &ui::QueryPacsDialog::seriesLoaded, [&](bool ok, const QString&) { seriesOk = ok; });
  us1->setExpanded(true);  // what clicking the arrow does
  ASSERT_GE(test::spinUntil([&] { return us1->childCount() > 0 && !dlg->busy(); }), 0) << dlg->statusText().toStdString();
  QObject::disconnect(conn);
  EXPECT_TRUE(seriesOk);
  ASSERT_EQ(us1->childCount(), 1);
  QTreeWidgetItem* series = us1->child(0);
  EXPECT_EQ(series->text(ui::QueryPacsDialog::Modalities), QStringLiteral("US"));
  EXPECT_EQ(series->text(ui::QueryPacsDialog::Instances), QStringLiteral("1"));
  EXPECT_TRUE(series->text(ui::QueryPacsDialog::Patient).startsWith(QStringLiteral("Series"))) << series->text(0).toStdString();
  test::saveShot(dlg, QStringLiteral("query_pacs.png"));  // a study expanded to its series
  const auto seriesRows = dlg->seriesOf(us1->data(0, Qt::UserRole).toInt());
  ASSERT_EQ(seriesRows.size(), 1u);
  EXPECT_FALSE(seriesRows[0].seriesUid.empty());
  t->clearSelection();
  series->setSelected(true);
  dlg->retrieveSelected();
  ASSERT_GE(test::spinUntil([&] { return !dlg->busy(); }), 0);
  EXPECT_EQ(dlg->lastRetrieve().received, 1) << dlg->statusText().toStdString();
  EXPECT_EQ(dlg->lastRetrieve().added, 1);
  EXPECT_EQ(patientIdsIn(dbPath_), (std::set<std::string>{"13US1"}));

  // Both studies (the expanded series with its study): one association, the series not twice.
  t->selectAll();
  dlg->retrieveSelected();
  ASSERT_GE(test::spinUntil([&] { return !dlg->busy(); }), 0);
  EXPECT_EQ(dlg->progressBar()->value(), 100) << dlg->statusText().toStdString();
  EXPECT_EQ(dlg->lastRetrieve().received, 2) << dlg->statusText().toStdString();
  EXPECT_EQ(dlg->lastRetrieve().added, 1);
  EXPECT_EQ(dlg->lastRetrieve().skipped, 1);
  EXPECT_EQ(patientIdsIn(dbPath_), (std::set<std::string>{"98279", "13US1"}));
  EXPECT_GE(test::spinUntil([&] { return w.studyBrowser()->model()->rowCount() == 2; }, 30000), 0);
  EXPECT_TRUE(logText(w).contains(QStringLiteral("Retrieve finished: received 2 (added 1, already stored 1"))) << logText(w).toStdString();

  // Again: already stored, nothing duplicated.
  dlg->retrieveSelected();
  ASSERT_GE(test::spinUntil([&] { return !dlg->busy(); }), 0);
  EXPECT_EQ(dlg->lastRetrieve().skipped, 2) << dlg->statusText().toStdString();
  EXPECT_EQ(instancesIn(dbPath_).size(), 2u);
  dlg->close();

  // File > Send study to PACS… for a stored instance: its study goes back by C-STORE.
  const auto stored = instancesIn(dbPath_);
  ASSERT_FALSE(stored.empty());
  ui::SendToPacsDialog* send = w.network()->openSendDialog(QString::fromStdString(stored.front().path));
  ASSERT_NE(send, nullptr);
  ASSERT_EQ(send->peerBox()->count(), 1);
  send->send();
  ASSERT_GE(test::spinUntil([&] { return !send->busy(); }), 0);
  EXPECT_EQ(send->lastReport().sent, 1) << send->statusText().toStdString();
  EXPECT_TRUE(send->lastReport().ok());
  EXPECT_EQ(send->progressBar()->value(), send->progressBar()->maximum());
  EXPECT_TRUE(send->statusText().startsWith(QStringLiteral("Send finished: sent 1 of 1, failed 0"))) << send->statusText().toStdString();
  send->close();
}

// Settings > Network…: Verify (C-ECHO) shows the round trip for Orthanc and the error for a
// port nobody listens on.
TEST_F(GuiNet, VerifyShowsRoundTripOrError) {
  ui::NetworkSettingsDialog dlg;
  ASSERT_EQ(dlg.peerTable()->rowCount(), 1);
  dlg.peerTable()->selectRow(0);
  dlg.verifySelected();
  ASSERT_GE(test::spinUntil([&] { return !dlg.verifying(); }), 0);
  EXPECT_TRUE(dlg.verifyText().contains(QStringLiteral("Success (0x0000), round trip"))) << dlg.verifyText().toStdString();
  dlg.addPeer({QStringLiteral("Nobody"), QStringLiteral("NOBODY"), QStringLiteral("127.0.0.1"), test::freeTcpPort()});
  dlg.peerTable()->selectRow(1);
  dlg.verifySelected();
  ASSERT_GE(test::spinUntil([&] { return !dlg.verifying(); }), 0);
  EXPECT_TRUE(dlg.verifyText().startsWith(QStringLiteral("✗ Nobody"))) << dlg.verifyText().toStdString();
  EXPECT_TRUE(dlg.verifyText().contains(QStringLiteral("unreachable: cannot connect"))) << dlg.verifyText().toStdString();
  dlg.show();
  test::saveShot(&dlg, QStringLiteral("network_settings.png"));
}

// A PACS that does not answer: the dialog says so (search and retrieve), nothing crashes.
TEST_F(GuiNet, QueryOfAnUnreachablePeerShowsTheError) {
  settings_.peers = {{QStringLiteral("Down"), QStringLiteral("DOWN"), QStringLiteral("127.0.0.1"), test::freeTcpPort()}};
  settings_.save();
  ui::QueryPacsDialog dlg(dbPath_);
  bool finished = false, ok = true;
  QObject::connect(&dlg, &ui::QueryPacsDialog::searchFinished, [&](bool o, const QString&) { finished = true, ok = o; });
  dlg.search();
  ASSERT_GE(test::spinUntil([&] { return finished; }), 0);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(dlg.statusText().startsWith(QStringLiteral("Search failed (unreachable): cannot connect to DOWN@127.0.0.1:")))
      << dlg.statusText().toStdString();
  EXPECT_EQ(dlg.resultsTree()->topLevelItemCount(), 0);
  dlg.retrieveSelected();  // nothing selected
  EXPECT_TRUE(dlg.statusText().contains(QStringLiteral("Select one or more studies"))) << dlg.statusText().toStdString();
}

// Stopping the receiver (Receive off, another database, closing the window) while a peer holds an
// association open and idle returns at once instead of after the peer's DIMSE timeout.
TEST(ReceiverServiceStop, ReturnsWhileAPeerHoldsAnAssociationOpen) {
  test::app();
  QTemporaryDir tmp;
  ui::ReceiverService rx;
  net::ScpOptions o;
  o.aet = "E2EGUISTOP";
  o.port = test::freeTcpPort();
  o.allowAny = true;
  o.dbPath = tmp.filePath(QStringLiteral("r.db")).toStdString();
  o.dimseTimeoutS = 3600;  // a stop that waited for the peer would hang for an hour
  rx.start(o);
  ASSERT_GE(test::spinUntil([&] { return rx.state() == ui::ReceiverService::State::Listening; }), 0)
      << rx.errorText().toStdString();
  DcmSCU scu;
  scu.setAETitle("IDLEPEER");
  scu.setPeerAETitle(o.aet.c_str());
  scu.setPeerHostName("127.0.0.1");
  scu.setPeerPort(static_cast<Uint16>(o.port));
  OFList<OFString> ts;
  ts.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_VerificationSOPClass, ts);
  ASSERT_TRUE(scu.initNetwork().good());
  ASSERT_TRUE(scu.negotiateAssociation().good());
  ASSERT_TRUE(scu.sendECHORequest(0).good());
  // Hang guard only (no timing assertion): stop() must come back while the association is open.
  std::atomic<bool> stopped{false};
  std::thread guard([&] {
    for (int i = 0; i < 1200 && !stopped; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!stopped) {
      std::fprintf(stderr, "ReceiverService::stop() hangs while a peer holds an association open\n");
      std::_Exit(1);
    }
  });
  rx.stop();
  stopped = true;
  guard.join();
  EXPECT_EQ(rx.state(), ui::ReceiverService::State::Off);
  // The thread's last report arrives through the event loop.
  EXPECT_GE(test::spinUntil([&] { return rx.lastStats().abortedAssociations == 1; }, 10000), 0);
  EXPECT_EQ(rx.lastStats().echoes, 1);
  EXPECT_FALSE(scu.sendECHORequest(0).good());  // the association was aborted
}

// The settings validation: clear messages, nothing saved until everything is valid.
TEST(NetworkSettingsValidation, RejectsBadValuesWithClearMessages) {
  test::app();
  QSettings().remove(QStringLiteral("network"));
  ui::NetworkSettingsDialog dlg;
  dlg.aetEdit()->setText(QStringLiteral("ECHO2ECG_WORKSTATION"));  // 20 characters
  EXPECT_FALSE(dlg.validateAndSave());
  EXPECT_TRUE(dlg.errorText().contains(QStringLiteral("is 20 characters long: at most 16"))) << dlg.errorText().toStdString();
  EXPECT_FALSE(QSettings().contains(QStringLiteral("network/aet")));
  dlg.accept();
  EXPECT_NE(dlg.result(), QDialog::Accepted);
  dlg.aetEdit()->setText(QStringLiteral("ECHO\\2ECG"));
  EXPECT_FALSE(dlg.validateAndSave());
  EXPECT_TRUE(dlg.errorText().contains(QStringLiteral("backslash"))) << dlg.errorText().toStdString();
  dlg.aetEdit()->setText(QStringLiteral("ECHO2ECG"));
  dlg.portEdit()->setText(QStringLiteral("70000"));
  EXPECT_FALSE(dlg.validateAndSave());
  EXPECT_TRUE(dlg.errorText().contains(QStringLiteral("Port 70000 is not in 1..65535"))) << dlg.errorText().toStdString();
  dlg.portEdit()->setText(QStringLiteral("eleven"));
  EXPECT_FALSE(dlg.validateAndSave());
  EXPECT_TRUE(dlg.errorText().contains(QStringLiteral("Port \"eleven\" is not a number"))) << dlg.errorText().toStdString();
  dlg.portEdit()->setText(QStringLiteral("11113"));
  dlg.acceptAnyBox()->setChecked(false);
  dlg.allowedEdit()->setPlainText(QStringLiteral("MODALITY@10.0.0.5\nNOHOST"));
  EXPECT_FALSE(dlg.validateAndSave());
  EXPECT_TRUE(dlg.errorText().contains(QStringLiteral("Allowed peer \"NOHOST\""))) << dlg.errorText().toStdString();
  dlg.allowedEdit()->setPlainText(QStringLiteral("MODALITY@10.0.0.5"));
  dlg.addPeer({QStringLiteral("Bad"), QStringLiteral("WAY_TOO_LONG_PACS_AE"), QStringLiteral("pacs"), 104});
  EXPECT_FALSE(dlg.validateAndSave());
  EXPECT_TRUE(dlg.errorText().contains(QStringLiteral("PACS peer \"Bad\": AE title"))) << dlg.errorText().toStdString();
  EXPECT_FALSE(QSettings().contains(QStringLiteral("network/aet")));

  dlg.peerTable()->item(0, 1)->setText(QStringLiteral("PACS1"));
  dlg.startBox()->setChecked(true);
  ASSERT_TRUE(dlg.validateAndSave()) << dlg.errorText().toStdString();
  const NetworkSettings s = NetworkSettings::load();
  EXPECT_EQ(s.aet, QStringLiteral("ECHO2ECG"));
  EXPECT_EQ(s.port, 11113);
  EXPECT_EQ(s.allowed, QStringList{QStringLiteral("MODALITY@10.0.0.5")});
  EXPECT_TRUE(s.startReceiver);
  ASSERT_EQ(s.peers.size(), 1);
  EXPECT_EQ(s.peers[0].aet, QStringLiteral("PACS1"));
  EXPECT_EQ(s.peers[0].port, 104);
  // The receiver options come from the same settings; refusing everyone is not a configuration.
  EXPECT_EQ(s.scpOptions(QStringLiteral("/tmp/x.db")).allow.size(), 1u);
  NetworkSettings none = s;
  none.allowed.clear();
  EXPECT_THROW(none.scpOptions(QStringLiteral("/tmp/x.db")), std::invalid_argument);
  QSettings().remove(QStringLiteral("network"));
}
