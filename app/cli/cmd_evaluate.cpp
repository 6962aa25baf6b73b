// echo2ecg evaluate --db FILE --task lvef|shd [--model ID[:VERSION]] [--model-dir DIR] [--seed S] [--bootstrap N]
#include <cstdio>
#include <stdexcept>

#include "commands.h"
#include "jobs/evaluate.h"
#include "json_out.h"

namespace {
int runEvaluateCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "task", "model", "model-dir", "seed", "bootstrap"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg evaluate --db FILE --task lvef|shd [--model ID[:VERSION]] [--model-dir DIR]\n"
        "                         [--seed S] [--bootstrap N]\n"
        "Accuracy, balanced accuracy, macro F1, AUROC and AUPRC with 95%% bootstrap CIs on the test split\n"
        "(by patient, 70/15/15, seed = the model's training seed unless --seed is given). Without --model:\n"
        "the active echo2ecg-<task> version, else the bundled head. --model-dir DIR alone: DIR's own\n"
        "<task>_head.pt, else the active version only if it was trained on DIR's weights.\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("evaluate", a.error);
  e2e::jobs::EvaluateRequest o;
  o.dbPath = dbPathFrom(a);
  o.task = a.get("task");
  o.model = a.get("model");
  o.modelDir = a.get("model-dir");
  if (o.task != "lvef" && o.task != "shd") return usageError("evaluate", "--task must be lvef or shd");
  long long n = 0;
  if (a.has("seed")) {
    if (!parseInt(a.get("seed"), 0, 1LL << 62, n)) return usageError("evaluate", "--seed needs an integer >= 0");
    o.seed = static_cast<std::uint64_t>(n);
  }
  if (a.has("bootstrap")) {
    if (!parseInt(a.get("bootstrap"), 10, 100000, n)) return usageError("evaluate", "--bootstrap needs an integer >= 10");
    o.bootstrap = static_cast<int>(n);
  }
  try {
    const auto r = e2e::jobs::runEvaluate(o);
    std::printf("Model %s version %s (task %s, method %s), test split (seed %llu): %zu ECGs\n", r.modelId.c_str(),
                r.version.c_str(), r.task.c_str(), r.method.c_str(), static_cast<unsigned long long>(r.seed),
                r.metrics.n);
    for (const auto& name : e2e::pipeline::classificationMetricNames()) {
      auto it = r.metrics.ci.find(name);
      if (it == r.metrics.ci.end()) continue;
      std::printf("  %-18s %.3f  (95%% CI %.3f-%.3f)\n", name.c_str(), it->second.value, it->second.lower,
                  it->second.upper);
    }
    std::printf("JSON ");
    printJsonLine(r.metrics.toJson());
    return kOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg evaluate: %s\n", e.what());
    return kRuntimeError;
  }
}
}  // namespace

E2E_REGISTER_COMMAND("evaluate", "evaluate an LVEF / SHD model on the test split (bootstrap CIs)", runEvaluateCmd);
