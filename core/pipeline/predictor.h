// Classification heads on a bundle's aligned ECG embedding (LVEF class, SHD): the head archive
// format and the rules that choose which head (and which encoder) a prediction uses. Needs torch.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "model/metrics.h"
#include "model/model.h"
#include "model/ood.h"
#include "model/train.h"
#include "pipeline/bundle.h"

namespace e2e::pipeline {

// A head with the encoder whose features it takes.
struct Predictor {
  std::string task, modelId, version, weightsHash, method = "linear";
  std::uint64_t seed = 0;  // the training seed (its patient split)
  Bundle base;
  model::LinearHead head{nullptr};
  torch::Tensor mean, sd;  // feature standardisation of a linear head
  std::unique_ptr<model::KnnClassifier> knn;
  int numClasses = 0;
  // Issue 23: the temperature fitted on the validation split (1 = none fitted) and the encoder's
  // OOD statistics (nullopt: the model has none, every prediction says "ood: unknown").
  double temperature = 1.0;
  bool calibrated = false;  // a fitted temperature was found
  std::optional<model::OodStats> ood;
  std::string oodSource;    // the file the statistics came from ("" when none)
  // The bundle's input-side statistics (model::ecgInputFeatures of the model input), when it has them.
  std::optional<model::OodStats> oodInput;

  // Class probabilities of each feature row.
  model::Scores scores(const std::vector<std::vector<float>>& feats);
};

// Issue 23: the trust files of a bundle directory: trust.json ({"ood": {"file": "ood.pt",
// "encoder_weights_hash": ..., "threshold": ...}, "calibration": {"<task>": {"temperature": ...}}})
// written by `echo2ecg models ood-fit`, and the OOD archive it names. trustJsonPath: DIR/trust.json.
std::string trustJsonPath(const std::string& dir);
// The OOD statistics of the encoder with weights `encoderHash` in `dir`: nullopt when the directory
// has none or they were fitted on other weights. A damaged file is an error naming it.
std::optional<model::OodStats> loadBundleOod(const std::string& dir, const std::string& encoderHash,
                                             std::string* sourcePath = nullptr);
// The input-side statistics trust.json names ("ood": {"input_file": ...}); nullopt when none.
std::optional<model::OodStats> loadBundleInputOod(const std::string& dir, const std::string& encoderHash);

// Head archive: head.weight, head.bias, feat_mean, feat_std; a kNN head: knn_features, knn_labels,
// num_classes.
void saveLinearHead(const std::string& path, const model::LinearHead& head, const torch::Tensor& mean,
                    const torch::Tensor& sd);
void loadHeadInto(Predictor& p, const std::string& path);

// The registry id of a task's heads: "echo2ecg-<task>".
std::string taskModelId(const std::string& task);

// A registered model row: `version` "" = the active version of modelId.
std::optional<db::ModelRow> findModel(db::Database& db, const std::string& modelId, const std::string& version);

// The classifier for a task: `spec` "ID:VERSION", "ID" (active version), "" (active
// echo2ecg-<task>, else the bundled head in the models dir). An explicit `modelDir` with no `spec`
// is what the caller asked for: its own <task>_head.pt if it has one (never a registered head on
// another encoder), else the active registered head, only if that was trained on its weights.
Predictor loadPredictor(db::Database& db, const std::string& task, const std::string& spec,
                        const std::string& modelDir);

}  // namespace e2e::pipeline
