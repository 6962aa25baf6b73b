// Study database: schema, migrations, PN matching, idempotent insert, conflicts, integrity.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/hash.h"
#include "db/change_watch.h"
#include "db/database.h"
#include "db_records.h"

namespace fs = std::filesystem;
using namespace e2e;
using namespace e2e::db;

namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("e2e_db_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dbPath() const { return (dir_ / "studies.db").string(); }
  fs::path dir_;
};

EchoInfo makeEcho(const std::string& sop, const std::string& studyUid) {
  EchoInfo e;
  e.format = SourceFormat::DicomEcho;
  e.identity.patientId = "P001";
  e.identity.patientName = "DOE^JOHN^^";  // same patient by PN rules
  e.identity.studyUid = studyUid;
  e.identity.studyDate = "20240316";
  e.identity.seriesUid = "1.2.826.0.2.2." + sop;
  e.identity.modality = "US";
  e.identity.sopClassUid = "1.2.840.10008.5.1.4.1.1.3.1";
  e.identity.sopInstanceUid = "1.2.826.0.2.3." + sop;
  e.rows = 600;
  e.cols = 800;
  e.frames = 40;
  e.fps = 50;
  e.fpsSource = FrameRateSource::FrameTime;
  e.photometric = "YBR_FULL_422";
  e.transferSyntaxUid = "1.2.840.10008.1.2.4.50";
  e.viewLabel = "A4C";
  e.viewSource = ViewLabelSource::ViewCodeSequence;
  UltrasoundRegion r;
  r.x0 = 10;
  r.y0 = 20;
  r.x1 = 700;
  r.y1 = 500;
  r.spatialFormat = 1;
  r.dataType = 1;
  r.unitsX = 3;
  r.unitsY = 3;
  r.deltaX = 0.03;
  r.deltaY = 0.031;
  e.regions.push_back(r);
  r.spatialFormat = 3;
  r.unitsY = 7;
  r.y0 = 510;
  r.y1 = 590;
  e.regions.push_back(r);
  return e;
}

FileFacts facts(const std::string& path, const std::string& content) {
  return FileFacts{path, content.size(), sha256Hex(content)};
}

int userVersion(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr);
  int v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

void rawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << msg;
}

}  // namespace

TEST(PersonName, DicomRules) {
  EXPECT_TRUE(samePersonName("DOE^JOHN", "DOE^JOHN^^"));
  EXPECT_TRUE(samePersonName("DOE^JOHN", "Doe^John"));
  EXPECT_TRUE(samePersonName("DOE ^ JOHN", "DOE^JOHN^^^"));
  EXPECT_TRUE(samePersonName("DOE^JOHN^^^=", "DOE^JOHN"));
  EXPECT_FALSE(samePersonName("DOE^JOHN", "DOE^JANE"));
  EXPECT_FALSE(samePersonName("DOE^JOHN", "DOE^^JOHN"));  // given name vs middle name differ
  EXPECT_FALSE(samePersonName("DOE^JOHN", "DOE^JOHN^A"));
  EXPECT_EQ(normalizePersonName("Doe^John^^"), "DOE^JOHN");
  EXPECT_EQ(normalizePersonName("^^^"), "");
  EXPECT_EQ(normalizePersonName("Yamada^Tarou=山田^太郎"), "YAMADA^TAROU=山田^太郎");
}

TEST(DerivedUid, ValidAndStable) {
  const auto a = derivedUid("x"), b = derivedUid("x"), c = derivedUid("y");
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.rfind("2.25.", 0), 0u);
  EXPECT_LE(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789."), std::string::npos);
  EXPECT_NE(a[5], '0');
}

TEST_F(DbTest, CreatesLatestSchemaWithPragmas) {
  Database db(dbPath());
  EXPECT_EQ(db.schemaVersion(), Database::kLatestVersion);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "PRAGMA journal_mode", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "PRAGMA foreign_keys", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);
  sqlite3_finalize(st);
  for (const char* table : {"patients", "studies", "series", "instances", "ecg_records", "echo_loops", "us_regions",
                            "labels", "embeddings", "predictions", "models"}) {
    ASSERT_EQ(sqlite3_prepare_v2(db.handle(), "SELECT COUNT(*) FROM sqlite_master WHERE type='table' AND name=?1",
                                 -1, &st, nullptr),
              SQLITE_OK);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 1) << table;
    sqlite3_finalize(st);
  }
  EXPECT_EQ(db.integrityCheck(), "ok");
  EXPECT_EQ(db.counts().instances, 0);
}

