#include "retrieval/embedding_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <stdexcept>
#include <system_error>
#include <unordered_set>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // fsync
#endif

#include "common/hash.h"

namespace e2e {

struct EmbeddingIndex::Hnsw {
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> graph;
  std::mutex mu;  // setEf is not thread-safe
  Hnsw(int dim, std::size_t capacity, const Options& o)
      : space(static_cast<std::size_t>(dim)),
        graph(&space, capacity, static_cast<std::size_t>(o.hnswM), static_cast<std::size_t>(o.hnswEfConstruction),
              static_cast<std::size_t>(o.seed)) {}
  // Loads a graph saved by hnswlib's saveIndex. If loadIndex throws, the graph's destructor does
  // not run (it would free uninitialised pointers); what it allocated so far leaks.
  Hnsw(int dim, const std::string& hnswFile, std::size_t capacity)
      : space(static_cast<std::size_t>(dim)), graph(&space, hnswFile, false, capacity) {}
};

EmbeddingIndex::EmbeddingIndex(int dim) : EmbeddingIndex(dim, Options{}) {}
EmbeddingIndex::EmbeddingIndex(int dim, Options opts) : dim_(dim), opts_(opts) {
  if (dim <= 0) throw std::invalid_argument("EmbeddingIndex: dimension must be positive");
}
EmbeddingIndex::~EmbeddingIndex() = default;
EmbeddingIndex::EmbeddingIndex(EmbeddingIndex&&) noexcept = default;
EmbeddingIndex& EmbeddingIndex::operator=(EmbeddingIndex&&) noexcept = default;

bool EmbeddingIndex::usesHnsw() const { return opts_.hnswThreshold > 0 && size() > opts_.hnswThreshold; }

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

void EmbeddingIndex::build() {
  if (!usesHnsw() || (hnsw_ && hnswBuiltSize_ == size())) return;
  if (!hnsw_ || hnsw_->graph.max_elements_ < size()) {
    hnsw_ = std::make_unique<Hnsw>(dim_, std::max<std::size_t>(size(), 1024), opts_);
    hnswBuiltSize_ = 0;
  }
  int threads = opts_.buildThreads > 0 ? opts_.buildThreads
                                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::size_t first = hnswBuiltSize_, n = size();
  if (n - first < 1000) threads = 1;
  if (threads == 1) {
    for (std::size_t i = first; i < n; ++i)
      hnsw_->graph.addPoint(data_.data() + i * dim_, static_cast<hnswlib::labeltype>(i));
  } else {
    // hnswlib's addPoint is safe for concurrent inserts of distinct labels.
    std::atomic<std::size_t> next{first};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&] {
        for (std::size_t i = next++; i < n; i = next++)
          hnsw_->graph.addPoint(data_.data() + i * dim_, static_cast<hnswlib::labeltype>(i));
      });
    for (auto& th : pool) th.join();
  }
  hnswBuiltSize_ = n;
}

