// Our storage SCP (core/net/storage_scp.h) receiving from DCMTK's storescu / echoscu: objects are
// imported as `import` would, unknown peers are refused, duplicates skipped, conflicts refused
// without overwriting, and an association killed mid-transfer leaves nothing behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/scu.h>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "net/received_store.h"
#include "net_test_util.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::test;
using Type = net::ScpEvent::Type;

namespace {

const char* kOurAet = "E2ESCP";

class ScpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = freeTcpPort();
    opts_.aet = kOurAet;
    opts_.port = port_;
    opts_.dbPath = dir_.str("studies.db");
    opts_.allow = {net::parseAllowedPeer("SENDER@localhost"), net::parseAllowedPeer("OTHER@10.9.8.7")};
  }
  // `flags`: storescu proposes uncompressed transfer syntaxes unless told (-xr RLE, -xy JPEG baseline).
  ToolResult storescu(const std::vector<std::string>& files, const std::string& aet = "SENDER",
                      const std::string& flags = "") {
    std::string cmd = "storescu -R " + flags + " -aet " + aet + " -aec " + kOurAet + " 127.0.0.1 " + std::to_string(port_);
    for (const auto& f : files) cmd += " '" + dataFile(f) + "'";
    return runTool(cmd);
  }
  static bool stored(const net::ScpEvent& e) { return e.type == Type::ObjectStored; }
  // Files under the storage folder, the (empty) .incoming folder aside.
  std::vector<std::string> keptFiles() { return filesUnder(fs::path(opts_.dbPath + ".received")); }
  std::int64_t instances() { return db::Database(opts_.dbPath).counts().instances; }

  TempDir dir_{"scp"};
  int port_ = 0;
  net::ScpOptions opts_;
};

TEST_F(ScpTest, StorescuObjectsAreImportedLikeFiles) {
  const std::vector<std::string> files = {kEcgHemo, kEcg12, kUsAloka, kUs1Uncr, kUsPalRle, kUsPalJpeg};
  ScpRunner scp(opts_);
  ASSERT_EQ(scp.error(), "");
  const auto r = storescu({kEcgHemo, kEcg12, kUsAloka, kUs1Uncr});
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto rle = storescu({kUsPalRle}, "SENDER", "-xr");
  ASSERT_EQ(rle.rc, 0) << rle.out;
  const auto jpeg = storescu({kUsPalJpeg}, "SENDER", "-xy");
  ASSERT_EQ(jpeg.rc, 0) << jpeg.out;
  ASSERT_TRUE(scp.waitFor(stored, 20, static_cast<int>(files.size())));
  EXPECT_EQ(scp.count([](const net::ScpEvent& e) { return stored(e) && e.object.outcome == net::StoreOutcome::Added; }),
            6);
  EXPECT_EQ(scp.count([](const net::ScpEvent& e) { return e.type == Type::AssociationAccepted && e.callingAet == "SENDER"; }), 3);
  scp.stop();

  // The same files through `import` into another database: the same objects, studies and series.
  db::Database received(opts_.dbPath);
  db::Database imported(dir_.str("imported.db"));
  importer::ImportOptions io;
  for (const auto& f : files) io.paths.push_back(dataFile(f));
  ASSERT_EQ(importer::runImport(imported, io).added, 6);
  const auto a = received.counts(), b = imported.counts();
  EXPECT_EQ(a.instances, 6);
  EXPECT_EQ(a.instances, b.instances);
  EXPECT_EQ(a.studies, b.studies);
  EXPECT_EQ(a.series, b.series);
  EXPECT_EQ(a.patients, b.patients);
  EXPECT_EQ(a.ecgRecords, 2);
  EXPECT_EQ(a.echoLoops, b.echoLoops);
  for (const auto& inst : imported.listInstances()) {
    const auto got = received.instanceByUid(inst.sopInstanceUid);
    ASSERT_TRUE(got) << inst.sopInstanceUid;
    EXPECT_EQ(got->studyUid, inst.studyUid);
    EXPECT_EQ(got->modality, inst.modality);
    EXPECT_EQ(got->patientId, inst.patientId);
    EXPECT_EQ(got->sopClassUid, inst.sopClassUid);
    // Stored as <db>.received/<StudyUID>/<SOPUID>.dcm, the same data set as the sent file.
    EXPECT_EQ(fs::path(got->path), fs::path(opts_.dbPath + ".received") / inst.studyUid / (inst.sopInstanceUid + ".dcm"));
    EXPECT_TRUE(net::sameDicomObject(got->path, inst.path)) << inst.path;
    EXPECT_EQ(transferSyntaxOf(got->path), transferSyntaxOf(inst.path)) << inst.path;
  }
  EXPECT_EQ(keptFiles().size(), 6u);
}

