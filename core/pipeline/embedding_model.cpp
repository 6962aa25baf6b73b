// The embedding-model resolver (torch-free; see embedding_model.h).
#include "pipeline/embedding_model.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace e2e::pipeline {

namespace {

// The string member `key` of a JSON object; nullopt when absent or not a string.
std::optional<std::string> stringMember(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

// A model card (models.card_json); an empty object when the text is not a JSON object (the card then
// names no "bundle_dir", which the callers report).
nlohmann::json parseCard(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::string readText(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + p.string());
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A bundle directory's bundle.json as a JSON object; std::runtime_error naming the file when it is not one.
nlohmann::json readBundleJson(const fs::path& p) {
  const std::string text = readText(p);
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object()) throw std::runtime_error(p.string() + " is not a JSON object");
    return j;
  } catch (const nlohmann::json::exception& e) {
    std::string why = e.what();  // "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    if (const auto b = why.find("] "); why.rfind("[json.exception.", 0) == 0 && b != std::string::npos)
      why.erase(0, b + 2);
    throw std::runtime_error(p.string() + " is not valid JSON (" + why + ")");
  }
}

bool looksLikeDirectory(const std::string& spec) {
  std::error_code ec;
  return spec.find('/') != std::string::npos || spec.rfind('.', 0) == 0 || fs::is_directory(spec, ec);
}

// Files a bundle directory must hold: bundle.json and its weights ("weights", "video_weights").
void checkBundleFiles(const EmbeddingModel& m, const std::string& what) {
  if (m.dir.empty())
    throw std::runtime_error(what + " names no bundle directory (its card has no \"bundle_dir\"); it cannot embed");
  const fs::path json = fs::path(m.dir) / "bundle.json";
  if (!fs::exists(json))
    throw std::runtime_error("the files of " + what + " are gone: " + json.string() +
                             " does not exist (restore the run directory, or activate another version: "
                             "`echo2ecg models list`)");
  const nlohmann::json bundle = readBundleJson(json);
  const std::string weights = stringMember(bundle, "weights").value_or("echo2ecg.pt");
  const std::string video = stringMember(bundle, "video_weights").value_or(weights);
  for (const auto& f : {weights, video})
    if (!fs::exists(fs::path(m.dir) / f))
      throw std::runtime_error("the weights of " + what + " are gone: " + (fs::path(m.dir) / f).string() +
                               " does not exist (restore them, or activate another version)");
  if (m.source == EmbeddingModel::Source::Registry) {
    const auto recorded = stringMember(bundle, "weights_hash");
    if (recorded && !recorded->empty() && *recorded != m.weightsHash)
      throw std::runtime_error("the files of " + what + " in " + m.dir + " changed since it was registered (bundle.json " +
                               "weights hash " + recorded->substr(0, 12) + ", registered " +
                               m.weightsHash.substr(0, 12) + "); restore them or activate another version");
  }
}

EmbeddingModel fromRow(const db::ModelRow& row) {
  EmbeddingModel m;
  m.source = EmbeddingModel::Source::Registry;
  m.modelId = row.modelId;
  m.version = row.version;
  m.weightsHash = row.weightsHash;
  m.active = row.active;
  const auto card = parseCard(row.cardJson);
  m.dir = stringMember(card, "bundle_dir").value_or("");
  m.preprocVersion = stringMember(card, "preprocessing").value_or(kPreprocVersion);
  return m;
}

EmbeddingModel fromDirectory(const std::string& dir, EmbeddingModel::Source source, bool checkFiles) {
  EmbeddingModel m;
  m.source = source;
  m.dir = fs::absolute(dir).lexically_normal().string();
  const fs::path json = fs::path(m.dir) / "bundle.json";
  if (!fs::exists(json)) throw std::runtime_error("no bundle.json in " + dir);
  const nlohmann::json bundle = readBundleJson(json);
  // Same defaults as the pipeline's loadBundle.
  m.modelId = stringMember(bundle, "model_id").value_or("echo2ecg");
  m.version = stringMember(bundle, "version").value_or("1");
  m.weightsHash = stringMember(bundle, "weights_hash").value_or("");
  m.preprocVersion = stringMember(bundle, "preprocessing").value_or(kPreprocVersion);
  if (checkFiles) checkBundleFiles(m, "the bundle in " + dir);
  return m;
}

}  // namespace

