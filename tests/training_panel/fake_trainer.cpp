// A stand-in for `echo2ecg train` speaking the protocol of docs/training-protocol.md, fast and
// deterministic, for the panel tests. It really registers the model version in the database on
// `done` (like the job does), writes RUN_DIR/last.ckpt after each epoch and on SIGTERM, and
// resumes from the checkpoint's epoch.
// Environment: FAKE_TRAIN_STEP_MS (sleep per step, default 5), FAKE_TRAIN_SPE (steps per epoch,
// default 4), FAKE_TRAIN_CRASH_EPOCH (abort() at the start of that epoch), FAKE_TRAIN_GARBAGE=1
// (prints malformed lines among the events), FAKE_TRAIN_WAIT_FILE (before each step of epoch >= 1
// wait until this file exists: lets a test cancel at a known point without timing),
// FAKE_TRAIN_EMPTY_CLASS=1 (the 3-class test split has no sample of the second class),
// FAKE_TRAIN_CALIBRATION=1 (the done event carries a "calibration" object like the real job's:
// temperature 1.8, ECE 0.21 -> 0.04 on 20 validation ECGs, three reliability bins each).
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "db/database.h"
#include "viewmodel/training_protocol.h"

namespace fs = std::filesystem;
using e2e::vm::jsonQuote;

