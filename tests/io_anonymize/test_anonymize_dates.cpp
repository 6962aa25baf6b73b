// Anonymised export with shifted dates (issue 20, PS3.15 Modified Dates Option): shiftDicomDate
// on calendar edges, every DA/DT of real ECG and US files moved by the same number of days so
// that the intervals within an object and between studies stay exact, times kept, the option
// recorded; the default still empties dates; `echo2ecg export --shift-dates` and re-import.
#include <gtest/gtest.h>
#include <unistd.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>

#include <ctime>
#include <filesystem>
#include <map>

#include "cli_util.h"
#include "io/anonymize.h"

namespace fs = std::filesystem;
using e2e::io::shiftDicomDate;

namespace {

const std::string kData = E2E_DATA_DIR;
const std::string kEcg = kData + "/ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm";    // study 1999-12-23
const std::string kEcg2 = kData + "/ecg_dicom/pydicom_debian/waveform_ecg.dcm";     // study 2013-01-25
const std::string kUsOb = kData + "/us_dicom/pydicom-data/OBXXXX1A.dcm";            // DT with fraction
const std::string kUsOld = kData + "/us_dicom/octave-dicom_debian/US-PAL-8-10x-echo.dcm";  // 1994.01.30

std::string str(const std::string& file, const DcmTagKey& k) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(file.c_str()).good()) << file;
  OFString v;
  return ff.getDataset()->findAndGetOFStringArray(k, v).good() ? std::string(v.c_str()) : std::string();
}

// Day number of a YYYYMMDD date (days since 1970-01-01, by the C library, not by the code under test).
long dayNumber(const std::string& d) {
  struct tm t = {};
  t.tm_year = std::stoi(d.substr(0, 4)) - 1900;
  t.tm_mon = std::stoi(d.substr(4, 2)) - 1;
  t.tm_mday = std::stoi(d.substr(6, 2));
  t.tm_hour = 0;  // midnight UTC: an exact multiple of 86400 s, also before 1970
  return static_cast<long>(timegm(&t) / 86400);
}

class AnonymizeDates : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("e2e_anon_dates_" + std::to_string(getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // source -> output of one run
  std::map<std::string, std::string> run(const std::vector<std::string>& files, std::optional<int> shift) {
    e2e::io::AnonymizeOptions o;
    o.outDir = (dir_ / "out").string();
    o.shiftDays = shift;
    const auto rep = e2e::io::anonymizeFiles(files, o);
    EXPECT_TRUE(rep.errors.empty()) << rep.errors.front();
    std::map<std::string, std::string> m;
    for (const auto& w : rep.written) m[w.source] = w.output;
    return m;
  }
  fs::path dir_;
};

}  // namespace

TEST(ShiftDicomDate, CalendarEdgesAndBadValues) {
  EXPECT_EQ(shiftDicomDate("20240229", 365), "20250228");
  EXPECT_EQ(shiftDicomDate("20231231", 1), "20240101");
  EXPECT_EQ(shiftDicomDate("20000301", -1), "20000229");  // 2000 is a leap year
  EXPECT_EQ(shiftDicomDate("19000301", -1), "19000228");  // 1900 is not
  EXPECT_EQ(shiftDicomDate("19991223", -3650), "19891225");
  EXPECT_EQ(shiftDicomDate("20110525145628.350000+0100", -30), "20110425145628.350000+0100");
  EXPECT_EQ(shiftDicomDate("1994.01.30", 2), "19940201");
  EXPECT_EQ(shiftDicomDate("20240101", 0), "20240101");
  for (const char* bad : {"", "2024", "202401", "20241301", "20230229", "2024-01-01", "abcdefgh", "00000101"})
    EXPECT_FALSE(shiftDicomDate(bad, 1).has_value()) << bad;
  EXPECT_FALSE(shiftDicomDate("00010101", -1).has_value());  // before year 1
  EXPECT_FALSE(shiftDicomDate("99991231", 1).has_value());   // after 9999
}

