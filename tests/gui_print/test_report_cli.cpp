// echo2ecg report ID --pdf OUT (issue 20): the printout of a stored ECG from the command line,
// painted by echo2ecg-gui --export-pdf (the page of File > Print), for a real DICOM ECG and an
// LUDB record: one page of A4 (595 x 842 pt) or Letter (612 x 792 pt) whose text names the
// patient and the scale; bad requests are refused with a reason.
#include <gtest/gtest.h>

#include <QFileInfo>
#include <QTemporaryDir>

#include <regex>

#include "common/person_name.h"
#include "common/process.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "print_test_util.h"
#include "test_util.h"

using namespace e2e;

namespace {

class ReportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new QTemporaryDir;
    db_ = dir_->filePath(QStringLiteral("studies.db")).toStdString();
    db::Database database(db_);
    importer::ImportOptions o;
    o.paths = {test::dataFile("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm").string(),
               test::dataFile("ecg_wfdb/ludb/data/1.hea").string(),
               // Real records with signal-quality findings (issue 23): flat V2, V4, V6; a likely
               // LA/RA reversal.
               test::dataFile("ecg_wfdb/torch_ecg_cinc2021/JS20008.hea").string(),
               test::dataFile("ecg_wfdb/torch_ecg_cinc2021/E07514.hea").string(),
               test::dataFile("us_dicom").string()};
    importer::runImport(database, o);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!test::havePoppler()) GTEST_SKIP() << "poppler-utils (pdfinfo, pdftotext) are not installed";
  }
  static std::optional<db::InstanceRow> instance(const std::string& pathEnd) {
    db::Database d(db_, db::Database::Mode::ReadOnly);
    for (const auto& r : d.listInstances(db::Filter{}))
      if (r.path.size() >= pathEnd.size() && r.path.compare(r.path.size() - pathEnd.size(), pathEnd.size(), pathEnd) == 0)
        return r;
    return std::nullopt;
  }
  static ProcessResult report(std::vector<std::string> args, const std::string& gui = E2E_GUI_PATH) {
    args.insert(args.begin(), {E2E_CLI_PATH, "report"});
    args.insert(args.end(), {"--db", db_});
    ProcessOptions o;
    o.env = {"E2E_GUI=" + gui};
    return runProcess(args, o);
  }
  // The report of `inst` on `paper`: one page of the paper's size whose text has the patient
  // and the scale.
  void expectReport(const db::InstanceRow& inst, const std::string& paper, double shortPt, double longPt) {
    const QString pdf = dir_->filePath(QString::fromStdString("report-" + std::to_string(inst.id) + paper + ".pdf"));
    const ProcessResult r = report({std::to_string(inst.id), "--pdf", pdf.toStdString(), "--paper", paper});
    ASSERT_TRUE(r.ok()) << r.out << r.err;
    const std::string info = test::pdfInfo(pdf);
    EXPECT_EQ(test::pdfPages(info), 1) << info;
    const auto size = test::pdfPageSizePt(info);
    EXPECT_NEAR(size.first, shortPt, 0.5) << info;
    EXPECT_NEAR(size.second, longPt, 0.5) << info;
    const std::string text = test::pdfText(pdf);
    EXPECT_NE(text.find("25 mm/s"), std::string::npos) << text;
    EXPECT_NE(text.find("10 mm/mV"), std::string::npos) << text;
    ASSERT_FALSE(inst.patientId.empty());
    EXPECT_NE(text.find("ID " + inst.patientId), std::string::npos) << inst.patientId << "\n" << text;
    if (!inst.patientName.empty()) EXPECT_NE(text.find(formatPersonName(inst.patientName)), std::string::npos) << text;
  }
  static QTemporaryDir* dir_;
  static std::string db_;
};
QTemporaryDir* ReportCli::dir_ = nullptr;
std::string ReportCli::db_;

TEST_F(ReportCli, DicomEcgOnA4AndLetter) {
  const auto inst = instance("test_ecg.dcm");
  ASSERT_TRUE(inst.has_value());
  ASSERT_FALSE(inst->patientName.empty());
  expectReport(*inst, "a4", 595.28, 841.89);
  expectReport(*inst, "letter", 612.0, 792.0);
}

