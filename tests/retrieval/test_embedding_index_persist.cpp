// Saving and reloading the HNSW graph of EmbeddingIndex (saveGraph / loadGraph / fingerprint).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "retrieval/embedding_index.h"

using namespace e2e;
namespace fs = std::filesystem;

namespace {
constexpr int kDim = 64;
constexpr int kN = 2000;

std::vector<float> randomVec(std::mt19937& rng, int dim) {
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> v(dim);
  for (auto& x : v) x = n(rng);
  return v;
}

struct Data {
  std::vector<std::vector<float>> vecs, queries;
  Data() {
    std::mt19937 rng(11);
    for (int i = 0; i < kN; ++i) vecs.push_back(randomVec(rng, kDim));
    for (int i = 0; i < 50; ++i) queries.push_back(randomVec(rng, kDim));
  }
};
const Data& data() {
  static const Data d;
  return d;
}

EmbeddingIndex::Options opts(int threads = 1) {
  EmbeddingIndex::Options o;
  o.hnswThreshold = 100;
  o.buildThreads = threads;
  return o;
}

EmbeddingIndex makeIndex(EmbeddingIndex::Options o = opts(), std::size_t n = kN) {
  EmbeddingIndex idx(kDim, o);
  for (std::size_t i = 0; i < n; ++i) idx.add(10000 + i, i / 4, data().vecs[i]);
  return idx;
}

void expectSameResults(const EmbeddingIndex& a, const EmbeddingIndex& b, int k, std::int64_t excl = -1) {
  for (const auto& q : data().queries) {
    auto ha = a.search(q, k, excl), hb = b.search(q, k, excl);
    ASSERT_EQ(ha.size(), hb.size());
    for (std::size_t i = 0; i < ha.size(); ++i) {
      EXPECT_EQ(ha[i].id, hb[i].id);
      EXPECT_EQ(ha[i].group, hb[i].group);
      EXPECT_EQ(ha[i].similarity, hb[i].similarity);  // bit-identical, not just close
    }
  }
}

std::vector<std::string> listDir(const fs::path& d) {
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(d)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

class GraphPersist : public ::testing::Test {
 protected:
  fs::path dir;
  std::string file;
  void SetUp() override {
    dir = fs::path(::testing::TempDir()) /
          ("e2e_hnsw_persist_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    file = (dir / "graph.e2ehnsw").string();
  }
  void TearDown() override { fs::remove_all(dir); }

  std::string readFile() const {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void writeFile(const std::string& bytes) const {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  // loadGraph must throw std::runtime_error naming the path, and leave a working index.
  void expectCorrupt() const {
    auto fresh = makeIndex();
    try {
      fresh.loadGraph(file);
      ADD_FAILURE() << "loadGraph accepted a corrupt file";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
    auto hit = fresh.search(data().vecs[7], 1);  // rebuilds
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].id, 10007);
    EXPECT_EQ(listDir(dir), std::vector<std::string>{"graph.e2ehnsw"});  // no scratch left behind
  }
};
}  // namespace

TEST(EmbeddingIndexFingerprint, DependsOnEveryPartOfTheContent) {
  const auto base = makeIndex().fingerprint();
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(base, makeIndex().fingerprint());  // deterministic
  // Options that do not shape the graph do not matter.
  auto o = opts(4);
  o.hnswEfSearch = 7;
  o.hnswThreshold = 5000;
  EXPECT_EQ(base, makeIndex(o).fingerprint());

  std::vector<std::string> others;
  others.push_back(makeIndex(opts(), kN - 1).fingerprint());
  o = opts();
  o.hnswM = 12;
  others.push_back(makeIndex(o).fingerprint());
  o = opts();
  o.hnswEfConstruction = 100;
  others.push_back(makeIndex(o).fingerprint());
  o = opts();
  o.seed = 101;
  others.push_back(makeIndex(o).fingerprint());
  {
    EmbeddingIndex idx(kDim, opts());  // one id changed
    for (int i = 0; i < kN; ++i) idx.add(i == 5 ? 99 : 10000 + i, i / 4, data().vecs[i]);
    others.push_back(idx.fingerprint());
  }
  {
    EmbeddingIndex idx(kDim, opts());  // one group changed
    for (int i = 0; i < kN; ++i) idx.add(10000 + i, i == 5 ? 77 : i / 4, data().vecs[i]);
    others.push_back(idx.fingerprint());
  }
  {
    EmbeddingIndex idx(kDim, opts());  // one value changed
    for (int i = 0; i < kN; ++i) {
      auto v = data().vecs[i];
      if (i == kN / 2) v[3] += 1e-3f;
      idx.add(10000 + i, i / 4, v);
    }
    others.push_back(idx.fingerprint());
  }
  {
    EmbeddingIndex idx(kDim, opts());  // two items swapped (order matters: labels are positions)
    for (int i = 0; i < kN; ++i) {
      int j = i == 0 ? 1 : i == 1 ? 0 : i;
      idx.add(10000 + j, j / 4, data().vecs[j]);
    }
    others.push_back(idx.fingerprint());
  }
  for (auto& f : others) EXPECT_NE(f, base);
  std::sort(others.begin(), others.end());
  EXPECT_EQ(std::unique(others.begin(), others.end()), others.end());
}

TEST_F(GraphPersist, SaveThenLoadGivesIdenticalResults) {
  // A parallel build inserts in a nondeterministic order, so its graph generally differs from a
  // (single-threaded) rebuild: identical results below show the loaded graph is the saved one.
  auto orig = makeIndex(opts(4));
  ASSERT_TRUE(orig.usesHnsw());
  orig.saveGraph(file);
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"graph.e2ehnsw"});  // no .tmp left

  auto fresh = makeIndex(opts(1));
  ASSERT_TRUE(fresh.loadGraph(file));
  expectSameResults(orig, fresh, 10);
  expectSameResults(orig, fresh, 5, /*excludeGroup=*/3);
  // efSearch from the options still applies after loading.
  orig.setEfSearch(12);
  fresh.setEfSearch(12);
  expectSameResults(orig, fresh, 10);
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"graph.e2ehnsw"});  // no scratch left
}

