#include "viewmodel/training_protocol.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace e2e::vm {

const JsonValue* JsonValue::get(const std::string& key) const {
  if (type != Type::Object) return nullptr;
  for (const auto& kv : object)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

double JsonValue::num(const std::string& key, double def) const {
  const JsonValue* v = get(key);
  return v && v->isNumber() ? v->number : def;
}

std::string JsonValue::str(const std::string& key, const std::string& def) const {
  const JsonValue* v = get(key);
  return v && v->isString() ? v->string : def;
}

namespace {

struct Reader {
  const std::string& s;
  std::size_t i = 0;
  std::string err;
  int depth = 0;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  }
  bool fail(const std::string& m) {
    if (err.empty()) err = m + " at offset " + std::to_string(i);
    return false;
  }
  bool lit(const char* w) {
    const std::size_t n = std::strlen(w);
    if (s.compare(i, n, w) != 0) return fail(std::string("expected ") + w);
    i += n;
    return true;
  }
  static void utf8(std::string& o, unsigned cp) {
    if (cp < 0x80) {
      o += static_cast<char>(cp);
    } else if (cp < 0x800) {
      o += static_cast<char>(0xC0 | (cp >> 6));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      o += static_cast<char>(0xE0 | (cp >> 12));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      o += static_cast<char>(0xF0 | (cp >> 18));
      o += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      o += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      o += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  bool hex4(unsigned& cp) {
    if (i + 4 > s.size()) return fail("short \\u escape");
    cp = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i++];
      cp <<= 4;
      if (c >= '0' && c <= '9') cp |= c - '0';
      else if (c >= 'a' && c <= 'f') cp |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') cp |= c - 'A' + 10;
      else return fail("bad \\u escape");
    }
    return true;
  }
  bool string(std::string& o) {
    if (i >= s.size() || s[i] != '"') return fail("expected string");
    ++i;
    while (true) {
      if (i >= s.size()) return fail("unterminated string");
      const char c = s[i++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        o += c;
        continue;
      }
      if (i >= s.size()) return fail("unterminated escape");
      const char e = s[i++];
      switch (e) {
        case '"': o += '"'; break;
        case '\\': o += '\\'; break;
        case '/': o += '/'; break;
        case 'b': o += '\b'; break;
        case 'f': o += '\f'; break;
        case 'n': o += '\n'; break;
        case 'r': o += '\r'; break;
        case 't': o += '\t'; break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < s.size() && s[i] == '\\' && s[i + 1] == 'u') {
            i += 2;
            unsigned lo = 0;
            if (!hex4(lo)) return false;
            if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(o, cp);
          break;
        }
        default: return fail("bad escape");
      }
    }
  }
  bool number(double& d) {
    const std::size_t b = i;
    if (i < s.size() && s[i] == '-') ++i;
    if (i >= s.size() || !(s[i] >= '0' && s[i] <= '9')) return fail("bad number");
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
                            s[i] == '+' || s[i] == '-'))
      ++i;
    const std::string t = s.substr(b, i - b);
    char* end = nullptr;
    d = std::strtod(t.c_str(), &end);
    if (!end || *end != '\0') return fail("bad number");
    return true;
  }
  bool value(JsonValue& v) {
    if (++depth > 64) return fail("nested too deeply");
    ws();
    if (i >= s.size()) return fail("unexpected end");
    const char c = s[i];
    bool ok = true;
    if (c == '{') {
      v.type = JsonValue::Type::Object;
      ++i;
      ws();
      if (i < s.size() && s[i] == '}') {
        ++i;
      } else {
        while (true) {
          ws();
          std::string k;
          if (!string(k)) return false;
          ws();
          if (i >= s.size() || s[i] != ':') return fail("expected ':'");
          ++i;
          JsonValue m;
          if (!value(m)) return false;
          v.object.emplace_back(std::move(k), std::move(m));
          ws();
          if (i < s.size() && s[i] == ',') { ++i; continue; }
          if (i < s.size() && s[i] == '}') { ++i; break; }
          return fail("expected ',' or '}'");
        }
      }
    } else if (c == '[') {
      v.type = JsonValue::Type::Array;
      ++i;
      ws();
      if (i < s.size() && s[i] == ']') {
        ++i;
      } else {
        while (true) {
          JsonValue m;
          if (!value(m)) return false;
          v.array.push_back(std::move(m));
          ws();
          if (i < s.size() && s[i] == ',') { ++i; continue; }
          if (i < s.size() && s[i] == ']') { ++i; break; }
          return fail("expected ',' or ']'");
        }
      }
    } else if (c == '"') {
      v.type = JsonValue::Type::String;
      ok = string(v.string);
    } else if (c == 't') {
      v.type = JsonValue::Type::Bool;
      v.boolean = true;
      ok = lit("true");
    } else if (c == 'f') {
      v.type = JsonValue::Type::Bool;
      ok = lit("false");
    } else if (c == 'n') {
      ok = lit("null");
    } else {
      v.type = JsonValue::Type::Number;
      ok = number(v.number);
    }
    --depth;
    return ok;
  }
};

