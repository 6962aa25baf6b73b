// The SCU operations (core/net/scu.h) against a real Orthanc started by the fixture: echo, send the
// real files, find them back at patient / study / series level (wildcards, dates, modality,
// accession), get into a fresh database, move to our own SCP, cancel a long get; typed errors for
// an unreachable peer and a rejected association.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include "db/database.h"
#include "net/scu.h"
#include "net_test_util.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::test;

namespace {

const char* kMoveAet = "E2EMOVE";
const std::vector<std::string> kSent = {kEcgHemo, kEcg12, kUsAloka, kUs1Uncr, "us_dicom/pydicom-data/US1_J2KI.dcm",
                                        kUsPalRle, kUsPalJpeg, kObx};

class OrthancTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!OrthancServer::available()) return;
    movePort_ = freeTcpPort();
    orthanc_ = std::make_unique<OrthancServer>(std::vector<OrthancServer::Modality>{{kMoveAet, "127.0.0.1", movePort_}});
    std::vector<std::string> files;
    for (const auto& f : kSent) files.push_back(dataFile(f));
    sendReport_ = net::send(assoc(), net::SendRequest{files});
  }
  static void TearDownTestSuite() { orthanc_.reset(); }
  void SetUp() override {
    if (!OrthancServer::available()) GTEST_SKIP() << OrthancServer::kBinary << " is not installed (Debian package orthanc)";
  }
  static net::Association assoc() {
    net::Association a;
    a.ourAet = "E2ETEST";
    a.peer = net::parsePeer(orthanc_->peer());
    a.dimseTimeoutS = 20;
    return a;
  }
  static net::FindReport find(net::FindRequest r) { return net::find(assoc(), r); }

  static std::unique_ptr<OrthancServer> orthanc_;
  static int movePort_;
  static net::SendReport sendReport_;
  TempDir dir_{"scu"};
};
std::unique_ptr<OrthancServer> OrthancTest::orthanc_;
int OrthancTest::movePort_ = 0;
net::SendReport OrthancTest::sendReport_;

TEST_F(OrthancTest, EchoAndSend) {
  EXPECT_EQ(net::echo(assoc()).status, 0);
  EXPECT_EQ(sendReport_.sent, static_cast<int>(kSent.size()));
  EXPECT_TRUE(sendReport_.failures.empty()) << sendReport_.failures.front().message;
  EXPECT_GT(sendReport_.bytes, 3000000u);
}

TEST_F(OrthancTest, FindStudiesWithWildcardsDatesModalityAccession) {
  net::FindRequest r;
  r.patientId = "123*";
  auto rep = find(r);
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_EQ(rep.status, 0);
  EXPECT_EQ(rep.rows[0].studyUid, "1.3.6.1.4.1.6018.4.999");
  EXPECT_EQ(rep.rows[0].studyDate, "19991223");
  EXPECT_EQ(rep.rows[0].accession, "0001");
  EXPECT_EQ(rep.rows[0].patientName, "Patient^Test");
  EXPECT_EQ(rep.rows[0].modalitiesInStudy, "ECG");

  r = {};
  r.patientName = "Compressed*";
  rep = find(r);
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_EQ(rep.rows[0].patientId, "13US1");
  EXPECT_EQ(rep.rows[0].numInstances, 2);  // US1_UNCR and US1_J2KI

  r = {};
  r.modality = "ECG";
  EXPECT_EQ(find(r).rows.size(), 2u);  // 123-654 and 642341
  r.modality = "US";
  EXPECT_EQ(find(r).rows.size(), 4u);  // ALOKA, 13US1, US-PAL, OB

  r = {};
  r.dateFrom = "20000101";
  r.dateTo = "20051231";
  rep = find(r);
  std::vector<std::string> dates;
  for (const auto& row : rep.rows) dates.push_back(row.studyDate);
  std::sort(dates.begin(), dates.end());
  EXPECT_EQ(dates, (std::vector<std::string>{"20020524", "20040826"}));

  r = {};
  r.accession = "0302804197054?";
  rep = find(r);
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_EQ(rep.rows[0].patientId, "642341");
  EXPECT_EQ(rep.rows[0].studyUid, "1.3.76.13.65829.2.20130125082826.1072139.2");

  r = {};
  r.maxResults = 1;  // C-CANCEL after the first row
  rep = find(r);
  EXPECT_EQ(rep.rows.size(), 1u);
  EXPECT_FALSE(rep.cancelled);
}

