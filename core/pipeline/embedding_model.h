// Which encoder the stored embeddings belong to, and which one a job must use: the embedding-model
// resolver shared by `echo2ecg embed / retrieve / train / models activate` and the GUI. Torch- and
// Qt-free (its own small library, e2e_embedding_model, built even without the models), so that the
// retrieval panel and the model registry of the workstation use exactly the same rules as the CLI.
//
// Embeddings are stored keyed by
//   model id   "<model_id>:<version>/ecg-aligned" (ECG, 512-d aligned), "/echo-view" (per loop) and
//              "/echo-study-aligned" (study, 512-d aligned),
//   weights hash (model::weightsHash of every tensor of the bundle) and
//   preprocessing version (the bundle's, kPreprocVersion or kPreprocFourierVersion) and
//   precision ("fp32" / "bf16": the inference precision the vector was computed in, model/precision.h).
// Retrieval only ever compares an ECG vector with study vectors of the same five values; rows of other
// versions ("stale" after a new version was activated) are ignored, never mixed in, and so are the
// rows of the same version in the other precision (they are not stale: a job run in that precision
// uses them).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/database.h"

namespace e2e::pipeline {

// ECG input contract of the encoders (see data.h): this project's (windowed-sinc resampling), the
// default of bundles whose bundle.json names none, and the official Echo2ECG code's (Fourier
// resampling, scipy.signal.resample), which imported published weights were trained with. A bundle's
// bundle.json "preprocessing" names its version; its embeddings are keyed by it.
inline constexpr const char* kPreprocVersion = "ecg-100Hz-1008-als-v1";
inline constexpr const char* kPreprocFourierVersion = "ecg-100Hz-1008-als-fft-v1";
bool knownPreprocVersion(const std::string& v);
// Throws std::invalid_argument naming the known versions.
void requireKnownPreprocVersion(const std::string& v);

// The registry model id under which `echo2ecg train --task pretrain` registers contrastive (ECG <->
// echo) encoder versions. Its ACTIVE version is the default embedding model of a database.
inline constexpr const char* kEmbeddingModelId = "echo2ecg-pretrain";

// Embedding model ids used as keys (with the weights hash and kPreprocVersion).
std::string ecgEmbeddingId(const std::string& modelId, const std::string& version);    // aligned 512-d
std::string viewEmbeddingId(const std::string& modelId, const std::string& version);   // per loop 512-d
std::string studyEmbeddingId(const std::string& modelId, const std::string& version);  // aligned 512-d

// Model directory: explicit, else $E2E_MODELS_DIR, else models/ beside or above the executable,
// else the source tree's models/. "" if none holds a bundle.json.
std::string findModelsDir(const std::string& explicitDir = "");

struct EmbeddingModel {
  enum class Source {
    Registry,   // a registered version (card with "bundle_dir"); weightsHash is the registered one
    Directory,  // an explicit bundle directory; weightsHash from its bundle.json ("" = known after loading)
    Bundled,    // the bundled models/ (no active registered version); weightsHash as for Directory
  };
  std::string modelId, version, weightsHash, dir;
  std::string preprocVersion = kPreprocVersion;  // the bundle's (card or bundle.json "preprocessing")
  Source source = Source::Bundled;
  bool active = false;  // Registry: the active version of its model id
  // The precision of the embeddings a job reads and writes with this model: "fp32" or "bf16". Not
  // part of the model's identity (label, describe): the jobs set it from their resolved --precision.
  std::string precision = "fp32";

  std::string label() const { return modelId + ":" + version; }  // "echo2ecg-pretrain:2"
  std::string ecgKey() const { return ecgEmbeddingId(modelId, version); }
  std::string viewKey() const { return viewEmbeddingId(modelId, version); }
  std::string studyKey() const { return studyEmbeddingId(modelId, version); }
  // "registry, active" / "registry" / "directory" / "bundled"
  std::string sourceText() const;
  // "echo2ecg-pretrain:2 (weights 0123456789ab, ecg-100Hz-1008-als-v1; registry, active)"
  std::string describe() const;
};

// The active registered version of kEmbeddingModelId, from the database alone (no file checks);
// nullopt when none is registered. `dir` is "" if its card names no bundle_dir.
std::optional<EmbeddingModel> activeRegisteredEmbeddingModel(db::Database& db);

// The embedding model for a job. `spec`:
//   "ID:VERSION"  that registered version (its card must name a "bundle_dir");
//   "ID"          the active version of ID;
//   a directory   (contains '/', starts with '.', or exists) holding a bundle.json;
//   ""            the active registered kEmbeddingModelId version, else the bundled models/.
// With checkFiles, the bundle.json and weights file(s) must exist, and a registered version's
// bundle.json must record its registered weights hash. Every failure throws std::runtime_error with
// a message naming the model and what to do; there is never a fallback to another model. The full
// weights-hash check (hashing the tensors) happens when the pipeline loads the bundle.
EmbeddingModel resolveEmbeddingModel(db::Database& db, const std::string& spec = "", bool checkFiles = true);

// What a study vector was made from, stored with it (embeddings.inputs): the study's loop instance
// ids in ascending order, '!' after one that had no view vector (it could not be decoded):
// "12,13!,14". studyVectorLoops gives the ids back (with or without '!'); it throws
// std::invalid_argument on a malformed list.
std::string studyVectorInputs(const std::vector<std::int64_t>& loopIds, const std::function<bool(std::int64_t)>& decoded);
std::vector<std::int64_t> studyVectorLoops(const std::string& inputs);

// The studies whose stored vector of this model (study key, weights hash, preprocessing) was made
// from other loops than the study has now (loops imported into or deleted from it since, or all of
// them deleted). Vectors
// without recorded inputs (written before schema version 4) are not counted.
std::set<std::int64_t> outdatedStudyVectors(db::Database& db, const std::string& studyModelId,
                                            const std::string& weightsHash, const std::string& preprocVersion,
                                            const std::string& precision = "fp32");

// How much of the database has embeddings of one model in its precision (weightsHash must be known).
struct EmbeddingCoverage {
  std::int64_t ecgInstances = 0, ecgEmbedded = 0, echoStudies = 0, echoStudiesEmbedded = 0;
  std::int64_t staleRows = 0;  // stored rows of other versions/weights/preprocessing of the same model id
  // precisions other than m.precision in which this very model has study vectors ("fp32", "bf16")
  std::vector<std::string> otherPrecisions;
  std::int64_t outdatedStudies = 0;  // study vectors made from other loops than the study has now
  // of the missing studies: those none of whose loops decoded when embed last tried (embedding them
  // again does not help; the embed errors name the files)
  std::int64_t undecodableStudies = 0;
  std::int64_t missingEcg() const { return ecgInstances - ecgEmbedded; }
  std::int64_t missingStudies() const { return echoStudies - echoStudiesEmbedded; }
  bool complete() const { return missingEcg() == 0 && missingStudies() == 0 && outdatedStudies == 0; }
  // Something that running embed again would change (undecodable studies stay missing).
  bool embedWouldHelp() const {
    return missingEcg() > 0 || missingStudies() > undecodableStudies || outdatedStudies > 0;
  }
};
EmbeddingCoverage embeddingCoverage(db::Database& db, const EmbeddingModel& m);

// Stored embedding sets that are stale for `m`: every "<m.modelId>:<any version>/..." key whose
// version, weights hash or preprocessing differs from m's (in any precision; m's own key in another
// precision is not stale). With erase, they are deleted (one
// transaction). Returns the number of rows.
std::int64_t staleEmbeddingRows(db::Database& db, const EmbeddingModel& m, bool erase = false);

}  // namespace e2e::pipeline
