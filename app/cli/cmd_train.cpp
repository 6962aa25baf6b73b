// echo2ecg train: see docs/training-protocol.md (the GUI training panel depends on it).
#include <csignal>
#include <cstdio>
#include <stdexcept>

#include "commands.h"
#include "jobs/train/train.h"
#include "json_out.h"

namespace {
e2e::job::CancelToken gStop;
extern "C" void onTrainStop(int) { gStop.cancel(); }

// The exit code of a finished run (docs/training-protocol.md).
int exitCode(e2e::jobs::TrainStatus s) {
  using e2e::jobs::TrainStatus;
  switch (s) {
    case TrainStatus::Done: return e2e::cli::kOk;
    case TrainStatus::BadRequest: return e2e::cli::kUsageError;
    case TrainStatus::Cancelled: return e2e::cli::kInterrupted;
    case TrainStatus::Failed: break;
  }
  return e2e::cli::kRuntimeError;
}

void printTrainHelp() {
  std::printf(
      "Usage: echo2ecg train --db FILE --task pretrain|ecg-pretrain|lvef|shd|echo-pretrain [--method linear|knn|full] --run-dir DIR\n"
      "                      [--epochs N] [--batch-size B] [--lr X] [--weight-decay W] [--seed S]\n"
      "                      [--device cpu|cuda|auto] [--base-model MODEL_ID:VERSION] [--model BUNDLE_DIR|ID:VERSION]\n"
      "                      [--filter-text T] [--label-key K] [--resume] [--json-progress] [--dry-run]\n"
      "                      [--precision auto|bf16|fp32]\n"
      "                      [--ecg-depth N] [--video-size PX]   (fresh pretraining only)\n"
      "                      [--video-model ID:VERSION|DIR] [--temperature T] [--layer-decay D]   (pretrain)\n"
      "                      [--targets KEY,KEY...]   (echo-pretrain)\n"
      "pretrain: CLIP-style ECG <-> multi-view echo pretraining (temperature 0.5, AdamW weight decay 1e-7,\n"
      "layer-wise lr decay 0.75 by default); --video-model takes the frozen video encoder of that bundle\n"
      "(e.g. echo2ecg-echo-pretrain:1) instead of a random one; with --model it must be an ECG-only encoder.\n"
      "ecg-pretrain: ECG-only self-supervised pretraining (two augmented views of each ECG, the same CLIP\n"
      "loss; no echo, no labels): the ECG-only baseline encoder, and a start for pretrain --model.\n"
      "Registers echo2ecg-ecg-pretrain; it embeds ECGs and carries heads but cannot retrieve.\n"
      "echo-pretrain: trains the video encoder alone to regress echo-report measurements from each loop\n"
      "(default targets lvef_percent,edv,esv,wall_mm,lv_mass_g; run it on a cohort disjoint from the one\n"
      "you pretrain and evaluate Echo2ECG on); registers echo2ecg-echo-pretrain.\n"
      "Methods for lvef/shd: linear (frozen aligned embedding + linear head), knn (k=5), full (encoder +\n"
      "head); ecg-features / ecg-features-knn: the ECG-only hand-crafted-feature baseline (docs/results.md).\n"
      "Encoder of lvef/shd without --base-model/--model: the active echo2ecg-pretrain version, else the\n"
      "bundled models/ (its weights must match the registered hash). pretrain without --model: a fresh one.\n"
      "--precision: auto = bfloat16 autocast on CUDA and fp32 on the CPU (default); bf16 forces autocast,\n"
      "fp32 turns it off. Linear / kNN heads always train in fp32.\n"
      "Protocol: docs/training-protocol.md. Exit codes: 0 done, 1 error, 2 usage, 130 cancelled (resumable).\n");
}

// The request the options describe; "" when they are valid, else what is wrong (a usage error).
std::string parseTrainRequest(const e2e::cli::ParsedArgs& a, e2e::jobs::TrainRequest& o) {
  using namespace e2e::cli;
  o.dbPath = dbPathFrom(a);
  o.task = a.get("task");
  o.method = a.get("method", "linear");
  o.runDir = a.get("run-dir");
  o.device = a.get("device", "auto");
  o.baseModel = a.get("base-model");
  o.filterText = a.get("filter-text");
  o.labelKey = a.get("label-key");
  o.model = a.get("model");
  o.resume = a.has("resume");
  o.dryRun = a.has("dry-run");
  o.videoModel = a.get("video-model");
  o.targets = a.get("targets");
  o.precision = a.get("precision", "auto");
  if (o.precision != "auto" && o.precision != "bf16" && o.precision != "fp32")
    return "--precision must be auto, bf16 or fp32";
  if (o.task.empty()) return "--task is required (pretrain, ecg-pretrain, lvef, shd, echo-pretrain)";
  if (!o.videoModel.empty() && o.task != "pretrain") return "--video-model is for --task pretrain";
  if (a.has("targets") && o.task != "echo-pretrain") return "--targets is for --task echo-pretrain";
  if (o.runDir.empty()) return "--run-dir is required";
  if (o.device != "cpu" && o.device != "cuda" && o.device != "auto") return "--device must be cpu, cuda or auto";
  long long n = 0;
  if (a.has("epochs")) {
    if (!parseInt(a.get("epochs"), 0, 100000, n)) return "--epochs needs an integer >= 0";
    o.epochs = static_cast<int>(n);
  }
  if (a.has("batch-size")) {
    if (!parseInt(a.get("batch-size"), 1, 65536, n)) return "--batch-size needs an integer >= 1";
    o.batchSize = static_cast<int>(n);
  }
  if (a.has("seed")) {
    if (!parseInt(a.get("seed"), 0, 1LL << 62, n)) return "--seed needs a non-negative integer";
    o.seed = static_cast<std::uint64_t>(n);
  }
  if (a.has("ecg-depth")) {
    if (!parseInt(a.get("ecg-depth"), 1, 48, n)) return "--ecg-depth needs an integer 1..48";
    o.ecgDepth = static_cast<int>(n);
  }
  if (a.has("video-size")) {
    if (!parseInt(a.get("video-size"), 16, 512, n)) return "--video-size needs an integer 16..512";
    o.videoSize = static_cast<int>(n);
  }
  auto real = [&](const char* k, double& out) {
    if (!a.has(k)) return true;
    char* end = nullptr;
    const std::string s = a.get(k);
    out = std::strtod(s.c_str(), &end);
    return !s.empty() && end && *end == '\0' && out >= 0;
  };
  if (!real("lr", o.lr)) return "--lr needs a number > 0";
  if (!real("weight-decay", o.weightDecay)) return "--weight-decay needs a number >= 0";
  if (!real("temperature", o.temperature) || o.temperature <= 0) return "--temperature needs a number > 0";
  if (!real("layer-decay", o.layerDecay) || o.layerDecay <= 0 || o.layerDecay > 1)
    return "--layer-decay needs a number in (0, 1]";
  return "";
}

int runTrainCmd(int argc, char** argv) {
  using namespace e2e::cli;
  auto a = parseArgs(argc, argv,
                     {"db", "task", "method", "run-dir", "epochs", "batch-size", "lr", "weight-decay", "seed", "device",
                      "base-model", "filter-text", "label-key", "model", "ecg-depth", "video-size", "video-model", "temperature",
                      "layer-decay", "targets", "precision"},
                     {"resume", "json-progress", "dry-run"});
  if (a.help) {
    printTrainHelp();
    return kOk;
  }
  auto fail = [&](const std::string& msg) {
    if (a.has("json-progress")) printJsonLine({{"event", "error"}, {"message", msg}});
    return usageError("train", msg);
  };
  if (!a.error.empty()) return fail(a.error);
  if (!a.positional.empty()) return fail("unexpected argument " + a.positional[0]);
  e2e::jobs::TrainRequest o;
  if (const std::string why = parseTrainRequest(a, o); !why.empty()) return fail(why);
  std::signal(SIGINT, onTrainStop);
  std::signal(SIGTERM, onTrainStop);
  e2e::jobs::TrainEvents events;
  if (a.has("json-progress")) events.event = [](const nlohmann::ordered_json& j) { printJsonLine(j); };
  events.text = [](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
    std::fflush(stderr);
  };
  const auto report = e2e::jobs::runTrain(o, events, gStop);
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  return exitCode(report.status);
}
}  // namespace

E2E_REGISTER_COMMAND("train", "train / fine-tune Echo2ECG models (JSON-lines progress, resumable)", runTrainCmd);
