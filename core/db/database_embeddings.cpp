#include "db/database.h"

#include "db/db_internal.h"

#include <sqlite3.h>

#include <cstring>

namespace e2e::db {

// ---------------------------------------------------------- embeddings ----

namespace {
// The precisions an embedding may be stored in (model/precision.h names them; the db stays free of it).
void requireKnownPrecision(const std::string& p) {
  if (p != "fp32" && p != "bf16") throw DbError("unknown embedding precision '" + p + "' (fp32 or bf16)");
}
}  // namespace

std::int64_t Database::putEmbedding(const EmbeddingKey& key, const std::vector<float>& vec, const std::string& inputs) {
  if (key.instanceRowId.has_value() == key.studyRowId.has_value())
    throw DbError("an embedding belongs to exactly one instance or one study");
  if (key.modelId.empty()) throw DbError("embedding without model id");
  requireKnownPrecision(key.precision);
  Transaction tx(*this);
  if (key.instanceRowId)
    stmt("DELETE FROM embeddings WHERE instance_id = ?1 AND model_id = ?2 AND weights_hash = ?3 AND "
         "preproc_version = ?4 AND precision = ?5")
        .bind(1, *key.instanceRowId).bind(2, key.modelId).bind(3, key.weightsHash).bind(4, key.preprocVersion)
        .bind(5, key.precision).run();
  else
    stmt("DELETE FROM embeddings WHERE study_id = ?1 AND model_id = ?2 AND weights_hash = ?3 AND "
         "preproc_version = ?4 AND precision = ?5")
        .bind(1, *key.studyRowId).bind(2, key.modelId).bind(3, key.weightsHash).bind(4, key.preprocVersion)
        .bind(5, key.precision).run();
  stmt("INSERT INTO embeddings(instance_id, study_id, model_id, weights_hash, preproc_version, dim, vec, inputs, "
       "precision, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
      .bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion).bind(6, static_cast<int>(vec.size()))
      .bindBlob(7, vec.data(), vec.size() * sizeof(float)).bind(8, inputs).bind(9, key.precision).run();
  const auto id = sqlite3_last_insert_rowid(db_);
  tx.commit();
  return id;
}

std::optional<std::vector<float>> Database::getEmbedding(const EmbeddingKey& key) {
  auto& q = stmt("SELECT dim, vec FROM embeddings WHERE (instance_id = ?1 OR (?1 IS NULL AND instance_id IS NULL)) "
                 "AND (study_id = ?2 OR (?2 IS NULL AND study_id IS NULL)) AND model_id = ?3 AND "
                 "weights_hash = ?4 AND preproc_version = ?5 AND precision = ?6");
  q.bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion).bind(6, key.precision);
  if (!q.step()) {
    q.reset();
    return std::nullopt;
  }
  const int dim = q.i32(0);
  const auto b = q.blob(1);
  q.reset();
  if (b.size() != static_cast<std::size_t>(dim) * sizeof(float))
    throw DbError("embedding blob size does not match its dimension");
  std::vector<float> v(dim);
  if (dim) std::memcpy(v.data(), b.data(), b.size());
  return v;
}

bool Database::deleteEmbedding(const EmbeddingKey& key) {
  auto& q = stmt("DELETE FROM embeddings WHERE (instance_id = ?1 OR (?1 IS NULL AND instance_id IS NULL)) "
                 "AND (study_id = ?2 OR (?2 IS NULL AND study_id IS NULL)) AND model_id = ?3 AND "
                 "weights_hash = ?4 AND preproc_version = ?5 AND precision = ?6");
  q.bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion).bind(6, key.precision).run();
  return sqlite3_changes(db_) > 0;
}

std::optional<std::string> Database::embeddingInputs(const EmbeddingKey& key) {
  auto& q = stmt("SELECT inputs FROM embeddings WHERE (instance_id = ?1 OR (?1 IS NULL AND instance_id IS NULL)) "
                 "AND (study_id = ?2 OR (?2 IS NULL AND study_id IS NULL)) AND model_id = ?3 AND "
                 "weights_hash = ?4 AND preproc_version = ?5 AND precision = ?6");
  q.bindOpt(1, key.instanceRowId).bindOpt(2, key.studyRowId).bind(3, key.modelId).bind(4, key.weightsHash)
      .bind(5, key.preprocVersion).bind(6, key.precision);
  std::optional<std::string> out;
  if (q.step()) out = q.str(0);
  q.reset();
  return out;
}

void Database::setLoopDecodeError(std::int64_t instanceRowId, const std::string& error) {
  stmt("UPDATE echo_loops SET decode_error = ?2 WHERE instance_id = ?1 AND decode_error <> ?2")
      .bind(1, instanceRowId).bind(2, error).run();
}