TEST_F(ScpTest, ObjectTheImporterDoesNotReadIsKeptNotImported) {
  ScpRunner scp(opts_);
  // Secondary Capture in JPEG lossless: accepted (status 0), kept as received, no rows.
  const auto r = storescu({"us_dicom/fo-dicom_GH538/GH538-jpeg14sv1.dcm"}, "SENDER", "-xs");
  EXPECT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(scp.waitFor(stored, 10));
  const auto ev = scp.events();
  const auto it = std::find_if(ev.begin(), ev.end(), stored);
  ASSERT_NE(it, ev.end());
  EXPECT_EQ(it->object.outcome, net::StoreOutcome::NotImported);
  EXPECT_EQ(it->object.dimseStatus, 0);
  EXPECT_NE(it->object.message.find("Secondary Capture"), std::string::npos) << it->object.message;
  scp.stop();
  EXPECT_EQ(instances(), 0);
  ASSERT_EQ(keptFiles().size(), 1u);
  EXPECT_EQ(transferSyntaxOf(keptFiles()[0]), "1.2.840.10008.1.2.4.70");
}

TEST_F(ScpTest, EchoAnswered) {
  ScpRunner scp(opts_);
  const auto r = runTool("echoscu -aet SENDER -aec " + std::string(kOurAet) + " 127.0.0.1 " + std::to_string(port_));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(scp.waitFor([](const net::ScpEvent& e) { return e.type == Type::Echo; }, 10));
}

TEST_F(ScpTest, PeersNotInTheAllowListAreRefused) {
  ScpRunner scp(opts_);
  // Unknown calling AE; a known AE from a host it is not allowed from; a wrong called AE.
  const auto r1 = storescu({kEcgHemo}, "INTRUDER");
  const auto r2 = storescu({kEcgHemo}, "OTHER");
  const auto r3 = runTool("storescu -R -aet SENDER -aec NOTUS 127.0.0.1 " + std::to_string(port_) + " " + dataFile(kEcgHemo));
  EXPECT_NE(r1.rc, 0) << r1.out;
  EXPECT_NE(r2.rc, 0) << r2.out;
  EXPECT_NE(r3.rc, 0) << r3.out;
  EXPECT_NE(r1.out.find("Rejected"), std::string::npos) << r1.out;
  ASSERT_TRUE(scp.waitFor([](const net::ScpEvent& e) { return e.type == Type::AssociationRefused; }, 10, 3));
  EXPECT_EQ(scp.count([](const net::ScpEvent& e) {
              return e.type == Type::AssociationRefused && e.callingAet == "INTRUDER" &&
                     e.message.find("allow list") != std::string::npos;
            }), 1);
  EXPECT_EQ(scp.count(stored), 0);
  scp.stop();
  EXPECT_EQ(instances(), 0);
  EXPECT_TRUE(keptFiles().empty());
}

TEST_F(ScpTest, DuplicateObjectIsSkipped) {
  ScpRunner scp(opts_);
  ASSERT_EQ(storescu({kEcg12}).rc, 0);
  const auto r = storescu({kEcg12Copy});  // same bytes, same SOP Instance UID
  EXPECT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(scp.waitFor(stored, 10, 2));
  const auto ev = scp.events();
  std::vector<net::StoreOutcome> outcomes;
  for (const auto& e : ev)
    if (stored(e)) outcomes.push_back(e.object.outcome);
  ASSERT_EQ(outcomes.size(), 2u);
  // One added, one skipped. The order of the two events is not fixed: the first copy's "added" comes
  // from the importer thread when its batch commits, the second copy's "skipped" from the receiving
  // thread as soon as it sees the first copy waiting in the receive folder.
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), net::StoreOutcome::Added), 1);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), net::StoreOutcome::Skipped), 1);
  scp.stop();
  EXPECT_EQ(instances(), 1);
  EXPECT_EQ(keptFiles().size(), 1u);
}

TEST_F(ScpTest, ConflictingSopInstanceIsRefusedAndNothingOverwritten) {
  ScpRunner scp(opts_);
  ASSERT_EQ(storescu({kObx}).rc, 0);
  ASSERT_TRUE(scp.waitFor(stored, 10, 1));
  const auto first = db::Database(opts_.dbPath).listInstances();
  ASSERT_EQ(first.size(), 1u);
  // Same SOP Instance UID, two frames: refused with status 0x0111 (storescu -v prints "0x111").
  const auto r = runTool("storescu -v -R -aet SENDER -aec " + std::string(kOurAet) + " 127.0.0.1 " +
                         std::to_string(port_) + " '" + dataFile(kObx2Frame) + "'");
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Store Response (Unknown Status: 0x111)"), std::string::npos) << r.out;
  ASSERT_TRUE(scp.waitFor(stored, 10, 2));
  EXPECT_EQ(scp.count([](const net::ScpEvent& e) {
              return stored(e) && e.object.outcome == net::StoreOutcome::Conflict &&
                     e.object.dimseStatus == net::kStatusDuplicateConflict;
            }), 1);
  scp.stop();
  const auto after = db::Database(opts_.dbPath).listInstances();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].sha256, first[0].sha256);
  EXPECT_EQ(keptFiles().size(), 1u);
  EXPECT_TRUE(net::sameDicomObject(after[0].path, dataFile(kObx)));
  EXPECT_FALSE(net::sameDicomObject(after[0].path, dataFile(kObx2Frame)));
}

