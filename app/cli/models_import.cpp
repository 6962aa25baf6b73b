// echo2ecg models import PATH: published weights (an official Echo2ECG run, OTiS, EchoPrime, a bundle)
// as a registered model version. Prints what core/jobs/model_import reports.
#include <csignal>
#include <cstdio>
#include <string>

#include "commands.h"
#include "jobs/model_import.h"
#include "json_out.h"

namespace e2e::cli {
namespace {

job::CancelToken gCancel;
void onImportSignal(int) { gCancel.cancel(); }

void printReport(const jobs::ModelImportReport& r, bool json) {
  if (json) {
    nlohmann::ordered_json j{{"event", "done"},          {"kind", r.kind},
                             {"model_id", r.modelId},     {"version", r.version},
                             {"role", r.role},           {"bundle_dir", r.bundleDir},
                             {"weights_hash", r.weightsHash}, {"already_imported", r.alreadyImported},
                             {"activated", r.activated}};
    nlohmann::ordered_json src = nlohmann::ordered_json::array();
    for (const auto& s : r.sources) src.push_back({{"file", s.file}, {"sha256", s.sha256}});
    j["sources"] = src;
    printJsonLine(j);
    return;
  }
  if (r.alreadyImported)
    std::printf("already imported: %s %s (the same %zu source file(s)); nothing changed%s\n", r.modelId.c_str(),
                r.version.c_str(), r.sources.size(), r.activated ? ", except that it is now active" : "");
  else
    std::printf("imported %s as %s %s (weights %.12s)\n  bundle: %s\n", r.kind.c_str(), r.modelId.c_str(),
                r.version.c_str(), r.weightsHash.c_str(), r.bundleDir.c_str());
  for (const auto& s : r.sources) std::printf("  source: %s  sha256 %s\n", s.file.c_str(), s.sha256.c_str());
  if (r.role == "ecg-encoder")
    std::printf("An ECG encoder (echo side untrained): pretrain Echo2ECG from it with\n"
                "  echo2ecg train --task pretrain --model %s:%s ...\n", r.modelId.c_str(), r.version.c_str());
  else if (r.role == "video-encoder")
    std::printf("A video encoder: use it as  echo2ecg train --task pretrain --video-model %s:%s ...\n",
                r.modelId.c_str(), r.version.c_str());
  else if (!r.activated)
    std::printf("Use it: echo2ecg models activate %s %s --embed\n", r.modelId.c_str(), r.version.c_str());
  else
    std::printf("Active. Compute its embeddings: echo2ecg embed\n");
}

}  // namespace

int runModelsImport(const ParsedArgs& a) {
  if (a.positional.size() != 2) return usageError("models", "import needs one PATH (run folder, .pth/.pt, bundle)");
  jobs::ModelImportRequest req;
  req.dbPath = dbPathFrom(a);
  req.path = a.positional[1];
  req.echoprimePath = a.get("echoprime");
  req.activate = a.has("activate");
  req.storeDir = a.get("store");
  const bool json = a.has("json");
  std::signal(SIGINT, onImportSignal);
  std::signal(SIGTERM, onImportSignal);
  try {
    auto r = jobs::importModel(req, gCancel, [&](const std::string& s) {
      if (json) printJsonLine({{"event", "status"}, {"message", s}});
      else std::fprintf(stderr, "%s\n", s.c_str());
    });
    printReport(r, json);
    return kOk;
  } catch (const std::exception& e) {
    if (json) printJsonLine({{"event", "error"}, {"message", e2e::errorText(e).c_str()}});
    std::fprintf(stderr, "echo2ecg models import: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
}

}  // namespace e2e::cli