std::int64_t Database::undecodableEchoStudies(const std::string& studyModelId, const std::string& weightsHash,
                                              const std::string& preprocVersion, const std::string& precision) {
  auto& q = stmt(
      "SELECT COUNT(*) FROM (SELECT se.study_id AS sid FROM series se JOIN instances i ON i.series_id = se.id "
      " LEFT JOIN echo_loops l ON l.instance_id = i.id WHERE se.modality = 'US' COLLATE NOCASE "
      " GROUP BY se.study_id HAVING SUM(COALESCE(l.decode_error, '') = '') = 0) s "
      "WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.study_id = s.sid AND e.model_id = ?1 AND "
      " e.weights_hash = ?2 AND e.preproc_version = ?3 AND e.precision = ?4)");
  q.bind(1, studyModelId).bind(2, weightsHash).bind(3, preprocVersion).bind(4, precision);
  std::int64_t n = 0;
  if (q.step()) n = q.i64(0);
  q.reset();
  return n;
}

std::map<std::int64_t, std::string> Database::studyEmbeddingInputs(const std::string& modelId,
                                                                   const std::string& weightsHash,
                                                                   const std::string& preprocVersion,
                                                                   const std::string& precision) {
  std::map<std::int64_t, std::string> out;
  auto& q = stmt("SELECT study_id, inputs FROM embeddings WHERE model_id = ?1 AND weights_hash = ?2 AND "
                 "preproc_version = ?3 AND precision = ?4 AND study_id IS NOT NULL");
  q.bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion).bind(4, precision);
  while (q.step()) out[q.i64(0)] = q.str(1);
  q.reset();
  return out;
}

std::map<std::int64_t, std::vector<std::int64_t>> Database::usLoopsByStudy() {
  std::map<std::int64_t, std::vector<std::int64_t>> out;
  auto& q = stmt("SELECT se.study_id, i.id FROM instances i JOIN series se ON se.id = i.series_id "
                 "WHERE se.modality = 'US' COLLATE NOCASE ORDER BY se.study_id, i.id");
  while (q.step()) out[q.i64(0)].push_back(q.i64(1));
  q.reset();
  return out;
}

std::set<std::int64_t> Database::embeddedInstanceIds(const std::string& modelId, const std::string& weightsHash,
                                                     const std::string& preprocVersion,
                                                     const std::string& precision) {
  std::set<std::int64_t> out;
  auto& q = stmt("SELECT instance_id FROM embeddings WHERE model_id = ?1 AND weights_hash = ?2 AND "
                 "preproc_version = ?3 AND precision = ?4 AND instance_id IS NOT NULL");
  q.bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion).bind(4, precision);
  while (q.step()) out.insert(q.i64(0));
  q.reset();
  return out;
}

std::vector<EmbeddingKey> Database::embeddingKeysOfInstance(std::int64_t instanceRowId) {
  std::vector<EmbeddingKey> out;
  auto& q = stmt(
      "SELECT model_id, weights_hash, preproc_version, precision FROM embeddings WHERE instance_id = ?1 ORDER BY id DESC");
  q.bind(1, instanceRowId);
  while (q.step()) {
    EmbeddingKey k;
    k.instanceRowId = instanceRowId;
    k.modelId = q.str(0);
    k.weightsHash = q.str(1);
    k.preprocVersion = q.str(2);
    k.precision = q.str(3);
    out.push_back(std::move(k));
  }
  q.reset();
  return out;
}

std::vector<Database::StoredEmbedding> Database::embeddingsFor(const std::string& modelId,
                                                               const std::string& weightsHash,
                                                               const std::string& preprocVersion,
                                                               const std::string& precision) {
  std::vector<StoredEmbedding> out;
  auto& q = stmt("SELECT instance_id, study_id, dim, vec, inputs FROM embeddings WHERE model_id = ?1 AND "
                 "weights_hash = ?2 AND preproc_version = ?3 AND precision = ?4 ORDER BY id");
  q.bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion).bind(4, precision);
  while (q.step()) {
    StoredEmbedding e;
    e.key.instanceRowId = q.optI64(0);
    e.key.studyRowId = q.optI64(1);
    e.key.modelId = modelId;
    e.key.weightsHash = weightsHash;
    e.key.preprocVersion = preprocVersion;
    e.key.precision = precision;
    const int dim = q.i32(2);
    const auto b = q.blob(3);
    if (b.size() != static_cast<std::size_t>(dim) * sizeof(float)) {
      q.reset();
      throw DbError("embedding blob size does not match its dimension");
    }
    e.vec.resize(dim);
    if (dim) std::memcpy(e.vec.data(), b.data(), b.size());
    e.inputs = q.str(4);
    out.push_back(std::move(e));
  }
  q.reset();
  return out;
}

