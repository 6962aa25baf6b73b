// An echo study's vector follows its loops: `embed` re-makes it when loops are imported into or
// deleted from the study after it was embedded, reports a loop that cannot be decoded on every run
// (and makes the study's vector from its other loops), and `retrieve` warns about vectors made from
// other loops than the study has now. A tiny freshly initialised encoder (`train --task pretrain
// --epochs 0`) on a 3-patient synthetic cohort keeps each test at a few seconds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <dcmtk/dcmdata/dctk.h>

#include "cli_util.h"
#include "cohort_fixture.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "pipeline/embedding_model.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct Loop {
  std::int64_t id;
  std::string path;
};

class StudyVectors : public ::testing::Test {
 protected:
  test::CohortDb c;
  std::string db;
  std::int64_t study = 0;  // the study under test: the one with the smallest row id
  std::vector<Loop> loops;  // its loops by instance id
  std::int64_t queryEcg = 0;

  void SetUp() override {
    c = test::makeCohortDb("e2e_study_vectors", test::smallCohort(3, 77, 6));
    db = " --db " + test::shellQuote(c.dbPath);
    auto r = test::runCli("train" + db + " --task pretrain --run-dir " + test::shellQuote((c.dir / "run").string()) +
                              " --epochs 0 --ecg-depth 1 --video-size 32 --seed 3",
                          true);
    ASSERT_EQ(r.rc, 0) << r.out;
    db::Database d(c.dbPath);
    db::Filter us;
    us.modality = "US";
    std::map<std::string, std::int64_t> studyRow;
    for (auto& s : d.listStudies()) studyRow[s.studyUid] = s.id;
    std::map<std::int64_t, std::vector<Loop>> byStudy;
    for (auto& i : d.listInstances(us)) byStudy[studyRow.at(i.studyUid)].push_back({i.id, i.path});
    ASSERT_EQ(byStudy.size(), 3u);
    study = byStudy.begin()->first;
    loops = byStudy.begin()->second;
    std::sort(loops.begin(), loops.end(), [](auto& a, auto& b) { return a.id < b.id; });
    ASSERT_GE(loops.size(), 3u);
    db::Filter ecg;
    ecg.modality = "ECG";
    queryEcg = d.listInstances(ecg).front().id;
  }
  void TearDown() override { fs::remove_all(c.dir); }

  // `embed` with its end report: exit status, all output, and the final JSON event line.
  struct Embed {
    int rc;
    std::string out, done;
  };
  Embed embed() {
    auto r = test::runCli("embed" + db + " --json-progress", true);
    Embed e{r.rc, r.out, ""};
    for (auto& l : test::nonEmptyLines(r.out))
      if (l.rfind("{\"event\":\"done\"", 0) == 0) e.done = l;
    return e;
  }
  static int field(const Embed& e, const std::string& key) {
    const auto v = test::jsonField(e.done, key);
    EXPECT_FALSE(v.empty()) << key << " missing in: " << e.out;
    return v.empty() ? -1 : std::stoi(v);
  }

  pipeline::EmbeddingModel model() {
    db::Database d(c.dbPath);
    return pipeline::resolveEmbeddingModel(d, "");
  }
  db::EmbeddingKey studyKey() {
    auto m = model();
    db::EmbeddingKey k;
    k.studyRowId = study;
    k.modelId = m.studyKey();
    k.weightsHash = m.weightsHash;
    k.preprocVersion = pipeline::kPreprocVersion;
    return k;
  }
  std::vector<float> studyVector() {
    db::Database d(c.dbPath);
    auto v = d.getEmbedding(studyKey());
    EXPECT_TRUE(v.has_value());
    return v.value_or(std::vector<float>{});
  }
  std::string studyInputs() {
    db::Database d(c.dbPath);
    return d.embeddingInputs(studyKey()).value_or("<none>");
  }
  static std::string ids(const std::vector<Loop>& ls, std::int64_t bad = -1) {
    std::string s;
    for (auto& l : ls) s += (s.empty() ? "" : ",") + std::to_string(l.id) + (l.id == bad ? "!" : "");
    return s;
  }
  static double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size() || a.empty()) return 1e9;
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
    return m;
  }
  std::string retrieveJson() {
    return test::runCli("retrieve" + db + " --json " + std::to_string(queryEcg)).out;
  }
};

}  // namespace

