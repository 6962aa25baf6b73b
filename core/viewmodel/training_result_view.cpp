// The training result's ROC availability and confusion percentages (see training_result_view.h).
#include "viewmodel/training_result_view.h"

#include <cmath>
#include <cstdio>

#include "viewmodel/prediction_view.h"

namespace e2e::vm {

namespace {
double rowSum(const std::vector<double>& row) {
  double s = 0;
  for (double v : row)
    if (std::isfinite(v) && v > 0) s += v;
  return s;
}
}  // namespace

std::vector<RocClassView> rocClasses(const std::vector<std::string>& curveClasses,
                                     const std::vector<std::string>& classes,
                                     const std::vector<std::vector<double>>& confusion,
                                     const std::vector<int>& testCounts) {
  // Samples per true class: the confusion matrix's rows, else the split's test counts.
  std::vector<double> perClass;
  for (const auto& row : confusion) perClass.push_back(rowSum(row));
  if (perClass.empty())
    for (int c : testCounts) perClass.push_back(c > 0 ? c : 0);
  double total = 0;
  for (double v : perClass) total += v;
  std::vector<RocClassView> out;
  for (const auto& cls : curveClasses) {
    RocClassView v;
    v.name = cls;
    if (cls.empty()) v.classIndex = 1;  // binary: the positive class
    for (std::size_t k = 0; k < classes.size() && !cls.empty(); ++k)
      if (classes[k] == cls) v.classIndex = static_cast<int>(k);
    if (v.classIndex >= 0 && static_cast<std::size_t>(v.classIndex) < perClass.size()) {
      v.positives = std::lround(perClass[static_cast<std::size_t>(v.classIndex)]);
      v.negatives = std::lround(total) - v.positives;
      if (v.positives <= 0) v.defined = false, v.reason = "not defined: no positives in test split";
      else if (v.negatives <= 0) v.defined = false, v.reason = "not defined: no negatives in test split";
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<std::vector<double>> rowPercentages(const std::vector<std::vector<double>>& confusion) {
  std::vector<std::vector<double>> out;
  for (const auto& row : confusion) {
    const double s = rowSum(row);
    std::vector<double> r;
    for (double v : row) r.push_back(s > 0 && std::isfinite(v) ? 100.0 * v / s : -1.0);
    out.push_back(std::move(r));
  }
  return out;
}

std::string percentText(double percent) {
  if (!(percent >= 0) || !std::isfinite(percent)) return kMissingText;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f %%", percent);
  return buf;
}

}  // namespace e2e::vm
