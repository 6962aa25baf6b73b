// Report-supervised echo video-encoder pretraining (`train --task echo-pretrain`), contrastive
// pretraining on top of it (`--video-model`, recipe recorded in the card) and the ECG-only retrieval
// baseline (`retrieve --evaluate --method ecg-features`), on a small synthetic cohort via the CLI.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "model/model.h"
#include "synth/cohort.h"
#include "cli_util.h"
#include "cohort_fixture.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

test::CliResult cli(const std::string& args, bool withStderr = false) { return test::runCli(args, withStderr); }
auto& lines = test::nonEmptyLines;
auto& field = test::jsonField;

using test::readFile;

class EchoPretrainTest : public ::testing::Test {
 protected:
  static inline fs::path dir;
  static inline std::string dbPath;
  static void SetUpTestSuite() {
    auto c = test::makeCohortDb("e2e_echo_pretrain_test", test::smallCohort(24, 23, 16));
    dir = c.dir;
    dbPath = c.dbPath;
  }
  static void TearDownTestSuite() { fs::remove_all(dir); }
};

}  // namespace

TEST_F(EchoPretrainTest, VideoEncoderLearnsReportMeasurementsAndSeedsContrastivePretraining) {
  const auto vid = (dir / "vid").string();
  auto r = cli("train --db " + dbPath + " --task echo-pretrain --run-dir " + vid +
               " --epochs 4 --batch-size 8 --video-size 32 --lr 2e-3 --seed 3 --json-progress");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto ls = lines(r.out);
  ASSERT_GE(ls.size(), 4u);
  EXPECT_EQ(field(ls.front(), "event"), "start");
  EXPECT_NE(ls.front().find("\"targets\":[\"lvef_percent\",\"edv\",\"esv\",\"wall_mm\",\"lv_mass_g\"]"), std::string::npos);
  std::vector<double> trainLoss;
  for (auto& l : ls)
    if (field(l, "event") == "epoch") trainLoss.push_back(std::stod(field(l, "train_loss")));
  ASSERT_EQ(trainLoss.size(), 4u);
  // z-scored targets: a constant predictor scores ~1; the encoder must learn the loops' measurements
  EXPECT_LT(trainLoss.back(), trainLoss.front()) << r.out;
  EXPECT_LT(trainLoss.back(), 0.9) << r.out;
  const auto& done = ls.back();
  ASSERT_EQ(field(done, "event"), "done") << done;
  EXPECT_EQ(field(done, "model_id"), "echo2ecg-echo-pretrain");
  EXPECT_EQ(field(done, "version"), "1");
  for (const char* k : {"lvef_percent_mae", "lvef_percent_r2", "edv_mae", "lv_mass_g_r2"})
    EXPECT_FALSE(field(done, k).empty()) << k << " in " << done;
  const double lvefMae = std::stod(field(done, "lvef_percent_mae"));
  EXPECT_GT(lvefMae, 0.0);
  EXPECT_LT(lvefMae, 40.0);  // in LVEF percentage points, not z units
  ASSERT_TRUE(fs::exists(fs::path(vid) / "bundle.json"));
  {
    db::Database db(dbPath);
    bool found = false;
    for (auto& m : db.listModels())
      if (m.modelId == "echo2ecg-echo-pretrain" && m.version == "1") {
        found = true;
        EXPECT_EQ(m.weightsHash, field(readFile(fs::path(vid) / "bundle.json"), "weights_hash"));
        EXPECT_NE(m.cardJson.find("\"bundle_dir\":"), std::string::npos);
        EXPECT_NE(m.cardJson.find("\"target_sd\":["), std::string::npos);
      }
    EXPECT_TRUE(found);
  }

  // Its ECG side is an untrained placeholder: embedding, retrieval and heads refuse it by name.
  EXPECT_EQ(field(readFile(fs::path(vid) / "bundle.json"), "role"), "video-encoder");
  for (const std::string& args : {"embed --db " + dbPath + " --model echo2ecg-echo-pretrain:1",
                                  "retrieve --db " + dbPath + " --model echo2ecg-echo-pretrain:1 --evaluate",
                                  "train --db " + dbPath + " --task lvef --model echo2ecg-echo-pretrain:1 --run-dir " +
                                      (dir / "head_on_video").string()}) {
    auto e = cli(args, true);
    EXPECT_NE(e.rc, 0) << args;
    EXPECT_NE(e.out.find("is an echo video encoder"), std::string::npos) << args << ": " << e.out;
  }

  // Contrastive pretraining on top: the bundle's video encoder is exactly the echo-pretrained one,
  // and the card records the reference recipe (temperature 0.5, weight decay 1e-7, layer decay 0.75).
  const auto pre = (dir / "pre").string();
  auto p = cli("train --db " + dbPath + " --task pretrain --video-model echo2ecg-echo-pretrain:1 --run-dir " + pre +
               " --epochs 1 --batch-size 8 --ecg-depth 1 --seed 4 --json-progress");
  ASSERT_EQ(p.rc, 0) << p.out;
  auto vw = model::loadTensorArchive((fs::path(vid) / "echo2ecg.pt").string());
  auto pw = model::loadTensorArchive((fs::path(pre) / "echo2ecg.pt").string());
  int videoTensors = 0;
  for (auto& [k, v] : vw) {
    if (k.rfind("video.", 0) != 0) continue;
    ++videoTensors;
    ASSERT_TRUE(pw.count(k)) << k;
    EXPECT_TRUE(torch::equal(v, pw[k])) << k;
  }
  EXPECT_GT(videoTensors, 10);
  const std::string card = readFile(fs::path(pre) / "card.json");
  EXPECT_EQ(field(card, "temperature"), "0.5") << card;
  EXPECT_EQ(field(card, "layer_decay"), "0.75") << card;
  EXPECT_EQ(field(card, "weight_decay"), "1e-07") << card;
  EXPECT_NE(field(card, "video_model").find("echo2ecg-echo-pretrain:1"), std::string::npos) << card;
  const std::string bj = readFile(fs::path(pre) / "bundle.json");
  EXPECT_EQ(field(bj, "video_size"), "32");  // the clip geometry comes with the video encoder
  EXPECT_EQ(field(bj, "role"), "");           // a full Echo2ECG model: embeds and retrieves
}

