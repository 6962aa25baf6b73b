// The study database: one SQLite file (WAL, foreign keys on), numbered forward migrations
// tracked by PRAGMA user_version. Qt-free. A Database object is used by one thread at a time
// (open one per thread; SQLite WAL lets readers and one writer work side by side).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/types.h"

struct sqlite3;

namespace e2e::db {

class DbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A write to (or a read-write open of) a database this process may not write: the message starts
// with "DB is read-only: PATH (why)".
class ReadOnlyError : public DbError {
 public:
  using DbError::DbError;
};

// DICOM PN normalisation for matching: each component group ('=') and component ('^') is
// trimmed of spaces, trailing empty components/groups are dropped, letters are upper-cased.
// "Doe^John^^" -> "DOE^JOHN"; "DOE^JOHN" -> "DOE^JOHN".
std::string normalizePersonName(const std::string& pn);
bool samePersonName(const std::string& a, const std::string& b);

// A derived DICOM UID ("2.25.<decimal>") from a seed string, for sources that have none.
std::string derivedUid(const std::string& seed);

// What the importer knows of the file on disk.
struct FileFacts {
  std::string path;
  std::uint64_t size = 0;
  std::string sha256;  // of the whole content (all files of a WFDB record)
};

enum class InsertStatus { Added, Skipped, Conflict };
const char* toString(InsertStatus s);
struct InsertResult {
  InsertStatus status = InsertStatus::Added;
  std::int64_t instanceId = 0;     // new row, or the existing one for Skipped/Conflict
  std::string sopInstanceUid;
  std::string existingPath;        // for Skipped/Conflict
  std::string existingSha256;
};

struct PatientRow {
  std::int64_t id = 0;
  std::string patientId, name, nameNorm, birthDate, sex;
  int studyCount = 0;
};

struct StudyRow {
  std::int64_t id = 0, patientRowId = 0;
  std::string studyUid, date, time, description, accession;
  bool synthetic = false;
  std::string patientId, patientName;
  std::string modalities;  // distinct series modalities, comma-separated
  int instanceCount = 0;
};

struct SeriesRow {
  std::int64_t id = 0, studyRowId = 0;
  std::string seriesUid, modality, description;
  int number = 0;
  std::string studyUid;
  int instanceCount = 0;
};

struct InstanceRow {
  std::int64_t id = 0, seriesRowId = 0;
  std::string sopInstanceUid, sopClassUid, path, sha256, format, importedAt;
  std::uint64_t fileSize = 0;
  std::string modality, seriesUid, studyUid, patientId, patientName, studyDate;
};

struct EcgRow {
  double samplingHz = 0;
  std::int64_t numSamples = 0;
  int numLeads = 0;
  std::vector<std::string> leads;
  EcgMeasurements measurements;
  std::vector<std::string> statements;
  std::vector<std::string> diagnoses;
  bool hasMedian = false;
  std::string manufacturer, modelName;
};

struct EchoRow {
  std::int64_t loopId = 0;
  int rows = 0, cols = 0, frames = 0, samplesPerPixel = 1, bitsAllocated = 8, bitsStored = 8;
  double fps = 0;
  std::string fpsSource, photometric, transferSyntaxUid, viewLabel, viewSource, viewCode;
  std::string manufacturer, modelName;
  std::vector<UltrasoundRegion> regions;
};

struct LabelRow {
  std::int64_t id = 0;
  std::optional<std::int64_t> patientRowId, studyRowId;
  std::string key, value, source, createdAt;
};

struct InstanceDetails {
  InstanceRow instance;
  PatientRow patient;
  StudyRow study;
  SeriesRow series;
  std::optional<EcgRow> ecg;
  std::optional<EchoRow> echo;
  std::vector<LabelRow> labels;  // of the study and of the patient
};

// Filters for the list queries. Empty fields do not filter.
struct Filter {
  std::string text;       // substring (case-insensitive) of patient name or patient ID (and UIDs/paths for instances)
  std::string dateFrom;   // study date >= (YYYYMMDD)
  std::string dateTo;     // study date <= (YYYYMMDD)
  std::string modality;   // series modality (ECG, US, ...)
  std::string labelKey;   // study or patient label present with this key ...
  std::string labelValue; // ... and this value (if non-empty)
  std::optional<std::int64_t> patientRowId, studyRowId, seriesRowId;
  int limit = -1;
};

// A study date filter as stored (YYYYMMDD) from "YYYYMMDD" or "YYYY-MM-DD"; "" stays "" (no
// filter). Anything else (e.g. "x", "2024-13-01") throws DbError naming the value and the forms.
std::string normalizeFilterDate(const std::string& date);

struct Counts {
  std::int64_t patients = 0, studies = 0, series = 0, instances = 0, ecgRecords = 0, echoLoops = 0,
               usRegions = 0, labels = 0, embeddings = 0, predictions = 0, models = 0;
};

struct EmbeddingKey {
  std::optional<std::int64_t> instanceRowId, studyRowId;  // exactly one
  std::string modelId, weightsHash, preprocVersion;
  // The precision the vector was computed in: "fp32" or "bf16" (model/precision.h; schema 7). Part of
  // the key: the vectors of one object in two precisions are separate rows.
  std::string precision = "fp32";
};

struct PredictionRow {
  std::int64_t id = 0, instanceRowId = 0;
  std::string modelId, modelVersion, weightsHash, task;
  std::map<std::string, double> probabilities;  // class -> probability (empty: declined)
  std::map<std::string, double> calibratedProbabilities;  // temperature-scaled (empty: declined)
  std::optional<double> qualityScore;   // the ECG's signal quality 0..1; nullopt: not recorded
  std::optional<bool> qualityUsable;    // false: declined, no probabilities
  std::string qualityReason;            // why declined ("" when usable)
  std::optional<double> oodScore;       // Mahalanobis distance to the model's training embeddings
  std::string ood = "unknown";          // "in" / "out" / "unknown" (no statistics, or not recorded)
  std::optional<bool> syntheticTraining;  // the model's training data was synthetic; nullopt: not recorded
  std::string precision = "fp32";       // of the ECG embedding it was computed from: "fp32" / "bf16"
  std::string createdAt;
  bool declined() const { return qualityUsable && !*qualityUsable; }
};

struct ModelRow {
  std::int64_t id = 0;
  std::string modelId, version, parent, weightsHash, cardJson, createdAt;
  bool active = false;
};

// Database::browseRows (core/db/database_browse.cpp): one row per instance with its series, study
// and patient: what a study browser groups into patient -> study -> series -> instance. Filtered like listInstances (text: substring of patient
// name or ID; study dates; series modality; study/patient label; row ids), ordered by patient row,
// study, series number and instance row; at most f.limit rows (all when < 0).
struct BrowseRow {
  std::int64_t patientRowId = 0, studyRowId = 0, seriesRowId = 0, instanceRowId = 0;
  std::string patientId, patientName, birthDate, sex;
  std::string studyUid, studyDate, studyTime, studyDescription, accession;
  bool synthetic = false;
  std::string seriesUid, modality, seriesDescription;
  int seriesNumber = 0;
  std::string sopInstanceUid, path, format;
};

class Database {
 public:
  static constexpr int kLatestVersion = 8;
  // ReadWrite: create/migrate/write; refuses (ReadOnlyError) a file this process may not write.
  // ReadOnly: never writes; the file must exist and have the latest schema.
  // Auto (for viewing: browsers, list/show): ReadWrite when the file and its folder are writable
  // (or the file does not exist yet), else ReadOnly.
  // A read-only connection to a WAL database whose folder cannot be written (SQLite cannot create
  // the -shm file there) reads it as an immutable snapshot: changes others make later are not seen.
  enum class Mode { ReadWrite, ReadOnly, Auto };