TEST_F(DbTest, MigratesVersion1FixtureAndKeepsData) {
  std::ifstream in(std::string(E2E_SOURCE_DIR) + "/tests/db/fixtures/schema_v1.sql");
  ASSERT_TRUE(in) << "fixture missing";
  std::stringstream ss;
  ss << in.rdbuf();
  rawExec(dbPath(), ss.str());
  ASSERT_EQ(userVersion(dbPath()), 1);
  {
    Database db(dbPath());
    EXPECT_EQ(db.schemaVersion(), Database::kLatestVersion);
    auto inst = db.instanceByUid("1.2.3.4.1.1.1");
    ASSERT_TRUE(inst);
    EXPECT_EQ(inst->path, "/old/ecg.dcm");
    auto d = db.details(inst->id);
    ASSERT_TRUE(d && d->ecg);
    EXPECT_EQ(d->ecg->numLeads, 12);
    EXPECT_DOUBLE_EQ(d->ecg->measurements.heartRateBpm, 72);
    EXPECT_DOUBLE_EQ(d->ecg->measurements.qrsMs, 96);
    EXPECT_EQ(d->patient.patientId, "P001");
    // New tables of migration 2 work on the migrated data.
    db.setStudyLabel(d->study.id, "lvef_percent", "55", "test");
    EXPECT_EQ(db.labelsForStudy(d->study.id).size(), 1u);
    // PN rule applies to the old rows too: a new study of "DOE^JOHN" joins patient 1.
    EXPECT_EQ(db.insertEcg(test::makeEcg("9"), facts("/new.dcm", "new")).status, InsertStatus::Added);
    EXPECT_EQ(db.counts().patients, 1);
    EXPECT_EQ(db.integrityCheck(), "ok");
    EXPECT_TRUE(db.foreignKeyViolations().empty());
  }
  EXPECT_EQ(userVersion(dbPath()), Database::kLatestVersion);
  Database again(dbPath());  // idempotent
  EXPECT_EQ(again.counts().instances, 2);
}

