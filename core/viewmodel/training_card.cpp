#include "viewmodel/training_card.h"

#include <cstdio>

#include "viewmodel/training_protocol.h"

namespace e2e::vm {

namespace {
std::map<std::string, double> numbersOf(const JsonValue* o) {
  std::map<std::string, double> m;
  if (!o || !o->isObject()) return m;
  for (const auto& kv : o->object)
    if (kv.second.isNumber()) m[kv.first] = kv.second.number;
  return m;
}

void pretty(const JsonValue& v, std::string& o, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' '), end(static_cast<std::size_t>(indent), ' ');
  if (v.isObject() && !v.object.empty()) {
    o += "{\n";
    for (std::size_t k = 0; k < v.object.size(); ++k) {
      o += pad + jsonQuote(v.object[k].first) + ": ";
      pretty(v.object[k].second, o, indent + 2);
      o += k + 1 < v.object.size() ? ",\n" : "\n";
    }
    o += end + "}";
  } else if (v.isArray() && !v.array.empty()) {
    bool scalars = true;
    for (const auto& e : v.array) scalars = scalars && !e.isArray() && !e.isObject();
    if (scalars) {
      o += toJson(v);
      return;
    }
    o += "[\n";
    for (std::size_t k = 0; k < v.array.size(); ++k) {
      o += pad;
      pretty(v.array[k], o, indent + 2);
      o += k + 1 < v.array.size() ? ",\n" : "\n";
    }
    o += end + "]";
  } else {
    o += toJson(v);
  }
}
}  // namespace

std::map<std::string, double> cardMetrics(const std::string& cardJson) {
  JsonValue j;
  if (!parseJson(cardJson, j) || !j.isObject()) return {};
  for (const char* k : {"metrics", "test_metrics"}) {
    const JsonValue* m = j.get(k);
    if (!m || !m->isObject()) continue;
    if (const JsonValue* t = m->get("test"); t && t->isObject()) return numbersOf(t);
    auto n = numbersOf(m);
    if (!n.empty()) return n;
  }
  return {};
}

std::string cardMetricsSummary(const std::string& cardJson, int maxItems) {
  const auto m = cardMetrics(cardJson);
  std::string out;
  int n = 0;
  const std::pair<const char*, const char*> pref[] = {{"auroc", "AUROC"}, {"balanced_accuracy", "bal. acc"},
                                                      {"accuracy", "acc"},  {"f1", "F1"},
                                                      {"auprc", "AUPRC"},  {"loss", "loss"}};
  for (const auto& [key, name] : pref) {
    auto it = m.find(key);
    if (it == m.end() || n >= maxItems) continue;
    char b[64];
    std::snprintf(b, sizeof b, "%s%s %.3f", out.empty() ? "" : ", ", name, it->second);
    out += b;
    ++n;
  }
  return out;
}

std::string prettyJson(const std::string& json) {
  JsonValue j;
  if (!parseJson(json, j)) return json;
  std::string o;
  pretty(j, o, 0);
  return o;
}

}  // namespace e2e::vm
