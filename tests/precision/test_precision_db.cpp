// Stored embeddings and predictions name their precision (schemas 7 and 8): a version-6 database keeps its vectors and
// reads them as fp32, the two precisions of one object are separate rows, and retrieval builds its
// index from one precision only (the query's), never a mix.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/hash.h"
#include "db/database.h"
#include "db/schema.h"
#include "pipeline/embedding_model.h"
#include "retrieval/study_search.h"

namespace fs = std::filesystem;
using namespace e2e;
using db::Database;
using db::EmbeddingKey;

namespace {

class PrecisionDb : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_precision_db_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                                        "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dbPath() const { return (dir_ / "t.db").string(); }
  fs::path dir_;
};

void rawExec(sqlite3* h, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  ASSERT_EQ(rc, SQLITE_OK) << msg << "\n" << sql;
}

// One patient with an ECG and one echo loop in the same study; returns (ECG instance, study row).
std::pair<std::int64_t, std::int64_t> addPairedStudy(Database& db, int n) {
  const std::string s = std::to_string(n);
  EcgRecord ecg;
  ecg.format = SourceFormat::DicomEcg;
  ecg.identity.patientId = "P" + s;
  ecg.identity.patientName = "PATIENT^" + s;
  ecg.identity.studyUid = "1.2.826.0.9.1." + s;
  ecg.identity.seriesUid = "1.2.826.0.9.2." + s;
  ecg.identity.modality = "ECG";
  ecg.identity.sopInstanceUid = "1.2.826.0.9.3." + s;
  EcgGroup g;
  g.samplingHz = 500;
  g.numSamples = 5000;
  ecg.groups.push_back(g);
  const auto e = db.insertEcg(ecg, {"/ecg" + s, 1, sha256Hex("ecg" + s)});
  EchoInfo echo;
  echo.format = SourceFormat::DicomEcho;
  echo.identity = ecg.identity;
  echo.identity.seriesUid = "1.2.826.0.9.4." + s;
  echo.identity.modality = "US";
  echo.identity.sopInstanceUid = "1.2.826.0.9.5." + s;
  echo.rows = 64;
  echo.cols = 64;
  echo.frames = 4;
  db.insertEcho(echo, {"/echo" + s, 1, sha256Hex("echo" + s)});
  for (const auto& st : db.listStudies())
    if (st.studyUid == ecg.identity.studyUid) return {e.instanceId, st.id};
  ADD_FAILURE() << "study not stored";
  return {e.instanceId, -1};
}

pipeline::EmbeddingModel testModel(const std::string& precision) {
  pipeline::EmbeddingModel m;
  m.modelId = "echo2ecg-pretrain";
  m.version = "3";
  m.weightsHash = std::string(64, 'a');
  m.preprocVersion = pipeline::kPreprocVersion;
  m.source = pipeline::EmbeddingModel::Source::Directory;
  m.precision = precision;
  return m;
}

EmbeddingKey studyKey(const pipeline::EmbeddingModel& m, std::int64_t study) {
  EmbeddingKey k;
  k.studyRowId = study;
  k.modelId = m.studyKey();
  k.weightsHash = m.weightsHash;
  k.preprocVersion = m.preprocVersion;
  k.precision = m.precision;
  return k;
}

EmbeddingKey ecgKey(const pipeline::EmbeddingModel& m, std::int64_t instance) {
  EmbeddingKey k = studyKey(m, 0);
  k.studyRowId.reset();
  k.instanceRowId = instance;
  k.modelId = m.ecgKey();
  return k;
}

// A database written by schema `version` (the migration steps up to it, applied by hand) holding
// patient 1, study 7, series 1 and ECG instance 5, plus `rows` (SQL).
void writeDatabaseAtVersion(const std::string& path, int version, const std::string& rows) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &h), SQLITE_OK);
  rawExec(h, "PRAGMA foreign_keys = ON");
  for (int v = 0; v < version; ++v) rawExec(h, db::migrations()[static_cast<std::size_t>(v)]);
  rawExec(h, "PRAGMA user_version = " + std::to_string(version));
  rawExec(h,
          "INSERT INTO patients(id, patient_id, name) VALUES(1, 'P1', 'A^B');"
          "INSERT INTO studies(id, patient_id, study_uid) VALUES(7, 1, '1.2.3');"
          "INSERT INTO series(id, study_id, series_uid, modality) VALUES(1, 7, '1.2.3.1', 'ECG');"
          "INSERT INTO instances(id, series_id, sop_instance_uid, path, sha256, format, imported_at) "
          "VALUES(5, 1, '1.2.3.1.1', '/e', 'x', 'wfdb', '2026-01-01');" +
              rows);
  sqlite3_close(h);
}

}  // namespace

