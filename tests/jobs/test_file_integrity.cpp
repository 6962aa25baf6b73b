// Issue 22.1: an instance file replaced after import (another patient's ECG under the same path)
// is never decoded: every decode after import checks the stored SHA-256, and a changed file is a
// clear per-instance error ("file changed since import: PATH (SHA-256 differs)"), never a result.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_util.h"
#include "cohort_fixture.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "pipeline/data.h"
#include "pipeline/embedding_model.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

class FileIntegrity : public ::testing::Test {
 protected:
  // A tiny encoder bundle (train --task pretrain --epochs 0) made once on a small synthetic cohort.
  static inline test::CohortDb cohort;
  static inline std::string bundle;
  static void SetUpTestSuite() {
    cohort = test::makeCohortDb("e2e_file_integrity_cohort", test::smallCohort(4, 3, 8));
    bundle = (cohort.dir / "bundle").string();
    auto t = test::runCli("train --db " + test::shellQuote(cohort.dbPath) + " --task pretrain --run-dir " +
                              test::shellQuote(bundle) + " --epochs 0 --ecg-depth 1 --video-size 32 --seed 5",
                          true);
    ASSERT_EQ(t.rc, 0) << t.out;
  }
  static void TearDownTestSuite() { fs::remove_all(cohort.dir); }

  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_file_integrity_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "in");
    db_ = (dir_ / "t.db").string();
    ecg_ = (dir_ / "in" / "ecg.dcm").string();
    // Patient A (test_ecg.dcm, 123-654) is imported; patient B's ECG then takes its place.
    fs::copy_file(test::dataFile("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm"), ecg_);
    db::Database db(db_);
    importer::ImportOptions o;
    o.paths = {(dir_ / "in").string()};
    o.threads = 1;
    const auto rep = importer::runImport(db, o);
    ASSERT_EQ(rep.addedEcg, 1) << importer::summary(rep);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void swapInAnotherPatient() {
    fs::copy_file(test::dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm"), ecg_,
                  fs::copy_options::overwrite_existing);
  }
  fs::path dir_;
  std::string db_, ecg_;
};

}  // namespace

TEST_F(FileIntegrity, UnchangedFileDecodesAndSwappedFileIsRefused) {
  db::Database db(db_);
  const auto samples = pipeline::loadSamples(db);
  ASSERT_EQ(samples.size(), 1u);
  ASSERT_EQ(samples[0].ecgSha256.size(), 64u);
  EXPECT_EQ(pipeline::ecgInputFromSample(samples[0]).size(), pipeline::kEcgLeads * pipeline::kEcgSamples);

  swapInAnotherPatient();
  try {
    pipeline::ecgInputFromSample(samples[0]);
    FAIL() << "a swapped file was decoded";
  } catch (const pipeline::FileChangedError& e) {
    EXPECT_EQ(std::string(e.what()), "file changed since import: " + samples[0].ecgPath + " (SHA-256 differs)");
  }
  EXPECT_THROW(pipeline::handcraftedEcgFeatures(samples[0]), pipeline::FileChangedError);
  std::vector<std::string> errors;
  const auto kept = pipeline::withUnchangedEcgFiles(samples, [](std::int64_t) { return true; }, errors);
  EXPECT_TRUE(kept.empty());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(has(errors[0], "file changed since import")) << errors[0];
  // A deleted file is an error too, not a result.
  fs::remove(ecg_);
  EXPECT_ANY_THROW(pipeline::ecgInputFromSample(samples[0]));
}

// The embed job (the path predict takes too): the swapped ECG gets no vector and the run says why.
TEST_F(FileIntegrity, EmbedStoresNothingForASwappedFile) {
  swapInAnotherPatient();
  auto r = test::runCli("embed --db " + test::shellQuote(db_) + " --model " + test::shellQuote(bundle), true);
  EXPECT_TRUE(has(r.out, "file changed since import: ")) << r.out;
  EXPECT_TRUE(has(r.out, "(SHA-256 differs)")) << r.out;
  EXPECT_TRUE(has(r.out, "ECG: 0 added")) << r.out;
  {
    db::Database db(db_);
    EXPECT_EQ(db.counts().embeddings, 0);
  }
  // The original content back: it is embedded.
  fs::copy_file(test::dataFile("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm"), ecg_, fs::copy_options::overwrite_existing);
  auto ok = test::runCli("embed --db " + test::shellQuote(db_) + " --model " + test::shellQuote(bundle), true);
  EXPECT_EQ(ok.rc, 0) << ok.out;
  EXPECT_TRUE(has(ok.out, "ECG: 1 added")) << ok.out;
}

// Issue 22.7: `train --resume` on a finished run registers nothing and says so.
TEST_F(FileIntegrity, ResumingAFinishedRunChangesNothing) {
  // The suite's bundle run (SetUpTestSuite) finished and registered one version.
  const std::string args = "train --db " + test::shellQuote(cohort.dbPath) + " --task pretrain --run-dir " +
                           test::shellQuote(bundle) + " --epochs 0 --ecg-depth 1 --video-size 32 --seed 5";
  std::vector<db::ModelRow> before;
  {
    db::Database db(cohort.dbPath);
    before = db.listModels();
  }
  ASSERT_EQ(before.size(), 1u);
  auto again = test::runCli(args + " --resume", true);
  EXPECT_EQ(again.rc, 0) << again.out;
  EXPECT_TRUE(has(again.out, "already finished")) << again.out;
  EXPECT_TRUE(has(again.out, "nothing changed")) << again.out;
  db::Database db(cohort.dbPath);
  const auto after = db.listModels();
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].version, before[0].version);
  EXPECT_TRUE(after[0].active);
}

// Issue 22.5: a flat trace is stored (with a warning) but never given to a model.
TEST_F(FileIntegrity, FlatEcgGetsNoModelOutput) {
  const fs::path d = dir_ / "flat";
  fs::create_directories(d);
  std::ofstream(d / "flat.hea") << "flat 2 500 5000\nflat.dat 16 200/mV 16 0 0 0 0 I\nflat.dat 16 200/mV 16 0 0 0 0 II\n";
  {
    std::ofstream dat(d / "flat.dat", std::ios::binary);
    const std::int16_t v = 40;
    for (int i = 0; i < 2 * 5000; ++i) dat.write(reinterpret_cast<const char*>(&v), 2);
  }
  const std::string flatDb = (dir_ / "flat.db").string();
  {
    db::Database db(flatDb);
    importer::ImportOptions o;
    o.paths = {d.string()};
    const auto rep = importer::runImport(db, o);
    ASSERT_EQ(rep.addedEcg, 1) << importer::summary(rep);
    bool flagged = false;
    for (const auto& w : rep.warnings) flagged = flagged || w.message == "no signal: all leads flat";
    EXPECT_TRUE(flagged) << importer::summary(rep);
    const auto samples = pipeline::loadSamples(db);
    ASSERT_EQ(samples.size(), 1u);
    try {
      pipeline::ecgInputFromSample(samples[0]);
      FAIL() << "a flat ECG was turned into a model input";
    } catch (const ReadError& e) {
      EXPECT_EQ(e.cause(), "no signal: all leads flat");
    }
  }
  auto r = test::runCli("embed --db " + test::shellQuote(flatDb) + " --model " + test::shellQuote(bundle), true);
  EXPECT_TRUE(has(r.out, "no signal: all leads flat")) << r.out;
  EXPECT_TRUE(has(r.out, "ECG: 0 added")) << r.out;
  db::Database db(flatDb);
  EXPECT_EQ(db.counts().embeddings, 0);
}
