// echo2ecg evaluate --db FILE --task lvef|shd [--model ID[:VERSION]] [--model-dir DIR] [--seed S] [--bootstrap N]
// echo2ecg evaluate --db FILE (--label KEY=VALUE [--absent-negative] | --diagnosis TEXT) [--folds K] [--seed S]
//                   [--representation encoder|random|handcrafted|all] [--probe linear|knn|all] [--k N] [--l2 X]
//                   [--bootstrap N] [--model ID[:VERSION]|DIR] [--random-seed S] [--threads N] [--json]
//                   [--path-contains TEXT] [--pretrain-per-fold [--pretrain-epochs N] [--pretrain-depth D]
//                   [--pretrain-batch-size N] [--pretrain-precision fp32|bf16] [--pretrain-seed S]
//                   [--pretrain-lr X] [--pretrain-dir DIR]]
#include <algorithm>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include "commands.h"
#include "jobs/evaluate.h"
#include "jobs/evaluate_cv.h"
#include "json_out.h"

namespace {
using namespace e2e::cli;

e2e::job::CancelToken gStop;
extern "C" void onEvaluateStop(int) { gStop.cancel(); }

void printEvaluateHelp() {
  std::printf(
      "Usage: echo2ecg evaluate --db FILE --task lvef|shd [--model ID[:VERSION]] [--model-dir DIR]\n"
      "                         [--seed S] [--bootstrap N]\n"
      "Accuracy, balanced accuracy, macro F1, AUROC and AUPRC with 95%% bootstrap CIs on the test split\n"
      "(by patient, 70/15/15, seed = the model's training seed unless --seed is given). Without --model:\n"
      "the active echo2ecg-<task> version, else the bundled head. --model-dir DIR alone: DIR's own\n"
      "<task>_head.pt, else the active version only if it was trained on DIR's weights.\n"
      "\n"
      "       echo2ecg evaluate --db FILE (--label KEY=VALUE [--absent-negative] | --diagnosis TEXT)\n"
      "                         [--folds K] [--seed S] [--representation encoder|random|handcrafted|all]\n"
      "                         [--probe linear|knn|all] [--k N] [--l2 X] [--bootstrap N]\n"
      "                         [--model ID[:VERSION]|DIR] [--random-seed S] [--threads N] [--json]\n"
      "Patient-level stratified K-fold cross-validation (default 5 folds, seed 1) of a binary target, for\n"
      "datasets too small for a fixed split. The target: a study label (positive when KEY's value, or one\n"
      "of its '; '-joined items, equals VALUE, case-insensitively; studies without KEY are left out unless\n"
      "--absent-negative), or an ECG diagnosis statement (WFDB '#<diagnoses>:' lines, CinC Dx codes;\n"
      "ECGs without statements are left out). Representations (default all): the ECG encoder's 192-d\n"
      "feature (--model, default the active or bundled embedding model), the same architecture with random\n"
      "weights (--random-seed, default 1), the 30 hand-crafted ECG features. Probes (default all): L2\n"
      "logistic regression on standardised features (--l2, default 1 = sklearn C 1) and cosine kNN\n"
      "(--k, default 10). Out-of-fold scores are pooled; AUROC, AUPRC and balanced accuracy (score >= 0.5)\n"
      "get 95%% CIs from --bootstrap (default 1000) patient resamples; each AUROC is also compared with the\n"
      "random-weights encoder's (same probe, paired resamples). Nothing is written to the database.\n"
      "  --path-contains TEXT   evaluate only the ECGs whose file path contains TEXT (e.g. ludb); the\n"
      "                         others still serve --pretrain-per-fold\n"
      "  --pretrain-per-fold    add the row 'ssl-per-fold': per fold, a fresh ECG-only self-supervised\n"
      "                         encoder (train --task ecg-pretrain, nothing registered) pretrained on every\n"
      "                         ECG of the database except the fold's test patients, then probed like the\n"
      "                         others; also compared with the encoder (paired). Recipe: --pretrain-epochs\n"
      "                         (default 3), --pretrain-depth (blocks, default 3), --pretrain-batch-size\n"
      "                         (default 16), --pretrain-lr (default 3e-4), --pretrain-precision\n"
      "                         fp32|bf16 (training only, default fp32), --pretrain-seed (default 0),\n"
      "                         --pretrain-dir DIR (keep the runs in DIR/fold-K; default a temporary\n"
      "                         folder, removed after)\n"
      "Features are computed in fp32 whatever E2E_PRECISION says.\n");
}

bool parseReal(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && std::isfinite(out);
}

// "all" or one name -> the list.
std::vector<std::string> choice(const std::string& v, const std::vector<std::string>& all,
                                const std::vector<std::string>& alsoSingle = {}) {
  if (v.empty() || v == "all") return all;
  for (const auto& a : all)
    if (a == v) return {v};
  for (const auto& a : alsoSingle)
    if (a == v) return {v};
  return {};
}

std::string ci(const e2e::jobs::EvaluateCvResult& r, const char* name) {
  auto it = r.metrics.find(name);
  if (it == r.metrics.end() || !std::isfinite(it->second.value)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f (%.3f-%.3f)", it->second.value, it->second.lower, it->second.upper);
  return buf;
}

void printCvReport(const e2e::jobs::EvaluateCvReport& r) {
  std::printf("Target %s: %zu ECGs (%zu positive) of %zu patients (%zu positive); %zu unlabelled, %zu unreadable\n",
              r.target.c_str(), r.n, r.positives, r.patients, r.positivePatients, r.unlabelled, r.errors.size());
  std::printf("%d-fold patient-level stratified cross-validation (seed %llu); linear: L2 %g; kNN: cosine, k %d;\n"
              "95%% CIs from %d patient bootstrap resamples\n",
              r.folds, static_cast<unsigned long long>(r.seed), r.l2, r.knnK, r.bootstrap);
  if (!r.encoderModel.empty())
    std::printf("Encoder %s%s; random weights: seed %llu\n", r.encoderModel.c_str(),
                r.encoderSyntheticTraining ? ", trained on synthetic data" : "",
                static_cast<unsigned long long>(r.randomWeightsSeed));
  std::printf("%-14s %-7s %4s  %-22s %-22s %-22s %s\n", "representation", "probe", "dim", "AUROC (95% CI)",
              "AUPRC (95% CI)", "bal. acc. (95% CI)", "AUROC - random (95% CI)");
  for (const auto& x : r.results) {
    std::string vsRandom = "-";
    if (x.aurocVsRandom.resamples > 0) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%+.3f (%+.3f to %+.3f)", x.aurocVsRandom.value, x.aurocVsRandom.lower,
                    x.aurocVsRandom.upper);
      vsRandom = buf;
    }
    std::printf("%-14s %-7s %4d  %-22s %-22s %-22s %s\n", x.representation.c_str(), x.probe.c_str(), x.dim,
                ci(x, "auroc").c_str(), ci(x, "auprc").c_str(), ci(x, "balanced_accuracy").c_str(), vsRandom.c_str());
  }
  for (const auto& x : r.results)
    if (x.aurocVsEncoder.resamples > 0)
      std::printf("%s %s: AUROC - encoder %+.3f (95%% CI %+.3f to %+.3f)\n", x.representation.c_str(), x.probe.c_str(),
                  x.aurocVsEncoder.value, x.aurocVsEncoder.lower, x.aurocVsEncoder.upper);
  for (const auto& f : r.pretraining)
    std::printf("fold %d: pretrained on %zu patients, %zu test patients held out, %.0f s\n", f.fold + 1,
                f.trainPatients.size(), f.heldOut.size(), f.seconds);
}