namespace {
volatile std::sig_atomic_t g_stop = 0;
void onSignal(int) { g_stop = 1; }

int envInt(const char* k, int def) {
  const char* v = std::getenv(k);
  return v && *v ? std::atoi(v) : def;
}

void emit(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) != "train") {
    std::fprintf(stderr, "fake_trainer: only 'train' is supported\n");
    return 2;
  }
  std::string db, task = "lvef", method = "linear", runDir, filterText, labelKey;
  int epochs = 3;
  bool resume = false, dryRun = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--db") db = val();
    else if (a == "--task") task = val();
    else if (a == "--method") method = val();
    else if (a == "--run-dir") runDir = val();
    else if (a == "--epochs") epochs = std::atoi(val().c_str());
    else if (a == "--filter-text") filterText = val();
    else if (a == "--label-key") labelKey = val();
    else if (a == "--resume") resume = true;
    else if (a == "--dry-run") dryRun = true;
    else if (a == "--json-progress") {}
    else if (a == "--batch-size" || a == "--lr" || a == "--weight-decay" || a == "--seed" || a == "--device" ||
             a == "--base-model") val();
    else {
      std::fprintf(stderr, "fake_trainer: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (db.empty() || runDir.empty() || epochs < 1) {
    std::fprintf(stderr, "fake_trainer: --db, --run-dir and --epochs >= 1 needed\n");
    return 2;
  }
  std::signal(SIGTERM, onSignal);
  std::signal(SIGINT, onSignal);
  const int spe = envInt("FAKE_TRAIN_SPE", 4), stepMs = envInt("FAKE_TRAIN_STEP_MS", 5);
  const int crashEpoch = envInt("FAKE_TRAIN_CRASH_EPOCH", -1);
  const bool garbage = envInt("FAKE_TRAIN_GARBAGE", 0) != 0;
  const char* waitFile = std::getenv("FAKE_TRAIN_WAIT_FILE");
  const fs::path ckpt = fs::path(runDir) / "last.ckpt";

  int startEpoch = 0;
  if (!dryRun) {
    fs::create_directories(runDir);
    if (resume) {
      std::ifstream in(ckpt);
      int done = -1;
      if (!(in >> done)) {
        std::fprintf(stderr, "fake_trainer: --resume but no checkpoint in %s\n", runDir.c_str());
        return 2;
      }
      startEpoch = done + 1;
    } else if (fs::exists(ckpt)) {
      std::fprintf(stderr, "fake_trainer: %s has a checkpoint; use --resume\n", runDir.c_str());
      return 2;
    }
  }

  // The cohort: patients of the database that match the filter.
  e2e::db::Database database(db);
  e2e::db::Filter f;
  f.text = filterText;
  f.labelKey = labelKey;
  const int n = static_cast<int>(database.listPatients(f).size());
  const int nTrain = static_cast<int>(std::lround(n * 0.7)), nVal = static_cast<int>(std::lround(n * 0.15));
  const int nTest = n - nTrain - nVal;
  const bool binary = task == "shd";
  const std::vector<std::string> classes =
      task == "pretrain" ? std::vector<std::string>{} : binary ? std::vector<std::string>{"no SHD", "SHD"}
                                                              : std::vector<std::string>{"<40", "40-49", ">=50"};
  auto counts = [&](int total) {
    std::string s = "[";
    for (std::size_t c = 0; c < classes.size(); ++c) {
      const int k = c + 1 == classes.size() ? total - static_cast<int>(total / classes.size()) * (int)c
                                             : static_cast<int>(total / classes.size());
      s += (c ? "," : "") + std::to_string(k);
    }
    return s + "]";
  };
  auto split = [&](int k) {
    return "{\"patients\":" + std::to_string(k) + ",\"samples\":" + std::to_string(k) + ",\"class_counts\":" +
           counts(k) + "}";
  };
  std::string cls = "[";
  for (std::size_t c = 0; c < classes.size(); ++c) cls += (c ? "," : "") + jsonQuote(classes[c]);
  cls += "]";
  emit("{\"event\":\"start\",\"task\":" + jsonQuote(task) + ",\"method\":" + jsonQuote(method) +
       ",\"run_dir\":" + jsonQuote(runDir) + ",\"device\":\"cpu\",\"total_epochs\":" + std::to_string(epochs) +
       ",\"steps_per_epoch\":" + std::to_string(spe) + ",\"start_epoch\":" + std::to_string(startEpoch) +
       ",\"resumed\":" + (resume ? "true" : "false") + ",\"classes\":" + cls + ",\"split\":{\"train\":" +
       split(nTrain) + ",\"val\":" + split(nVal) + ",\"test\":" + split(nTest) + "},\"synthetic_data\":true}");
  std::fprintf(stderr, "fake_trainer: %d patients, epochs %d..%d\n", n, startEpoch, epochs - 1);
  if (dryRun) return 0;

  auto writeCkpt = [&](int doneEpoch) {
    std::ofstream(ckpt) << doneEpoch << "\n";
  };
  int lastDone = startEpoch - 1;
  const auto t0 = std::chrono::steady_clock::now();
  for (int e = startEpoch; e < epochs; ++e) {
    if (e == crashEpoch) {
      std::fprintf(stderr, "fake_trainer: simulated crash\n");
      std::abort();
    }
    for (int s = 1; s <= spe; ++s) {
      if (waitFile && e >= 1)
        while (!fs::exists(waitFile) && !g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (g_stop) {
        writeCkpt(lastDone);
        emit("{\"event\":\"checkpoint\",\"epoch\":" + std::to_string(lastDone) + ",\"path\":" +
             jsonQuote(ckpt.string()) + "}");
        // Like the real job: `epoch` is the interrupted epoch, redone on resume.
        emit("{\"event\":\"cancelled\",\"epoch\":" + std::to_string(e) + ",\"checkpoint\":" +
             jsonQuote(ckpt.string()) + "}");
        return 130;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(stepMs));
      const double g = e * spe + s;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      emit("{\"event\":\"step\",\"epoch\":" + std::to_string(e) + ",\"step\":" + std::to_string(s) +
           ",\"total_steps\":" + std::to_string(epochs * spe) + ",\"loss\":" + std::to_string(1.2 / (1 + 0.1 * g)) +
           ",\"lr\":0.0005,\"elapsed_s\":" + std::to_string(elapsed) + "}");
      if (garbage && s == 1) {
        emit("this is not json");
        emit("{\"event\":\"step\",\"loss\":");
        emit("{\"event\":\"mystery\"}");
      }
    }
    const double tl = 1.0 / (1 + 0.3 * e), vl = 1.1 / (1 + 0.25 * e), auc = 0.6 + 0.05 * e;
    emit("{\"event\":\"epoch\",\"epoch\":" + std::to_string(e) + ",\"train_loss\":" + std::to_string(tl) +
         ",\"val_loss\":" + std::to_string(vl) + ",\"val_metrics\":{\"accuracy\":" + std::to_string(0.5 + 0.04 * e) +
         ",\"balanced_accuracy\":" + std::to_string(0.45 + 0.04 * e) + ",\"auroc\":" + std::to_string(auc) + "}}");
    writeCkpt(e);
    lastDone = e;
    emit("{\"event\":\"checkpoint\",\"epoch\":" + std::to_string(e) + ",\"path\":" + jsonQuote(ckpt.string()) + "}");
  }

  // Done: weights, registry entry, result.
  const std::string modelId = "echo2ecg-" + task;
  int version = 1;
  for (const auto& m : database.listModels())
    if (m.modelId == modelId) version = std::max(version, std::atoi(m.version.c_str()) + 1);
  const fs::path weights = fs::path(runDir) / "model.pt";
  std::ofstream(weights) << "fake weights " << modelId << " " << version << "\n";
  const std::string hash = std::string(64, 'a').replace(0, std::to_string(version).size(), std::to_string(version));
  const std::string metrics = "{\"accuracy\":0.71,\"balanced_accuracy\":0.66,\"f1\":0.62,\"auroc\":0.83,\"auroc_ci\":[0.74,0.9]}";
  e2e::db::ModelRow row;
  row.modelId = modelId;
  row.version = std::to_string(version);
  row.parent = task == "pretrain" ? "" : "echo2ecg-pretrain:1";
  row.weightsHash = hash;
  row.cardJson = "{\"data\":{\"patients\":" + std::to_string(n) + ",\"filter\":" + jsonQuote(filterText) +
                 ",\"label_key\":" + jsonQuote(labelKey) + ",\"synthetic\":true},\"recipe\":{\"task\":" +
                 jsonQuote(task) + ",\"method\":" + jsonQuote(method) + ",\"epochs\":" + std::to_string(epochs) +
                 "},\"metrics\":" + metrics + "}";
  database.registerModel(row);
  std::string roc, confusion;
  const std::string curve = "\"fpr\":[0,0.1,0.25,0.5,1],\"tpr\":[0,0.45,0.7,0.9,1]";
  if (classes.empty()) {
    roc = "[]";
    confusion = "[]";
  } else if (binary) {
    roc = "{" + curve + "}";
    confusion = "[[9,2],[3,6]]";
  } else {
    roc = "[";
    const char* curves[] = {"\"fpr\":[0,0.1,0.25,0.5,1],\"tpr\":[0,0.55,0.8,0.95,1]",
                            "\"fpr\":[0,0.15,0.35,0.6,1],\"tpr\":[0,0.3,0.55,0.8,1]",
                            "\"fpr\":[0,0.05,0.2,0.45,1],\"tpr\":[0,0.6,0.85,0.97,1]"};
    for (std::size_t c = 0; c < classes.size(); ++c)
      roc += std::string(c ? "," : "") + "{\"class\":" + jsonQuote(classes[c]) + "," + curves[c % 3] + "}";
    roc += "]";
    confusion = envInt("FAKE_TRAIN_EMPTY_CLASS", 0) ? "[[4,1,0],[0,0,0],[0,1,8]]" : "[[4,1,0],[1,3,2],[0,1,8]]";
  }
  // The shape of jobs/train/trust_fit.cpp calibrationJson (bins of width 1/15).
  const std::string calibration =
      !envInt("FAKE_TRAIN_CALIBRATION", 0)
          ? ""
          : ",\"calibration\":{\"method\":\"temperature scaling\",\"fitted_on\":\"val\",\"temperature\":1.8,"
            "\"n_val\":20,\"bins\":15,\"ece_before\":0.21,\"ece_after\":0.04,\"reliability_before\":["
            "{\"lower\":0.3333333,\"upper\":0.4,\"count\":5,\"confidence\":0.37,\"accuracy\":0.2},"
            "{\"lower\":0.6,\"upper\":0.6666667,\"count\":8,\"confidence\":0.63,\"accuracy\":0.45},"
            "{\"lower\":0.9333333,\"upper\":1,\"count\":7,\"confidence\":0.97,\"accuracy\":0.7}],"
            "\"reliability_after\":["
            "{\"lower\":0.3333333,\"upper\":0.4,\"count\":6,\"confidence\":0.35,\"accuracy\":0.33},"
            "{\"lower\":0.5333333,\"upper\":0.6,\"count\":8,\"confidence\":0.55,\"accuracy\":0.5},"
            "{\"lower\":0.8,\"upper\":0.8666667,\"count\":6,\"confidence\":0.83,\"accuracy\":0.83},"
            "{\"lower\":0.8666667,\"upper\":0.9333333,\"count\":0,\"confidence\":0,\"accuracy\":0}]}";
  emit("{\"event\":\"done\",\"model_id\":" + jsonQuote(modelId) + ",\"version\":" + jsonQuote(row.version) +
       ",\"parent\":" + jsonQuote(row.parent) + ",\"weights_hash\":" + jsonQuote(hash) + ",\"weights_path\":" +
       jsonQuote(weights.string()) + ",\"test_metrics\":" + metrics + ",\"roc\":" + roc + ",\"confusion\":" +
       confusion + ",\"classes\":" + cls + calibration + "}");
  return 0;
}
