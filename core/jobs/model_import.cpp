// Published weights -> a registered model version (see model_import.h).
#include "jobs/model_import.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>

#include <unistd.h>

#include "common/files.h"
#include "common/hash.h"
#include "common/process.h"
#include "db/database.h"
#include "jobs/train/common.h"
#include "pipeline/bundle.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace e2e::jobs {

std::string findConverter() {
  auto ok = [](const fs::path& d) { return !d.empty() && fs::exists(d / "convert_checkpoint.py"); };
  if (const char* env = std::getenv("E2E_TOOLS_DIR"); env && *env && ok(env)) return (fs::path(env) / "convert_checkpoint.py").string();
  std::error_code ec;
  fs::path d = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; !ec && up < 5 && !d.empty(); ++up, d = d.parent_path()) {
    if (ok(d / "share/echo2ecg/tools")) return (d / "share/echo2ecg/tools/convert_checkpoint.py").string();
    if (d == d.parent_path()) break;
  }
#ifdef E2E_SOURCE_TOOLS_DIR
  if (ok(E2E_SOURCE_TOOLS_DIR)) return (fs::path(E2E_SOURCE_TOOLS_DIR) / "convert_checkpoint.py").string();
#endif
  return "";
}

namespace {

struct Context {
  const ModelImportRequest& req;
  const job::CancelToken& cancel;
  const std::function<void(const std::string&)>& status;
  std::string python, converter;
  void say(const std::string& s) const {
    if (status) status(s);
  }
};

// Runs the converter; its last stdout line is JSON ({"error": ...} on failure).
Json runConverter(const Context& c, const std::vector<std::string>& args) {
  std::vector<std::string> argv{c.python, c.converter};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions opt;
  opt.cancelled = [&] { return c.cancel.cancelled(); };
  opt.env = {"PYTHONDONTWRITEBYTECODE=1"};  // no __pycache__ beside an installed converter (/usr/share)
  const ProcessResult r = runProcess(argv, opt);
  if (!r.started)
    throw std::runtime_error(r.startError + " (the converter needs Debian's python3-torch and python3-yaml)");
  if (r.cancelled) throw std::runtime_error("model import cancelled");
  Json j;
  const auto nl = r.out.find_last_of('\n', r.out.size() >= 2 ? r.out.size() - 2 : 0);
  const std::string last = r.out.substr(nl == std::string::npos ? 0 : nl + 1);
  try {
    j = Json::parse(last);
  } catch (const Json::exception&) {
  }
  if (j.is_object() && j.contains("error")) throw std::runtime_error(j["error"].get<std::string>());
  if (!r.ok() || !j.is_object()) {
    std::string tail = r.err.size() > 1500 ? r.err.substr(r.err.size() - 1500) : r.err;
    if (tail.find("No module named 'torch'") != std::string::npos)
      tail = c.python + " has no torch (install Debian's python3-torch)";
    throw std::runtime_error("the checkpoint converter failed (exit " + std::to_string(r.exitCode) + "): " + tail);
  }
  return j;
}

std::string detectKind(const Context& c) {
  const fs::path p(c.req.path);
  std::error_code ec;
  if (!fs::exists(p, ec)) throw std::runtime_error(c.req.path + ": no such file or folder");
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "bundle.json")) return "bundle";
    if (fs::is_directory(p / "checkpoints") || fs::exists(p / "ecg_multimodal.ckpt")) return "echo2ecg-run";
    throw std::runtime_error(c.req.path + ": a folder with neither bundle.json (a model bundle) nor checkpoints/ "
                             "(an official Echo2ECG run)");
  }
  const Json j = runConverter(c, {"detect", c.req.path});
  const std::string kind = j.value("kind", "unknown");
  if (kind != "otis" && kind != "echoprime")
    throw std::runtime_error(c.req.path + ": not a checkpoint this workstation imports (" + j.value("reason", kind) +
                             ")");
  return kind;
}