std::vector<Database::EmbeddingSet> Database::embeddingSets() {
  std::vector<EmbeddingSet> out;
  auto& q = stmt("SELECT model_id, weights_hash, preproc_version, SUM(instance_id IS NOT NULL), "
                 "SUM(study_id IS NOT NULL), MAX(created_at), precision FROM embeddings "
                 "GROUP BY model_id, weights_hash, preproc_version, precision "
                 "ORDER BY model_id, weights_hash, preproc_version, precision");
  while (q.step()) {
    EmbeddingSet e;
    e.modelId = q.str(0);
    e.weightsHash = q.str(1);
    e.preprocVersion = q.str(2);
    e.instances = q.i64(3);
    e.studies = q.i64(4);
    e.lastCreated = q.str(5);
    e.precision = q.str(6);
    out.push_back(std::move(e));
  }
  q.reset();
  return out;
}

std::int64_t Database::deleteEmbeddings(const std::string& modelId, const std::string& weightsHash,
                                        const std::string& preprocVersion, const std::string& precision) {
  Transaction tx(*this);
  stmt("DELETE FROM embeddings WHERE model_id = ?1 AND weights_hash = ?2 AND preproc_version = ?3 AND precision = ?4")
      .bind(1, modelId).bind(2, weightsHash).bind(3, preprocVersion).bind(4, precision).run();
  const std::int64_t n = sqlite3_changes(db_);
  tx.commit();
  return n;
}

Database::EmbeddingCounts Database::embeddingCounts(const std::string& ecgModelId, const std::string& studyModelId,
                                                    const std::string& weightsHash,
                                                    const std::string& preprocVersion,
                                                    const std::string& precision) {
  EmbeddingCounts c;
  auto& q = stmt(
      "SELECT "
      "(SELECT COUNT(*) FROM instances i JOIN series se ON se.id = i.series_id WHERE se.modality = 'ECG' COLLATE NOCASE), "
      "(SELECT COUNT(*) FROM instances i JOIN series se ON se.id = i.series_id WHERE se.modality = 'ECG' COLLATE NOCASE "
      " AND EXISTS (SELECT 1 FROM embeddings e WHERE e.instance_id = i.id AND e.model_id = ?1 AND e.weights_hash = ?3 "
      " AND e.preproc_version = ?4 AND e.precision = ?5)), "
      "(SELECT COUNT(DISTINCT se.study_id) FROM series se JOIN instances i ON i.series_id = se.id "
      " WHERE se.modality = 'US' COLLATE NOCASE), "
      "(SELECT COUNT(DISTINCT se.study_id) FROM series se JOIN instances i ON i.series_id = se.id "
      " WHERE se.modality = 'US' COLLATE NOCASE AND EXISTS (SELECT 1 FROM embeddings e WHERE e.study_id = se.study_id "
      " AND e.model_id = ?2 AND e.weights_hash = ?3 AND e.preproc_version = ?4 AND e.precision = ?5))");
  q.bind(1, ecgModelId).bind(2, studyModelId).bind(3, weightsHash).bind(4, preprocVersion).bind(5, precision);
  if (q.step()) {
    c.ecgInstances = q.i64(0);
    c.ecgEmbedded = q.i64(1);
    c.echoStudies = q.i64(2);
    c.echoStudiesEmbedded = q.i64(3);
  }
  q.reset();
  return c;
}

// ------------------------------------------------------- content stamp ----

Database::ContentStamp Database::contentStamp() {
  ContentStamp c;
  auto& q = stmt(
      "SELECT (SELECT COUNT(*) FROM instances), (SELECT COALESCE(MAX(id),0) FROM instances), "
      "(SELECT COUNT(*) FROM labels), (SELECT COALESCE(MAX(id),0) FROM labels), "
      "(SELECT COUNT(*) FROM embeddings), (SELECT COALESCE(MAX(id),0) FROM embeddings), "
      "(SELECT COUNT(*) FROM predictions), (SELECT COALESCE(MAX(id),0) FROM predictions), "
      "(SELECT COUNT(*) FROM models), (SELECT COALESCE(MAX(id),0) FROM models), "
      "(SELECT COALESCE(GROUP_CONCAT(model_id || ':' || version, ','),'') FROM "
      "(SELECT model_id, version FROM models WHERE active = 1 ORDER BY model_id))");
  if (q.step()) {
    c.instances = q.i64(0);
    c.maxInstanceId = q.i64(1);
    c.labels = q.i64(2);
    c.maxLabelId = q.i64(3);
    c.embeddings = q.i64(4);
    c.maxEmbeddingId = q.i64(5);
    c.predictions = q.i64(6);
    c.maxPredictionId = q.i64(7);
    c.models = q.i64(8);
    c.maxModelId = q.i64(9);
    c.activeModels = q.str(10);
  }
  q.reset();
  return c;
}

}  // namespace e2e::db
