#include "retrieval/embedding_index.h"

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>
#include <faiss/impl/FaissException.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <queue>
#include <random>
#include <stdexcept>
#include <system_error>
#include <thread>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // fsync
#endif

#include "common/hash.h"

namespace e2e {

using Idx = faiss::Index::idx_t;  // faiss 1.7.3 spelling

namespace {
// Inner product, vectorised for the CPU it runs on (AVX-512, AVX2 or baseline: chosen at load
// time); 16 independent partial sums let the compiler vectorise without reassociating.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
float dot(const float* a, const float* b, int dim) {
  float acc[16] = {};
  int d = 0;
  for (; d + 16 <= dim; d += 16)
    for (int j = 0; j < 16; ++j) acc[j] += a[d + j] * b[d + j];
  float s = 0.f;
  for (; d < dim; ++d) s += a[d] * b[d];
  for (float x : acc) s += x;
  return s;
}
// Inner product of a float query with an int8 code (scaled by the caller); vectorised as dot().
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
float dot8(const float* q, const std::int8_t* c, int dim) {
  float acc[16] = {};
  int d = 0;
  for (; d + 16 <= dim; d += 16)
    for (int j = 0; j < 16; ++j) acc[j] += q[d + j] * static_cast<float>(c[d + j]);
  float s = 0.f;
  for (; d < dim; ++d) s += q[d] * static_cast<float>(c[d]);
  for (float x : acc) s += x;
  return s;
}
// The 8-bit code of a row (c[d] = x[d] / scale rounded, |c[d]| <= 127); returns the scale.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
float encodeRow(const float* x, std::int8_t* c, int dim) {
  float acc[16] = {};
  int d = 0;
  for (; d + 16 <= dim; d += 16)
    for (int j = 0; j < 16; ++j) acc[j] = std::max(acc[j], x[d + j] < 0.f ? -x[d + j] : x[d + j]);
  float maxAbs = 0.f;
  for (; d < dim; ++d) maxAbs = std::max(maxAbs, x[d] < 0.f ? -x[d] : x[d]);
  for (float a : acc) maxAbs = std::max(maxAbs, a);
  const float inv = maxAbs > 0.f ? 127.f / maxAbs : 0.f;  // |x[d] * inv| <= 127
  for (d = 0; d < dim; ++d) {
    const float v = x[d] * inv;  // rounded half away from zero (vectorisable, unlike lround)
    c[d] = static_cast<std::int8_t>(static_cast<int>(v + (v >= 0.f ? 0.5f : -0.5f)));
  }
  return maxAbs > 0.f ? maxAbs / 127.f : 1.f;
}
// Best first; equal similarities: smaller id first.
bool better(const SearchHit& a, const SearchHit& b) {
  return a.similarity > b.similarity || (a.similarity == b.similarity && a.id < b.id);
}

std::size_t autoNlist(std::size_t n) {
  const auto byRoot = static_cast<std::size_t>(std::lround(2.0 * std::sqrt(static_cast<double>(n))));
  return std::max<std::size_t>(1, std::min(byRoot, n / 39));
}

// The best k hits seen so far (a min-heap on `better`).
class TopK {
 public:
  explicit TopK(int k) : k_(static_cast<std::size_t>(k)), heap_(&better) {}
  void offer(const SearchHit& h) {
    if (heap_.size() < k_) heap_.push(h);
    else if (better(h, heap_.top())) { heap_.pop(); heap_.push(h); }
  }
  std::size_t size() const { return heap_.size(); }
  std::vector<SearchHit> sorted() {
    std::vector<SearchHit> out;
    while (!heap_.empty()) { out.push_back(heap_.top()); heap_.pop(); }
    std::sort(out.begin(), out.end(), better);
    return out;
  }
 private:
  std::size_t k_;
  std::priority_queue<SearchHit, std::vector<SearchHit>, decltype(&better)> heap_;
};
}  // namespace

// The inverted file: FAISS trains the centroids (k-means) and assigns items to them in bulk (BLAS).
// A list holds its item indices into data_ and, contiguous for streaming, an 8-bit code of each
// item (x ~ scale * code, scale = max |x| / 127 per item: a quarter of the bytes of the vectors).
// A query ranks the items of the probed lists by their codes and re-ranks the best candidates by
// the exact inner product with data_.
struct EmbeddingIndex::Ivf {
  faiss::IndexFlatIP quantizer;                   // the nlist unit centroids
  std::vector<std::vector<std::uint32_t>> lists;  // item indices per list, ascending
  std::vector<std::vector<std::int8_t>> codes;    // per list: dim bytes per item, in list order
  std::vector<std::vector<float>> scales;         // per list: the scale of each item's code
  std::vector<std::uint32_t> listOf;              // the list of each item
  std::size_t trainedOn = 0;                      // items when the centroids were trained
  Ivf(int dim, std::size_t nlist) : quantizer(dim), lists(nlist), codes(nlist), scales(nlist) {}
  std::size_t nlist() const { return lists.size(); }
  const float* centroid(std::size_t l) const { return quantizer.get_xb() + l * static_cast<std::size_t>(quantizer.d); }
  // Puts items first..first+count-1 (rows of data) into the list of their nearest centroid.
  void assign(const float* data, std::size_t first, std::size_t count) {
    constexpr std::size_t kChunk = 65536;
    std::vector<Idx> labels;
    for (std::size_t at = first; at < first + count; at += kChunk) {
      const std::size_t m = std::min(kChunk, first + count - at);
      labels.assign(m, -1);
      quantizer.assign(static_cast<Idx>(m), data + at * static_cast<std::size_t>(quantizer.d), labels.data());
      for (std::size_t i = 0; i < m; ++i) place(at + i, labels[i]);
    }
    encode(data);
  }
  void place(std::size_t item, Idx list) {
    if (list < 0 || static_cast<std::size_t>(list) >= lists.size() || item != listOf.size())
      throw std::logic_error("EmbeddingIndex: bad IVF assignment");
    lists[static_cast<std::size_t>(list)].push_back(static_cast<std::uint32_t>(item));
    listOf.push_back(static_cast<std::uint32_t>(list));
  }
  // Codes of the items placed since the last call (lists split between the cores).
  void encode(const float* data) {
    const std::size_t dim = static_cast<std::size_t>(quantizer.d);
    auto work = [&](std::size_t t, std::size_t threads) {
      for (std::size_t l = t; l < lists.size(); l += threads)
        for (std::size_t j = scales[l].size(); j < lists[l].size(); ++j) {
          codes[l].resize((j + 1) * dim);
          scales[l].push_back(encodeRow(data + std::size_t(lists[l][j]) * dim, codes[l].data() + j * dim, quantizer.d));
        }
    };
    const std::size_t threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
    work(0, threads);
    for (auto& th : pool) th.join();
  }
};

EmbeddingIndex::EmbeddingIndex(int dim) : EmbeddingIndex(dim, Options{}) {}
EmbeddingIndex::EmbeddingIndex(int dim, Options opts) : dim_(dim), opts_(opts) {
  if (dim <= 0) throw std::invalid_argument("EmbeddingIndex: dimension must be positive");
  if (opts_.nprobe == 0) opts_.nprobe = 1;
  if (opts_.trainPointsPerList == 0) opts_.trainPointsPerList = 1;
  if (opts_.kmeansIterations <= 0) opts_.kmeansIterations = 1;
}
EmbeddingIndex::~EmbeddingIndex() = default;
EmbeddingIndex::EmbeddingIndex(EmbeddingIndex&&) noexcept = default;
EmbeddingIndex& EmbeddingIndex::operator=(EmbeddingIndex&&) noexcept = default;

bool EmbeddingIndex::usesApproximate() const { return opts_.exactThreshold > 0 && size() > opts_.exactThreshold; }
std::size_t EmbeddingIndex::nlist() const { return ivf_ ? ivf_->nlist() : 0; }

std::vector<float> EmbeddingIndex::normalised(const float* v) const {
  double n2 = 0;
  for (int i = 0; i < dim_; ++i) {
    if (!std::isfinite(v[i])) throw std::invalid_argument("EmbeddingIndex: non-finite value in embedding");
    n2 += double(v[i]) * v[i];
  }
  if (n2 <= 0) throw std::invalid_argument("EmbeddingIndex: zero embedding cannot be normalised");
  const float inv = static_cast<float>(1.0 / std::sqrt(n2));
  std::vector<float> out(v, v + dim_);
  for (auto& x : out) x *= inv;
  return out;
}

void EmbeddingIndex::add(std::int64_t id, std::int64_t group, const float* vec) {
  if (idSet_.count(id)) throw std::invalid_argument("EmbeddingIndex: duplicate id " + std::to_string(id));
  auto n = normalised(vec);  // validates before anything is stored
  idSet_.insert(id);
  data_.insert(data_.end(), n.begin(), n.end());
  ids_.push_back(id);
  groups_.push_back(group);
}

void EmbeddingIndex::add(std::int64_t id, std::int64_t group, const std::vector<float>& vec) {
  if (static_cast<int>(vec.size()) != dim_)
    throw std::invalid_argument("EmbeddingIndex: embedding has dimension " + std::to_string(vec.size()) +
                                ", index expects " + std::to_string(dim_));
  add(id, group, vec.data());
}

// k-means on a seeded sample of the items; the quantizer then holds the centroids.
void EmbeddingIndex::train() const {
  const std::size_t n = size();
  const std::size_t nlist = std::min(opts_.nlist > 0 ? opts_.nlist : autoNlist(n), n);
  const std::size_t sampleSize = std::min(n, nlist * opts_.trainPointsPerList);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(opts_.seed);
  for (std::size_t i = 0; i < sampleSize; ++i)  // partial Fisher-Yates: the first sampleSize rows
    std::swap(order[i], order[i + static_cast<std::size_t>(rng() % (n - i))]);
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(sampleSize));
  std::vector<float> sample(sampleSize * static_cast<std::size_t>(dim_));
  for (std::size_t i = 0; i < sampleSize; ++i)
    std::memcpy(sample.data() + i * dim_, data_.data() + order[i] * dim_, sizeof(float) * dim_);
  faiss::ClusteringParameters cp;
  cp.niter = opts_.kmeansIterations;
  cp.spherical = true;  // unit centroids for inner-product lists
  cp.seed = static_cast<int>(opts_.seed & 0x7fffffff);
  cp.min_points_per_centroid = 1;         // faiss would warn on stderr below 39 (core never prints)
  cp.max_points_per_centroid = 1 << 30;   // the sample is already bounded above
  auto ivf = std::make_unique<Ivf>(dim_, nlist);
  faiss::Clustering clus(dim_, static_cast<int>(nlist), cp);
  clus.train(static_cast<Idx>(sampleSize), sample.data(), ivf->quantizer);
  ivf->trainedOn = n;
  ivf_ = std::move(ivf);
  builtSize_ = 0;
}