  // $E2E_DB, else homeDefaultPath().
  static std::string defaultPath();
  // ~/.local/share/echo2ecg/studies.db: the only database whose missing folder an open creates.
  static std::string homeDefaultPath();

  // Whether this process may write the database at `path`: the file (when it exists) and its
  // folder (SQLite creates the -wal/-shm files beside it; for a new file the nearest existing
  // folder) must be writable (access(2): permissions and read-only file systems). `reason` says
  // which one is not, e.g. "the file is not writable: Permission denied".
  struct WriteAccess {
    bool writable = true;
    std::string reason;
  };
  static WriteAccess writeAccess(const std::string& path);

  // Opens (creating the file in ReadWrite mode; its missing folder only for homeDefaultPath(),
  // any other missing folder is an error) and migrates to the
  // latest schema. Throws DbError if the file is not a database, or if its schema version is
  // newer than this code knows (nothing is changed then); ReadOnlyError when ReadWrite is asked
  // of a database this process may not write, or when an older schema would need a migration
  // that a read-only database cannot get.
  explicit Database(const std::string& path, Mode mode = Mode::ReadWrite);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  // Opened read-only (Mode::ReadOnly, or Mode::Auto on a database this process may not write):
  // every write throws ReadOnlyError. readOnlyReason(): why ("" when writable).
  bool readOnly() const { return readOnly_; }
  const std::string& readOnlyReason() const { return readOnlyReason_; }
  int schemaVersion();
  // PRAGMA user_version of the file at `path`, read-only: never creates, migrates or writes.
  // -1 when the file cannot be opened or read as an SQLite database.
  static int peekSchemaVersion(const std::string& path);
  // The version of the linked SQLite library, e.g. "3.40.1".
  static const char* sqliteVersion();
  sqlite3* handle() { return db_; }
  void exec(const std::string& sql);  // for fixed SQL without values only