TEST_F(EchoPretrainTest, BadRequestsGetClearErrors) {
  auto r = cli("train --db " + dbPath + " --task pretrain --video-model nosuch:9 --run-dir " + (dir / "x1").string() +
                   " --epochs 0",
               true);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("nosuch is not registered"), std::string::npos) << r.out;
  r = cli("train --db " + dbPath + " --task echo-pretrain --targets no_such_key --run-dir " + (dir / "x2").string(), true);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("no echo loops with report measurements"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir / "x2" / "bundle.json"));
  EXPECT_EQ(cli("train --db " + dbPath + " --task lvef --targets edv --run-dir " + (dir / "x3").string()).rc, 2);
  EXPECT_EQ(cli("train --db " + dbPath + " --task lvef --video-model x --run-dir " + (dir / "x4").string()).rc, 2);
  EXPECT_EQ(cli("train --db " + dbPath + " --task pretrain --temperature 0 --run-dir " + (dir / "x5").string()).rc, 2);
  EXPECT_EQ(cli("train --db " + dbPath + " --task pretrain --layer-decay 1.5 --run-dir " + (dir / "x6").string()).rc, 2);
  EXPECT_EQ(cli("train --db " + dbPath + " --task pretrain --precision fp16 --run-dir " + (dir / "x7").string()).rc, 2);
}

