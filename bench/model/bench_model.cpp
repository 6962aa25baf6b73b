// ECG-encoder benchmark: inference ms/ECG at batch 1 and 64, contrastive training throughput, the
// same model in PyTorch eager (tools/bench_reference.py) in the same run, and achieved GFLOP/s
// against this CPU's nominal fp32 peak (cores x GHz x FLOP/cycle from /proc/cpuinfo).
// With --bf16, both implementations are measured again under bfloat16 CPU autocast.
//   e2e_bench_model [--no-python] [--bf16] [--iters1 N] [--iters64 N] [--train-iters N] [--train-batch N]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include "../bench_common.h"
#include "model/autocast.h"
#include "model/model.h"
#include "model/train.h"

using namespace e2e::model;

namespace {
using e2e::bench::timed;

struct CpuPeak {
  int cores = 1;
  double ghz = 0;
  int flopsPerCycle = 8;
  std::string model, isa;
  double gflops() const { return cores * ghz * flopsPerCycle; }
};

CpuPeak cpuPeak() {
  CpuPeak p;
  p.cores = static_cast<int>(std::thread::hardware_concurrency());
  std::ifstream f("/proc/cpuinfo");
  std::string line, flags, vendor;
  double mhz = 0;
  while (std::getline(f, line)) {
    auto val = [&] { auto c = line.find(':'); return c == std::string::npos ? std::string() : line.substr(c + 2); };
    if (line.rfind("model name", 0) == 0 && p.model.empty()) p.model = val();
    if (line.rfind("vendor_id", 0) == 0 && vendor.empty()) vendor = val();
    if (line.rfind("cpu MHz", 0) == 0 && mhz == 0) mhz = std::atof(val().c_str());
    if (line.rfind("flags", 0) == 0 && flags.empty()) flags = " " + val() + " ";
  }
  p.ghz = mhz / 1000.0;
  auto has = [&](const char* fl) { return flags.find(std::string(" ") + fl + " ") != std::string::npos; };
  // 2 FMA pipes x lanes x 2 FLOP. AMD (Zen 4) executes AVX-512 as 2 x 256 bit, so it stays at 32.
  if (has("avx512f") && vendor == "GenuineIntel") {
    p.flopsPerCycle = 64;
    p.isa = "AVX-512 FMA";
  } else if (has("fma") && has("avx2")) {
    p.flopsPerCycle = 32;
    p.isa = has("avx512f") ? "AVX-512 (256-bit datapath) FMA" : "AVX2 FMA";
  } else if (has("avx")) {
    p.flopsPerCycle = 16;
    p.isa = "AVX";
  } else {
    p.isa = "SSE";
  }
  return p;
}

double jsonNumber(const std::string& json, const std::string& key) {
  auto k = json.find("\"" + key + "\":");
  if (k == std::string::npos) return -1;
  return std::atof(json.c_str() + k + key.size() + 3);
}
}  // namespace