std::string ecgEmbeddingId(const std::string& modelId, const std::string& version) {
  return modelId + ":" + version + "/ecg-aligned";
}
std::string viewEmbeddingId(const std::string& modelId, const std::string& version) {
  return modelId + ":" + version + "/echo-view";
}
std::string studyEmbeddingId(const std::string& modelId, const std::string& version) {
  return modelId + ":" + version + "/echo-study-aligned";
}

std::string findModelsDir(const std::string& explicitDir) {
  auto ok = [](const fs::path& p) { return !p.empty() && fs::exists(p / "bundle.json"); };
  if (!explicitDir.empty()) return ok(explicitDir) ? fs::absolute(explicitDir).string() : "";
  if (const char* env = std::getenv("E2E_MODELS_DIR"); env && *env && ok(env)) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path d = exe.parent_path();
    for (int up = 0; up < 5 && !d.empty(); ++up, d = d.parent_path()) {
      if (ok(d / "models")) return (d / "models").string();
      if (ok(d / "share/echo2ecg/models")) return (d / "share/echo2ecg/models").string();
      if (d == d.parent_path()) break;
    }
  }
#ifdef E2E_SOURCE_MODELS_DIR
  if (ok(E2E_SOURCE_MODELS_DIR)) return E2E_SOURCE_MODELS_DIR;
#endif
  return "";
}

bool knownPreprocVersion(const std::string& v) { return v == kPreprocVersion || v == kPreprocFourierVersion; }

void requireKnownPreprocVersion(const std::string& v) {
  if (!knownPreprocVersion(v))
    throw std::invalid_argument("unknown ECG preprocessing \"" + v + "\" (this build knows " + kPreprocVersion +
                                " and " + kPreprocFourierVersion + ")");
}

std::string EmbeddingModel::sourceText() const {
  switch (source) {
    case Source::Registry: return active ? "registry, active" : "registry";
    case Source::Directory: return "directory";
    case Source::Bundled: return "bundled";
  }
  return "";
}

std::string EmbeddingModel::describe() const {
  return label() + " (weights " + (weightsHash.empty() ? std::string("?") : weightsHash.substr(0, 12)) + ", " +
         preprocVersion + "; " + sourceText() + ")";
}

std::optional<EmbeddingModel> activeRegisteredEmbeddingModel(db::Database& db) {
  for (const auto& row : db.listModels())
    if (row.modelId == kEmbeddingModelId && row.active) return fromRow(row);
  return std::nullopt;
}

EmbeddingModel resolveEmbeddingModel(db::Database& db, const std::string& spec, bool checkFiles) {
  if (!spec.empty()) {
    if (looksLikeDirectory(spec)) return fromDirectory(spec, EmbeddingModel::Source::Directory, checkFiles);
    std::string id = spec, version;
    if (auto c = spec.rfind(':'); c != std::string::npos) {
      id = spec.substr(0, c);
      version = spec.substr(c + 1);
    }
    std::optional<db::ModelRow> row;
    std::string versions;
    for (const auto& m : db.listModels()) {
      if (m.modelId != id) continue;
      versions += (versions.empty() ? "" : ", ") + m.version;
      if (version.empty() ? m.active : m.version == version) row = m;
    }
    if (!row) {
      if (versions.empty())
        throw std::runtime_error("model " + id + " is not registered in " + db.path() +
                                 " (and no bundle directory " + spec + " exists)");
      throw std::runtime_error(version.empty() ? "model " + id + " has no active version (registered: " + versions + ")"
                                               : "model " + id + " has no version " + version + " (registered: " +
                                                     versions + ")");
    }
    EmbeddingModel m = fromRow(*row);
    if (m.dir.empty())
      throw std::runtime_error(m.label() + " is not an embedding model (its card names no \"bundle_dir\"; "
                               "embedding models come from `echo2ecg train --task pretrain`)");
    if (m.weightsHash.empty())
      throw std::runtime_error(m.label() + " was registered without a weights hash: its files cannot be verified");
    if (checkFiles) checkBundleFiles(m, m.label());
    return m;
  }
  if (auto a = activeRegisteredEmbeddingModel(db)) {
    if (a->dir.empty())
      throw std::runtime_error("the active " + a->label() + " names no bundle directory (its card has no "
                               "\"bundle_dir\"); activate another version of " + kEmbeddingModelId);
    if (a->weightsHash.empty())
      throw std::runtime_error("the active " + a->label() + " was registered without a weights hash");
    if (checkFiles) checkBundleFiles(*a, "the active " + a->label());
    return *a;
  }
  const std::string dir = findModelsDir();
  if (dir.empty())
    throw std::runtime_error(std::string("no embedding model: no active ") + kEmbeddingModelId + " version in " +
                             db.path() + " and no bundled models/ (use --model ID:VERSION|DIR or set E2E_MODELS_DIR)");
  return fromDirectory(dir, EmbeddingModel::Source::Bundled, checkFiles);
}