// The --pretrain-* options; "" or the usage error.
std::string pretrainOptions(const ParsedArgs& a, e2e::jobs::EvaluateCvRequest& o) {
  const bool per = a.has("pretrain-per-fold");
  for (const char* opt : {"pretrain-epochs", "pretrain-depth", "pretrain-batch-size", "pretrain-precision",
                          "pretrain-seed", "pretrain-dir", "pretrain-lr"})
    if (a.has(opt) && !per) return std::string("--") + opt + " goes with --pretrain-per-fold";
  if (!per) return "";
  if (std::find(o.representations.begin(), o.representations.end(), "ssl-per-fold") == o.representations.end())
    o.representations.push_back("ssl-per-fold");
  long long n = 0;
  if (a.has("pretrain-epochs")) {
    if (!parseInt(a.get("pretrain-epochs"), 1, 1000, n)) return "--pretrain-epochs needs an integer 1..1000";
    o.pretrainEpochs = static_cast<int>(n);
  }
  if (a.has("pretrain-depth")) {
    if (!parseInt(a.get("pretrain-depth"), 1, 12, n)) return "--pretrain-depth needs an integer 1..12";
    o.pretrainDepth = static_cast<int>(n);
  }
  if (a.has("pretrain-batch-size")) {
    if (!parseInt(a.get("pretrain-batch-size"), 2, 4096, n)) return "--pretrain-batch-size needs an integer 2..4096";
    o.pretrainBatchSize = static_cast<int>(n);
  }
  if (a.has("pretrain-seed")) {
    if (!parseInt(a.get("pretrain-seed"), 0, 1LL << 62, n)) return "--pretrain-seed needs an integer >= 0";
    o.pretrainSeed = static_cast<std::uint64_t>(n);
  }
  if (a.has("pretrain-lr") && (!parseReal(a.get("pretrain-lr"), o.pretrainLr) || o.pretrainLr <= 0 || o.pretrainLr > 1))
    return "--pretrain-lr needs a number > 0 and <= 1";
  o.pretrainPrecision = a.get("pretrain-precision", "fp32");
  if (o.pretrainPrecision != "fp32" && o.pretrainPrecision != "bf16") return "--pretrain-precision must be fp32 or bf16";
  o.pretrainDir = a.get("pretrain-dir");
  if (a.has("pretrain-dir") && o.pretrainDir.empty()) return "--pretrain-dir needs a folder";
  return "";
}