// A database written by the previous schema (version 6: the steps before this one, applied by hand)
// with a study vector and an instance vector: opening it migrates to the latest version, keeps both
// rows with their values and marks them fp32; a bf16 vector of the same key is a second row.
TEST_F(PrecisionDb, MigrationFromVersion6KeepsRowsAsFp32) {
  const int previous = 6;
  ASSERT_GT(Database::kLatestVersion, previous);
  writeDatabaseAtVersion(dbPath(), previous,
            // vectors {1, 2} and {0.5}: little-endian IEEE floats
            "INSERT INTO embeddings(study_id, model_id, weights_hash, preproc_version, dim, vec, inputs, created_at) "
            "VALUES(7, 'm:1/echo-study-aligned', 'h', 'pp', 2, x'0000803F00000040', '3,4', '2026-01-01T00:00:00Z');"
            "INSERT INTO embeddings(instance_id, model_id, weights_hash, preproc_version, dim, vec, created_at) "
            "VALUES(5, 'm:1/ecg-aligned', 'h', 'pp', 1, x'0000003F', '2026-01-01T00:00:00Z');");
  ASSERT_EQ(Database::peekSchemaVersion(dbPath()), previous);
  Database db(dbPath());
  EXPECT_EQ(db.schemaVersion(), Database::kLatestVersion);
  EXPECT_EQ(db.counts().embeddings, 2);
  EmbeddingKey sk;
  sk.studyRowId = 7;
  sk.modelId = "m:1/echo-study-aligned";
  sk.weightsHash = "h";
  sk.preprocVersion = "pp";
  ASSERT_EQ(sk.precision, "fp32");  // the default of a key
  ASSERT_TRUE(db.getEmbedding(sk));
  EXPECT_EQ(*db.getEmbedding(sk), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(db.embeddingInputs(sk).value_or("?"), "3,4");
  const auto keys = db.embeddingKeysOfInstance(5);
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].precision, "fp32");
  const auto sets = db.embeddingSets();
  ASSERT_EQ(sets.size(), 2u);
  for (const auto& s : sets) EXPECT_EQ(s.precision, "fp32") << s.modelId;
  const auto stored = db.embeddingsFor("m:1/echo-study-aligned", "h", "pp");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].key.precision, "fp32");
  // nothing is bf16 yet
  EmbeddingKey bk = sk;
  bk.precision = "bf16";
  EXPECT_FALSE(db.getEmbedding(bk));
  EXPECT_TRUE(db.embeddingsFor("m:1/echo-study-aligned", "h", "pp", "bf16").empty());
  // a bf16 vector of the same object and model is its own row; replacing it keeps the fp32 one
  db.putEmbedding(bk, {3.f, 4.f});
  db.putEmbedding(bk, {5.f, 6.f});
  EXPECT_EQ(db.counts().embeddings, 3);
  EXPECT_EQ(*db.getEmbedding(sk), (std::vector<float>{1.f, 2.f}));
  EXPECT_EQ(*db.getEmbedding(bk), (std::vector<float>{5.f, 6.f}));
  EXPECT_EQ(db.deleteEmbeddings("m:1/echo-study-aligned", "h", "pp", "bf16"), 1);
  EXPECT_EQ(*db.getEmbedding(sk), (std::vector<float>{1.f, 2.f}));
  // no other precision can be stored
  EmbeddingKey bad = sk;
  bad.precision = "fp16";
  EXPECT_THROW(db.putEmbedding(bad, {1.f}), db::DbError);
  EXPECT_THROW(db.exec("UPDATE embeddings SET precision = 'fp16'"), db::DbError);
  EXPECT_EQ(db.counts().embeddings, 2);
}