int main(int argc, char** argv) {
  bool python = true, bf16 = false;
  int iters1 = 5, iters64 = 1, trainIters = 2, trainBatch = 8;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--no-python") python = false;
    else if (a == "--bf16") bf16 = true;
    else if (a == "--iters1") iters1 = next();
    else if (a == "--iters64") iters64 = next();
    else if (a == "--train-iters") trainIters = next();
    else if (a == "--train-batch") trainBatch = next();
  }
  const auto peak = cpuPeak();
  torch::set_num_threads(peak.cores);
  torch::manual_seed(0);
  const double flops = ecgEncoderFlops();

  const double fusedFlops = ecgEncoderFlops({}, /*fused=*/true);

  Echo2Ecg model;
  auto enc = model->ecg_encoder;
  struct Result {
    double b1, b64, step;
  };
  auto measure = [&](bool fused, bool amp) {
    setFusedAttention(fused);
    Result r{};
    enc->eval();
    {
      torch::InferenceMode im;
      Bf16Autocast ac(amp, torch::kCPU);
      auto x1 = torch::randn({1, 12, 1008}), x64 = torch::randn({64, 12, 1008});
      r.b1 = timed([&] { enc->forward(x1); }, 3, iters1);
      r.b64 = timed([&] { enc->forward(x64); }, 0, iters64) / 64;  // warmed up by the batch-1 runs
    }
    TrainConfig cfg;
    cfg.augment = false;
    cfg.warmupEpochs = 0;
    cfg.amp = amp;
    cfg.ampOnCpu = amp;
    ContrastiveTrainer trainer(model, cfg);
    ContrastiveBatch batch{torch::randn({trainBatch, 12, 1008}), torch::randn({trainBatch, 4, 512}),
                           torch::ones({trainBatch, 4}, torch::kBool)};
    r.step = timed([&] { trainer.step(batch, 0.5); }, 1, trainIters);
    return r;
  };
  const Result fusedR = measure(true, false);
  const Result refR = measure(false, false);
  Result fusedBf{}, refBf{};
  if (bf16) {
    fusedBf = measure(true, true);
    refBf = measure(false, true);
  }
  setFusedAttention(true);

  std::printf("CPU: %s, %d logical cores @ %.2f GHz, %s = %d FP32 FLOP/cycle/core -> peak %.1f GFLOP/s\n",
              peak.model.c_str(), peak.cores, peak.ghz, peak.isa.c_str(), peak.flopsPerCycle, peak.gflops());
  std::printf("ECG encoder forward: %.3f GFLOP/ECG as the reference architecture is written, %.3f GFLOP/ECG "
              "executed with the fused attention GEMMs (analytic)\n",
              flops / 1e9, fusedFlops / 1e9);
  std::printf("GFLOP/s columns count the FLOPs each implementation executes.\n");
  std::printf("%-28s %12s %12s %16s %13s %18s\n", "impl", "b1 ms/ECG", "b64 ms/ECG", "b64 GFLOP/s", "train ECG/s",
              "train GFLOP/s(3x)");
  auto row = [&](const char* name, double t1, double t64, double ts, double f) {
    std::printf("%-28s %12.2f %12.2f %9.1f (%3.0f%%) %13.1f %11.1f (%3.0f%%)\n", name, t1 * 1e3, t64 * 1e3,
                f / t64 / 1e9, 100.0 * f / t64 / 1e9 / peak.gflops(), trainBatch / ts, 3 * f * trainBatch / ts / 1e9,
                100.0 * 3 * f * trainBatch / ts / 1e9 / peak.gflops());
  };
  row("libtorch C++ fused", fusedR.b1, fusedR.b64, fusedR.step, fusedFlops);
  row("libtorch C++ reference", refR.b1, refR.b64, refR.step, flops);
  auto runPython = [&](bool amp, const char* name) {
    std::ostringstream cmd;
    cmd << "/usr/bin/python3 " << E2E_SOURCE_DIR << "/tools/bench_reference.py --threads " << peak.cores
        << " --iters1 " << iters1 << " --iters64 " << iters64 << " --train-iters " << trainIters
        << " --train-batch " << trainBatch << (amp ? " --bf16" : "") << " 2>/dev/null";
    std::string out;
    if (FILE* p = popen(cmd.str().c_str(), "r")) {
      char buf[4096];
      while (fgets(buf, sizeof buf, p)) out += buf;
      pclose(p);
    }
    const double p1 = jsonNumber(out, "infer_b1_ms_per_ecg"), p64 = jsonNumber(out, "infer_b64_ms_per_ecg"),
                 ps = jsonNumber(out, "train_step_s");
    if (p1 > 0 && p64 > 0 && ps > 0)
      row(name, p1 / 1e3, p64 / 1e3, ps, flops);
    else
      std::printf("%s: not available (%s)\n", name, out.c_str());
  };
  if (python) runPython(false, "PyTorch eager");
  if (bf16) {
    row("libtorch C++ fused bf16", fusedBf.b1, fusedBf.b64, fusedBf.step, fusedFlops);
    row("libtorch C++ reference bf16", refBf.b1, refBf.b64, refBf.step, flops);
    if (python) runPython(true, "PyTorch eager bf16");
    std::printf("(bf16 rows: bfloat16 CPU autocast; percentages stay against the fp32 peak)\n");
  }
  std::printf("(training step: batch %d ECGs + 4 echo views each, CLIP loss, LLRD AdamW)\n", trainBatch);
  return 0;
}
