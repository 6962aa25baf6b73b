// The retrieve job: ECG -> echo study search with one embedding model (retrieval::searchSimilarStudies,
// the query ECG's vector computed and stored when missing), or the retrieval evaluation of the test
// split (the aligned model, or the ECG-only baselines that rank studies by their paired ECGs).
#pragma once
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/precision.h"
#include "pipeline/embedding_model.h"
#include "retrieval/retrieval_metrics.h"
#include "retrieval/study_search.h"

namespace e2e::jobs {

struct RetrieveRequest {
  std::string dbPath, model, query;
  int k = 10;
  bool includeSamePatient = false, evaluate = false;
  std::uint64_t seed = 0;
  // "" / "embedding": the model's aligned space. "ecg-features" (with evaluate only): the ECG-only
  // baseline that ranks test studies by the hand-crafted features of their paired ECGs.
  // "paired-ecg" (with evaluate only): the same with the model's ECG embeddings (no echo side needed).
  // Another method, or one of the two without evaluate, throws std::invalid_argument (a usage error).
  std::string method;
  // Exact search up to this many studies, an IVF index above (-1 = EmbeddingIndex's default). The
  // index is saved to DB.index/, reused, and extended with studies embedded since.
  long long exactThreshold = -1;
  // Inference precision of the query ECG's vector; nullopt = auto (model/precision.h). Only study
  // vectors made in the same precision are searched (never a mix); when the model has study vectors
  // in another precision only, the MissingEmbeddings error says which and what to do.
  model::PrecisionRequest precision;
};

// What the model has and lacks in the database, for the report's warnings.
struct RetrieveCoverage {
  long long echoStudies = 0, missing = 0, undecodable = 0, outdated = 0, stale = 0;
  std::string embedCommand;  // the `echo2ecg embed ...` that fills in the missing vectors
  std::string missingText;   // the missing studies in words ("" when none), see missingText()
};

// Thrown when no echo study has a vector of the model: nothing can be searched.
struct MissingEmbeddings : std::runtime_error {
  MissingEmbeddings(const std::string& msg, pipeline::EmbeddingModel m, RetrieveCoverage c)
      : std::runtime_error(msg), model(std::move(m)), coverage(std::move(c)) {}
  pipeline::EmbeddingModel model;
  RetrieveCoverage coverage;
};

struct RetrieveSearchReport {
  pipeline::EmbeddingModel model;
  std::int64_t queryInstanceId = 0;
  std::string queryPatientId;
  retrieval::StudySearchResult result;
  // Issue 23: the query ECG's Mahalanobis distance to the model's training embeddings (NaN when the
  // model has no OOD statistics: DIR/trust.json + ood.pt of `echo2ecg models ood-fit`) and its flag
  // "in" / "out" / "unknown". Results of an "out" query are shown as out of distribution.
  double queryOodScore = std::nan("");
  double queryOodThreshold = std::nan("");
  std::string queryOod = "unknown";
};

struct RetrieveEvaluationReport {
  RetrievalMetrics metrics;
  std::size_t queries = 0, targets = 0;
  nlohmann::ordered_json model;  // the method / model the vectors come from
  std::string modelText;         // the same in words
};

struct RetrieveReport {
  bool evaluation = false;
  model::PrecisionChoice precision;  // the resolved precision and why (not for ecg-features)
  RetrieveCoverage coverage;     // of the aligned model (not for the ECG-only baselines)
  std::optional<RetrieveSearchReport> search;
  std::optional<RetrieveEvaluationReport> evaluated;
  std::vector<std::string> skipped;  // ECGs that could not be read
};

// {"model_id","version","key","weights_hash","preprocessing","precision","source"} of a model.
nlohmann::ordered_json modelJson(const pipeline::EmbeddingModel& m);
// "N of M echo studies have no embedding of ID:V and are not searched (...): run `...`"; "" when none.
std::string missingText(const RetrieveCoverage& c, const pipeline::EmbeddingModel& m);

RetrieveReport runRetrieve(const RetrieveRequest& request);

}  // namespace e2e::jobs