// bfloat16 autocast (the default on CUDA; --precision bf16 forces it on the CPU, which is what runs
// here): every trained network (ECG ViT, echo view aggregator, video CNN) trains under it, the run
// records its precision, and its losses follow the fp32 run of the same seed closely.
TEST_F(EchoPretrainTest, Bf16AutocastTrainsLikeFp32) {
  auto epochLosses = [](const std::string& out) {
    std::vector<double> v;
    for (auto& l : lines(out))
      if (field(l, "event") == "epoch") v.push_back(std::stod(field(l, "train_loss")));
    return v;
  };
  const std::vector<std::pair<std::string, std::string>> jobs = {
      {"pretrain", " --task pretrain --epochs 2 --batch-size 8 --ecg-depth 1 --video-size 32 --seed 5"},
      {"echo", " --task echo-pretrain --epochs 2 --batch-size 8 --video-size 32 --seed 5"},
  };
  for (const auto& [name, args] : jobs) {
    std::vector<double> loss[2];
    const char* precision[2] = {"fp32", "bf16"};
    for (int k = 0; k < 2; ++k) {
      const auto run = (dir / ("prec_" + name + "_" + precision[k])).string();
      auto r = cli("train --db " + dbPath + args + " --run-dir " + run + " --precision " + precision[k] + " --json-progress");
      ASSERT_EQ(r.rc, 0) << name << " " << precision[k] << ": " << r.out;
      EXPECT_EQ(field(lines(r.out).front(), "precision"), precision[k]) << r.out;
      EXPECT_EQ(field(readFile(fs::path(run) / "card.json"), "precision"), precision[k]);
      loss[k] = epochLosses(r.out);
      ASSERT_EQ(loss[k].size(), 2u) << r.out;
    }
    // bfloat16 matmuls round differently: identical losses would mean autocast never switched on
    EXPECT_NE(loss[0], loss[1]) << name;
    for (std::size_t e = 0; e < 2; ++e) {
      ASSERT_TRUE(std::isfinite(loss[1][e]));
      EXPECT_NEAR(loss[1][e], loss[0][e], 0.05 * std::fabs(loss[0][e]) + 1e-3) << name << " epoch " << e;
    }
  }
  // The default on the CPU is fp32.
  auto d = cli("train --db " + dbPath + " --task pretrain --epochs 0 --ecg-depth 1 --device cpu --dry-run --json-progress --run-dir " +
               (dir / "prec_default").string());
  ASSERT_EQ(d.rc, 0) << d.out;
  EXPECT_EQ(field(lines(d.out).front(), "precision"), "fp32");
}

TEST_F(EchoPretrainTest, EcgFeatureRetrievalBaseline) {
  auto r = cli("retrieve --db " + dbPath + " --evaluate --method ecg-features --seed 2 --json");
  ASSERT_EQ(r.rc, 0) << r.out;
  const double map = std::stod(field(r.out, "mAP"));
  EXPECT_GE(map, 0.0);
  EXPECT_LE(map, 1.0);
  const int targets = std::stoi(field(r.out, "targets"));
  EXPECT_EQ(field(r.out, "queries"), field(r.out, "targets"));  // one paired ECG per test study
  ASSERT_GE(targets, 2);
  ASSERT_LE(targets, 10);  // the test split of 24 patients
  EXPECT_NE(r.out.find("\"method\":\"ecg-features\""), std::string::npos);
  // With the query's own patient kept, its own study (represented by the very same ECG) ranks first
  // and is always "similar": precision@1 is exactly 1, and within the top 10 (every target) each
  // query gains exactly that one hit. Left out (the default), it is not searched at all.
  auto self = cli("retrieve --db " + dbPath + " --evaluate --method ecg-features --seed 2 --json --include-same-patient");
  ASSERT_EQ(self.rc, 0) << self.out;
  EXPECT_DOUBLE_EQ(std::stod(field(self.out, "precision@1")), 1.0);
  EXPECT_DOUBLE_EQ(std::stod(field(self.out, "median_rank")), 1.0);
  EXPECT_NEAR(std::stod(field(self.out, "precision@10")) - std::stod(field(r.out, "precision@10")), 0.1, 1e-5)
      << r.out << "\n" << self.out;
  EXPECT_EQ(cli("retrieve --db " + dbPath + " --method ecg-features 1").rc, 2);
  EXPECT_EQ(cli("retrieve --db " + dbPath + " --evaluate --method nosuch").rc, 2);
}