TEST_F(OrthancTest, FindPatientsAndSeries) {
  net::FindRequest r;
  r.level = net::QueryLevel::Patient;
  r.patientId = "9827?";
  auto rep = find(r);
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_EQ(rep.rows[0].patientName, "NAME^PATIENT^NAME");
  EXPECT_EQ(rep.rows[0].numStudies, 1);

  r = {};
  r.level = net::QueryLevel::Series;
  r.studyUid = "999.999.3859744";
  rep = find(r);
  ASSERT_EQ(rep.rows.size(), 1u);
  EXPECT_EQ(rep.rows[0].seriesUid, "999.999.94827453");
  EXPECT_EQ(rep.rows[0].modality, "US");
  EXPECT_EQ(rep.rows[0].numInstances, 2);  // RLE original and its JPEG re-encoding

  r = {};
  r.level = net::QueryLevel::Series;
  r.modality = "ECG";
  EXPECT_EQ(find(r).rows.size(), 2u);
  EXPECT_THROW(net::find(assoc(), net::FindRequest{net::QueryLevel::Study, "", "", "2020", "", "", "", "", 0}),
               std::invalid_argument);
}

TEST_F(OrthancTest, GetStudyIntoFreshDatabase) {
  net::RetrieveRequest r;
  r.studyUid = "999.999.3859744";
  r.dbPath = dir_.str("got.db");
  int progressCalls = 0;
  const auto rep = net::get(assoc(), r, {}, [&](const net::RetrieveProgress&) { ++progressCalls; });
  EXPECT_EQ(rep.status, 0) << rep.statusText;
  EXPECT_EQ(rep.completed, 2);
  EXPECT_EQ(rep.received, 2);
  EXPECT_EQ(rep.added, 2);
  EXPECT_TRUE(rep.ok());
  EXPECT_GE(progressCalls, 2);
  db::Database db(r.dbPath);
  ASSERT_TRUE(db.studyRowIdByUid("999.999.3859744"));
  EXPECT_EQ(db.counts().instances, 2);
  for (const auto& f : {kUsPalRle, kUsPalJpeg}) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(dataFile(f).c_str()).good());
    OFString uid;
    ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, uid);
    const auto inst = db.instanceByUid(uid.c_str());
    ASSERT_TRUE(inst) << f;
    EXPECT_EQ(inst->modality, "US");
    EXPECT_EQ(inst->studyUid, "999.999.3859744");
    // The same data set, in the transfer syntax it was sent in (RLE / JPEG baseline).
    EXPECT_TRUE(net::sameDicomObject(inst->path, dataFile(f)));
    EXPECT_EQ(transferSyntaxOf(inst->path), transferSyntaxOf(dataFile(f)));
  }
  // Again: everything is already there.
  const auto again = net::get(assoc(), r);
  EXPECT_EQ(again.skipped, 2);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(db.counts().instances, 2);

  // Into a folder only (no database).
  net::RetrieveRequest f;
  f.studyUid = "1.3.6.1.4.1.6018.4.999";
  f.folder = dir_.str("folder");
  const auto frep = net::get(assoc(), f);
  EXPECT_EQ(frep.stored, 1);
  ASSERT_EQ(frep.files.size(), 1u);
  EXPECT_TRUE(net::sameDicomObject(frep.files[0], dataFile(kEcgHemo)));
}

TEST_F(OrthancTest, MoveToOurScp) {
  net::ScpOptions o;
  o.aet = kMoveAet;
  o.port = movePort_;
  o.dbPath = dir_.str("moved.db");
  o.allow = {net::parseAllowedPeer(orthanc_->aet() + "@127.0.0.1")};
  ScpRunner scp(o);
  ASSERT_EQ(scp.error(), "");
  net::RetrieveRequest r;
  r.studyUid = "1.3.76.13.65829.2.20130125082826.1072139.2";
  r.destinationAet = kMoveAet;
  const auto rep = net::move(assoc(), r);
  EXPECT_EQ(rep.status, 0) << rep.statusText;
  EXPECT_EQ(rep.completed, 1);
  EXPECT_EQ(rep.failed, 0);
  ASSERT_TRUE(scp.waitFor([](const net::ScpEvent& e) { return e.type == net::ScpEvent::Type::ObjectStored; }, 10));
  scp.stop();
  db::Database db(o.dbPath);
  const auto inst = db.instanceByUid("1.3.6.1.4.1.20029.40.20130125105919.5407.1.1");
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->modality, "ECG");
  EXPECT_TRUE(net::sameDicomObject(inst->path, dataFile(kEcg12)));

  r.destinationAet = "NOBODY";  // not configured in Orthanc
  const auto bad = net::move(assoc(), r);
  EXPECT_NE(bad.status, 0);
  EXPECT_FALSE(bad.ok());
}

