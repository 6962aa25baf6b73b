// The cross-validated evaluate job (issue 21): how well a frozen ECG representation predicts a binary
// target of the study database, for datasets too small for a fixed train/val/test split (LUDB: 200
// ECGs). Per ECG it builds the representations asked for
//   "encoder"     the ECG encoder's 192-d global feature (fc_norm of the mean patch token) of the
//                 embedding model (resolveEmbeddingModel: the active registered version, else the
//                 bundled models/),
//   "random"      the same architecture and input contract with randomly initialised weights (seeded),
//   "handcrafted" the hand-crafted ECG features (pipeline::handcraftedEcgFeatures, 30 values),
//   "ssl-per-fold" (asked for explicitly, never by default) an ECG-only self-supervised encoder per
//                 fold, leak-free: for fold k a fresh encoder (pretrainDepth blocks) is pretrained by
//                 the train job (task ecg-pretrain, two augmented views, CLIP loss, no label) on every
//                 ECG of the database except those of fold k's test patients -- the other folds and
//                 the ECGs outside the evaluated set (other datasets, pathContains) included -- and
//                 fold k's ECGs are scored by a probe fitted on the other folds' features of that
//                 fold's encoder (its 192-d global feature, fp32),
// then runs patient-level stratified k-fold cross-validation with each probe asked for
//   "linear"      logistic regression with an L2 penalty on features standardised with the training
//                 folds' mean and SD (fitted by L-BFGS),
//   "knn"         k nearest neighbours by cosine similarity (of the standardised features), the score
//                 being the fraction of positive neighbours,
// pools the out-of-fold scores and reports AUROC, AUPRC and balanced accuracy (score >= 0.5) with
// 95 % percentile bootstrap CIs that resample patients (all ECGs of a drawn patient go together).
// Nothing is written to the database. Qt-free, never prints.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jobs/job.h"
#include "model/metrics.h"

namespace e2e::jobs {

struct EvaluateCvRequest {
  std::string dbPath;
  // The target: exactly one of
  //   a study label (the patient's labels overridden by the study's, labels::studyLabels): positive
  //     when the value of labelKey equals labelValue, or one of its "; "-joined items does (a
  //     multi-line CSV cell), case-insensitively; negative when the key holds another value; ECGs whose
  //     study has no such key are unlabelled and left out, unless absentIsNegative;
  //   an instance diagnosis statement (WFDB "#<diagnoses>:" statements, CinC Dx codes): positive when
  //     one of the ECG's statements equals `diagnosis` (case-insensitive, surrounding blanks and a
  //     trailing '.' ignored); negative when it has statements but not this one; ECGs without any
  //     statement are unlabelled and left out.
  std::string labelKey, labelValue;
  bool absentIsNegative = false;
  std::string diagnosis;