void serialize(const JsonValue& v, std::string& o) {
  switch (v.type) {
    case JsonValue::Type::Null: o += "null"; break;
    case JsonValue::Type::Bool: o += v.boolean ? "true" : "false"; break;
    case JsonValue::Type::Number: {
      if (!std::isfinite(v.number)) {
        o += "null";
        break;
      }
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", v.number);
      // Prefer the shortest representation that round-trips.
      for (int p = 6; p <= 17; ++p) {
        char b2[40];
        std::snprintf(b2, sizeof b2, "%.*g", p, v.number);
        if (std::strtod(b2, nullptr) == v.number) {
          std::snprintf(buf, sizeof buf, "%s", b2);
          break;
        }
      }
      o += buf;
      break;
    }
    case JsonValue::Type::String: o += jsonQuote(v.string); break;
    case JsonValue::Type::Array:
      o += '[';
      for (std::size_t k = 0; k < v.array.size(); ++k) {
        if (k) o += ',';
        serialize(v.array[k], o);
      }
      o += ']';
      break;
    case JsonValue::Type::Object:
      o += '{';
      for (std::size_t k = 0; k < v.object.size(); ++k) {
        if (k) o += ',';
        o += jsonQuote(v.object[k].first);
        o += ':';
        serialize(v.object[k].second, o);
      }
      o += '}';
      break;
  }
}

std::vector<double> numbers(const JsonValue* v) {
  std::vector<double> out;
  if (!v || !v->isArray()) return out;
  for (const auto& e : v->array) out.push_back(e.isNumber() ? e.number : NAN);
  return out;
}

std::map<std::string, double> metricMap(const JsonValue* v, std::map<std::string, std::pair<double, double>>* ci) {
  std::map<std::string, double> out;
  if (!v || !v->isObject()) return out;
  for (const auto& kv : v->object) {
    if (kv.second.isNumber()) {
      out[kv.first] = kv.second.number;
    } else if (ci && kv.second.isArray() && kv.second.array.size() == 2 && kv.second.array[0].isNumber() &&
               kv.second.array[1].isNumber()) {
      std::string name = kv.first;
      if (name.size() > 3 && name.compare(name.size() - 3, 3, "_ci") == 0) name.resize(name.size() - 3);
      (*ci)[name] = {kv.second.array[0].number, kv.second.array[1].number};
    }
  }
  return out;
}

int intOf(const JsonValue& o, const char* k, int def) {
  const double d = o.num(k, NAN);
  return std::isfinite(d) ? static_cast<int>(std::llround(d)) : def;
}

bool boolOf(const JsonValue& o, const char* k) {
  const JsonValue* v = o.get(k);
  return v && v->type == JsonValue::Type::Bool && v->boolean;
}

std::vector<std::string> stringList(const JsonValue* v) {
  std::vector<std::string> out;
  if (v && v->isArray())
    for (const auto& e : v->array) out.push_back(e.isString() ? e.string : toJson(e));
  return out;
}

}  // namespace

bool parseJson(const std::string& text, JsonValue& out, std::string* error) {
  Reader r{text};
  JsonValue v;
  bool ok = r.value(v);
  if (ok) {
    r.ws();
    if (r.i != text.size()) ok = r.fail("trailing characters");
  }
  if (!ok) {
    if (error) *error = r.err;
    return false;
  }
  out = std::move(v);
  return true;
}

std::string toJson(const JsonValue& v) {
  std::string o;
  serialize(v, o);
  return o;
}


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

