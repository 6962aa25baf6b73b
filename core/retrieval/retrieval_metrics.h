// Retrieval metrics as the Echo2ECG reference defines them (multimodal/models/Retriever.py):
//  Recall@k    = mean over queries of |top-k ∩ relevant| / |relevant|  (0 for a query with none)
//  Precision@k = mean over queries of |top-k ∩ relevant| / k
//  mAP         = mean over ALL queries of AP (AP = mean precision at each relevant hit over the
//                full ranking; 0 when nothing relevant is retrieved)
//  median/mean rank = rank (1-based) of the first relevant item, N+1 if none
// "Relevant" for phenotype retrieval: |phenotype(target) - phenotype(query)| <= tolerance * SD,
// with SD taken over the distinct targets (tolerance 0.5 in the paper).
#pragma once
#include <map>
#include <string>
#include <vector>

namespace e2e {

struct RetrievalMetrics {
  std::map<int, double> recallAt, precisionAt;  // keyed by k
  double mAP = 0, medianRank = 0, meanRank = 0;
  int queries = 0;
};

// rankings[q]: target indices, best first, over the full candidate list (length N).
// relevant[q]: the set of relevant target indices of query q.
RetrievalMetrics computeRetrievalMetrics(const std::vector<std::vector<int>>& rankings,
                                         const std::vector<std::vector<int>>& relevant,
                                         const std::vector<int>& ks = {1, 3, 5, 10});

// Relevance by phenotype tolerance. queryValues[q] and targetValues[t] are the phenotype
// (e.g. LVEF %); SD is the sample SD (n-1) of targetValues. Returns relevant[q].
std::vector<std::vector<int>> phenotypeRelevance(const std::vector<double>& queryValues,
                                                 const std::vector<double>& targetValues,
                                                 double tolerance = 0.5);

// Full ranking of every target for every query by descending similarity (row-major q x t).
std::vector<std::vector<int>> rankBySimilarity(const std::vector<float>& sim, int queries, int targets);

std::string formatRetrievalMetrics(const RetrievalMetrics& m, const std::string& prefix = "");

}  // namespace e2e