  // RAII transaction: BEGIN IMMEDIATE at the outermost level, SAVEPOINT when nested.
  // Rolled back by the destructor unless commit() was called.
  class Transaction {
   public:
    explicit Transaction(Database& db);
    ~Transaction();
    void commit();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

   private:
    Database& db_;
    int depth_;
    bool done_ = false;
  };

  // ---- write (each in its own transaction/savepoint: all rows of one object or none)
  std::int64_t findOrCreatePatient(const Identity& id);
  std::int64_t findOrCreateStudy(std::int64_t patientRowId, const Identity& id);
  std::int64_t findOrCreateSeries(std::int64_t studyRowId, const Identity& id);
  // Added / Skipped (same SOP Instance UID + same sha256) / Conflict (same UID, different
  // content: nothing written). Missing UIDs (non-DICOM sources) are derived from the hash.
  InsertResult insertEcg(const EcgRecord& rec, const FileFacts& file);
  InsertResult insertEcho(const EchoInfo& info, const FileFacts& file);
  bool deleteInstance(std::int64_t instanceRowId);  // cascades to its detail rows

  void setStudyLabel(std::int64_t studyRowId, const std::string& key, const std::string& value,
                     const std::string& source);
  void setPatientLabel(std::int64_t patientRowId, const std::string& key, const std::string& value,
                       const std::string& source);
  std::vector<LabelRow> labelsForStudy(std::int64_t studyRowId);
  std::vector<LabelRow> labelsForPatient(std::int64_t patientRowId);

  // Insert or replace the vector for this key (UNIQUE(object, model, weights hash, preproc, precision);
  // a precision other than "fp32" / "bf16" throws DbError).
  // `inputs`: what the vector was made from where that can change under the same key (a study
  // vector's loops: "12,13!,14", '!' = a loop that could not be decoded); '' = not recorded.
  std::int64_t putEmbedding(const EmbeddingKey& key, const std::vector<float>& vec, const std::string& inputs = "");
  std::optional<std::vector<float>> getEmbedding(const EmbeddingKey& key);
  // Deletes this key's vector; false when there was none.
  bool deleteEmbedding(const EmbeddingKey& key);
  // The stored `inputs` of this key's vector; nullopt when there is no vector.
  std::optional<std::string> embeddingInputs(const EmbeddingKey& key);
  // Records why an echo loop's frames could not be read for an embedding ('' = they were read).
  void setLoopDecodeError(std::int64_t instanceRowId, const std::string& error);
  // Echo studies (modality US) without a study vector of this model/weights/preprocessing none of
  // whose loops decoded the last time it was tried (every loop has a decode error).
  std::int64_t undecodableEchoStudies(const std::string& studyModelId, const std::string& weightsHash,
                                      const std::string& preprocVersion, const std::string& precision = "fp32");
  // study row id -> `inputs` of every study vector of this model/weights/preprocessing/precision (no blobs).
  std::map<std::int64_t, std::string> studyEmbeddingInputs(const std::string& modelId, const std::string& weightsHash,
                                                           const std::string& preprocVersion,
                                                           const std::string& precision = "fp32");
  // study row id -> the instance row ids of its ultrasound loops (modality US), ascending.
  std::map<std::int64_t, std::vector<std::int64_t>> usLoopsByStudy();
  // The instance row ids that have a vector of this model/weights/preprocessing (ids only, no blobs).
  std::set<std::int64_t> embeddedInstanceIds(const std::string& modelId, const std::string& weightsHash,
                                             const std::string& preprocVersion, const std::string& precision = "fp32");
  // The keys of every vector stored for one instance, newest first (no blobs).
  std::vector<EmbeddingKey> embeddingKeysOfInstance(std::int64_t instanceRowId);
  // Every vector of one model/weights/preprocessing/precision (e.g. to build a retrieval index: one
  // precision only, never mixed), by row id.
  struct StoredEmbedding {
    EmbeddingKey key;
    std::vector<float> vec;
    std::string inputs;
  };
  std::vector<StoredEmbedding> embeddingsFor(const std::string& modelId, const std::string& weightsHash,
                                             const std::string& preprocVersion, const std::string& precision = "fp32");
  // Every distinct (model id, weights hash, preprocessing, precision) stored, with its row counts.
  struct EmbeddingSet {
    std::string modelId, weightsHash, preprocVersion, lastCreated, precision = "fp32";
    std::int64_t instances = 0, studies = 0;
  };
  std::vector<EmbeddingSet> embeddingSets();
  // Deletes every vector of one key; returns the number of rows deleted.
  std::int64_t deleteEmbeddings(const std::string& modelId, const std::string& weightsHash,
                                const std::string& preprocVersion, const std::string& precision = "fp32");
  // ECG instances (series modality ECG) and echo studies (a US series with an instance), and how many
  // of them have a vector of ecgModelId / studyModelId with this weights hash and preprocessing.
  struct EmbeddingCounts {
    std::int64_t ecgInstances = 0, ecgEmbedded = 0, echoStudies = 0, echoStudiesEmbedded = 0;
  };
  EmbeddingCounts embeddingCounts(const std::string& ecgModelId, const std::string& studyModelId,
                                  const std::string& weightsHash, const std::string& preprocVersion,
                                  const std::string& precision = "fp32");

