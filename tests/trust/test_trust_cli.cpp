// Issue 23 end to end: real ECGs through `echo2ecg predict --json` with the bundled (synthetic-trained)
// model come out out-of-distribution or declined, every field present; the flags are stored in the
// database and written into the DICOM SR.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "db/database.h"

namespace fs = std::filesystem;
using e2e::test::runCli;
using e2e::test::shellQuote;

namespace {
std::string data(const std::string& rel) { return std::string(E2E_DATA_DIR) + "/" + rel; }

struct TrustCli : ::testing::Test {
  fs::path dir = fs::temp_directory_path() / "trust_cli";
  std::string db;
  void SetUp() override {
    fs::remove_all(dir);
    fs::create_directories(dir);
    db = (dir / "studies.db").string();
  }
  void TearDown() override { fs::remove_all(dir); }
};
}  // namespace

TEST_F(TrustCli, RealEcgsAreOutOfDistributionOrDeclinedWithEveryField) {
  const std::string ludb = data("ecg_wfdb/ludb/data/1.hea"), dcm = data("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm");
  ASSERT_EQ(runCli("import --quiet --db " + shellQuote(db) + " " + shellQuote(ludb) + " " + shellQuote(dcm)).rc, 0);
  const auto sr = (dir / "sr").string();
  const auto r = runCli("predict --json --db " + shellQuote(db) + " --sr-dir " + shellQuote(sr));
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto lines = e2e::test::nonEmptyLines(r.out);
  ASSERT_EQ(lines.size(), 4u) << r.out;  // 2 ECGs x (lvef, shd)
  int out = 0, declined = 0;
  for (const auto& l : lines) {
    const auto j = nlohmann::json::parse(l);
    for (const char* k : {"probabilities", "calibrated_probabilities", "quality", "ood_score", "ood", "declined"})
      EXPECT_TRUE(j.contains(k)) << k << " missing in " << l;
    ASSERT_TRUE(j["quality"].is_object());
    for (const char* k : {"score", "usable", "issues"}) EXPECT_TRUE(j["quality"].contains(k)) << l;
    if (!j["declined"].is_null()) {
      ++declined;
      EXPECT_TRUE(j["probabilities"].is_null()) << "a declined ECG gets no probabilities: " << l;
      EXPECT_FALSE(j["quality"]["usable"].get<bool>());
      continue;
    }
    EXPECT_EQ(j["ood"], "out") << "the synthetic-trained model must flag a real ECG: " << l;
    ASSERT_TRUE(j["ood_score"].is_number()) << l;
    ASSERT_TRUE(j["ood_input_score"].is_number()) << l;
    // out: the embedding or the input lies beyond its own threshold
    EXPECT_TRUE(j["ood_score"].get<double>() > j["ood_threshold"].get<double>() ||
                j["ood_input_score"].get<double>() > j["ood_input_threshold"].get<double>())
        << l;
    EXPECT_EQ(j["probabilities"].size(), j["calibrated_probabilities"].size());
    out += j["ood"] == "out";
  }
  EXPECT_EQ(out + declined, 4);
  // stored with the flags
  e2e::db::Database d(db, e2e::db::Database::Mode::ReadOnly);
  int stored = 0;
  for (const auto& inst : d.listInstances())
    for (const auto& p : d.predictionsFor(inst.id)) {
      ++stored;
      EXPECT_TRUE(p.declined() || p.ood == "out") << p.task;
      EXPECT_TRUE(p.qualityScore.has_value());
      EXPECT_TRUE(p.syntheticTraining.value_or(false));
    }
  EXPECT_EQ(stored, 4);
  // the DICOM ECG's SRs carry the quality and OOD content items
  int srs = 0;
  for (const auto& f : fs::directory_iterator(sr)) {
    const std::string bytes = e2e::test::readFile(f.path());
    EXPECT_NE(bytes.find("Signal quality"), std::string::npos) << f.path();
    EXPECT_NE(bytes.find("Out-of-distribution"), std::string::npos) << f.path();
    ++srs;
  }
  EXPECT_EQ(srs, 2);
  // the text output says it too
  const auto t = runCli("predict --db " + shellQuote(db) + " " + shellQuote("1"));
  EXPECT_TRUE(t.out.find("OUT-OF-DISTRIBUTION") != std::string::npos || t.out.find("declined:") != std::string::npos)
      << t.out;
}

TEST_F(TrustCli, AModelWithoutStatisticsSaysUnknownNeverIn) {
  // A copy of the bundled model without its trust files: ood "unknown" for every usable ECG.
  const fs::path models = fs::path(E2E_SOURCE_DIR) / "models";
  const fs::path copy = dir / "models";
  fs::create_directories(copy);
  for (const char* f : {"bundle.json", "echo2ecg.pt", "lvef_head.pt", "shd_head.pt"}) fs::copy_file(models / f, copy / f);
  ASSERT_EQ(runCli("import --quiet --db " + shellQuote(db) + " " + shellQuote(data("ecg_wfdb/ludb/data/2.hea"))).rc, 0);
  const auto r = runCli("predict --json --db " + shellQuote(db) + " --model " + shellQuote(copy.string()));
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const auto& l : e2e::test::nonEmptyLines(r.out)) {
    const auto j = nlohmann::json::parse(l);
    if (!j["declined"].is_null()) continue;
    EXPECT_EQ(j["ood"], "unknown") << l;
    EXPECT_TRUE(j["ood_score"].is_null()) << l;
    EXPECT_EQ(j["probabilities"], j["calibrated_probabilities"]) << "no temperature fitted: unchanged";
  }
}