void EmbeddingIndex::build() {
  if (!usesApproximate() || (ivf_ && builtSize_ == size())) return;
  if (size() > UINT32_MAX) throw std::length_error("EmbeddingIndex: more than 2^32 items");
  try {
    if (!ivf_ || size() > kRetrainGrowth * ivf_->trainedOn) train();
    const std::size_t first = builtSize_;
    ivf_->assign(data_.data(), first, size() - first);
  } catch (const faiss::FaissException& e) {
    ivf_.reset();
    builtSize_ = 0;
    throw std::runtime_error(std::string("EmbeddingIndex: building the IVF index failed: ") + e.what());
  }
  builtSize_ = size();
}

std::vector<SearchHit> EmbeddingIndex::searchExact(const float* query, int k, std::int64_t excludeGroup) const {
  if (k <= 0 || size() == 0) return {};
  auto q = normalised(query);
  TopK top(k);
  const float* row = data_.data();
  for (std::size_t i = 0; i < size(); ++i, row += dim_) {
    if (excludeGroup >= 0 && groups_[i] == excludeGroup) continue;
    top.offer({ids_[i], groups_[i], dot(row, q.data(), dim_)});
  }
  return top.sorted();
}

std::vector<SearchHit> EmbeddingIndex::search(const float* query, int k, std::int64_t excludeGroup) const {
  if (!usesApproximate()) return searchExact(query, k, excludeGroup);
  if (k <= 0) return {};
  const_cast<EmbeddingIndex*>(this)->build();
  auto q = normalised(query);
  // The nprobe lists whose centroids are nearest, then every item of them (same kernel as exact).
  const std::size_t nlist = ivf_->nlist(), nprobe = std::min(opts_.nprobe, nlist);
  std::vector<std::pair<float, std::uint32_t>> coarse(nlist);
  for (std::size_t l = 0; l < nlist; ++l) coarse[l] = {-dot(ivf_->centroid(l), q.data(), dim_), static_cast<std::uint32_t>(l)};
  std::partial_sort(coarse.begin(), coarse.begin() + static_cast<std::ptrdiff_t>(nprobe), coarse.end());
  // Candidates by their 8-bit codes, then the best of them by the exact inner product.
  const int candidates = std::max(4 * k, k + 32);
  TopK byCode(candidates);
  for (std::size_t p = 0; p < nlist; ++p) {
    // Fewer than k hits in the nprobe lists (short lists, or the excluded group fills them): the
    // next nearest lists too, until k are found or every list is scanned.
    if (p >= nprobe && byCode.size() >= static_cast<std::size_t>(k)) break;
    if (p == nprobe) std::sort(coarse.begin() + static_cast<std::ptrdiff_t>(p), coarse.end());
    const std::size_t l = coarse[p].second;
    const auto& items = ivf_->lists[l];
    const std::int8_t* code = ivf_->codes[l].data();
    for (std::size_t j = 0; j < items.size(); ++j, code += dim_) {
      const std::uint32_t i = items[j];
      if (excludeGroup >= 0 && groups_[i] == excludeGroup) continue;
      byCode.offer({static_cast<std::int64_t>(i), 0, ivf_->scales[l][j] * dot8(q.data(), code, dim_)});
    }
  }
  TopK top(k);
  for (const auto& c : byCode.sorted()) {
    const auto i = static_cast<std::size_t>(c.id);
    top.offer({ids_[i], groups_[i], dot(data_.data() + i * dim_, q.data(), dim_)});
  }
  return top.sorted();
}