std::vector<SearchHit> EmbeddingIndex::searchExact(const float* query, int k, std::int64_t excludeGroup) const {
  std::vector<SearchHit> out;
  if (k <= 0 || size() == 0) return out;
  auto q = normalised(query);
  // Min-heap of the best k so far.
  auto worse = [](const SearchHit& a, const SearchHit& b) {
    return a.similarity > b.similarity || (a.similarity == b.similarity && a.id < b.id);
  };
  std::priority_queue<SearchHit, std::vector<SearchHit>, decltype(worse)> heap(worse);
  const float* row = data_.data();
  for (std::size_t i = 0; i < size(); ++i, row += dim_) {
    if (excludeGroup >= 0 && groups_[i] == excludeGroup) continue;
    float s = 0.f;
    for (int d = 0; d < dim_; ++d) s += row[d] * q[d];
    SearchHit h{ids_[i], groups_[i], s};
    if (static_cast<int>(heap.size()) < k) heap.push(h);
    else if (worse(h, heap.top())) { heap.pop(); heap.push(h); }
  }
  while (!heap.empty()) { out.push_back(heap.top()); heap.pop(); }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<SearchHit> EmbeddingIndex::search(const float* query, int k, std::int64_t excludeGroup) const {
  if (!usesHnsw()) return searchExact(query, k, excludeGroup);
  const_cast<EmbeddingIndex*>(this)->build();
  auto q = normalised(query);
  // Ask for more than k when excluding a group, and widen until k survive or all are seen.
  std::size_t want = static_cast<std::size_t>(k);
  std::vector<SearchHit> out;
  while (true) {
    std::priority_queue<std::pair<float, hnswlib::labeltype>> res;
    {
      std::lock_guard<std::mutex> lock(hnsw_->mu);
      hnsw_->graph.setEf(std::max<std::size_t>(static_cast<std::size_t>(opts_.hnswEfSearch), want));
      res = hnsw_->graph.searchKnn(q.data(), std::min(want, size()));
    }
    out.clear();
    std::vector<std::pair<float, hnswlib::labeltype>> items;
    while (!res.empty()) { items.push_back(res.top()); res.pop(); }
    // hnswlib returns the farthest first; distance = 1 - inner product.
    std::sort(items.begin(), items.end());
    for (auto& [dist, label] : items) {
      std::size_t i = static_cast<std::size_t>(label);
      if (excludeGroup >= 0 && groups_[i] == excludeGroup) continue;
      out.push_back({ids_[i], groups_[i], 1.f - dist});
      if (static_cast<int>(out.size()) == k) break;
    }
    if (static_cast<int>(out.size()) >= k || want >= size()) break;
    want = std::min(size(), want * 4);
  }
  return out;
}

// ---- persistence of the HNSW graph (format: see embedding_index.h) ----------------------------

namespace {
namespace fs = std::filesystem;

constexpr char kMagic[8] = {'E', '2', 'E', 'H', 'N', 'S', 'W', '\0'};
constexpr std::uint32_t kFormatVersion = 1;
// magic | version | dim | count | fingerprint (hex) | payload size | payload SHA-256
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8 + 64 + 8 + 32;
static_assert(kHeaderSize == 128, "header layout");
// hnswlib 0.6 saveIndex header: offsetLevel0_, max_elements_, cur_element_count,
// size_data_per_element_, label_offset_, offsetData_ (size_t), maxlevel_ (int),
// enterpoint_node_ (tableint), maxM_, maxM0_, M_ (size_t), mult_ (double), ef_construction_ (size_t).
constexpr std::size_t kHnswHeaderSize = 6 * sizeof(std::size_t) + sizeof(int) + sizeof(hnswlib::tableint) +
                                        3 * sizeof(std::size_t) + sizeof(double) + sizeof(std::size_t);

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
// Hashes n 4- or 8-byte values as little-endian bytes, whatever the host order.
template <typename T>
void hashArrayLE(Sha256& h, const T* p, std::size_t n) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "4- or 8-byte values");
  if (kLittleEndian) {
    h.update(p, n * sizeof(T));
    return;
  }
  std::uint8_t buf[4096];
  const std::size_t per = sizeof(buf) / sizeof(T);
  for (std::size_t i = 0; i < n; i += per) {
    const std::size_t m = std::min(per, n - i);
    for (std::size_t j = 0; j < m; ++j) {
      std::uint64_t v = 0;
      if (sizeof(T) == 4) {
        std::uint32_t u;
        std::memcpy(&u, p + i + j, 4);
        v = u;
      } else {
        std::memcpy(&v, p + i + j, 8);
      }
      putLE(buf + j * sizeof(T), v, sizeof(T));
    }
    h.update(buf, m * sizeof(T));
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// Removes a scratch file when it goes out of scope (success or failure).
struct ScratchFile {
  std::string path;
  explicit ScratchFile(std::string p) : path(std::move(p)) {}
  ~ScratchFile() {
    std::error_code ec;
    if (!path.empty()) fs::remove(path, ec);
  }
};

std::string randomHex() {
  std::random_device rd;
  std::uint64_t v = (std::uint64_t(rd()) << 32) ^ rd() ^
                    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Expected hnswlib geometry for this index (mirrors HierarchicalNSW's constructor).
struct HnswGeometry {
  std::size_t M, maxM0, efConstruction, linksLevel0, linksPerElement, dataSize, sizePerElement;
  HnswGeometry(int dim, int m, int efC) {
    M = std::min<std::size_t>(static_cast<std::size_t>(m), 10000);
    maxM0 = 2 * M;
    efConstruction = std::max(static_cast<std::size_t>(efC), M);
    linksLevel0 = maxM0 * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
    linksPerElement = M * sizeof(hnswlib::tableint) + sizeof(hnswlib::linklistsizeint);
    dataSize = static_cast<std::size_t>(dim) * sizeof(float);
    sizePerElement = linksLevel0 + dataSize + sizeof(hnswlib::labeltype);
  }
};

// Checks hnswlib's own header at the start of the payload against what this index would have
// built; a mismatch after the fingerprint matched means a corrupt (or foreign) file.
void checkHnswHeader(const std::uint8_t* p, const HnswGeometry& g, std::size_t n, std::size_t payloadSize,
                     const std::string& where) {
  std::size_t offsetLevel0, maxElements, count, sizePerElement, labelOffset, offsetData, maxM, maxM0, M, efC;
  int maxLevel;
  hnswlib::tableint enterpoint;
  double mult;
  auto rd = [&p](auto& v) {
    std::memcpy(&v, p, sizeof(v));
    p += sizeof(v);
  };
  rd(offsetLevel0), rd(maxElements), rd(count), rd(sizePerElement), rd(labelOffset), rd(offsetData);
  rd(maxLevel), rd(enterpoint), rd(maxM), rd(maxM0), rd(M), rd(mult), rd(efC);
  const bool ok = offsetLevel0 == 0 && count == n && maxElements >= n && sizePerElement == g.sizePerElement &&
                  offsetData == g.linksLevel0 && labelOffset == g.linksLevel0 + g.dataSize && maxM == g.M &&
                  maxM0 == g.maxM0 && M == g.M && efC == g.efConstruction && maxLevel >= 0 && maxLevel < 256 &&
                  enterpoint < n && std::isfinite(mult) &&
                  payloadSize >= kHnswHeaderSize + n * (g.sizePerElement + sizeof(unsigned int));
  if (!ok) throw std::runtime_error(where + ": HNSW graph header does not match the index (corrupt file)");
}

// After loading: every label is a distinct insertion index whose stored vector is exactly the
// index's row, nothing is marked deleted, and every link stays within the graph.
void checkLoadedGraph(const hnswlib::HierarchicalNSW<float>& gr, const std::vector<float>& data, int dim,
                      std::size_t n, const std::string& where) {
  auto fail = [&where](const char* what) {
    throw std::runtime_error(where + ": corrupt HNSW graph (" + what + ")");
  };
  if (gr.cur_element_count != n || gr.label_lookup_.size() != n) fail("labels");
  if (gr.maxlevel_ < 0 || gr.enterpoint_node_ >= n || gr.element_levels_[gr.enterpoint_node_] != gr.maxlevel_)
    fail("entry point");
  const std::size_t rowBytes = static_cast<std::size_t>(dim) * sizeof(float);
  for (hnswlib::tableint i = 0; i < n; ++i) {
    const hnswlib::labeltype label = gr.getExternalLabel(i);
    if (label >= n) fail("label out of range");
    if (std::memcmp(gr.getDataByInternalId(i), data.data() + label * dim, rowBytes) != 0)
      fail("stored vector differs from the index's");
    if (gr.isMarkedDeleted(i)) fail("deleted element");
    const int levels = gr.element_levels_[i];
    if (levels < 0 || levels > gr.maxlevel_) fail("element level");
    for (int level = 0; level <= levels; ++level) {
      hnswlib::linklistsizeint* ll = level == 0 ? gr.get_linklist0(i) : gr.get_linklist(i, level);
      const std::size_t cnt = gr.getListCount(ll);
      if (cnt > (level == 0 ? gr.maxM0_ : gr.maxM_)) fail("link count");
      const hnswlib::tableint* links = reinterpret_cast<const hnswlib::tableint*>(ll + 1);
      for (std::size_t j = 0; j < cnt; ++j)
        if (links[j] >= n) fail("link out of range");
    }
  }
}
// Header of a saved graph file.
struct GraphFileHeader {
  std::uint64_t dim = 0, count = 0, payloadSize = 0;
  std::string fingerprint;
  std::array<std::uint8_t, 32> digest;
};

// Reads the header from f. Returns false for another format version (stale: rebuild); throws
// std::runtime_error on a bad magic or a truncated header.
bool readGraphHeader(std::FILE* f, const std::string& where, GraphFileHeader& h) {
  std::uint8_t header[kHeaderSize];
  const std::size_t got = std::fread(header, 1, kHeaderSize, f);
  if (got < 8 || std::memcmp(header, kMagic, 8) != 0)
    throw std::runtime_error(where + ": not an Echo2ECG HNSW graph file (bad magic)");
  if (got < 12) throw std::runtime_error(where + ": truncated header");
  const std::uint8_t* p = header + 8;
  if (getLE(p, 4) != kFormatVersion) return false;  // another format version: stale, rebuild
  if (got < kHeaderSize) throw std::runtime_error(where + ": truncated header");
  p += 4;
  h.dim = getLE(p, 4), h.count = getLE(p + 4, 8);
  p += 12;
  h.fingerprint.assign(reinterpret_cast<const char*>(p), 64);
  p += 64;
  h.payloadSize = getLE(p, 8);
  p += 8;
  std::memcpy(h.digest.data(), p, 32);
  return true;
}

// Copies the payload (the payloadSize bytes after the header) from f to the scratch file for
// hnswlib (which loads whole files only), checking hnswlib's header on the way, and returns the
// payload's SHA-256. Falls back to the temp directory if the scratch file cannot be created next
// to the graph (e.g. a read-only directory). Closes f, then the scratch file.
std::array<std::uint8_t, 32> copyPayloadToScratch(File& f, ScratchFile& scratch, std::uint64_t payloadSize,
                                                  const HnswGeometry& geo, std::size_t n, const std::string& where) {
  File s(std::fopen(scratch.path.c_str(), "wb"));
  if (!s) {
    std::error_code ec;
    scratch.path = (fs::temp_directory_path(ec) / ("e2e-hnsw-load-" + randomHex() + ".tmp")).string();
    s.reset(std::fopen(scratch.path.c_str(), "wb"));
  }
  if (!s) throw std::runtime_error(where + ": cannot create a scratch file for loading");
  const std::string& scratchPath = scratch.path;
  std::vector<char> buf(1 << 20);
  Sha256 sha;
  std::uint64_t left = payloadSize;
  bool first = true;
  while (left > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
    if (std::fread(buf.data(), 1, want, f.get()) != want) throw std::runtime_error(where + ": short read");
    if (first) {
      checkHnswHeader(reinterpret_cast<const std::uint8_t*>(buf.data()), geo, n, payloadSize, where);
      first = false;
    }
    sha.update(buf.data(), want);
    if (std::fwrite(buf.data(), 1, want, s.get()) != want)
      throw std::runtime_error(where + ": cannot write the scratch file " + scratchPath);
    left -= want;
  }
  f.reset();
  if (std::fclose(s.release()) != 0) throw std::runtime_error(where + ": cannot write the scratch file " + scratchPath);
  return sha.digest();
}
}  // namespace

std::string EmbeddingIndex::fingerprint() const {
  Sha256 h;
  static const char tag[] = "e2e::EmbeddingIndex fingerprint v1";
  h.update(tag, sizeof(tag) - 1);
  hashU64(h, static_cast<std::uint64_t>(dim_));
  hashU64(h, static_cast<std::uint64_t>(static_cast<std::int64_t>(opts_.hnswM)));
  hashU64(h, static_cast<std::uint64_t>(static_cast<std::int64_t>(opts_.hnswEfConstruction)));
  hashU64(h, opts_.seed);
  hashU64(h, static_cast<std::uint64_t>(size()));
  hashArrayLE(h, ids_.data(), ids_.size());
  hashArrayLE(h, groups_.data(), groups_.size());
  hashArrayLE(h, data_.data(), data_.size());
  return h.hexDigest();
}

void EmbeddingIndex::saveGraph(const std::string& path) const {
  if (!usesHnsw())
    throw std::logic_error("EmbeddingIndex::saveGraph: the index uses exact search (" + std::to_string(size()) +
                           " items <= hnswThreshold " + std::to_string(opts_.hnswThreshold) +
                           "), there is no HNSW graph to save");
  const_cast<EmbeddingIndex*>(this)->build();
  const std::string where = "EmbeddingIndex::saveGraph: " + path;
  const std::string tmp = path + ".tmp";
  ScratchFile raw(path + ".graph.tmp");  // hnswlib's own output, copied behind our header
  ScratchFile out("");  // tmp once we created it; renamed over path on success
  const std::size_t n = size();

  std::uint64_t expected = kHnswHeaderSize;
  {
    std::lock_guard<std::mutex> lock(hnsw_->mu);
    auto& g = hnsw_->graph;
    g.saveIndex(raw.path);
    expected += g.cur_element_count * g.size_data_per_element_;
    for (std::size_t i = 0; i < g.cur_element_count; ++i)
      expected += sizeof(unsigned int) + (g.element_levels_[i] > 0 ? g.size_links_per_element_ * g.element_levels_[i] : 0);
  }
  std::error_code ec;
  const auto rawSize = fs::file_size(raw.path, ec);
  if (ec || rawSize != expected)
    throw std::runtime_error(where + ": writing the HNSW graph failed (" + raw.path + " is incomplete)");

  File in(std::fopen(raw.path.c_str(), "rb"));
  File f(std::fopen(tmp.c_str(), "wb"));
  if (!in || !f) throw std::runtime_error(where + ": cannot open " + (in ? tmp : raw.path));
  out.path = tmp;
  std::uint8_t header[kHeaderSize] = {};
  // Placeholder first; the real header (with the payload's hash) is written once it is known.
  if (std::fwrite(header, 1, kHeaderSize, f.get()) != kHeaderSize) throw std::runtime_error(where + ": write failed");
  Sha256 sha;
  std::vector<char> buf(1 << 20);
  std::uint64_t copied = 0;
  for (std::size_t got; (got = std::fread(buf.data(), 1, buf.size(), in.get())) > 0; copied += got) {
    sha.update(buf.data(), got);
    if (std::fwrite(buf.data(), 1, got, f.get()) != got) throw std::runtime_error(where + ": write failed");
  }
  if (std::ferror(in.get()) || copied != expected) throw std::runtime_error(where + ": reading " + raw.path + " failed");
  in.reset();

  std::uint8_t* p = header;
  std::memcpy(p, kMagic, 8), p += 8;
  putLE(p, kFormatVersion, 4), p += 4;
  putLE(p, static_cast<std::uint64_t>(dim_), 4), p += 4;
  putLE(p, n, 8), p += 8;
  const std::string fp = fingerprint();
  std::memcpy(p, fp.data(), 64), p += 64;
  putLE(p, copied, 8), p += 8;
  const auto digest = sha.digest();
  std::memcpy(p, digest.data(), 32);
  if (std::fseek(f.get(), 0, SEEK_SET) != 0 || std::fwrite(header, 1, kHeaderSize, f.get()) != kHeaderSize ||
      std::fflush(f.get()) != 0)
    throw std::runtime_error(where + ": write failed");
#if defined(__unix__) || defined(__APPLE__)
  if (::fsync(fileno(f.get())) != 0) throw std::runtime_error(where + ": fsync failed");
#endif
  if (std::fclose(f.release()) != 0) throw std::runtime_error(where + ": write failed");
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error(where + ": cannot rename " + tmp + ": " + ec.message());
}

bool EmbeddingIndex::loadGraph(const std::string& path) {
  if (!usesHnsw())
    throw std::logic_error("EmbeddingIndex::loadGraph: the index uses exact search (" + std::to_string(size()) +
                           " items <= hnswThreshold " + std::to_string(opts_.hnswThreshold) +
                           "), there is no HNSW graph to load");
  const std::string where = "EmbeddingIndex::loadGraph: " + path;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (st.type() == fs::file_type::not_found) return false;
  if (ec || st.type() != fs::file_type::regular) throw std::runtime_error(where + ": not a readable file");
  const std::uint64_t fileSize = fs::file_size(path, ec);
  if (ec) throw std::runtime_error(where + ": cannot stat: " + ec.message());
  File f(std::fopen(path.c_str(), "rb"));
  if (!f) throw std::runtime_error(where + ": cannot open");

  GraphFileHeader hdr;
  if (!readGraphHeader(f.get(), where, hdr)) return false;
  const std::uint64_t payloadSize = hdr.payloadSize;
  const std::size_t n = size();
  if (hdr.dim != static_cast<std::uint64_t>(dim_) || hdr.count != n || hdr.fingerprint != fingerprint()) return false;

  if (fileSize != kHeaderSize + payloadSize)
    throw std::runtime_error(where + ": truncated or padded file (" + std::to_string(fileSize) + " bytes, header says " +
                             std::to_string(kHeaderSize + payloadSize) + ")");
  const HnswGeometry geo(dim_, opts_.hnswM, opts_.hnswEfConstruction);
  if (payloadSize < kHnswHeaderSize) throw std::runtime_error(where + ": truncated HNSW graph");

  // (Declared before copyPayloadToScratch's FILE so that it is closed before the scratch file is removed.)
  ScratchFile scratch(path + ".load-" + randomHex() + ".tmp");
  if (copyPayloadToScratch(f, scratch, payloadSize, geo, n, where) != hdr.digest)
    throw std::runtime_error(where + ": checksum mismatch (corrupt file)");

  std::unique_ptr<Hnsw> loaded;
  try {
    loaded = std::make_unique<Hnsw>(dim_, scratch.path, std::max<std::size_t>(n, 1024));
  } catch (const std::exception& e) {
    throw std::runtime_error(where + ": hnswlib could not load the graph: " + e.what());
  }
  loaded->graph.num_deleted_ = 0;  // hnswlib's loading constructor leaves it uninitialised
  checkLoadedGraph(loaded->graph, data_, dim_, n, where);
  hnsw_ = std::move(loaded);
  hnswBuiltSize_ = n;
  return true;
}

std::vector<SearchHit> EmbeddingIndex::search(const std::vector<float>& query, int k, std::int64_t excludeGroup) const {
  if (static_cast<int>(query.size()) != dim_)
    throw std::invalid_argument("EmbeddingIndex: query has dimension " + std::to_string(query.size()) +
                                ", index expects " + std::to_string(dim_));
  return search(query.data(), k, excludeGroup);
}

}  // namespace e2e
