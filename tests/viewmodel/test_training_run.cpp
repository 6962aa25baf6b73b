// The run state machine, curves, progress and ETA of the training panel (Qt-free).
#include <gtest/gtest.h>

#include <algorithm>

#include "viewmodel/training_run.h"

using namespace e2e::vm;

namespace {
const char* kStart =
    R"({"event":"start","task":"lvef","method":"linear","total_epochs":3,"steps_per_epoch":2,"start_epoch":0,)"
    R"("classes":["<40","40-49",">=50"],"split":{"train":{"patients":7,"class_counts":[2,2,3]}}})";
std::string step(int e, int s, double loss, double elapsed = -1) {
  std::string l = R"({"event":"step","epoch":)" + std::to_string(e) + R"(,"step":)" + std::to_string(s) +
                  R"(,"total_steps":6,"loss":)" + std::to_string(loss);
  if (elapsed >= 0) l += R"(,"elapsed_s":)" + std::to_string(elapsed);
  return l + "}";
}
std::string epoch(int e) {
  return R"({"event":"epoch","epoch":)" + std::to_string(e) + R"(,"train_loss":0.5,"val_loss":0.6,"val_metrics":{"auroc":0.7}})";
}
std::string ckpt(int e) { return R"({"event":"checkpoint","epoch":)" + std::to_string(e) + R"(,"path":"/r/last.ckpt"})"; }
}  // namespace

TEST(TrainingRun, Arguments) {
  TrainingConfig c;
  c.db = "/d/s.db";
  c.runDir = "/d/runs/x";
  c.filterText = "P0";
  c.labelKey = "lvef_class";
  c.extraArgs = {"--ecg-depth", "1"};
  const auto a = trainArguments(c, true, false);
  ASSERT_GE(a.size(), 5u);
  EXPECT_EQ(a[0], "train");
  auto has = [&](const std::string& k, const std::string& v) {
    auto it = std::find(a.begin(), a.end(), k);
    return it != a.end() && it + 1 != a.end() && *(it + 1) == v;
  };
  EXPECT_TRUE(has("--db", "/d/s.db"));
  EXPECT_TRUE(has("--task", "lvef"));
  EXPECT_TRUE(has("--method", "linear"));
  EXPECT_TRUE(has("--run-dir", "/d/runs/x"));
  EXPECT_TRUE(has("--batch-size", "64"));
  EXPECT_TRUE(has("--lr", "0.0005"));
  EXPECT_TRUE(has("--weight-decay", "1e-07"));
  EXPECT_TRUE(has("--seed", "0"));
  EXPECT_TRUE(has("--device", "auto"));
  EXPECT_TRUE(has("--filter-text", "P0"));
  EXPECT_TRUE(has("--label-key", "lvef_class"));
  EXPECT_TRUE(has("--ecg-depth", "1"));
  EXPECT_NE(std::find(a.begin(), a.end(), "--resume"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "--json-progress"), a.end());
  EXPECT_EQ(std::find(a.begin(), a.end(), "--dry-run"), a.end());
  c.task = "pretrain";
  const auto p = trainArguments(c, false, true);
  EXPECT_EQ(std::find(p.begin(), p.end(), "--method"), p.end());
  EXPECT_NE(std::find(p.begin(), p.end(), "--dry-run"), p.end());
  c.task = "echo-pretrain";  // trains the video encoder: no classifier method either
  const auto e = trainArguments(c, false, false);
  EXPECT_EQ(std::find(e.begin(), e.end(), "--method"), e.end());
  EXPECT_NE(std::find(e.begin(), e.end(), "echo-pretrain"), e.end());
  c.task = "ecg-pretrain";  // ECG-only self-supervised encoder: no classifier method
  const auto s = trainArguments(c, false, false);
  EXPECT_EQ(std::find(s.begin(), s.end(), "--method"), s.end());
  EXPECT_TRUE(isEncoderTask("ecg-pretrain"));
  EXPECT_FALSE(isEncoderTask("lvef"));
  EXPECT_EQ(labelKeyForTask("shd"), "shd");
  EXPECT_EQ(labelKeyForTask("pretrain"), "");
}

