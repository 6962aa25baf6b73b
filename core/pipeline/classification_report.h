// Classification metrics of a head on a split, as the jobs report them: point values with 95 %
// bootstrap confidence intervals, ROC curves and the confusion matrix, as typed values and as the
// JSON objects of cards and of the training protocol.
#pragma once
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/metrics.h"

namespace e2e::pipeline {

// Metric names in report order: accuracy, balanced_accuracy, f1, auroc, auprc.
const std::vector<std::string>& classificationMetricNames();

struct MetricsWithCi {
  std::map<std::string, model::ConfidenceInterval> ci;  // by metric name
  std::size_t n = 0;
  // {"accuracy":v,"accuracy_ci":[lo,hi],...,"n":N}; {} when n == 0
  nlohmann::ordered_json toJson() const;
};
MetricsWithCi metricsWithCi(const std::vector<int>& truth, const model::Scores& scores, int resamples);

// Point values alone (the validation metrics of an epoch): {"accuracy":..,...}; {} without samples.
nlohmann::ordered_json pointMetricsJson(const std::vector<int>& truth, const model::Scores& scores);

// ROC curve of each class (binary: of the positive class alone): {"fpr":[..],"tpr":[..]} or
// [{"class":NAME,"fpr":[..],"tpr":[..]},...].
nlohmann::ordered_json rocJson(const std::vector<int>& truth, const model::Scores& scores,
                               const std::vector<std::string>& classes);

// K x K counts, rows = truth, columns = the arg-max class.
nlohmann::ordered_json confusionJson(const std::vector<int>& truth, const model::Scores& scores, int K);

}  // namespace e2e::pipeline
