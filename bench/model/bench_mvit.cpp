// MViT-v2-S (EchoPrime's video encoder, core/model/mvit.h) per 1 x 3 x 16 x 224 x 224 clip: libtorch
// C++ in fp32, fp32 channels-last input and under bfloat16 autocast, and in the same run torchvision
// 0.14's mvit_v2_s in PyTorch eager (tools/bench_reference.py --mvit), fp32 and bf16. Random weights
// (speed does not depend on them). Prints s/clip and the ratio to torchvision eager fp32.
//   e2e_bench_mvit [--clips 3] [--threads 2] [--no-python] [--no-bf16]
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "../bench_common.h"
#include "model/autocast.h"
#include "model/mvit.h"

using namespace e2e::model;

namespace {

using e2e::bench::timed;

double jsonNumber(const std::string& json, const std::string& key) {
  auto k = json.find("\"" + key + "\":");
  if (k == std::string::npos) return -1;
  return std::atof(json.c_str() + k + key.size() + 3);
}

double loadAverage() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

}  // namespace

int main(int argc, char** argv) {
  int clips = 3, threads = 2;
  bool python = true, bf16 = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--clips") clips = next();
    else if (a == "--threads") threads = next();
    else if (a == "--no-python") python = false;
    else if (a == "--no-bf16") bf16 = false;
  }
  torch::set_num_threads(threads);
  torch::manual_seed(0);
  std::printf("load average at start: %.2f; %d threads; %d timed clips each (after 1 warm-up)\n", loadAverage(),
              threads, clips);
  std::printf("MViT-v2-S forward: %.1f GFLOP/clip (analytic)\n", mvitFlops() / 1e9);
  Mvit net;
  net->eval();
  const auto clip = torch::randn({1, 3, 16, 224, 224});
  struct Row {
    std::string name;
    double s;
  };
  std::vector<Row> rows;
  auto cpp = [&](const char* name, bool amp, bool channelsLast) {
    torch::InferenceMode im;
    Bf16Autocast ac(amp, torch::kCPU);
    const auto x = channelsLast ? clip.contiguous(at::MemoryFormat::ChannelsLast3d) : clip;
    torch::Tensor out;
    const double s = timed([&] { out = net->forward(x); }, 1, clips);
    std::printf("%-40s %8.3f s/clip (load %.2f)\n", name, s, loadAverage());
    std::fflush(stdout);
    rows.push_back({name, s});
  };
  cpp("libtorch C++ fp32", false, false);
  cpp("libtorch C++ fp32, channels-last input", false, true);
  if (bf16) cpp("libtorch C++ bf16 autocast", true, false);
  double eager = -1;
  if (python) {
    for (bool amp : {false, true}) {
      if (amp && !bf16) continue;
      const std::string cmd = "/usr/bin/python3 " + std::string(E2E_SOURCE_DIR) +
                              "/tools/bench_reference.py --mvit --threads " + std::to_string(threads) +
                              " --clips " + std::to_string(clips) + (amp ? " --bf16" : "") + " 2>/dev/null";
      std::string out;
      if (FILE* p = popen(cmd.c_str(), "r")) {
        char buf[4096];
        while (fgets(buf, sizeof buf, p)) out += buf;
        pclose(p);
      }
      const double s = jsonNumber(out, "mvit_s_per_clip");
      std::printf("torchvision eager %s: %s", amp ? "bf16" : "fp32", out.c_str());
      if (s <= 0) continue;
      rows.push_back({std::string("torchvision eager ") + (amp ? "bf16" : "fp32"), s});
      if (!amp) eager = s;
    }
  }
  std::printf("\n%-40s %10s %22s\n", "what", "s/clip", "speed x eager fp32");
  for (const auto& r : rows)
    std::printf("%-40s %10.3f %22s\n", r.name.c_str(), r.s,
                eager > 0 ? std::to_string(eager / r.s).substr(0, 5).c_str() : "-");
  std::printf("load average at end: %.2f\n", loadAverage());
  return 0;
}
