// echo2ecg predict --db FILE [--model DIR] [ID...]
#include <cstdio>
#include <stdexcept>

#include "commands.h"
#include "jobs/predict.h"

namespace {
int runPredictCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "model", "sr-dir"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg predict [--db FILE] [--model DIR] [--sr-dir DIR] [ECG_ID...]\n"
        "LVEF class (<40, 40-49, >=50) and SHD probabilities for the given ECG instances (row ids or SOP\n"
        "Instance UIDs; default: every ECG) with the active echo2ecg-lvef / echo2ecg-shd versions (else the\n"
        "bundled heads), stored in the database with the model id, version and weights hash.\n"
        "--model DIR: a bundle directory: its own lvef_head.pt / shd_head.pt, else the active registered\n"
        "heads only if they were trained on its weights (an error otherwise, never another encoder's head).\n"
        "--sr-dir DIR: also write each prediction of a DICOM ECG as a DICOM Comprehensive SR (same study,\n"
        "a new series; model id, version and weights hash; a not-for-clinical-use statement for models\n"
        "trained on synthetic data), to send back with `echo2ecg pacs send DIR/*.dcm --peer ...`.\n"
        "Research use only: the bundled models are trained on synthetic data and not clinically validated.\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("predict", a.error);
  e2e::jobs::PredictRequest o;
  o.dbPath = dbPathFrom(a);
  o.modelDir = a.get("model");
  o.ids = a.positional;
  o.srDir = a.get("sr-dir");
  try {
    const auto r = e2e::jobs::runPredict(o);
    for (const auto& [task, why] : r.taskErrors) std::fprintf(stderr, "%s: %s\n", task.c_str(), why.c_str());
    for (const auto& s : r.skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
    for (const auto& p : r.predictions) {
      std::printf("%lld %s %s %s:%s", static_cast<long long>(p.ecgInstanceId), p.patientId.c_str(), p.task.c_str(),
                  p.modelId.c_str(), p.version.c_str());
      for (const auto& [cls, prob] : p.probabilities) std::printf(" %s=%.3f", cls.c_str(), prob);
      std::printf("\n");
    }
    std::printf("%zu predictions stored (not clinically validated; synthetic-data models unless you loaded real "
                "weights)\n",
                r.predictions.size());
    for (const auto& s : r.srSkipped) std::fprintf(stderr, "no SR for %s\n", s.c_str());
    if (!o.srDir.empty()) std::printf("%zu DICOM SR file(s) written to %s\n", r.srFiles.size(), o.srDir.c_str());
    return !r.predictions.empty() || r.ecgsChosen == 0 ? kOk : kRuntimeError;
  } catch (const std::invalid_argument& e) {
    return usageError("predict", e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg predict: %s\n", e.what());
    return kRuntimeError;
  }
}
}  // namespace

E2E_REGISTER_COMMAND("predict", "LVEF / SHD class probabilities for ECGs (stored with the model version)", runPredictCmd);
