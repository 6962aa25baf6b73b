// echo2ecg embed --db FILE [--model DIR] [--batch N] [--threads N] [--device cpu|cuda|auto] [--quiet]
#include <csignal>
#include <cstdio>

#include "commands.h"
#include "pipeline/pipeline.h"

namespace {
std::atomic<bool> gStop{false};
extern "C" void onEmbedStop(int) { gStop.store(true); }

int runEmbedCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "model", "batch", "threads", "device"}, {"quiet"});
  if (a.help) {
    std::printf(
        "Usage: echo2ecg embed [--db FILE] [--model DIR] [--batch N] [--threads N] [--device cpu|cuda|auto] [--quiet]\n"
        "Computes the aligned 512-d ECG embedding of every ECG, the per-view echo embedding of every\n"
        "ultrasound loop and the aligned echo-study embedding of every study with echo, with the model\n"
        "bundle in DIR (default: the bundled models/, or $E2E_MODELS_DIR). Stored in the database keyed by\n"
        "model id:version, weights hash and preprocessing version (%s); what is already stored is skipped.\n",
        e2e::pipeline::kPreprocVersion);
    return kOk;
  }
  if (!a.error.empty()) return usageError("embed", a.error);
  if (!a.positional.empty()) return usageError("embed", "unexpected argument " + a.positional[0]);
  e2e::pipeline::EmbedOptions o;
  o.modelDir = a.get("model");
  o.device = a.get("device", "auto");
  o.quiet = a.has("quiet");
  long long n = 0;
  if (a.has("batch")) {
    if (!parseInt(a.get("batch"), 1, 4096, n)) return usageError("embed", "--batch needs an integer >= 1");
    o.batchSize = static_cast<int>(n);
  }
  if (a.has("threads")) {
    if (!parseInt(a.get("threads"), 1, 256, n)) return usageError("embed", "--threads needs an integer 1..256");
    o.threads = static_cast<int>(n);
  }
  if (o.device != "cpu" && o.device != "cuda" && o.device != "auto")
    return usageError("embed", "--device must be cpu, cuda or auto");
  try {
    e2e::db::Database db(dbPathFrom(a));
    std::signal(SIGINT, onEmbedStop);
    std::signal(SIGTERM, onEmbedStop);
    auto r = e2e::pipeline::runEmbed(db, o, e2e::pipeline::Cancel{&gStop});
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    for (auto& e : r.errorMessages) std::fprintf(stderr, "error: %s\n", e.c_str());
    std::printf("Embed %s with %s (weights %s, %s) in %.1f s:\n", r.cancelled ? "interrupted" : "finished",
                r.modelKey.c_str(), r.weightsHash.substr(0, 12).c_str(), e2e::pipeline::kPreprocVersion, r.seconds);
    std::printf("  ECG: %d added, %d already stored\n  echo views: %d added, %d already stored\n"
                "  echo studies: %d added, %d already stored\n  errors: %d\n",
                r.ecgAdded, r.ecgSkipped, r.viewAdded, r.viewSkipped, r.studyAdded, r.studySkipped, r.errors);
    if (r.cancelled) return kInterrupted;
    return r.errors ? kFinishedWithProblems : kOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg embed: %s\n", e.what());
    return kRuntimeError;
  }
}
}  // namespace

E2E_REGISTER_COMMAND("embed", "compute and store ECG / echo embeddings with the active model bundle", runEmbedCmd);
