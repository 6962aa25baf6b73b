// File > Import folder…: the import job runs on a worker thread; the dialog shows throttled
// progress, can be cancelled, and ends with the report table; the browser refreshes.
#include <gtest/gtest.h>

#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <fstream>

#include "browser/ImportDialog.h"
#include "browser/StudyBrowser.h"
#include "db/database.h"
#include "panels_test_util.h"

using namespace e2e;
using e2e::ui::ImportDialog;

namespace {

QStringList kinds(QTableWidget* t) {
  QStringList out;
  for (int r = 0; r < t->rowCount(); ++r) out << t->item(r, 0)->text();
  return out;
}

int rowOf(QTableWidget* t, const QString& kind, const QString& file) {
  for (int r = 0; r < t->rowCount(); ++r)
    if (t->item(r, 0)->text() == kind && t->item(r, 1)->text() == file) return r;
  return -1;
}

}  // namespace

TEST(ImportDialog, ImportsRealFilesReportsErrorsAndRefreshesTheBrowser) {
  test::app();
  QTemporaryDir tmp;
  ASSERT_TRUE(tmp.isValid());
  const std::string in = tmp.filePath(QStringLiteral("in")).toStdString();
  const std::string data = test::dataDir();
  test::copyFile(data + "/ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm", in + "/ecg/test_ecg.dcm");
  test::copyFile(data + "/ecg_dicom/pydicom_debian/waveform_ecg.dcm", in + "/ecg/waveform_ecg.dcm");
  test::copyFile(data + "/us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm", in + "/us/US-MONO2-8-8x-execho.dcm");
  test::copyFile(data + "/us_dicom/octave-dicom_debian/US-PAL-8-10x-echo.dcm", in + "/us/US-PAL-8-10x-echo.dcm");
  // A damaged DICOM (preamble + magic, then nothing usable) and a text file.
  std::ofstream(in + "/broken.dcm", std::ios::binary) << std::string(128, '\0') << "DICM" << "\x02\x00";
  std::ofstream(in + "/notes.txt") << "not a medical file\n";

  const QString dbPath = tmp.filePath(QStringLiteral("studies.db"));
  qputenv("E2E_DB", dbPath.toUtf8());
  ui::StudyBrowser browser;
  EXPECT_EQ(browser.model()->rowCount(), 0);

  ImportDialog dlg(dbPath);
  bool finished = false, finishedOk = true;
  QObject::connect(&dlg, &ImportDialog::importFinished, &browser, [&](bool ok, const QString&) {
    finished = true;
    finishedOk = ok;
    browser.refresh();
  });
  dlg.show();
  ASSERT_TRUE(dlg.start({QString::fromStdString(in)}));
  EXPECT_TRUE(dlg.isRunning());
  EXPECT_TRUE(dlg.cancelButton()->isEnabled());
  EXPECT_FALSE(dlg.start({QString::fromStdString(in)})) << "one job at a time";
  // The GUI thread stays free: the event loop turns while the worker imports.
  const int iterations = test::spinUntil([&] { return finished; });
  ASSERT_GE(iterations, 1) << "the import did not finish";

  EXPECT_FALSE(dlg.isRunning());
  EXPECT_EQ(dlg.progressBar()->maximum(), 100);
  EXPECT_EQ(dlg.progressBar()->value(), 100);
  EXPECT_FALSE(dlg.cancelButton()->isEnabled());
  const auto& o = dlg.outcome();
  EXPECT_FALSE(finishedOk) << "a damaged file makes the run not ok";
  EXPECT_EQ(o.added, 4);
  EXPECT_EQ(o.errors, 1);
  EXPECT_EQ(o.unsupported, 1);
  QTableWidget* t = dlg.reportTable();
  EXPECT_EQ(kinds(t).count(QStringLiteral("added")), 4) << kinds(t).join(QStringLiteral(",")).toStdString();
  EXPECT_GE(rowOf(t, QStringLiteral("added"), QStringLiteral("test_ecg.dcm")), 0);
  EXPECT_GE(rowOf(t, QStringLiteral("added"), QStringLiteral("US-PAL-8-10x-echo.dcm")), 0);
  const int err = rowOf(t, QStringLiteral("error"), QStringLiteral("broken.dcm"));
  ASSERT_GE(err, 0);
  EXPECT_FALSE(t->item(err, 2)->text().isEmpty()) << "the error row gives a reason";
  EXPECT_GE(rowOf(t, QStringLiteral("unsupported"), QStringLiteral("notes.txt")), 0);
  // The browser was refreshed from the database.
  EXPECT_EQ(browser.model()->rowCount(), 4);
  test::saveShot(&dlg, QStringLiteral("import_report.png"));

  // A second run skips everything already stored.
  finished = false;
  ASSERT_TRUE(dlg.start({QString::fromStdString(in + "/ecg")}));
  ASSERT_GE(test::spinUntil([&] { return finished; }), 0);
  EXPECT_EQ(dlg.outcome().added, 0);
  EXPECT_EQ(dlg.outcome().skipped, 2);
  EXPECT_TRUE(finishedOk);
  qunsetenv("E2E_DB");
}

TEST(ImportDialog, CancelStopsTheJob) {
  test::app();
  QTemporaryDir tmp;
  ASSERT_TRUE(tmp.isValid());
  const QString dbPath = tmp.filePath(QStringLiteral("studies.db"));
  ImportDialog dlg(dbPath);
  bool finished = false;
  QObject::connect(&dlg, &ImportDialog::importFinished, &dlg, [&] { finished = true; });
  ASSERT_TRUE(dlg.start({QString::fromStdString(test::dataDir())}));
  dlg.cancelButton()->click();  // before the event loop has turned once
  EXPECT_FALSE(dlg.cancelButton()->isEnabled());
  ASSERT_GE(test::spinUntil([&] { return finished; }), 0);
  EXPECT_TRUE(dlg.outcome().cancelled);
  EXPECT_FALSE(dlg.outcome().ok);
  EXPECT_TRUE(dlg.statusLabel()->text().contains(QStringLiteral("Cancelled")));
  // The database stays consistent.
  db::Database d(dbPath.toStdString());
  EXPECT_EQ(d.integrityCheck(), "ok");
  EXPECT_LE(d.counts().instances, dlg.outcome().added);
}

TEST(ImportDialog, DestroyingARunningDialogCancelsCleanly) {
  test::app();
  QTemporaryDir tmp;
  {
    ImportDialog dlg(tmp.filePath(QStringLiteral("studies.db")));
    ASSERT_TRUE(dlg.start({QString::fromStdString(test::dataDir())}));
  }  // the destructor cancels and waits: no crash, no dangling worker
  SUCCEED();
}

TEST(ImportDialog, UnwritableDatabaseIsReportedNotThrown) {
  test::app();
  QTemporaryDir tmp;
  const QString notADb = tmp.filePath(QStringLiteral("garbage.db"));
  std::ofstream(notADb.toStdString()) << "this is not sqlite at all, just text that is long enough to be a header......";
  ImportDialog dlg(notADb);
  bool finished = false;
  QObject::connect(&dlg, &ImportDialog::importFinished, &dlg, [&] { finished = true; });
  ASSERT_TRUE(dlg.start({QString::fromStdString(test::dataDir() + "/ecg_dicom")}));
  ASSERT_GE(test::spinUntil([&] { return finished; }), 0);
  EXPECT_FALSE(dlg.outcome().ok);
  EXPECT_FALSE(dlg.outcome().error.isEmpty());
  EXPECT_EQ(dlg.statusLabel()->text(), dlg.outcome().error);
}
