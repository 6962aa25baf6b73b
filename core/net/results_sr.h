// The workstation's predictions as a DICOM Comprehensive SR (SOP class 1.2.840.10008.5.1.4.1.1.88.33)
// linked to the source study: same patient and Study Instance UID, a new series and SOP instance
// (DCMTK UIDs), modality SR, built with DCMTK's dcmsr (DSRDocument). The content tree names the
// model (id, version, weights hash), gives every class probability as a NUM item in UCUM "%",
// references the source ECG (a WAVEFORM or COMPOSITE item, and the Current Requested Procedure
// Evidence Sequence), always says "research use only, not a medical device" and, whenever the
// model was trained on synthetic data, "not for clinical use". Sending it is net/scu.h's job.
// Qt-free, never prints.
//
// Content tree (codes of the private scheme "99E2E" unless noted):
//   CONTAINER  E2E-SR-TITLE "ECG AI prediction report"
//     CONTAINS TEXT      DCM 111001 "Algorithm Name"        = model id
//     CONTAINS TEXT      DCM 111003 "Algorithm Version"     = model version
//     CONTAINS TEXT      E2E-WEIGHTS "Model weights hash"   = weights hash
//     CONTAINS TEXT      E2E-TRAINDATA "Model training data" = "synthetic" or "real"
//     CONTAINS WAVEFORM  DCM 121112 "Source of Measurement" -> the source ECG (COMPOSITE when the
//                        source is not a waveform SOP class; absent without a source instance)
//     CONTAINS CONTAINER Txxxxxxxx <task name>              (one per task)
//       CONTAINS NUM     Pxxxxxxxx "Probability: <class>"   = probability * 100, UCUM "%"
//                                                            (exact value in the FD representation)
//       CONTAINS TEXT    E2E-PREDCLASS "Predicted class"    = the most probable class (2+ classes)
//       CONTAINS NUM     E2E-QSCORE "Signal quality score"  = 0..1, UCUM "1" (issue 23, when `trust`)
//       CONTAINS TEXT    E2E-QUALITY "Signal quality"       = "usable" or "not usable: <reason>"
//       CONTAINS TEXT    E2E-DECLINED "Prediction declined" = the reason (no probabilities then)
//       CONTAINS NUM     E2E-OODSCORE "Out-of-distribution score" = Mahalanobis distance, UCUM "1"
//       CONTAINS NUM     E2E-OODTHR "Out-of-distribution threshold" (when the model has statistics)
//       CONTAINS NUM     E2E-OODIN / E2E-OODINTHR "Out-of-distribution input score" / "... threshold"
//       CONTAINS TEXT    E2E-OOD "Out-of-distribution flag" = "in", "out" or "unknown", with why
//     CONTAINS TEXT      E2E-RUO "Intended use"             = kSrResearchUseOnly
//     CONTAINS TEXT      E2E-NFCU "Clinical use warning"    = kSrNotForClinicalUse (synthetic only)
// Txxxxxxxx / Pxxxxxxxx: "T"/"P" and 8 hex digits of a stable hash of the task (and class) name.
#pragma once
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::net {

inline constexpr const char* kSrPrivateScheme = "99E2E";
inline constexpr const char* kSrManufacturer = "Echo2ECG Workstation";
inline constexpr const char* kSrResearchUseOnly =
    "Research use only, not a medical device: these predictions must not be used for diagnosis or "
    "treatment.";
inline constexpr const char* kSrNotForClinicalUse =
    "Not for clinical use: the model was trained on synthetic data.";

// The study the predictions are about (what the SR copies so that the PACS files it there).
struct SrSourceStudy {
  std::string patientId, patientName, birthDate, sex;  // PN "Family^Given"; DA YYYYMMDD; M/F/O
  std::string studyUid;                                // required
  std::string accessionNumber, studyDate, studyTime, studyDescription;
  std::string studyId, referringPhysician;  // optional (Identity has neither; a DICOM source does)
  // The source ECG instance; all three empty, or seriesUid, sopClassUid, sopInstanceUid all given.
  std::string seriesUid, sopClassUid, sopInstanceUid;
  // From a reader's Identity (DICOM readers fill every field; others leave the UIDs empty).
  static SrSourceStudy fromIdentity(const Identity& id);
  // From a DICOM file's patient, study and instance attributes (also Study ID and Referring
  // Physician's Name). Throws ReadError when the file is not DICOM or has no Study Instance UID.
  static SrSourceStudy fromDicomFile(const std::string& path);
};

struct SrModel {
  std::string id, version, weightsHash;  // all required
  bool trainedOnSynthetic = true;
};

struct SrClassProbability {
  std::string label;         // e.g. "<40 %"
  double probability = 0.0;  // in [0, 1]
};

// One task: e.g. {"LVEF class", {{"<40 %", 0.1}, {"40-49 %", 0.2}, {">= 50 %", 0.7}}} or a binary
// task as one probability, e.g. {"SHD", {{"SHD", 0.83}}}.
// How far a task's prediction can be trusted (issue 23): the ECG's signal quality and the OOD flag.
struct SrTrust {
  double qualityScore = 0.0;   // 0..1
  bool qualityUsable = true;   // false: declined, the task has no classes
  std::string qualityReason;   // why not usable
  double oodScore = kNaN;      // NaN: not computed
  double oodThreshold = kNaN;  // NaN: the model has no statistics
  std::string ood = "unknown"; // "in" / "out" / "unknown"
  double oodInputScore = kNaN;      // the input-side score (NaN: none)
  double oodInputThreshold = kNaN;
};

struct SrTaskPrediction {
  std::string task;
  std::vector<SrClassProbability> classes;  // empty only when trust says the ECG was declined
  std::optional<SrTrust> trust;
};

struct PredictionSrRequest {
  SrSourceStudy source;
  SrModel model;
  std::vector<SrTaskPrediction> predictions;  // at least one task, each with at least one class
  std::time_t createdAt = 0;  // instance creation / content date-time (local time); 0: now
  bool complete = true;       // completion flag COMPLETE (else PARTIAL); verification is UNVERIFIED
  std::string seriesDescription = "Echo2ECG predictions";
};

// What was written: the new UIDs (the study UID is the source's).
struct PredictionSrInfo {
  std::string studyUid, seriesUid, sopInstanceUid;
};

// Builds the SR and writes it as a DICOM file (Part 10, explicit VR little endian) to OUTPATH.part,
// then renames it over OUTPATH: a reader never sees a partial file. A bad request (missing or
// invalid UID, date, probability outside [0, 1], empty names, duplicate class labels) throws
// std::invalid_argument naming the field; a failure to build or write throws std::runtime_error.
PredictionSrInfo writePredictionSr(const PredictionSrRequest& req, const std::string& outPath);

}  // namespace e2e::net