TEST_F(DbTest, RefusesNewerSchemaAndLeavesItUntouched) {
  { Database db(dbPath()); }
  rawExec(dbPath(), "PRAGMA user_version = " + std::to_string(Database::kLatestVersion + 5));
  try {
    Database db(dbPath());
    FAIL() << "opened a database from the future";
  } catch (const DbError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
  EXPECT_EQ(userVersion(dbPath()), Database::kLatestVersion + 5);
}

TEST_F(DbTest, RejectsNonDatabaseFile) {
  {
    std::ofstream f(dbPath());
    f << "this is not an SQLite database, just some text that is long enough to have a header......";
  }
  EXPECT_THROW(Database db(dbPath()), DbError);
}

TEST_F(DbTest, InsertEcgAndEchoThenQuery) {
  Database db(dbPath());
  auto ecg = test::makeEcg("1");
  auto r1 = db.insertEcg(ecg, facts("/data/ecg1.dcm", "ecg-one"));
  ASSERT_EQ(r1.status, InsertStatus::Added);
  auto echo = makeEcho("1", ecg.identity.studyUid);  // same study, other series
  auto r2 = db.insertEcho(echo, facts("/data/echo1.dcm", "echo-one"));
  ASSERT_EQ(r2.status, InsertStatus::Added);
  auto other = test::makeEcg("2", "ROE^RICHARD", "P002");
  other.identity.studyDate = "20230101";
  ASSERT_EQ(db.insertEcg(other, facts("/data/ecg2.dcm", "ecg-two")).status, InsertStatus::Added);

  const auto c = db.counts();
  EXPECT_EQ(c.patients, 2);  // "DOE^JOHN^^" matched "DOE^JOHN"
  EXPECT_EQ(c.studies, 2);
  EXPECT_EQ(c.series, 3);
  EXPECT_EQ(c.instances, 3);
  EXPECT_EQ(c.ecgRecords, 2);
  EXPECT_EQ(c.echoLoops, 1);
  EXPECT_EQ(c.usRegions, 2);

  Filter f;
  f.text = "doe";
  ASSERT_EQ(db.listPatients(f).size(), 1u);
  EXPECT_EQ(db.listPatients(f)[0].studyCount, 1);
  f = {};
  f.text = "p002";
  EXPECT_EQ(db.listStudies(f).size(), 1u);
  f = {};
  f.modality = "US";
  ASSERT_EQ(db.listStudies(f).size(), 1u);
  EXPECT_EQ(db.listStudies(f)[0].modalities, "ECG,US");
  EXPECT_EQ(db.listSeries(f).size(), 1u);
  EXPECT_EQ(db.listInstances(f).size(), 1u);
  f = {};
  f.dateFrom = "20240101";
  EXPECT_EQ(db.listStudies(f).size(), 1u);
  f.dateFrom = "";
  f.dateTo = "20231231";
  ASSERT_EQ(db.listStudies(f).size(), 1u);
  EXPECT_EQ(db.listStudies(f)[0].patientId, "P002");
  f = {};
  f.text = "100%_";  // LIKE wildcards are literal
  EXPECT_TRUE(db.listPatients(f).empty());

  // Details round-trip.
  auto d = db.details(r1.instanceId);
  ASSERT_TRUE(d && d->ecg);
  EXPECT_FALSE(d->echo);
  EXPECT_EQ(d->ecg->leads, standardLeads());
  EXPECT_DOUBLE_EQ(d->ecg->samplingHz, 500);
  EXPECT_EQ(d->ecg->numSamples, 5000);
  EXPECT_DOUBLE_EQ(d->ecg->measurements.qtcMs, 402);
  EXPECT_EQ(d->ecg->measurements.qtcFormula, "Bazett");
  EXPECT_TRUE(std::isnan(d->ecg->measurements.tAxisDeg));
  EXPECT_EQ(d->ecg->statements, (std::vector<std::string>{"Sinus rhythm", "Normal ECG"}));
  EXPECT_EQ(d->study.date, "20240315");
  auto e = db.details(r2.instanceId);
  ASSERT_TRUE(e && e->echo);
  EXPECT_EQ(e->echo->frames, 40);
  EXPECT_DOUBLE_EQ(e->echo->fps, 50);
  EXPECT_EQ(e->echo->fpsSource, "FrameTime");
  EXPECT_EQ(e->echo->viewLabel, "A4C");
  EXPECT_EQ(e->echo->viewSource, "ViewCodeSequence");
  ASSERT_EQ(e->echo->regions.size(), 2u);
  EXPECT_EQ(e->echo->regions[1].spatialFormat, 3);
  EXPECT_EQ(e->echo->regions[1].unitsY, 7);
  EXPECT_DOUBLE_EQ(e->echo->regions[0].deltaY, 0.031);
  EXPECT_TRUE(std::isnan(e->echo->regions[0].refPixelX0));
  EXPECT_EQ(e->patient.id, d->patient.id);
  EXPECT_EQ(db.instanceByUid(echo.identity.sopInstanceUid)->id, r2.instanceId);
  EXPECT_FALSE(db.instanceByUid("1.2.3.nope"));
}

TEST_F(DbTest, ReinsertSameContentIsSkippedDifferentContentIsConflict) {
  Database db(dbPath());
  auto ecg = test::makeEcg("1");
  ASSERT_EQ(db.insertEcg(ecg, facts("/a.dcm", "content")).status, InsertStatus::Added);
  const auto before = db.counts();
  auto again = db.insertEcg(ecg, facts("/copy/a.dcm", "content"));
  EXPECT_EQ(again.status, InsertStatus::Skipped);
  EXPECT_EQ(again.existingPath, "/a.dcm");
  auto changed = ecg;
  changed.measurements.heartRateBpm = 99;
  changed.identity.patientName = "SOMEONE^ELSE";
  auto conflict = db.insertEcg(changed, facts("/b.dcm", "other content"));
  EXPECT_EQ(conflict.status, InsertStatus::Conflict);
  EXPECT_EQ(conflict.sopInstanceUid, ecg.identity.sopInstanceUid);
  const auto after = db.counts();
  EXPECT_EQ(after.instances, before.instances);
  EXPECT_EQ(after.patients, before.patients);  // nothing of the conflicting file was written
  auto row = db.instanceByUid(ecg.identity.sopInstanceUid);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->path, "/a.dcm");
  EXPECT_EQ(row->sha256, sha256Hex(std::string("content")));
  EXPECT_DOUBLE_EQ(db.details(row->id)->ecg->measurements.heartRateBpm, 61);
}