TEST(TrainingRun, FullRunToDone) {
  TrainingRun r;
  EXPECT_EQ(r.state(), RunState::Idle);
  EXPECT_FALSE(r.cancel());
  EXPECT_FALSE(r.resume());
  ASSERT_TRUE(r.start());
  EXPECT_FALSE(r.start());  // already running
  EXPECT_TRUE(r.applyLine(kStart));
  EXPECT_TRUE(r.applyLine(step(0, 1, 1.0, 2.0)));
  EXPECT_NEAR(r.progress(), 1.0 / 6, 1e-9);
  EXPECT_NEAR(r.etaSeconds(), 10.0, 1e-9);  // 2 s per step, 5 to go
  EXPECT_TRUE(r.applyLine(step(0, 2, 0.9)));
  EXPECT_TRUE(r.applyLine(epoch(0)));
  EXPECT_TRUE(r.applyLine(ckpt(0)));
  EXPECT_TRUE(r.applyLine(step(1, 1, 0.8)));
  EXPECT_FALSE(r.applyLine("garbage"));
  EXPECT_EQ(r.warnings().size(), 1u);
  ASSERT_EQ(r.stepLoss().size(), 3u);
  EXPECT_DOUBLE_EQ(r.stepLoss()[2].x, 3);  // global step: epoch 1 step 1
  ASSERT_EQ(r.trainLoss().size(), 1u);
  EXPECT_DOUBLE_EQ(r.trainLoss()[0].x, 1);
  EXPECT_EQ(r.valMetrics().at("auroc").size(), 1u);
  EXPECT_EQ(r.lastCheckpointEpoch(), 0);
  EXPECT_NE(r.statusText().find("epoch 1/3"), std::string::npos);
  EXPECT_TRUE(r.applyLine(R"({"event":"done","model_id":"m","version":"1","roc":{"fpr":[0,1],"tpr":[0,1]},"confusion":[[1]]})"));
  r.finished(0, false);
  EXPECT_EQ(r.state(), RunState::Done);
  EXPECT_DOUBLE_EQ(r.progress(), 1.0);
  EXPECT_TRUE(r.hasDone());
  EXPECT_EQ(r.doneEvent().modelId, "m");
  EXPECT_FALSE(r.resumable());
  EXPECT_FALSE(r.applyLine(step(2, 1, 0.1)));  // after the end: ignored
}

TEST(TrainingRun, CancelAndResumeContinuesTheCurve) {
  TrainingRun r;
  ASSERT_TRUE(r.start());
  r.applyLine(kStart);
  r.applyLine(step(0, 1, 1.0));
  r.applyLine(step(0, 2, 0.9));
  r.applyLine(epoch(0));
  r.applyLine(ckpt(0));
  r.applyLine(step(1, 1, 0.8));  // lost by the cancel: redone after resume
  ASSERT_TRUE(r.cancel());
  EXPECT_EQ(r.state(), RunState::Cancelling);
  r.applyLine(R"({"event":"cancelled","epoch":0,"checkpoint":"/r/last.ckpt"})");
  r.finished(130, false);
  EXPECT_EQ(r.state(), RunState::Cancelled);
  EXPECT_TRUE(r.resumable());
  EXPECT_NE(r.statusText().find("resumable"), std::string::npos);
  EXPECT_EQ(r.checkpointPath(), "/r/last.ckpt");
  ASSERT_TRUE(r.resume());
  r.applyLine(R"({"event":"start","total_epochs":3,"steps_per_epoch":2,"start_epoch":1,"resumed":true})");
  EXPECT_EQ(r.stepLoss().size(), 2u);  // the step after the checkpoint is dropped
  EXPECT_EQ(r.trainLoss().size(), 1u);
  EXPECT_NEAR(r.progress(), 2.0 / 6, 1e-9);
  r.applyLine(step(1, 1, 0.8));
  r.applyLine(step(1, 2, 0.7));
  r.applyLine(epoch(1));
  EXPECT_EQ(r.trainLoss().size(), 2u);
  EXPECT_DOUBLE_EQ(r.trainLoss().back().x, 2);
  EXPECT_EQ(r.stepLoss().size(), 4u);
  r.finished(130, false);  // exit 130 without a cancelled event still counts as cancelled
  EXPECT_EQ(r.state(), RunState::Cancelled);
}

