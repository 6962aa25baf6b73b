// ECG -> echo study search over the STORED study vectors of one embedding model: the one search
// that `echo2ecg retrieve` and the workstation's retrieval panel both run. Torch- and Qt-free: the
// query ECG's vector is given by the caller (the CLI computes a missing one with the model; the
// panel uses the stored one).
//
// One model only: the ECG vector is compared with the study vectors of exactly the same model id,
// version, weights hash, preprocessing and precision (EmbeddingModel::precision; never mixed). Rows of other versions are never used; studies without
// a vector of the model are left out and counted (coverage).
#pragma once
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "pipeline/embedding_model.h"
#include "retrieval/embedding_index.h"

namespace e2e::retrieval {

// The model whose vectors a search compares: with no `spec` the active registered embedding
// model (as every job); without one, `storedFallback` picks the newest model that has a stored
// vector of `ecgInstanceId` and study vectors (the workstation, which embeds with whatever model
// the user ran), else nullopt. With a spec: resolveEmbeddingModel(db, spec) (throws when unusable).
// With storedFallback the model's precision is the one the stored vectors can be searched in: that of
// the query ECG's newest stored vector that has study vectors of the same precision, else the only
// precision the model has study vectors in (else fp32). Without it, fp32: the caller sets it.
std::optional<pipeline::EmbeddingModel> chooseSearchModel(db::Database& db, const std::string& spec,
                                                          std::int64_t ecgInstanceId, bool storedFallback);

// One result: a study, its similarity and what a reader needs to recognise it.
struct StudyHit {
  int rank = 0;
  std::int64_t studyRowId = 0, patientRowId = -1;
  float similarity = 0.f;
  std::string studyUid, studyDate, description, patientName, patientId;
  std::map<std::string, std::string> labels;  // labels::studyLabels
  double lvefPercent = std::numeric_limits<double>::quiet_NaN();  // labels' lvef_percent, NaN if none
  std::vector<std::string> usPaths, views;    // the study's loops (files, view labels where known)
};

struct StudySearchRequest {
  std::int64_t ecgInstanceId = 0;
  int k = 10;
  bool includeSamePatient = false;  // false: the query's own patient is left out
};

struct StudySearchResult {
  pipeline::EmbeddingCoverage coverage;  // of the model in the whole database
  std::size_t searched = 0;              // study vectors in the index
  // of the searched study vectors: made from other loops than the study has now (loops imported
  // or deleted since it was embedded); searched as they are, re-embedding re-makes them
  std::size_t outdatedSearched = 0;
  std::int64_t queryPatientRowId = -1;
  std::vector<StudyHit> hits;
  std::vector<std::string> notes;        // the index's messages (IVF index built / extended / not saved)
};

// The index of one model's stored study vectors, kept between searches until the model changes or
// invalidate() is called (the database content changed). Above exactThreshold studies the search is
// approximate (an IVF index, see EmbeddingIndex); with graphDir the index is saved there as
// <model key>.ivf and reused while the vectors are unchanged, or extended (the new studies added,
// the file saved again) while the saved studies are still the first ones, in the same order.
class StudyIndex {
 public:
  struct Options {
    // Exact search up to this many studies (EmbeddingIndex::Options::exactThreshold, the retrieve
    // job's --exact-threshold); -1 = EmbeddingIndex's default.
    long long exactThreshold = -1;
    std::string graphDir;          // "" = do not keep the index (folder of the saved IVF index)
  };
  StudyIndex();
  explicit StudyIndex(Options o);
  ~StudyIndex();
  void invalidate();
  // Loads the vectors of `m` (studies that still have ultrasound loops) when not cached.
  const EmbeddingIndex& ensure(db::Database& db, const pipeline::EmbeddingModel& m, std::vector<std::string>* notes);
  // study row id -> patient row id of the cached studies
  const std::map<std::int64_t, std::int64_t>& patientOf() const { return patientOf_; }

 private:
  Options opts_;
  std::string cachedKey_;
  std::unique_ptr<EmbeddingIndex> index_;
  std::map<std::int64_t, std::int64_t> patientOf_;
};

// The top-k studies for `query` (the ECG's vector of model `m`). Throws std::runtime_error when the
// model has no study vector at all ("missing embeddings ...") or the query's dimension differs.
StudySearchResult searchSimilarStudies(db::Database& db, StudyIndex& index, const pipeline::EmbeddingModel& m,
                                       const std::vector<float>& query, const StudySearchRequest& request);

// The stored vector of an ECG under model `m`, if any.
std::optional<std::vector<float>> storedEcgVector(db::Database& db, const pipeline::EmbeddingModel& m,
                                                  std::int64_t ecgInstanceId);

}  // namespace e2e::retrieval
