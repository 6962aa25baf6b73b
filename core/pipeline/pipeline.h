// Echo2ECG model jobs on the study database: data preparation (ECG tensors, echo clips, the
// paired cohort and its patient split), embedding, training (docs/training-protocol.md),
// evaluation, prediction and ECG -> echo retrieval. This header is torch-free so that the CLI
// translation units compile fast; the torch work lives in pipeline.cpp.
//
// ECG input contract (preprocessing version kPreprocVersion = "ecg-100Hz-1008-als-v1"):
//   rhythm group -> 12 standard leads in mV -> resampled to 100 Hz (10 s = 1000 samples; the
//   OTiS/Echo2ECG encoder was trained on 10 s ECGs at 100 Hz) -> zero-padded / cropped AT THE END
//   to 1008 samples (1008 = 42 patches of 24, the encoder's input length) -> NaN->0, clip +-4 SD of
//   the whole array, ALS baseline removal per lead, group-wise z-normalisation {I-III, aVR-aVF, V1-V6}.
//   Zero-padding happens before preprocessing, as in the reference (which pads the raw array).
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/types.h"
#include "db/database.h"
#include "pipeline/embedding_model.h"  // kPreprocVersion, embedding keys, the embedding-model resolver

namespace e2e::pipeline {

inline constexpr double kEcgHz = 100.0;
inline constexpr std::size_t kEcgLeads = 12;
inline constexpr std::size_t kEcgSamples = 1008;

// ------------------------------------------------------------------ data (torch-free) ----

// 12 x 1008 row-major preprocessed ECG. Throws (ReadError / invalid_argument) on unusable input.
std::vector<float> ecgInputFromRecord(const EcgRecord& rec);
std::vector<float> ecgInputFromFile(const std::string& path);

// ECG-only baseline features (no deep model): device measurements (HR, PR, QRS, QT, QTc, QRS axis;
// 0 when absent) and, per standard lead at 100 Hz before normalisation, the peak-to-peak amplitude and
// standard deviation in mV (QRS voltage proxies): 6 + 24 values.
std::vector<float> handcraftedEcgFeatures(const std::string& path);

// One ECG instance with its study/patient context and labels.
struct Sample {
  std::int64_t ecgInstanceId = 0, studyRowId = 0, patientRowId = 0;
  std::string patientId, studyUid, ecgPath;
  std::vector<std::int64_t> echoInstanceIds;  // US loops of the same study
  std::vector<std::string> echoPaths;
  double lvefPercent = kNaN;
  int lvefClass = -1;  // 0: <40, 1: 40-49, 2: >=50
  int shd = -1;        // 0/1
};

// Every ECG instance (optionally filtered by patient text), with the echo loops of its study and
// its labels (study labels override patient labels). `requireEcho` keeps paired studies only.
std::vector<Sample> loadSamples(db::Database& db, const std::string& filterText = "", bool requireEcho = false);

// Deterministic 70/15/15 split by patient from the seed: 0 train, 1 val, 2 test per sample.
std::vector<int> splitByPatient(const std::vector<Sample>& samples, std::uint64_t seed);

// Class id of a sample for a task ("lvef" 3 classes, "shd" 2), -1 when unlabelled.
int labelFor(const Sample& s, const std::string& task);
std::vector<std::string> classNames(const std::string& task);

// ------------------------------------------------------------------ jobs (torch) ----

struct Cancel {
  std::atomic<bool>* flag = nullptr;
  bool requested() const { return flag && flag->load(); }
};

struct EmbedOptions {
  std::string model;         // resolveEmbeddingModel spec: "ID:VERSION", "ID", a bundle DIR, "" = active/bundled
  int batchSize = 16;
  int threads = 0;           // 0 = all cores
  std::string device = "auto";
  bool quiet = false;        // no "\r" progress on stderr
  bool pruneStale = false;   // after a complete run: delete the stale rows of other versions (staleEmbeddingRows)
  // Progress per batch: stage "ecg" or "echo", items done / total to compute (replaces the stderr text).
  std::function<void(const std::string& stage, int done, int total)> progress;
};
struct EmbedReport {
  std::string modelKey, weightsHash;  // "ID:VERSION" and the verified weights hash
  EmbeddingModel model;
  int ecgAdded = 0, ecgSkipped = 0, viewAdded = 0, viewSkipped = 0, studyAdded = 0, studySkipped = 0, errors = 0;
  int studyUpdated = 0;  // study vectors re-made: the study's loops (or which of them decode) changed
  int studyDropped = 0;  // study vectors deleted: the study has no loop left that decodes
  std::vector<std::string> errorMessages;
  std::int64_t staleRows = 0, prunedRows = 0;  // rows of other versions of the model id: kept / deleted
  double seconds = 0;
  bool cancelled = false;
};
// Resolves the model (resolveEmbeddingModel), loads it checking its weights hash (a registered
// version's files must hash to the registered value: std::runtime_error otherwise), and stores what
// is missing. Throws before any work if the model cannot be used.
EmbedReport runEmbed(db::Database& db, const EmbedOptions& opt, Cancel cancel = {});

struct TrainOptions {
  // modelDir: the encoder to start from (resolveEmbeddingModel spec: "ID:VERSION", "ID" or a bundle DIR);
  // "" = for lvef/shd the database's embedding model (active echo2ecg-pretrain, else bundled), for
  // pretrain a freshly initialised bundle. baseModel: a registered encoder "ID:VERSION" (same checks).
  std::string dbPath, task, method = "linear", runDir, device = "auto", baseModel, filterText, labelKey, modelDir;
  int epochs = 10, batchSize = 16;
  double lr = -1, weightDecay = -1;  // < 0: task default
  std::uint64_t seed = 0;
  bool resume = false, jsonProgress = false, dryRun = false;
  // pretrain only: ECG encoder depth of a freshly initialised model (12 = reference ViT).
  int ecgDepth = 12;
  int videoSize = 64;  // pretrain / echo-pretrain: echo clip side in pixels for a fresh bundle
  // pretrain only: take the (frozen) video encoder of this bundle (resolveEmbeddingModel spec: a
  // registered "ID:VERSION" such as echo2ecg-echo-pretrain:1, or a bundle DIR) instead of a random one.
  std::string videoModel;
  double temperature = 0.5;  // pretrain: CLIP temperature (reference 0.5)
  double layerDecay = 0.75;  // pretrain / full: layer-wise lr decay over the ECG blocks (1 = off)
  // Training precision: "auto" (bfloat16 autocast on CUDA, fp32 on the CPU), "bf16" (autocast on any
  // device), "fp32".
  std::string precision = "auto";
  std::string targets;       // echo-pretrain: comma-separated report label keys ("" = lvef_percent,edv,esv,wall_mm,lv_mass_g)
  bool register_ = true;
};
// Runs the job, writing protocol events to stdout (JSON with jsonProgress, else text to stderr).
// Returns the protocol exit code (0, 1, 2, 130).
int runTrain(const TrainOptions& opt, Cancel cancel = {});

struct EvaluateOptions {
  std::string dbPath, task, model, modelDir;  // model: "ID:VERSION", "ID" (active), "" = active or bundled
  std::uint64_t seed = 0;
  int bootstrap = 1000;
};
int runEvaluate(const EvaluateOptions& opt);

struct PredictOptions {
  std::string dbPath, modelDir;
  std::vector<std::string> ids;  // instance row ids or SOP instance UIDs; empty = every ECG
  bool json = false;
};
int runPredict(const PredictOptions& opt);

// ECG -> echo study retrieval with ONE embedding model (resolveEmbeddingModel(model)): the query ECG's
// vector (computed and stored if missing) and the stored study vectors of exactly that model id,
// version, weights hash and preprocessing; study vectors are never computed here and rows of other
// versions are never used. Studies without a vector of the model are left out and counted (text:
// a warning on stderr; --json: "missing_studies"); with none at all it throws std::runtime_error
// ("... missing embeddings ... run `echo2ecg embed`"). The output names the model version.
struct RetrieveOptions {
  std::string dbPath, model, query;
  int k = 10;
  bool includeSamePatient = false, evaluate = false, json = false;
  std::uint64_t seed = 0;
  // "" / "embedding": the model's aligned space. "ecg-features" (with evaluate only): the ECG-only
  // baseline that ranks test studies by the hand-crafted features of their paired ECGs.
  // "paired-ecg" (with evaluate only): the same with the model's ECG embeddings (no echo side needed).
  // Another method, or one of the two without evaluate, throws std::invalid_argument (a usage error).
  std::string method;
  // Exact search up to this many studies, HNSW above (-1 = EmbeddingIndex's default). The HNSW
  // graph is saved to DB.index/ and reused while the study embeddings are unchanged.
  long long hnswThreshold = -1;
};
int runRetrieve(const RetrieveOptions& opt);

}  // namespace e2e::pipeline