TEST_F(DbTest, NonDicomSourcesGetDerivedStableUids) {
  Database db(dbPath());
  EcgRecord r = test::makeEcg("x");
  r.format = SourceFormat::Wfdb;
  r.identity = Identity{};
  r.identity.patientId = "rec1";
  auto a = db.insertEcg(r, facts("/w/rec1.hea", "header+signal"));
  ASSERT_EQ(a.status, InsertStatus::Added);
  EXPECT_EQ(a.sopInstanceUid.rfind("2.25.", 0), 0u);
  EXPECT_EQ(db.insertEcg(r, facts("/w/rec1.hea", "header+signal")).status, InsertStatus::Skipped);
  auto inst = db.instanceById(a.instanceId);
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->format, "WFDB");
  EXPECT_EQ(inst->modality, "ECG");
}

TEST_F(DbTest, TransactionRollsBackEverything) {
  Database db(dbPath());
  {
    Database::Transaction tx(db);
    ASSERT_EQ(db.insertEcg(test::makeEcg("1"), facts("/1", "1")).status, InsertStatus::Added);  // nested savepoint
    ASSERT_EQ(db.insertEcg(test::makeEcg("2"), facts("/2", "2")).status, InsertStatus::Added);
    // no commit
  }
  EXPECT_EQ(db.counts().instances, 0);
  EXPECT_EQ(db.counts().patients, 0);
  {
    Database::Transaction tx(db);
    ASSERT_EQ(db.insertEcg(test::makeEcg("1"), facts("/1", "1")).status, InsertStatus::Added);
    tx.commit();
  }
  EXPECT_EQ(db.counts().instances, 1);
}

TEST_F(DbTest, CascadeDeleteAndIntegrity) {
  Database db(dbPath());
  auto ecg = test::makeEcg("1");
  auto r1 = db.insertEcg(ecg, facts("/1", "1"));
  auto r2 = db.insertEcho(makeEcho("1", ecg.identity.studyUid), facts("/2", "2"));
  db.addPrediction({0, r1.instanceId, "ecg2lvef", "1.0", "abc", "lvef_class", {{"<40", 0.1}, {"40-49", 0.2}, {">=50", 0.7}}});
  EmbeddingKey k;
  k.instanceRowId = r2.instanceId;
  k.modelId = "echo-enc";
  k.weightsHash = "w1";
  k.preprocVersion = "p1";
  db.putEmbedding(k, {1.f, 2.f, 3.f});
  EXPECT_EQ(db.counts().predictions, 1);
  EXPECT_TRUE(db.deleteInstance(r2.instanceId));
  auto c = db.counts();
  EXPECT_EQ(c.echoLoops, 0);
  EXPECT_EQ(c.usRegions, 0);
  EXPECT_EQ(c.embeddings, 0);
  EXPECT_EQ(c.ecgRecords, 1);
  EXPECT_TRUE(db.deleteInstance(r1.instanceId));
  EXPECT_EQ(db.counts().predictions, 0);
  EXPECT_EQ(db.integrityCheck(), "ok");
  EXPECT_TRUE(db.foreignKeyViolations().empty());
  // Foreign keys are enforced.
  EXPECT_THROW(db.exec("INSERT INTO series(study_id, series_uid) VALUES (424242, '9.9')"), DbError);
}

