// `--precision` on the commands that run the encoders for the user: a clear usage error for any
// value but auto / fp32 / bf16; `echo2ecg info` prints the machine's default and the CPU flags it
// came from; `echo2ecg retrieve` searches only study vectors of the query's precision and, when the
// model has them in another precision only, says so and what to do.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cli_util.h"
#include "common/hash.h"
#include "db/database.h"
#include "model/blas_core.h"
#include "model/precision.h"
#include "pipeline/embedding_model.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

class PrecisionCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_precision_cli_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string db() const { return test::shellQuote((dir_ / "t.db").string()); }
  fs::path dir_;
};

std::vector<float> randomVec(std::mt19937& rng) {
  std::normal_distribution<float> n;
  std::vector<float> v(512);
  for (auto& x : v) x = n(rng);
  return v;
}

}  // namespace

TEST_F(PrecisionCli, OtherValuesAreAUsageError) {
  for (const char* cmd : {"embed", "predict", "retrieve 1"}) {
    const auto r = test::runCli(std::string(cmd) + " --db " + db() + " --precision fp16", true);
    EXPECT_EQ(r.rc, 2) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find("--precision must be auto, fp32 or bf16 (not 'fp16')"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(fs::exists(dir_ / "t.db"));  // refused before the database was opened
}

TEST_F(PrecisionCli, InfoPrintsTheDefaultAndWhy) {
  const auto r = test::runCli("info --db " + db(), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto expected = model::resolvePrecision(std::nullopt, false);  // this test machine has no CUDA libtorch
  EXPECT_NE(r.out.find(std::string("Inference precision (default, --precision auto): ") + expected.name() + " (" +
                       expected.reason + ")"),
            std::string::npos)
      << r.out;
  const bool bf16 = model::hostCpuFlags().count("avx512_bf16") > 0;
  EXPECT_NE(r.out.find(std::string("avx512_bf16 ") + (bf16 ? "yes" : "no")), std::string::npos) << r.out;
}

// The test suite pins E2E_PRECISION=fp32 (tests/test_home.cpp); without it `auto` is the CPU's
// choice, with it the site default, and a bad value is an error that names the variable.
TEST_F(PrecisionCli, SiteDefaultFromTheEnvironmentElseTheCpu) {
  const auto run = [&](const std::string& envPrefix) { return test::runCli("info --db " + db(), true, envPrefix); };
  const auto cpu = model::resolvePrecision(std::nullopt, model::hostCpuFlags(), false);
  const auto unset = run("env -u E2E_PRECISION");
  ASSERT_EQ(unset.rc, 0) << unset.out;
  EXPECT_NE(unset.out.find(std::string("(default, --precision auto): ") + cpu.name() + " (auto: "), std::string::npos)
      << unset.out;
  const auto pinned = run("env E2E_PRECISION=bf16");
  ASSERT_EQ(pinned.rc, 0) << pinned.out;
  EXPECT_NE(pinned.out.find("(default, --precision auto): bf16 (set by E2E_PRECISION=bf16)"), std::string::npos)
      << pinned.out;
  const auto bad = run("env E2E_PRECISION=fp16");
  EXPECT_NE(bad.rc, 0) << bad.out;
  EXPECT_NE(bad.out.find("E2E_PRECISION must be auto, fp32 or bf16 (not 'fp16')"), std::string::npos) << bad.out;
}

// Study vectors of the bundled model stored in bf16 only: an fp32 search is refused with the
// precision they were made in; a bf16 search uses them (and only them).
TEST_F(PrecisionCli, RetrieveSearchesOnlyTheQueryPrecision) {
  std::int64_t query = 0;
  {
    db::Database d((dir_ / "t.db").string());
    const auto m = pipeline::resolveEmbeddingModel(d, "");
    ASSERT_FALSE(m.weightsHash.empty());
    std::mt19937 rng(21);
    for (int i = 0; i < 4; ++i) {
      const std::string s = std::to_string(i);
      EcgRecord ecg;
      ecg.format = SourceFormat::DicomEcg;
      ecg.identity.patientId = "P" + s;
      ecg.identity.patientName = "PATIENT^" + s;
      ecg.identity.studyUid = "1.2.826.0.21.1." + s;
      ecg.identity.seriesUid = "1.2.826.0.21.2." + s;
      ecg.identity.modality = "ECG";
      ecg.identity.sopInstanceUid = "1.2.826.0.21.3." + s;
      EcgGroup g;
      g.samplingHz = 500;
      g.numSamples = 5000;
      ecg.groups.push_back(g);
      const auto e = d.insertEcg(ecg, {(dir_ / ("ecg" + s)).string(), 1, sha256Hex("ecg" + s)});
      EchoInfo echo;
      echo.format = SourceFormat::DicomEcho;
      echo.identity = ecg.identity;
      echo.identity.seriesUid = "1.2.826.0.21.4." + s;
      echo.identity.modality = "US";
      echo.identity.sopInstanceUid = "1.2.826.0.21.5." + s;
      echo.rows = echo.cols = 64;
      echo.frames = 4;
      d.insertEcho(echo, {(dir_ / ("echo" + s)).string(), 1, sha256Hex("echo" + s)});
      std::int64_t study = -1;
      for (const auto& st : d.listStudies())
        if (st.studyUid == ecg.identity.studyUid) study = st.id;
      db::EmbeddingKey k;
      k.weightsHash = m.weightsHash;
      k.preprocVersion = m.preprocVersion;
      k.precision = "bf16";
      k.modelId = m.studyKey();
      k.studyRowId = study;
      d.putEmbedding(k, randomVec(rng), "");
      k.studyRowId.reset();
      k.instanceRowId = e.instanceId;
      k.modelId = m.ecgKey();
      d.putEmbedding(k, randomVec(rng));
      if (i == 0) query = e.instanceId;
    }
  }
  const std::string q = std::to_string(query);
  auto r = test::runCli("retrieve --db " + db() + " --precision fp32 " + q, true);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("embeddings were made in bf16, not fp32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("or pass --precision bf16"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--precision fp32`"), std::string::npos) << r.out;  // the re-embed command keeps it
  r = test::runCli("retrieve --db " + db() + " --precision bf16 --include-same-patient --json " + q, false);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("\"precision\":\"bf16\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"searched_studies\":4"), std::string::npos) << r.out;
}

// Every stored prediction names the precision of the ECG embedding it came from (schema 8): a real
// LUDB ECG predicted in bf16 and in fp32 gives rows marked bf16 and fp32, in `predict --json` and in
// `show`, and the two precisions' probabilities agree closely (same weights, same ECG).
TEST_F(PrecisionCli, PredictionsRecordTheirPrecision) {
  const char* data = std::getenv("E2E_DATA_DIR");
  if (!data) GTEST_SKIP() << "E2E_DATA_DIR not set";
  const fs::path rec = fs::path(data) / "ecg_wfdb" / "ludb" / "data";
  const fs::path hea = fs::exists(rec / "1.hea") ? rec / "1.hea" : fs::path(data) / "ecg_wfdb" / "ludb" / "1.hea";
  ASSERT_TRUE(fs::exists(hea)) << hea;
  auto r = test::runCli("import --db " + db() + " " + test::shellQuote(hea.string()), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  std::int64_t id = 0;
  {
    db::Database d((dir_ / "t.db").string(), db::Database::Mode::ReadOnly);
    const auto rows = d.browseRows();
    ASSERT_EQ(rows.size(), 1u);
    id = rows[0].instanceRowId;
  }
  const std::string q = std::to_string(id);
  for (const char* p : {"bf16", "fp32"}) {
    r = test::runCli("predict --db " + db() + " --json --precision " + p + " " + q, false);
    ASSERT_EQ(r.rc, 0) << r.out;
    const auto lines = test::nonEmptyLines(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.out;  // lvef and shd
    for (const auto& l : lines)
      EXPECT_NE(l.find(std::string("\"precision\":\"") + p + "\""), std::string::npos) << l;
  }
  db::Database d((dir_ / "t.db").string(), db::Database::Mode::ReadOnly);
  const auto preds = d.predictionsFor(id);
  ASSERT_EQ(preds.size(), 4u);
  EXPECT_EQ(preds[0].precision, "bf16");
  EXPECT_EQ(preds[1].precision, "bf16");
  EXPECT_EQ(preds[2].precision, "fp32");
  EXPECT_EQ(preds[3].precision, "fp32");
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(preds[i].task, preds[i + 2].task);
    ASSERT_FALSE(preds[i].probabilities.empty());
    for (const auto& [c, v] : preds[i].probabilities) EXPECT_NEAR(v, preds[i + 2].probabilities.at(c), 0.02) << c;
  }
  r = test::runCli("show --db " + db() + " " + q, false);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Z, bf16)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Z, fp32)"), std::string::npos) << r.out;
}

