// Published weights in, exactly: the official Echo2ECG run layout (written by the fixture writer
// tools/echo2ecg_reference.py --official-run from the project's reference model), OTiS checkpoints,
// through tools/convert_checkpoint.py, `echo2ecg models import` (the registry) and `echo2ecg embed`
// on a real LUDB ECG. The oracle is the reference model (parity with core/model: test_model).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_util.h"
#include "db/database.h"
#include "model/model.h"
#include "pipeline/bundle.h"
#include "pipeline/data.h"
#include "pipeline/embedding_model.h"
#include "retrieval/study_search.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace e2e;

namespace {

const std::string kPython = "/usr/bin/python3";

double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat32) - b.to(torch::kFloat32)).abs().max().item<double>();
}

struct Fixture {
  fs::path dir, ref, run;
  bool ok = false;
};

// One reference model, written once per process: weights.pt, inputs/outputs.pt, OTiS checkpoints,
// and the official run directory with echo_multimodal.ckpt (a seeded mvit_v2_s).
const Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    x.dir = fs::temp_directory_path() / ("e2e_import_" + std::to_string(::getpid()));
    fs::remove_all(x.dir);
    fs::create_directories(x.dir);
    x.ref = x.dir / "ref";
    x.run = x.dir / "official_run";
    const std::string cmd = kPython + " " + E2E_SOURCE_DIR + "/tools/echo2ecg_reference.py --out " + x.ref.string() +
                            " --official-run " + x.run.string() + " --with-video > " +
                            (x.dir / "fixture.log").string() + " 2>&1";
    x.ok = std::system(cmd.c_str()) == 0;
    return x;
  }();
  return f;
}

fs::path freshDir(const std::string& name) {
  const fs::path d = fixture().dir / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// Copies the official run (symlinks would let a test's damage reach the shared fixture).
fs::path copyRun(const std::string& name) {
  const fs::path d = freshDir(name);
  fs::copy(fixture().run, d / "run", fs::copy_options::recursive);
  return d / "run";
}

std::size_t registeredVersions(const fs::path& db) {
  if (!fs::exists(db)) return 0;
  db::Database d(db.string());
  return d.listModels().size();
}

// Model version folders and staging folders under DB.models (must be none after a failed import).
std::size_t storedBundles(const fs::path& db) {
  const fs::path store = db.string() + ".models";
  std::size_t n = 0;
  if (!fs::exists(store)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(store))
    if (e.is_regular_file() && e.path().filename() == "bundle.json") ++n;
    else if (e.is_directory() && e.path().filename().string().rfind(".staging-", 0) == 0) ++n;
  return n;
}

std::string importCmd(const fs::path& what, const fs::path& db, const std::string& extra = "") {
  return "models import " + test::shellQuote(what.string()) + " --db " + test::shellQuote(db.string()) + " " + extra;
}

}  // namespace

TEST(OfficialRun, ConvertsToTheOfficialFunction) {
  const auto& fx = fixture();
  ASSERT_TRUE(fx.ok) << test::readFile(fx.dir / "fixture.log");
  const fs::path out = freshDir("bundle");
  const std::string conv = kPython + " " + E2E_SOURCE_DIR + "/tools/convert_checkpoint.py echo2ecg-run " +
                           fx.run.string() + " " + out.string() + " > " + (out / "log").string() + " 2>&1";
  ASSERT_EQ(std::system(conv.c_str()), 0) << test::readFile(out / "log");
  pipeline::Bundle b = pipeline::loadBundle(out.string());
  EXPECT_EQ(b.modelId, "echo2ecg-pretrain");
  EXPECT_DOUBLE_EQ(b.ecgCfg.globalNormEps, 1e-5);
  EXPECT_EQ(b.echoDim, 1024);
  EXPECT_EQ(b.videoEncoder, "mvit_v2_s");
  EXPECT_FALSE(b.syntheticTrainingData);
  EXPECT_FALSE(b.viewMean.defined()) << "the official model has no per-view normalisation";
  EXPECT_TRUE(b.weightsFp32);
  // Every tensor is the reference's, bit for bit (the padding row of pos_embed_y is zero in both).
  auto weights = model::loadTensorArchive((fx.ref / "weights.pt").string());
  EXPECT_EQ(model::weightsHash(*b.net), model::weightsHash(weights));
  auto video = model::loadTensorArchive((fx.ref / "video_weights.pt").string());
  EXPECT_EQ(model::weightsHash(*b.video->module()), model::weightsHash(video));
  // And the functions: the reference's outputs on its inputs.
  auto in = model::loadTensorArchive((fx.ref / "inputs.pt").string());
  auto want = model::loadTensorArchive((fx.ref / "outputs.pt").string());
  torch::NoGradGuard ng;
  EXPECT_LE(maxAbsDiff(b.net->ecg_encoder->forward(in.at("ecg")), want.at("ecg_feature")), 1e-5);
  EXPECT_LE(maxAbsDiff(b.net->embedEcg(in.at("ecg")), want.at("ecg_emb")), 1e-5);
  EXPECT_LE(maxAbsDiff(b.net->embedEcho(in.at("views"), in.at("valid")), want.at("echo_emb")), 1e-5);
}

