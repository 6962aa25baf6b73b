// Saving and reloading the IVF index of EmbeddingIndex (save / load / fingerprint), appending to a
// saved index.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
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

constexpr int kExtra = 300;  // studies added after the index was saved

std::vector<float> randomVec(std::mt19937& rng, int dim) {
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> v(dim);
  for (auto& x : v) x = n(rng);
  return v;
}

// kN + kExtra vectors around 12 centres (clustered like a cohort's embeddings), and queries.
struct Data {
  std::vector<std::vector<float>> vecs, queries;
  Data() {
    std::mt19937 rng(11);
    std::vector<std::vector<float>> centres;
    for (int c = 0; c < 12; ++c) centres.push_back(randomVec(rng, kDim));
    auto draw = [&] {
      auto v = centres[rng() % centres.size()];
      for (auto& x : v) x += 0.7f * std::normal_distribution<float>(0.f, 1.f)(rng);
      return v;
    };
    for (int i = 0; i < kN + kExtra; ++i) vecs.push_back(draw());
    for (int i = 0; i < 50; ++i) queries.push_back(draw());
  }
};
const Data& data() {
  static const Data d;
  return d;
}

EmbeddingIndex::Options opts() {
  EmbeddingIndex::Options o;
  o.exactThreshold = 100;
  o.nprobe = 8;  // of about 50 lists: approximate, so that the saved partition shows in the answers
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

double recall(const EmbeddingIndex& idx, int k) {
  int found = 0, total = 0;
  for (const auto& q : data().queries) {
    std::set<std::int64_t> truth;
    for (const auto& h : idx.searchExact(q.data(), k)) truth.insert(h.id);
    for (const auto& h : idx.search(q, k)) found += static_cast<int>(truth.count(h.id));
    total += k;
  }
  return double(found) / total;
}

class IvfPersist : public ::testing::Test {
 protected:
  fs::path dir;
  std::string file;
  void SetUp() override {
    dir = fs::path(::testing::TempDir()) /
          ("e2e_ivf_persist_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    file = (dir / "index.ivf").string();
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
  // load must throw std::runtime_error naming the path, and leave a working index.
  void expectCorrupt() const {
    auto fresh = makeIndex();
    try {
      fresh.load(file);
      ADD_FAILURE() << "load accepted a corrupt file";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
    }
    auto hit = fresh.search(data().vecs[7], 1);  // rebuilds
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].id, 10007);
    EXPECT_EQ(listDir(dir), std::vector<std::string>{"index.ivf"});  // no scratch left behind
  }
};
}  // namespace

TEST(EmbeddingIndexFingerprint, DependsOnEveryPartOfTheContent) {
  const auto base = makeIndex().fingerprint();
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(base, makeIndex().fingerprint());  // deterministic
  // Options that do not shape the index do not matter.
  auto o = opts();
  o.nprobe = 7;
  o.exactThreshold = 5000;
  EXPECT_EQ(base, makeIndex(o).fingerprint());

  std::vector<std::string> others;
  others.push_back(makeIndex(opts(), kN - 1).fingerprint());
  o = opts();
  o.nlist = 12;
  others.push_back(makeIndex(o).fingerprint());
  o = opts();
  o.trainPointsPerList = 20;
  others.push_back(makeIndex(o).fingerprint());
  o = opts();
  o.kmeansIterations = 4;
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
    EmbeddingIndex idx(kDim, opts());  // two items swapped (order matters: faiss ids are positions)
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

// fingerprintOf(m) is the fingerprint of the first m items, across the 16384-item blocks whose
// digests are cached, whether they were computed before or after more items were added.
TEST(EmbeddingIndexFingerprint, PrefixFingerprintsAcrossCachedBlocks) {
  const int dim = 4, n = 40000;
  std::mt19937 rng(3);
  std::vector<std::vector<float>> v;
  for (int i = 0; i < n; ++i) v.push_back(randomVec(rng, dim));
  EmbeddingIndex big(dim, opts());
  for (int i = 0; i < 20000; ++i) big.add(i, i, v[i]);
  const auto at20000 = big.fingerprint();  // caches the first block
  for (int i = 20000; i < n; ++i) big.add(i, i, v[i]);
  EXPECT_EQ(big.fingerprintOf(20000), at20000);
  for (std::size_t m : {std::size_t(1), std::size_t(16383), std::size_t(16384), std::size_t(16385),
                        std::size_t(32768), std::size_t(n)}) {
    EmbeddingIndex prefix(dim, opts());
    for (std::size_t i = 0; i < m; ++i) prefix.add(static_cast<std::int64_t>(i), static_cast<std::int64_t>(i), v[i]);
    EXPECT_EQ(big.fingerprintOf(m), prefix.fingerprint()) << m;
    if (m > 1) EXPECT_NE(big.fingerprintOf(m - 1), prefix.fingerprint()) << m;
  }
}

TEST_F(IvfPersist, SaveThenLoadGivesIdenticalResults) {
  auto orig = makeIndex();
  orig.search(data().queries[0], 5);  // builds
  ASSERT_TRUE(orig.usesApproximate());
  orig.save(file);
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"index.ivf"});  // no .tmp left
  auto fresh = makeIndex();
  ASSERT_EQ(fresh.load(file), EmbeddingIndex::LoadResult::Loaded);
  EXPECT_EQ(fresh.nlist(), orig.nlist());
  expectSameResults(orig, fresh, 10);
  expectSameResults(orig, fresh, 10, /*excl=*/3);
  EXPECT_GE(recall(fresh, 10), 0.99);
}

