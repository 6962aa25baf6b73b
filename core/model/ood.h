// Out-of-distribution score of an embedding (issue 23): the Mahalanobis distance to the model's
// training embeddings, with a Ledoit-Wolf shrinkage covariance (well conditioned when the dimension
// is close to the number of training ECGs), and the threshold = the 99th percentile of the validation
// split's distances. Saved with a model as a tensor archive (ood.pt: ood.mean, ood.precision,
// ood.threshold, ood.shrinkage, ood.n_train, ood.n_val). Needs torch.
#pragma once
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

namespace e2e::model {

struct OodStats {
  torch::Tensor mean;       // [d] float64
  torch::Tensor precision;  // [d, d] float64: inverse of the shrinkage covariance
  double threshold = 0;     // distances above it are out of distribution
  double shrinkage = 0;     // Ledoit-Wolf intensity in [0, 1]
  std::int64_t nTrain = 0, nVal = 0;

  std::int64_t dim() const { return mean.defined() ? mean.size(0) : 0; }
  // Mahalanobis distance sqrt((x - mean)' P (x - mean)); std::invalid_argument for a wrong length.
  double distance(const std::vector<float>& x) const;
  std::vector<double> distances(const std::vector<std::vector<float>>& xs) const;
  bool isOut(double distance) const { return distance > threshold; }
};

// Mean and Ledoit-Wolf shrinkage covariance of `train` (at least 2 rows of equal length), threshold
// = percentile(distances of `val`, 99) (of `train` when `val` is empty). std::invalid_argument on
// too few or ragged rows.
OodStats fitOod(const std::vector<std::vector<float>>& train, const std::vector<std::vector<float>>& val);

// The q-th percentile (0..100, linear interpolation between order statistics as numpy's default);
// NaN for an empty vector.
double percentile(std::vector<double> values, double q);

void saveOod(const OodStats& s, const std::string& path);
// std::runtime_error naming the file when it is unreadable or not an OOD archive.
OodStats loadOod(const std::string& path);

// Input-side features of a model input (leads x samples, row-major, at `hz`): per lead the log
// standard deviation and the log fraction of the power in 0-0.5, 0.5-2, 2-5, 5-10, 10-20 and
// 20-hz/2 Hz (leads x 7 values, 84 for 12 leads). The second OOD score of a bundle: an
// encoder can map an ECG unlike its training data onto familiar embeddings, its spectrum cannot hide.
std::vector<float> ecgInputFeatures(const std::vector<float>& input, std::int64_t leads, double hz);

// "in" / "out" / "unknown" (no statistics): the flag stored and printed with every prediction.
std::string oodFlag(const std::optional<OodStats>& stats, double distance);

}  // namespace e2e::model
