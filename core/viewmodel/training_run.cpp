#include "viewmodel/training_run.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace e2e::vm {

const char* toString(RunState s) {
  switch (s) {
    case RunState::Idle: return "idle";
    case RunState::Checking: return "checking";
    case RunState::Checked: return "checked";
    case RunState::Running: return "running";
    case RunState::Cancelling: return "cancelling";
    case RunState::Cancelled: return "cancelled";
    case RunState::Done: return "done";
    case RunState::Failed: return "failed";
  }
  return "?";
}

namespace {
std::string num(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}
}  // namespace

bool isEncoderTask(const std::string& task) {
  return task == "pretrain" || task == "ecg-pretrain" || task == "echo-pretrain";
}

std::vector<std::string> trainArguments(const TrainingConfig& c, bool resume, bool dryRun) {
  std::vector<std::string> a = {"train", "--db", c.db, "--task", c.task};
  if (!isEncoderTask(c.task) && !c.method.empty()) a.insert(a.end(), {"--method", c.method});
  a.insert(a.end(), {"--run-dir", c.runDir, "--epochs", std::to_string(c.epochs), "--batch-size",
                     std::to_string(c.batchSize), "--lr", num(c.lr), "--weight-decay", num(c.weightDecay), "--seed",
                     std::to_string(c.seed), "--device", c.device.empty() ? "auto" : c.device});
  if (!c.baseModel.empty()) a.insert(a.end(), {"--base-model", c.baseModel});
  if (!c.filterText.empty()) a.insert(a.end(), {"--filter-text", c.filterText});
  if (!c.labelKey.empty()) a.insert(a.end(), {"--label-key", c.labelKey});
  a.insert(a.end(), c.extraArgs.begin(), c.extraArgs.end());
  if (resume) a.push_back("--resume");
  if (dryRun) a.push_back("--dry-run");
  a.push_back("--json-progress");
  return a;
}

std::string runDirName(const std::string& task, const std::string& timestamp) { return task + "-" + timestamp; }

std::string labelKeyForTask(const std::string& task) {
  if (task == "lvef") return "lvef_class";
  if (task == "shd") return "shd";
  return "";
}

bool TrainingRun::resumable() const {
  return state_ == RunState::Cancelled || (state_ == RunState::Failed && checkpointEpoch_ >= 0);
}

void TrainingRun::resetCurves() {
  stepLoss_.clear();
  trainLoss_.clear();
  valLoss_.clear();
  valMetrics_.clear();
  epoch_ = checkpointEpoch_ = -1;
  globalStep_ = totalSteps_ = startStep_ = 0;
  eta_ = elapsed_ = -1;
  checkpointPath_.clear();
  hasStart_ = hasDone_ = false;
  start_ = done_ = TrainingEvent{};
}

bool TrainingRun::start() {
  if (state_ == RunState::Running || state_ == RunState::Checking || state_ == RunState::Cancelling) return false;
  resetCurves();
  error_.clear();
  warnings_.clear();
  dryRun_ = false;
  sawCancelled_ = false;
  state_ = RunState::Running;
  return true;
}

bool TrainingRun::check() {
  if (state_ == RunState::Running || state_ == RunState::Checking || state_ == RunState::Cancelling) return false;
  resetCurves();
  error_.clear();
  dryRun_ = true;
  sawCancelled_ = false;
  state_ = RunState::Checking;
  return true;
}

bool TrainingRun::resume() {
  if (!resumable()) return false;
  // Points after the checkpoint are dropped when the resumed job says where it starts.
  error_.clear();
  dryRun_ = false;
  sawCancelled_ = false;
  hasDone_ = false;
  eta_ = -1;
  state_ = RunState::Running;
  return true;
}

bool TrainingRun::cancel() {
  if (state_ != RunState::Running && state_ != RunState::Checking) return false;
  state_ = RunState::Cancelling;
  return true;
}

bool TrainingRun::restoreCancelled(int checkpointEpoch, const std::string& checkpointPath) {
  if (state_ != RunState::Idle && state_ != RunState::Checked && state_ != RunState::Failed &&
      state_ != RunState::Done)
    return false;
  resetCurves();
  error_.clear();
  checkpointEpoch_ = checkpointEpoch;
  checkpointPath_ = checkpointPath;
  sawCancelled_ = true;
  state_ = RunState::Cancelled;
  return true;
}

bool TrainingRun::applyLine(const std::string& line) {
  const ParseResult r = parseProgressLine(line);
  if (!r.ok) {
    std::string shown = line.size() > 120 ? line.substr(0, 120) + "..." : line;
    warnings_.push_back("ignored progress line: " + r.warning + ": " + shown);
    return false;
  }
  return apply(r.event);
}

