// Labels CSV import (core/labels): keys by study_uid, accession, patient_id; unmatched rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <unistd.h>

#include "db/database.h"
#include "labels/labels_csv.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {
class LabelsCsv : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("e2e-labels-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<db::Database>((dir_ / "s.db").string());
    add("P1", "1.2.3.1", "ACC1");
    add("P1", "1.2.3.2", "ACC2");
    add("P2", "1.2.3.3", "ACC3");
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  void add(const std::string& pid, const std::string& uid, const std::string& acc) {
    Identity id;
    id.patientId = pid;
    id.patientName = "DOE^" + pid;
    id.studyUid = uid;
    id.accessionNumber = acc;
    id.studyDate = "20240101";
    const auto p = db_->findOrCreatePatient(id);
    db_->findOrCreateStudy(p, id);
  }
  std::string csv(const std::string& text) {
    const auto p = dir_ / "labels.csv";
    std::ofstream(p) << text;
    return p.string();
  }
  std::map<std::string, std::string> study(const std::string& uid) {
    std::map<std::string, std::string> m;
    for (const auto& l : db_->labelsForStudy(*db_->studyRowIdByUid(uid))) m[l.key] = l.value;
    return m;
  }
  fs::path dir_;
  std::unique_ptr<db::Database> db_;
};
}  // namespace

TEST_F(LabelsCsv, SplitLine) {
  EXPECT_EQ(labels::splitCsvLine(R"(a, "b,c" ,"d""e",)"), (std::vector<std::string>{"a", "b,c", "d\"e", ""}));
}

TEST_F(LabelsCsv, ByStudyUidReportsUnmatched) {
  const auto r = labels::importLabelsCsv(
      *db_, csv("Study_UID,lvef_percent,lvef_class,shd\n1.2.3.1,35.5,0,1\n9.9.9,50,2,0\n\n1.2.3.3,,2,0\nbad,row\n"));
  EXPECT_EQ(r.keyColumn, labels::KeyColumn::StudyUid);
  EXPECT_EQ(r.rows, 4);
  EXPECT_EQ(r.matchedRows, 2);
  ASSERT_EQ(r.unmatched.size(), 1u);
  EXPECT_EQ(r.unmatched[0].line, 3);
  EXPECT_EQ(r.unmatched[0].key, "9.9.9");
  EXPECT_EQ(r.warnings.size(), 1u);  // the short row
  EXPECT_EQ(r.labelsStored, 5);
  auto s1 = study("1.2.3.1");
  EXPECT_EQ(s1["lvef_percent"], "35.5");
  EXPECT_EQ(s1["lvef_class"], "0");
  EXPECT_EQ(s1.count("study_uid"), 0u);
  auto s3 = study("1.2.3.3");
  EXPECT_EQ(s3.count("lvef_percent"), 0u);  // empty cell: nothing stored
  EXPECT_EQ(s3["shd"], "0");
  for (const auto& l : db_->labelsForStudy(*db_->studyRowIdByUid("1.2.3.1"))) EXPECT_EQ(l.source, "csv:labels.csv");
}

TEST_F(LabelsCsv, ByAccessionAndPatient) {
  auto r = labels::importLabelsCsv(*db_, csv("accession_number,shd\nACC2,1\nACC9,0\n"));
  EXPECT_EQ(r.keyColumn, labels::KeyColumn::Accession);
  EXPECT_EQ(r.matchedRows, 1);
  EXPECT_EQ(r.unmatched.size(), 1u);
  EXPECT_EQ(study("1.2.3.2")["shd"], "1");
  r = labels::importLabelsCsv(*db_, csv("patient_id,study_uid,lvef_class\nP2,1.2.3.1,1\nP7,x,2\n"),
                              labels::KeyColumn::PatientId, "manual-test");
  EXPECT_EQ(r.keyColumn, labels::KeyColumn::PatientId);
  EXPECT_EQ(r.matchedRows, 1);
  EXPECT_EQ(r.unmatched.size(), 1u);
  db::Filter f;
  f.text = "P2";
  const auto p2 = db_->listPatients(f);
  ASSERT_EQ(p2.size(), 1u);
  const auto pl = db_->labelsForPatient(p2[0].id);
  ASSERT_EQ(pl.size(), 1u);  // the study_uid column is a key, not a label
  EXPECT_EQ(pl[0].key, "lvef_class");
  EXPECT_EQ(pl[0].source, "manual-test");
}

TEST_F(LabelsCsv, Errors) {
  EXPECT_THROW(labels::importLabelsCsv(*db_, (dir_ / "missing.csv").string()), std::runtime_error);
  EXPECT_THROW(labels::importLabelsCsv(*db_, csv("foo,bar\n1,2\n")), std::runtime_error);
  EXPECT_THROW(labels::importLabelsCsv(*db_, csv("study_uid,x\n1.2.3.1,1\n"), labels::KeyColumn::Accession),
               std::runtime_error);
  labels::KeyColumn k;
  EXPECT_TRUE(labels::parseKeyColumn("accession", k));
  EXPECT_EQ(k, labels::KeyColumn::Accession);
  EXPECT_FALSE(labels::parseKeyColumn("mrn", k));
}