// ECG-only self-supervised pretraining (the "ECG foundation model without echo" baseline): two
// augmented views of each ECG, no echo, no labels. Its bundle embeds ECGs and carries heads, refuses
// retrieval (untrained echo side), and can start Echo2ECG pretraining with a video encoder.
TEST_F(EchoPretrainTest, EcgOnlySelfSupervisedEncoder) {
  const auto ssl = (dir / "ssl").string();
  auto r = cli("train --db " + dbPath + " --task ecg-pretrain --run-dir " + ssl +
               " --epochs 2 --batch-size 8 --ecg-depth 1 --seed 6 --json-progress");
  ASSERT_EQ(r.rc, 0) << r.out;
  auto ls = lines(r.out);
  EXPECT_EQ(field(ls.front(), "method"), "ecg-contrastive");
  EXPECT_EQ(field(ls.front(), "task"), "ecg-pretrain");
  int epochs = 0;
  for (auto& l : ls)
    if (field(l, "event") == "epoch") {
      ++epochs;
      EXPECT_TRUE(std::isfinite(std::stod(field(l, "val_loss")))) << l;
    }
  EXPECT_EQ(epochs, 2);
  ASSERT_EQ(field(ls.back(), "event"), "done") << ls.back();
  EXPECT_EQ(field(ls.back(), "model_id"), "echo2ecg-ecg-pretrain");
  EXPECT_FALSE(field(ls.back(), "ssl_clip_loss").empty()) << ls.back();
  EXPECT_EQ(field(readFile(fs::path(ssl) / "bundle.json"), "role"), "ecg-encoder");
  EXPECT_EQ(field(readFile(fs::path(ssl) / "card.json"), "task"), "ecg-pretrain");

  // retrieval is refused by name; embedding stores ECG vectors only; a head trains on it
  auto ret = cli("retrieve --db " + dbPath + " --model echo2ecg-ecg-pretrain:1 --evaluate", true);
  EXPECT_NE(ret.rc, 0);
  EXPECT_NE(ret.out.find("is an ECG-only encoder"), std::string::npos) << ret.out;
  {
    auto e = cli("embed --db " + dbPath + " --model echo2ecg-ecg-pretrain:1 --json-progress");
    ASSERT_EQ(e.rc, 0) << e.out;
    EXPECT_EQ(field(e.out, "ecg_added"), "24") << e.out;
    EXPECT_EQ(field(e.out, "studies_added"), "0") << e.out;
  }
  // ... but it is evaluated for retrieval as the ECG-only baselines are: each test study stands for
  // its paired ECG's embedding (same split and relevance as the hand-crafted features).
  {
    auto pe = cli("retrieve --db " + dbPath + " --model echo2ecg-ecg-pretrain:1 --evaluate --method paired-ecg --seed 2 --json");
    ASSERT_EQ(pe.rc, 0) << pe.out;
    auto hc = cli("retrieve --db " + dbPath + " --evaluate --method ecg-features --seed 2 --json");
    ASSERT_EQ(hc.rc, 0) << hc.out;
    EXPECT_EQ(field(pe.out, "targets"), field(hc.out, "targets"));
    EXPECT_EQ(field(pe.out, "queries"), field(pe.out, "targets"));
    const double map = std::stod(field(pe.out, "mAP"));
    EXPECT_GE(map, 0.0);
    EXPECT_LE(map, 1.0);
    EXPECT_NE(pe.out.find("\"method\":\"paired-ecg\""), std::string::npos) << pe.out;
    EXPECT_NE(pe.out.find("echo2ecg-ecg-pretrain"), std::string::npos) << pe.out;
    // its own study is represented by the very same ECG embedding: first, and similar
    auto self = cli("retrieve --db " + dbPath + " --model echo2ecg-ecg-pretrain:1 --evaluate --method paired-ecg --seed 2 "
                    "--json --include-same-patient");
    ASSERT_EQ(self.rc, 0) << self.out;
    EXPECT_DOUBLE_EQ(std::stod(field(self.out, "precision@1")), 1.0) << self.out;
    EXPECT_EQ(cli("retrieve --db " + dbPath + " --model echo2ecg-ecg-pretrain:1 --method paired-ecg 1").rc, 2);
  }
  // its untrained video encoder is never taken as the frozen echo encoder
  {
    auto bad = cli("train --db " + dbPath + " --task pretrain --video-model echo2ecg-ecg-pretrain:1 --run-dir " +
                       (dir / "ssl_as_video").string() + " --epochs 0 --ecg-depth 1 --seed 6",
                   true);
    EXPECT_EQ(bad.rc, 2) << bad.out;
    EXPECT_NE(bad.out.find("its video encoder is untrained"), std::string::npos) << bad.out;
    EXPECT_FALSE(fs::exists(dir / "ssl_as_video" / "bundle.json"));
  }
  auto h = cli("train --db " + dbPath + " --task lvef --method knn --model echo2ecg-ecg-pretrain:1 --run-dir " +
               (dir / "ssl_knn").string() + " --seed 6 --json-progress");
  ASSERT_EQ(h.rc, 0) << h.out;
  EXPECT_FALSE(field(lines(h.out).back(), "auroc").empty()) << h.out;

  // Echo2ECG pretraining from it (as the reference starts from an ECG-only OTiS encoder) with an
  // echo-pretrained video encoder: with 0 epochs, the bundle is exactly the two parts put together.
  const auto vid = (dir / "ssl_vid").string();
  ASSERT_EQ(cli("train --db " + dbPath + " --task echo-pretrain --run-dir " + vid +
                " --epochs 1 --batch-size 8 --video-size 32 --seed 6")
                .rc,
            0);
  const auto joint = (dir / "ssl_joint").string();
  auto j = cli("train --db " + dbPath + " --task pretrain --model echo2ecg-ecg-pretrain:1 --video-model " + vid +
               " --run-dir " + joint + " --epochs 0 --json-progress");
  ASSERT_EQ(j.rc, 0) << j.out;
  auto sw = model::loadTensorArchive((fs::path(ssl) / "echo2ecg.pt").string());
  auto vw = model::loadTensorArchive((fs::path(vid) / "echo2ecg.pt").string());
  auto jw = model::loadTensorArchive((fs::path(joint) / "echo2ecg.pt").string());
  int ecgTensors = 0, videoTensors = 0;
  for (auto& [k, v] : jw) {
    const bool isVideo = k.rfind("video.", 0) == 0;
    const auto& src = isVideo ? vw : sw;
    if (!isVideo && k.find("ecg_encoder.") == std::string::npos) continue;
    ASSERT_TRUE(src.count(k)) << k;
    EXPECT_TRUE(torch::equal(v, src.at(k))) << k;
    ++(isVideo ? videoTensors : ecgTensors);
  }
  EXPECT_GT(ecgTensors, 10);
  EXPECT_GT(videoTensors, 10);
  EXPECT_EQ(field(readFile(fs::path(joint) / "bundle.json"), "role"), "");  // a full Echo2ECG model now
  EXPECT_EQ(field(readFile(fs::path(joint) / "card.json"), "parent"), "echo2ecg-ecg-pretrain:1");
  // a model that already has its echo side does not take another video encoder
  auto bad = cli("train --db " + dbPath + " --task pretrain --model " + joint + " --video-model " + vid +
                     " --run-dir " + (dir / "ssl_bad").string() + " --epochs 0",
                 true);
  EXPECT_EQ(bad.rc, 2) << bad.out;
  EXPECT_NE(bad.out.find("needs an ECG-only encoder"), std::string::npos) << bad.out;
}

