// The data side of the model jobs (torch-free): ECG input tensors, hand-crafted ECG features,
// the samples of the study database (ECG + its study's echo loops + labels) and the patient split.
//
// ECG input contract (preprocessing version kPreprocVersion = "ecg-100Hz-1008-als-v1"):
//   rhythm group -> 12 standard leads in mV -> resampled to 100 Hz (10 s = 1000 samples; the
//   OTiS/Echo2ECG encoder was trained on 10 s ECGs at 100 Hz) -> zero-padded / cropped AT THE END
//   to 1008 samples (1008 = 42 patches of 24, the encoder's input length) -> NaN->0, clip +-4 SD of
//   the whole array, ALS baseline removal per lead, group-wise z-normalisation {I-III, aVR-aVF, V1-V6}.
//   Zero-padding happens before preprocessing, as in the reference (which pads the raw array).
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"
#include "db/database.h"
#include "pipeline/embedding_model.h"  // kPreprocVersion, embedding keys, the embedding-model resolver

namespace e2e::pipeline {

inline constexpr double kEcgHz = 100.0;
inline constexpr std::size_t kEcgLeads = 12;
inline constexpr std::size_t kEcgSamples = 1008;

// 12 x 1008 row-major preprocessed ECG. Throws (ReadError / invalid_argument) on unusable input.
std::vector<float> ecgInputFromRecord(const EcgRecord& rec);
std::vector<float> ecgInputFromFile(const std::string& path);

// ECG-only baseline features (no deep model): device measurements (HR, PR, QRS, QT, QTc, QRS axis;
// 0 when absent) and, per standard lead at 100 Hz before normalisation, the peak-to-peak amplitude and
// standard deviation in mV (QRS voltage proxies): 6 + 24 values.
std::vector<float> handcraftedEcgFeatures(const std::string& path);

// One ECG instance with its study/patient context and labels.
struct Sample {
  std::int64_t ecgInstanceId = 0, studyRowId = 0, patientRowId = 0;
  std::string patientId, studyUid, ecgPath;
  std::vector<std::int64_t> echoInstanceIds;  // US loops of the same study
  std::vector<std::string> echoPaths;
  double lvefPercent = kNaN;
  int lvefClass = -1;  // 0: <40, 1: 40-49, 2: >=50
  int shd = -1;        // 0/1
};

// Every ECG instance (optionally filtered by patient text), with the echo loops of its study and
// its labels (study labels override patient labels). `requireEcho` keeps paired studies only.
std::vector<Sample> loadSamples(db::Database& db, const std::string& filterText = "", bool requireEcho = false);

// Deterministic 70/15/15 split by patient from the seed: 0 train, 1 val, 2 test per sample.
std::vector<int> splitByPatient(const std::vector<Sample>& samples, std::uint64_t seed);

// Class id of a sample for a task ("lvef" 3 classes, "shd" 2), -1 when unlabelled.
int labelFor(const Sample& s, const std::string& task);
std::vector<std::string> classNames(const std::string& task);

}  // namespace e2e::pipeline
