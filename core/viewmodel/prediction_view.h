// Qt-free texts of the prediction and retrieval panels: task titles, class names with their LVEF
// ranges, study label formatting ("LVEF 66.7 %", "SHD: no"), missing values ("—"), the predicted
// (argmax) class, and the provenance of the model a prediction came from (bundled / trained here /
// imported, trained on synthetic data or not). All strings are UTF-8.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace e2e::vm {

// The text shown for a missing value (patient ID, name, date...): an em dash.
inline constexpr const char* kMissingText = "\u2014";

// The marker every AI panel shows when the model was trained on synthetic data.
inline constexpr const char* kSyntheticMarker = "Synthetic-trained \u2014 not for clinical use";

struct ClassView {
  std::string key;   // the class key stored with the prediction ("<40", "shd", ...)
  std::string name;  // what the user reads ("LVEF < 40 %", "SHD present")
};

// "lvef": "<40", "40-49", ">=50"; "shd": "no_shd", "shd". Empty for an unknown task.
std::vector<ClassView> taskClasses(const std::string& task);
// "LVEF class — probability", "Structural heart disease — probability"; else "<task> — probability".
std::string taskTitle(const std::string& task);
// The user-facing name of a class key of a task; the key itself when unknown.
std::string className(const std::string& task, const std::string& key);

// Index of the largest value (the first of equal ones); -1 when empty or every value is NaN.
int argmax(const std::vector<double>& values);

// "62.5 %" (probability 0..1 as a percentage, one decimal; clamped to [0, 1]).
std::string probabilityText(double p);

// The positive-class probability of a binary SHD prediction: "shd"/"1"/"yes"/"true"/"positive",
// else 1 - the negative class; nullopt when neither is stored.
std::optional<double> shdProbability(const std::map<std::string, double>& probabilities);

// `text` with surrounding blanks trimmed, or kMissingText when nothing is left.
std::string orMissing(const std::string& text);
// "Name (ID 123)"; a missing name or ID is shown as "—" ("— (ID —)"), never "()".
std::string patientText(const std::string& name, const std::string& patientId);

// A study label as a clinician reads it: lvef_percent "66.7" -> "LVEF 66.7 %"; lvef_class 0/1/2 or
// "<40"/"40-49"/">=50" -> "LVEF < 40 %" / "LVEF 40–49 %" / "LVEF ≥ 50 %"; shd 0/1 -> "SHD: no"/"SHD: yes";
// another key -> "key: value"; an empty value -> "key: —".
std::string labelText(const std::string& key, const std::string& value);
// A DICOM date "20240131" as "2024-01-31"; another non-empty text as is; "" -> "—".
std::string dicomDateText(const std::string& date);
// The labels worth showing on a result card, in order (lvef_percent, lvef_class, shd), formatted.
std::vector<std::string> studyLabelTexts(const std::map<std::string, std::string>& labels);

// "0.994 (cosine similarity of the embeddings: 1 = same direction, 0 = unrelated)"-style text: the
// value with 3 decimals and a short meaning.
std::string similarityText(double similarity);
std::string similarityMeaning();

enum class ModelSource { Bundled, TrainedHere, Imported, Unknown };
// "bundled", "trained here", "imported", "not in this database's registry"
std::string sourceText(ModelSource s);

struct ModelProvenance {
  std::string modelId, version;
  ModelSource source = ModelSource::Unknown;
  std::optional<bool> synthetic;  // trained on synthetic data; nullopt = not known
  // "echo2ecg-lvef v3 (trained here)"
  std::string describe() const;
};

// The provenance of a prediction's model. `registryCardJson`: the card of the registered
// (modelId, version), nullopt when it is not registered. `bundledSynthetic`: what the bundled
// models' bundle.json says (synthetic_training_data), nullopt when unknown. A model id ending in
// "-bundled" is a bundled head; a registered card with task "import" (or an "import" object) is
// imported; another registered card was trained here. Synthetic: the card's data.synthetic, or
// true when the bundle it was built on says so: `readBundle(dir)` (bundleSynthetic by default) for
// the card's encoder_dir / bundle_dir / base_dir; an empty base_dir is the bundled models.
// bundleSynthetic: bundle.json's "synthetic_training_data" in `dir` (an absent field = true, as the
// bundle loader reads it); nullopt when `dir` has no readable bundle.json.
std::optional<bool> bundleSynthetic(const std::string& dir);
// The same, only when that bundle.json is the model `modelId` `version` (its model_id and version).
std::optional<bool> bundleSyntheticFor(const std::string& dir, const std::string& modelId, const std::string& version);
ModelProvenance modelProvenance(const std::string& modelId, const std::string& version,
                                const std::optional<std::string>& registryCardJson,
                                std::optional<bool> bundledSynthetic,
                                const std::function<std::optional<bool>(const std::string&)>& readBundle = bundleSynthetic);

// ---- issue 23: how far a stored prediction can be trusted ----

// What a prediction row carries besides its probabilities (db::PredictionRow's flags, Qt- and db-free).
struct PredictionFlags {
  std::map<std::string, double> probabilities, calibrated;  // both empty: declined
  std::optional<double> qualityScore;
  std::optional<bool> qualityUsable;
  std::string qualityReason;
  std::optional<double> oodScore;
  std::string ood = "unknown";  // "in" / "out" / "unknown"
};

enum class TrustState {
  InDistribution,     // usable signal, embedding within the model's training data: normal bars
  Unknown,            // the model has no OOD statistics (or an old row): bars with a caution
  OutOfDistribution,  // greyed bars with the reason, never a confident bar
  Declined,           // signal quality not usable: no bars, only the reason
};

struct PredictionTrustView {
  TrustState state = TrustState::Unknown;
  bool showBars = true;   // false: declined
  bool greyed = false;    // out of distribution
  bool markPredicted = true;  // the arg-max class is marked as "predicted" (not when greyed)
  std::map<std::string, double> shown;  // calibrated probabilities when stored, else the raw ones
  bool calibrated = false;
  std::string status;     // one line: "Declined: …", "Out of distribution: …", "OOD: unknown …", "In distribution …"
  std::string quality;    // "Signal quality 0.93 (usable)" / "Signal quality 0.12 — not usable" / "Signal quality: not recorded"
};

PredictionTrustView predictionTrust(const PredictionFlags& f);

// The text of a retrieval query's OOD flag: "Query ECG out of distribution (OOD score 41.2): …".
std::string queryOodText(const std::string& ood, std::optional<double> score);

// ---- reliability diagram (training panel, model card) ----
struct ReliabilityPoint {
  double lower = 0, upper = 0, confidence = 0, accuracy = 0;
  int count = 0;
};
struct ReliabilityView {
  bool present = false;
  double temperature = 1, eceBefore = 0, eceAfter = 0;
  int nVal = 0;
  std::vector<ReliabilityPoint> before, after;  // non-empty bins only
  std::string caption;  // "Temperature 1.42 — ECE (15 bins, validation) 0.081 → 0.023"
};
// From a card's or done event's "calibration" object (jobs/train/trust_fit.h calibrationJson);
// present = false when it has none or it is malformed.
ReliabilityView reliabilityView(const std::string& calibrationJson);
// The bins as a Markdown table (model card): lower–upper, count, confidence, accuracy, before and after.
std::string reliabilityTable(const ReliabilityView& v);

}  // namespace e2e::vm
