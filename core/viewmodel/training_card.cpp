#include "viewmodel/training_card.h"

#include <cstdio>

#include "viewmodel/prediction_view.h"
#include "viewmodel/training_protocol.h"

namespace e2e::vm {

namespace {
std::map<std::string, double> numbersOf(const JsonValue& o) {
  std::map<std::string, double> m;
  if (!o.is_object()) return m;
  for (auto it = o.begin(); it != o.end(); ++it)
    if (it.value().is_number()) m[it.key()] = it.value().get<double>();
  return m;
}

// Objects and arrays of containers one member per line (2-space indent); arrays of scalars,
// scalars and empty containers compact (toJson).
void pretty(const JsonValue& v, std::string& o, int indent) {
  const std::string pad(static_cast<std::size_t>(indent + 2), ' '), end(static_cast<std::size_t>(indent), ' ');
  if (v.is_object() && !v.empty()) {
    o += "{\n";
    std::size_t k = 0;
    for (auto it = v.begin(); it != v.end(); ++it, ++k) {
      o += pad + toJson(JsonValue(it.key())) + ": ";
      pretty(it.value(), o, indent + 2);
      o += k + 1 < v.size() ? ",\n" : "\n";
    }
    o += end + "}";
  } else if (v.is_array() && !v.empty()) {
    bool scalars = true;
    for (const auto& e : v) scalars = scalars && !e.is_array() && !e.is_object();
    if (scalars) {
      o += toJson(v);
      return;
    }
    o += "[\n";
    for (std::size_t k = 0; k < v.size(); ++k) {
      o += pad;
      pretty(v[k], o, indent + 2);
      o += k + 1 < v.size() ? ",\n" : "\n";
    }
    o += end + "]";
  } else {
    o += toJson(v);
  }
}
}  // namespace

std::map<std::string, double> cardMetrics(const std::string& cardJson) {
  JsonValue j;
  if (!parseJson(cardJson, j) || !j.is_object()) return {};
  for (const char* k : {"metrics", "test_metrics"}) {
    const auto m = j.find(k);
    if (m == j.end() || !m->is_object()) continue;
    if (const auto t = m->find("test"); t != m->end() && t->is_object()) return numbersOf(*t);
    auto n = numbersOf(*m);
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

std::string cardTrustText(const std::string& cardJson) {
  const auto j = nlohmann::json::parse(cardJson, nullptr, false);
  if (!j.is_object()) return "";
  std::string t;
  if (j.contains("ood") && j["ood"].is_object() && j["ood"].contains("threshold")) {
    const auto& o = j["ood"];
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "Out-of-distribution: Mahalanobis threshold %.3f (99th percentile of %lld validation ECGs; "
                  "statistics of %lld training ECGs, dimension %lld)\n",
                  o.value("threshold", 0.0), static_cast<long long>(o.value("n_val", 0)),
                  static_cast<long long>(o.value("n_train", 0)), static_cast<long long>(o.value("dim", 0)));
    t += buf;
  } else {
    t += "Out-of-distribution: no statistics (predictions say ood: unknown)\n";
  }
  if (j.contains("calibration") && j["calibration"].is_object()) {
    const auto view = reliabilityView(j["calibration"].dump());
    t += view.present ? "Reliability diagram:\n" + reliabilityTable(view) : "Calibration: unreadable\n";
  } else {
    t += "Calibration: none fitted\n";
  }
  return t;
}

}  // namespace e2e::vm