TEST_F(DbTest, LabelsEmbeddingsPredictionsModels) {
  Database db(dbPath());
  auto ecg = test::makeEcg("1");
  auto r = db.insertEcg(ecg, facts("/1", "1"));
  const auto study = *db.studyRowIdByUid(ecg.identity.studyUid);
  db.setStudyLabel(study, "lvef_percent", "35", "echo-report");
  db.setStudyLabel(study, "lvef_percent", "38", "echo-report");  // upsert
  db.setStudyLabel(study, "lvef_class", "0", "echo-report");
  const auto patient = db.details(r.instanceId)->patient.id;
  db.setPatientLabel(patient, "shd", "1", "synthetic");
  auto labels = db.labelsForStudy(study);
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[1].key, "lvef_percent");
  EXPECT_EQ(labels[1].value, "38");
  Filter f;
  f.labelKey = "lvef_class";
  f.labelValue = "0";
  EXPECT_EQ(db.listStudies(f).size(), 1u);
  f.labelValue = "2";
  EXPECT_EQ(db.listStudies(f).size(), 0u);
  f.labelKey = "shd";
  f.labelValue = "1";
  EXPECT_EQ(db.listInstances(f).size(), 1u);  // patient-level label
  EXPECT_EQ(db.details(r.instanceId)->labels.size(), 3u);

  EmbeddingKey k;
  k.instanceRowId = r.instanceId;
  k.modelId = "ecg-enc";
  k.weightsHash = "h1";
  k.preprocVersion = "v1";
  db.putEmbedding(k, {0.5f, -1.25f});
  db.putEmbedding(k, {1.5f, 2.5f, 3.5f});  // same key: replaced, not duplicated
  EXPECT_EQ(db.counts().embeddings, 1);
  auto v = db.getEmbedding(k);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, (std::vector<float>{1.5f, 2.5f, 3.5f}));
  k.weightsHash = "h2";
  EXPECT_FALSE(db.getEmbedding(k));
  db.putEmbedding(k, {9.f});
  EXPECT_EQ(db.counts().embeddings, 2);
  const auto all = db.embeddingsFor("ecg-enc", "h2", "v1");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].vec, std::vector<float>{9.f});
  EXPECT_EQ(*all[0].key.instanceRowId, r.instanceId);
  EXPECT_TRUE(db.embeddingsFor("ecg-enc", "h3", "v1").empty());
  EmbeddingKey both = k;
  both.studyRowId = study;
  EXPECT_THROW(db.putEmbedding(both, {1.f}), DbError);
  // The UNIQUE index holds even for raw SQL.
  EXPECT_THROW(db.exec("INSERT INTO embeddings(instance_id, model_id, weights_hash, preproc_version, dim, vec, "
                       "created_at) SELECT instance_id, model_id, weights_hash, preproc_version, dim, vec, created_at "
                       "FROM embeddings LIMIT 1"),
               DbError);

  db.addPrediction({0, r.instanceId, "ecg2lvef", "2.1", "w", "lvef_class", {{"<40", 0.25}, {">=50", 0.75}}});
  auto preds = db.predictionsFor(r.instanceId);
  ASSERT_EQ(preds.size(), 1u);
  EXPECT_DOUBLE_EQ(preds[0].probabilities.at(">=50"), 0.75);
  EXPECT_FALSE(preds[0].createdAt.empty());

  db.registerModel({0, "ecg2lvef", "1.0", "", "w1", "{}", "", true});
  db.registerModel({0, "ecg2lvef", "1.1", "1.0", "w2", "{}", "", false});
  db.setActiveModel("ecg2lvef", "1.1");
  auto models = db.listModels();
  ASSERT_EQ(models.size(), 2u);
  EXPECT_FALSE(models[0].active);
  EXPECT_TRUE(models[1].active);
  EXPECT_THROW(db.setActiveModel("ecg2lvef", "9"), DbError);
  EXPECT_THROW(db.registerModel({0, "ecg2lvef", "1.0", "", "w1", "{}", "", false}), DbError);
  EXPECT_EQ(db.integrityCheck(), "ok");
}

