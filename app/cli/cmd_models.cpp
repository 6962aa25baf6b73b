// echo2ecg models list|show|activate|register: the model registry of a study database.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "commands.h"
#include "common/text.h"
#include "db/database.h"
#include "pipeline/embedding_model.h"
#include "viewmodel/training_card.h"
#include "viewmodel/training_protocol.h"

namespace e2e::cli {
int runModelsImport(const ParsedArgs& a);  // models_import.cpp (built with the models)
int runModelsOodFit(const ParsedArgs& a);  // models_ood_fit.cpp (built with the models)
}

namespace {
using e2e::cli::kOk;
using e2e::cli::kRuntimeError;

const char* orDash(const std::string& s) { return s.empty() ? "-" : s.c_str(); }

// Runs another subcommand of this executable in-process (argv[0] = its name).
int runSubcommand(const std::vector<std::string>& args) {
  for (const auto& c : e2e::cli::commands())
    if (args[0] == c.name) {
      std::vector<std::string> copy = args;
      std::vector<char*> av;
      for (auto& a : copy) av.push_back(a.data());
      av.push_back(nullptr);
      return c.run(static_cast<int>(copy.size()), av.data());
    }
  std::fprintf(stderr, "echo2ecg models: this echo2ecg was built without the models (no '%s' command)\n",
               args[0].c_str());
  return e2e::cli::kRuntimeError;
}

// After activating an embedding model: re-embed now (--embed), or say what is missing and how to make it.
int afterActivation(e2e::db::Database& db, const std::string& dbPath, const std::string& id, const std::string& ver,
                    bool embed, bool jsonProgress) {
  using namespace e2e::pipeline;
  e2e::pipeline::EmbeddingModel m;
  try {
    m = resolveEmbeddingModel(db, id + ":" + ver, /*checkFiles=*/false);
  } catch (const std::exception&) {
    if (embed) std::fprintf(stderr, "note: %s %s is not an embedding model; nothing to embed\n", id.c_str(), ver.c_str());
    return e2e::cli::kOk;  // a prediction head: predictions record the version that made them
  }
  const std::string cmd = "echo2ecg embed --db " + e2e::shellWord(dbPath) + (id == kEmbeddingModelId ? "" : " --model " + id + ":" + ver);
  if (id != kEmbeddingModelId)
    std::printf("note: retrieval uses the active %s version by default; pass --model %s:%s to use this one\n",
                kEmbeddingModelId, id.c_str(), ver.c_str());
  if (embed) {
    std::fprintf(stderr, "re-embedding the database with %s ...\n", m.label().c_str());
    std::vector<std::string> args = {"embed", "--db", dbPath, "--model", id + ":" + ver};
    if (jsonProgress) args.push_back("--json-progress");
    return runSubcommand(args);
  }
  const auto c = embeddingCoverage(db, m);
  if (c.complete()) {
    std::printf("Embeddings of %s: all %lld ECG(s) and %lld echo stud(ies) present\n", m.label().c_str(),
                static_cast<long long>(c.ecgInstances), static_cast<long long>(c.echoStudies));
    return e2e::cli::kOk;
  }
  if (!c.embedWouldHelp()) {  // only studies none of whose loops decodes are missing
    std::printf("Embeddings of %s: all %lld ECG(s) and %lld of %lld echo stud(ies) present; %lld stud(ies) have no "
                "loop that decodes in this build and are not searched (`echo2ecg embed` names the files)\n",
                m.label().c_str(), static_cast<long long>(c.ecgInstances),
                static_cast<long long>(c.echoStudies - c.missingStudies()), static_cast<long long>(c.echoStudies),
                static_cast<long long>(c.undecodableStudies));
    return e2e::cli::kOk;
  }
  std::printf("Embeddings of %s missing: %lld of %lld ECG(s) and %lld of %lld echo stud(ies)%s. Retrieval uses only "
              "this version's embeddings%s.\nCompute them: %s   (or: echo2ecg models activate %s %s --embed)\n",
              m.label().c_str(), static_cast<long long>(c.missingEcg()), static_cast<long long>(c.ecgInstances),
              static_cast<long long>(c.missingStudies()), static_cast<long long>(c.echoStudies),
              c.outdatedStudies ? ("; outdated: " + std::to_string(c.outdatedStudies) +
                                   " echo stud(ies) whose loops changed since they were embedded").c_str() : "",
              c.staleRows ? (" (" + std::to_string(c.staleRows) + " stored rows of other versions are not used)").c_str() : "",
              cmd.c_str(), id.c_str(), ver.c_str());
  return e2e::cli::kOk;
}

void printModelsHelp() {
  std::printf(
      "Usage: echo2ecg models list [--db FILE]\n"
      "       echo2ecg models show MODEL_ID VERSION [--db FILE]\n"
      "       echo2ecg models activate MODEL_ID VERSION [--embed [--json-progress]] [--db FILE]\n"
      "       echo2ecg models register --model-id ID --version V --weights-hash H [--parent ID:V]\n"
      "                                [--card FILE | --card-json JSON] [--activate] [--db FILE]\n"
      "       echo2ecg models import PATH [--echoprime FILE] [--activate] [--json] [--db FILE]\n"
      "       echo2ecg models ood-fit [--model DIR] [--seed S] [--json] [--db FILE]\n"
      "The model registry: versions of trained models with their cards (data, recipe, metrics).\n"
      "  list      one version per line (tab-separated), '*' marks the active version of a model\n"
      "  show      the card of one version (JSON)\n"
      "  activate  make this version the one used for predictions of its model id; for an embedding\n"
      "            model (echo2ecg-pretrain) the one used by embed / retrieve: without --embed it prints\n"
      "            how many embeddings of the version are missing and the command to make them, with\n"
      "            --embed it runs `echo2ecg embed --model MODEL_ID:VERSION` right away (progress on stderr)\n"
      "  register  add a version (training jobs do this themselves)\n"
      "  import    published weights as a new version: an official Echo2ECG run folder (checkpoints/,\n"
      "            config.yaml), an OTiS checkpoint (.pth; --echoprime adds EchoPrime's video encoder),\n"
      "            EchoPrime's echo_prime_encoder.pt, or a bundle folder (bundle.json). The files are\n"
      "            converted (tools/convert_checkpoint.py, Debian's python3-torch), checked tensor by tensor\n"
      "            and kept in DB.models/ID/VERSION; the card names every source file and its SHA-256.\n"
      "            Importing the same files again changes nothing.\n"
      "  ood-fit   out-of-distribution statistics and calibration of a bundle directory (default: the\n"
      "            bundled models) from the database's ECGs: Mahalanobis mean and shrinkage covariance of\n"
      "            the training split's embeddings, threshold = 99th percentile of the validation split's\n"
      "            distances (DIR/ood.pt), and a temperature per head in DIR fitted on the labelled\n"
      "            validation ECGs, ECE before/after (DIR/trust.json). Without them predictions say\n"
      "            ood=unknown. An imported bundle has none until this is run on data like its training data.\n");
}

// models list: one version per line, '*' marks the active version of a model id.
int listModels(e2e::db::Database& db) {
  std::printf("active\tmodel_id\tversion\tparent\tweights_hash\tcreated\tmetrics\n");
  const auto models = db.listModels();
  for (const auto& m : models)
    std::printf("%s\t%s\t%s\t%s\t%.12s\t%s\t%s\n", m.active ? "*" : "", m.modelId.c_str(), m.version.c_str(),
                orDash(m.parent), orDash(m.weightsHash), orDash(m.createdAt),
                orDash(e2e::vm::cardMetricsSummary(m.cardJson, 4)));
  std::fprintf(stderr, "%zu model version(s)\n", models.size());
  return kOk;
}

// models show ID VERSION (the card) / models activate ID VERSION [--embed].
int showOrActivate(e2e::db::Database& db, const std::string& dbPath, const e2e::cli::ParsedArgs& a, bool activate) {
  const std::string id = a.positional[1], ver = a.positional[2];
  for (const auto& m : db.listModels()) {
    if (m.modelId != id || m.version != ver) continue;
    if (activate) {
      db.setActiveModel(id, ver);
      std::fprintf(stderr, "active: %s %s\n", id.c_str(), ver.c_str());
      return afterActivation(db, dbPath, id, ver, a.has("embed"), a.has("json-progress"));
    } else {
      std::printf("model_id: %s\nversion: %s\nparent: %s\nweights_hash: %s\ncreated: %s\nactive: %s\ncard:\n%s\n",
                  m.modelId.c_str(), m.version.c_str(), orDash(m.parent), orDash(m.weightsHash),
                  orDash(m.createdAt), m.active ? "yes" : "no", e2e::vm::prettyJson(m.cardJson).c_str());
      std::printf("%s", e2e::vm::cardTrustText(m.cardJson).c_str());
    }
    return kOk;
  }
  std::fprintf(stderr, "echo2ecg models: no model %s version %s\n", id.c_str(), ver.c_str());
  return kRuntimeError;
}

// models register --model-id ID --version V ... [--activate]
int registerModel(e2e::db::Database& db, const e2e::cli::ParsedArgs& a) {
  using namespace e2e::cli;
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
}

int runModels(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv,
                     {"db", "model-id", "version", "parent", "weights-hash", "card", "card-json", "echoprime", "store",
                      "model", "seed"},
                     {"activate", "embed", "json-progress", "json"});
  if (a.help) {
    printModelsHelp();
    return kOk;
  }
  if (!a.error.empty()) return usageError("models", a.error);
  if (a.positional.empty()) return usageError("models", "missing action (list, show, activate, register or import)");
  const std::string action = a.positional[0];
  if (action == "ood-fit") {
#ifdef E2E_CLI_WITH_TORCH
    if (a.positional.size() != 1) return usageError("models", "ood-fit takes no arguments");
    return e2e::cli::runModelsOodFit(a);
#else
    std::fprintf(stderr, "echo2ecg models: this echo2ecg was built without the models (no 'ood-fit')\n");
    return kRuntimeError;
#endif
  }
  if (action == "import") {
#ifdef E2E_CLI_WITH_TORCH
    return e2e::cli::runModelsImport(a);
#else
    std::fprintf(stderr, "echo2ecg models: this echo2ecg was built without the models (no 'import')\n");
    return kRuntimeError;
#endif
  }
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
    // list / show only read: never migrate or create (a foreign or newer file is refused untouched)
    const bool reads = action == "list" || action == "show";
    e2e::db::Database db(dbPath, reads ? e2e::db::Database::Mode::ReadOnly : e2e::db::Database::Mode::ReadWrite);
    if (action == "list") return listModels(db);
    if (action == "show" || action == "activate") return showOrActivate(db, dbPath, a, action == "activate");
    return registerModel(db, a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg models: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
}

}  // namespace

E2E_REGISTER_COMMAND("models", "list, show, activate, register or import model versions (the model registry)", runModels);
