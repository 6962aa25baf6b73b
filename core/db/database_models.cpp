#include "db/database.h"

#include "db/db_internal.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>

namespace e2e::db {

namespace {
// Parses the flat {"class": number, ...} objects written by probabilitiesJson (nlohmann-json).
// Never throws: a text that is not a JSON object gives an empty map; null counts as 0 (as the
// hand-written reader did), members of other types are skipped.
std::map<std::string, double> parseProbabilities(const std::string& js) {
  std::map<std::string, double> out;
  const auto j = nlohmann::json::parse(js, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return out;  // also a parse error (discarded value)
  for (const auto& [k, v] : j.items()) {
    if (v.is_number()) out[k] = v.get<double>();
    else if (v.is_null()) out[k] = 0.0;
  }
  return out;
}
// {"class": probability, ...} (keys sorted); a value that is not finite is written as 0.
std::string probabilitiesJson(const std::map<std::string, double>& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : p) j[k] = std::isfinite(v) ? v : 0.0;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

// -------------------------------------------------------------- labels ----

namespace {
// The label statements of a study (owner column study_id) or a patient (patient_id): the SQL differs
// only in that column. Built once; the statement cache keys on the text.
enum LabelSql { kLabelUpdate, kLabelInsert, kLabelSelect };
const char* labelSql(LabelSql which, bool study) {
  static const auto make = [](const std::string& col) {
    return std::array<std::string, 3>{
        "UPDATE labels SET value = ?3, created_at = strftime('%Y-%m-%dT%H:%M:%SZ','now') WHERE " + col +
            " = ?1 AND key = ?2 AND source = ?4",
        "INSERT INTO labels(" + col + ", key, value, source, created_at) "
            "VALUES(?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
        "SELECT id, patient_id, study_id, key, value, source, created_at FROM labels WHERE " + col +
            " = ?1 ORDER BY key, source"};
  };
  static const std::array<std::string, 3> studySql = make("study_id"), patientSql = make("patient_id");
  return (study ? studySql : patientSql)[which].c_str();
}
}  // namespace

void Database::setLabel(bool study, std::int64_t ownerRowId, const std::string& key, const std::string& value,
                        const std::string& source) {
  Transaction tx(*this);
  stmt(labelSql(kLabelUpdate, study)).bind(1, ownerRowId).bind(2, key).bind(3, value).bind(4, source).run();
  if (sqlite3_changes(db_) == 0)
    stmt(labelSql(kLabelInsert, study)).bind(1, ownerRowId).bind(2, key).bind(3, value).bind(4, source).run();
  tx.commit();
}

std::vector<LabelRow> Database::labelsOf(bool study, std::int64_t ownerRowId) {
  std::vector<LabelRow> out;
  auto& q = stmt(labelSql(kLabelSelect, study));
  q.bind(1, ownerRowId);
  while (q.step())
    out.push_back({q.i64(0), q.optI64(1), q.optI64(2), q.str(3), q.str(4), q.str(5), q.str(6)});
  q.reset();
  return out;
}

void Database::setStudyLabel(std::int64_t studyRowId, const std::string& key, const std::string& value,
                             const std::string& source) {
  setLabel(true, studyRowId, key, value, source);
}

void Database::setPatientLabel(std::int64_t patientRowId, const std::string& key, const std::string& value,
                               const std::string& source) {
  setLabel(false, patientRowId, key, value, source);
}

std::vector<LabelRow> Database::labelsForStudy(std::int64_t studyRowId) { return labelsOf(true, studyRowId); }

std::vector<LabelRow> Database::labelsForPatient(std::int64_t patientRowId) { return labelsOf(false, patientRowId); }

// --------------------------------------------------------- predictions ----

std::int64_t Database::addPrediction(const PredictionRow& p) {
  if (p.ood != "in" && p.ood != "out" && p.ood != "unknown")
    throw DbError("prediction OOD flag must be in, out or unknown, not \"" + p.ood + "\"");
  if (p.precision != "fp32" && p.precision != "bf16")
    throw DbError("prediction precision must be fp32 or bf16, not \"" + p.precision + "\"");
  Transaction tx(*this);
  auto& q = stmt("INSERT INTO predictions(instance_id, model_id, model_version, weights_hash, task, probabilities, "
                 "created_at, calibrated_probabilities, quality_score, quality_usable, quality_reason, ood_score, ood, "
                 "synthetic_training, precision) VALUES(?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ','now'), "
                 "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  q.bind(1, p.instanceRowId).bind(2, p.modelId).bind(3, p.modelVersion).bind(4, p.weightsHash).bind(5, p.task)
      .bind(6, probabilitiesJson(p.probabilities)).bind(7, probabilitiesJson(p.calibratedProbabilities));
  p.qualityScore ? q.bind(8, *p.qualityScore) : q.bindNull(8);
  p.qualityUsable ? q.bind(9, *p.qualityUsable) : q.bindNull(9);
  q.bind(10, p.qualityReason);
  p.oodScore ? q.bind(11, *p.oodScore) : q.bindNull(11);
  q.bind(12, p.ood).bind(13, static_cast<std::int64_t>(p.syntheticTraining ? (*p.syntheticTraining ? 1 : 0) : -1));
  q.bind(14, p.precision);
  q.run();
  const auto id = sqlite3_last_insert_rowid(db_);
  tx.commit();
  return id;
}

std::vector<PredictionRow> Database::predictionsFor(std::int64_t instanceRowId) {
  std::vector<PredictionRow> out;
  auto& q = stmt("SELECT id, instance_id, model_id, model_version, weights_hash, task, probabilities, created_at, "
                 "calibrated_probabilities, quality_score, quality_usable, quality_reason, ood_score, ood, "
                 "synthetic_training, precision FROM predictions WHERE instance_id = ?1 ORDER BY id");
  q.bind(1, instanceRowId);
  while (q.step()) {
    PredictionRow p;
    p.id = q.i64(0);
    p.instanceRowId = q.i64(1);
    p.modelId = q.str(2);
    p.modelVersion = q.str(3);
    p.weightsHash = q.str(4);
    p.task = q.str(5);
    p.probabilities = parseProbabilities(q.str(6));
    p.createdAt = q.str(7);
    p.calibratedProbabilities = parseProbabilities(q.str(8));
    if (!q.isNull(9)) p.qualityScore = q.dbl(9);
    if (!q.isNull(10)) p.qualityUsable = q.i64(10) != 0;
    p.qualityReason = q.str(11);
    if (!q.isNull(12)) p.oodScore = q.dbl(12);
    p.ood = q.str(13);
    if (q.i64(14) >= 0) p.syntheticTraining = q.i64(14) != 0;
    p.precision = q.str(15);
    out.push_back(std::move(p));
  }
  q.reset();
  return out;
}

std::int64_t Database::registerModel(const ModelRow& m) {
  Transaction tx(*this);
  stmt("INSERT INTO models(model_id, version, parent, weights_hash, card_json, active, created_at) "
       "VALUES(?1, ?2, ?3, ?4, ?5, 0, strftime('%Y-%m-%dT%H:%M:%SZ','now'))")
      .bind(1, m.modelId).bind(2, m.version).bind(3, m.parent).bind(4, m.weightsHash).bind(5, m.cardJson).run();
  const auto id = sqlite3_last_insert_rowid(db_);
  if (m.active) setActiveModel(m.modelId, m.version);
  tx.commit();
  return id;
}

void Database::setActiveModel(const std::string& modelId, const std::string& version) {
  Transaction tx(*this);
  stmt("UPDATE models SET active = 0 WHERE model_id = ?1").bind(1, modelId).run();
  stmt("UPDATE models SET active = 1 WHERE model_id = ?1 AND version = ?2").bind(1, modelId).bind(2, version).run();
  if (sqlite3_changes(db_) == 0) throw DbError("no model " + modelId + " version " + version);
  tx.commit();
}

std::vector<ModelRow> Database::listModels() {
  std::vector<ModelRow> out;
  auto& q = stmt("SELECT id, model_id, version, parent, weights_hash, card_json, created_at, active FROM models "
                 "ORDER BY model_id, id");
  while (q.step())
    out.push_back({q.i64(0), q.str(1), q.str(2), q.str(3), q.str(4), q.str(5), q.str(6), q.i64(7) != 0});
  q.reset();
  return out;
}

}  // namespace e2e::db
