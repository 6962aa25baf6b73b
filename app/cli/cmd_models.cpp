// echo2ecg models list|show|activate|register: the model registry of a study database.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "commands.h"
#include "db/database.h"
#include "viewmodel/training_card.h"
#include "viewmodel/training_protocol.h"

namespace {

const char* orDash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

int runModels(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "model-id", "version", "parent", "weights-hash", "card", "card-json"},
                     {"activate"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg models list [--db FILE]\n"
        "       echo2ecg models show MODEL_ID VERSION [--db FILE]\n"
        "       echo2ecg models activate MODEL_ID VERSION [--db FILE]\n"
        "       echo2ecg models register --model-id ID --version V --weights-hash H [--parent ID:V]\n"
        "                                [--card FILE | --card-json JSON] [--activate] [--db FILE]\n"
        "The model registry: versions of trained models with their cards (data, recipe, metrics).\n"
        "  list      one version per line (tab-separated), '*' marks the active version of a model\n"
        "  show      the card of one version (JSON)\n"
        "  activate  make this version the one used for predictions of its model id\n"
        "  register  add a version (training jobs do this themselves)\n");
    return kOk;
  }
  if (!a.error.empty()) return usageError("models", a.error);
  if (a.positional.empty()) return usageError("models", "missing action (list, show, activate or register)");
  const std::string action = a.positional[0];
  const std::size_t wantArgs = (action == "show" || action == "activate") ? 3 : 1;
  if (action != "list" && action != "show" && action != "activate" && action != "register")
    return usageError("models", "unknown action '" + action + "'");
  if (a.positional.size() != wantArgs)
    return usageError("models", action + (wantArgs == 3 ? " needs MODEL_ID VERSION" : " takes no arguments"));
  const std::string dbPath = dbPathFrom(a);
  if (action != "register" && !std::filesystem::exists(dbPath)) {
    std::fprintf(stderr, "echo2ecg models: database not found: %s\n", dbPath.c_str());
    return kRuntimeError;
  }
  try {
    e2e::db::Database db(dbPath);
    if (action == "list") {
      std::printf("active\tmodel_id\tversion\tparent\tweights_hash\tcreated\tmetrics\n");
      const auto models = db.listModels();
      for (const auto& m : models)
        std::printf("%s\t%s\t%s\t%s\t%.12s\t%s\t%s\n", m.active ? "*" : "", m.modelId.c_str(), m.version.c_str(),
                    orDash(m.parent), orDash(m.weightsHash), orDash(m.createdAt),
                    orDash(e2e::vm::cardMetricsSummary(m.cardJson, 4)));
      std::fprintf(stderr, "%zu model version(s)\n", models.size());
      return kOk;
    }
    if (action == "show" || action == "activate") {
      const std::string id = a.positional[1], ver = a.positional[2];
      for (const auto& m : db.listModels()) {
        if (m.modelId != id || m.version != ver) continue;
        if (action == "activate") {
          db.setActiveModel(id, ver);
          std::fprintf(stderr, "active: %s %s\n", id.c_str(), ver.c_str());
        } else {
          std::printf("model_id: %s\nversion: %s\nparent: %s\nweights_hash: %s\ncreated: %s\nactive: %s\ncard:\n%s\n",
                      m.modelId.c_str(), m.version.c_str(), orDash(m.parent), orDash(m.weightsHash),
                      orDash(m.createdAt), m.active ? "yes" : "no", e2e::vm::prettyJson(m.cardJson).c_str());
        }
        return kOk;
      }
      std::fprintf(stderr, "echo2ecg models: no model %s version %s\n", id.c_str(), ver.c_str());
      return kRuntimeError;
    }
    // register
    e2e::db::ModelRow m;
    m.modelId = a.get("model-id");
    m.version = a.get("version");
    m.parent = a.get("parent");
    m.weightsHash = a.get("weights-hash");
    if (m.modelId.empty() || m.version.empty()) return usageError("models", "register needs --model-id and --version");
    if (a.has("card")) {
      std::ifstream in(a.get("card"));
      if (!in) return usageError("models", "cannot read --card " + a.get("card"));
      std::ostringstream ss;
      ss << in.rdbuf();
      m.cardJson = ss.str();
    } else {
      m.cardJson = a.get("card-json", "{}");
    }
    e2e::vm::JsonValue j;
    std::string err;
    if (!e2e::vm::parseJson(m.cardJson, j, &err)) return usageError("models", "the card is not JSON: " + err);
    db.registerModel(m);
    if (a.has("activate")) db.setActiveModel(m.modelId, m.version);
    std::fprintf(stderr, "registered: %s %s\n", m.modelId.c_str(), m.version.c_str());
    return kOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg models: %s\n", e.what());
    return kRuntimeError;
  }
}

}  // namespace

E2E_REGISTER_COMMAND("models", "list, show, activate or register model versions (the model registry)", runModels);