TEST_F(DbTest, EmbeddingSetsCountsAndDeletionByKey) {
  Database db(dbPath());
  auto ecg = test::makeEcg("1");
  const auto r = db.insertEcg(ecg, facts("/e1", "e1"));
  ASSERT_EQ(db.insertEcho(makeEcho("1", ecg.identity.studyUid), facts("/u1", "u1")).status, InsertStatus::Added);
  auto other = test::makeEcg("2", "ROE^RICHARD", "P002");
  const auto r2 = db.insertEcg(other, facts("/e2", "e2"));  // a study without echo
  const auto study = *db.studyRowIdByUid(ecg.identity.studyUid);
  auto put = [&](std::optional<std::int64_t> inst, std::optional<std::int64_t> st, const std::string& model,
                 const std::string& hash) {
    EmbeddingKey k;
    k.instanceRowId = inst;
    k.studyRowId = st;
    k.modelId = model;
    k.weightsHash = hash;
    k.preprocVersion = "pp";
    db.putEmbedding(k, {1.f, 0.f});
  };
  put(r.instanceId, std::nullopt, "m:1/ecg-aligned", "h1");
  put(std::nullopt, study, "m:1/echo-study-aligned", "h1");
  put(r.instanceId, std::nullopt, "m:2/ecg-aligned", "h2");
  put(r2.instanceId, std::nullopt, "m:2/ecg-aligned", "h2");

  auto c = db.embeddingCounts("m:1/ecg-aligned", "m:1/echo-study-aligned", "h1", "pp");
  EXPECT_EQ(c.ecgInstances, 2);
  EXPECT_EQ(c.ecgEmbedded, 1);
  EXPECT_EQ(c.echoStudies, 1);
  EXPECT_EQ(c.echoStudiesEmbedded, 1);
  c = db.embeddingCounts("m:2/ecg-aligned", "m:2/echo-study-aligned", "h2", "pp");
  EXPECT_EQ(c.ecgEmbedded, 2);
  EXPECT_EQ(c.echoStudiesEmbedded, 0);
  EXPECT_EQ(db.embeddingCounts("m:1/ecg-aligned", "m:1/echo-study-aligned", "h2", "pp").ecgEmbedded, 0);  // other hash

  const auto sets = db.embeddingSets();
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[0].modelId, "m:1/ecg-aligned");
  EXPECT_EQ(sets[0].instances, 1);
  EXPECT_EQ(sets[1].modelId, "m:1/echo-study-aligned");
  EXPECT_EQ(sets[1].studies, 1);
  EXPECT_EQ(sets[2].instances, 2);
  EXPECT_FALSE(sets[2].lastCreated.empty());
  EXPECT_EQ(db.deleteEmbeddings("m:2/ecg-aligned", "h2", "pp"), 2);
  EXPECT_EQ(db.deleteEmbeddings("m:2/ecg-aligned", "h2", "pp"), 0);
  EXPECT_EQ(db.embeddingSets().size(), 2u);
  EXPECT_EQ(db.counts().embeddings, 2);
}

TEST_F(DbTest, SecondConnectionSeesCommittedDataOnly) {
  Database writer(dbPath());
  Database reader(dbPath());
  {
    Database::Transaction tx(writer);
    writer.insertEcg(test::makeEcg("1"), facts("/1", "1"));
    EXPECT_EQ(reader.counts().instances, 0);  // WAL: readers are not blocked, see the last commit
    tx.commit();
  }
  EXPECT_EQ(reader.counts().instances, 1);
}

