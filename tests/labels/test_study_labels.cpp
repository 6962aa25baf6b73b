// The labels that apply to a study (core/labels/study_labels): the patient's patient-level labels,
// overridden by the study's own; another study's labels never leak in.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "db/database.h"
#include "labels/study_labels.h"

namespace fs = std::filesystem;
using namespace e2e;

TEST(StudyLabels, StudyLabelsOverridePatientLabelsAndOtherStudiesStayOut) {
  const fs::path dir = fs::temp_directory_path() / ("e2e-study-labels-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    db::Database db((dir / "s.db").string());
    Identity a;
    a.patientId = "P1";
    a.patientName = "DOE^ONE";
    a.studyUid = "1.2.3.1";
    const auto p = db.findOrCreatePatient(a);
    const auto s1 = db.findOrCreateStudy(p, a);
    Identity b = a;
    b.studyUid = "1.2.3.2";
    const auto s2 = db.findOrCreateStudy(p, b);
    db.setPatientLabel(p, "lvef_percent", "55", "test");
    db.setPatientLabel(p, "shd", "0", "test");
    db.setStudyLabel(s1, "lvef_percent", "35", "test");
    db.setStudyLabel(s2, "wall_mm", "14", "test");

    const auto l1 = labels::studyLabels(db, p, s1);
    EXPECT_EQ(l1.at("lvef_percent"), "35");  // the study's own value wins
    EXPECT_EQ(l1.at("shd"), "0");            // the patient's value applies
    EXPECT_EQ(l1.count("wall_mm"), 0u);      // the other study's label does not
    const auto l2 = labels::studyLabels(db, p, s2);
    EXPECT_EQ(l2.at("lvef_percent"), "55");
    EXPECT_EQ(l2.at("wall_mm"), "14");
    EXPECT_TRUE(labels::studyLabels(db, 0, 0).empty());
  }
  fs::remove_all(dir);
}
