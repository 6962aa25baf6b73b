// core/pipeline + the model CLI jobs (embed, train, predict, retrieve) on a small synthetic cohort.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "io/reader.h"
#include "pipeline/data.h"
#include "signal/preprocess.h"
#include "synth/cohort.h"
#include "test_util.h"
#include "cli_util.h"
#include "cohort_fixture.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

using RunResult = test::CliResult;
// The CLI with stdout captured (stderr discarded).
RunResult cli(const std::string& args) { return test::runCli(args); }
auto& lines = test::nonEmptyLines;
auto& field = test::jsonField;

std::string eventOf(const std::string& l) {
  const std::string k = "\"event\":\"";
  auto p = l.find(k);
  if (p == std::string::npos) return "";
  p += k.size();
  return l.substr(p, l.find('"', p) - p);
}
// A JSON object line: braces/brackets balanced outside strings, starts with {"event":.
bool wellFormed(const std::string& l) {
  if (l.rfind("{\"event\":", 0) != 0 || l.back() != '}') return false;
  int depth = 0;
  bool str = false;
  for (std::size_t i = 0; i < l.size(); ++i) {
    char c = l[i];
    if (str) {
      if (c == '\\') ++i;
      else if (c == '"') str = false;
      continue;
    }
    if (c == '"') str = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') --depth;
    if (depth < 0) return false;
    if (depth == 0 && i + 1 != l.size()) return false;
  }
  return depth == 0 && !str && l.find("nan") == std::string::npos;
}

class PipelineTest : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::string dbPath, bundle;

  static void SetUpTestSuite() {
    auto c = test::makeCohortDb("e2e_pipeline_test", test::smallCohort(24, 11, 16));
    dir = c.dir;
    dbPath = c.dbPath;
    // A tiny freshly initialised bundle (1 ViT block, 32 px clips) keeps the tests fast.
    bundle = (dir / "bundle").string();
    auto r = cli("train --db " + dbPath + " --task pretrain --run-dir " + bundle +
                 " --epochs 0 --ecg-depth 1 --video-size 32 --seed 5");
    ASSERT_EQ(r.rc, 0) << r.out;
    ASSERT_TRUE(fs::exists(fs::path(bundle) / "bundle.json"));
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }

  static std::string bundleHash() {
    std::ifstream f(fs::path(bundle) / "bundle.json");
    std::stringstream ss;
    ss << f.rdbuf();
    return field(ss.str(), "weights_hash");
  }
};

void expectNormalisedEcg(const std::vector<float>& x) {
  ASSERT_EQ(x.size(), pipeline::kEcgLeads * pipeline::kEcgSamples);
  for (float v : x) ASSERT_TRUE(std::isfinite(v));
  // group-wise z-normalisation: each lead group has mean 0 and variance 1 over its block
  std::size_t start = 0;
  for (std::size_t end : {3u, 6u, 12u}) {
    double s = 0, ss = 0;
    const std::size_t n = (end - start) * pipeline::kEcgSamples;
    for (std::size_t i = start * pipeline::kEcgSamples; i < end * pipeline::kEcgSamples; ++i) s += x[i];
    const double m = s / n;
    for (std::size_t i = start * pipeline::kEcgSamples; i < end * pipeline::kEcgSamples; ++i) ss += (x[i] - m) * (x[i] - m);
    EXPECT_NEAR(m, 0.0, 1e-4);
    EXPECT_NEAR(ss / n, 1.0, 1e-3);
    start = end;
  }
}

}  // namespace

