// The pipelined embed loop (issue 21): the next batch of ECG files is read and preprocessed on a
// second thread while the encoder runs the current one. On real LUDB records it must store exactly
// the vectors of the sequential loop (bit for bit), report the same error lines in the same order for
// files that cannot be read, and store the same batches when cancelled.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "pipeline/data.h"
#include "db/database.h"
#include "io/reader.h"
#include "jobs/embed.h"
#include "pipeline/bundle.h"
#include "pipeline/embedder.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

const fs::path kLudb = fs::path(E2E_DATA_DIR) / "ecg_wfdb" / "ludb" / "data";

struct Fixture {
  fs::path dir;
  std::vector<pipeline::Sample> samples;
};

// LUDB records 1..n imported into `dbPath`.
std::vector<pipeline::Sample> importLudb(const fs::path& dbPath, int n) {
  db::Database db(dbPath.string());
  std::vector<pipeline::Sample> out;
  for (int i = 1; i <= n; ++i) {
    const std::string path = (kLudb / (std::to_string(i) + ".hea")).string();
    auto obj = readAny(path);
    if (!std::holds_alternative<EcgRecord>(obj)) throw std::runtime_error("not an ECG: " + path);
    const auto r =
        db.insertEcg(std::get<EcgRecord>(obj), {path, fs::file_size(path), pipeline::instanceContentHash(path)});
    pipeline::Sample s;
    s.ecgInstanceId = r.instanceId;
    s.ecgPath = path;
    out.push_back(s);
  }
  return out;
}

fs::path freshDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

bool sameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Runs the embed job on a copy of base.db; returns the stored ECG vectors by instance id.
std::map<std::int64_t, std::vector<float>> embedJob(const fs::path& dir, const std::string& name, bool pipelined,
                                                    model::Precision precision,
                                                    const std::vector<pipeline::Sample>& samples) {
  const fs::path dbPath = dir / (name + ".db");
  fs::copy_file(dir / "base.db", dbPath);
  db::Database db(dbPath.string());
  jobs::EmbedRequest req;
  req.model = (dir / "bundle").string();
  req.batchSize = 4;  // 21 records: 5 full batches and a partial one
  req.threads = 2;
  req.device = "cpu";
  req.precision = precision;
  req.pipelined = pipelined;
  const auto rep = jobs::runEmbed(db, req);
  EXPECT_EQ(rep.ecgAdded, static_cast<int>(samples.size())) << name;
  EXPECT_EQ(rep.errors, 0) << name << ": " << (rep.errorMessages.empty() ? "" : rep.errorMessages[0]);
  // Read back what was stored, with the keys of the job's model.
  auto m = rep.model;
  pipeline::Bundle b = pipeline::loadEmbeddingBundle(m);
  b.precision = precision;
  pipeline::EcgEmbedder stored(db, b);
  stored.ensure(samples, 8);
  EXPECT_EQ(stored.skipped, static_cast<int>(samples.size())) << name << ": the job's vectors are not all stored";
  EXPECT_EQ(stored.added, 0) << name;
  return stored.byInstance;
}

}  // namespace

TEST(PipelinedEmbed, EmbedJobStoresSameVectorsAsSequentialOnLudb) {
  ASSERT_TRUE(fs::is_directory(kLudb)) << kLudb;
  const fs::path dir = freshDir("e2e_embed_pipelined_job");
  const auto samples = importLudb(dir / "base.db", 21);
  pipeline::Bundle b = pipeline::freshBundle(2, 32, 11);
  pipeline::saveBundle(b, (dir / "bundle").string());
  for (auto p : {model::Precision::Fp32, model::Precision::Bf16}) {
    const std::string tag = model::precisionName(p);
    const auto seq = embedJob(dir, "seq_" + tag, false, p, samples);
    const auto pip = embedJob(dir, "pip_" + tag, true, p, samples);
    ASSERT_EQ(seq.size(), samples.size());
    ASSERT_EQ(pip.size(), samples.size());
    for (const auto& s : samples) {
      ASSERT_TRUE(pip.count(s.ecgInstanceId)) << s.ecgPath;
      EXPECT_TRUE(sameBits(seq.at(s.ecgInstanceId), pip.at(s.ecgInstanceId)))
          << tag << " " << s.ecgPath << ": the pipelined vector differs from the sequential one";
    }
  }
  fs::remove_all(dir);
}

TEST(PipelinedEmbed, ErrorsAndCancellationMatchSequential) {
  ASSERT_TRUE(fs::is_directory(kLudb)) << kLudb;
  const fs::path dir = freshDir("e2e_embed_pipelined_errors");
  auto samples = importLudb(dir / "base.db", 10);
  fs::copy_file(dir / "base.db", dir / "other.db");
  // Unreadable files inside batches: a missing file and a file that is not an ECG (LUDB annotations).
  pipeline::Sample missing, notEcg;
  missing.ecgInstanceId = 100001;
  missing.ecgPath = (dir / "missing.hea").string();
  notEcg.ecgInstanceId = 100002;
  notEcg.ecgPath = (kLudb / "1.avf").string();
  samples.insert(samples.begin() + 2, missing);
  samples.insert(samples.begin() + 7, notEcg);
  pipeline::Bundle b = pipeline::freshBundle(2, 32, 5);
  pipeline::setThreads(2);

  db::Database dbSeq((dir / "base.db").string()), dbPip((dir / "other.db").string());
  pipeline::EcgEmbedder seq(dbSeq, b), pip(dbPip, b);
  seq.pipelined = false;
  // Cancelled after the second batch: both store the same two batches and nothing else.
  auto cancelAfter = [](job::CancelToken& t, int batches) {
    auto calls = std::make_shared<int>(0);
    return [&t, calls, batches](int, int) {
      if (++*calls == batches) t.cancel();
    };
  };
  job::CancelToken cs, cp;
  seq.ensure(samples, 3, cs, cancelAfter(cs, 2));
  pip.ensure(samples, 3, cp, cancelAfter(cp, 2));
  EXPECT_EQ(seq.added, 5);  // batch 1: 2 of 3 read; batch 2: 3
  EXPECT_EQ(pip.added, seq.added);
  EXPECT_EQ(pip.errors, seq.errors);
  ASSERT_EQ(seq.errors.size(), 1u);

  // The rest, to the end (the missing file is tried again): the same vectors and the same error
  // lines in the same order.
  seq.ensure(samples, 3);
  pip.ensure(samples, 3);
  EXPECT_EQ(seq.added, 10);
  EXPECT_EQ(pip.added, 10);
  ASSERT_EQ(seq.errors.size(), 3u);
  EXPECT_EQ(pip.errors, seq.errors);
  EXPECT_NE(seq.errors[0].find("missing.hea"), std::string::npos) << seq.errors[0];
  EXPECT_NE(seq.errors[1].find("missing.hea"), std::string::npos) << seq.errors[1];
  EXPECT_NE(seq.errors[2].find("1.avf"), std::string::npos) << seq.errors[2];
  int distinct = 0;
  for (const auto& s : samples) {
    const auto* a = seq.find(s.ecgInstanceId);
    const auto* c = pip.find(s.ecgInstanceId);
    ASSERT_EQ(a == nullptr, c == nullptr) << s.ecgPath;
    if (!a) continue;
    EXPECT_TRUE(sameBits(*a, *c)) << s.ecgPath;
    if (!sameBits(*a, *seq.find(samples[0].ecgInstanceId))) ++distinct;
  }
  EXPECT_EQ(distinct, 9) << "records should embed to different vectors";
  fs::remove_all(dir);
}
