// Qt-free view of a training run's test result (the training panel's ROC chart and confusion
// matrix): for which classes a ROC curve is defined (the test split holds both positives and
// negatives of it), what to say for the others, and the confusion matrix's row percentages.
#pragma once

#include <string>
#include <vector>

namespace e2e::vm {

struct RocClassView {
  int classIndex = -1;     // row of the confusion matrix (the positive class; 1 for a binary task)
  std::string name;        // class name ("" for a binary task's single curve)
  long positives = -1;     // test samples of the class (-1: not known)
  long negatives = -1;     // test samples of the other classes (-1: not known)
  bool defined = true;     // a ROC curve needs both
  std::string reason;      // why not: "not defined: no positives in test split"
};

// One entry per ROC curve of the result: `curveClasses` are the curves' class names in order ("" =
// the binary task's curve), `classes` the task's class names (confusion order), `confusion` rows =
// true class. Positives/negatives come from the confusion row sums, else from `testCounts` (the
// split's class counts); unknown counts leave the curve defined.
std::vector<RocClassView> rocClasses(const std::vector<std::string>& curveClasses,
                                     const std::vector<std::string>& classes,
                                     const std::vector<std::vector<double>>& confusion,
                                     const std::vector<int>& testCounts);

// Each cell as a percentage of its row (true class) total; a row with no samples gives -1s.
std::vector<std::vector<double>> rowPercentages(const std::vector<std::vector<double>>& confusion);
// "53 %" (no decimals), "—" for a negative (undefined) percentage.
std::string percentText(double percent);

}  // namespace e2e::vm