TEST(TrainingRun, CrashAndErrorsFail) {
  TrainingRun r;
  r.start();
  r.applyLine(kStart);
  r.finished(0, true);
  EXPECT_EQ(r.state(), RunState::Failed);
  EXPECT_NE(r.errorMessage().find("crashed"), std::string::npos);
  EXPECT_FALSE(r.resumable());  // no checkpoint yet

  r.start();
  r.applyLine(kStart);
  r.applyLine(ckpt(0));
  r.applyLine(R"({"event":"error","message":"CUDA out of memory"})");
  r.finished(1, false);
  EXPECT_EQ(r.state(), RunState::Failed);
  EXPECT_NE(r.errorMessage().find("exit code 1"), std::string::npos);
  EXPECT_NE(r.errorMessage().find("CUDA out of memory"), std::string::npos);
  EXPECT_TRUE(r.resumable());  // a checkpoint exists

  r.start();
  r.finished(0, false);  // exit 0 but no done event
  EXPECT_EQ(r.state(), RunState::Failed);
  r.start();
  r.finished(2, false);
  EXPECT_NE(r.errorMessage().find("arguments"), std::string::npos);
}

TEST(TrainingRun, SplitCheckAndRestore) {
  TrainingRun r;
  ASSERT_TRUE(r.check());
  EXPECT_EQ(r.state(), RunState::Checking);
  r.applyLine(kStart);
  r.finished(0, false);
  EXPECT_EQ(r.state(), RunState::Checked);
  EXPECT_EQ(r.startEvent().split.at("train").patients, 7);
  ASSERT_TRUE(r.check());
  r.finished(0, false);  // no start event
  EXPECT_EQ(r.state(), RunState::Failed);

  TrainingRun restored;
  ASSERT_TRUE(restored.restoreCancelled(4, "/r/last.ckpt"));
  EXPECT_EQ(restored.state(), RunState::Cancelled);
  EXPECT_TRUE(restored.resumable());
  EXPECT_TRUE(restored.resume());
  EXPECT_EQ(restored.state(), RunState::Running);
}

TEST(TrainingRun, FormatDuration) {
  EXPECT_EQ(TrainingRun::formatDuration(-1), "--");
  EXPECT_EQ(TrainingRun::formatDuration(12.4), "12 s");
  EXPECT_EQ(TrainingRun::formatDuration(185), "3 min 05 s");
  EXPECT_EQ(TrainingRun::formatDuration(3720), "1 h 02 min");
}

// A trainer that cannot be started (or a job refused before it starts) is not a crash: the status
// says why, e.g. "Failed: cannot start /x/echo2ecg: execve: No such file or directory".
TEST(TrainingRun, FailedToStartSaysWhyNotCrashed) {
  TrainingRun r;
  r.failedToStart("ignored while idle");
  EXPECT_EQ(r.state(), RunState::Idle);
  ASSERT_TRUE(r.check());
  r.failedToStart("cannot start /x/echo2ecg: execve: No such file or directory");
  EXPECT_EQ(r.state(), RunState::Failed);
  EXPECT_EQ(r.statusText(), "Failed: cannot start /x/echo2ecg: execve: No such file or directory");
  EXPECT_EQ(r.statusText().find("crashed"), std::string::npos);
  EXPECT_FALSE(r.resumable());
  ASSERT_TRUE(r.start());  // a new try is possible
  EXPECT_EQ(r.state(), RunState::Running);
}