// Progress of the folds' pretraining on stderr (it takes minutes per fold).
void printProgress(const std::string& stage, int done, int total) {
  if (stage.rfind("pretraining", 0) == 0) std::fprintf(stderr, "%s: epoch %d/%d\n", stage.c_str(), done, total);
}

// Fills the numeric options of the cross-validated request; "" or the usage error.
std::string cvNumbers(const ParsedArgs& a, e2e::jobs::EvaluateCvRequest& o) {
  long long n = 0;
  if (a.has("folds")) {
    if (!parseInt(a.get("folds"), 2, 20, n)) return "--folds needs an integer 2..20";
    o.folds = static_cast<int>(n);
  }
  if (a.has("seed")) {
    if (!parseInt(a.get("seed"), 0, 1LL << 62, n)) return "--seed needs an integer >= 0";
    o.seed = static_cast<std::uint64_t>(n);
  }
  if (a.has("random-seed")) {
    if (!parseInt(a.get("random-seed"), 0, 1LL << 62, n)) return "--random-seed needs an integer >= 0";
    o.randomWeightsSeed = static_cast<std::uint64_t>(n);
  }
  if (a.has("k")) {
    if (!parseInt(a.get("k"), 1, 1000, n)) return "--k needs an integer 1..1000";
    o.knnK = static_cast<int>(n);
  }
  if (a.has("bootstrap")) {
    if (!parseInt(a.get("bootstrap"), 10, 100000, n)) return "--bootstrap needs an integer 10..100000";
    o.bootstrap = static_cast<int>(n);
  }
  if (a.has("threads")) {
    if (!parseInt(a.get("threads"), 1, 256, n)) return "--threads needs an integer 1..256";
    o.threads = static_cast<int>(n);
  }
  if (a.has("l2") && (!parseReal(a.get("l2"), o.l2) || o.l2 <= 0 || o.l2 > 1e6))
    return "--l2 needs a number > 0 and <= 1e6";
  return "";
}

