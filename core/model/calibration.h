// Calibrated probabilities (issue 23): temperature scaling of a classifier's probabilities, fitted on
// the validation split by minimising the negative log-likelihood, and the expected calibration error
// with its reliability diagram (confidence vs accuracy per bin). Torch-free; labels are 0..K-1.
#pragma once

#include <vector>

#include "model/metrics.h"

namespace e2e::model {

// softmax(log(p) / T) of each row (log clamped at 1e-12, so a kNN probability of 0 stays finite).
// For a linear head this equals softmax(logits / T). T <= 0 or non-finite throws std::invalid_argument.
Scores applyTemperature(const Scores& probabilities, double temperature);

// Mean negative log-likelihood of the true classes (probabilities clamped at 1e-12).
double negativeLogLikelihood(const std::vector<int>& truth, const Scores& probabilities);

// The temperature in [0.05, 20] that minimises the NLL of softmax(log p / T) (golden-section search
// on log T, 1e-4 relative). 1 when there are no samples. Throws std::invalid_argument when truth and
// probabilities differ in length or a label is out of range.
double fitTemperature(const std::vector<int>& truth, const Scores& probabilities);

struct ReliabilityBin {
  double lower = 0, upper = 0;     // confidence range [lower, upper) (the last bin includes 1)
  int count = 0;
  double confidence = 0;           // mean max-probability of the samples in the bin (0 when empty)
  double accuracy = 0;             // fraction whose arg-max is the true class (0 when empty)
};

struct CalibrationSummary {
  double ece = 0;  // sum over bins of count/n * |accuracy - confidence|
  std::vector<ReliabilityBin> bins;
};

// Expected calibration error with `bins` equal-width confidence bins (15 as Guo et al. 2017).
CalibrationSummary calibrationSummary(const std::vector<int>& truth, const Scores& probabilities, int bins = 15);

}  // namespace e2e::model
