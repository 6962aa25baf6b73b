#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "retrieval/embedding_index.h"
#include "retrieval/retrieval_metrics.h"

using namespace e2e;

namespace {
std::vector<float> randomVec(std::mt19937& rng, int dim) {
  std::normal_distribution<float> n(0.f, 1.f);
  std::vector<float> v(dim);
  for (auto& x : v) x = n(rng);
  return v;
}
}  // namespace

TEST(RetrievalMetrics, HandComputedExample) {
  // Query 0: relevant {1, 3}; ranking 1,0,3,2 -> hits at ranks 1 and 3.
  // Query 1: relevant {2};    ranking 0,1,3,2 -> hit at rank 4.
  // Query 2: nothing relevant.
  std::vector<std::vector<int>> rank = {{1, 0, 3, 2}, {0, 1, 3, 2}, {3, 2, 1, 0}};
  std::vector<std::vector<int>> rel = {{1, 3}, {2}, {}};
  auto m = computeRetrievalMetrics(rank, rel, {1, 3});
  EXPECT_NEAR(m.recallAt[1], (0.5 + 0 + 0) / 3, 1e-12);
  EXPECT_NEAR(m.recallAt[3], (1.0 + 0 + 0) / 3, 1e-12);
  EXPECT_NEAR(m.precisionAt[1], (1.0 + 0 + 0) / 3, 1e-12);
  EXPECT_NEAR(m.precisionAt[3], (2.0 / 3 + 0 + 0) / 3, 1e-12);
  // AP0 = (1/1 + 2/3)/2, AP1 = 1/4, AP2 = 0; averaged over all three queries.
  EXPECT_NEAR(m.mAP, ((1.0 + 2.0 / 3) / 2 + 0.25) / 3, 1e-12);
  // First-relevant ranks 1, 4 and N+1 = 5.
  EXPECT_DOUBLE_EQ(m.medianRank, 4);
  EXPECT_NEAR(m.meanRank, 10.0 / 3, 1e-12);
}

TEST(RetrievalMetrics, PhenotypeRelevanceUsesHalfSd) {
  std::vector<double> targets = {30, 40, 50, 60, 70};  // sample SD = 15.811
  auto rel = phenotypeRelevance({50, 33}, targets, 0.5);
  EXPECT_EQ(rel[0], (std::vector<int>{2}));      // within 7.9 of 50
  EXPECT_EQ(rel[1], (std::vector<int>{0, 1}));   // 30 and 40 within 7.9 of 33
}

TEST(RetrievalMetrics, PerfectRankingScoresOne) {
  std::vector<float> sim = {0.9f, 0.1f, 0.2f, 0.8f};  // q0 -> t0, q1 -> t1
  auto ranks = rankBySimilarity(sim, 2, 2);
  auto m = computeRetrievalMetrics(ranks, {{0}, {1}}, {1});
  EXPECT_DOUBLE_EQ(m.recallAt[1], 1.0);
  EXPECT_DOUBLE_EQ(m.mAP, 1.0);
  EXPECT_DOUBLE_EQ(m.medianRank, 1.0);
}

TEST(EmbeddingIndex, ExactMatchesBruteForceAndExcludesGroup) {
  std::mt19937 rng(1);
  const int dim = 16, n = 500;
  EmbeddingIndex idx(dim);
  std::vector<std::vector<float>> vecs;
  for (int i = 0; i < n; ++i) {
    vecs.push_back(randomVec(rng, dim));
    idx.add(1000 + i, i / 5, vecs.back());
  }
  auto q = vecs[42];
  auto hits = idx.search(q, 5);
  ASSERT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits[0].id, 1042);                 // itself first
  EXPECT_NEAR(hits[0].similarity, 1.0f, 1e-5);
  for (size_t i = 1; i < hits.size(); ++i) EXPECT_GE(hits[i - 1].similarity, hits[i].similarity);
  auto excl = idx.search(q, 5, /*excludeGroup=*/42 / 5);
  ASSERT_EQ(excl.size(), 5u);
  for (auto& h : excl) EXPECT_NE(h.group, 42 / 5);
}

TEST(EmbeddingIndex, RejectsBadInput) {
  EmbeddingIndex idx(4);
  EXPECT_THROW(idx.add(1, 0, std::vector<float>{1, 2, 3}), std::invalid_argument);
  EXPECT_THROW(idx.add(1, 0, std::vector<float>{0, 0, 0, 0}), std::invalid_argument);
  EXPECT_THROW(idx.add(1, 0, std::vector<float>{NAN, 0, 0, 1}), std::invalid_argument);
  idx.add(1, 0, std::vector<float>{1, 0, 0, 0});
  EXPECT_THROW(idx.add(1, 0, std::vector<float>{0, 1, 0, 0}), std::invalid_argument);
}

class HnswBuild : public ::testing::TestWithParam<int> {};
INSTANTIATE_TEST_SUITE_P(Threads, HnswBuild, ::testing::Values(1, 3));

// Single-threaded (reproducible) and parallel HNSW builds both reach the recall target.
TEST_P(HnswBuild, RecallAgainstExact) {
  std::mt19937 rng(7);
  const int dim = 32, n = 6000;
  EmbeddingIndex::Options o;
  o.hnswThreshold = 1000;  // force the approximate path
  o.buildThreads = GetParam();
  EmbeddingIndex idx(dim, o);
  for (int i = 0; i < n; ++i) idx.add(i, i, randomVec(rng, dim));
  ASSERT_TRUE(idx.usesHnsw());
  int found = 0, total = 0;
  for (int qi = 0; qi < 50; ++qi) {
    auto q = randomVec(rng, dim);
    auto exact = idx.searchExact(q.data(), 10);
    auto approx = idx.search(q, 10);
    ASSERT_EQ(approx.size(), 10u);
    for (auto& e : exact) {
      ++total;
      for (auto& a : approx) found += (a.id == e.id);
    }
  }
  EXPECT_GT(double(found) / total, 0.95);
  // Excluding a group still yields k results from other groups.
  auto q = randomVec(rng, dim);
  auto top = idx.search(q, 3);
  auto excl = idx.search(q, 3, top[0].group);
  ASSERT_EQ(excl.size(), 3u);
  for (auto& h : excl) EXPECT_NE(h.group, top[0].group);
}
