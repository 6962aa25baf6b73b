// The study tree's "Export anonymised…" (issue 20): the node's files go through core/io/anonymize
// with the dialog's folder and date shift; shifted dates keep their intervals and the output
// imports again as one study; Next study (Ctrl+Down) walks the tree's studies. Offscreen.
#include <gtest/gtest.h>

#include <QAction>
#include <QMenu>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "browser/AnonymizeDialog.h"
#include "browser/StudyBrowser.h"
#include "browser/StudyTreeModel.h"
#include "db/database.h"
#include "gui_test_util.h"
#include "jobs/import/importer.h"
#include "test_util.h"

using namespace e2e;

namespace {

std::string dicomString(const std::string& file, const DcmTagKey& k) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(file.c_str()).good()) << file;
  OFString v;
  return ff.getDataset()->findAndGetOFStringArray(k, v).good() ? std::string(v.c_str()) : std::string();
}

class AnonymizeFromTree : public ::testing::Test {
 protected:
  void SetUp() override {
    test::app();
    db_ = tmp_.filePath(QStringLiteral("studies.db"));
    db::Database d(db_.toStdString());
    importer::ImportOptions o;
    o.paths = {test::dataFile("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm").string(),
               test::dataFile("us_dicom/pydicom-data/US1_UNCR.dcm").string(),
               test::dataFile("us_dicom/pydicom-data/US1_J2KR.dcm").string()};
    ASSERT_EQ(importer::runImport(d, o).added, 3);
    qputenv("E2E_DB", db_.toUtf8());
  }
  void TearDown() override { qunsetenv("E2E_DB"); }
  // The top-level row of the patient whose files include `fileName`.
  static QModelIndex patientWith(ui::StudyBrowser& b, const QString& fileName) {
    for (int r = 0; r < b.treeModel()->rowCount(); ++r) {
      const QModelIndex p = b.treeModel()->index(r, 0);
      for (const QString& f : b.pathsUnder(p))
        if (f.endsWith(fileName)) return p;
    }
    return {};
  }
  QTemporaryDir tmp_;
  QString db_;
};

TEST_F(AnonymizeFromTree, PatientNodeExportsItsStudyWithShiftedDatesAndReimports) {
  ui::StudyBrowser browser;
  for (int i = 0; i < 100 && browser.treeModel()->rowCount() < 2; ++i) QTest::qWait(50);
  const QModelIndex patient = patientWith(browser, QStringLiteral("US1_UNCR.dcm"));
  ASSERT_TRUE(patient.isValid());
  const QStringList paths = browser.pathsUnder(patient);
  ASSERT_EQ(paths.size(), 2);
  std::unique_ptr<QMenu> menu(browser.contextMenuFor(patient));
  auto* action = menu->findChild<QAction*>(QStringLiteral("exportAnonymised"));
  ASSERT_NE(action, nullptr);
  EXPECT_TRUE(action->isEnabled());
  EXPECT_EQ(action->text(), QStringLiteral("Export anonymised…"));

  ui::AnonymizeDialog dlg(paths);
  EXPECT_FALSE(dlg.shiftDays().has_value());  // off by default
  const QString out = tmp_.filePath(QStringLiteral("anon"));
  dlg.setOutputFolder(out);
  dlg.setShiftDays(100);
  const io::AnonymizeReport rep = dlg.run();
  ASSERT_EQ(rep.written.size(), 2u);
  EXPECT_TRUE(rep.errors.empty());
  EXPECT_FALSE(rep.warnings.empty());  // ultrasound: burned-in annotation is not ruled out
  for (const auto& w : rep.written) {
    // 2004-08-26 + 100 days = 2004-12-04.
    EXPECT_EQ(dicomString(w.source, DCM_StudyDate), "20040826");
    EXPECT_EQ(dicomString(w.output, DCM_StudyDate), "20041204");
    EXPECT_EQ(dicomString(w.output, DCM_LongitudinalTemporalInformationModified), "MODIFIED");
    EXPECT_NE(dicomString(w.output, DCM_PatientName), dicomString(w.source, DCM_PatientName));
  }
  EXPECT_EQ(dicomString(rep.written[0].output, DCM_StudyInstanceUID), dicomString(rep.written[1].output, DCM_StudyInstanceUID));

  // The output imports again: two instances of one study, on the shifted date.
  const std::string db2 = tmp_.filePath(QStringLiteral("anon.db")).toStdString();
  db::Database d2(db2);
  importer::ImportOptions o;
  o.paths = {out.toStdString()};
  const auto imp = importer::runImport(d2, o);
  EXPECT_EQ(imp.added, 2) << importer::summary(imp);
  const auto studies = d2.listStudies(db::Filter{});
  ASSERT_EQ(studies.size(), 1u);
  EXPECT_EQ(studies[0].date, "20041204");
}

TEST_F(AnonymizeFromTree, NextAndPreviousStudyOpenTheirFirstObject) {
  ui::StudyBrowser browser;
  for (int i = 0; i < 100 && browser.treeModel()->rowCount() < 2; ++i) QTest::qWait(50);
  QSignalSpy open(&browser, &ui::StudyBrowser::openRequested);
  ASSERT_TRUE(browser.selectAdjacentStudy(1));
  ASSERT_EQ(open.count(), 1);
  const QString first = open.takeFirst().at(0).toString();
  ASSERT_TRUE(browser.selectAdjacentStudy(1));
  ASSERT_EQ(open.count(), 1);
  const QString second = open.takeFirst().at(0).toString();
  EXPECT_NE(first, second);
  EXPECT_FALSE(browser.selectAdjacentStudy(1));  // two studies: the end
  ASSERT_TRUE(browser.selectAdjacentStudy(-1));
  EXPECT_EQ(open.takeFirst().at(0).toString(), first);
}

}  // namespace