// A frozen float32 video encoder (e.g. EchoPrime's converted MViT) taken with --video-model keeps its
// exact float32 weights in the new bundle (video.pt) instead of being rounded to float16 with the rest.
TEST_F(EchoPretrainTest, Float32VideoEncoderIsKeptExactlyInTheNewBundle) {
  const auto f0 = dir / "f0";
  ASSERT_EQ(cli("train --db " + dbPath + " --task pretrain --run-dir " + f0.string() +
                " --epochs 0 --ecg-depth 1 --video-size 32 --seed 8")
                .rc,
            0);
  // A float32 video encoder: the fresh one's weights moved off the float16 grid.
  auto w = model::loadTensorArchive((f0 / "echo2ecg.pt").string());
  model::TensorMap video32;
  bool offGrid = false;
  for (auto& [k, v] : w) {
    if (k.rfind("video.", 0) != 0) continue;
    auto t = v.is_floating_point() ? (v.to(torch::kFloat32) * (1.0 + 1e-4)).contiguous() : v;
    if (t.is_floating_point()) offGrid = offGrid || !torch::equal(t, t.to(torch::kFloat16).to(torch::kFloat32));
    video32[k] = t;
  }
  ASSERT_TRUE(offGrid);
  const auto v32 = dir / "v32";
  fs::create_directories(v32);
  fs::copy_file(f0 / "echo2ecg.pt", v32 / "echo2ecg.pt");
  model::saveTensorArchive((v32 / "video32.pt").string(), video32);
  {
    std::ofstream b(v32 / "bundle.json");
    b << "{\"model_id\":\"video32\",\"version\":\"1\",\"weights\":\"echo2ecg.pt\",\"video_weights\":\"video32.pt\","
         "\"ecg_depth\":1,\"video_encoder\":\"small3dcnn\",\"video_frames\":16,\"video_stride\":2,\"video_size\":32,"
         "\"video_mean\":30,\"video_std\":50}\n";
  }
  const auto p32 = dir / "p32";
  auto r = cli("train --db " + dbPath + " --task pretrain --video-model " + v32.string() + " --run-dir " + p32.string() +
               " --epochs 1 --batch-size 8 --seed 8 --json-progress");
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string bj = readFile(p32 / "bundle.json");
  EXPECT_EQ(field(bj, "video_weights"), "video.pt") << bj;
  EXPECT_EQ(field(bj, "video_weights_dtype"), "float32") << bj;
  auto saved = model::loadTensorArchive((p32 / "video.pt").string());
  ASSERT_EQ(saved.size(), video32.size());
  for (auto& [k, v] : video32) {
    ASSERT_TRUE(saved.count(k)) << k;
    EXPECT_EQ(saved[k].scalar_type(), v.scalar_type()) << k;
    EXPECT_TRUE(torch::equal(saved[k], v)) << k;  // bit-identical: the frozen encoder is unchanged
  }
  // the trained parts stay float16 beside it, without a second copy of the video encoder
  for (auto& [k, v] : model::loadTensorArchive((p32 / "echo2ecg.pt").string())) {
    EXPECT_NE(k.rfind("video.", 0), 0u) << k;
    if (v.is_floating_point()) EXPECT_EQ(v.scalar_type(), torch::kFloat16) << k;
  }
  // and the new bundle embeds (its study vectors come from this exact encoder)
  auto e = cli("embed --db " + dbPath + " --model " + p32.string() + " --json-progress");
  EXPECT_EQ(e.rc, 0) << e.out;
}
