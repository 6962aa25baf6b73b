// A generated cohort imported by the import job: every file is added, one synthetic study per
// patient holding the ECG and the echo series, and a second import skips everything.
#include <gtest/gtest.h>

#include "db/database.h"
#include "jobs/import/importer.h"
#include "synth/cohort.h"
#include "synth_test_util.h"

using namespace e2e::synth;
using namespace synthtest;

TEST(SynthImport, CohortImportsAsSyntheticStudies) {
  TempDir d, dbDir;
  CohortOptions o;
  o.outDir = (d.path / "cohort").string();
  o.patients = 3;
  o.seed = 55;
  o.echoFrames = 6;
  o.echoSize = 64;
  o.threads = 2;
  const CohortResult r = generateCohort(o);
  ASSERT_EQ(r.files.size(), 15u);

  e2e::db::Database db((dbDir.path / "test.sqlite").string());
  e2e::importer::ImportOptions io;
  io.paths = {o.outDir};
  io.threads = 2;
  const auto rep = e2e::importer::runImport(db, io);
  EXPECT_TRUE(rep.ok()) << e2e::importer::summary(rep);
  EXPECT_EQ(rep.added, 15);
  EXPECT_EQ(rep.addedEcg, 3);
  EXPECT_EQ(rep.addedEcho, 12);
  EXPECT_TRUE(rep.errors.empty());

  const auto studies = db.listStudies();
  ASSERT_EQ(studies.size(), 3u);
  for (const auto& s : studies) {
    EXPECT_TRUE(s.synthetic) << s.studyUid;
    EXPECT_EQ(s.instanceCount, 5);
    EXPECT_NE(s.modalities.find("ECG"), std::string::npos);
    EXPECT_NE(s.modalities.find("US"), std::string::npos);
    EXPECT_EQ(s.patientName, "SYNTHETIC^" + s.patientId);
    bool known = false;
    for (int i = 0; i < 3; ++i) known = known || s.studyUid == makeUid(o.seed, i, "study");
    EXPECT_TRUE(known) << s.studyUid;
  }

  const auto again = e2e::importer::runImport(db, io);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.skipped, 15);
}
