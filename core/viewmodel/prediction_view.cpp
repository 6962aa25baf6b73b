// Texts of the prediction and retrieval panels (see prediction_view.h).
#include "viewmodel/prediction_view.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace e2e::vm {

namespace {
// Class keys of the LVEF task and what they mean (also the synthetic cohort's lvef_class 0/1/2).
const ClassView kLvef[3] = {{"<40", "LVEF < 40 %"}, {"40-49", "LVEF 40\u201349 %"}, {">=50", "LVEF \u2265 50 %"}};
const ClassView kShd[2] = {{"no_shd", "No SHD"}, {"shd", "SHD present"}};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<double> number(const std::string& s) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used != s.size() || !std::isfinite(v)) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string lvefClassText(const std::string& v) {
  const std::string t = trim(v);
  for (int i = 0; i < 3; ++i)
    if (t == std::to_string(i) || t == kLvef[i].key) return kLvef[i].name;
  return "LVEF class " + orMissing(t);
}

std::string shdText(const std::string& v) {
  const std::string t = lower(trim(v));
  if (t == "0" || t == "no" || t == "false" || t == "no_shd") return "SHD: no";
  if (t == "1" || t == "yes" || t == "true" || t == "shd") return "SHD: yes";
  return "SHD: " + orMissing(trim(v));
}
}  // namespace

std::vector<ClassView> taskClasses(const std::string& task) {
  if (task == "lvef") return {kLvef[0], kLvef[1], kLvef[2]};
  if (task == "shd") return {kShd[0], kShd[1]};
  return {};
}

std::string taskTitle(const std::string& task) {
  if (task == "lvef") return "LVEF class \u2014 probability";
  if (task == "shd") return "Structural heart disease \u2014 probability";
  return task + " \u2014 probability";
}

std::string className(const std::string& task, const std::string& key) {
  for (const auto& c : taskClasses(task))
    if (c.key == key) return c.name;
  return key;
}

int argmax(const std::vector<double>& values) {
  int best = -1;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) continue;
    if (best < 0 || values[i] > values[static_cast<std::size_t>(best)]) best = static_cast<int>(i);
  }
  return best;
}

std::string probabilityText(double p) {
  if (std::isnan(p)) return kMissingText;
  return fixed(std::clamp(p, 0.0, 1.0) * 100.0, 1) + " %";
}

std::optional<double> shdProbability(const std::map<std::string, double>& probs) {
  for (const char* k : {"shd", "1", "yes", "true", "positive"})
    if (auto it = probs.find(k); it != probs.end()) return it->second;
  for (const char* k : {"no_shd", "0", "no", "false", "negative"})
    if (auto it = probs.find(k); it != probs.end()) return 1.0 - it->second;
  if (probs.size() == 1) return probs.begin()->second;
  return std::nullopt;
}

std::string orMissing(const std::string& text) {
  const std::string t = trim(text);
  return t.empty() ? std::string(kMissingText) : t;
}

std::string patientText(const std::string& name, const std::string& patientId) {
  return orMissing(name) + " (ID " + orMissing(patientId) + ")";
}

std::string labelText(const std::string& key, const std::string& value) {
  if (key == "lvef_percent") {
    if (auto v = number(trim(value))) return "LVEF " + fixed(*v, 1) + " %";
    return "LVEF " + orMissing(value);
  }
  if (key == "lvef_class") return lvefClassText(value);
  if (key == "shd") return shdText(value);
  return key + ": " + orMissing(value);
}

std::string dicomDateText(const std::string& date) {
  const std::string t = trim(date);
  const bool digits = t.size() == 8 && std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) return t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2);
  return orMissing(t);
}

std::vector<std::string> studyLabelTexts(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> out;
  for (const char* k : {"lvef_percent", "lvef_class", "shd"})
    if (auto it = labels.find(k); it != labels.end()) out.push_back(labelText(k, it->second));
  return out;
}

std::string similarityText(double similarity) {
  if (std::isnan(similarity)) return kMissingText;
  return fixed(similarity, 3);
}

std::string similarityMeaning() {
  return "cosine similarity of the ECG and echo-study embeddings: 1 = most alike, 0 = unrelated";
}

