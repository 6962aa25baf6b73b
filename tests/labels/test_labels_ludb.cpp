// Labels from the real LUDB table (ecg_wfdb/ludb/ludb.csv): RFC 4180 cells spanning lines, key
// column "ID" holding the record name, which the WFDB importer stores as the patient ID.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "common/text.h"
#include "db/database.h"
#include "io/wfdb.h"
#include "jobs/import/importer.h"
#include "labels/labels_csv.h"
#include "test_util.h"

namespace fs = std::filesystem;
using namespace e2e;

namespace {

const fs::path kLudb = e2e::test::dataFile("ecg_wfdb/ludb");

class LabelsLudb : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e-labels-ludb-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = std::make_unique<db::Database>((dir_ / "s.db").string());
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  void importRecords(const std::vector<std::string>& names) {
    importer::ImportOptions opts;
    for (const auto& n : names) opts.paths.push_back((kLudb / "data" / (n + ".hea")).string());
    opts.threads = 1;
    const auto rep = importer::runImport(*db_, opts);
    ASSERT_TRUE(rep.ok()) << importer::summary(rep);
    ASSERT_EQ(rep.addedEcg, static_cast<std::int64_t>(names.size())) << importer::summary(rep);
  }
  db::PatientRow patient(const std::string& pid) {
    db::Filter f;
    f.text = pid;
    for (const auto& p : db_->listPatients(f))
      if (p.patientId == pid) return p;
    ADD_FAILURE() << "no patient " << pid;
    return {};
  }
  std::map<std::string, std::string> labels(const std::string& pid) {
    std::map<std::string, std::string> m;
    for (const auto& l : db_->labelsForPatient(patient(pid).id)) m[l.key] = l.value;
    return m;
  }
  std::string csv(const std::string& text) {
    const auto p = dir_ / "t.csv";
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
  std::unique_ptr<db::Database> db_;
};

}  // namespace

TEST_F(LabelsLudb, KeyColumnIdGivesThePatientsLabels) {
  importRecords({"1", "3", "108"});
  EXPECT_EQ(patient("1").sex, "F");
  EXPECT_EQ(patient("3").sex, "M");
  const auto r = labels::importLabelsCsv(*db_, (kLudb / "ludb.csv").string(), labels::KeyColumn::PatientId, "",
                                         "ID");
  EXPECT_EQ(r.keyColumn, labels::KeyColumn::PatientId);
  EXPECT_EQ(r.rows, 200);
  EXPECT_EQ(r.matchedRows, 3);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  ASSERT_EQ(r.unmatched.size(), 197u);  // the records not imported: reported, not an error
  EXPECT_EQ(r.unmatched[0].key, "2");
  EXPECT_EQ(r.unmatched[0].line, 6);  // record 1 spans lines 2-5 (cells with line breaks)
  EXPECT_EQ(r.unmatched.back().key, "200");
  EXPECT_EQ(r.unmatched.back().line, 893);

  auto p1 = labels("1");
  EXPECT_EQ(p1.count("id"), 0u);  // the key column is not a label
  EXPECT_EQ(p1["sex"], "F");
  EXPECT_EQ(p1["age"], "51");
  EXPECT_EQ(p1["rhythms"], "Sinus bradycardia");
  EXPECT_EQ(p1["hypertrophies"], "Left ventricular overload; Left ventricular hypertrophy");
  EXPECT_EQ(p1["electric axis of the heart"], "Electric axis of the heart: left axis deviation");
  EXPECT_EQ(p1.count("ischemia"), 0u);  // empty cell
  EXPECT_EQ(p1.size(), 6u);
  auto p3 = labels("3");
  EXPECT_EQ(p3["age"], "53");
  EXPECT_EQ(p3["ischemia"], "Ischemia: inferior wall; Ischemia: lateral wall");
  auto p108 = labels("108");
  EXPECT_EQ(p108["hypertrophies"], "Left atrial hypertrophy");
  EXPECT_EQ(p108["extrasystolies"], "Atrial extrasystole: left atrial; Atrial extrasystole, type: quadrigemini");
  EXPECT_EQ(r.labelsStored, static_cast<int>(p1.size() + p3.size() + p108.size()));
  // The table agrees with each record's own header: LVH label <=> LVH diagnosis statement.
  for (const char* n : {"1", "3", "108"}) {
    const auto rec = readWfdb((kLudb / "data" / (std::string(n) + ".hea")).string());
    const bool dx = std::find(rec.diagnoses.begin(), rec.diagnoses.end(), "Left ventricular hypertrophy") !=
                    rec.diagnoses.end();
    EXPECT_EQ(labels(n)["hypertrophies"].find("Left ventricular hypertrophy") != std::string::npos, dx) << n;
    EXPECT_EQ(labels(n)["sex"], rec.identity.sex) << n;
  }
  for (const auto& l : db_->labelsForPatient(patient("1").id)) EXPECT_EQ(l.source, "csv:ludb.csv");
}

TEST_F(LabelsLudb, KeyColumnErrors) {
  importRecords({"1"});
  const std::string path = (kLudb / "ludb.csv").string();
  // Without --key-column there is no patient_id column; a name needs a key kind; unknown column.
  EXPECT_THROW(labels::importLabelsCsv(*db_, path, labels::KeyColumn::PatientId), std::runtime_error);
  EXPECT_THROW(labels::importLabelsCsv(*db_, path, labels::KeyColumn::Auto, "", "ID"), std::runtime_error);
  try {
    labels::importLabelsCsv(*db_, path, labels::KeyColumn::PatientId, "", "record");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no column named record"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(db_->labelsForPatient(patient("1").id).empty());
}

TEST_F(LabelsLudb, UnterminatedQuoteAndHugeCellAreClearErrors) {
  importRecords({"1"});
  // ludb.csv cut inside record 2's quoted Sex cell (which opens on line 6).
  std::ifstream in(kLudb / "ludb.csv", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string full = ss.str();
  const std::string cut = full.substr(0, full.find("2,\"M") + 4);
  try {
    labels::importLabelsCsv(*db_, csv(cut), labels::KeyColumn::PatientId, "", "ID");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("line 6"), std::string::npos) << m;
    EXPECT_NE(m.find("not closed"), std::string::npos) << m;
  }
  EXPECT_TRUE(db_->labelsForPatient(patient("1").id).empty());  // nothing stored (one transaction)
  try {
    labels::importLabelsCsv(*db_, csv("ID,x\n1,ok\n1,\"" + std::string((1u << 20) + 1, 'a') + "\"\n"),
                            labels::KeyColumn::PatientId, "", "id");
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("longer than"), std::string::npos) << e.what();
  }
}

TEST(CsvRecordReader, QuotedCellsSpanLines) {
  std::istringstream in("a,b\r\n\"x\r\ny\",\" q \"\"z\"\"\"\n\n last ,\n");
  CsvRecordReader r(in, "t.csv");
  std::vector<std::string> f;
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.line(), 1);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string>{"x\ny", "q \"z\""}));
  EXPECT_EQ(r.line(), 2);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string>{""}));
  EXPECT_EQ(r.line(), 4);
  ASSERT_TRUE(r.next(f));
  EXPECT_EQ(f, (std::vector<std::string>{"last", ""}));
  EXPECT_EQ(r.line(), 5);
  EXPECT_FALSE(r.next(f));
  std::istringstream many(std::string(20, ','));
  CsvRecordReader small(many, "m.csv", 16, 10);
  EXPECT_THROW(small.next(f), std::runtime_error);
}
