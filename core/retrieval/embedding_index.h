// Nearest-neighbour search over L2-normalised embeddings by cosine similarity.
// Exact (brute force) up to a size threshold, an inverted-file index (FAISS IndexIVFFlat, inner
// product) above it, so that an ECG -> echo-study query stays fast at a million studies.
// Qt- and torch-free.
//
// Approximate path (inverted file): k-means (FAISS, spherical, fixed seed) on a bounded
// deterministic sample of the items (nlist x trainPointsPerList rows chosen by a seeded RNG) gives
// nlist centroids; FAISS assigns every item to its nearest centroid (BLAS, in bulk). A list holds
// its item indices and, contiguous, an 8-bit code per item (a quarter of the vector's bytes). A
// query ranks the items of the nprobe lists nearest to it by their codes, then re-ranks the best
// max(4k, k + 32) by the exact inner product with the same kernel as searchExact (vectorised for
// the CPU at run time). So a hit has exactly the similarity searchExact gives it and the hits are
// sorted the same way (ties: smaller id first): an approximate result differs from the exact one
// only by missing items. When the probed lists hold fewer than k eligible items (short lists, or
// the excluded group fills them) the next nearest lists are scanned too. FAISS's own IVF-Flat
// scanner (Debian builds it for baseline x86-64) was measured 3-4x slower per query at 10^6.
// Measured at 10^6 studies: docs/benchmarks.md.
// Persistence (save / load): training and assigning are the slow part, so the trained centroids
// and the list of every item are saved; the vectors are not (the caller re-adds them, e.g. from the
// database). A file saved for the first m items is reused for any content whose first m items are
// the same (ids, groups and vectors in the same order): load() rebuilds the lists from the file's
// assignments and adds only the items after m (Appended), without re-training. The file records
// fingerprintOf(m), a SHA-256 over dim, the index-shaping options (nlist, trainPointsPerList,
// kmeansIterations, seed), m and SHA-256 digests of blocks of 16384 items; block digests are
// cached and computed on 2 threads, so re-checking a prefix after an append costs one pass over
// the vectors. Anything else (other prefix, fewer items, other options or dim, or more than
// kRetrainGrowth x the items the centroids were trained on) is stale: load() returns Stale and the
// index is rebuilt lazily. A corrupt or truncated file throws std::runtime_error naming the path.
// File format (one file, all integers and floats little-endian):
//   char[8] magic "E2EIVF\0\0" | u32 format version (2) | u32 dim | u64 item count m | u64 nlist
//   | u64 items the centroids were trained on | char[64] fingerprintOf(m) (hex) | u64 payload size
//   | u8[32] SHA-256 of the payload | payload: nlist x dim f32 centroids, then m u32 list numbers.
// save() writes path + ".tmp", fsyncs it and renames it over path (readers see the old file or
// the new one, never a part).
#pragma once
#include <array>
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
    // Exact search up to this many items; the IVF index beyond (0 = always exact).
    std::size_t exactThreshold = 20000;
    // Inverted lists; 0 = about 2 x sqrt(items at training), at most items / 39.
    std::size_t nlist = 0;
    // Lists scanned per query (capped at nlist); measured recall@10 >= 0.99 at 10^6 (docs/benchmarks.md).
    std::size_t nprobe = 24;
    std::size_t trainPointsPerList = 32;  // k-means sample: min(items, nlist x this) rows
    int kmeansIterations = 8;
    std::uint64_t seed = 100;
  };
  // load() outcome.
  enum class LoadResult { Missing, Stale, Loaded, Appended };
  // A saved file is stale once the index holds more than this many times the items its centroids
  // were trained on (the lists would grow too long): retrain.
  static constexpr std::size_t kRetrainGrowth = 4;

  explicit EmbeddingIndex(int dim);
  EmbeddingIndex(int dim, Options opts);
  ~EmbeddingIndex();
  EmbeddingIndex(EmbeddingIndex&&) noexcept;
  EmbeddingIndex& operator=(EmbeddingIndex&&) noexcept;

  int dim() const { return dim_; }
  std::size_t size() const { return ids_.size(); }
  bool usesApproximate() const;
  // Lists of the built IVF index (0 when none is built).
  std::size_t nlist() const;
  // Search breadth (recall against speed); takes effect on the next search.
  void setNprobe(std::size_t nprobe) { opts_.nprobe = nprobe > 0 ? nprobe : 1; }

  // Adds one embedding (normalised internally). Throws std::invalid_argument on a wrong
  // dimension, a non-finite value, a zero vector or a duplicate id.
  void add(std::int64_t id, std::int64_t group, const float* vec);
  void add(std::int64_t id, std::int64_t group, const std::vector<float>& vec);

  // Builds the IVF index if the size calls for it, or adds the items added since (called lazily by
  // search too). Retrains from scratch when none is built or the size outgrew the training.
  void build();

  // Top-k by cosine similarity, best first (ties: smaller id first). Items whose group equals
  // excludeGroup are skipped (pass -1 to exclude nothing) and never count towards k.
  std::vector<SearchHit> search(const float* query, int k, std::int64_t excludeGroup = -1) const;
  std::vector<SearchHit> search(const std::vector<float>& query, int k, std::int64_t excludeGroup = -1) const;
  // Always exact, whatever the size (the ground truth for recall checks of the IVF path).
  std::vector<SearchHit> searchExact(const float* query, int k, std::int64_t excludeGroup = -1) const;

  // Hex SHA-256 of the first m items (see above); fingerprint() = fingerprintOf(size()).
  std::string fingerprintOf(std::size_t m) const;
  std::string fingerprint() const { return fingerprintOf(size()); }
  // Builds the IVF index if needed and writes it atomically to path (format above). Throws
  // std::logic_error if the index uses exact search (nothing to save) and std::runtime_error,
  // naming the path, on an I/O failure (path itself is then left untouched).
  void save(const std::string& path) const;
  // Loads a file saved by save() for this content or a prefix of it (then adds the rest). Returns
  // Missing if path does not exist, Stale (loading nothing) if it does not fit (see above). Throws
  // std::runtime_error, naming the path, if the file is unreadable, truncated or corrupt (the index
  // is then unchanged), and std::logic_error if the index uses exact search. Loaded from a file
  // saved for the same content, search() answers as the index that was saved.
  LoadResult load(const std::string& path);

 private:
  struct Ivf;
  int dim_;
  Options opts_;
  std::vector<float> data_;              // size() x dim, normalised rows
  std::vector<std::int64_t> ids_, groups_;
  std::unordered_set<std::int64_t> idSet_;  // duplicate check in O(1) per add
  mutable std::unique_ptr<Ivf> ivf_;     // built lazily
  mutable std::size_t builtSize_ = 0;
  mutable std::vector<std::array<std::uint8_t, 32>> blockDigests_;  // of the complete 16384-item blocks
  std::vector<float> normalised(const float* v) const;
  void train() const;
  std::array<std::uint8_t, 32> blockDigest(std::size_t first, std::size_t count) const;
};

}  // namespace e2e
