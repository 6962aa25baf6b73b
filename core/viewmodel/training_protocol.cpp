#include "viewmodel/training_protocol.h"

#include <algorithm>
#include <cmath>

namespace e2e::vm {

namespace {

// Nesting limit of parseJson, as the hand-written reader had it: 64 nested values, a scalar
// inside the innermost container counting as one.
constexpr int kMaxJsonDepth = 64;

// "[json.exception.parse_error.101] parse error at ..." -> "parse error at ...".
std::string withoutExceptionId(const char* what) {
  std::string m = what;
  if (m.rfind("[json.exception.", 0) == 0)
    if (const auto e = m.find("] "); e != std::string::npos) m.erase(0, e + 2);
  return m;
}

// Member of an object (nullptr if absent or `o` is not an object).
const JsonValue* member(const JsonValue& o, const char* key) {
  if (!o.is_object()) return nullptr;
  const auto it = o.find(key);
  return it == o.end() ? nullptr : &*it;
}

double num(const JsonValue& o, const char* key, double def) {
  const JsonValue* v = member(o, key);
  return v && v->is_number() ? v->get<double>() : def;
}

std::string str(const JsonValue& o, const char* key, const std::string& def = "") {
  const JsonValue* v = member(o, key);
  return v && v->is_string() ? v->get<std::string>() : def;
}

std::vector<double> numbers(const JsonValue* v) {
  std::vector<double> out;
  if (!v || !v->is_array()) return out;
  for (const auto& e : *v) out.push_back(e.is_number() ? e.get<double>() : NAN);
  return out;
}

std::map<std::string, double> metricMap(const JsonValue* v, std::map<std::string, std::pair<double, double>>* ci) {
  std::map<std::string, double> out;
  if (!v || !v->is_object()) return out;
  for (auto it = v->begin(); it != v->end(); ++it) {
    const JsonValue& x = it.value();
    if (x.is_number()) {
      out[it.key()] = x.get<double>();
    } else if (ci && x.is_array() && x.size() == 2 && x[0].is_number() && x[1].is_number()) {
      std::string name = it.key();
      if (name.size() > 3 && name.compare(name.size() - 3, 3, "_ci") == 0) name.resize(name.size() - 3);
      (*ci)[name] = {x[0].get<double>(), x[1].get<double>()};
    }
  }
  return out;
}

int intOf(const JsonValue& o, const char* k, int def) {
  const double d = num(o, k, NAN);
  return std::isfinite(d) ? static_cast<int>(std::llround(d)) : def;
}

bool boolOf(const JsonValue& o, const char* k) {
  const JsonValue* v = member(o, k);
  return v && v->is_boolean() && v->get<bool>();
}

std::vector<std::string> stringList(const JsonValue* v) {
  std::vector<std::string> out;
  if (v && v->is_array())
    for (const auto& e : *v) out.push_back(e.is_string() ? e.get<std::string>() : toJson(e));
  return out;
}

}  // namespace

bool parseJson(const std::string& text, JsonValue& out, std::string* error) {
  // nlohmann's parser is not recursive; the callback enforces the nesting limit (depth 0: the
  // top-level value) and drops everything once it is exceeded.
  bool tooDeep = false;
  const JsonValue::parser_callback_t limit = [&tooDeep](int depth, JsonValue::parse_event_t, JsonValue&) {
    if (depth >= kMaxJsonDepth) tooDeep = true;
    return !tooDeep;
  };
  try {
    JsonValue v = JsonValue::parse(text, limit);
    if (tooDeep) {
      if (error) *error = "nested too deeply (more than " + std::to_string(kMaxJsonDepth) + " levels)";
      return false;
    }
    out = std::move(v);
    return true;
  } catch (const JsonValue::exception& e) {
    if (error) *error = withoutExceptionId(e.what());
    return false;
  }
}

std::string toJson(const JsonValue& v) { return v.dump(-1, ' ', false, JsonValue::error_handler_t::replace); }

const char* toString(EventKind k) {
  switch (k) {
    case EventKind::Start: return "start";
    case EventKind::Step: return "step";
    case EventKind::Epoch: return "epoch";
    case EventKind::Checkpoint: return "checkpoint";
    case EventKind::Done: return "done";
    case EventKind::Cancelled: return "cancelled";
    case EventKind::Error: return "error";
  }
  return "?";
}

namespace {

// Trims the line and parses it as a JSON object with a string "event" member; on failure returns
// false with the reason in warning.
bool parseEventObject(const std::string& raw, JsonValue& j, std::string& kind, std::string& warning) {
  const auto b = raw.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    warning = "empty line";
    return false;
  }
  const auto e = raw.find_last_not_of(" \t\r\n");
  const std::string line = raw.substr(b, e - b + 1);
  std::string err;
  if (!parseJson(line, j, &err)) {
    warning = "not JSON (" + err + ")";
    return false;
  }
  if (!j.is_object()) {
    warning = "not a JSON object";
    return false;
  }
  const JsonValue* ev = member(j, "event");
  if (!ev || !ev->is_string()) {
    warning = "no \"event\" member";
    return false;
  }
  kind = ev->get<std::string>();
  return true;
}

void readSplit(const JsonValue* sp, TrainingEvent& t) {
  if (!sp || !sp->is_object()) return;
  for (auto it = sp->begin(); it != sp->end(); ++it) {
    const JsonValue& part = it.value();
    if (!part.is_object()) continue;
    SplitInfo si;
    si.patients = intOf(part, "patients", 0);
    si.samples = intOf(part, "samples", si.patients);
    for (double d : numbers(member(part, "class_counts")))
      si.classCounts.push_back(std::isfinite(d) ? static_cast<int>(std::llround(d)) : 0);
    t.split[it.key()] = si;
  }
}

void readStart(const JsonValue& j, TrainingEvent& t) {
  t.kind = EventKind::Start;
  t.task = str(j, "task");
  t.method = str(j, "method");
  t.runDir = str(j, "run_dir");
  t.device = str(j, "device");
  t.totalEpochs = intOf(j, "total_epochs", 0);
  t.stepsPerEpoch = intOf(j, "steps_per_epoch", 0);
  t.startEpoch = intOf(j, "start_epoch", 0);
  t.resumed = boolOf(j, "resumed");
  t.synthetic = boolOf(j, "synthetic_data");
  t.classes = stringList(member(j, "classes"));
  readSplit(member(j, "split"), t);
}

bool readStep(const JsonValue& j, TrainingEvent& t, std::string& warning) {
  t.kind = EventKind::Step;
  t.epoch = intOf(j, "epoch", -1);
  t.step = intOf(j, "step", -1);
  t.totalSteps = intOf(j, "total_steps", 0);
  t.loss = num(j, "loss", NAN);
  t.lr = num(j, "lr", NAN);
  t.elapsedS = num(j, "elapsed_s", -1);
  t.etaS = num(j, "eta_s", -1);
  if (t.epoch < 0 || t.step < 0) {
    warning = "step event without epoch/step";
    return false;
  }
  return true;
}

bool readEpoch(const JsonValue& j, TrainingEvent& t, std::string& warning) {
  t.kind = EventKind::Epoch;
  t.epoch = intOf(j, "epoch", -1);
  t.trainLoss = num(j, "train_loss", NAN);
  t.valLoss = num(j, "val_loss", NAN);
  t.hasValLoss = std::isfinite(t.valLoss);
  t.valMetrics = metricMap(member(j, "val_metrics"), nullptr);
  if (t.epoch < 0) {
    warning = "epoch event without epoch";
    return false;
  }
  return true;
}

// "roc": one curve (an object) or one per class (an array); fpr and tpr cut to equal length.
void readRoc(const JsonValue* roc, TrainingEvent& t) {
  if (!roc) return;
  if (roc->is_object()) {
    RocCurve c;
    c.fpr = numbers(member(*roc, "fpr"));
    c.tpr = numbers(member(*roc, "tpr"));
    c.cls = str(*roc, "class");
    t.roc.push_back(std::move(c));
  } else if (roc->is_array()) {
    for (const auto& e : *roc) {
      if (!e.is_object()) continue;
      RocCurve c;
      c.cls = str(e, "class");
      c.fpr = numbers(member(e, "fpr"));
      c.tpr = numbers(member(e, "tpr"));
      t.roc.push_back(std::move(c));
    }
  }
  for (auto& c : t.roc)
    if (c.fpr.size() != c.tpr.size()) c.fpr.resize(std::min(c.fpr.size(), c.tpr.size())), c.tpr.resize(c.fpr.size());
}

void readDone(const JsonValue& j, TrainingEvent& t) {
  t.kind = EventKind::Done;
  t.modelId = str(j, "model_id");
  t.version = str(j, "version");
  if (const JsonValue* v = member(j, "version"); v && v->is_number())
    t.version = std::to_string(std::llround(v->get<double>()));
  t.parent = str(j, "parent");
  t.weightsHash = str(j, "weights_hash");
  t.weightsPath = str(j, "weights_path");
  t.testMetrics = metricMap(member(j, "test_metrics"), &t.testIntervals);
  t.classes = stringList(member(j, "classes"));
  readRoc(member(j, "roc"), t);
  if (const JsonValue* cal = member(j, "calibration"); cal && cal->is_object()) t.calibrationJson = toJson(*cal);
  if (const JsonValue* cm = member(j, "confusion"); cm && cm->is_array())
    for (const auto& row : *cm) t.confusion.push_back(numbers(&row));
}

}  // namespace

ParseResult parseProgressLine(const std::string& raw) {
  ParseResult r;
  JsonValue j;
  std::string k;
  if (!parseEventObject(raw, j, k, r.warning)) return r;
  TrainingEvent& t = r.event;
  if (k == "start") {
    readStart(j, t);
  } else if (k == "step") {
    if (!readStep(j, t, r.warning)) return r;
  } else if (k == "epoch") {
    if (!readEpoch(j, t, r.warning)) return r;
  } else if (k == "checkpoint") {
    t.kind = EventKind::Checkpoint;
    t.epoch = intOf(j, "epoch", -1);
    t.path = str(j, "path");
  } else if (k == "done") {
    readDone(j, t);
  } else if (k == "cancelled") {
    t.kind = EventKind::Cancelled;
    t.epoch = intOf(j, "epoch", -1);
    t.path = str(j, "checkpoint");
  } else if (k == "error") {
    t.kind = EventKind::Error;
    t.message = str(j, "message", "unknown error");
  } else {
    r.warning = "unknown event '" + k + "'";
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace e2e::vm