TEST(OfficialRun, ImportsOnceAndEmbedsARealEcgAsTheReference) {
  const auto& fx = fixture();
  ASSERT_TRUE(fx.ok);
  const fs::path d = freshDir("registry");
  const fs::path db = d / "studies.db";
  auto r = test::runCli(importCmd(fx.run, db, "--activate --json"), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  const auto lines = test::nonEmptyLines(r.out);
  Json done;
  for (const auto& l : lines) {
    const Json j = Json::parse(l, nullptr, false);
    if (j.is_object() && j.value("event", "") == "done") done = j;
  }
  ASSERT_TRUE(done.is_object()) << r.out;
  EXPECT_EQ(done["model_id"], "echo2ecg-pretrain");
  EXPECT_EQ(done["version"], "1");
  EXPECT_EQ(done["kind"], "echo2ecg-run");
  EXPECT_EQ(done["sources"].size(), 8u) << "7 checkpoint files and config.yaml";
  {
    db::Database reg(db.string());
    const auto rows = reg.listModels();
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_TRUE(rows[0].active);
    const Json card = Json::parse(rows[0].cardJson);
    EXPECT_EQ(card["task"], "import");
    EXPECT_EQ(card["import"]["source_files"].size(), 8u);
    EXPECT_EQ(card["import"]["source_files"][0]["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(card["architecture"]["ecg_global_norm_eps"].get<double>(), 1e-5);
    EXPECT_EQ(card["data"]["synthetic"], false);
    EXPECT_TRUE(fs::exists(fs::path(card["bundle_dir"].get<std::string>()) / "bundle.json"));
  }
  // The same files again: nothing changes.
  r = test::runCli(importCmd(fx.run, db), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("already imported: echo2ecg-pretrain 1"), std::string::npos) << r.out;
  EXPECT_EQ(registeredVersions(db), 1u);
  EXPECT_EQ(storedBundles(db), 1u);

  // A real ECG through `import` and `embed` with the imported (active) model.
  const fs::path ecg = fs::path(E2E_DATA_DIR) / "ecg_wfdb/ludb/data/1.hea";
  ASSERT_EQ(test::runCli("import " + test::shellQuote(ecg.string()) + " --db " + test::shellQuote(db.string())).rc, 0);
  r = test::runCli("embed --db " + test::shellQuote(db.string()), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  db::Database reg(db.string());
  auto m = pipeline::resolveEmbeddingModel(reg);
  EXPECT_EQ(m.label(), "echo2ecg-pretrain:1");
  // Official weights take the official code's input: Fourier resampling (scipy.signal.resample).
  EXPECT_EQ(m.preprocVersion, pipeline::kPreprocFourierVersion);
  const auto inst = reg.listInstances();
  ASSERT_EQ(inst.size(), 1u);
  auto stored = retrieval::storedEcgVector(reg, m, inst[0].id);
  ASSERT_TRUE(stored.has_value());
  // The oracle: the reference weights in a model with the official global norm, on this ECG's input.
  model::EcgEncoderConfig cfg;
  cfg.globalNormEps = 1e-5;
  model::Echo2Ecg ref(cfg);
  model::loadStateDict(*ref, model::loadTensorArchive((fx.ref / "weights.pt").string()), true);
  ref->eval();
  model::setFusedAttention(false);  // the literal reference attention
  torch::NoGradGuard ng;
  auto x = torch::tensor(pipeline::ecgInputFromFile(ecg.string(), pipeline::kPreprocFourierVersion)).reshape({1, 12, 1008});
  auto want = ref->embedEcg(x)[0];
  model::setFusedAttention(true);
  auto got = torch::tensor(*stored);
  ASSERT_EQ(got.numel(), want.numel());
  const double cosine = torch::dot(got, want).item<double>() / (got.norm().item<double>() * want.norm().item<double>());
  EXPECT_GE(cosine, 0.99999);
  EXPECT_LE(maxAbsDiff(got, want), 1e-4);
}

TEST(OfficialRun, BadInputsAreClearErrorsAndRegisterNothing) {
  const auto& fx = fixture();
  ASSERT_TRUE(fx.ok);
  const fs::path db = freshDir("bad") / "studies.db";
  struct Case {
    std::string name, expect;
    std::function<void(const fs::path&)> damage;
  };
  const std::vector<Case> cases = {
      {"truncated", "ecg_multimodal.ckpt: not a readable PyTorch checkpoint",
       [](const fs::path& run) { fs::resize_file(run / "checkpoints/ecg_multimodal.ckpt", 100000); }},
      {"missing", "missing component(s) token_aggregator.ckpt",
       [](const fs::path& run) { fs::remove(run / "checkpoints/token_aggregator.ckpt"); }},
      {"width", "echo_alignment_global_token.ckpt: bias-free Linear: wrong shape weight (512, 512)",
       [](const fs::path& run) {
         const std::string py = kPython + " -c \"import torch; p='" + (run / "checkpoints/echo_alignment_global_token.ckpt").string() +
                                "'; c=torch.load(p); c['model']['weight']=torch.zeros(512,512); torch.save(c,p)\"";
         ASSERT_EQ(std::system(py.c_str()), 0);
       }},
      {"extra", "ecg_multimodal.ckpt: ECG encoder: unexpected blocks.0.attn.extra",
       [](const fs::path& run) {
         const std::string py = kPython + " -c \"import torch; p='" + (run / "checkpoints/ecg_multimodal.ckpt").string() +
                                "'; c=torch.load(p); c['model']['blocks.0.attn.extra']=torch.zeros(3); torch.save(c,p)\"";
         ASSERT_EQ(std::system(py.c_str()), 0);
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path run = copyRun("bad_" + c.name);
    c.damage(run);
    auto r = test::runCli(importCmd(run, db), true);
    EXPECT_NE(r.rc, 0) << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << r.out;
    EXPECT_EQ(registeredVersions(db), 0u);
    EXPECT_EQ(storedBundles(db), 0u);
  }
  auto r = test::runCli(importCmd(fixture().dir / "nothing_here", db), true);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("no such file or folder"), std::string::npos) << r.out;
}

TEST(Otis, ImportsTheEncoderForPretraining) {
  const auto& fx = fixture();
  ASSERT_TRUE(fx.ok);
  const fs::path db = freshDir("otis") / "studies.db";
  auto r = test::runCli(importCmd(fx.ref / "otis_checkpoint.pth", db), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("imported otis as echo2ecg-ecg-pretrain 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("echo2ecg train --task pretrain --model echo2ecg-ecg-pretrain:1"), std::string::npos);
  db::Database reg(db.string());
  const auto rows = reg.listModels();
  ASSERT_EQ(rows.size(), 1u);
  const Json card = Json::parse(rows[0].cardJson);
  EXPECT_EQ(card["role"], "ecg-encoder");
  pipeline::Bundle b = pipeline::loadBundle(card["bundle_dir"].get<std::string>());
  EXPECT_EQ(b.role, "ecg-encoder");
  // The encoder's tokens are the reference's (the long time table is cut to 1 + 42 rows, the ECG
  // rows of the multi-domain lead embedding picked after the offset).
  auto in = model::loadTensorArchive((fx.ref / "inputs.pt").string());
  auto want = model::loadTensorArchive((fx.ref / "outputs.pt").string());
  torch::NoGradGuard ng;
  EXPECT_LE(maxAbsDiff(b.net->ecg_encoder->forwardTokens(in.at("ecg")).select(1, 0), want.at("ecg_tokens_cls")), 1e-5);
  // A shorter time table is interpolated as the official interpolate_pos_embed_x does.
  const fs::path shortOut = fixture().dir / "otis_short_bundle";
  const std::string conv = kPython + " " + E2E_SOURCE_DIR + "/tools/convert_checkpoint.py otis " +
                           (fx.ref / "otis_short.pth").string() + " " + shortOut.string() + " > /dev/null 2>&1";
  ASSERT_EQ(std::system(conv.c_str()), 0);
  pipeline::Bundle s = pipeline::loadBundle(shortOut.string());
  auto pos = model::loadTensorArchive((fx.ref / "otis_short_pos_x.pt").string()).at("pos_embed_x");
  EXPECT_LE(maxAbsDiff(s.net->ecg_encoder->pos_embed_x, pos), 1e-7);
}