TEST_F(DbTest, MaxInstanceRowIdAndInstancesAfterListWhatAnImportAdded) {
  Database db(dbPath());
  EXPECT_EQ(db.maxInstanceRowId(), 0);
  EXPECT_TRUE(db.instancesAfter(0, 10).empty());
  const auto first = db.insertEcg(test::makeEcg("1"), facts("/data/ecg1.dcm", "ecg-one"));
  ASSERT_EQ(first.status, InsertStatus::Added);
  const std::int64_t before = db.maxInstanceRowId();
  EXPECT_EQ(before, first.instanceId);

  // "The import": one ECG and one echo loop.
  const auto ecg = test::makeEcg("2", "ROE^RICHARD", "P002");
  const auto a = db.insertEcg(ecg, facts("/data/ecg2.dcm", "ecg-two"));
  const auto b = db.insertEcho(makeEcho("1", ecg.identity.studyUid), facts("/data/echo1.dcm", "echo-one"));
  ASSERT_EQ(a.status, InsertStatus::Added);
  ASSERT_EQ(b.status, InsertStatus::Added);
  EXPECT_EQ(db.maxInstanceRowId(), b.instanceId);

  const auto added = db.instancesAfter(before, 100);
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(added[0].id, a.instanceId);
  EXPECT_EQ(added[0].path, "/data/ecg2.dcm");
  EXPECT_EQ(added[0].format, toString(SourceFormat::DicomEcg));
  EXPECT_EQ(added[1].id, b.instanceId);
  EXPECT_EQ(added[1].path, "/data/echo1.dcm");
  EXPECT_EQ(added[1].format, toString(SourceFormat::DicomEcho));
  EXPECT_EQ(added[1].modality, "US");

  const auto limited = db.instancesAfter(before, 1);  // the limit keeps the first ones
  ASSERT_EQ(limited.size(), 1u);
  EXPECT_EQ(limited[0].id, a.instanceId);
  EXPECT_TRUE(db.instancesAfter(before, 0).empty());
  EXPECT_EQ(db.instancesAfter(0, 100).size(), 3u);
  EXPECT_TRUE(db.instancesAfter(db.maxInstanceRowId(), 100).empty());
}

TEST_F(DbTest, PeekSchemaVersionReadsWithoutCreatingOrMigrating) {
  // Missing file: -1, and nothing is created.
  EXPECT_EQ(Database::peekSchemaVersion(dbPath()), -1);
  EXPECT_FALSE(fs::exists(dbPath()));
  { Database db(dbPath()); }
  EXPECT_EQ(Database::peekSchemaVersion(dbPath()), Database::kLatestVersion);
  // An older version is reported as it is (not migrated).
  rawExec(dbPath(), "PRAGMA user_version = 1");
  EXPECT_EQ(Database::peekSchemaVersion(dbPath()), 1);
  EXPECT_EQ(userVersion(dbPath()), 1);
  rawExec(dbPath(), "PRAGMA user_version = " + std::to_string(Database::kLatestVersion + 3));
  EXPECT_EQ(Database::peekSchemaVersion(dbPath()), Database::kLatestVersion + 3);
  // Not an SQLite file: -1.
  const std::string text = (dir_ / "notes.db").string();
  {
    std::ofstream f(text);
    f << "this is not an SQLite database, just some text that is long enough to have a header......";
  }
  EXPECT_EQ(Database::peekSchemaVersion(text), -1);
  EXPECT_FALSE(std::string(Database::sqliteVersion()).empty());
}

