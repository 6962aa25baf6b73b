// Reading model cards (the JSON stored with each registered model version). Qt-free.
#pragma once
#include <map>
#include <string>

namespace e2e::vm {

// Key metrics of a card: the numbers of its "metrics" object (or "test_metrics"; a nested
// "test" object wins), e.g. {"auroc":0.91,"balanced_accuracy":0.8}. Empty if none/not JSON.
std::map<std::string, double> cardMetrics(const std::string& cardJson);
// "auroc 0.912, bal_acc 0.801" from the preferred metrics present (at most `maxItems`).
std::string cardMetricsSummary(const std::string& cardJson, int maxItems = 3);
// Pretty-printed JSON (2-space indent), or the text unchanged when it is not JSON.
std::string prettyJson(const std::string& json);
// Issue 23: the card's trust section as text: the OOD statistics (threshold, training/validation
// ECGs) or "no out-of-distribution statistics (predictions say ood: unknown)", and the reliability
// diagram of its "calibration" as a Markdown table of bins (vm::reliabilityTable). "" when not JSON.
std::string cardTrustText(const std::string& cardJson);

}  // namespace e2e::vm