bool TrainingRun::apply(const TrainingEvent& e) {
  if (state_ != RunState::Running && state_ != RunState::Checking && state_ != RunState::Cancelling) return false;
  switch (e.kind) {
    case EventKind::Start: {
      start_ = e;
      hasStart_ = true;
      const double spe = std::max(0, e.stepsPerEpoch);
      totalSteps_ = spe * std::max(0, e.totalEpochs);
      globalStep_ = startStep_ = spe * std::max(0, e.startEpoch);
      if (e.startEpoch > 0) epoch_ = e.startEpoch - 1;
      // A resumed job redoes everything after its checkpoint: drop those points (epoch points
      // sit at x = epoch + 1, step points at the global step).
      {
        const double maxEpochX = std::max(0, e.startEpoch);
        auto trim = [](std::vector<CurvePoint>& v, double maxX) {
          v.erase(std::remove_if(v.begin(), v.end(), [&](const CurvePoint& p) { return p.x > maxX + 1e-9; }), v.end());
        };
        trim(trainLoss_, maxEpochX);
        trim(valLoss_, maxEpochX);
        for (auto& kv : valMetrics_) trim(kv.second, maxEpochX);
        trim(stepLoss_, maxEpochX * spe);
      }
      break;
    }
    case EventKind::Step: {
      const int spe = start_.stepsPerEpoch;
      // `step` is the step within the epoch when below steps_per_epoch, else the global step.
      const double g = (spe > 0 && e.step <= spe) ? static_cast<double>(e.epoch) * spe + e.step : e.step;
      globalStep_ = g;
      if (e.totalSteps > 0) totalSteps_ = e.totalSteps;
      if (std::isfinite(e.loss)) stepLoss_.push_back({g, e.loss});
      elapsed_ = e.elapsedS;
      if (e.etaS >= 0) {
        eta_ = e.etaS;
      } else if (e.elapsedS > 0 && g > startStep_ && totalSteps_ > 0) {
        eta_ = e.elapsedS / (g - startStep_) * std::max(0.0, totalSteps_ - g);
      }
      break;
    }
    case EventKind::Epoch: {
      epoch_ = e.epoch;
      const double x = e.epoch + 1;
      if (std::isfinite(e.trainLoss)) trainLoss_.push_back({x, e.trainLoss});
      if (e.hasValLoss) valLoss_.push_back({x, e.valLoss});
      for (const auto& kv : e.valMetrics) valMetrics_[kv.first].push_back({x, kv.second});
      if (start_.stepsPerEpoch > 0) globalStep_ = std::max(globalStep_, x * start_.stepsPerEpoch);
      break;
    }
    case EventKind::Checkpoint:
      checkpointEpoch_ = e.epoch;
      checkpointPath_ = e.path;
      break;
    case EventKind::Done:
      done_ = e;
      hasDone_ = true;
      globalStep_ = totalSteps_;
      eta_ = 0;
      break;
    case EventKind::Cancelled:
      sawCancelled_ = true;
      // `epoch` is the interrupted epoch (redone on resume); completed ones come from checkpoints.
      if (!e.path.empty()) {
        checkpointPath_ = e.path;
        if (checkpointEpoch_ < 0 && e.epoch > 0) checkpointEpoch_ = e.epoch - 1;
      }
      break;
    case EventKind::Error:
      error_ = e.message;
      break;
  }
  return true;
}

void TrainingRun::finished(int exitCode, bool crashed) {
  if (state_ != RunState::Running && state_ != RunState::Checking && state_ != RunState::Cancelling) return;
  if (!crashed && exitCode == 0 && dryRun_) {
    if (hasStart_) {
      state_ = RunState::Checked;
    } else {
      state_ = RunState::Failed;
      if (error_.empty()) error_ = "the split check printed no start event";
    }
    return;
  }
  if (!crashed && exitCode == 0 && hasDone_) {
    state_ = RunState::Done;
    return;
  }
  if (!crashed && (exitCode == 130 || sawCancelled_)) {
    state_ = RunState::Cancelled;
    return;
  }
  state_ = RunState::Failed;
  std::string why;
  if (crashed)
    why = "the training process crashed";
  else if (exitCode == 0)
    why = "the training process ended without a result";
  else if (exitCode == 2)
    why = "the training process rejected its arguments (exit code 2)";
  else
    why = "the training process failed (exit code " + std::to_string(exitCode) + ")";
  error_ = error_.empty() ? why : why + ": " + error_;
}

void TrainingRun::failedToStart(const std::string& why) {
  if (state_ != RunState::Running && state_ != RunState::Checking && state_ != RunState::Cancelling) return;
  state_ = RunState::Failed;
  error_ = why;
}

double TrainingRun::progress() const {
  if (state_ == RunState::Done) return 1.0;
  if (totalSteps_ <= 0) return 0.0;
  return std::clamp(globalStep_ / totalSteps_, 0.0, 1.0);
}

double TrainingRun::etaSeconds() const {
  if (state_ != RunState::Running) return state_ == RunState::Done ? 0 : -1;
  return eta_;
}

std::string TrainingRun::formatDuration(double s) {
  if (!(s >= 0)) return "--";
  const long long t = std::llround(s);
  char b[48];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%lld h %02lld min", t / 3600, (t % 3600) / 60);
  else if (t >= 60)
    std::snprintf(b, sizeof b, "%lld min %02lld s", t / 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%lld s", t);
  return b;
}

std::string TrainingRun::statusText() const {
  switch (state_) {
    case RunState::Idle: return "Ready";
    case RunState::Checking: return "Checking the split...";
    case RunState::Checked: return "Split checked";
    case RunState::Running: {
      std::string s = "Running";
      if (epoch_ >= 0 && start_.totalEpochs > 0)
        s += " - epoch " + std::to_string(std::min(epoch_ + 1, start_.totalEpochs)) + "/" +
             std::to_string(start_.totalEpochs);
      if (etaSeconds() >= 0) s += " - ETA " + formatDuration(etaSeconds());
      return s;
    }
    case RunState::Cancelling: return "Cancelling (writing a checkpoint)...";
    case RunState::Cancelled:
      return "Cancelled \u2014 resumable" +
             (checkpointEpoch_ >= 0 ? " (checkpoint after epoch " + std::to_string(checkpointEpoch_ + 1) + ")"
                                    : std::string());
    case RunState::Done:
      return "Done" + (hasDone_ && !done_.modelId.empty() ? ": " + done_.modelId + " v" + done_.version : std::string());
    case RunState::Failed: return "Failed: " + error_;
  }
  return "";
}

}  // namespace e2e::vm
