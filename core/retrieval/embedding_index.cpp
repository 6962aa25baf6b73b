#include "retrieval/embedding_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <queue>
#include <thread>
#include <stdexcept>
#include <unordered_set>

namespace e2e {

struct EmbeddingIndex::Hnsw {
  hnswlib::InnerProductSpace space;
  hnswlib::HierarchicalNSW<float> graph;
  std::mutex mu;  // setEf is not thread-safe
  Hnsw(int dim, std::size_t capacity, const Options& o)
      : space(static_cast<std::size_t>(dim)),
        graph(&space, capacity, static_cast<std::size_t>(o.hnswM), static_cast<std::size_t>(o.hnswEfConstruction),
              static_cast<std::size_t>(o.seed)) {}
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

std::vector<SearchHit> EmbeddingIndex::search(const std::vector<float>& query, int k, std::int64_t excludeGroup) const {
  if (static_cast<int>(query.size()) != dim_)
    throw std::invalid_argument("EmbeddingIndex: query has dimension " + std::to_string(query.size()) +
                                ", index expects " + std::to_string(dim_));
  return search(query.data(), k, excludeGroup);
}

}  // namespace e2e
