// Retrieval-index benchmark CLI: EmbeddingIndex at 10^4..10^6 studies of 512-d embeddings.
// Measures build time, memory, query latency of the exact path and of HNSW, and HNSW recall@k
// against exact search on the same queries.
//   bench_retrieval [--n N]... [--queries Q] [--k K] [--dim D] [--clusters C] [--build-threads T (0 = all)]
//                   [--exact-only] [--ef EF_SEARCH]... (HNSW rows per efSearch on one build; default: the index default)
//                   [--persist DIR] (time saveGraph, then loadGraph into a second index of the same content, and
//                   check that it answers exactly as the built one)
// Data: unit vectors drawn around C random centres (embeddings of real cohorts are clustered by
// phenotype; uniform random vectors in 512-d are HNSW's worst case and are not what it indexes).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "retrieval/embedding_index.h"

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
long rssKiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> sizes;
  int queries = 200, k = 10, dim = 512, clusters = 64, threads = 1;
  bool exactOnly = false;
  std::vector<int> efs;
  std::string persistDir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atol(argv[++i]) : 0L; };
    if (a == "--n") sizes.push_back(static_cast<std::size_t>(next()));
    else if (a == "--queries") queries = static_cast<int>(next());
    else if (a == "--k") k = static_cast<int>(next());
    else if (a == "--dim") dim = static_cast<int>(next());
    else if (a == "--clusters") clusters = static_cast<int>(next());
    else if (a == "--build-threads") threads = static_cast<int>(next());
    else if (a == "--exact-only") exactOnly = true;
    else if (a == "--ef") efs.push_back(static_cast<int>(next()));
    else if (a == "--persist" && i + 1 < argc) persistDir = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_retrieval [--n N]... [--queries Q] [--k K] [--dim D] [--clusters C] [--build-threads T] [--exact-only] [--ef EF_SEARCH]... [--persist DIR]\n");
      return 2;
    }
  }
  if (sizes.empty()) sizes = {10000, 100000};
  if (efs.empty()) efs = {e2e::EmbeddingIndex::Options{}.hnswEfSearch};
  std::printf("dim %d, %d clusters, %d queries, k %d (HNSW M 16, efConstruction 200, %d build thread(s))\n", dim, clusters, queries, k, threads);
  std::printf("%10s %10s %12s %12s %14s %14s %12s\n", "studies", "path", "build s", "RSS MiB", "query ms (mean)",
              "queries/s", "recall@k");
  for (std::size_t n : sizes) {
    std::mt19937_64 rng(7);
    std::normal_distribution<float> g(0.f, 1.f);
    std::vector<float> centres(static_cast<std::size_t>(clusters) * dim);
    for (auto& c : centres) c = g(rng);
    auto draw = [&](std::vector<float>& v) {
      const std::size_t c = rng() % clusters;
      for (int d = 0; d < dim; ++d) v[d] = centres[c * dim + d] + 0.7f * g(rng);
    };
    const long rss0 = rssKiB();
    e2e::EmbeddingIndex::Options opts;  // production defaults: HNSW above 20,000 items
    opts.buildThreads = threads;
    if (exactOnly) opts.hnswThreshold = 0;
    e2e::EmbeddingIndex index(dim, opts);
    std::vector<float> v(dim);
    std::vector<float> kept;  // --persist: the same content for the reloaded index
    double t0 = now();
    for (std::size_t i = 0; i < n; ++i) {
      draw(v);
      index.add(static_cast<std::int64_t>(i), static_cast<std::int64_t>(i / 4), v);
      if (!persistDir.empty()) kept.insert(kept.end(), v.begin(), v.end());
    }
    const double addS = now() - t0;
    t0 = now();
    index.build();
    const double buildS = now() - t0;
    const double rssMiB = (rssKiB() - rss0) / 1024.0;
    std::vector<std::vector<float>> qs(queries, std::vector<float>(dim));
    for (auto& q : qs) draw(q);
    std::vector<std::vector<e2e::SearchHit>> exact(queries), approx(queries);
    t0 = now();
    for (int i = 0; i < queries; ++i) exact[i] = index.searchExact(qs[i].data(), k, i % 7);
    const double exactMs = (now() - t0) * 1e3 / queries;
    std::printf("%10zu %10s %12.2f %12.0f %14.3f %14.0f %12s\n", n, "exact", addS, rssMiB, exactMs, 1e3 / exactMs,
                "1 (truth)");
    if (index.usesHnsw()) {
      for (int ef : efs) {
        index.setEfSearch(ef);
        t0 = now();
        for (int i = 0; i < queries; ++i) approx[i] = index.search(qs[i].data(), k, i % 7);
        const double hnswMs = (now() - t0) * 1e3 / queries;
        double hit = 0;
        for (int i = 0; i < queries; ++i) {
          std::set<std::int64_t> truth;
          for (const auto& h : exact[i]) truth.insert(h.id);
          for (const auto& h : approx[i]) hit += truth.count(h.id);
        }
        const std::string path = "hnsw ef" + std::to_string(ef);
        std::printf("%10zu %10s %12.2f %12s %14.3f %14.0f %12.4f\n", n, path.c_str(), buildS, "(incl.)", hnswMs,
                    1e3 / hnswMs, hit / (static_cast<double>(queries) * k));
        std::fflush(stdout);
      }
    }
    if (!persistDir.empty() && index.usesHnsw()) {
      const std::string file = persistDir + "/bench_" + std::to_string(n) + ".hnsw";
      t0 = now();
      index.saveGraph(file);
      const double saveS = now() - t0;
      e2e::EmbeddingIndex again(dim, opts);
      for (std::size_t i = 0; i < n; ++i)
        again.add(static_cast<std::int64_t>(i), static_cast<std::int64_t>(i / 4), kept.data() + i * dim);
      t0 = now();
      const bool loaded = again.loadGraph(file);
      const double loadS = now() - t0;
      bool same = loaded;
      for (int i = 0; i < queries && same; ++i) {
        auto a = index.search(qs[i].data(), k, i % 7), b = again.search(qs[i].data(), k, i % 7);
        same = a.size() == b.size();
        for (std::size_t j = 0; same && j < a.size(); ++j) same = a[j].id == b[j].id && a[j].similarity == b[j].similarity;
      }
      std::printf("persist n=%zu: build %.1f s, saveGraph %.2f s, loadGraph %.2f s (fingerprint + checksum + graph), "
                  "file %.0f MiB, reloaded answers identical: %s\n",
                  n, buildS, saveS, loadS, static_cast<double>(std::filesystem::file_size(file)) / (1 << 20),
                  same ? "yes" : "NO");
      std::filesystem::remove(file);
    }
    std::fflush(stdout);
  }
  return 0;
}
