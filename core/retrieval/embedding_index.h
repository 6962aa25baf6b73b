// Nearest-neighbour search over L2-normalised embeddings by cosine similarity.
// Exact (blocked brute force) below a size threshold, HNSW (hnswlib) above it, so that
// an ECG -> echo-study query stays fast at a million studies. Qt- and torch-free.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace e2e {

struct SearchHit {
  std::int64_t id = -1;     // caller's id (e.g. study row id)
  std::int64_t group = -1;  // caller's group (e.g. patient row id), used for exclusion
  float similarity = 0.f;   // cosine similarity in [-1, 1]
};

class EmbeddingIndex {
 public:
  struct Options {
    // Exact search up to this many items; HNSW beyond (0 = always exact).
    std::size_t hnswThreshold = 20000;
    int hnswM = 16;
    int hnswEfConstruction = 200;
    int hnswEfSearch = 2048;  // measured: recall@10 0.994 at 10^6 studies, 7 ms (docs/benchmarks.md)
    std::uint64_t seed = 100;
    // HNSW insertion threads (0 = all cores). 1 keeps the graph, and so every approximate result,
    // reproducible run to run; more threads build faster but insert in a nondeterministic order.
    int buildThreads = 1;
  };

  explicit EmbeddingIndex(int dim);
  EmbeddingIndex(int dim, Options opts);
  ~EmbeddingIndex();
  EmbeddingIndex(EmbeddingIndex&&) noexcept;
  EmbeddingIndex& operator=(EmbeddingIndex&&) noexcept;

  int dim() const { return dim_; }
  std::size_t size() const { return ids_.size(); }
  bool usesHnsw() const;
  // HNSW search breadth (recall against speed); takes effect on the next search.
  void setEfSearch(int ef) { opts_.hnswEfSearch = ef > 0 ? ef : 1; }

  // Adds one embedding (normalised internally). Throws std::invalid_argument on a wrong
  // dimension, a non-finite value, a zero vector or a duplicate id.
  void add(std::int64_t id, std::int64_t group, const float* vec);
  void add(std::int64_t id, std::int64_t group, const std::vector<float>& vec);

  // Builds the approximate index if the size calls for it (called lazily by search too).
  void build();

  // Top-k by cosine similarity, best first. Items whose group equals excludeGroup are
  // skipped (pass -1 to exclude nothing) and never count towards k.
  std::vector<SearchHit> search(const float* query, int k, std::int64_t excludeGroup = -1) const;
  std::vector<SearchHit> search(const std::vector<float>& query, int k, std::int64_t excludeGroup = -1) const;
  // Always exact, whatever the size (the ground truth for recall checks of the HNSW path).
  std::vector<SearchHit> searchExact(const float* query, int k, std::int64_t excludeGroup = -1) const;

 private:
  struct Hnsw;
  int dim_;
  Options opts_;
  std::vector<float> data_;              // size() x dim, normalised rows
  std::vector<std::int64_t> ids_, groups_;
  std::unordered_set<std::int64_t> idSet_;  // duplicate check in O(1) per add
  mutable std::unique_ptr<Hnsw> hnsw_;   // built lazily
  mutable std::size_t hnswBuiltSize_ = 0;
  std::vector<float> normalised(const float* v) const;
};

}  // namespace e2e