// predictions.probabilities is a JSON object {"class": probability} (nlohmann-json): it round-trips
// any class name, a value that is not finite is stored as 0, and a malformed stored text reads as
// no probabilities instead of failing.
TEST_F(DbTest, PredictionProbabilitiesJsonRoundTripAndMalformedText) {
  Database db(dbPath());
  const auto r = db.insertEcg(test::makeEcg("1"), facts("/p1", "p1"));
  const std::map<std::string, double> probs = {
      {"<40", 0.125}, {"40-49", 0.1}, {"q\"uote\\back", 1e-300}, {"new\nline\ttab", 0.3}, {"\xC3\xA9t\xC3\xA9", 1.0 / 3},
      {"nan", std::nan("")}, {"inf", INFINITY}};
  const auto id = db.addPrediction({0, r.instanceId, "m", "1", "w", "t", probs});
  auto preds = db.predictionsFor(r.instanceId);
  ASSERT_EQ(preds.size(), 1u);
  ASSERT_EQ(preds[0].probabilities.size(), probs.size());
  for (const auto& [k, v] : probs) {
    ASSERT_TRUE(preds[0].probabilities.count(k)) << k;
    EXPECT_EQ(preds[0].probabilities.at(k), std::isfinite(v) ? v : 0.0) << k;  // exact: 17 significant digits
  }
  // The stored text is a JSON object with one number per class (other programs read it).
  std::string stored;
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(dbPath().c_str(), &raw), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw, ("SELECT probabilities FROM predictions WHERE id = " + std::to_string(id)).c_str(),
                                 -1, &st, nullptr),
              SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW) stored = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(raw);
  }
  const auto j = nlohmann::json::parse(stored, nullptr, false);
  ASSERT_TRUE(j.is_object()) << stored;
  EXPECT_EQ(j.size(), probs.size());
  for (const auto& [k, v] : j.items()) EXPECT_TRUE(v.is_number()) << k << " in " << stored;
  EXPECT_EQ(stored.find("null"), std::string::npos) << stored;
  EXPECT_EQ(stored.front(), '{');
  EXPECT_NE(stored.find("\"<40\":0.125"), std::string::npos) << stored;

  // Stored by something else: malformed or of the wrong shape. Never throws.
  auto readBack = [&](const std::string& text) {
    std::string quoted = "'";
    for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
    db.exec("UPDATE predictions SET probabilities = " + quoted + "' WHERE id = " + std::to_string(id));
    const auto p = db.predictionsFor(r.instanceId);
    EXPECT_EQ(p.size(), 1u);
    return p.empty() ? std::map<std::string, double>{} : p[0].probabilities;
  };
  EXPECT_TRUE(readBack("").empty());
  EXPECT_TRUE(readBack("not json").empty());
  EXPECT_TRUE(readBack("{\"a\":0.5,").empty());  // truncated
  EXPECT_TRUE(readBack("[0.5,0.5]").empty());
  EXPECT_TRUE(readBack("0.5").empty());
  EXPECT_TRUE(readBack("{\"a\":0.5} trailing").empty());
  // Members that are not numbers: null reads as 0 (as before), strings/arrays/objects are skipped.
  const auto mixed = readBack(R"({"a":"x","b":null,"c":2,"d":[1],"e":{"f":1},"g":-1.5e-3})");
  EXPECT_EQ(mixed, (std::map<std::string, double>{{"b", 0.0}, {"c", 2.0}, {"g", -1.5e-3}}));
  EXPECT_EQ(readBack("{ \"x\" : 1 , \"y\" : 0.25 }"), (std::map<std::string, double>{{"x", 1.0}, {"y", 0.25}}));
}

// The views' one notification path: a watch on its own read-only connection sees what other
// connections commit (an import, a child process), part by part, and nothing when nothing changed.
TEST_F(DbTest, DatabaseWatchReportsWhichPartOthersChanged) {
  { Database create(dbPath()); }
  db::DatabaseWatch watch(dbPath());
  EXPECT_FALSE(watch.poll().any());
  Database writer(dbPath());
  const auto ecg = test::makeEcg("w1");
  ASSERT_EQ(writer.insertEcg(ecg, facts("/data/w1.dcm", "w1")).status, InsertStatus::Added);
  auto c = watch.poll();
  EXPECT_TRUE(c.studies);
  EXPECT_FALSE(c.embeddings || c.models || c.labels || c.predictions);
  EXPECT_FALSE(watch.poll().any()) << "reported once";

  writer.setStudyLabel(*writer.studyRowIdByUid(ecg.identity.studyUid), "lvef_percent", "40", "test");
  c = watch.poll();
  EXPECT_TRUE(c.labels);
  EXPECT_FALSE(c.studies);

  ModelRow m;
  m.modelId = "echo2ecg-pretrain";
  m.version = "1";
  writer.registerModel(m);
  EXPECT_TRUE(watch.poll().models);
  writer.setActiveModel("echo2ecg-pretrain", "1");  // activation alone changes no row count
  EXPECT_TRUE(watch.poll().models);

  EmbeddingKey k;
  k.instanceRowId = writer.listInstances().front().id;
  k.modelId = "echo2ecg-pretrain:1/ecg-aligned";
  k.weightsHash = "w";
  k.preprocVersion = "p";
  writer.putEmbedding(k, {1.f, 2.f});
  c = watch.poll();
  EXPECT_TRUE(c.embeddings);
  EXPECT_FALSE(c.models);
  writer.putEmbedding(k, {3.f, 4.f});  // replaced: same count, maybe the same row id
  c = watch.poll();
  EXPECT_TRUE(c.embeddings || c.other);
  EXPECT_FALSE(watch.poll().any());
}