TEST_F(IvfPersist, SaveBuildsTheIndexAndLoadTwiceIsFine) {
  auto orig = makeIndex();
  orig.save(file);  // never searched: save builds first
  auto fresh = makeIndex();
  ASSERT_EQ(fresh.load(file), EmbeddingIndex::LoadResult::Loaded);
  ASSERT_EQ(fresh.load(file), EmbeddingIndex::LoadResult::Loaded);
  expectSameResults(orig, fresh, 5);
  fresh.save(file);
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"index.ivf"});
  auto third = makeIndex();
  ASSERT_EQ(third.load(file), EmbeddingIndex::LoadResult::Loaded);
  expectSameResults(orig, third, 5);
}

// Studies added after the save: the saved index is extended (no re-training), answers as well as a
// full build of the same content, and saving it again gives a file that loads as it is.
TEST_F(IvfPersist, NewItemsAreAppendedToTheSavedIndex) {
  makeIndex().save(file);
  auto grown = makeIndex(opts(), kN + kExtra);
  ASSERT_EQ(grown.load(file), EmbeddingIndex::LoadResult::Appended);
  auto full = makeIndex(opts(), kN + kExtra);
  full.build();  // trained on all the content
  auto saved = makeIndex();
  saved.build();
  EXPECT_EQ(grown.nlist(), saved.nlist());  // the saved partition, not a new one
  EXPECT_GE(recall(grown, 10), 0.99);
  EXPECT_GE(recall(full, 10), 0.99);
  // The new items are found: each one is its own nearest neighbour.
  for (int i = kN; i < kN + kExtra; i += 37) {
    auto hit = grown.search(data().vecs[i], 1);
    ASSERT_EQ(hit.size(), 1u);
    EXPECT_EQ(hit[0].id, 10000 + i);
  }
  grown.save(file);
  auto again = makeIndex(opts(), kN + kExtra);
  ASSERT_EQ(again.load(file), EmbeddingIndex::LoadResult::Loaded);
  expectSameResults(grown, again, 10);
  expectSameResults(grown, again, 10, /*excl=*/2);
  // Appending in memory after a build gives the same lists as appending to the loaded file.
  auto inMemory = makeIndex();
  inMemory.build();
  for (int i = kN; i < kN + kExtra; ++i) inMemory.add(10000 + i, i / 4, data().vecs[i]);
  expectSameResults(grown, inMemory, 10);
}