TEST_F(OrthancTest, CancelOfALongGet) {
  // A study of 30 ECG objects (copies of a real file with new UIDs).
  const std::string study = "1.2.826.0.1.3680043.8.498.77", series = study + ".1";
  std::vector<std::string> files;
  for (int i = 0; i < 30; ++i) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(dataFile(kEcgHemo).c_str()).good());
    DcmDataset* ds = ff.getDataset();
    ds->putAndInsertString(DCM_StudyInstanceUID, study.c_str());
    ds->putAndInsertString(DCM_SeriesInstanceUID, series.c_str());
    ds->putAndInsertString(DCM_SOPInstanceUID, (series + "." + std::to_string(i + 1)).c_str());
    files.push_back(dir_.str("copy" + std::to_string(i) + ".dcm"));
    ASSERT_TRUE(ff.saveFile(files.back().c_str(), EXS_Unknown, EET_UndefinedLength, EGL_recalcGL, EPD_noChange, 0, 0,
                            EWM_updateMeta).good());
  }
  ASSERT_EQ(net::send(assoc(), net::SendRequest{files}).sent, 30);

  net::RetrieveRequest r;
  r.studyUid = study;
  r.dbPath = dir_.str("cancel.db");
  job::CancelToken cancel;
  const auto rep = net::get(assoc(), r, cancel, [&](const net::RetrieveProgress& p) {
    if (p.received >= 1) cancel.cancel();
  });
  EXPECT_TRUE(rep.cancelled);
  EXPECT_GE(rep.received, 1);
  EXPECT_LT(rep.received, 30);
  EXPECT_EQ(rep.status, 0xFE00) << rep.statusText << " received " << rep.received;
  db::Database db(r.dbPath);
  EXPECT_EQ(db.counts().instances, rep.added);  // every object received is complete and imported
  EXPECT_TRUE(filesUnder(fs::path(r.dbPath + ".received") / ".incoming").empty());
  // The association is usable again afterwards.
  EXPECT_EQ(net::echo(assoc()).status, 0);

  // The same study moved to our SCP, cancelled after the first sub-operation.
  net::ScpOptions o;
  o.aet = kMoveAet;
  o.port = movePort_;
  o.dbPath = dir_.str("moved.db");
  o.allow = {net::parseAllowedPeer(orthanc_->aet() + "@127.0.0.1")};
  ScpRunner scp(o);
  net::RetrieveRequest m;
  m.studyUid = study;
  m.destinationAet = kMoveAet;
  job::CancelToken cancelMove;
  const auto mrep = net::move(assoc(), m, cancelMove, [&](const net::RetrieveProgress& p) {
    if (p.completed >= 1) cancelMove.cancel();
  });
  EXPECT_TRUE(mrep.cancelled);
  EXPECT_EQ(mrep.status, 0xFE00) << mrep.statusText;
  EXPECT_GE(mrep.completed, 1);
  EXPECT_LT(mrep.completed, 30);
  scp.stop();
  EXPECT_EQ(db::Database(o.dbPath).counts().instances, mrep.completed);
}

TEST(NetErrors, UnreachablePeerAndRejectedAssociation) {
  net::Association a;
  a.peer = net::parsePeer("NOBODY@127.0.0.1:" + std::to_string(freeTcpPort()));
  try {
    net::echo(a);
    FAIL() << "echo to a closed port succeeded";
  } catch (const net::NetError& e) {
    EXPECT_EQ(e.kind(), net::NetError::Kind::Unreachable);
    EXPECT_NE(std::string(e.what()).find("NOBODY@127.0.0.1"), std::string::npos);
  }
  TempDir dir("rej");
  net::ScpOptions o;
  o.aet = "E2EREJ";
  o.port = freeTcpPort();
  o.dbPath = dir.str("s.db");
  o.allow = {net::parseAllowedPeer("FRIEND@127.0.0.1")};
  ScpRunner scp(o);
  a.peer = net::parsePeer("E2EREJ@127.0.0.1:" + std::to_string(o.port));
  a.ourAet = "STRANGER";
  try {
    net::echo(a);
    FAIL() << "a peer not in the allow list was accepted";
  } catch (const net::NetError& e) {
    EXPECT_EQ(e.kind(), net::NetError::Kind::Rejected);
  }
  a.ourAet = "FRIEND";
  EXPECT_EQ(net::echo(a).status, 0);
  // A port that takes the TCP connection but never answers the association request.
  const int mute = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(mute, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(mute, 4), 0);
  ASSERT_EQ(getsockname(mute, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  net::Association slow;
  slow.peer = net::parsePeer("MUTE@127.0.0.1:" + std::to_string(ntohs(addr.sin_port)));
  slow.acseTimeoutS = 1;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    net::echo(slow);
    ADD_FAILURE() << "echo to a mute peer succeeded";
  } catch (const net::NetError& e) {
    EXPECT_EQ(e.kind(), net::NetError::Kind::Timeout) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  close(mute);
  EXPECT_THROW(net::parsePeer("NOPORT@host"), std::invalid_argument);
  EXPECT_THROW(net::parsePeer("WAYTOOLONGAETITLE17@h:104"), std::invalid_argument);
  EXPECT_THROW(net::parsePeer("A@h:70000"), std::invalid_argument);
}

}  // namespace
