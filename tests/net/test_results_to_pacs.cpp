// Results back to the PACS as a user does it: `echo2ecg predict --sr-dir DIR` writes a Comprehensive
// SR per DICOM ECG and task (validated with dciodvfy), `echo2ecg pacs send` stores them in a real
// Orthanc, and C-FIND finds an SR series in the ECG's own study.
#include <gtest/gtest.h>

#include <filesystem>

#include "net_test_util.h"

using namespace e2e::test;
namespace fs = std::filesystem;

namespace {
const std::string kCli = E2E_CLI_PATH;
const std::string kEcg12Study = "1.3.76.13.65829.2.20130125082826.1072139.2";
}  // namespace

TEST(ResultsToPacs, PredictWritesValidSrsThatLandInTheEcgsStudy) {
  if (!OrthancServer::available()) GTEST_SKIP() << OrthancServer::kBinary << " is not installed";
  TempDir dir("results");
  const std::string db = dir.str("s.db");
  const std::string ludb = std::string(E2E_DATA_DIR) + "/ecg_wfdb/ludb/data/1.hea";
  ASSERT_EQ(runTool(kCli + " import --quiet --db " + db + " '" + dataFile(kEcg12) + "' '" + ludb + "'").rc, 0);
  const std::string srDir = dir.str("sr");
  auto r = runTool(kCli + " predict --db " + db + " --sr-dir " + srDir);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("2 DICOM SR file(s) written"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no SR for " + ludb + ": not a DICOM object (WFDB)"), std::string::npos) << r.out;
  const auto files = filesUnder(srDir);
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    const auto v = runTool("dciodvfy '" + f + "'");
    EXPECT_EQ(v.out.find("\nError"), std::string::npos) << v.out;
    EXPECT_NE(v.out.rfind("Error", 0), 0u) << v.out;
    const auto dump = runTool("dsrdump +Pl '" + f + "'");  // +Pl: long texts in full
    EXPECT_NE(dump.out.find("Echo2ECG Workstation"), std::string::npos) << dump.out;
    // The bundled models are trained on synthetic data: the SR says so.
    EXPECT_NE(dump.out.find("trained on synthetic data"), std::string::npos) << dump.out;
  }
  OrthancServer orthanc;
  const std::string peer = " --peer " + orthanc.peer() + " --aet E2ERES";
  r = runTool(kCli + " pacs send" + peer + " '" + files[0] + "' '" + files[1] + "'");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("sent 2 of 2"), std::string::npos) << r.out;
  r = runTool(kCli + " pacs find" + peer + " --level series --study-uid " + kEcg12Study + " --json");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("\"modality\":\"SR\""), std::string::npos) << r.out;
}
