// Retrieval-index benchmark CLI: EmbeddingIndex at 10^4..10^6 studies of 512-d embeddings.
// Measures in one run: build time and memory, query latency (mean, p50, p99) of the exact path and
// of the IVF index per nprobe, recall@k of the IVF index against exact search on the same queries,
// and (--persist) saving the index, then loading it into an index holding the same studies plus
// --append new ones (load + add + save, the retrieve job's path when studies were added).
//   bench_retrieval [--n N]... [--queries Q] [--k K] [--dim D] [--clusters C] [--nprobe P]...
//                   [--exact-only] [--persist DIR] [--append A (default 1000)]
// Data: unit vectors drawn around C random centres (embeddings of real cohorts are clustered by
// phenotype); queries are drawn the same way from their own generator.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <time.h>

#include "retrieval/embedding_index.h"

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// CPU seconds of this thread / of the whole process (all threads): unlike wall time, not
// inflated when other jobs share the cores.
double cpuNow(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}
long procStatusKiB(const char* key) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::string(key).size());
  return 0;
}

// Unit-free vectors around fixed random centres; the same seed gives the same stream.
struct Generator {
  int dim, clusters;
  std::vector<float> centres;
  std::mt19937_64 rng;
  std::normal_distribution<float> g{0.f, 1.f};
  Generator(int d, int c, std::uint64_t seed) : dim(d), clusters(c), centres(std::size_t(c) * d), rng(7) {
    for (auto& x : centres) x = g(rng);  // the centres are the same for every generator
    rng.seed(seed);
  }
  void draw(std::vector<float>& v) {
    const std::size_t c = rng() % clusters;
    for (int d = 0; d < dim; ++d) v[d] = centres[c * dim + d] + 0.7f * g(rng);
  }
};

void fill(e2e::EmbeddingIndex& index, std::size_t n, int dim, int clusters) {
  Generator gen(dim, clusters, 11);
  std::vector<float> v(dim);
  for (std::size_t i = 0; i < n; ++i) {
    gen.draw(v);
    index.add(static_cast<std::int64_t>(i), static_cast<std::int64_t>(i / 4), v);
  }
}

struct Latency {
  double mean = 0, p50 = 0, p99 = 0, cpuMean = 0, cpuP99 = 0;
};
Latency summarise(std::vector<double> ms) {
  Latency l;
  if (ms.empty()) return l;
  for (double x : ms) l.mean += x;
  l.mean /= ms.size();
  std::sort(ms.begin(), ms.end());
  l.p50 = ms[ms.size() / 2];
  l.p99 = ms[std::min(ms.size() - 1, static_cast<std::size_t>(0.99 * ms.size()))];
  return l;
}