TEST_F(GraphPersist, SaveBuildsTheGraphAndLoadTwiceIsFine) {
  auto orig = makeIndex();
  orig.saveGraph(file);  // never searched: saveGraph builds first
  auto fresh = makeIndex();
  ASSERT_TRUE(fresh.loadGraph(file));
  ASSERT_TRUE(fresh.loadGraph(file));
  expectSameResults(orig, fresh, 10);
  // Saving over an existing file replaces it atomically.
  fresh.saveGraph(file);
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"graph.e2ehnsw"});
  auto third = makeIndex();
  ASSERT_TRUE(third.loadGraph(file));
  expectSameResults(orig, third, 10);
}

TEST_F(GraphPersist, StaleFileIsNotLoaded) {
  makeIndex().saveGraph(file);
  {
    EmbeddingIndex changed(kDim, opts());  // one vector changed
    for (int i = 0; i < kN; ++i) changed.add(10000 + i, i / 4, data().vecs[i == 123 ? 124 : i]);
    EXPECT_FALSE(changed.loadGraph(file));
    auto hit = changed.search(data().vecs[124], 2);  // rebuilds
    ASSERT_EQ(hit.size(), 2u);
    EXPECT_TRUE((hit[0].id == 10123 && hit[1].id == 10124) || (hit[0].id == 10124 && hit[1].id == 10123));
  }
  {
    auto extra = makeIndex();  // one extra item
    std::mt19937 rng(99);
    extra.add(1, 1, randomVec(rng, kDim));
    EXPECT_FALSE(extra.loadGraph(file));
    auto hit = extra.search(data().vecs[42], 1);
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].id, 10042);
  }
  {
    auto o = opts();
    o.hnswM = 8;  // other graph options
    auto otherM = makeIndex(o);
    EXPECT_FALSE(otherM.loadGraph(file));
    EXPECT_EQ(otherM.search(data().vecs[9], 1).at(0).id, 10009);
  }
  {
    EmbeddingIndex otherDim(kDim / 2, opts());
    for (int i = 0; i < kN; ++i)
      otherDim.add(10000 + i, i / 4, std::vector<float>(data().vecs[i].begin(), data().vecs[i].begin() + kDim / 2));
    EXPECT_FALSE(otherDim.loadGraph(file));
  }
  // The file is still good for the content it was built from.
  auto same = makeIndex();
  EXPECT_TRUE(same.loadGraph(file));
}

