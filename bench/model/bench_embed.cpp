// The embed job end to end (issue 21): N real 12-lead ECGs (LUDB, 500 Hz, 10 s) imported into a
// scratch study database, a 12-block ECG encoder bundle (OTiS baseDeep: 12 blocks, width 192; random
// weights), then jobs::runEmbed (read, preprocess, encode, store) in fp32 and bf16, one batch after
// the other and pipelined (the next batch read on a second thread), and in the same run PyTorch
// eager (tools/bench_reference.py --batches) on the same encoder alone at several batch sizes.
// Prints ECGs/s and the ratio to eager fp32 at its best batch size.
//   e2e_bench_embed [--n 200] [--batch 16[,32..]] [--threads 2] [--py-batches 1,8,16,32,64]
//                   [--py-ecgs 64] [--no-python] [--no-sequential] [--no-fp32]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "pipeline/data.h"
#include "db/database.h"
#include "io/reader.h"
#include "jobs/embed.h"
#include "pipeline/bundle.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<int> intList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (std::atoi(tok.c_str()) > 0) out.push_back(std::atoi(tok.c_str()));
  return out;
}

// LUDB records 1..n (as the files are numbered) imported into `dbPath`; returns how many.
int importLudb(const fs::path& dbPath, int n) {
  const fs::path dir = fs::path(E2E_DATA_DIR) / "ecg_wfdb" / "ludb" / "data";
  db::Database db(dbPath.string());
  int count = 0;
  for (int i = 1; count < n && i <= 10 * n; ++i) {
    const fs::path hea = dir / (std::to_string(i) + ".hea");
    if (!fs::exists(hea)) continue;
    auto obj = readAny(hea.string());
    if (!std::holds_alternative<EcgRecord>(obj)) continue;
    db.insertEcg(std::get<EcgRecord>(obj),
                 {hea.string(), fs::file_size(hea), pipeline::instanceContentHash(hea.string())});
    ++count;
  }
  return count;
}

double jsonNumber(const std::string& json, const std::string& key) {
  auto k = json.find("\"" + key + "\":");
  if (k == std::string::npos) return -1;
  return std::atof(json.c_str() + k + key.size() + 3);
}

std::string runPython(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + std::string(E2E_SOURCE_DIR) + "/tools/bench_reference.py " + args +
                          " 2>/dev/null";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  return out;
}

double loadAverage() {
  std::ifstream f("/proc/loadavg");
  double l = -1;
  f >> l;
  return l;
}

struct Row {
  std::string name;
  double ecgsPerS;
};

}  // namespace

int main(int argc, char** argv) {
  int n = 200, threads = 2, pyEcgs = 64;
  std::string batches = "16", pyBatches = "1,8,16,32,64";
  bool python = true, sequential = true, fp32 = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--n") n = std::atoi(next().c_str());
    else if (a == "--batch") batches = next();
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--py-batches") pyBatches = next();
    else if (a == "--py-ecgs") pyEcgs = std::atoi(next().c_str());
    else if (a == "--no-python") python = false;
    else if (a == "--no-sequential") sequential = false;
    else if (a == "--no-fp32") fp32 = false;
  }
  const fs::path dir = fs::temp_directory_path() / ("e2e_bench_embed_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::printf("load average at start: %.2f\n", loadAverage());
  auto t0 = std::chrono::steady_clock::now();
  const int imported = importLudb(dir / "base.db", n);
  std::printf("imported %d LUDB records in %.2f s (not timed below)\n", imported, seconds(t0));
  pipeline::Bundle b = pipeline::freshBundle(12, 112, 7);
  pipeline::saveBundle(b, (dir / "bundle").string());
  std::printf("bundle: ECG encoder %lld blocks, width %lld, random weights\n",
              static_cast<long long>(b.ecgCfg.depth), static_cast<long long>(b.ecgCfg.dim));

  std::vector<Row> rows;
  int run = 0;
  auto embed = [&](model::Precision p, bool pipelined, int batch) {
    const fs::path dbPath = dir / ("run" + std::to_string(run++) + ".db");
    fs::copy_file(dir / "base.db", dbPath);
    db::Database db(dbPath.string());
    jobs::EmbedRequest req;
    req.model = (dir / "bundle").string();
    req.threads = threads;
    req.device = "cpu";
    req.precision = p;
    req.pipelined = pipelined;
    req.batchSize = batch;
    const auto t = std::chrono::steady_clock::now();
    const auto rep = jobs::runEmbed(db, req);
    const double s = seconds(t);
    char name[128];
    std::snprintf(name, sizeof name, "C++ embed job %s, %s, batch %d", model::precisionName(p),
                  pipelined ? "pipelined" : "sequential", batch);
    std::printf("%-48s %6d ECGs in %7.2f s = %6.2f ECGs/s (errors %d, load %.2f)\n", name, rep.ecgAdded, s,
                rep.ecgAdded / s, rep.errors, loadAverage());
    std::fflush(stdout);
    rows.push_back({name, rep.ecgAdded / s});
    fs::remove(dbPath);
  };
  for (int batch : intList(batches)) {
    for (auto p : {model::Precision::Fp32, model::Precision::Bf16}) {
      if (p == model::Precision::Fp32 && !fp32) continue;
      if (sequential) embed(p, false, batch);
      embed(p, true, batch);
    }
  }
  double eager = -1;
  if (python) {
    const std::string common = "--threads " + std::to_string(threads) + " --batches " + pyBatches + " --ecgs " +
                               std::to_string(pyEcgs);
    for (bool amp : {false, true}) {
      const std::string out = runPython(common + (amp ? " --bf16" : ""));
      const double best = jsonNumber(out, "best_ecgs_per_s");
      std::printf("PyTorch eager %s, encoder alone: %s", amp ? "bf16" : "fp32", out.c_str());
      if (best <= 0) continue;
      rows.push_back({std::string("PyTorch eager ") + (amp ? "bf16" : "fp32") + ", encoder alone, best batch " +
                          std::to_string(static_cast<int>(jsonNumber(out, "best_batch"))),
                      best});
      if (!amp) eager = best;
    }
  }
  std::printf("\n%-60s %10s %18s\n", "what", "ECGs/s", "x eager fp32 best");
  for (const auto& r : rows)
    std::printf("%-60s %10.2f %18s\n", r.name.c_str(), r.ecgsPerS,
                eager > 0 ? std::to_string(r.ecgsPerS / eager).substr(0, 5).c_str() : "-");
  std::printf("load average at end: %.2f\n", loadAverage());
  fs::remove_all(dir);
  return 0;
}