int runCrossValidated(const ParsedArgs& a) {
  e2e::jobs::EvaluateCvRequest o;
  o.dbPath = dbPathFrom(a);
  if (a.has("task") || a.has("model-dir")) return usageError("evaluate", "--task / --model-dir go without --label / --diagnosis");
  if (a.has("label") && a.has("diagnosis")) return usageError("evaluate", "give --label or --diagnosis, not both");
  if (a.has("label")) {
    const auto kv = a.get("label");
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size())
      return usageError("evaluate", "--label needs KEY=VALUE, got '" + kv + "'");
    o.labelKey = kv.substr(0, eq);
    o.labelValue = kv.substr(eq + 1);
  } else {
    o.diagnosis = a.get("diagnosis");
    if (o.diagnosis.empty()) return usageError("evaluate", "--diagnosis needs a statement text or code");
  }
  o.absentIsNegative = a.has("absent-negative");
  if (o.absentIsNegative && o.labelKey.empty()) return usageError("evaluate", "--absent-negative goes with --label");
  o.representations = choice(a.get("representation"), {"encoder", "random", "handcrafted"}, {"ssl-per-fold"});
  if (o.representations.empty())
    return usageError("evaluate", "--representation must be encoder, random, handcrafted, ssl-per-fold or all");
  if (o.representations == std::vector<std::string>{"ssl-per-fold"} && !a.has("pretrain-per-fold"))
    return usageError("evaluate", "--representation ssl-per-fold needs --pretrain-per-fold");
  o.probes = choice(a.get("probe"), {"linear", "knn"});
  if (o.probes.empty()) return usageError("evaluate", "--probe must be linear, knn or all");
  o.model = a.get("model");
  if (auto err = cvNumbers(a, o); !err.empty()) return usageError("evaluate", err);
  if (auto err = pretrainOptions(a, o); !err.empty()) return usageError("evaluate", err);
  o.pathContains = a.get("path-contains");
  if (a.has("path-contains") && o.pathContains.empty()) return usageError("evaluate", "--path-contains needs a text");
  try {
    std::signal(SIGINT, onEvaluateStop);
    std::signal(SIGTERM, onEvaluateStop);
    const auto r = e2e::jobs::runEvaluateCv(o, printProgress, gStop);
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (r.cancelled) {
      std::fprintf(stderr, "echo2ecg evaluate: cancelled (nothing was stored)\n");
      return kInterrupted;
    }
    for (const auto& e : r.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
    if (a.has("json")) printJsonLine(r.toJson());
    else printCvReport(r);
    return r.errors.empty() ? kOk : kFinishedWithProblems;
  } catch (const std::exception& e) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    std::fprintf(stderr, "echo2ecg evaluate: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
}

int runTaskEvaluate(const ParsedArgs& a) {
  e2e::jobs::EvaluateRequest o;
  o.dbPath = dbPathFrom(a);
  o.task = a.get("task");
  o.model = a.get("model");
  o.modelDir = a.get("model-dir");
  if (o.task != "lvef" && o.task != "shd") return usageError("evaluate", "--task must be lvef or shd");
  for (const char* cvOnly : {"folds", "representation", "probe", "k", "l2", "random-seed", "threads", "json",
                             "absent-negative", "path-contains", "pretrain-per-fold", "pretrain-epochs",
                             "pretrain-depth", "pretrain-batch-size", "pretrain-precision", "pretrain-seed",
                             "pretrain-dir", "pretrain-lr"})
    if (a.has(cvOnly))
      return usageError("evaluate", std::string("--") + cvOnly + " goes with --label / --diagnosis, not --task");
  long long n = 0;
  if (a.has("seed")) {
    if (!parseInt(a.get("seed"), 0, 1LL << 62, n)) return usageError("evaluate", "--seed needs an integer >= 0");
    o.seed = static_cast<std::uint64_t>(n);
  }
  if (a.has("bootstrap")) {
    if (!parseInt(a.get("bootstrap"), 10, 100000, n)) return usageError("evaluate", "--bootstrap needs an integer >= 10");
    o.bootstrap = static_cast<int>(n);
  }
  try {
    const auto r = e2e::jobs::runEvaluate(o);
    std::printf("Model %s version %s (task %s, method %s), test split (seed %llu): %zu ECGs\n", r.modelId.c_str(),
                r.version.c_str(), r.task.c_str(), r.method.c_str(), static_cast<unsigned long long>(r.seed),
                r.metrics.n);
    for (const auto& name : e2e::pipeline::classificationMetricNames()) {
      auto it = r.metrics.ci.find(name);
      if (it == r.metrics.ci.end()) continue;
      std::printf("  %-18s %.3f  (95%% CI %.3f-%.3f)\n", name.c_str(), it->second.value, it->second.lower,
                  it->second.upper);
    }
    std::printf("JSON ");
    printJsonLine(r.metrics.toJson());
    return kOk;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg evaluate: %s\n", e2e::errorText(e).c_str());
    return kRuntimeError;
  }
}

int runEvaluateCmd(int argc, char** argv) {
  auto a = parseArgs(argc, argv,
                     {"db", "task", "model", "model-dir", "seed", "bootstrap", "label", "diagnosis", "folds",
                      "representation", "probe", "k", "l2", "random-seed", "threads", "path-contains",
                      "pretrain-epochs", "pretrain-depth", "pretrain-batch-size", "pretrain-precision",
                      "pretrain-seed", "pretrain-dir", "pretrain-lr"},
                     {"json", "absent-negative", "pretrain-per-fold"});
  if (a.help) {
    printEvaluateHelp();
    return kOk;
  }
  if (!a.error.empty()) return usageError("evaluate", a.error);
  if (a.has("label") || a.has("diagnosis")) return runCrossValidated(a);
  return runTaskEvaluate(a);
}
}  // namespace

E2E_REGISTER_COMMAND("evaluate",
                     "evaluate an LVEF / SHD model on the test split, or representations on any label by "
                     "patient-level cross-validation (bootstrap CIs)",
                     runEvaluateCmd);