using Results = std::vector<std::vector<e2e::SearchHit>>;
// Runs every query through search (approximate) or searchExact; returns the per-query latencies.
Latency runQueries(const e2e::EmbeddingIndex& index, const std::vector<std::vector<float>>& qs, int k, bool exact,
                   Results& out) {
  std::vector<double> ms, cpu;
  out.assign(qs.size(), {});
  for (std::size_t i = 0; i < qs.size(); ++i) {
    const double t0 = now(), c0 = cpuNow(CLOCK_THREAD_CPUTIME_ID);
    out[i] = exact ? index.searchExact(qs[i].data(), k, static_cast<std::int64_t>(i % 7))
                   : index.search(qs[i].data(), k, static_cast<std::int64_t>(i % 7));
    ms.push_back((now() - t0) * 1e3);
    cpu.push_back((cpuNow(CLOCK_THREAD_CPUTIME_ID) - c0) * 1e3);
  }
  Latency l = summarise(ms);
  const Latency c = summarise(cpu);
  l.cpuMean = c.mean, l.cpuP99 = c.p99;
  return l;
}
double recall(const Results& truth, const Results& got, int k) {
  double hit = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    std::set<std::int64_t> t;
    for (const auto& h : truth[i]) t.insert(h.id);
    for (const auto& h : got[i]) hit += t.count(h.id);
  }
  return hit / (static_cast<double>(truth.size()) * k);
}
void row(std::size_t n, const std::string& path, double buildS, const std::string& rss, const Latency& l,
         const std::string& rec) {
  std::printf("%9zu %14s %9.1f %9s %9.3f %9.3f %9.3f %10s %9.3f %9.3f\n", n, path.c_str(), buildS, rss.c_str(), l.mean,
              l.p50, l.p99, rec.c_str(), l.cpuMean, l.cpuP99);
  std::fflush(stdout);
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes, probes;
  int queries = 200, k = 10, dim = 512, clusters = 64;
  std::size_t append = 1000;
  bool exactOnly = false;
  std::string persistDir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atol(argv[++i]) : 0L; };
    if (a == "--n") sizes.push_back(static_cast<std::size_t>(next()));
    else if (a == "--queries") queries = static_cast<int>(next());
    else if (a == "--k") k = static_cast<int>(next());
    else if (a == "--dim") dim = static_cast<int>(next());
    else if (a == "--clusters") clusters = static_cast<int>(next());
    else if (a == "--nprobe") probes.push_back(static_cast<std::size_t>(next()));
    else if (a == "--append") append = static_cast<std::size_t>(next());
    else if (a == "--exact-only") exactOnly = true;
    else if (a == "--persist" && i + 1 < argc) persistDir = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_retrieval [--n N]... [--queries Q] [--k K] [--dim D] [--clusters C] "
                           "[--nprobe P]... [--exact-only] [--persist DIR] [--append A]\n");
      return 2;
    }
  }
  if (sizes.empty()) sizes = {10000, 100000};
  if (probes.empty()) probes = {e2e::EmbeddingIndex::Options{}.nprobe};
  if (queries <= 0 || k <= 0 || dim <= 0 || clusters <= 0) return 2;
  std::printf("dim %d, %d clusters, %d queries, k %d, same-patient exclusion on every query\n", dim, clusters, queries, k);
  std::printf("%9s %14s %9s %9s %9s %9s %9s %10s %9s %9s\n", "studies", "path", "build s", "RSS MiB", "mean ms", "p50 ms",
              "p99 ms", "recall@k", "cpu mean", "cpu p99");
  for (std::size_t n : sizes) {
    Generator qgen(dim, clusters, 23);
    std::vector<std::vector<float>> qs(queries, std::vector<float>(dim));
    for (auto& q : qs) qgen.draw(q);
    e2e::EmbeddingIndex::Options opts;  // production defaults: exact up to 20,000 items, IVF beyond
    if (exactOnly) opts.exactThreshold = 0;
    const long rss0 = procStatusKiB("VmRSS:");
    auto index = std::make_unique<e2e::EmbeddingIndex>(dim, opts);
    double t0 = now();
    fill(*index, n, dim, clusters);
    const double addS = now() - t0;
    const long rssAdded = procStatusKiB("VmRSS:");
    t0 = now();
    double c0 = cpuNow(CLOCK_PROCESS_CPUTIME_ID);
    index->build();
    const double buildS = now() - t0, buildCpu = cpuNow(CLOCK_PROCESS_CPUTIME_ID) - c0;
    std::printf("build: %.1f s wall, %.1f s CPU (all threads)\n", buildS, buildCpu);
    const long rssBuilt = procStatusKiB("VmRSS:");
    Results exact, approx;
    const Latency le = runQueries(*index, qs, k, true, exact);
    row(n, "exact", addS, std::to_string((rssAdded - rss0) / 1024), le, "1 (truth)");
    if (index->usesApproximate()) {
      for (std::size_t p : probes) {
        index->setNprobe(p);
        const Latency la = runQueries(*index, qs, k, false, approx);
        char rec[32];
        std::snprintf(rec, sizeof rec, "%.4f", recall(exact, approx, k));
        row(n, "ivf" + std::to_string(index->nlist()) + " np" + std::to_string(p), buildS,
            std::to_string((rssBuilt - rss0) / 1024), la, rec);
      }
      index->setNprobe(opts.nprobe);
    }
    if (!persistDir.empty() && index->usesApproximate()) {
      const std::string file = persistDir + "/bench_" + std::to_string(n) + ".ivf";
      t0 = now();
      index->save(file);
      const double saveS = now() - t0;
      index.reset();  // frees the first index before the second is filled
      e2e::EmbeddingIndex again(dim, opts);
      fill(again, n + append, dim, clusters);  // the same n studies, then `append` new ones
      t0 = now();
      c0 = cpuNow(CLOCK_PROCESS_CPUTIME_ID);
      const auto res = again.load(file);
      const double loadS = now() - t0;
      again.save(file);
      const double totalS = now() - t0, totalCpu = cpuNow(CLOCK_PROCESS_CPUTIME_ID) - c0;
      std::printf("load + add + save: %.2f s CPU (all threads)\n", totalCpu);
      Results exact2, approx2;  // recall after the append, on the first 50 queries (exact search is slow)
      const std::vector<std::vector<float>> some(qs.begin(), qs.begin() + std::min<std::size_t>(qs.size(), 50));
      runQueries(again, some, k, true, exact2);
      runQueries(again, some, k, false, approx2);
      std::printf("persist n=%zu: full build %.1f s, save %.2f s, file %.1f MiB; %zu studies added to the saved index: "
                  "load+add %.2f s + save %.2f s = %.2f s (%s), recall@%d after %.4f\n",
                  n, buildS, saveS, static_cast<double>(std::filesystem::file_size(file)) / (1 << 20), append, loadS,
                  totalS - loadS, totalS, res == e2e::EmbeddingIndex::LoadResult::Appended ? "appended, no rebuild" : "NOT appended",
                  k, recall(exact2, approx2, k));
      std::filesystem::remove(file);
    }
    std::printf("peak RSS %ld MiB\n", procStatusKiB("VmHWM:") / 1024);
    std::fflush(stdout);
  }
  return 0;
}