TEST_F(StudyVectors, LoopsImportedOrDeletedLaterRemakeTheStudyVector) {
  auto e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_added"), 3);
  EXPECT_EQ(field(e, "studies_updated"), 0);
  EXPECT_EQ(studyInputs(), ids(loops));
  const auto v0 = studyVector();

  e = embed();  // nothing changed: nothing re-made, every view counted as stored
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_added"), 0);
  EXPECT_EQ(field(e, "studies_updated"), 0);
  EXPECT_TRUE(has(e.out, "echo studies: 0 added, 3 already stored")) << e.out;
  EXPECT_FALSE(has(e.out, "echo views: 0 added, 0 already stored")) << e.out;
  EXPECT_EQ(test::jsonField(retrieveJson(), "outdated_studies"), "0");

  // Delete the study's last loop: retrieval warns until embed re-makes the vector from the rest.
  const Loop gone = loops.back();
  {
    db::Database d(c.dbPath);
    ASSERT_TRUE(d.deleteInstance(gone.id));
  }
  EXPECT_EQ(test::jsonField(retrieveJson(), "outdated_studies"), "1");
  auto warned = test::runCli("retrieve" + db + " " + std::to_string(queryEcg), true);
  EXPECT_EQ(warned.rc, 0) << warned.out;
  EXPECT_TRUE(has(warned.out, "outdated embeddings: 1 echo study")) << warned.out;
  auto act = test::runCli("models activate echo2ecg-pretrain 1" + db, true);
  EXPECT_EQ(act.rc, 0) << act.out;
  EXPECT_TRUE(has(act.out, "outdated: 1 echo stud(ies) whose loops changed")) << act.out;
  e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_added"), 0);
  EXPECT_EQ(field(e, "studies_updated"), 1);
  std::vector<Loop> rest(loops.begin(), loops.end() - 1);
  EXPECT_EQ(studyInputs(), ids(rest));
  const auto v1 = studyVector();
  EXPECT_GT(maxAbsDiff(v0, v1), 1e-4) << "the vector of 3 loops equals the one of 4";
  EXPECT_EQ(test::jsonField(retrieveJson(), "outdated_studies"), "0");

  // Import the file again (a new instance row): the study has the same four loops as at first, so
  // its re-made vector equals the first one (the aggregator pools a set: loop order does not matter).
  {
    db::Database d(c.dbPath);
    importer::ImportOptions io;
    io.paths = {gone.path};
    auto rep = importer::runImport(d, io);
    ASSERT_EQ(rep.added, 1) << importer::summary(rep);
  }
  EXPECT_EQ(test::jsonField(retrieveJson(), "outdated_studies"), "1");
  e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_updated"), 1);
  EXPECT_TRUE(has(e.out, "echo views: 1 added")) << e.out;
  const auto inputs = studyInputs();
  EXPECT_EQ(inputs.rfind(ids(rest) + ",", 0), 0u) << inputs;
  EXPECT_LT(maxAbsDiff(v0, studyVector()), 1e-5);
}

TEST_F(StudyVectors, AnUndecodableLoopIsReportedOnEveryRunAndTheStudyIsMadeFromTheOthers) {
  const Loop bad = loops[1];
  const fs::path keep = c.dir / "kept.dcm";
  fs::copy_file(bad.path, keep);
  fs::resize_file(bad.path, 600);  // the header survives, the pixel data does not

  for (int run = 0; run < 2; ++run) {
    auto e = embed();
    EXPECT_EQ(e.rc, 3) << "run " << run << ": " << e.out;
    EXPECT_EQ(field(e, "errors"), 1) << e.out;
    EXPECT_TRUE(has(e.out, "error: " + bad.path)) << "run " << run << ": " << e.out;
    EXPECT_EQ(field(e, "studies_added"), run == 0 ? 3 : 0) << e.out;
    EXPECT_EQ(field(e, "studies_updated"), 0) << e.out;
    EXPECT_EQ(studyInputs(), ids(loops, bad.id));
  }
  const auto without = studyVector();

  fs::copy_file(keep, bad.path, fs::copy_options::overwrite_existing);
  auto e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "errors"), 0);
  EXPECT_EQ(field(e, "studies_updated"), 1);
  EXPECT_TRUE(has(e.out, "echo views: 1 added")) << e.out;
  EXPECT_EQ(studyInputs(), ids(loops));
  EXPECT_GT(maxAbsDiff(without, studyVector()), 1e-4);
}

// The aggregator takes up to 128 views (as the reference): a study with more loops is embedded from
// its first 128 in loop order (it was an error that stopped the whole run), and deleting a loop
// beyond them leaves its vector as it is while deleting one of them changes it.
TEST_F(StudyVectors, AStudyOfMoreThan128LoopsIsEmbeddedFromItsFirst128) {
  const int copies = 130 - static_cast<int>(loops.size());
  for (int i = 0; i < copies; ++i) {  // more loops of the same study: copies with new SOP Instance UIDs
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(loops[0].path.c_str()).good());
    char uid[100];
    dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT);
    ASSERT_TRUE(ff.getDataset()->putAndInsertString(DCM_SOPInstanceUID, uid).good());
    const auto out = (c.dir / ("extra_" + std::to_string(i) + ".dcm")).string();
    ASSERT_TRUE(ff.saveFile(out.c_str(), EXS_LittleEndianExplicit).good());
  }
  {
    db::Database d(c.dbPath);
    importer::ImportOptions io;
    for (int i = 0; i < copies; ++i) io.paths.push_back((c.dir / ("extra_" + std::to_string(i) + ".dcm")).string());
    auto rep = importer::runImport(d, io);
    ASSERT_EQ(rep.added, copies) << importer::summary(rep);
    db::Filter us;
    us.modality = "US";
    loops.clear();
    for (auto& i : d.listInstances(us))
      if (d.details(i.id)->study.id == study) loops.push_back({i.id, i.path});
    std::sort(loops.begin(), loops.end(), [](auto& a, auto& b) { return a.id < b.id; });
    ASSERT_EQ(loops.size(), 130u);
  }
  auto e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_added"), 3);
  EXPECT_EQ(studyInputs(), ids(loops));
  const auto v130 = studyVector();

  {
    db::Database d(c.dbPath);
    ASSERT_TRUE(d.deleteInstance(loops.back().id));  // the 130th: not among the first 128
  }
  e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_updated"), 1);
  EXPECT_LT(maxAbsDiff(v130, studyVector()), 1e-6);

  {
    db::Database d(c.dbPath);
    // one of the first 128 (the study's second view; the copies are of its first): the 129th moves in
    ASSERT_TRUE(d.deleteInstance(loops[1].id));
  }
  e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_updated"), 1);
  // one view of 128 differs: a small change (3.6e-5 measured), 200 x the float noise of re-making the same set
  EXPECT_GT(maxAbsDiff(v130, studyVector()), 5e-6);
}

