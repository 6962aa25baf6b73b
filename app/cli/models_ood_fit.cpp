// echo2ecg models ood-fit --db FILE [--model DIR] [--seed S]: the OOD statistics and the heads'
// temperatures of a bundle directory (issue 23). Prints what core/jobs/train/trust_fit reports.
#include <csignal>
#include <cstdio>
#include <string>

#include "commands.h"
#include "jobs/train/trust_fit.h"
#include "json_out.h"

namespace e2e::cli {
namespace {
job::CancelToken gOodCancel;
void onOodSignal(int) { gOodCancel.cancel(); }

void printOodFit(const jobs::OodFitReport& r, bool json) {
  const double p50 = model::percentile(r.valDistances, 50), p99 = model::percentile(r.valDistances, 99);
  std::size_t testOut = 0, testInputOut = 0, testEither = 0;
  for (std::size_t i = 0; i < r.testDistances.size(); ++i) {
    const bool e = r.stats.isOut(r.testDistances[i]);
    const bool in = i < r.testInputDistances.size() && r.inputStats.isOut(r.testInputDistances[i]);
    testOut += e;
    testInputOut += in;
    testEither += e || in;
  }
  if (json) {
    nlohmann::ordered_json j{{"event", "done"}, {"dir", r.dir}, {"ood_file", r.oodFile}, {"trust_file", r.trustFile},
                             {"train", r.train}, {"val", r.val}, {"test", r.test},
                             {"threshold", r.stats.threshold}, {"shrinkage", r.stats.shrinkage},
                             {"test_out", testOut}, {"input_threshold", r.inputStats.threshold},
                             {"test_input_out", testInputOut}, {"test_out_either", testEither}};
    for (const auto& [task, c] : r.calibration)
      j["calibration"][task] = {{"temperature", c.temperature}, {"ece_before", c.valBefore.ece},
                                {"ece_after", c.valAfter.ece}, {"test_ece_before", c.testBefore.ece},
                                {"test_ece_after", c.testAfter.ece}};
    printJsonLine(j);
    return;
  }
  std::printf("OOD statistics of %s: %zu train / %zu val / %zu test ECGs, dimension %lld, shrinkage %.3f\n",
              r.dir.c_str(), r.train, r.val, r.test, static_cast<long long>(r.stats.dim()), r.stats.shrinkage);
  std::printf("  validation distances: median %.2f, 99th percentile %.2f = threshold\n", p50, p99);
  std::printf("  held-out test ECGs above the threshold: %zu of %zu\n", testOut, r.testDistances.size());
  std::printf("  input side (%lld features, shrinkage %.3f): threshold %.2f, test ECGs above it %zu; out by "
              "either: %zu of %zu\n", static_cast<long long>(r.inputStats.dim()), r.inputStats.shrinkage,
              r.inputStats.threshold, testInputOut, testEither, r.testDistances.size());
  for (const auto& [task, c] : r.calibration)
    std::printf("  %s: temperature %.3f, ECE (15 bins) val %.4f -> %.4f (n %zu), test %.4f -> %.4f (n %zu)\n",
                task.c_str(), c.temperature, c.valBefore.ece, c.valAfter.ece, c.nVal, c.testBefore.ece,
                c.testAfter.ece, c.nTest);
  std::printf("  written: %s, %s, %s\n", r.oodFile.c_str(), r.inputFile.c_str(), r.trustFile.c_str());
  if (!r.skipped.empty()) std::fprintf(stderr, "%zu ECG(s) skipped (unreadable or changed)\n", r.skipped.size());
}
}  // namespace

int runModelsOodFit(const ParsedArgs& a) {
  jobs::OodFitRequest o;
  o.dbPath = dbPathFrom(a);
  o.modelDir = a.get("model");
  if (a.has("seed")) {
    try {
      o.seed = std::stoull(a.get("seed"));
    } catch (const std::exception&) {
      return usageError("models", "--seed must be a non-negative integer");
    }
  }
  std::signal(SIGINT, onOodSignal);
  std::signal(SIGTERM, onOodSignal);
  try {
    printOodFit(jobs::runOodFit(o, gOodCancel), a.has("json"));
    return kOk;
  } catch (const std::invalid_argument& e) {
    return usageError("models", e2e::errorText(e).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg models ood-fit: %s\n", e2e::errorText(e).c_str());
    return gOodCancel.cancelled() ? kInterrupted : kRuntimeError;
  }
}

}  // namespace e2e::cli