TEST_F(GraphPersist, MissingFileReturnsFalse) {
  auto idx = makeIndex();
  EXPECT_FALSE(idx.loadGraph((dir / "nope.e2ehnsw").string()));
  EXPECT_EQ(idx.search(data().vecs[3], 1).at(0).id, 10003);
}

TEST_F(GraphPersist, TruncatedFileThrows) {
  makeIndex().saveGraph(file);
  const auto bytes = readFile();
  writeFile(bytes.substr(0, bytes.size() / 2));
  expectCorrupt();
  writeFile(bytes.substr(0, bytes.size() - 1));  // one byte short
  expectCorrupt();
  writeFile(bytes.substr(0, 60));  // inside the header
  expectCorrupt();
  writeFile(bytes.substr(0, 3));
  expectCorrupt();
  writeFile("");
  expectCorrupt();
}

TEST_F(GraphPersist, GarbageOrFlippedFileThrows) {
  makeIndex().saveGraph(file);
  const auto bytes = readFile();
  std::mt19937 rng(5);
  std::string garbage(bytes.size(), '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  writeFile(garbage);
  expectCorrupt();
  // Right header, garbage graph.
  writeFile(bytes.substr(0, 128) + garbage.substr(128));
  expectCorrupt();
  // One flipped bit in the graph (e.g. a link) is caught by the checksum.
  for (std::size_t at : {std::size_t(128 + 40), bytes.size() / 2, bytes.size() - 3}) {
    auto flipped = bytes;
    flipped[at] ^= 0x10;
    writeFile(flipped);
    expectCorrupt();
  }
  // Extra bytes at the end.
  writeFile(bytes + "x");
  expectCorrupt();
  writeFile(bytes);
  auto idx = makeIndex();
  EXPECT_TRUE(idx.loadGraph(file));
}

TEST_F(GraphPersist, ExactOnlyIndexHasNothingToSave) {
  EmbeddingIndex::Options o;
  o.hnswThreshold = 100;
  auto small = makeIndex(o, 100);  // at the threshold: exact
  ASSERT_FALSE(small.usesHnsw());
  EXPECT_THROW(small.saveGraph(file), std::logic_error);
  EXPECT_THROW(small.loadGraph(file), std::logic_error);
  o.hnswThreshold = 0;  // always exact
  auto exact = makeIndex(o);
  EXPECT_THROW(exact.saveGraph(file), std::logic_error);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(listDir(dir).empty());
}

TEST_F(GraphPersist, SaveFailureLeavesNothingBehind) {
  auto idx = makeIndex();
  const std::string bad = (dir / "no_such_dir" / "graph.e2ehnsw").string();
  EXPECT_THROW(idx.saveGraph(bad), std::runtime_error);
  EXPECT_TRUE(listDir(dir).empty());
  // A failed save does not disturb an existing file either.
  idx.saveGraph(file);
  const auto before = readFile();
  fs::create_directory(file + ".tmp");  // the temporary cannot be created
  EXPECT_THROW(idx.saveGraph(file), std::runtime_error);
  fs::remove(file + ".tmp");
  EXPECT_EQ(readFile(), before);
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"graph.e2ehnsw"});
}