TEST(PipelineData, DicomEcgAt1000HzBecomes12x1008At100Hz) {
  const auto path = test::dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm");
  ASSERT_TRUE(fs::exists(path)) << "missing real test data " << path << " (../shared/data or E2E_DATA_DIR)";
  auto rec = std::get<EcgRecord>(readAny(path.string()));
  ASSERT_NE(rec.rhythm(), nullptr);
  EXPECT_NEAR(rec.rhythm()->samplingHz, 1000.0, 1e-6);
  auto x = pipeline::ecgInputFromFile(path.string());
  expectNormalisedEcg(x);
  // same as the documented recipe: 100 Hz, 1008 samples, then the reference preprocessing
  auto tl = signal::buildTwelveLead(rec, 100.0, 1008);
  EXPECT_EQ(tl.samplingHz, 100.0);
  signal::preprocessEcg(tl.matrix);
  ASSERT_EQ(tl.matrix.data.size(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_FLOAT_EQ(tl.matrix.data[i], x[i]);
}

TEST(PipelineData, CincWfdbAt500HzBecomes12x1008) {
  const auto path = test::dataFile("ecg_wfdb/torch_ecg_cinc2021/E07503.hea");
  ASSERT_TRUE(fs::exists(path)) << "missing real test data " << path << " (../shared/data or E2E_DATA_DIR)";
  auto rec = std::get<EcgRecord>(readAny(path.string()));
  EXPECT_NEAR(rec.rhythm()->samplingHz, 500.0, 1e-6);
  auto tl = signal::buildTwelveLead(rec, 100.0, 1008);
  EXPECT_EQ(tl.matrix.cols, 1008u);
  // 10 s at 100 Hz = 1000 samples, zero-padded at the end to 1008
  for (std::size_t r = 0; r < 12; ++r)
    for (std::size_t c = 1000; c < 1008; ++c) EXPECT_EQ(tl.matrix.at(r, c), 0.f);
  expectNormalisedEcg(pipeline::ecgInputFromFile(path.string()));
}

TEST(PipelineData, SplitByPatientIsDeterministicAndDisjoint) {
  std::vector<pipeline::Sample> s(200);
  for (int i = 0; i < 200; ++i) s[i].patientId = "P" + std::to_string(i / 2);  // 2 ECGs per patient
  auto a = pipeline::splitByPatient(s, 7), b = pipeline::splitByPatient(s, 7), c = pipeline::splitByPatient(s, 8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  int counts[3] = {0, 0, 0};
  for (int i = 0; i < 200; i += 2) {
    EXPECT_EQ(a[i], a[i + 1]);  // a patient never straddles splits
    ++counts[a[i]];
  }
  EXPECT_EQ(counts[0], 70);
  EXPECT_EQ(counts[1], 15);
  EXPECT_EQ(counts[2], 15);
}

TEST_F(PipelineTest, SamplesArePairedAndLabelled) {
  db::Database db(dbPath);
  auto s = pipeline::loadSamples(db, "", true);
  ASSERT_EQ(s.size(), 24u);
  for (auto& x : s) {
    EXPECT_EQ(x.echoInstanceIds.size(), 4u);
    EXPECT_TRUE(std::isfinite(x.lvefPercent));
    EXPECT_EQ(x.lvefClass, x.lvefPercent < 40 ? 0 : (x.lvefPercent < 50 ? 1 : 2));
    EXPECT_TRUE(x.shd == 0 || x.shd == 1);
  }
}

TEST_F(PipelineTest, EmbedStoresOneVectorPerEcgAndRerunAddsNone) {
  auto r1 = cli("embed --db " + dbPath + " --model " + bundle + " --quiet");
  ASSERT_EQ(r1.rc, 0) << r1.out;
  EXPECT_NE(r1.out.find("ECG: 24 added"), std::string::npos) << r1.out;
  EXPECT_NE(r1.out.find("echo studies: 24 added"), std::string::npos) << r1.out;
  db::Database db(dbPath);
  const auto hash = bundleHash();
  ASSERT_FALSE(hash.empty());
  auto ecg = db.embeddingsFor(pipeline::ecgEmbeddingId("echo2ecg-pretrain", "1"), hash, pipeline::kPreprocVersion);
  ASSERT_EQ(ecg.size(), 24u);
  std::set<std::int64_t> ids;
  for (auto& e : ecg) {
    ASSERT_TRUE(e.key.instanceRowId.has_value());
    ids.insert(*e.key.instanceRowId);
    ASSERT_EQ(e.vec.size(), 512u);
    double n = 0;
    for (float v : e.vec) n += v * v;
    EXPECT_NEAR(n, 1.0, 1e-4);  // aligned embeddings are L2-normalised
  }
  EXPECT_EQ(ids.size(), 24u);
  EXPECT_EQ(db.embeddingsFor(pipeline::viewEmbeddingId("echo2ecg-pretrain", "1"), hash, pipeline::kPreprocVersion).size(),
            96u);
  const auto before = db.counts().embeddings;
  auto r2 = cli("embed --db " + dbPath + " --model " + bundle + " --quiet");
  ASSERT_EQ(r2.rc, 0);
  EXPECT_NE(r2.out.find("ECG: 0 added, 24 already stored"), std::string::npos) << r2.out;
  EXPECT_EQ(db.counts().embeddings, before);
}

TEST_F(PipelineTest, TrainLinearEmitsProtocolAndRegistersThenPredictStoresProbabilities) {
  const auto run = (dir / "run_lvef").string();
  auto r = cli("train --db " + dbPath + " --task lvef --method linear --model " + bundle + " --run-dir " + run +
               " --epochs 2 --batch-size 8 --seed 1 --json-progress");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto ls = lines(r.out);
  ASSERT_GE(ls.size(), 6u);
  std::vector<std::string> ev;
  for (auto& l : ls) {
    EXPECT_TRUE(wellFormed(l)) << l;
    ev.push_back(eventOf(l));
  }
  EXPECT_EQ(ev.front(), "start");
  EXPECT_EQ(ev.back(), "done");
  EXPECT_EQ(field(ls.front(), "total_epochs"), "2");
  EXPECT_EQ(field(ls.front(), "resumed"), "false");
  EXPECT_NE(ls.front().find("\"classes\":[\"<40\",\"40-49\",\">=50\"]"), std::string::npos);
  // per epoch: steps, then epoch, then checkpoint
  int epochs = 0;
  for (std::size_t i = 1; i + 1 < ev.size(); ++i) {
    if (ev[i] == "epoch") {
      EXPECT_EQ(ev[i - 1], "step");
      EXPECT_EQ(ev[i + 1], "checkpoint");
      EXPECT_EQ(field(ls[i], "epoch"), std::to_string(epochs));
      ++epochs;
    } else {
      EXPECT_TRUE(ev[i] == "step" || ev[i] == "checkpoint") << ev[i];
    }
  }
  EXPECT_EQ(epochs, 2);
  const auto& done = ls.back();
  EXPECT_EQ(field(done, "model_id"), "echo2ecg-lvef");
  const std::string version = field(done, "version");
  EXPECT_NE(done.find("\"auroc_ci\":["), std::string::npos);
  EXPECT_NE(done.find("\"confusion\":[["), std::string::npos);
  EXPECT_TRUE(fs::exists(field(done, "weights_path")));

  db::Database db(dbPath);
  bool registered = false;
  for (auto& m : db.listModels())
    if (m.modelId == "echo2ecg-lvef" && m.version == version) {
      registered = true;
      EXPECT_TRUE(m.active);
      EXPECT_EQ(m.weightsHash, field(done, "weights_hash"));
      EXPECT_NE(m.cardJson.find("\"synthetic\":true"), std::string::npos);
    }
  EXPECT_TRUE(registered);

  // an existing checkpoint without --resume is a usage error
  EXPECT_EQ(cli("train --db " + dbPath + " --task lvef --model " + bundle + " --run-dir " + run).rc, 2);

  // predict: LVEF probabilities of every ECG with the active version, summing to 1
  auto p = cli("predict --db " + dbPath + " --model " + bundle);
  ASSERT_EQ(p.rc, 0) << p.out;
  auto samples = pipeline::loadSamples(db);
  ASSERT_EQ(samples.size(), 24u);
  for (auto& s : samples) {
    auto preds = db.predictionsFor(s.ecgInstanceId);
    bool found = false;
    for (auto& pr : preds) {
      if (pr.task != "lvef") continue;
      found = true;
      EXPECT_EQ(pr.modelId, "echo2ecg-lvef");
      EXPECT_EQ(pr.modelVersion, version);
      EXPECT_EQ(pr.probabilities.size(), 3u);
      double sum = 0;
      for (auto& [c, v] : pr.probabilities) {
        EXPECT_GE(v, 0.0);
        sum += v;
      }
      EXPECT_NEAR(sum, 1.0, 1e-6);
    }
    EXPECT_TRUE(found);
  }
}

TEST_F(PipelineTest, KnnNeedsNoTrainingAndEvaluates) {
  const auto run = (dir / "run_knn").string();
  auto r = cli("train --db " + dbPath + " --task shd --method knn --model " + bundle + " --run-dir " + run +
               " --seed 2 --json-progress");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto ls = lines(r.out);
  ASSERT_EQ(ls.size(), 2u) << r.out;
  EXPECT_EQ(eventOf(ls[0]), "start");
  EXPECT_EQ(eventOf(ls[1]), "done");
  auto e = cli("evaluate --db " + dbPath + " --task shd --model echo2ecg-shd:" + field(ls[1], "version"));
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_NE(e.out.find("auroc"), std::string::npos);
  EXPECT_NE(e.out.find("95% CI"), std::string::npos);
}

TEST_F(PipelineTest, SigtermCancelsAndResumeContinuesFromSavedEpoch) {
  const auto run = (dir / "run_cancel").string();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string cliPath = E2E_CLI_PATH;
  const std::vector<std::string> args = {cliPath, "train", "--db", dbPath, "--task", "lvef", "--model", bundle,
                                         "--run-dir", run, "--epochs", "100000", "--batch-size", "4", "--seed", "3",
                                         "--json-progress"};
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::freopen("/dev/null", "w", stderr);
    std::vector<char*> av;
    for (auto& a : args) av.push_back(const_cast<char*>(a.c_str()));
    av.push_back(nullptr);
    execv(av[0], av.data());
    _exit(127);
  }
  close(fds[1]);
  FILE* in = fdopen(fds[0], "r");
  std::string all, line;
  bool signalled = false;
  char buf[8192];
  while (std::fgets(buf, sizeof buf, in)) {
    line = buf;
    all += line;
    if (!signalled && eventOf(line) == "checkpoint" && field(line, "epoch") == "1") {
      kill(pid, SIGTERM);
      signalled = true;
    }
  }
  fclose(in);
  int st = 0;
  waitpid(pid, &st, 0);
  ASSERT_TRUE(signalled) << all.substr(0, 2000);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  auto ls = lines(all);
  ASSERT_FALSE(ls.empty());
  EXPECT_EQ(eventOf(ls.back()), "cancelled") << ls.back();
  const int cancelledEpoch = std::stoi(field(ls.back(), "epoch"));
  EXPECT_GE(cancelledEpoch, 2);
  EXPECT_TRUE(fs::exists(fs::path(run) / "last.ckpt"));

  auto r = cli("train --db " + dbPath + " --task lvef --model " + bundle + " --run-dir " + run + " --epochs " +
               std::to_string(cancelledEpoch + 1) + " --batch-size 4 --seed 3 --resume --json-progress");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto rl = lines(r.out);
  ASSERT_GE(rl.size(), 3u);
  EXPECT_EQ(eventOf(rl.front()), "start");
  EXPECT_EQ(field(rl.front(), "resumed"), "true");
  EXPECT_EQ(field(rl.front(), "start_epoch"), std::to_string(cancelledEpoch));
  int epochEvents = 0;
  for (auto& l : rl)
    if (eventOf(l) == "epoch") {
      EXPECT_EQ(field(l, "epoch"), std::to_string(cancelledEpoch));
      ++epochEvents;
    }
  EXPECT_EQ(epochEvents, 1);
  EXPECT_EQ(eventOf(rl.back()), "done");
}

TEST_F(PipelineTest, RetrieveExcludesTheQueryPatient) {
  // retrieve searches the stored study embeddings of its model only: compute them first.
  ASSERT_EQ(cli("embed --db " + dbPath + " --model " + bundle + " --quiet").rc, 0);
  db::Database db(dbPath);
  auto samples = pipeline::loadSamples(db);
  ASSERT_FALSE(samples.empty());
  const auto& q = samples.front();
  auto patientsIn = [](const std::string& out) {
    std::vector<std::string> pats;
    for (auto& l : lines(out)) {
      std::istringstream in(l);
      std::string rank, row, sim, pat;
      if (!(in >> rank >> row >> sim >> pat)) continue;
      if (rank.empty() || !std::isdigit(static_cast<unsigned char>(rank[0]))) continue;
      pats.push_back(pat);
    }
    return pats;
  };
  auto r = cli("retrieve --db " + dbPath + " --model " + bundle + " " + std::to_string(q.ecgInstanceId) + " --k 30");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto pats = patientsIn(r.out);
  EXPECT_EQ(pats.size(), 23u) << r.out;  // every other patient's study, never the query's own
  for (auto& p : pats) EXPECT_NE(p, q.patientId);
  auto r2 = cli("retrieve --db " + dbPath + " --model " + bundle + " " + std::to_string(q.ecgInstanceId) +
                " --k 30 --include-same-patient");
  ASSERT_EQ(r2.rc, 0);
  auto pats2 = patientsIn(r2.out);
  EXPECT_EQ(pats2.size(), 24u);
  EXPECT_NE(std::find(pats2.begin(), pats2.end(), q.patientId), pats2.end());
  auto ev = cli("retrieve --db " + dbPath + " --model " + bundle + " --evaluate");
  ASSERT_EQ(ev.rc, 0) << ev.out;
  EXPECT_NE(ev.out.find("\"mAP\":"), std::string::npos) << ev.out;
}

TEST_F(PipelineTest, RetrieveSavesTheIndexAndReusesItWhileEmbeddingsAreUnchanged) {
  ASSERT_EQ(cli("embed --db " + dbPath + " --model " + bundle + " --quiet").rc, 0);
  db::Database db(dbPath);
  const auto q = std::to_string(pipeline::loadSamples(db).front().ecgInstanceId);
  const fs::path indexDir = dbPath + ".index";
  fs::remove_all(indexDir);
  auto withStderr = [](const std::string& args) { return test::runCli(args, true); };
  const std::string args = "retrieve --db " + dbPath + " --model " + bundle + " " + q + " --k 5 --exact-threshold 4 --json";
  auto exact = cli("retrieve --db " + dbPath + " --model " + bundle + " " + q + " --k 5 --json");
  ASSERT_EQ(exact.rc, 0) << exact.out;
  EXPECT_FALSE(fs::exists(indexDir)) << "exact search saves no index";

  auto first = withStderr(args);
  ASSERT_EQ(first.rc, 0) << first.out;
  EXPECT_NE(first.out.find("built the IVF index of 24 studies"), std::string::npos) << first.out;
  std::vector<fs::path> files;
  for (auto& e : fs::directory_iterator(indexDir)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".ivf");

  auto jsonOf = [](const std::string& out) { return out.substr(out.find("{\"model\"")); };
  auto second = withStderr(args);  // reuses the saved graph: same answer, nothing rebuilt
  ASSERT_EQ(second.rc, 0) << second.out;
  EXPECT_EQ(second.out.find("built the IVF index"), std::string::npos) << second.out;
  EXPECT_EQ(jsonOf(second.out), jsonOf(first.out));
  // 24 studies: the approximate search finds the exact ranking (its candidates are re-ranked with
  // the exact search's own dot product)
  auto ids = [](const std::string& out) {
    std::vector<std::string> v;
    for (std::size_t p = out.find("\"study_row_id\":"); p != std::string::npos;
         p = out.find("\"study_row_id\":", p + 1))
      v.push_back(out.substr(p + 15, out.find(',', p) - p - 15));
    return v;
  };
  EXPECT_EQ(ids(first.out).size(), 5u);
  EXPECT_EQ(ids(first.out), ids(exact.out));

  // A damaged file is reported and rebuilt, never trusted.
  {
    std::ofstream f(files[0], std::ios::binary | std::ios::trunc);
    f << "not an index";
  }
  auto damaged = withStderr(args);
  ASSERT_EQ(damaged.rc, 0) << damaged.out;
  EXPECT_NE(damaged.out.find("ignoring the saved retrieval index"), std::string::npos) << damaged.out;
  EXPECT_NE(damaged.out.find("built the IVF index"), std::string::npos) << damaged.out;
  EXPECT_EQ(jsonOf(damaged.out), jsonOf(first.out));
  fs::remove_all(indexDir);
}