TEST_F(ReportCli, LudbRecordByUidWithAnotherLayout) {
  const auto inst = instance("1.hea");
  ASSERT_TRUE(inst.has_value());
  expectReport(*inst, "a4", 595.28, 841.89);
  const QString pdf = dir_->filePath(QStringLiteral("ludb-6x2.pdf"));
  const ProcessResult r = report({inst->sopInstanceUid, "--pdf", pdf.toStdString(), "--layout", "6x2"});
  ASSERT_TRUE(r.ok()) << r.out << r.err;
  EXPECT_NE(r.out.find("layout 6x2"), std::string::npos) << r.out;
  EXPECT_NE(test::pdfText(pdf).find("Layout 6x2"), std::string::npos);
}

// Issue 23: the batch printout carries the signal quality the screen shows (assessed from the file:
// no view passes it in): the marks beside flat leads, the banner of a record-level warning, and
// nothing on a clean record.
TEST_F(ReportCli, PrintsTheSignalQualityOfTheEcg) {
  auto reportText = [&](const std::string& pathEnd) {
    const auto inst = instance(pathEnd);
    if (!inst) return std::string("no instance ") + pathEnd;
    const QString pdf = dir_->filePath(QString::fromStdString("quality-" + std::to_string(inst->id) + ".pdf"));
    const ProcessResult r = report({std::to_string(inst->id), "--pdf", pdf.toStdString()});
    return r.ok() ? test::pdfWords(pdf) : "report failed: " + r.out + r.err;
  };
  auto marked = [](const std::string& text, const std::string& lead) {
    return std::regex_search(text, std::regex("(^|[^A-Za-z0-9])" + lead + " +flat"));
  };
  const std::string flat = reportText("JS20008.hea");
  for (const char* l : {"V2", "V4", "V6"}) EXPECT_TRUE(marked(flat, l)) << l << "\n" << flat;
  EXPECT_FALSE(marked(flat, "V1")) << flat;
  EXPECT_EQ(flat.find("Signal quality"), std::string::npos) << "flat leads alone leave the record usable\n" << flat;
  const std::string reversed = reportText("E07514.hea");
  EXPECT_NE(reversed.find("Signal quality: likely LA/RA limb-lead reversal"), std::string::npos) << reversed;
  const std::string clean = reportText("/1.hea");
  EXPECT_NE(clean.find("25 mm/s"), std::string::npos) << clean;
  EXPECT_EQ(clean.find("Signal quality"), std::string::npos) << clean;
  EXPECT_EQ(clean.find("flat"), std::string::npos) << clean;
}

TEST_F(ReportCli, RefusesWhatItCannotPrint) {
  const QString pdf = dir_->filePath(QStringLiteral("never.pdf"));
  const auto ecg = instance("test_ecg.dcm");
  ASSERT_TRUE(ecg.has_value());
  ProcessResult r = report({std::to_string(ecg->id), "--pdf", pdf.toStdString(), "--paper", "a3"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("unknown paper 'a3'"), std::string::npos) << r.err;
  r = report({"999999", "--pdf", pdf.toStdString()});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no instance"), std::string::npos) << r.err;
  db::Database d(db_, db::Database::Mode::ReadOnly);
  for (const auto& row : d.listInstances(db::Filter{}))
    if (row.modality == "US") {
      r = report({std::to_string(row.id), "--pdf", pdf.toStdString()});
      EXPECT_EQ(r.exitCode, 1);
      EXPECT_NE(r.err.find("not an ECG"), std::string::npos) << r.err;
      break;
    }
  r = report({std::to_string(ecg->id), "--pdf", pdf.toStdString()}, "/nonexistent/echo2ecg-gui");
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("cannot run /nonexistent/echo2ecg-gui"), std::string::npos) << r.err;
  EXPECT_FALSE(QFileInfo::exists(pdf));
}

}  // namespace