std::string studyVectorInputs(const std::vector<std::int64_t>& loopIds, const std::function<bool(std::int64_t)>& decoded) {
  std::string out;
  for (auto id : loopIds) {
    if (!out.empty()) out += ',';
    out += std::to_string(id);
    if (!decoded(id)) out += '!';
  }
  return out;
}

std::vector<std::int64_t> studyVectorLoops(const std::string& inputs) {
  std::vector<std::int64_t> out;
  if (inputs.empty()) return out;
  std::size_t i = 0;
  while (true) {
    std::size_t end = inputs.find(',', i);
    if (end == std::string::npos) end = inputs.size();
    std::string item = inputs.substr(i, end - i);
    if (!item.empty() && item.back() == '!') item.pop_back();
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("malformed loop list of a study vector: '" + inputs + "'");
    out.push_back(std::stoll(item));
    if (end == inputs.size()) break;
    i = end + 1;
  }
  return out;
}

std::set<std::int64_t> outdatedStudyVectors(db::Database& db, const std::string& studyModelId,
                                            const std::string& weightsHash, const std::string& preprocVersion,
                                            const std::string& precision) {
  std::set<std::int64_t> out;
  const auto loops = db.usLoopsByStudy();
  for (const auto& [study, inputs] : db.studyEmbeddingInputs(studyModelId, weightsHash, preprocVersion, precision)) {
    if (inputs.empty()) continue;  // not recorded (an older version wrote it)
    auto it = loops.find(study);
    std::vector<std::int64_t> recorded;
    try {
      recorded = studyVectorLoops(inputs);
    } catch (const std::invalid_argument&) {
      out.insert(study);  // unreadable: re-made by the next embed
      continue;
    }
    if (it == loops.end() || it->second != recorded) out.insert(study);
  }
  return out;
}

EmbeddingCoverage embeddingCoverage(db::Database& db, const EmbeddingModel& m) {
  EmbeddingCoverage c;
  const auto n = db.embeddingCounts(m.ecgKey(), m.studyKey(), m.weightsHash, m.preprocVersion, m.precision);
  c.ecgInstances = n.ecgInstances;
  c.ecgEmbedded = n.ecgEmbedded;
  c.echoStudies = n.echoStudies;
  c.echoStudiesEmbedded = n.echoStudiesEmbedded;
  c.staleRows = staleEmbeddingRows(db, m, false);
  c.outdatedStudies =
      static_cast<std::int64_t>(outdatedStudyVectors(db, m.studyKey(), m.weightsHash, m.preprocVersion, m.precision).size());
  c.undecodableStudies = db.undecodableEchoStudies(m.studyKey(), m.weightsHash, m.preprocVersion, m.precision);
  for (const auto& s : db.embeddingSets())
    if (s.modelId == m.studyKey() && s.weightsHash == m.weightsHash && s.preprocVersion == m.preprocVersion &&
        s.precision != m.precision && s.studies > 0)
      c.otherPrecisions.push_back(s.precision);
  return c;
}

std::int64_t staleEmbeddingRows(db::Database& db, const EmbeddingModel& m, bool erase) {
  const std::string prefix = m.modelId + ":";
  const std::set<std::string> current = {m.ecgKey(), m.viewKey(), m.studyKey()};
  std::int64_t rows = 0;
  std::optional<db::Database::Transaction> tx;
  if (erase) tx.emplace(db);
  for (const auto& s : db.embeddingSets()) {
    if (s.modelId.rfind(prefix, 0) != 0 || s.modelId.find('/', prefix.size()) == std::string::npos) continue;
    if (current.count(s.modelId) && s.weightsHash == m.weightsHash && s.preprocVersion == m.preprocVersion) continue;
    rows += erase ? db.deleteEmbeddings(s.modelId, s.weightsHash, s.preprocVersion, s.precision) : s.instances + s.studies;
  }
  if (tx) tx->commit();
  return rows;
}

}  // namespace e2e::pipeline
