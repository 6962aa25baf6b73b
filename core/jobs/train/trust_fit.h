// Issue 23, "know when not to answer": what a model carries so that its predictions say how far they
// can be trusted. Temperature scaling fitted on the validation split (expected calibration error and
// reliability diagram before and after, 15 bins) and the Mahalanobis OOD statistics of its training
// ECG embeddings (threshold: 99th percentile of the validation distances). Used when heads are trained
// (their card gets "calibration" and "ood", the run folder ood.pt) and by `echo2ecg models ood-fit`
// for a bundle directory (DIR/ood.pt and DIR/trust.json, e.g. the bundled synthetic model).
#pragma once
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "model/calibration.h"
#include "model/ood.h"

namespace e2e::jobs {

struct CalibrationFit {
  double temperature = 1.0;
  std::size_t nVal = 0, nTest = 0;
  double nllBefore = 0, nllAfter = 0;
  model::CalibrationSummary valBefore, valAfter;    // on the split T was fitted on
  model::CalibrationSummary testBefore, testAfter;  // held out from the fit (empty bins when no test)
};

// Fits T on (valTruth, val) and reports ECE before / after on val and on the held-out test split.
CalibrationFit fitCalibration(const std::vector<int>& valTruth, const model::Scores& val,
                              const std::vector<int>& testTruth, const model::Scores& test);
// {"method", "fitted_on": "val", "temperature", "n_val", "nll_before", "nll_after", "bins": 15,
//  "ece_before", "ece_after", "reliability_before"/"reliability_after": [{lower, upper, count,
//  confidence, accuracy}], "test": {"n", "ece_before", "ece_after"}}
nlohmann::ordered_json calibrationJson(const CalibrationFit& c);
// {"method", "file", "encoder_weights_hash", "dim", "n_train", "n_val", "shrinkage", "threshold",
//  "percentile": 99}
nlohmann::ordered_json oodJson(const model::OodStats& s, const std::string& file, const std::string& encoderHash);

struct OodFitRequest {
  std::string dbPath;
  std::string modelDir;       // a bundle directory ("" = the bundled models); written into
  std::uint64_t seed = 2026;  // the 70/15/15 patient split (train: statistics, val: threshold and T)
};

struct OodFitReport {
  std::string dir, oodFile, trustFile;
  model::OodStats stats;
  std::map<std::string, CalibrationFit> calibration;  // per task with a head in the directory
  std::size_t train = 0, val = 0, test = 0;           // embedded ECGs per split
  std::vector<std::string> skipped;                   // ECGs that could not be read
  std::vector<double> valDistances, testDistances;
  // input-side statistics (model::ecgInputFeatures), DIR/ood_input.pt
  std::string inputFile;
  model::OodStats inputStats;
  std::vector<double> valInputDistances, testInputDistances;
};

// `echo2ecg models ood-fit`: embeds the database's ECGs with the bundle in `modelDir` (stored
// embeddings are reused), fits the OOD statistics on the training split, the threshold on the
// validation split, and a temperature for each <task>_head.pt in the directory on its labelled
// validation ECGs; writes DIR/ood.pt and DIR/trust.json. Throws std::invalid_argument for a database
// with too few ECGs, std::runtime_error for a bundle that cannot be loaded or written.
OodFitReport runOodFit(const OodFitRequest& request, const job::CancelToken& cancel = {});

}  // namespace e2e::jobs
