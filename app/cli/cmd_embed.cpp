// echo2ecg embed --db FILE [--model ID:VERSION|ID|DIR] [--batch N] [--threads N] [--device cpu|cuda|auto]
//                [--precision auto|fp32|bf16] [--quiet] [--json-progress] [--prune-stale]
#include <csignal>
#include <cstdio>

#include "commands.h"
#include "json_out.h"
#include "jobs/embed.h"

namespace {
using e2e::cli::printJsonLine;

e2e::job::CancelToken gStop;
extern "C" void onEmbedStop(int) { gStop.cancel(); }

void printEmbedHelp() {
  std::printf(
      "Usage: echo2ecg embed [--db FILE] [--model ID:VERSION|ID|DIR] [--batch N] [--threads N]\n"
      "                      [--device cpu|cuda|auto] [--precision auto|fp32|bf16] [--quiet] [--json-progress]\n"
      "                      [--prune-stale]\n"
      "Computes the aligned 512-d ECG embedding of every ECG, the per-view echo embedding of every\n"
      "ultrasound loop and the aligned echo-study embedding of every study with echo. The model:\n"
      "  --model ID:VERSION  a registered version (ID alone: its active version), or a bundle DIR;\n"
      "  default             the ACTIVE %s version of the database (`echo2ecg models activate`),\n"
      "                      else the bundled models/ (or $E2E_MODELS_DIR).\n"
      "A registered version's weights must still hash to its registered weights hash (error otherwise).\n"
      "Stored keyed by model id:version, weights hash and preprocessing version (the bundle's: %s, or\n"
      "%s for imported official weights); what is already\n"
      "stored is skipped. A loop that cannot be decoded is tried (and reported) on every run. A study's\n"
      "vector is made from its first 128 decodable loops and re-made when its loops change (loops\n"
      "imported into or deleted from it, a loop that decodes now).\n"
      "Embeddings of other versions are kept (retrieval never uses them) unless\n"
      "--prune-stale deletes them after a complete run.\n"
      "  --precision      auto (default): bfloat16 on CUDA or a CPU with AVX512-BF16 / AMX, else fp32\n"
      "                   (`echo2ecg info` says which and why); fp32 / bf16 force one. Vectors are stored\n"
      "                   with the precision they were made in; retrieval never mixes precisions.\n"
      "  --json-progress  one JSON line per batch on stdout: {\"event\":\"progress\",\"stage\":\"ecg|echo\",\n"
      "                   \"done\":N,\"total\":M} (the workstation's re-embed job reads them)\n",
      e2e::pipeline::kEmbeddingModelId, e2e::pipeline::kPreprocVersion, e2e::pipeline::kPreprocFourierVersion);
}

// The end report: a JSON line (with --json-progress), then the text summary.
void printEmbedReport(const e2e::jobs::EmbedReport& r, bool json) {
  if (json)
    printJsonLine({{"event", r.cancelled ? "cancelled" : "done"},
                   {"model_id", r.model.modelId},
                   {"version", r.model.version},
                   {"weights_hash", r.weightsHash},
                   {"precision", r.model.precision},
                   {"ecg_added", r.ecgAdded},
                   {"studies_added", r.studyAdded},
                   {"studies_updated", r.studyUpdated},
                   {"studies_dropped", r.studyDropped},
                   {"errors", r.errors},
                   {"stale_rows", r.staleRows},
                   {"pruned_rows", r.prunedRows}});
  std::printf("Embed %s with %s in %.1f s:\n", r.cancelled ? "interrupted" : "finished", r.model.describe().c_str(),
              r.seconds);
  std::printf("  precision: %s (%s)\n", r.precision.name(), r.precision.reason.c_str());
  std::printf("  ECG: %d added, %d already stored\n  echo views: %d added, %d already stored\n"
              "  echo studies: %d added, %d already stored\n",
              r.ecgAdded, r.ecgSkipped, r.viewAdded, r.viewSkipped, r.studyAdded, r.studySkipped);
  if (r.studyUpdated)
    std::printf("  echo studies re-made: %d (made from other loops than the study has now: loops imported or "
                "deleted since, a loop that now decodes, or not recorded by an older version)\n",
                r.studyUpdated);
  if (r.studyDropped)
    std::printf("  echo study vectors deleted: %d (the study has no loop left, or none that decodes)\n",
                r.studyDropped);
  std::printf("  errors: %d\n", r.errors);
  if (r.prunedRows) std::printf("  stale rows of other versions of %s deleted: %lld\n", r.model.modelId.c_str(),
                                static_cast<long long>(r.prunedRows));
  if (r.staleRows)
    std::printf("  stale rows of other versions of %s kept (never used by retrieval): %lld (delete them with "
                "`echo2ecg embed --prune-stale`)\n",
                r.model.modelId.c_str(), static_cast<long long>(r.staleRows));
}

int runEmbedCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv, {"db", "model", "batch", "threads", "device", "precision"}, {"quiet", "json-progress", "prune-stale"});
  if (a.help) {
    printEmbedHelp();
    return kOk;
  }
  if (!a.error.empty()) return usageError("embed", a.error);
  if (!a.positional.empty()) return usageError("embed", "unexpected argument " + a.positional[0]);
  e2e::jobs::EmbedRequest o;
  o.model = a.get("model");
  o.device = a.get("device", "auto");
  o.pruneStale = a.has("prune-stale");
  const bool json = a.has("json-progress");
  if (json)
    o.progress = [](const std::string& stage, int done, int total) {
      printJsonLine({{"event", "progress"}, {"stage", stage}, {"done", done}, {"total", total}});
    };
  else if (!a.has("quiet"))
    o.progress = [](const std::string& stage, int done, int total) {
      std::fprintf(stderr, "\r%s %d/%d   %s", stage == "ecg" ? "ECG" : "echo loops", done, total, done == total ? "\n" : "");
    };
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
    o.precision = e2e::model::parsePrecisionRequest(a.get("precision", "auto"));
  } catch (const std::invalid_argument& e) {
    return usageError("embed", e2e::errorText(e).c_str());
  }
  try {
    e2e::db::Database db(dbPathFrom(a));
    std::signal(SIGINT, onEmbedStop);
    std::signal(SIGTERM, onEmbedStop);
    auto r = e2e::jobs::runEmbed(db, o, gStop);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    for (auto& e : r.errorMessages) std::fprintf(stderr, "error: %s\n", e.c_str());
    printEmbedReport(r, json);
    if (r.cancelled) return kInterrupted;
    return r.errors ? kFinishedWithProblems : kOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg embed: %s\n", e2e::errorText(e).c_str());
    if (json) printJsonLine({{"event", "error"}, {"message", e2e::errorText(e).c_str()}});
    return kRuntimeError;
  }
}
}  // namespace

E2E_REGISTER_COMMAND("embed", "compute and store ECG / echo embeddings with the active embedding model", runEmbedCmd);