std::vector<SearchHit> EmbeddingIndex::search(const std::vector<float>& query, int k, std::int64_t excludeGroup) const {
  if (static_cast<int>(query.size()) != dim_)
    throw std::invalid_argument("EmbeddingIndex: query has dimension " + std::to_string(query.size()) +
                                ", index expects " + std::to_string(dim_));
  return search(query.data(), k, excludeGroup);
}

// ---- fingerprint and persistence (format: see embedding_index.h) ------------------------------

namespace {
namespace fs = std::filesystem;

constexpr std::size_t kBlockItems = 16384;  // items per fingerprint block
constexpr char kMagic[8] = {'E', '2', 'E', 'I', 'V', 'F', '\0', '\0'};
constexpr std::uint32_t kFormatVersion = 2;
// magic | version | dim | count | nlist | trained on | fingerprint (hex) | payload size | payload SHA-256
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8 + 8 + 8 + 64 + 8 + 32;
static_assert(kHeaderSize == 144, "header layout");

constexpr bool kLittleEndian =
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    false;
#else
    true;
#endif

void putLE(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint64_t getLE(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}
void hashU64(Sha256& h, std::uint64_t v) {
  std::uint8_t b[8];
  putLE(b, v, 8);
  h.update(b, 8);
}
// Converts n 4- or 8-byte values to little-endian bytes in place order (a copy on big-endian hosts).
template <typename T>
void appendLE(std::vector<std::uint8_t>& out, const T* p, std::size_t n) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "4- or 8-byte values");
  const std::size_t at = out.size();
  out.resize(at + n * sizeof(T));
  if (kLittleEndian) {
    std::memcpy(out.data() + at, p, n * sizeof(T));
    return;
  }
  for (std::size_t j = 0; j < n; ++j) {
    std::uint64_t v = 0;
    if (sizeof(T) == 4) {
      std::uint32_t u;
      std::memcpy(&u, p + j, 4);
      v = u;
    } else {
      std::memcpy(&v, p + j, 8);
    }
    putLE(out.data() + at + j * sizeof(T), v, sizeof(T));
  }
}
template <typename T>
void hashArrayLE(Sha256& h, const T* p, std::size_t n) {
  if (kLittleEndian) {
    h.update(p, n * sizeof(T));
    return;
  }
  std::vector<std::uint8_t> buf;
  appendLE(buf, p, n);
  h.update(buf.data(), buf.size());
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Header of a saved index file.
struct IvfFileHeader {
  std::uint64_t dim = 0, count = 0, nlist = 0, trainedOn = 0, payloadSize = 0;
  std::string fingerprint;
  std::array<std::uint8_t, 32> digest{};
};

// Reads the header from f. Returns false for another format version (stale: rebuild); throws
// std::runtime_error on a bad magic or a truncated header.
bool readHeader(std::FILE* f, const std::string& where, IvfFileHeader& h) {
  std::uint8_t header[kHeaderSize];
  const std::size_t got = std::fread(header, 1, kHeaderSize, f);
  if (got < 8 || std::memcmp(header, kMagic, 8) != 0)
    throw std::runtime_error(where + ": not an Echo2ECG retrieval index file (bad magic)");
  if (got < 12) throw std::runtime_error(where + ": truncated header");
  const std::uint8_t* p = header + 8;
  if (getLE(p, 4) != kFormatVersion) return false;  // another format version: stale, rebuild
  if (got < kHeaderSize) throw std::runtime_error(where + ": truncated header");
  p += 4;
  h.dim = getLE(p, 4), p += 4;
  h.count = getLE(p, 8), p += 8;
  h.nlist = getLE(p, 8), p += 8;
  h.trainedOn = getLE(p, 8), p += 8;
  h.fingerprint.assign(reinterpret_cast<const char*>(p), 64), p += 64;
  h.payloadSize = getLE(p, 8), p += 8;
  std::memcpy(h.digest.data(), p, 32);
  return true;
}

std::array<std::uint8_t, 32> Sha256Digest(const void* data, std::size_t len) {
  Sha256 h;
  h.update(data, len);
  return h.digest();
}

}  // namespace

