// Torch-free evaluation metrics for the downstream heads (LVEF 3-class, SHD binary) and a
// kNN classifier on feature vectors. Plain std::vector; labels are 0..K-1.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace e2e::model {

using Scores = std::vector<std::vector<double>>;  // [n][K] class scores / probabilities

double accuracy(const std::vector<int>& truth, const std::vector<int>& pred);
// Mean per-class recall over the classes present in `truth`.
double balancedAccuracy(const std::vector<int>& truth, const std::vector<int>& pred, int numClasses);
// Unweighted mean of per-class F1 over `numClasses` classes (F1 = 0 where precision+recall = 0).
double macroF1(const std::vector<int>& truth, const std::vector<int>& pred, int numClasses);
// Binary AUROC of `score` for positives (label != 0); ties count 1/2 (Mann-Whitney). NaN if one class is absent.
double aurocBinary(const std::vector<int>& positive, const std::vector<double>& score);
// Average precision (area under the precision-recall curve, step-wise as sklearn's
// average_precision_score). NaN if there is no positive.
double auprcBinary(const std::vector<int>& positive, const std::vector<double>& score);
// One-vs-rest macro AUROC / AUPRC over the classes that have both positives and negatives.
double aurocOvr(const std::vector<int>& truth, const Scores& scores);
double auprcOvr(const std::vector<int>& truth, const Scores& scores);
// Arg-max of each row.
std::vector<int> argmaxRows(const Scores& scores);

struct ClassificationReport {
  double accuracy = 0, balancedAccuracy = 0, macroF1 = 0, auroc = 0, auprc = 0;
};
// For K = 2 the AUROC/AUPRC use the class-1 score; for K > 2 one-vs-rest macro.
ClassificationReport evaluate(const std::vector<int>& truth, const Scores& scores);

struct ConfidenceInterval {
  double value = 0, lower = 0, upper = 0;  // point estimate on all samples and percentile bounds
  int resamples = 0;                       // resamples where the metric was defined (not NaN)
};
// Percentile bootstrap (resampling cases with replacement) with a deterministic seed.
ConfidenceInterval bootstrapCi(const std::vector<int>& truth, const Scores& scores,
                               const std::function<double(const std::vector<int>&, const Scores&)>& metric,
                               int resamples = 1000, double level = 0.95, std::uint64_t seed = 42);

// k-nearest-neighbour classifier (Euclidean; majority vote, ties broken by the smaller summed
// distance, then the smaller label). predictProba gives the vote fractions per class.
class KnnClassifier {
 public:
  explicit KnnClassifier(int k = 5) : k_(k) {}
  void fit(std::vector<std::vector<float>> features, std::vector<int> labels, int numClasses);
  int predict(const std::vector<float>& x) const;
  std::vector<double> predictProba(const std::vector<float>& x) const;
  Scores predictProba(const std::vector<std::vector<float>>& xs) const;

 private:
  std::vector<std::pair<double, int>> neighbours(const std::vector<float>& x) const;
  int k_;
  int numClasses_ = 0;
  std::vector<std::vector<float>> features_;
  std::vector<int> labels_;
};

}  // namespace e2e::model