  std::int64_t addPrediction(const PredictionRow& p);
  std::vector<PredictionRow> predictionsFor(std::int64_t instanceRowId);

  std::int64_t registerModel(const ModelRow& m);      // unique (model_id, version)
  void setActiveModel(const std::string& modelId, const std::string& version);  // one active per model_id
  std::vector<ModelRow> listModels();

  // ---- read
  std::vector<PatientRow> listPatients(const Filter& f = {});
  std::vector<StudyRow> listStudies(const Filter& f = {});
  std::vector<SeriesRow> listSeries(const Filter& f = {});
  std::vector<InstanceRow> listInstances(const Filter& f = {});
  std::optional<InstanceRow> instanceById(std::int64_t id);
  std::optional<InstanceRow> instanceByUid(const std::string& sopInstanceUid);
  // The highest instance row id, 0 when there are none. Taken before an import, it marks what the
  // import adds: row ids are assigned in increasing order.
  std::int64_t maxInstanceRowId();
  // The instances whose row id is above `rowId`, by ascending row id, at most `limit` of them.
  std::vector<InstanceRow> instancesAfter(std::int64_t rowId, std::size_t limit);
  std::optional<InstanceDetails> details(std::int64_t instanceRowId);
  std::optional<std::int64_t> studyRowIdByUid(const std::string& studyUid);
  std::vector<std::string> allContentHashes();  // sha256 of every stored instance
  Counts counts();
  // Every instance with its series, study and patient, for a study browser (see BrowseRow).
  std::vector<BrowseRow> browseRows(const Filter& f = {});

  // SQLite's PRAGMA data_version: changes whenever ANOTHER connection (another Database object, a
  // child process, another program) commits to the file; cheap enough to poll.
  std::int64_t dataVersion();
  // What a view needs to tell which part of the database changed: per table, its row count and
  // highest row id (a replaced row gets a new id), and the active model versions.
  struct ContentStamp {
    std::int64_t instances = 0, maxInstanceId = 0, labels = 0, maxLabelId = 0, embeddings = 0, maxEmbeddingId = 0;
    std::int64_t predictions = 0, maxPredictionId = 0, models = 0, maxModelId = 0;
    std::string activeModels;  // "id:version,..." of the active versions
  };
  ContentStamp contentStamp();

  // "ok" when PRAGMA integrity_check passes; foreign key violations as "table rowid parent".
  std::string integrityCheck();
  std::vector<std::string> foreignKeyViolations();

  // An online copy of the whole database into the NEW file `out` (SQLite's backup API, one read
  // transaction: a consistent snapshot even while another process writes). Refuses (DbError) an
  // `out` that exists or whose folder does not; a failed copy leaves no `out` behind.
  void backupTo(const std::string& out);

 private:
  friend class Transaction;
  class Stmt;
  Stmt& stmt(const char* sql);
  // opening (the constructor's steps)
  Mode resolveOpenMode(Mode mode, bool exists);  // sets readOnly_ / readOnlyReason_
  void configureConnection(Mode mode);           // pragmas, then migrate or check the schema
  void requireCurrentSchema();                   // a read-only open needs the latest schema
  // Refuses (before anything is written) a file that is not ours: a negative or newer schema
  // version, another application's tables without our schema version, or a version without our tables.
  void requireOwnSchema();
  void migrate();
  // labels of a study (study = true) or a patient
  void setLabel(bool study, std::int64_t ownerRowId, const std::string& key, const std::string& value,
                const std::string& source);
  std::vector<LabelRow> labelsOf(bool study, std::int64_t ownerRowId);
  InsertResult beginInsert(Identity& id, const FileFacts& file, std::int64_t& seriesRowId);
  std::int64_t insertInstanceRow(std::int64_t seriesRowId, const Identity& id, const FileFacts& file,
                                 SourceFormat fmt);

  [[noreturn]] void throwReadOnly(const std::string& what = "") const;

  std::string path_;
  sqlite3* db_ = nullptr;
  int txDepth_ = 0;
  bool readOnly_ = false;
  std::string readOnlyReason_;
  std::map<std::string, std::unique_ptr<Stmt>> cache_;
};

}  // namespace e2e::db
