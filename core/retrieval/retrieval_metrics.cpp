#include "retrieval/retrieval_metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace e2e {

RetrievalMetrics computeRetrievalMetrics(const std::vector<std::vector<int>>& rankings,
                                         const std::vector<std::vector<int>>& relevant,
                                         const std::vector<int>& ks) {
  if (rankings.size() != relevant.size())
    throw std::invalid_argument("computeRetrievalMetrics: rankings and relevance differ in length");
  RetrievalMetrics m;
  m.queries = static_cast<int>(rankings.size());
  if (m.queries == 0) return m;
  for (int k : ks) { m.recallAt[k] = 0; m.precisionAt[k] = 0; }
  std::vector<double> ranks;
  double apSum = 0;
  for (std::size_t q = 0; q < rankings.size(); ++q) {
    std::unordered_set<int> rel(relevant[q].begin(), relevant[q].end());
    const auto& r = rankings[q];
    for (int k : ks) {
      int hits = 0;
      for (int i = 0; i < k && i < static_cast<int>(r.size()); ++i) hits += rel.count(r[i]) ? 1 : 0;
      if (!rel.empty()) m.recallAt[k] += double(hits) / rel.size();
      m.precisionAt[k] += double(hits) / k;
    }
    int hits = 0, first = 0;
    double precSum = 0;
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (rel.count(r[i])) {
        ++hits;
        precSum += double(hits) / double(i + 1);
        if (!first) first = static_cast<int>(i + 1);
      }
    }
    if (hits) apSum += precSum / hits;
    ranks.push_back(first ? first : static_cast<double>(r.size() + 1));
  }
  for (int k : ks) { m.recallAt[k] /= m.queries; m.precisionAt[k] /= m.queries; }
  m.mAP = apSum / m.queries;
  m.meanRank = std::accumulate(ranks.begin(), ranks.end(), 0.0) / ranks.size();
  std::sort(ranks.begin(), ranks.end());
  const std::size_t n = ranks.size();
  m.medianRank = n % 2 ? ranks[n / 2] : 0.5 * (ranks[n / 2 - 1] + ranks[n / 2]);
  return m;
}

std::vector<std::vector<int>> phenotypeRelevance(const std::vector<double>& queryValues,
                                                 const std::vector<double>& targetValues, double tolerance) {
  if (targetValues.size() < 2) throw std::invalid_argument("phenotypeRelevance: need at least two targets");
  const double mean = std::accumulate(targetValues.begin(), targetValues.end(), 0.0) / targetValues.size();
  double ss = 0;
  for (double v : targetValues) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / (targetValues.size() - 1));
  const double thr = tolerance * sd;
  std::vector<std::vector<int>> rel(queryValues.size());
  for (std::size_t q = 0; q < queryValues.size(); ++q)
    for (std::size_t t = 0; t < targetValues.size(); ++t)
      if (std::fabs(targetValues[t] - queryValues[q]) <= thr) rel[q].push_back(static_cast<int>(t));
  return rel;
}

std::vector<std::vector<int>> rankBySimilarity(const std::vector<float>& sim, int queries, int targets) {
  if (sim.size() != static_cast<std::size_t>(queries) * targets)
    throw std::invalid_argument("rankBySimilarity: matrix size mismatch");
  std::vector<std::vector<int>> out(queries);
  for (int q = 0; q < queries; ++q) {
    auto& r = out[q];
    r.resize(targets);
    std::iota(r.begin(), r.end(), 0);
    const float* row = sim.data() + static_cast<std::size_t>(q) * targets;
    std::stable_sort(r.begin(), r.end(), [row](int a, int b) { return row[a] > row[b]; });
  }
  return out;
}

std::string formatRetrievalMetrics(const RetrievalMetrics& m, const std::string& prefix) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(4);
  for (auto& [k, v] : m.recallAt) s << prefix << "recall@" << k << " " << v << "\n";
  for (auto& [k, v] : m.precisionAt) s << prefix << "precision@" << k << " " << v << "\n";
  s << prefix << "mAP " << m.mAP << "\n" << prefix << "median_rank " << m.medianRank << "\n"
    << prefix << "mean_rank " << m.meanRank << "\n" << prefix << "queries " << m.queries << "\n";
  return s.str();
}

}  // namespace e2e