ParseResult parseProgressLine(const std::string& raw) {
  ParseResult r;
  const auto b = raw.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) {
    r.warning = "empty line";
    return r;
  }
  const auto e = raw.find_last_not_of(" \t\r\n");
  const std::string line = raw.substr(b, e - b + 1);
  JsonValue j;
  std::string err;
  if (!parseJson(line, j, &err)) {
    r.warning = "not JSON (" + err + ")";
    return r;
  }
  if (!j.isObject()) {
    r.warning = "not a JSON object";
    return r;
  }
  const JsonValue* ev = j.get("event");
  if (!ev || !ev->isString()) {
    r.warning = "no \"event\" member";
    return r;
  }
  TrainingEvent& t = r.event;
  const std::string& k = ev->string;
  if (k == "start") {
    t.kind = EventKind::Start;
    t.task = j.str("task");
    t.method = j.str("method");
    t.runDir = j.str("run_dir");
    t.device = j.str("device");
    t.totalEpochs = intOf(j, "total_epochs", 0);
    t.stepsPerEpoch = intOf(j, "steps_per_epoch", 0);
    t.startEpoch = intOf(j, "start_epoch", 0);
    t.resumed = boolOf(j, "resumed");
    t.synthetic = boolOf(j, "synthetic_data");
    t.classes = stringList(j.get("classes"));
    if (const JsonValue* sp = j.get("split"); sp && sp->isObject()) {
      for (const auto& kv : sp->object) {
        if (!kv.second.isObject()) continue;
        SplitInfo si;
        si.patients = intOf(kv.second, "patients", 0);
        si.samples = intOf(kv.second, "samples", si.patients);
        for (double d : numbers(kv.second.get("class_counts")))
          si.classCounts.push_back(std::isfinite(d) ? static_cast<int>(std::llround(d)) : 0);
        t.split[kv.first] = si;
      }
    }
  } else if (k == "step") {
    t.kind = EventKind::Step;
    t.epoch = intOf(j, "epoch", -1);
    t.step = intOf(j, "step", -1);
    t.totalSteps = intOf(j, "total_steps", 0);
    t.loss = j.num("loss", NAN);
    t.lr = j.num("lr", NAN);
    t.elapsedS = j.num("elapsed_s", -1);
    t.etaS = j.num("eta_s", -1);
    if (t.epoch < 0 || t.step < 0) {
      r.warning = "step event without epoch/step";
      return r;
    }
  } else if (k == "epoch") {
    t.kind = EventKind::Epoch;
    t.epoch = intOf(j, "epoch", -1);
    t.trainLoss = j.num("train_loss", NAN);
    t.valLoss = j.num("val_loss", NAN);
    t.hasValLoss = std::isfinite(t.valLoss);
    t.valMetrics = metricMap(j.get("val_metrics"), nullptr);
    if (t.epoch < 0) {
      r.warning = "epoch event without epoch";
      return r;
    }
  } else if (k == "checkpoint") {
    t.kind = EventKind::Checkpoint;
    t.epoch = intOf(j, "epoch", -1);
    t.path = j.str("path");
  } else if (k == "done") {
    t.kind = EventKind::Done;
    t.modelId = j.str("model_id");
    t.version = j.str("version");
    if (const JsonValue* v = j.get("version"); v && v->isNumber()) t.version = std::to_string(std::llround(v->number));
    t.parent = j.str("parent");
    t.weightsHash = j.str("weights_hash");
    t.weightsPath = j.str("weights_path");
    t.testMetrics = metricMap(j.get("test_metrics"), &t.testIntervals);
    t.classes = stringList(j.get("classes"));
    if (const JsonValue* roc = j.get("roc")) {
      if (roc->isObject()) {
        RocCurve c;
        c.fpr = numbers(roc->get("fpr"));
        c.tpr = numbers(roc->get("tpr"));
        c.cls = roc->str("class");
        t.roc.push_back(std::move(c));
      } else if (roc->isArray()) {
        for (const auto& e : roc->array) {
          if (!e.isObject()) continue;
          RocCurve c;
          c.cls = e.str("class");
          c.fpr = numbers(e.get("fpr"));
          c.tpr = numbers(e.get("tpr"));
          t.roc.push_back(std::move(c));
        }
      }
      for (auto& c : t.roc)
        if (c.fpr.size() != c.tpr.size()) c.fpr.resize(std::min(c.fpr.size(), c.tpr.size())), c.tpr.resize(c.fpr.size());
    }
    if (const JsonValue* cm = j.get("confusion"); cm && cm->isArray())
      for (const auto& row : cm->array) t.confusion.push_back(numbers(&row));
  } else if (k == "cancelled") {
    t.kind = EventKind::Cancelled;
    t.epoch = intOf(j, "epoch", -1);
    t.path = j.str("checkpoint");
  } else if (k == "error") {
    t.kind = EventKind::Error;
    t.message = j.str("message", "unknown error");
  } else {
    r.warning = "unknown event '" + k + "'";
    return r;
  }
  r.ok = true;
  return r;
}

}  // namespace e2e::vm
