// The state of one training job as the panel sees it, Qt-free: fed with protocol events and the
// process exit, it keeps the state machine, the curves (loss per step, losses and validation
// metrics per epoch), progress/ETA, the split check and the final result.
//
//   Idle --start()--> Running --cancel()--> Cancelling --exit 130 / cancelled--> Cancelled
//   Idle --check()--> Checking --exit 0--> Checked (split counts known)
//   Running --done + exit 0--> Done;  any non-zero exit without done/cancelled --> Failed
//   Cancelled/Failed --resume()--> Running (same run dir, --resume)
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "viewmodel/training_protocol.h"

namespace e2e::vm {

enum class RunState { Idle, Checking, Checked, Running, Cancelling, Cancelled, Done, Failed };
const char* toString(RunState s);

// Command line options of `echo2ecg train` (docs/training-protocol.md).
struct TrainingConfig {
  std::string db, task = "lvef", method = "linear", runDir;
  int epochs = 10, batchSize = 64, seed = 0;
  double lr = 5e-4, weightDecay = 1e-7;
  std::string device = "auto";  // auto|cpu|cuda
  std::string baseModel;        // MODEL_ID:VERSION
  std::string filterText, labelKey;
  std::vector<std::string> extraArgs;  // appended as is (e.g. --ecg-depth 1 --video-size 32)
};
// The arguments after the program name ("train", "--db", ...), always with --json-progress.
std::vector<std::string> trainArguments(const TrainingConfig& c, bool resume, bool dryRun);
// Tasks that train an encoder (pretrain, ecg-pretrain, echo-pretrain): no classifier --method.
bool isEncoderTask(const std::string& task);
// "lvef-20261124-131500" style run dir name.
std::string runDirName(const std::string& task, const std::string& timestamp);
// The label key a task needs ("" for pretrain).
std::string labelKeyForTask(const std::string& task);

struct CurvePoint {
  double x = 0, y = 0;
};

class TrainingRun {
 public:
  RunState state() const { return state_; }
  bool resumable() const;  // Cancelled, or Failed with a checkpoint seen

  // Transitions requested by the UI; false (nothing changes) when not allowed in this state.
  bool start();   // fresh run: clears curves
  bool check();   // --dry-run
  bool resume();  // keeps curves; new points continue from the checkpoint epoch
  bool cancel();
  // An unfinished run remembered from an earlier session: Idle -> Cancelled (resumable).
  bool restoreCancelled(int checkpointEpoch, const std::string& checkpointPath);

  // Process output. Returns false if the event was ignored (e.g. after the end).
  bool apply(const TrainingEvent& e);
  // One stdout line: parses and applies; a malformed line adds a warning and changes nothing.
  bool applyLine(const std::string& line);
  // The process ended (crashed: killed by a signal).
  void finished(int exitCode, bool crashed);
  // The process could not be started at all, or the job was refused before it started (e.g. a
  // read-only database): Failed, with `why` as the message ("cannot start PROGRAM: reason").
  void failedToStart(const std::string& why);

  // ---- what the panel shows
  const std::vector<CurvePoint>& stepLoss() const { return stepLoss_; }          // x: global step
  const std::vector<CurvePoint>& trainLoss() const { return trainLoss_; }        // x: epoch + 1
  const std::vector<CurvePoint>& valLoss() const { return valLoss_; }
  const std::map<std::string, std::vector<CurvePoint>>& valMetrics() const { return valMetrics_; }
  double progress() const;       // 0..1
  double etaSeconds() const;     // -1 when unknown
  int currentEpoch() const { return epoch_; }
  int lastCheckpointEpoch() const { return checkpointEpoch_; }
  const std::string& checkpointPath() const { return checkpointPath_; }
  const TrainingEvent& startEvent() const { return start_; }
  bool hasStart() const { return hasStart_; }
  const TrainingEvent& doneEvent() const { return done_; }
  bool hasDone() const { return hasDone_; }
  const std::string& errorMessage() const { return error_; }
  const std::vector<std::string>& warnings() const { return warnings_; }
  std::string statusText() const;  // one line for the status label

  static std::string formatDuration(double seconds);  // "1 h 02 min", "3 min 05 s", "12 s"

 private:
  void resetCurves();
  RunState state_ = RunState::Idle;
  bool dryRun_ = false, sawCancelled_ = false, hasStart_ = false, hasDone_ = false;
  TrainingEvent start_, done_;
  std::vector<CurvePoint> stepLoss_, trainLoss_, valLoss_;
  std::map<std::string, std::vector<CurvePoint>> valMetrics_;
  int epoch_ = -1, checkpointEpoch_ = -1;
  double globalStep_ = 0, totalSteps_ = 0, eta_ = -1, elapsed_ = -1;
  double startStep_ = 0;  // global step this process started at (resume)
  std::string checkpointPath_, error_;
  std::vector<std::string> warnings_;
};

}  // namespace e2e::vm