// echo2ecg never runs on OpenBLAS's generic Prescott kernels when the CPU has AVX2 or AVX-512 (a
// virtual CPU OpenBLAS does not recognise gets them otherwise, fp32 GEMMs 4.5x slower): it starts
// itself again with OPENBLAS_CORETYPE set. A user's own OPENBLAS_CORETYPE is kept as it is.
TEST_F(PrecisionCli, NeverRunsOnGenericBlasKernelsOfAModernCpu) {
  const auto run = [&](const std::string& envPrefix) { return test::runCli("info --db " + db(), true, envPrefix); };
  const auto plain = run("env -u OPENBLAS_CORETYPE -u E2E_BLAS_REEXEC");
  ASSERT_EQ(plain.rc, 0) << plain.out;
  ASSERT_NE(plain.out.find("BLAS: OpenBLAS, "), std::string::npos) << plain.out;
  if (model::betterOpenBlasCore("Prescott", model::hostCpuFlags()).empty())
    GTEST_SKIP() << "this CPU has neither AVX2 nor AVX-512: Prescott kernels may be right";
  EXPECT_EQ(plain.out.find("Prescott kernels"), std::string::npos) << plain.out;
  const auto user = run("env -u E2E_BLAS_REEXEC OPENBLAS_CORETYPE=Prescott");
  ASSERT_EQ(user.rc, 0) << user.out;
  EXPECT_NE(user.out.find("BLAS: OpenBLAS, Prescott kernels (OPENBLAS_CORETYPE from the environment)"),
            std::string::npos)
      << user.out;
}
