// The training job progress protocol (docs/training-protocol.md), Qt-free: a small JSON reader
// and the parser of one stdout line of `echo2ecg train --json-progress` into a typed event.
// Malformed lines never throw: they come back as !ok with a warning for the log.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/text.h"

namespace e2e::vm {

// ---- minimal JSON (RFC 8259 values; numbers as double)
struct JsonValue {
  enum class Type { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;  // in document order

  bool isNull() const { return type == Type::Null; }
  bool isNumber() const { return type == Type::Number; }
  bool isString() const { return type == Type::String; }
  bool isArray() const { return type == Type::Array; }
  bool isObject() const { return type == Type::Object; }
  // Member of an object (nullptr if absent or not an object).
  const JsonValue* get(const std::string& key) const;
  double num(const std::string& key, double def) const;
  std::string str(const std::string& key, const std::string& def = "") const;
};
// Parses a complete JSON text; false (and *error) on any syntax error or trailing garbage.
bool parseJson(const std::string& text, JsonValue& out, std::string* error = nullptr);
// Compact serialisation (numbers with up to 17 significant digits).
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