  std::vector<std::string> representations{"encoder", "random", "handcrafted"};
  std::vector<std::string> probes{"linear", "knn"};
  int folds = 5;              // 2..20; every fold gets positive and negative patients
  std::uint64_t seed = 1;     // fold assignment and bootstrap
  std::uint64_t randomWeightsSeed = 1;
  int knnK = 10;              // >= 1
  double l2 = 1.0;            // penalty (l2 / 2) * |w|^2 on the summed log-loss (sklearn's C = 1 / l2)
  int bootstrap = 1000;       // patient resamples, >= 10
  std::string model;          // embedding model spec (resolveEmbeddingModel), "" = active or bundled
  int threads = 0;            // torch intra-op threads, 0 = default
  // Only the ECGs whose file path contains this text (case-sensitive) are evaluated ("" = all); the
  // others stay in the database, where "ssl-per-fold" pretrains on them.
  std::string pathContains;
  // "ssl-per-fold": the pretraining recipe of each fold's encoder (train --task ecg-pretrain).
  int pretrainEpochs = 3;              // 1..1000
  int pretrainDepth = 3;               // 1..12 ViT blocks (the bundled encoder has 3)
  int pretrainBatchSize = 16;          // 2..4096
  double pretrainLr = -1;              // > 0, or <= 0 for the train job's default (3e-4)
  std::string pretrainPrecision = "fp32";  // training only ("fp32" / "bf16"); features are always fp32
  std::uint64_t pretrainSeed = 0;
  std::string pretrainDir;  // the folds' run directories (DIR/fold-1 ...); "" = a temporary one, removed after
};

struct MetricCi {
  double value = 0, lower = 0, upper = 0;
  int resamples = 0;  // resamples where the metric was defined
  std::vector<double> draws;  // the metric on each resample (NaN where undefined), in resample order
};

struct EvaluateCvResult {
  std::string representation, probe;
  int dim = 0;
  std::map<std::string, MetricCi> metrics;  // "auroc", "auprc", "balanced_accuracy"
  // AUROC minus the AUROC of the random-weights encoder with the same probe, its 95 % CI from the
  // same patient resamples (paired); resamples = 0 when "random" was not run or this is it.
  MetricCi aurocVsRandom;
  // "ssl-per-fold" only: AUROC minus that of "encoder" with the same probe (paired), else resamples = 0.
  MetricCi aurocVsEncoder;
  std::vector<double> scores;               // pooled out-of-fold score per evaluated ECG
};

// One fold's "ssl-per-fold" encoder.
struct FoldPretraining {
  int fold = 0;                            // 0..k-1
  std::vector<std::int64_t> heldOut;       // the fold's test patients (row ids), excluded from pretraining
  std::vector<std::int64_t> trainPatients; // the patients the training job took (TrainReport::patients)
  std::string runDir;
  double seconds = 0;                      // wall time of the pretraining
};

struct EvaluateCvReport {
  std::string target;  // "diagnosis 'Left ventricular hypertrophy'" / "label hypertrophies=..."
  std::size_t n = 0, positives = 0, patients = 0, positivePatients = 0;
  std::size_t unlabelled = 0;        // ECGs left out: the target does not say
  std::size_t outsidePath = 0;       // ECGs left out: path without pathContains
  std::vector<std::string> errors;   // ECGs left out: unreadable or changed files
  int folds = 0, knnK = 0, bootstrap = 0;
  double l2 = 0;
  std::uint64_t seed = 0, randomWeightsSeed = 0;
  std::string encoderModel;          // EmbeddingModel::describe() when "encoder"/"random" was run
  bool encoderSyntheticTraining = false;
  // per evaluated ECG, in ascending instance id order
  std::vector<std::int64_t> ecgInstanceIds, patientRowIds;
  std::vector<int> truth, foldOf;
  std::vector<EvaluateCvResult> results;
  std::vector<FoldPretraining> pretraining;  // "ssl-per-fold", per fold
  bool cancelled = false;
  nlohmann::ordered_json toJson() const;  // everything but the per-ECG vectors
};

// stage ("reading ECGs", "pretraining fold K" (done/total = epochs), "cross-validation"), done, total
using EvaluateCvProgress = std::function<void(const std::string& stage, int done, int total)>;

// Throws std::invalid_argument for a bad request (no or two targets, unknown representation/probe,
// folds/k/bootstrap out of range, the label or diagnosis found on no ECG, fewer positive or negative
// patients than folds, a bad pretraining recipe) and std::runtime_error when the database or model
// cannot be opened or a fold's pretraining fails.
// Cancelled: returns at once with report.cancelled set (and the results finished so far).
EvaluateCvReport runEvaluateCv(const EvaluateCvRequest& request, const EvaluateCvProgress& progress = {},
                               const job::CancelToken& cancel = {});

// ---- the pieces, public for the tests ----

// Fold (0..k-1) of each item: patients (an item's patient = patient[i]) are split by class (a patient
// is positive if any of its items is), each class shuffled with the seed and dealt round-robin, so
// folds are patient-disjoint and stratified. Throws std::invalid_argument when a class has fewer
// patients than k.
std::vector<int> stratifiedPatientFolds(const std::vector<std::int64_t>& patient, const std::vector<int>& truth,
                                        int k, std::uint64_t seed);

// Out-of-fold positive-class scores of one probe ("linear" / "knn") over the folds.
std::vector<double> crossValidatedScores(const std::vector<std::vector<float>>& features, const std::vector<int>& truth,
                                         const std::vector<int>& foldOf, const std::string& probe, int knnK, double l2);

// Point value and percentile 95 % CI of AUROC, AUPRC and balanced accuracy (score >= 0.5), resampling
// patients with replacement (deterministic from the seed: the same seed and patients draw the same
// resamples, so two score vectors' draws are paired).
std::map<std::string, MetricCi> patientBootstrapMetrics(const std::vector<int>& truth, const std::vector<double>& scores,
                                                         const std::vector<std::int64_t>& patient, int resamples,
                                                         std::uint64_t seed);

// a - b with the percentile 95 % CI of the paired draws (resamples where both are defined).
MetricCi pairedDifference(const MetricCi& a, const MetricCi& b);

}  // namespace e2e::jobs