TEST_F(IvfPersist, StaleFileIsNotLoaded) {
  makeIndex().save(file);
  {
    EmbeddingIndex changed(kDim, opts());  // same count, one vector differs
    for (int i = 0; i < kN; ++i) changed.add(10000 + i, i / 4, data().vecs[i == 9 ? 10 : i]);
    EXPECT_EQ(changed.load(file), EmbeddingIndex::LoadResult::Stale);
    EXPECT_EQ(changed.nlist(), 0u);  // nothing loaded
  }
  {
    EmbeddingIndex prefixChanged(kDim, opts());  // more items, but the saved ones are not a prefix
    for (int i = 0; i < kN + kExtra; ++i) prefixChanged.add(10000 + i, i == 3 ? 1 : i / 4, data().vecs[i]);
    EXPECT_EQ(prefixChanged.load(file), EmbeddingIndex::LoadResult::Stale);
  }
  EXPECT_EQ(makeIndex(opts(), kN - 1).load(file), EmbeddingIndex::LoadResult::Stale);  // one removed
  {
    auto o = opts();
    o.seed = 8;  // other training options
    EXPECT_EQ(makeIndex(o).load(file), EmbeddingIndex::LoadResult::Stale);
  }
  {
    EmbeddingIndex otherDim(kDim - 1, opts());
    for (int i = 0; i < kN; ++i) otherDim.add(10000 + i, i / 4, std::vector<float>(data().vecs[i].begin(), data().vecs[i].end() - 1));
    EXPECT_EQ(otherDim.load(file), EmbeddingIndex::LoadResult::Stale);
  }
  {
    // More than kRetrainGrowth x the trained items: retrain rather than extend.
    makeIndex(opts(), 400).save(file);
    EXPECT_EQ(makeIndex(opts(), 1600).load(file), EmbeddingIndex::LoadResult::Appended);
    EXPECT_EQ(makeIndex(opts(), 1601).load(file), EmbeddingIndex::LoadResult::Stale);
  }
  {
    // Another format version (e.g. the HNSW graph files of version 1) is stale, not an error.
    makeIndex().save(file);
    auto bytes = readFile();
    bytes[8] = 1;
    writeFile(bytes);
    EXPECT_EQ(makeIndex().load(file), EmbeddingIndex::LoadResult::Stale);
  }
}

TEST_F(IvfPersist, MissingFileReturnsMissing) {
  auto idx = makeIndex();
  EXPECT_EQ(idx.load((dir / "nope.ivf").string()), EmbeddingIndex::LoadResult::Missing);
  EXPECT_EQ(idx.search(data().vecs[3], 1).at(0).id, 10003);
}

TEST_F(IvfPersist, TruncatedFileThrows) {
  makeIndex().save(file);
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

TEST_F(IvfPersist, GarbageOrFlippedFileThrows) {
  makeIndex().save(file);
  const auto bytes = readFile();
  std::mt19937 rng(5);
  std::string garbage(bytes.size(), '\0');
  for (auto& c : garbage) c = static_cast<char>(rng());
  writeFile(garbage);
  expectCorrupt();
  // Right header, garbage payload.
  writeFile(bytes.substr(0, 144) + garbage.substr(144));
  expectCorrupt();
  // One flipped bit in a centroid or a list number is caught by the checksum.
  for (std::size_t at : {std::size_t(144 + 40), bytes.size() / 2, bytes.size() - 3}) {
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
  EXPECT_EQ(idx.load(file), EmbeddingIndex::LoadResult::Loaded);
}

TEST_F(IvfPersist, ExactOnlyIndexHasNothingToSave) {
  EmbeddingIndex::Options o;
  o.exactThreshold = 100;
  auto small = makeIndex(o, 100);  // at the threshold: exact
  ASSERT_FALSE(small.usesApproximate());
  EXPECT_THROW(small.save(file), std::logic_error);
  EXPECT_THROW(small.load(file), std::logic_error);
  o.exactThreshold = 0;  // always exact
  auto exact = makeIndex(o);
  EXPECT_THROW(exact.save(file), std::logic_error);
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(listDir(dir).empty());
}

TEST_F(IvfPersist, SaveFailureLeavesNothingBehind) {
  auto idx = makeIndex();
  const std::string bad = (dir / "no_such_dir" / "index.ivf").string();
  EXPECT_THROW(idx.save(bad), std::runtime_error);
  EXPECT_TRUE(listDir(dir).empty());
  // A failed save does not disturb an existing file either.
  idx.save(file);
  const auto before = readFile();
  fs::create_directory(file + ".tmp");  // the temporary cannot be created
  EXPECT_THROW(idx.save(file), std::runtime_error);
  fs::remove(file + ".tmp");
  EXPECT_EQ(readFile(), before);
  EXPECT_EQ(listDir(dir), std::vector<std::string>{"index.ivf"});
}
