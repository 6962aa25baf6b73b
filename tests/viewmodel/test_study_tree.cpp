// vm::StudyTree over a database imported from real files (DICOM ECGs, ultrasound DICOMs, the LUDB
// WFDB records): grouping as the database has it, newest study first, live filtering.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <memory>
#include <set>

#include <unistd.h>

#include "real_data_db.h"
#include "viewmodel/study_tree.h"

namespace e2e {
namespace {
namespace fs = std::filesystem;

class StudyTreeReal : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("e2e-study-tree-" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    const auto rep = test::importBrowserData((*dir_ / "studies.db").string());
    ASSERT_GT(rep.added, 0) << importer::summary(rep);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  void SetUp() override {
    db_ = std::make_unique<db::Database>((*dir_ / "studies.db").string(), db::Database::Mode::ReadOnly);
  }
  const vm::TreePatient* patientById(const vm::StudyTree& t, const std::string& id) {
    for (const auto& p : t.patients())
      if (p.patientId == id) return &p;
    return nullptr;
  }
  static fs::path* dir_;
  std::unique_ptr<db::Database> db_;
};
fs::path* StudyTreeReal::dir_ = nullptr;

TEST_F(StudyTreeReal, GroupsAsTheDatabaseDoes) {
  const vm::StudyTree t = vm::StudyTree::fromDatabase(*db_);
  const db::Counts c = db_->counts();
  const vm::TreeCounts tc = t.counts();
  EXPECT_EQ(tc.patients, static_cast<std::size_t>(c.patients));
  EXPECT_EQ(tc.studies, static_cast<std::size_t>(c.studies));
  EXPECT_EQ(tc.series, static_cast<std::size_t>(c.series));
  EXPECT_EQ(tc.instances, static_cast<std::size_t>(c.instances));
  // Every LUDB record (a .hea file) is one instance of its own patient.
  std::size_t ludbRecords = 0;
  for (const auto& e : fs::directory_iterator(test::dataFile("ecg_wfdb/ludb/data")))
    ludbRecords += e.path().extension() == ".hea";
  ASSERT_EQ(ludbRecords, 200u);
  EXPECT_GT(tc.patients, ludbRecords);
  // Per study, what listStudies counts.
  std::map<std::int64_t, db::StudyRow> studies;
  for (const auto& s : db_->listStudies()) studies[s.id] = s;
  for (const auto& p : t.patients())
    for (const auto& st : p.studies) {
      ASSERT_EQ(studies.count(st.rowId), 1u);
      EXPECT_EQ(st.instanceCount(), static_cast<std::size_t>(studies[st.rowId].instanceCount)) << st.studyUid;
      EXPECT_EQ(st.studyUid, studies[st.rowId].studyUid);
    }
}

TEST_F(StudyTreeReal, RealPatientsAsTheFilesDescribeThem) {
  const vm::StudyTree t = vm::StudyTree::fromDatabase(*db_);
  // ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm: PatientName "Patient^Test", ID 123-654, 1999-12-23.
  const vm::TreePatient* ecg = patientById(t, "123-654");
  ASSERT_NE(ecg, nullptr);
  EXPECT_EQ(ecg->displayName, "PATIENT, Test");
  ASSERT_EQ(ecg->studies.size(), 1u);
  EXPECT_EQ(ecg->studies[0].date, "19991223");
  EXPECT_EQ(ecg->studies[0].accession, "0001");
  ASSERT_EQ(ecg->studies[0].series.size(), 1u);
  EXPECT_EQ(ecg->studies[0].series[0].modality, "ECG");
  ASSERT_EQ(ecg->studies[0].series[0].instances.size(), 1u);
  EXPECT_EQ(ecg->studies[0].series[0].instances[0].fileName(), "test_ecg.dcm");
  // us_dicom/pydicom-data/US1_{J2KI,J2KR,UNCR}.dcm: one patient (13US1), one study, one series.
  const vm::TreePatient* us1 = patientById(t, "13US1");
  ASSERT_NE(us1, nullptr);
  EXPECT_EQ(us1->displayName, "COMPRESSEDSAMPLES, US1");
  ASSERT_EQ(us1->studies.size(), 1u);
  ASSERT_EQ(us1->studies[0].series.size(), 1u);
  EXPECT_EQ(us1->studies[0].series[0].modality, "US");
  EXPECT_EQ(us1->studies[0].series[0].instances.size(), 3u);
  EXPECT_EQ(us1->modalities(), "US");
  // gdcm-US-ALOKA-16.dcm: "NAME^PATIENT^NAME"; OBXXXX1A*.dcm: "OB^^^^" (trailing parts dropped).
  ASSERT_NE(patientById(t, "98279"), nullptr);
  EXPECT_EQ(patientById(t, "98279")->displayName, "NAME, PATIENT NAME");
  ASSERT_NE(patientById(t, "11-05-25-142825"), nullptr);
  EXPECT_EQ(patientById(t, "11-05-25-142825")->displayName, "OB");
}

TEST_F(StudyTreeReal, NewestStudyFirstAndSortable) {
  vm::StudyTree t = vm::StudyTree::fromDatabase(*db_);
  for (std::size_t i = 1; i < t.patients().size(); ++i)
    EXPECT_GE(t.patients()[i - 1].latestDate(), t.patients()[i].latestDate()) << i;
  for (const auto& p : t.patients())
    for (std::size_t i = 1; i < p.studies.size(); ++i) EXPECT_GE(p.studies[i - 1].date, p.studies[i].date);
  t.sort(vm::TreeSortKey::Id, false);
  for (std::size_t i = 1; i < t.patients().size(); ++i) {
    std::string a = t.patients()[i - 1].patientId, b = t.patients()[i].patientId;
    std::transform(a.begin(), a.end(), a.begin(), ::tolower);
    std::transform(b.begin(), b.end(), b.begin(), ::tolower);
    EXPECT_LE(a, b) << i;
  }
  t.sort(vm::TreeSortKey::Count, true);
  for (std::size_t i = 1; i < t.patients().size(); ++i)
    EXPECT_GE(t.patients()[i - 1].instanceCount(), t.patients()[i].instanceCount()) << i;
}

TEST_F(StudyTreeReal, GroupingDoesNotDependOnRowOrder) {
  std::vector<db::BrowseRow> rows = db_->browseRows();
  const vm::StudyTree a = vm::StudyTree::fromRows(rows);
  std::mt19937 rng(7);
  std::shuffle(rows.begin(), rows.end(), rng);
  const vm::StudyTree b = vm::StudyTree::fromRows(rows);
  ASSERT_EQ(a.patients().size(), b.patients().size());
  for (std::size_t i = 0; i < a.patients().size(); ++i) {
    ASSERT_EQ(a.patients()[i].rowId, b.patients()[i].rowId) << i;
    ASSERT_EQ(a.patients()[i].studies.size(), b.patients()[i].studies.size());
    for (std::size_t s = 0; s < a.patients()[i].studies.size(); ++s) {
      const auto &sa = a.patients()[i].studies[s], &sb = b.patients()[i].studies[s];
      ASSERT_EQ(sa.rowId, sb.rowId);
      ASSERT_EQ(sa.series.size(), sb.series.size());
      for (std::size_t k = 0; k < sa.series.size(); ++k) {
        EXPECT_EQ(sa.series[k].rowId, sb.series[k].rowId);
        ASSERT_EQ(sa.series[k].instances.size(), sb.series[k].instances.size());
        for (std::size_t j = 0; j < sa.series[k].instances.size(); ++j)
          EXPECT_EQ(sa.series[k].instances[j].rowId, sb.series[k].instances[j].rowId);
      }
    }
  }
}

TEST_F(StudyTreeReal, FiltersByNameIdDateModalityDescriptionAndAccession) {
  const vm::StudyTree all = vm::StudyTree::fromDatabase(*db_);
  const std::vector<db::StudyRow> studies = db_->listStudies();
  auto patientIds = [](const vm::StudyTree& t) {
    std::set<std::string> ids;
    for (const auto& p : t.patients()) ids.insert(p.patientId);
    return ids;
  };
  // Name as shown and as stored, any case, words in any order; patient ID.
  EXPECT_EQ(patientIds(all.filtered("patient, te")), std::set<std::string>{"123-654"});
  EXPECT_EQ(patientIds(all.filtered("TEST patient^")), std::set<std::string>{"123-654"});
  EXPECT_EQ(patientIds(all.filtered("13us1")), std::set<std::string>{"13US1"});
  // Date, both spellings: exactly the studies of that day.
  for (const char* date : {"19991223", "1999-12-23"}) {
    const vm::StudyTree byDate = all.filtered(date);
    ASSERT_EQ(byDate.counts().studies, 1u) << date;
    EXPECT_EQ(byDate.patients()[0].studies[0].date, "19991223");
  }
  // Accession 0001 (test_ecg.dcm) with the modality: both words must match.
  EXPECT_EQ(patientIds(all.filtered("0001 ecg")), std::set<std::string>{"123-654"});
  EXPECT_TRUE(all.filtered("0001 us").empty());
  // Study description: as many studies as the database has with that description.
  std::size_t echoStudies = 0;
  for (const auto& s : studies) {
    std::string d = s.description;
    std::transform(d.begin(), d.end(), d.begin(), ::tolower);
    echoStudies += d.find("echocardiogram") != std::string::npos;
  }
  ASSERT_GT(echoStudies, 0u);
  EXPECT_EQ(all.filtered("echocardiogram").counts().studies, echoStudies);
  // Series modality: only ECG series stay, each with its study and patient.
  const vm::StudyTree ecg = all.filtered("ecg");
  std::size_t ecgSeries = 0;
  for (const auto& s : db_->listSeries()) ecgSeries += s.modality == "ECG";
  EXPECT_GE(ecg.counts().series, ecgSeries);
  EXPECT_GE(ecg.counts().patients, 200u) << "the LUDB ECGs";
  for (const auto& p : ecg.patients()) {
    ASSERT_FALSE(p.studies.empty());
    for (const auto& st : p.studies) ASSERT_FALSE(st.series.empty());
  }
  // A matching patient keeps all its studies and series.
  const vm::StudyTree us1 = all.filtered("CompressedSamples");
  ASSERT_EQ(us1.patients().size(), 1u);
  EXPECT_EQ(us1.patients()[0].instanceCount(), 3u);
  // Blank text: everything; no match: nothing.
  EXPECT_EQ(all.filtered("  ").counts().instances, all.counts().instances);
  EXPECT_TRUE(all.filtered("no-such-patient-anywhere").empty());
}

TEST(StudyTreeText, TitleDateAndCounts) {
  vm::TreeCounts all{37, 52, 80, 213}, some{3, 4, 5, 9}, one{1, 1, 1, 1};
  EXPECT_EQ(vm::studyTreeTitle(all, all), "Studies (37 patients, 52 studies)");
  EXPECT_EQ(vm::studyTreeTitle(some, all), "Studies (3 of 37 patients, 4 of 52 studies)");
  EXPECT_EQ(vm::studyTreeTitle(one, one), "Studies (1 patient, 1 study)");
  EXPECT_EQ(vm::studyTreeTitle({}, {}), "Studies (0 patients, 0 studies)");
  EXPECT_EQ(vm::displayStudyDate("19991223"), "1999-12-23");
  EXPECT_EQ(vm::displayStudyDate(""), "");
  EXPECT_EQ(vm::displayStudyDate("1994.11.05"), "1994.11.05");  // not DICOM DA: as it is
  EXPECT_EQ(vm::objectCountText(1, 1), "1 series, 1 instance");
  EXPECT_EQ(vm::objectCountText(2, 5), "2 series, 5 instances");
}

}  // namespace
}  // namespace e2e