// A study whose loops are all deleted keeps no vector made from them: embed deletes it (retrieval
// never searched it, as the study has no loops; the coverage counts it as outdated until then).
TEST_F(StudyVectors, AStudyWhoseLoopsAreAllDeletedKeepsNoVector) {
  auto e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  ASSERT_EQ(studyInputs(), ids(loops));
  {
    db::Database d(c.dbPath);
    for (auto& l : loops) ASSERT_TRUE(d.deleteInstance(l.id));
    EXPECT_EQ(pipeline::embeddingCoverage(d, model()).outdatedStudies, 1);
  }
  EXPECT_EQ(test::jsonField(retrieveJson(), "outdated_studies"), "0");  // not searched: no loops
  e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_dropped"), 1);
  EXPECT_TRUE(has(e.out, "echo study vectors deleted: 1")) << e.out;
  EXPECT_EQ(studyInputs(), "<none>");
  db::Database d(c.dbPath);
  const auto cov = pipeline::embeddingCoverage(d, model());
  EXPECT_EQ(cov.outdatedStudies, 0);
  EXPECT_EQ(cov.echoStudies, 2);
  EXPECT_TRUE(cov.complete());
}

// A study none of whose loops decodes is told apart from one not embedded yet: embed records why each
// loop failed, and retrieval / the coverage say that re-embedding will not help it.
TEST_F(StudyVectors, AStudyWithNoDecodableLoopIsReportedAsSuchNotAsNotYetEmbedded) {
  for (std::size_t i = 0; i < loops.size(); ++i) {
    fs::copy_file(loops[i].path, c.dir / ("kept" + std::to_string(i) + ".dcm"));
    fs::resize_file(loops[i].path, 600);
  }
  auto e = embed();
  EXPECT_EQ(e.rc, 3) << e.out;
  EXPECT_EQ(field(e, "errors"), static_cast<int>(loops.size()));
  EXPECT_EQ(field(e, "studies_added"), 2);
  EXPECT_EQ(studyInputs(), "<none>");
  {
    db::Database d(c.dbPath);
    const auto cov = pipeline::embeddingCoverage(d, model());
    EXPECT_EQ(cov.missingStudies(), 1);
    EXPECT_EQ(cov.undecodableStudies, 1);
    EXPECT_FALSE(cov.embedWouldHelp());
  }
  auto r = test::runCli("retrieve" + db + " " + std::to_string(queryEcg), true);
  EXPECT_TRUE(has(r.out, "1 of 3 echo studies have no embedding")) << r.out;
  EXPECT_TRUE(has(r.out, "1 of them with no loop that decodes in this build")) << r.out;
  EXPECT_FALSE(has(r.out, ": run `echo2ecg embed")) << r.out;
  auto act = test::runCli("models activate echo2ecg-pretrain 1" + db, true);
  EXPECT_TRUE(has(act.out, "2 of 3 echo stud(ies) present; 1 stud(ies) have no loop that decodes")) << act.out;

  for (std::size_t i = 0; i < loops.size(); ++i)
    fs::copy_file(c.dir / ("kept" + std::to_string(i) + ".dcm"), loops[i].path, fs::copy_options::overwrite_existing);
  e = embed();
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_EQ(field(e, "studies_added"), 1);
  db::Database d(c.dbPath);
  const auto cov = pipeline::embeddingCoverage(d, model());
  EXPECT_EQ(cov.undecodableStudies, 0);
  EXPECT_TRUE(cov.complete());
}

TEST(StudyVectorInputs, RoundTripAndMalformedLists) {
  const std::vector<std::int64_t> ids{12, 13, 140};
  const auto s = pipeline::studyVectorInputs(ids, [](std::int64_t id) { return id != 13; });
  EXPECT_EQ(s, "12,13!,140");
  EXPECT_EQ(pipeline::studyVectorLoops(s), ids);
  EXPECT_TRUE(pipeline::studyVectorLoops("").empty());
  for (const char* bad : {"12,", ",12", "12,,13", "1a", "12!!", "-3"})
    EXPECT_THROW(pipeline::studyVectorLoops(bad), std::invalid_argument) << bad;
}
