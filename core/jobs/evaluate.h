// The evaluate job: a task head (LVEF class or SHD) on the test split of the study database, with
// bootstrap confidence intervals.
#pragma once
#include <cstdint>
#include <string>

#include "pipeline/classification_report.h"

namespace e2e::jobs {

struct EvaluateRequest {
  std::string dbPath, task;  // task: "lvef" | "shd"
  std::string model;         // "ID:VERSION", "ID" (active), "" = active or bundled
  std::string modelDir;      // a bundle directory (its own head, see pipeline::loadPredictor)
  std::uint64_t seed = 0;    // 0 = the head's training seed
  int bootstrap = 1000;
};

struct EvaluateReport {
  std::string modelId, version, task, method;
  std::uint64_t seed = 0;  // the split's seed
  pipeline::MetricsWithCi metrics;  // metrics.n: test ECGs evaluated
};

// Throws std::runtime_error when the model cannot be loaded or the split has no labelled test ECG.
EvaluateReport runEvaluate(const EvaluateRequest& request);

}  // namespace e2e::jobs
