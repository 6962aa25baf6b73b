// The training job progress protocol (docs/training-protocol.md), Qt-free: JSON helpers on
// nlohmann-json and the parser of one stdout line of `echo2ecg train --json-progress` into a typed event.
// Malformed lines never throw: they come back as !ok with a warning for the log.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace e2e::vm {

// ---- JSON: nlohmann-json's ordered_json (objects keep document order)
using JsonValue = nlohmann::ordered_json;
// Parses a complete JSON text; false (and *error) on any syntax error, trailing garbage, invalid
// UTF-8 or nesting deeper than 64 levels. Never throws.
bool parseJson(const std::string& text, JsonValue& out, std::string* error = nullptr);
// Compact serialisation (shortest round-trip numbers; numbers that are not finite as null; bytes
// that are not valid UTF-8 as U+FFFD). Never throws.
std::string toJson(const JsonValue& v);
// Escapes a string as a JSON string literal (with the quotes): the shared helper.
using e2e::jsonQuote;

// ---- protocol events
enum class EventKind { Start, Step, Epoch, Checkpoint, Done, Cancelled, Error };
const char* toString(EventKind k);

struct SplitInfo {
  int patients = 0, samples = 0;
  std::vector<int> classCounts;
};

struct RocCurve {
  std::string cls;  // empty for a binary task
  std::vector<double> fpr, tpr;
};

struct TrainingEvent {
  EventKind kind = EventKind::Error;
  // start
  std::string task, method, runDir, device;
  int totalEpochs = 0, stepsPerEpoch = 0, startEpoch = 0;
  bool resumed = false, synthetic = false;
  std::vector<std::string> classes;     // start and done
  std::map<std::string, SplitInfo> split;  // "train", "val", "test"
  // step / epoch / checkpoint / cancelled
  int epoch = -1, step = -1, totalSteps = 0;
  double loss = 0, lr = 0, elapsedS = -1, etaS = -1;  // -1: absent
  double trainLoss = 0, valLoss = 0;
  bool hasValLoss = false;
  std::map<std::string, double> valMetrics;
  std::string path;  // checkpoint path (checkpoint, cancelled)
  // done
  std::string modelId, version, parent, weightsHash, weightsPath;
  std::map<std::string, double> testMetrics;
  std::map<std::string, std::pair<double, double>> testIntervals;  // "auroc_ci" -> auroc: [lo, hi]
  std::vector<RocCurve> roc;
  std::vector<std::vector<double>> confusion;  // rows: true class, columns: predicted
  std::string calibrationJson;  // the "calibration" object (issue 23; reliabilityView), "" when absent
  // error
  std::string message;
};

struct ParseResult {
  bool ok = false;
  TrainingEvent event;
  std::string warning;  // why the line was ignored (when !ok)
};
// One stdout line (trailing CR/LF and surrounding blanks are ignored).
ParseResult parseProgressLine(const std::string& line);

}  // namespace e2e::vm
