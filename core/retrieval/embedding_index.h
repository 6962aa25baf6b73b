// Nearest-neighbour search over L2-normalised embeddings by cosine similarity.
// Exact (blocked brute force) below a size threshold, HNSW (hnswlib) above it, so that
// an ECG -> echo-study query stays fast at a million studies. Qt- and torch-free.
//
// Persistence: building the HNSW graph is the slow part (10^6 studies: ~16 min on 2 cores), so it
// can be saved once (saveGraph) and reloaded (loadGraph); the embeddings themselves are not stored
// in the graph file -- the caller re-adds them (from the database) and the file only spares the
// build. A graph file is valid only for exactly the content it was built from: its header holds
// fingerprint(), a SHA-256 over dim, the graph-shaping options (M, efConstruction, seed) and every
// (id, group, normalised vector) in insertion order. loadGraph() loads only when that fingerprint,
// the item count and dim all equal the index's current ones; otherwise the file is stale (any item
// added, removed, changed or reordered, or M/efConstruction/seed changed) and loadGraph() returns
// false, leaving the index to rebuild lazily as before. A corrupt or truncated file throws.
// File format (one file, all integers little-endian):
//   char[8] magic "E2EHNSW\0" | u32 format version (1) | u32 dim | u64 item count
//   | char[64] fingerprint (hex) | u64 payload size | u8[32] SHA-256 of the payload
//   | payload: the bytes of hnswlib's HierarchicalNSW::saveIndex, unchanged.
// hnswlib reads and writes only whole files by path, so saveGraph() has hnswlib write a scratch
// file, then writes header + payload to path + ".tmp" and renames it over path (atomic: readers
// see the old file or the new one, never a part); loadGraph() checks the header and copies the
// payload, verifying its SHA-256, to a scratch file that hnswlib then loads (both scratch files
// are removed). hnswlib labels are insertion indices, so the fingerprint (which fixes the order of
// the ids) also fixes the label -> id mapping; after loading, every stored vector is checked
// against the index's own row for its label and every link against the item count. Costs: save
// and load each need free disk space of about the file size for the scratch copy. Items added after
// a load are inserted into the loaded graph (hnswlib's level RNG is not saved, so that graph then
// differs from adding the same items to the original; still reproducible run to run).
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

  // Hex SHA-256 over dim, hnswM, hnswEfConstruction, seed and every (id, group, normalised vector)
  // in insertion order: any change of content gives a different fingerprint. Not cached: each call
  // hashes all size() x dim floats (~4 s per GB; saveGraph and loadGraph each call it once).
  std::string fingerprint() const;
  // Builds the HNSW graph if needed and writes it atomically to path (format above). Throws
  // std::logic_error if the index does not use HNSW (nothing to save) and std::runtime_error,
  // naming the path, on an I/O failure (path itself is then left untouched).
  void saveGraph(const std::string& path) const;
  // Loads a graph saved by saveGraph for exactly this content and marks it built, so search()
  // does not rebuild. Returns false (loading nothing) if path does not exist or holds a stale
  // graph (other fingerprint, count, dim or format version). Throws std::runtime_error, naming the
  // path, if the file is unreadable, truncated or corrupt (the index is then unchanged), and
  // std::logic_error if the index does not use HNSW. efSearch still comes from the options.
  // A graph loaded from file gives the same search() results as the one that was saved.
  bool loadGraph(const std::string& path);

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
