// Classification heads (see predictor.h).
#include "pipeline/predictor.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/files.h"

namespace fs = std::filesystem;

namespace e2e::pipeline {

model::Scores Predictor::scores(const std::vector<std::vector<float>>& feats) {
  model::Scores out;
  if (feats.empty()) return out;
  if (method == "knn") return knn->predictProba(feats);
  torch::NoGradGuard ng;
  head->eval();
  auto x = torch::empty({static_cast<int64_t>(feats.size()), static_cast<int64_t>(feats[0].size())});
  for (std::size_t i = 0; i < feats.size(); ++i)
    std::memcpy(x[static_cast<int64_t>(i)].data_ptr<float>(), feats[i].data(), feats[i].size() * sizeof(float));
  auto p = torch::softmax(head->forward((x - mean) / sd), 1).to(torch::kFloat64).contiguous();
  for (int64_t i = 0; i < p.size(0); ++i) out.emplace_back(p[i].data_ptr<double>(), p[i].data_ptr<double>() + p.size(1));
  return out;
}

void saveLinearHead(const std::string& path, const model::LinearHead& head, const torch::Tensor& mean,
                    const torch::Tensor& sd) {
  model::TensorMap m;
  for (auto& [k, v] : model::stateDict(*head)) m[k] = v.detach().to(torch::kCPU);
  m["feat_mean"] = mean.to(torch::kCPU);
  m["feat_std"] = sd.to(torch::kCPU);
  model::saveTensorArchive(path + ".tmp", m);
  fs::rename(path + ".tmp", path);
}

void loadHeadInto(Predictor& p, const std::string& path) {
  auto m = model::loadTensorArchive(path);
  if (m.count("knn_features")) {
    p.method = "knn";
    auto f = m["knn_features"].to(torch::kFloat32).contiguous();
    auto l = m["knn_labels"].to(torch::kInt64).contiguous();
    std::vector<std::vector<float>> fs_;
    std::vector<int> ls;
    for (int64_t i = 0; i < f.size(0); ++i) {
      fs_.emplace_back(f[i].data_ptr<float>(), f[i].data_ptr<float>() + f.size(1));
      ls.push_back(static_cast<int>(l[i].item<int64_t>()));
    }
    p.numClasses = static_cast<int>(m["num_classes"].item<int64_t>());
    p.knn = std::make_unique<model::KnnClassifier>(5);
    p.knn->fit(fs_, ls, p.numClasses);
    return;
  }
  auto w = m.at("head.weight");
  p.numClasses = static_cast<int>(w.size(0));
  p.head = model::LinearHead(w.size(1), w.size(0));
  model::TensorMap hm{{"head.weight", w.to(torch::kFloat32)}, {"head.bias", m.at("head.bias").to(torch::kFloat32)}};
  model::loadStateDict(*p.head, hm, true);
  p.mean = m.at("feat_mean").to(torch::kFloat32);
  p.sd = m.at("feat_std").to(torch::kFloat32);
}

std::string trustJsonPath(const std::string& dir) { return (fs::path(dir) / "trust.json").string(); }

namespace {
// trust.json of a bundle directory (an empty object when there is none).
nlohmann::json readTrustJson(const std::string& dir) {
  const std::string path = trustJsonPath(dir);
  if (dir.empty() || !fs::exists(path)) return nlohmann::json::object();
  auto j = nlohmann::json::parse(readTextFile(path), nullptr, false);
  if (!j.is_object()) throw std::runtime_error(path + ": not a JSON object");
  return j;
}

// The temperature of `task` in a card's or trust.json's "calibration" object; nullopt when absent.
std::optional<double> temperatureIn(const nlohmann::json& calibration, const std::string& task) {
  if (!calibration.is_object()) return std::nullopt;
  const nlohmann::json* c = &calibration;
  if (calibration.contains(task) && calibration[task].is_object()) c = &calibration[task];
  auto it = c->find("temperature");
  if (it == c->end() || !it->is_number()) return std::nullopt;
  const double t = it->get<double>();
  if (!(t > 0) || !std::isfinite(t)) throw std::runtime_error("calibration temperature must be positive");
  return t;
}

void setTemperature(Predictor& p, std::optional<double> t) {
  if (!t) return;
  p.temperature = *t;
  p.calibrated = true;
}
}  // namespace

std::optional<model::OodStats> loadBundleOod(const std::string& dir, const std::string& encoderHash,
                                             std::string* sourcePath) {
  const auto j = readTrustJson(dir);
  auto it = j.find("ood");
  if (it == j.end() || !it->is_object()) return std::nullopt;
  if (it->value("encoder_weights_hash", "") != encoderHash) return std::nullopt;  // other weights
  const std::string file = (fs::path(dir) / it->value("file", "ood.pt")).string();
  auto stats = model::loadOod(file);
  if (sourcePath) *sourcePath = file;
  return stats;
}

std::optional<model::OodStats> loadBundleInputOod(const std::string& dir, const std::string& encoderHash) {
  const auto j = readTrustJson(dir);
  auto it = j.find("ood");
  if (it == j.end() || !it->is_object() || it->value("encoder_weights_hash", "") != encoderHash) return std::nullopt;
  const std::string file = it->value("input_file", "");
  if (file.empty()) return std::nullopt;
  return model::loadOod((fs::path(dir) / file).string());
}

std::string taskModelId(const std::string& task) { return "echo2ecg-" + task; }

std::optional<db::ModelRow> findModel(db::Database& db, const std::string& modelId, const std::string& version) {
  for (auto& m : db.listModels()) {
    if (m.modelId != modelId) continue;
    if (version.empty() ? m.active : m.version == version) return m;
  }
  return std::nullopt;
}

namespace {
// The fields of a head's registry card that loadPredictor uses.
struct HeadCard {
  std::string method = "linear", baseDir, weightsPath, encoderDir, baseWeightsHash;
  std::uint64_t seed = 0;
};
HeadCard parseHeadCard(const db::ModelRow& row) {
  HeadCard c;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(row.cardJson);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error("the card of " + row.modelId + ":" + row.version + " is not valid JSON (" + e.what() + ")");
  }
  auto str = [&](const char* k, const std::string& def) {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? it->get<std::string>() : def;
  };
  c.method = str("method", "linear");
  c.baseDir = str("base_dir", "");
  c.weightsPath = str("weights_path", "");
  c.encoderDir = str("encoder_dir", "");
  c.baseWeightsHash = str("base_weights_hash", "");
  if (auto it = j.find("seed"); it != j.end() && it->is_number()) c.seed = it->get<std::uint64_t>();
  return c;
}
}  // namespace