// The files a version is made from, in a fixed order (for the card and to recognise a re-import).
std::vector<std::string> sourceFiles(const ModelImportRequest& req, const std::string& kind) {
  std::vector<std::string> files;
  const fs::path p(req.path);
  if (kind == "bundle") {
    files.push_back((p / "bundle.json").string());
    Json j = Json::parse(readTextFile((p / "bundle.json").string()), nullptr, false);
    for (const char* key : {"weights", "video_weights"}) {
      if (!j.is_object() || !j.contains(key) || !j[key].is_string()) continue;
      const std::string name = j[key].get<std::string>();
      if (name.empty() || name.find('/') != std::string::npos || name == "bundle.json")
        throw std::runtime_error((p / "bundle.json").string() + ": \"" + key + "\" must name a file in the bundle "
                                 "folder, not \"" + name + "\"");
      files.push_back((p / name).string());
    }
    if (files.size() == 1) files.push_back((p / "echo2ecg.pt").string());
  } else if (kind == "echo2ecg-run") {
    const fs::path ck = fs::is_directory(p / "checkpoints") ? p / "checkpoints" : p;
    for (const auto& e : fs::directory_iterator(ck))
      if (e.is_regular_file() && e.path().extension() == ".ckpt") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    const fs::path cfg = (ck == p ? p.parent_path() : p) / "config.yaml";
    if (fs::exists(cfg)) files.push_back(cfg.string());
  } else {
    files.push_back(req.path);
  }
  if (!req.echoprimePath.empty()) files.push_back(req.echoprimePath);
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

std::vector<ModelImportSource> hashSources(const std::vector<std::string>& files) {
  std::vector<ModelImportSource> out;
  for (const auto& f : files) {
    if (!fs::is_regular_file(f)) throw std::runtime_error(f + ": missing");
    out.push_back({fs::absolute(f).lexically_normal().string(), sha256File(f)});
  }
  return out;
}

std::vector<std::string> shaList(const std::vector<ModelImportSource>& s) {
  std::vector<std::string> v;
  for (const auto& x : s) v.push_back(x.sha256);
  std::sort(v.begin(), v.end());
  return v;
}

// A registered version imported from exactly these files (same contents), if any.
const db::ModelRow* findImported(const std::vector<db::ModelRow>& rows, const std::vector<ModelImportSource>& src) {
  const auto want = shaList(src);
  for (const auto& row : rows) {
    const Json card = Json::parse(row.cardJson, nullptr, false);
    if (!card.is_object() || !card.contains("import") || !card["import"].contains("source_files")) continue;
    std::vector<std::string> have;
    for (const auto& f : card["import"]["source_files"]) have.push_back(f.value("sha256", ""));
    std::sort(have.begin(), have.end());
    if (have == want) return &row;
  }
  return nullptr;
}

// Where imported bundles are kept: the request's store, else beside the database.
fs::path storeDir(const ModelImportRequest& req) {
  return req.storeDir.empty() ? fs::path(req.dbPath + ".models") : fs::path(req.storeDir);
}

std::string uniqueName(const std::string& stem) {
  std::random_device rd;
  return stem + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

// The bundle's files copied (a bundle import) or written by the converter into `staging`.
void stage(const Context& c, const std::string& kind, const std::vector<ModelImportSource>& src,
           const fs::path& staging) {
  fs::create_directories(staging);
  if (kind == "bundle") {  // bundle.json and the weights files it names, copied as they are
    for (const auto& s : src) fs::copy_file(s.file, staging / fs::path(s.file).filename());
    return;
  }
  std::vector<std::string> args{kind == "otis" ? "otis" : kind, c.req.path, staging.string(), "--json"};
  if (!c.req.echoprimePath.empty()) {
    args.push_back("--echoprime");
    args.push_back(c.req.echoprimePath);
  }
  c.say("converting " + kind + " " + c.req.path);
  runConverter(c, args);
}

Json makeCard(const pipeline::Bundle& b, const ModelImportReport& r, const ModelImportRequest& req) {
  Json files = Json::array();
  for (const auto& s : r.sources) files.push_back({{"file", s.file}, {"sha256", s.sha256}});
  Json converted = b.sourceJson.empty() ? Json() : Json::parse(b.sourceJson, nullptr, false);
  Json arch{{"ecg_depth", b.ecgCfg.depth},       {"ecg_dim", b.ecgCfg.dim},   {"ecg_heads", b.ecgCfg.heads},
            {"ecg_global_norm_eps", b.ecgCfg.globalNormEps}, {"view_dim", b.viewDim}, {"echo_dim", b.echoDim},
            {"echo_heads", b.echoHeads},         {"shared_dim", b.sharedDim}, {"video_encoder", b.videoEncoder}};
  return Json{{"model_id", r.modelId},
              {"version", r.version},
              {"task", "import"},
              {"method", r.kind},
              {"parent", ""},
              {"role", r.role},
              {"bundle_dir", r.bundleDir},
              {"weights_path", (fs::path(r.bundleDir) / "echo2ecg.pt").string()},
              {"weights_hash", r.weightsHash},
              {"preprocessing", b.preprocVersion},
              {"architecture", arch},
              {"import", {{"kind", r.kind}, {"path", fs::absolute(req.path).string()}, {"source_files", files},
                          {"converter", converted}}},
              {"data", {{"db", req.dbPath}, {"synthetic", b.syntheticTrainingData}}},
              {"test_metrics", Json::object()}};
}

// Loads the staged bundle (every tensor and shape checked), stores it as the next version, registers it.
void registerStaged(const Context& c, db::Database& db, const fs::path& staging, ModelImportReport& r) {
  pipeline::Bundle b = pipeline::loadBundle(staging.string(), /*checkHash=*/r.kind == "bundle");
  r.modelId = b.modelId.empty() || b.modelId == "echo2ecg" ? std::string(pipeline::kEmbeddingModelId) : b.modelId;
  r.role = b.role;
  r.version = train::nextVersion(db, r.modelId);
  const fs::path store = storeDir(c.req);
  const fs::path final = store / r.modelId / r.version;
  if (fs::exists(final))
    throw std::runtime_error(final.string() + " already exists (left from an earlier import?); nothing was "
                             "overwritten: move it away and import again");
  b.modelId = r.modelId;
  b.version = r.version;
  pipeline::saveBundle(b, final.string());
  r.bundleDir = fs::absolute(final).string();
  r.weightsHash = b.hash;
  r.cardJson = makeCard(b, r, c.req).dump(-1, ' ', false, Json::error_handler_t::replace);
  try {
    db::ModelRow row;
    row.modelId = r.modelId;
    row.version = r.version;
    row.weightsHash = r.weightsHash;
    row.cardJson = r.cardJson;
    db.registerModel(row);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(final, ec);
    throw;
  }
}

}  // namespace

ModelImportReport importModel(const ModelImportRequest& req, const job::CancelToken& cancel,
                              const std::function<void(const std::string&)>& status) {
  Context c{req, cancel, status, req.python.empty() ? "/usr/bin/python3" : req.python,
            req.converter.empty() ? findConverter() : req.converter};
  if (c.converter.empty())
    throw std::runtime_error("tools/convert_checkpoint.py not found (set E2E_TOOLS_DIR to the folder holding it)");
  if (req.dbPath.empty()) throw std::runtime_error("no database given");
  if (!req.echoprimePath.empty() && !fs::is_regular_file(req.echoprimePath))
    throw std::runtime_error(req.echoprimePath + ": no such file (--echoprime)");
  ModelImportReport r;
  r.kind = detectKind(c);
  if (!req.echoprimePath.empty() && (r.kind == "bundle" || r.kind == "echoprime"))
    throw std::runtime_error("--echoprime goes with an OTiS checkpoint or an official Echo2ECG run, not with " + r.kind);
  if (r.kind == "otis" && !req.echoprimePath.empty()) r.kind = "otis+echoprime";
  r.sources = hashSources(sourceFiles(req, r.kind == "otis+echoprime" ? "otis" : r.kind));
  db::Database db(req.dbPath);
  const auto rows = db.listModels();
  if (const db::ModelRow* row = findImported(rows, r.sources)) {
    r.alreadyImported = true;
    r.modelId = row->modelId;
    r.version = row->version;
    r.weightsHash = row->weightsHash;
    r.cardJson = row->cardJson;
    const Json card = Json::parse(row->cardJson, nullptr, false);
    r.bundleDir = card.value("bundle_dir", "");
    r.role = card.value("role", "");
    if (req.activate && !row->active) {
      db.setActiveModel(row->modelId, row->version);
      r.activated = true;
    }
    return r;
  }
  const fs::path store = storeDir(req);
  const fs::path staging = store / uniqueName(".staging-");
  try {
    stage(c, r.kind == "otis+echoprime" ? "otis" : r.kind, r.sources, staging);
    if (cancel.cancelled()) throw std::runtime_error("model import cancelled");
    c.say("checking and registering the bundle");
    registerStaged(c, db, staging, r);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(staging, ec);
    throw;
  }
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (req.activate) {
    db.setActiveModel(r.modelId, r.version);
    r.activated = true;
  }
  return r;
}

}  // namespace e2e::jobs