std::array<std::uint8_t, 32> EmbeddingIndex::blockDigest(std::size_t first, std::size_t count) const {
  Sha256 h;
  hashArrayLE(h, ids_.data() + first, count);
  hashArrayLE(h, groups_.data() + first, count);
  hashArrayLE(h, data_.data() + first * dim_, count * static_cast<std::size_t>(dim_));
  return h.digest();
}

std::string EmbeddingIndex::fingerprintOf(std::size_t m) const {
  m = std::min(m, size());
  // Digests of the complete blocks not cached yet, computed on all cores.
  const std::size_t full = size() / kBlockItems, have = blockDigests_.size();
  if (full > have) {
    blockDigests_.resize(full);
    const unsigned threads = std::max(1u, std::min(std::thread::hardware_concurrency(), 8u));
    auto work = [&](unsigned t) {
      for (std::size_t b = have + t; b < full; b += threads) blockDigests_[b] = blockDigest(b * kBlockItems, kBlockItems);
    };
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads && have + t < full; ++t) pool.emplace_back(work, t);
    work(0);
    for (auto& th : pool) th.join();
  }
  Sha256 h;
  static const char tag[] = "e2e::EmbeddingIndex IVF fingerprint v2";
  h.update(tag, sizeof(tag) - 1);
  hashU64(h, static_cast<std::uint64_t>(dim_));
  hashU64(h, opts_.nlist);
  hashU64(h, opts_.trainPointsPerList);
  hashU64(h, static_cast<std::uint64_t>(static_cast<std::int64_t>(opts_.kmeansIterations)));
  hashU64(h, opts_.seed);
  hashU64(h, static_cast<std::uint64_t>(m));
  for (std::size_t b = 0; b < m / kBlockItems; ++b) h.update(blockDigests_[b].data(), 32);
  if (const std::size_t rest = m % kBlockItems; rest > 0) {
    const auto d = blockDigest(m - rest, rest);
    h.update(d.data(), 32);
  }
  return h.hexDigest();
}

