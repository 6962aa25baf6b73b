// Issue 23: the prediction flags in the study database: schema 6 keeps the predictions of an older
// database (read as quality / OOD unknown) and stores calibrated probabilities, quality, OOD and
// declined rows.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "db/database.h"
#include "db/schema.h"

using namespace e2e::db;
namespace fs = std::filesystem;

namespace {
void exec(sqlite3* h, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << "\n" << sql;
}

// A version-5 database (the schema before issue 23) with one ECG and two predictions.
void makeVersion5Database(const std::string& path) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
  for (int i = 0; i < 5; ++i) exec(h, migrations()[static_cast<std::size_t>(i)]);
  exec(h, "PRAGMA user_version = 5");
  exec(h, "INSERT INTO patients(id, patient_id, name) VALUES(1, 'P1', 'DOE^JANE');"
          "INSERT INTO studies(id, patient_id, study_uid) VALUES(1, 1, '1.2.3');"
          "INSERT INTO series(id, study_id, series_uid, modality) VALUES(1, 1, '1.2.3.4', 'ECG');"
          "INSERT INTO instances(id, series_id, sop_instance_uid, path, sha256, format, imported_at) "
          "VALUES(7, 1, '1.2.3.4.5', '/nowhere/ecg.dcm', 'abc', 'DICOM-ECG', '2026-01-01T00:00:00Z');"
          "INSERT INTO predictions(instance_id, model_id, model_version, weights_hash, task, probabilities, created_at) "
          "VALUES(7, 'echo2ecg-lvef-bundled', '3', 'h', 'lvef', '{\"<40\":0.1,\"40-49\":0.2,\">=50\":0.7}', "
          "'2026-01-01T00:00:00Z');"
          "INSERT INTO predictions(instance_id, model_id, model_version, weights_hash, task, probabilities, created_at) "
          "VALUES(7, 'echo2ecg-shd-bundled', '3', 'h', 'shd', '{\"no_shd\":0.4,\"shd\":0.6}', '2026-01-01T00:00:00Z');");
  sqlite3_close(h);
}
}  // namespace

TEST(TrustDb, MigrationKeepsTheOldPredictions) {
  const auto path = (fs::temp_directory_path() / "trust_v5.db").string();
  fs::remove(path);
  makeVersion5Database(path);
  ASSERT_EQ(Database::peekSchemaVersion(path), 5);
  {
    Database db(path);
    EXPECT_EQ(db.schemaVersion(), Database::kLatestVersion);
    const auto rows = db.predictionsFor(7);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].task, "lvef");
    EXPECT_DOUBLE_EQ(rows[0].probabilities.at(">=50"), 0.7);
    EXPECT_DOUBLE_EQ(rows[1].probabilities.at("shd"), 0.6);
    for (const auto& r : rows) {
      EXPECT_EQ(r.ood, "unknown") << "an old row never reads as in distribution";
      EXPECT_FALSE(r.oodScore.has_value());
      EXPECT_FALSE(r.qualityScore.has_value());
      EXPECT_FALSE(r.qualityUsable.has_value());
      EXPECT_FALSE(r.declined());
      EXPECT_FALSE(r.syntheticTraining.has_value());
      EXPECT_TRUE(r.calibratedProbabilities.empty());
    }
  }
  fs::remove(path);
}

TEST(TrustDb, FlagsAndDeclinedRowsRoundTrip) {
  const auto path = (fs::temp_directory_path() / "trust_flags.db").string();
  fs::remove(path);
  makeVersion5Database(path);
  Database db(path);
  PredictionRow out;
  out.instanceRowId = 7;
  out.modelId = "echo2ecg-lvef-bundled";
  out.modelVersion = "3";
  out.task = "lvef";
  out.probabilities = {{"<40", 0.05}, {"40-49", 0.9}, {">=50", 0.05}};
  out.calibratedProbabilities = {{"<40", 0.2}, {"40-49", 0.6}, {">=50", 0.2}};
  out.qualityScore = 0.93;
  out.qualityUsable = true;
  out.oodScore = 812.5;
  out.ood = "out";
  out.syntheticTraining = true;
  db.addPrediction(out);
  PredictionRow declined = out;
  declined.task = "shd";
  declined.probabilities.clear();
  declined.calibratedProbabilities.clear();
  declined.qualityScore = 0.1;
  declined.qualityUsable = false;
  declined.qualityReason = "V1: flat (peak-to-peak 0.001 mV over 10 s)";
  declined.oodScore.reset();
  declined.ood = "unknown";
  db.addPrediction(declined);
  const auto rows = db.predictionsFor(7);
  ASSERT_EQ(rows.size(), 4u);
  const auto& a = rows[2];
  EXPECT_EQ(a.ood, "out");
  EXPECT_DOUBLE_EQ(*a.oodScore, 812.5);
  EXPECT_DOUBLE_EQ(*a.qualityScore, 0.93);
  EXPECT_TRUE(*a.qualityUsable);
  EXPECT_DOUBLE_EQ(a.calibratedProbabilities.at("40-49"), 0.6);
  EXPECT_TRUE(*a.syntheticTraining);
  const auto& d = rows[3];
  EXPECT_TRUE(d.declined());
  EXPECT_TRUE(d.probabilities.empty());
  EXPECT_EQ(d.qualityReason, declined.qualityReason);
  EXPECT_FALSE(d.oodScore.has_value());
  PredictionRow bad = out;
  bad.ood = "maybe";
  EXPECT_THROW(db.addPrediction(bad), DbError);
  fs::remove(path);
}
