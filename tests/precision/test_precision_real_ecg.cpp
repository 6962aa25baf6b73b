// The bundled ECG encoder under bfloat16 autocast against fp32 on real ECGs: 20 LUDB records and 20
// CinC 2021 records (12-lead, 500 Hz, real patients), embedded through the embed pipeline
// (pipeline::EcgEmbedder, Bundle::precision) into a study database. Each record's bf16 vector must
// agree with its fp32 vector to cosine >= 0.999; both are stored, each under its own precision.
// On a CPU without native bfloat16 (this CI machine) oneDNN emulates it: the same numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <string>
#include <variant>
#include <vector>

#include "common/hash.h"
#include "db/database.h"
#include "io/reader.h"
#include "pipeline/bundle.h"
#include "pipeline/embedder.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

const fs::path kData = E2E_DATA_DIR;

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    d += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return d / std::sqrt(na * nb);
}

// The first `n` records (by name) of a WFDB folder that read as ECGs, imported into `db`.
std::vector<pipeline::Sample> importRecords(db::Database& db, const fs::path& dir, std::size_t n,
                                           const std::vector<std::string>& names = {}) {
  std::vector<std::string> heas = names;
  if (heas.empty()) {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".hea") heas.push_back(e.path().filename().string());
    std::sort(heas.begin(), heas.end());
  }
  std::vector<pipeline::Sample> out;
  for (const auto& h : heas) {
    if (out.size() == n) break;
    const std::string path = (dir / h).string();
    auto obj = readAny(path);
    if (!std::holds_alternative<EcgRecord>(obj)) continue;
    const auto r = db.insertEcg(std::get<EcgRecord>(obj), {path, fs::file_size(path), sha256File(path)});
    pipeline::Sample s;
    s.ecgInstanceId = r.instanceId;
    s.ecgPath = path;
    out.push_back(s);
  }
  return out;
}

}  // namespace

TEST(PrecisionRealEcg, Bf16EmbeddingsAgreeWithFp32OnLudbAndCinc) {
  const fs::path ludb = kData / "ecg_wfdb" / "ludb" / "data";
  const fs::path cinc = kData / "ecg_wfdb" / "torch_ecg_cinc2021";
  ASSERT_TRUE(fs::is_directory(ludb)) << ludb;
  ASSERT_TRUE(fs::is_directory(cinc)) << cinc;
  const fs::path dir = fs::temp_directory_path() / "e2e_precision_real_ecg";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    db::Database db((dir / "t.db").string());
    std::vector<std::string> ludbNames;
    for (int i = 1; i <= 20; ++i) ludbNames.push_back(std::to_string(i) + ".hea");
    const auto ludbSamples = importRecords(db, ludb, 20, ludbNames);
    const auto cincSamples = importRecords(db, cinc, 20);
    ASSERT_EQ(ludbSamples.size(), 20u);
    ASSERT_EQ(cincSamples.size(), 20u);
    std::vector<pipeline::Sample> all = ludbSamples;
    all.insert(all.end(), cincSamples.begin(), cincSamples.end());

    pipeline::setThreads(0);
    pipeline::Bundle b = pipeline::loadBundle(pipeline::requireModelsDir(""));
    ASSERT_EQ(b.precision, model::Precision::Fp32);  // fp32 unless a job sets it
    pipeline::EcgEmbedder fp32(db, b);
    fp32.ensure(all, 20);
    ASSERT_TRUE(fp32.errors.empty()) << fp32.errors.front();
    ASSERT_EQ(fp32.added, 40);
    b.precision = model::Precision::Bf16;
    pipeline::EcgEmbedder bf16(db, b);
    EXPECT_EQ(bf16.key(all[0].ecgInstanceId).precision, "bf16");
    bf16.ensure(all, 20);
    ASSERT_TRUE(bf16.errors.empty()) << bf16.errors.front();
    ASSERT_EQ(bf16.added, 40) << "the bf16 vectors are not the stored fp32 ones";
    EXPECT_EQ(db.counts().embeddings, 80);

    double minLudb = 1, minCinc = 1, sum = 0, maxDiff = 0;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto* a = fp32.find(all[i].ecgInstanceId);
      const auto* c = bf16.find(all[i].ecgInstanceId);
      ASSERT_TRUE(a && c);
      ASSERT_EQ(a->size(), c->size());
      const double cs = cosine(*a, *c);
      EXPECT_GE(cs, 0.999) << all[i].ecgPath;
      (i < ludbSamples.size() ? minLudb : minCinc) = std::min(i < ludbSamples.size() ? minLudb : minCinc, cs);
      sum += cs;
      for (std::size_t k = 0; k < a->size(); ++k) maxDiff = std::max(maxDiff, std::fabs(double((*a)[k]) - (*c)[k]));
    }
    EXPECT_GT(maxDiff, 0.0) << "bf16 and fp32 vectors are identical: autocast never ran";
    std::cout << "bf16 vs fp32 cosine, bundled ECG encoder: min LUDB " << minLudb << ", min CinC " << minCinc
              << ", mean " << sum / static_cast<double>(all.size()) << " over " << all.size()
              << " records; max |difference| " << maxDiff << "\n";
    ::testing::Test::RecordProperty("min_cosine_ludb", std::to_string(minLudb));
    ::testing::Test::RecordProperty("min_cosine_cinc", std::to_string(minCinc));

    // A second bf16 run reads what is stored under bf16 and computes nothing.
    pipeline::EcgEmbedder again(db, b);
    again.ensure(all, 20);
    EXPECT_EQ(again.added, 0);
    EXPECT_EQ(again.skipped, 40);
  }
  fs::remove_all(dir);
}