namespace {
std::filesystem::path headPathIn(const std::string& dir, const std::string& task) {
  return fs::path(dir) / (task + "_head.pt");
}

// The <task>_head.pt of a bundle directory, on that bundle's encoder.
void loadBundledHead(Predictor& p, const std::string& dir) {
  const fs::path headPath = headPathIn(dir, p.task);
  if (!fs::exists(headPath)) throw std::runtime_error("no " + p.task + " head in " + dir + " (train one first)");
  p.base = loadBundle(dir);
  loadHeadInto(p, headPath.string());
  p.modelId = taskModelId(p.task) + "-bundled";
  p.version = p.base.version;
  p.weightsHash = p.base.hash + "+" + model::weightsHash(model::loadTensorArchive(headPath.string()));
  p.seed = 0;
  p.ood = loadBundleOod(dir, p.base.hash, &p.oodSource);
  p.oodInput = loadBundleInputOod(dir, p.base.hash);
  const auto trust = readTrustJson(dir);
  if (trust.contains("calibration")) setTemperature(p, temperatureIn(trust["calibration"], p.task));
}

// A registered head's own OOD statistics and temperature (its card), else its encoder's trust files.
void loadRegisteredTrust(Predictor& p, const db::ModelRow& row) {
  const auto card = nlohmann::json::parse(row.cardJson, nullptr, false);
  if (card.is_object() && card.contains("calibration")) setTemperature(p, temperatureIn(card["calibration"], p.task));
  if (card.is_object() && card.contains("ood") && card["ood"].is_object()) {
    const std::string file = card["ood"].value("file", "");
    if (!file.empty()) {
      p.ood = model::loadOod(file);
      p.oodSource = file;
      return;
    }
  }
  p.ood = loadBundleOod(p.base.dir, p.base.hash, &p.oodSource);
  p.oodInput = loadBundleInputOod(p.base.dir, p.base.hash);
}

// A registered head with the encoder its card names, checked to be the one it was trained on (and,
// when the caller named a directory, to be that directory's encoder).
void loadRegisteredHead(Predictor& p, const db::ModelRow& row, const std::string& askedDir) {
  const HeadCard card = parseHeadCard(row);
  p.modelId = row.modelId;
  p.version = row.version;
  p.weightsHash = row.weightsHash;
  p.method = card.method;
  p.seed = card.seed;
  // The head's features come from the encoder it was trained on: its files must be unchanged.
  const bool headChecks = !card.baseWeightsHash.empty() && card.encoderDir.empty();
  p.base = loadBundle(!card.encoderDir.empty() ? card.encoderDir : requireModelsDir(card.baseDir), !headChecks);
  if (headChecks && card.baseWeightsHash != p.base.hash)
    throw std::runtime_error("the encoder of " + p.modelId + ":" + p.version + " in " + p.base.dir +
                             " changed since the head was trained (weights " + p.base.hash.substr(0, 12) +
                             ", trained on " + card.baseWeightsHash.substr(0, 12) +
                             "); retrain the head or restore the encoder");
  std::error_code ec;
  if (!askedDir.empty() && !fs::equivalent(askedDir, p.base.dir, ec)) {
    const Bundle asked = loadBundle(askedDir);
    if (asked.hash != p.base.hash)
      throw std::runtime_error(askedDir + " has no " + p.task + " head, and the active " + p.modelId + ":" + p.version +
                               " was trained on another encoder (" + p.base.dir + ", weights " +
                               p.base.hash.substr(0, 12) + "; " + askedDir + ": " + asked.hash.substr(0, 12) +
                               "); train one on it (`echo2ecg train --task " + p.task + " --model " + askedDir +
                               "`) or leave out the directory");
  }
  loadHeadInto(p, card.weightsPath);
  loadRegisteredTrust(p, row);
}
}  // namespace

Predictor loadPredictor(db::Database& db, const std::string& task, const std::string& spec,
                        const std::string& modelDir) {
  Predictor p;
  p.task = task;
  // the directory the caller named (no spec), resolved once; "" when none was named
  const std::string askedDir = spec.empty() && !modelDir.empty() ? requireModelsDir(modelDir) : "";
  if (!askedDir.empty() && fs::exists(headPathIn(askedDir, task))) {
    loadBundledHead(p, askedDir);
    return p;
  }
  std::string id = spec, version;
  if (auto c = spec.find(':'); c != std::string::npos) {
    id = spec.substr(0, c);
    version = spec.substr(c + 1);
  }
  if (id.empty()) id = taskModelId(task);
  if (auto row = findModel(db, id, version); row && !row->cardJson.empty()) {
    loadRegisteredHead(p, *row, askedDir);
    return p;
  }
  if (!spec.empty() && spec != taskModelId(task))
    throw std::runtime_error("model " + spec + " is not registered in the database");
  loadBundledHead(p, !askedDir.empty() ? askedDir : requireModelsDir(modelDir));
  return p;
}

}  // namespace e2e::pipeline
