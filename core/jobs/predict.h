// The predict job: LVEF-class and SHD probabilities of ECGs with the active (or a bundle's) heads,
// stored in the study database with the model id, version and weights hash.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace e2e::jobs {

struct PredictRequest {
  std::string dbPath, modelDir;
  std::vector<std::string> ids;  // instance row ids or SOP instance UIDs; empty = every ECG
  // Also write each prediction of a DICOM ECG as a DICOM Comprehensive SR into this folder (one file per
  // ECG and task, linked to the ECG's study: same Study Instance UID, a new series), ready for
  // `echo2ecg pacs send`. "" = none.
  std::string srDir;
};

struct Prediction {
  std::int64_t ecgInstanceId = 0;
  std::string patientId, task, modelId, version, weightsHash;
  bool syntheticTraining = true;  // the encoder or the head was trained on synthetic data
  std::vector<std::pair<std::string, double>> probabilities;  // class name -> probability, in class order
};

struct PredictReport {
  std::vector<Prediction> predictions;          // stored, in task then ECG order
  std::vector<std::string> srFiles;             // SRs written (PredictRequest::srDir)
  std::vector<std::string> srSkipped;           // "PATH: why no SR" (e.g. not a DICOM object)
  std::map<std::string, std::string> taskErrors;  // task -> why it has no head (the other task still runs)
  std::vector<std::string> skipped;             // ECGs that could not be read ("PATH: reason")
  std::size_t ecgsChosen = 0;
};

// Throws std::invalid_argument for an id that names no ECG instance.
PredictReport runPredict(const PredictRequest& request);

}  // namespace e2e::jobs