TEST_F(ScpTest, TwoSendersAtOnceLoseNothing) {
  opts_.allow.push_back(net::parseAllowedPeer("SECOND@127.0.0.1"));
  ScpRunner scp(opts_);
  ToolResult a, b;
  std::thread ta([&] { a = storescu({kUs1Uncr, kUsAloka, kObx}); });
  std::thread tb([&] { b = storescu({kEcgHemo, kEcg12}, "SECOND"); });
  ta.join();
  tb.join();
  EXPECT_EQ(a.rc, 0) << a.out;
  EXPECT_EQ(b.rc, 0) << b.out;
  ASSERT_TRUE(scp.waitFor(stored, 20, 5));
  scp.stop();
  db::Database db(opts_.dbPath);
  EXPECT_EQ(db.counts().instances, 5);
  EXPECT_EQ(db.counts().ecgRecords, 2);
  EXPECT_EQ(keptFiles().size(), 5u);
}

TEST_F(ScpTest, AssociationKilledMidTransferLeavesNothing) {
  opts_.dimseTimeoutS = 5;
  ScpRunner scp(opts_);
  const std::string file = dataFile(kUs1Uncr);  // ~900 kB: the sender dies after 200 kB
  ASSERT_GT(fs::file_size(file), 600000u);
  const auto r = runTool(std::string(E2E_ABORT_SENDER) + " SENDER " + kOurAet + " 127.0.0.1 " +
                         std::to_string(port_) + " '" + file + "' 200000");
  ASSERT_EQ(r.rc, 0) << r.out;
  ASSERT_TRUE(scp.waitFor([](const net::ScpEvent& e) { return e.type == Type::ObjectAborted; }, 15)) << r.out;
  EXPECT_EQ(scp.count(stored), 0);
  // Still serving afterwards.
  EXPECT_EQ(storescu({kEcgHemo}).rc, 0);
  ASSERT_TRUE(scp.waitFor(stored, 10, 1));
  scp.stop();
  EXPECT_EQ(instances(), 1);
  const auto kept = keptFiles();
  ASSERT_EQ(kept.size(), 1u);  // the ECG; no partial file of the killed transfer
  EXPECT_EQ(fs::path(kept[0]).filename(), "1.3.6.1.4.1.6018.3.999.dcm");
}

TEST_F(ScpTest, StopEndsAnIdleAssociationAtOnce) {
  opts_.dimseTimeoutS = 3600;  // a stop that waited for the peer's next message would hang here
  ScpRunner scp(opts_);
  DcmSCU scu;
  scu.setAETitle("SENDER");
  scu.setPeerAETitle(kOurAet);
  scu.setPeerHostName("127.0.0.1");
  scu.setPeerPort(static_cast<Uint16>(port_));
  OFList<OFString> ts;
  ts.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_VerificationSOPClass, ts);
  ASSERT_TRUE(scu.initNetwork().good());
  ASSERT_TRUE(scu.negotiateAssociation().good());
  ASSERT_TRUE(scu.sendECHORequest(0).good());
  ASSERT_TRUE(scp.waitFor([](const net::ScpEvent& e) { return e.type == Type::Echo; }, 10));
  // The association stays open and idle; stop() must not wait for it.
  auto stopped = std::async(std::launch::async, [&] { return scp.stop(); });
  ASSERT_EQ(stopped.wait_for(std::chrono::seconds(120)), std::future_status::ready) << "stop() hangs";
  EXPECT_EQ(stopped.get().abortedAssociations, 1);
  const auto ev = scp.events();
  EXPECT_TRUE(std::any_of(ev.begin(), ev.end(), [](const net::ScpEvent& e) {
    return e.type == Type::AssociationAborted && e.message == "stopped";
  }));
  EXPECT_EQ(ev.back().type, Type::Stopped);
  EXPECT_FALSE(scu.sendECHORequest(0).good());  // the SCP is gone
}

