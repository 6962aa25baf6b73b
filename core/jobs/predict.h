// The predict job: LVEF-class and SHD probabilities of ECGs with the active (or a bundle's) heads,
// stored in the study database with the model id, version and weights hash.
#pragma once
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/precision.h"

namespace e2e::jobs {

struct PredictRequest {
  std::string dbPath, modelDir;
  std::vector<std::string> ids;  // instance row ids or SOP instance UIDs; empty = every ECG
  // Also write each prediction of a DICOM ECG as a DICOM Comprehensive SR into this folder (one file per
  // ECG and task, linked to the ECG's study: same Study Instance UID, a new series), ready for
  // `echo2ecg pacs send`. "" = none.
  std::string srDir;
  // Inference precision of the ECG encoder; nullopt = auto (model/precision.h). The ECG vectors are
  // read and stored under it.
  model::PrecisionRequest precision;
};

// One signal-quality finding of the ECG (signal/ecg_quality.h), as reported.
struct QualityFinding {
  std::string lead, code, severity, message;  // severity "warning" / "unusable"
};

struct Prediction {
  std::int64_t ecgInstanceId = 0;
  std::string patientId, task, modelId, version, weightsHash;
  bool syntheticTraining = true;  // the encoder or the head was trained on synthetic data
  std::string precision = "fp32";  // of the ECG embedding the probabilities come from ("fp32" / "bf16")
  // class name -> probability, in class order; empty when declined
  std::vector<std::pair<std::string, double>> probabilities;
  // temperature-scaled (the head's fitted temperature; equal to `probabilities` when it has none)
  std::vector<std::pair<std::string, double>> calibratedProbabilities;
  double temperature = 1.0;
  bool calibrated = false;  // a fitted temperature was applied
  // The ECG's signal quality: a record that is not usable gets no probabilities, only the reason.
  double qualityScore = 0.0;
  bool qualityUsable = false;
  std::string qualityReason;  // "" when usable
  std::vector<QualityFinding> qualityIssues;
  // Mahalanobis distance of the ECG's embedding to the model's training embeddings (NaN: not
  // computed) and the flag: "in", "out" (above the model's threshold) or "unknown" (no statistics).
  double oodScore = std::nan("");
  double oodThreshold = std::nan("");
  std::string ood = "unknown";
  // The input-side score (model::ecgInputFeatures of the model input; NaN when the model has no such
  // statistics): "out" also when it exceeds its own threshold.
  double oodInputScore = std::nan("");
  double oodInputThreshold = std::nan("");
  bool declined() const { return !qualityUsable; }
};

struct PredictReport {
  std::vector<Prediction> predictions;          // stored (declined ones too), in task then ECG order
  std::vector<std::string> srFiles;             // SRs written (PredictRequest::srDir)
  std::vector<std::string> srSkipped;           // "PATH: why no SR" (e.g. not a DICOM object)
  std::map<std::string, std::string> taskErrors;  // task -> why it has no head (the other task still runs)
  std::vector<std::string> skipped;             // ECGs that could not be read ("PATH: reason")
  std::size_t ecgsChosen = 0;
  model::PrecisionChoice precision;  // the resolved inference precision and why
};

// Throws std::invalid_argument for an id that names no ECG instance.
PredictReport runPredict(const PredictRequest& request);

}  // namespace e2e::jobs