void EmbeddingIndex::save(const std::string& path) const {
  if (!usesApproximate())
    throw std::logic_error("EmbeddingIndex::save: the index uses exact search (" + std::to_string(size()) +
                           " items <= exactThreshold " + std::to_string(opts_.exactThreshold) +
                           "), there is no IVF index to save");
  const_cast<EmbeddingIndex*>(this)->build();
  const std::string where = "EmbeddingIndex::save: " + path;
  const std::size_t n = size(), nlist = ivf_->nlist();
  std::vector<std::uint8_t> payload;
  payload.reserve(nlist * dim_ * 4 + n * 4);
  appendLE(payload, ivf_->quantizer.get_xb(), nlist * static_cast<std::size_t>(dim_));
  appendLE(payload, ivf_->listOf.data(), n);

  std::uint8_t header[kHeaderSize] = {};
  std::uint8_t* p = header;
  std::memcpy(p, kMagic, 8), p += 8;
  putLE(p, kFormatVersion, 4), p += 4;
  putLE(p, static_cast<std::uint64_t>(dim_), 4), p += 4;
  putLE(p, n, 8), p += 8;
  putLE(p, nlist, 8), p += 8;
  putLE(p, ivf_->trainedOn, 8), p += 8;
  const std::string fp = fingerprintOf(n);
  std::memcpy(p, fp.data(), 64), p += 64;
  putLE(p, payload.size(), 8), p += 8;
  const auto digest = Sha256Digest(payload.data(), payload.size());
  std::memcpy(p, digest.data(), 32);

  const std::string tmp = path + ".tmp";
  std::error_code ec;
  {
    File f(std::fopen(tmp.c_str(), "wb"));
    if (!f) throw std::runtime_error(where + ": cannot create " + tmp);
    bool ok = std::fwrite(header, 1, kHeaderSize, f.get()) == kHeaderSize &&
              std::fwrite(payload.data(), 1, payload.size(), f.get()) == payload.size() && std::fflush(f.get()) == 0;
#if defined(__unix__) || defined(__APPLE__)
    ok = ok && ::fsync(fileno(f.get())) == 0;
#endif
    ok = std::fclose(f.release()) == 0 && ok;
    if (!ok) {
      fs::remove(tmp, ec);
      throw std::runtime_error(where + ": write failed");
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    throw std::runtime_error(where + ": cannot rename " + tmp + ": " + ec.message());
  }
}

EmbeddingIndex::LoadResult EmbeddingIndex::load(const std::string& path) {
  if (!usesApproximate())
    throw std::logic_error("EmbeddingIndex::load: the index uses exact search (" + std::to_string(size()) +
                           " items <= exactThreshold " + std::to_string(opts_.exactThreshold) +
                           "), there is no IVF index to load");
  const std::string where = "EmbeddingIndex::load: " + path;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return LoadResult::Missing;
  if (ec || st.type() != fs::file_type::regular) throw std::runtime_error(where + ": not a readable file");
  const std::uint64_t fileSize = fs::file_size(path, ec);
  if (ec) throw std::runtime_error(where + ": cannot stat: " + ec.message());
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) throw std::runtime_error(where + ": cannot open");

  IvfFileHeader hdr;
  if (!readHeader(f.get(), where, hdr)) return LoadResult::Stale;
  const std::size_t n = size();
  if (hdr.dim != static_cast<std::uint64_t>(dim_) || hdr.count == 0 || hdr.count > n ||
      n > kRetrainGrowth * std::max<std::uint64_t>(hdr.trainedOn, 1) || hdr.fingerprint != fingerprintOf(hdr.count))
    return LoadResult::Stale;
  const std::size_t m = static_cast<std::size_t>(hdr.count);
  // The fingerprint matched, so the header describes this content; the rest must agree with it.
  if (hdr.nlist == 0 || hdr.nlist > hdr.trainedOn || hdr.trainedOn > m)
    throw std::runtime_error(where + ": inconsistent header (corrupt file)");
  const std::uint64_t expected = hdr.nlist * static_cast<std::uint64_t>(dim_) * 4 + m * 4ULL;
  if (hdr.payloadSize != expected || fileSize != kHeaderSize + hdr.payloadSize)
    throw std::runtime_error(where + ": truncated or padded file (" + std::to_string(fileSize) + " bytes, expected " +
                             std::to_string(kHeaderSize + expected) + ")");
  std::vector<std::uint8_t> payload(static_cast<std::size_t>(expected));
  if (std::fread(payload.data(), 1, payload.size(), f.get()) != payload.size())
    throw std::runtime_error(where + ": short read");
  f.reset();
  if (Sha256Digest(payload.data(), payload.size()) != hdr.digest)
    throw std::runtime_error(where + ": checksum mismatch (corrupt file)");

  const std::size_t nlist = static_cast<std::size_t>(hdr.nlist);
  std::vector<float> centroids(nlist * dim_);
  std::vector<std::uint32_t> lists(m);
  const std::uint8_t* p = payload.data();
  for (auto& c : centroids) {
    const auto bits = static_cast<std::uint32_t>(getLE(p, 4));
    std::memcpy(&c, &bits, 4);
    if (!std::isfinite(c)) throw std::runtime_error(where + ": corrupt centroid");
    p += 4;
  }
  for (auto& l : lists) {
    l = static_cast<std::uint32_t>(getLE(p, 4));
    if (l >= nlist) throw std::runtime_error(where + ": corrupt list number");
    p += 4;
  }
  auto ivf = std::make_unique<Ivf>(dim_, nlist);
  try {
    ivf->quantizer.add(static_cast<Idx>(nlist), centroids.data());
    ivf->trainedOn = static_cast<std::size_t>(hdr.trainedOn);
    std::vector<std::size_t> counts(nlist, 0);
    for (auto l : lists) ++counts[l];
    for (std::size_t l = 0; l < nlist; ++l) ivf->lists[l].reserve(counts[l]);
    ivf->listOf.reserve(n);
    for (std::size_t l = 0; l < nlist; ++l) ivf->codes[l].reserve(counts[l] * dim_), ivf->scales[l].reserve(counts[l]);
    for (std::size_t i = 0; i < m; ++i) ivf->place(i, lists[i]);
    ivf->encode(data_.data());
    if (n > m) ivf->assign(data_.data(), m, n - m);
  } catch (const faiss::FaissException& e) {
    throw std::runtime_error(where + ": cannot rebuild the IVF index: " + e.what());
  }
  ivf_ = std::move(ivf);
  builtSize_ = n;
  return n > m ? LoadResult::Appended : LoadResult::Loaded;
}

}  // namespace e2e