TEST_F(ScpTest, ManyObjectsInOneAssociationAreImportedInBatches) {
  ScpRunner scp(opts_);
  const std::vector<std::string> files = {kEcgHemo, kEcg12, kUsAloka, kUs1Uncr};
  ASSERT_EQ(storescu(files).rc, 0);
  ASSERT_TRUE(scp.waitFor(stored, 30, static_cast<int>(files.size())));
  const auto stats = scp.stop();
  EXPECT_EQ(stats.received, 4);
  EXPECT_EQ(stats.added, 4);
  db::Database db(opts_.dbPath);
  EXPECT_EQ(db.counts().instances, 4);
  for (const auto& f : files) {
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(dataFile(f).c_str()).good());
    OFString uid;
    ff.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, uid);
    const auto row = db.instanceByUid(uid.c_str());
    ASSERT_TRUE(row) << f;
    EXPECT_TRUE(net::sameDicomObject(row->path, dataFile(f))) << f;
  }
  EXPECT_EQ(keptFiles().size(), 4u);  // no journal left once everything is imported
}

}  // namespace

namespace {

// An object acknowledged to its sender but not yet imported when the process died: the journal
// lists it, and the next background import on the folder imports it.
TEST(ReceivedStore, JournalledObjectsAreImportedAfterARestart) {
  TempDir dir("journal");
  const std::string db = dir.str("r.db");
  const fs::path folder = db + ".received";
  const fs::path placed = folder / "1.3.6.1.4.1.6018.4.999" / "1.3.6.1.4.1.6018.3.999.dcm";
  fs::create_directories(placed.parent_path());
  fs::create_directories(folder / ".incoming");
  fs::copy_file(dataFile(kEcgHemo), placed);
  {
    std::ofstream j(folder / ".incoming" / "pending.journal");
    j << "1.3.6.1.4.1.6018.4.999/1.3.6.1.4.1.6018.3.999.dcm\n"
      << "9.9/gone.dcm\n"     // acknowledged, then removed by hand: nothing to import
      << "../outside.dcm\n";  // never outside the folder
  }
  std::mutex mu;
  std::vector<net::StoreResult> done;
  {
    net::ReceivedStore store(db, "");
    store.startBackgroundImport([&](const net::StoreResult& r) {
      std::lock_guard<std::mutex> lk(mu);
      done.push_back(r);
    });
    store.finishBackgroundImport();
  }
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].outcome, net::StoreOutcome::Added);
  EXPECT_EQ(done[0].sopInstanceUid, "1.3.6.1.4.1.6018.3.999");
  EXPECT_TRUE(db::Database(db).instanceByUid("1.3.6.1.4.1.6018.3.999"));
  EXPECT_FALSE(fs::exists(folder / ".incoming" / "pending.journal"));
  EXPECT_TRUE(fs::exists(placed));
}

}  // namespace

namespace {

// ReceivedStore alone (what the SCP and C-GET use): a folder without a database.
TEST(ReceivedStore, FolderOnlyStoresSkipsAndRefuses) {
  TempDir dir("store");
  const auto copyIn = [](net::ReceivedStore& s, const std::string& rel) {
    const std::string temp = s.newTempPath();
    fs::copy_file(dataFile(rel), temp);
    return s.commit(temp);
  };
  net::ReceivedStore store("", dir.str("in"));
  auto r = copyIn(store, kObx);
  EXPECT_EQ(r.outcome, net::StoreOutcome::Stored);
  EXPECT_EQ(r.dimseStatus, 0);
  EXPECT_EQ(fs::path(r.path).filename(), "1.3.46.670589.14.1000.210.2.199999.20110525185628.1.0.dcm");
  r = copyIn(store, kObx);
  EXPECT_EQ(r.outcome, net::StoreOutcome::Skipped);
  r = copyIn(store, kObx2Frame);
  EXPECT_EQ(r.outcome, net::StoreOutcome::Conflict);
  EXPECT_EQ(r.dimseStatus, net::kStatusDuplicateConflict);
  // Not DICOM at all: refused, nothing kept.
  const std::string junk = store.newTempPath();
  { std::ofstream(junk) << "not a DICOM object"; }
  r = store.commit(junk);
  EXPECT_EQ(r.outcome, net::StoreOutcome::Failed);
  EXPECT_EQ(r.dimseStatus, 0xC000);
  EXPECT_FALSE(fs::exists(junk));
  const auto kept = filesUnder(dir.path() / "in");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_TRUE(net::sameDicomObject(kept[0], dataFile(kObx)));
}

TEST(ReceivedStore, PartsOfDeadProcessesAreRemoved) {
  TempDir dir("parts");
  const fs::path incoming = dir.path() / "in" / ".incoming";
  fs::create_directories(incoming);
  const fs::path dead = incoming / "2147483646-1-1.part", mine = incoming / (std::to_string(getpid()) + "-1-1.part");
  std::ofstream(dead) << "x";
  std::ofstream(mine) << "x";
  net::ReceivedStore store("", dir.str("in"));
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(mine));  // a live process may still be receiving it
}

}  // namespace