std::string sourceText(ModelSource s) {
  switch (s) {
    case ModelSource::Bundled: return "bundled";
    case ModelSource::TrainedHere: return "trained here";
    case ModelSource::Imported: return "imported";
    case ModelSource::Unknown: break;
  }
  return "not in this database's registry";
}

std::string ModelProvenance::describe() const {
  return orMissing(modelId) + " v" + orMissing(version) + " (" + sourceText(source) + ")";
}

namespace {
nlohmann::json readBundleJson(const std::string& dir) {
  if (dir.empty()) return nullptr;
  std::error_code ec;
  const auto file = std::filesystem::path(dir) / "bundle.json";
  if (!std::filesystem::is_regular_file(file, ec)) return nullptr;
  std::ifstream in(file, std::ios::binary);
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

std::optional<bool> syntheticOf(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find("synthetic_training_data");
  if (it == j.end()) return true;
  return it->is_boolean() ? std::optional<bool>(it->get<bool>()) : std::nullopt;
}

std::string textOf(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->is_number() ? it->dump() : std::string();
}
}  // namespace

std::optional<bool> bundleSyntheticFor(const std::string& dir, const std::string& modelId, const std::string& version) {
  const auto j = readBundleJson(dir);
  if (!j.is_object() || textOf(j, "model_id") != modelId || textOf(j, "version") != version) return std::nullopt;
  return syntheticOf(j);
}

std::optional<bool> bundleSynthetic(const std::string& dir) {
  const auto j = readBundleJson(dir);
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find("synthetic_training_data");
  if (it == j.end()) return true;
  return it->is_boolean() ? std::optional<bool>(it->get<bool>()) : std::nullopt;
}

ModelProvenance modelProvenance(const std::string& modelId, const std::string& version,
                                const std::optional<std::string>& cardJson, std::optional<bool> bundledSynthetic,
                                const std::function<std::optional<bool>(const std::string&)>& readBundle) {
  ModelProvenance p{modelId, version, ModelSource::Unknown, std::nullopt};
  const std::string suffix = "-bundled";
  if (!cardJson) {
    if (modelId.size() > suffix.size() && modelId.compare(modelId.size() - suffix.size(), suffix.size(), suffix) == 0) {
      p.source = ModelSource::Bundled;
      p.synthetic = bundledSynthetic;
    }
    return p;
  }
  const auto card = nlohmann::json::parse(*cardJson, nullptr, /*allow_exceptions=*/false);
  if (!card.is_object()) return p;  // registered, but an unreadable card: source unknown
  const bool imported = card.value("task", std::string()) == "import" || card.contains("import");
  p.source = imported ? ModelSource::Imported : ModelSource::TrainedHere;
  if (auto d = card.find("data"); d != card.end() && d->is_object())
    if (auto s = d->find("synthetic"); s != d->end() && s->is_boolean()) p.synthetic = s->get<bool>();
  if (p.synthetic.value_or(false)) return p;
  // The encoder it was built on: its own bundle, else the base (an empty base_dir: the bundled models).
  for (const char* k : {"encoder_dir", "bundle_dir", "base_dir"}) {
    const auto it = card.find(k);
    if (it == card.end() || !it->is_string()) continue;
    const std::string dir = it->get<std::string>();
    const auto base = dir.empty() ? bundledSynthetic : readBundle(dir);
    if (base.value_or(false)) p.synthetic = true;
    else if (base && !p.synthetic) p.synthetic = false;
    if (p.synthetic.value_or(false)) break;
  }
  return p;
}

namespace {
std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
}  // namespace

PredictionTrustView predictionTrust(const PredictionFlags& f) {
  PredictionTrustView v;
  v.quality = !f.qualityScore ? std::string("Signal quality: not recorded")
                              : "Signal quality " + fmt("%.2f", *f.qualityScore) +
                                    (f.qualityUsable.value_or(true) ? " (usable)" : " \u2014 not usable");
  if ((f.qualityUsable && !*f.qualityUsable) || (f.probabilities.empty() && f.calibrated.empty())) {
    v.state = TrustState::Declined;
    v.showBars = false;
    v.markPredicted = false;
    v.status = "Declined: " + (f.qualityReason.empty() ? std::string("signal quality too low") : f.qualityReason);
    return v;
  }
  v.calibrated = !f.calibrated.empty();
  v.shown = v.calibrated ? f.calibrated : f.probabilities;
  const std::string score = f.oodScore ? " (OOD score " + fmt("%.1f", *f.oodScore) + ")" : "";
  if (f.ood == "out") {
    v.state = TrustState::OutOfDistribution;
    v.greyed = true;
    v.markPredicted = false;
    v.status = "Out of distribution" + score +
               ": this ECG is unlike the ECGs the model was trained on \u2014 the probabilities are not meaningful";
  } else if (f.ood == "in") {
    v.state = TrustState::InDistribution;
    v.status = "In distribution" + score;
  } else {
    v.state = TrustState::Unknown;
    v.status = "OOD: unknown \u2014 the model has no out-of-distribution statistics; interpret with caution";
  }
  return v;
}

std::string queryOodText(const std::string& ood, std::optional<double> score) {
  const std::string s = score ? " (OOD score " + fmt("%.1f", *score) + ")" : "";
  if (ood == "out")
    return "Query ECG out of distribution" + s + ": unlike the model's training ECGs \u2014 these neighbours are "
           "not meaningful";
  if (ood == "in") return "Query ECG in distribution" + s;
  return "Query ECG OOD: unknown \u2014 the model has no out-of-distribution statistics";
}

namespace {
std::vector<ReliabilityPoint> points(const nlohmann::json& a) {
  std::vector<ReliabilityPoint> out;
  if (!a.is_array()) return out;
  for (const auto& b : a) {
    if (!b.is_object()) continue;
    ReliabilityPoint p{b.value("lower", 0.0), b.value("upper", 0.0), b.value("confidence", 0.0),
                       b.value("accuracy", 0.0), b.value("count", 0)};
    if (p.count > 0) out.push_back(p);
  }
  return out;
}
}  // namespace

ReliabilityView reliabilityView(const std::string& calibrationJson) {
  ReliabilityView v;
  const auto j = nlohmann::json::parse(calibrationJson, nullptr, false);
  if (!j.is_object() || !j.contains("temperature") || !j["temperature"].is_number()) return v;
  try {
    v.temperature = j.value("temperature", 1.0);
    v.eceBefore = j.value("ece_before", 0.0);
    v.eceAfter = j.value("ece_after", 0.0);
    v.nVal = j.value("n_val", 0);
    v.before = points(j.value("reliability_before", nlohmann::json::array()));
    v.after = points(j.value("reliability_after", nlohmann::json::array()));
  } catch (const nlohmann::json::exception&) {
    return ReliabilityView{};
  }
  v.present = true;
  v.caption = "Temperature " + fmt("%.2f", v.temperature) + " \u2014 ECE (15 bins, validation, n " +
              std::to_string(v.nVal) + ") " + fmt("%.3f", v.eceBefore) + " \u2192 " + fmt("%.3f", v.eceAfter);
  return v;
}

std::string reliabilityTable(const ReliabilityView& v) {
  if (!v.present) return "";
  std::string t = v.caption + "\n\n| confidence bin | n (before) | confidence | accuracy | n (after) | confidence | "
                              "accuracy |\n| --- | --- | --- | --- | --- | --- | --- |\n";
  auto find = [](const std::vector<ReliabilityPoint>& ps, double lower) -> const ReliabilityPoint* {
    for (const auto& p : ps)
      if (std::abs(p.lower - lower) < 1e-9) return &p;
    return nullptr;
  };
  for (int b = 0; b < 15; ++b) {
    const double lo = b / 15.0;
    const auto* x = find(v.before, lo);
    const auto* y = find(v.after, lo);
    if (!x && !y) continue;
    t += "| " + fmt("%.2f", lo) + "\u2013" + fmt("%.2f", (b + 1) / 15.0) + " | ";
    t += x ? std::to_string(x->count) + " | " + fmt("%.3f", x->confidence) + " | " + fmt("%.3f", x->accuracy) : "0 | | ";
    t += " | ";
    t += y ? std::to_string(y->count) + " | " + fmt("%.3f", y->confidence) + " | " + fmt("%.3f", y->accuracy) : "0 | | ";
    t += " |\n";
  }
  return t;
}

}  // namespace e2e::vm