// Six paired studies: three with fp32 study vectors, three with bf16 ones, of the same model version.
// The search index of an fp32 query holds only the fp32 studies and that of a bf16 query only the bf16
// ones; coverage counts the query's precision and names the other one.
TEST_F(PrecisionDb, IndexNeverMixesPrecisions) {
  Database db(dbPath());
  const auto fp32 = testModel("fp32"), bf16 = testModel("bf16");
  std::vector<std::pair<std::int64_t, std::int64_t>> studies;
  for (int i = 0; i < 6; ++i) studies.push_back(addPairedStudy(db, i));
  std::set<std::int64_t> fp32Studies, bf16Studies;
  for (int i = 0; i < 6; ++i) {
    const bool half = i >= 3;
    std::vector<float> v(4, 0.f);
    v[static_cast<std::size_t>(i % 4)] = 1.f;
    db.putEmbedding(studyKey(half ? bf16 : fp32, studies[i].second), v, "");
    (half ? bf16Studies : fp32Studies).insert(studies[i].second);
  }
  const std::int64_t queryEcg = studies[0].first;
  db.putEmbedding(ecgKey(fp32, queryEcg), {1.f, 0.f, 0.f, 0.f});

  retrieval::StudyIndex index;
  for (const auto* m : {&fp32, &bf16}) {
    const auto r = retrieval::searchSimilarStudies(db, index, *m, {1.f, 0.f, 0.f, 0.f}, {queryEcg, 10, true});
    EXPECT_EQ(r.searched, 3u) << m->precision;
    ASSERT_EQ(r.hits.size(), 3u) << m->precision;
    const auto& expected = m->precision == "fp32" ? fp32Studies : bf16Studies;
    for (const auto& h : r.hits) EXPECT_TRUE(expected.count(h.studyRowId)) << m->precision << " study " << h.studyRowId;
    EXPECT_EQ(r.coverage.echoStudiesEmbedded, 3) << m->precision;
    ASSERT_EQ(r.coverage.otherPrecisions.size(), 1u);
    EXPECT_EQ(r.coverage.otherPrecisions[0], m->precision == "fp32" ? "bf16" : "fp32");
  }
  // the stored query vector is read in the model's precision only
  EXPECT_TRUE(retrieval::storedEcgVector(db, fp32, queryEcg));
  EXPECT_FALSE(retrieval::storedEcgVector(db, bf16, queryEcg));
  // the workstation (stored vectors only) searches in the precision of the query's stored vector
  const auto chosen = retrieval::chooseSearchModel(db, "", queryEcg, true);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->precision, "fp32");
  db.deleteEmbedding(ecgKey(fp32, queryEcg));
  db.putEmbedding(ecgKey(bf16, queryEcg), {1.f, 0.f, 0.f, 0.f});
  const auto chosenBf16 = retrieval::chooseSearchModel(db, "", queryEcg, true);
  ASSERT_TRUE(chosenBf16);
  EXPECT_EQ(chosenBf16->precision, "bf16");
  // a model with vectors in one precision only: the other precision has nothing to search
  for (auto s : bf16Studies) db.deleteEmbedding(studyKey(bf16, s));
  index.invalidate();  // the database changed (the workstation's watcher does this)
  const auto none = retrieval::searchSimilarStudies(db, index, bf16, {1.f, 0.f, 0.f, 0.f}, {queryEcg, 10, true});
  EXPECT_EQ(none.searched, 0u);
  EXPECT_EQ(none.coverage.echoStudiesEmbedded, 0);
  EXPECT_EQ(none.coverage.otherPrecisions, std::vector<std::string>{"fp32"});
  // other-precision rows of the same version are not stale (a run in that precision uses them)
  EXPECT_EQ(pipeline::staleEmbeddingRows(db, bf16), 0);
}

// Schema 8: a version-7 database keeps its predictions and reads them as made from fp32
// embeddings; a new prediction stores its precision, and no other value can be stored.
TEST_F(PrecisionDb, MigrationFromVersion7KeepsPredictionsAsFp32) {
  const int previous = 7;
  writeDatabaseAtVersion(dbPath(), previous,
            "INSERT INTO predictions(instance_id, model_id, model_version, weights_hash, task, probabilities, "
            "created_at, ood) VALUES(5, 'echo2ecg-lvef', '1', 'h', 'lvef', '{\"lt40\":0.25}', "
            "'2026-01-01T00:00:00Z', 'in');");
  Database db(dbPath());
  EXPECT_EQ(db.schemaVersion(), Database::kLatestVersion);
  auto preds = db.predictionsFor(5);
  ASSERT_EQ(preds.size(), 1u);
  EXPECT_EQ(preds[0].precision, "fp32");
  EXPECT_EQ(preds[0].probabilities.at("lt40"), 0.25);
  EXPECT_EQ(preds[0].ood, "in");
  db::PredictionRow p = preds[0];
  p.precision = "bf16";
  db.addPrediction(p);
  p.precision = "fp16";
  EXPECT_THROW(db.addPrediction(p), db::DbError);
  preds = db.predictionsFor(5);
  ASSERT_EQ(preds.size(), 2u);
  EXPECT_EQ(preds[1].precision, "bf16");
  EXPECT_THROW(db.exec("UPDATE predictions SET precision = 'fp16'"), db::DbError);
}
