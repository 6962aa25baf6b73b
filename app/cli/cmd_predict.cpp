// echo2ecg predict --db FILE [--model DIR] [--sr-dir DIR] [--precision auto|fp32|bf16] [--json] [ID...]
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "commands.h"
#include "jobs/predict.h"
#include "json_out.h"

namespace {
using Json = nlohmann::ordered_json;
using e2e::jobs::Prediction;

Json probabilitiesJson(const std::vector<std::pair<std::string, double>>& p) {
  Json j = Json::object();
  for (const auto& [c, v] : p) j[c] = v;
  return j;
}

// One ECG and task as a JSON object (issue 23): probabilities (null when declined), calibrated
// probabilities, quality {score, usable, issues}, ood_score, ood.
Json predictionJson(const Prediction& p) {
  Json issues = Json::array();
  for (const auto& i : p.qualityIssues)
    issues.push_back({{"lead", i.lead}, {"code", i.code}, {"severity", i.severity}, {"message", i.message}});
  // No patient identifiers: predict's output ends up in logs and job records (issue 22); the ECG's
  // instance id is the key, and `echo2ecg show ID` names the patient.
  Json j{{"ecg_id", p.ecgInstanceId}, {"task", p.task},
         {"model_id", p.modelId},     {"version", p.version},       {"weights_hash", p.weightsHash},
         {"synthetic_training", p.syntheticTraining}, {"precision", p.precision}};
  j["declined"] = p.declined() ? Json(p.qualityReason) : Json(nullptr);
  j["probabilities"] = p.declined() ? Json(nullptr) : probabilitiesJson(p.probabilities);
  j["calibrated_probabilities"] = p.declined() ? Json(nullptr) : probabilitiesJson(p.calibratedProbabilities);
  j["temperature"] = p.calibrated ? Json(p.temperature) : Json(nullptr);
  j["quality"] = {{"score", p.qualityScore}, {"usable", p.qualityUsable}, {"reason", p.qualityReason},
                  {"issues", issues}};
  j["ood_score"] = std::isfinite(p.oodScore) ? Json(p.oodScore) : Json(nullptr);
  j["ood_threshold"] = std::isfinite(p.oodThreshold) ? Json(p.oodThreshold) : Json(nullptr);
  j["ood_input_score"] = std::isfinite(p.oodInputScore) ? Json(p.oodInputScore) : Json(nullptr);
  j["ood_input_threshold"] = std::isfinite(p.oodInputThreshold) ? Json(p.oodInputThreshold) : Json(nullptr);
  j["ood"] = p.ood;
  return j;
}

void printText(const Prediction& p) {
  std::printf("%lld %s %s:%s", static_cast<long long>(p.ecgInstanceId), p.task.c_str(), p.modelId.c_str(),
              p.version.c_str());
  if (p.declined()) {
    std::printf(" declined: %s (signal quality %.2f)\n", p.qualityReason.c_str(), p.qualityScore);
    return;
  }
  for (std::size_t c = 0; c < p.probabilities.size(); ++c)
    std::printf(" %s=%.3f (calibrated %.3f)", p.probabilities[c].first.c_str(), p.probabilities[c].second,
                p.calibratedProbabilities[c].second);
  std::printf(" quality=%.2f", p.qualityScore);
  if (p.ood == "out")
    std::printf(" OUT-OF-DISTRIBUTION (embedding score %.1f, threshold %.1f; input score %.1f, threshold %.1f: "
                "unlike the model's training ECGs)",
                p.oodScore, p.oodThreshold, p.oodInputScore, p.oodInputThreshold);
  else if (p.ood == "in")
    std::printf(" ood=in (score %.1f <= %.1f)", p.oodScore, p.oodThreshold);
  else
    std::printf(" ood=unknown (the model has no out-of-distribution statistics)");
  std::printf("\n");
}

int runPredictCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "model", "sr-dir", "precision"}, {"json"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg predict [--db FILE] [--model DIR] [--sr-dir DIR] [--precision auto|fp32|bf16] [--json]\n"
        "                        [ECG_ID...]\n"
        "LVEF class (<40, 40-49, >=50) and SHD probabilities for the given ECG instances (row ids or SOP\n"
        "Instance UIDs; default: every ECG) with the active echo2ecg-lvef / echo2ecg-shd versions (else the\n"
        "bundled heads), stored in the database with the model id, version and weights hash.\n"
        "Every prediction carries the ECG's signal quality and its out-of-distribution flag: an ECG whose\n"
        "quality is not usable gets no probabilities, only \"declined: <reason>\"; an ECG whose embedding\n"
        "lies beyond the model's threshold (99th percentile of its validation ECGs) is marked\n"
        "OUT-OF-DISTRIBUTION; a model without statistics says ood=unknown. Calibrated probabilities use the\n"
        "temperature fitted on the validation split (none fitted: equal to the probabilities).\n"
        "--json: one JSON object per ECG and task: probabilities, calibrated_probabilities, quality\n"
        "{score, usable, reason, issues}, ood_score, ood_threshold, ood, declined.\n"
        "--model DIR: a bundle directory: its own lvef_head.pt / shd_head.pt, else the active registered\n"
        "heads only if they were trained on its weights (an error otherwise, never another encoder's head).\n"
        "--sr-dir DIR: also write each prediction of a DICOM ECG as a DICOM Comprehensive SR (same study,\n"
        "a new series; model id, version and weights hash; quality and OOD items; a not-for-clinical-use\n"
        "statement for models trained on synthetic data), to send back with `echo2ecg pacs send DIR/*.dcm`.\n"
        "--precision: the ECG encoder's inference precision; auto (default) = bfloat16 on CUDA or a CPU with\n"
        "AVX512-BF16 / AMX, else fp32 (`echo2ecg info` says which); the ECG vectors are stored with it.\n"
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
    o.precision = e2e::model::parsePrecisionRequest(a.get("precision", "auto"));
  } catch (const std::invalid_argument& e) {
    return usageError("predict", e2e::errorText(e).c_str());
  }
  const bool json = a.has("json");
  try {
    const auto r = e2e::jobs::runPredict(o);
    for (const auto& [task, why] : r.taskErrors) std::fprintf(stderr, "%s: %s\n", task.c_str(), why.c_str());
    for (const auto& s : r.skipped) std::fprintf(stderr, "skipped %s\n", s.c_str());
    std::size_t declined = 0, out = 0;
    for (const auto& p : r.predictions) {
      declined += p.declined() ? 1 : 0;
      out += p.ood == "out" ? 1 : 0;
      if (json) printJsonLine(predictionJson(p));
      else printText(p);
    }
    if (!json && !r.predictions.empty())
      std::printf("ECG encoder precision: %s (%s)\n", r.precision.name(), r.precision.reason.c_str());
    if (!json)
      std::printf("%zu predictions stored, %zu declined (signal quality), %zu out of distribution (not clinically "
                  "validated; synthetic-data models unless you loaded real weights)\n",
                  r.predictions.size(), declined, out);
    for (const auto& s : r.srSkipped) std::fprintf(stderr, "no SR for %s\n", s.c_str());
    if (!o.srDir.empty()) std::fprintf(json ? stderr : stdout, "%zu DICOM SR file(s) written to %s\n",
                                       r.srFiles.size(), o.srDir.c_str());
    return !r.predictions.empty() || r.ecgsChosen == 0 ? kOk : kRuntimeError;
  } catch (const std::invalid_argument& e) {
    return usageError("predict", e2e::errorText(e).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg predict: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
}
}  // namespace

E2E_REGISTER_COMMAND("predict", "LVEF / SHD class probabilities for ECGs (stored with the model version)", runPredictCmd);