TEST_F(AnonymizeDates, EveryDateMovesByTheSameDaysAndIntervalsStay) {
  const int shift = -1000;
  const auto out = run({kEcg, kEcg2, kUsOb}, shift);
  ASSERT_EQ(out.size(), 3u);
  for (const auto& [src, dst] : out) {
    for (const DcmTagKey& k : {DCM_StudyDate, DCM_ContentDate, DCM_PatientBirthDate, DCM_InstanceCreationDate}) {
      const std::string before = str(src, k);
      if (before.size() != 8) continue;
      const std::string after = str(dst, k);
      ASSERT_EQ(after.size(), 8u) << src << " " << k.toString().c_str();
      EXPECT_EQ(dayNumber(after) - dayNumber(before), shift) << src << " " << k.toString().c_str();
    }
    // Date-times keep their time of day; times are kept.
    const std::string dtBefore = str(src, DCM_AcquisitionDateTime), dtAfter = str(dst, DCM_AcquisitionDateTime);
    ASSERT_GE(dtAfter.size(), 8u) << src;
    EXPECT_EQ(dtAfter.substr(8), dtBefore.substr(8)) << src;
    EXPECT_EQ(dayNumber(dtAfter.substr(0, 8)) - dayNumber(dtBefore.substr(0, 8)), shift);
    EXPECT_EQ(str(dst, DCM_StudyTime), str(src, DCM_StudyTime)) << src;
    EXPECT_EQ(str(dst, DCM_LongitudinalTemporalInformationModified), "MODIFIED");
    EXPECT_NE(str(dst, DCM_DeidentificationMethod).find("Modified Dates"), std::string::npos);
    EXPECT_EQ(str(dst, DCM_PatientIdentityRemoved), "YES");
  }
  // Between studies (of different patients and years) the interval is the same as before.
  EXPECT_EQ(dayNumber(str(out.at(kEcg2), DCM_StudyDate)) - dayNumber(str(out.at(kEcg), DCM_StudyDate)),
            dayNumber(str(kEcg2, DCM_StudyDate)) - dayNumber(str(kEcg, DCM_StudyDate)));
  // Within one object: instance creation 285 days after the study, as in the source.
  EXPECT_EQ(dayNumber(str(out.at(kEcg), DCM_InstanceCreationDate)) - dayNumber(str(out.at(kEcg), DCM_StudyDate)), 285);
}

TEST_F(AnonymizeDates, OldDateFormIsShiftedAndDefaultStillEmptiesDates) {
  auto out = run({kUsOld}, 10);
  EXPECT_EQ(str(out.at(kUsOld), DCM_StudyDate), "19940209");
  fs::remove_all(dir_ / "out");
  out = run({kEcg}, std::nullopt);
  EXPECT_EQ(str(out.at(kEcg), DCM_StudyDate), "");
  EXPECT_EQ(str(out.at(kEcg), DCM_PatientBirthDate), "");
  EXPECT_EQ(str(out.at(kEcg), DCM_LongitudinalTemporalInformationModified), "");
  e2e::io::AnonymizeOptions o;
  o.outDir = (dir_ / "x").string();
  o.shiftDays = e2e::io::kMaxDateShiftDays + 1;
  EXPECT_THROW(e2e::io::anonymizeFiles({kEcg}, o), std::runtime_error);
}

TEST_F(AnonymizeDates, CliShiftDatesAndReimport) {
  using e2e::test::runCli;
  using e2e::test::shellQuote;
  const std::string out = (dir_ / "cli").string(), db = (dir_ / "anon.db").string();
  auto r = runCli("export --anonymize " + shellQuote(out) + " --shift-dates -365 --files " + shellQuote(kEcg) + " " +
                      shellQuote(kEcg2),
                  true);
  ASSERT_EQ(r.rc, 0) << r.out;
  r = runCli("import " + shellQuote(out) + " --db " + shellQuote(db), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  r = runCli("list studies --db " + shellQuote(db), true);
  ASSERT_EQ(r.rc, 0) << r.out;
  // 1999-12-23 - 365 days = 1998-12-23; 2013-01-25 - 365 days = 2012-01-26 (2012 is a leap year).
  auto has = [&](const char* iso, const char* dicom) {
    return r.out.find(iso) != std::string::npos || r.out.find(dicom) != std::string::npos;
  };
  EXPECT_TRUE(has("1998-12-23", "19981223")) << r.out;
  EXPECT_TRUE(has("2012-01-26", "20120126")) << r.out;
  EXPECT_FALSE(has("1999-12-23", "19991223")) << r.out;
  EXPECT_EQ(runCli("export --anonymize " + shellQuote(out) + " --shift-dates 3.5 --files " + shellQuote(kEcg)).rc, 2);
  EXPECT_EQ(runCli("export --anonymize " + shellQuote(out) + " --shift-dates 999999 --files " + shellQuote(kEcg)).rc, 2);
}
