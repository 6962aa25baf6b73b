// The study browser dock over a database imported from real files: one top-level row per
// patient, every column visible at the dock's default width, the dock title counting patients and
// studies, filtering while typing (no Enter), and the instance signals the main window uses.
#include <gtest/gtest.h>

#include <algorithm>

#include <QDir>
#include <QDockWidget>
#include <QHeaderView>
#include <QLineEdit>
#include <QMainWindow>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeView>

#include "browser/StudyBrowser.h"
#include "browser/StudyTreeModel.h"
#include "gui_test_util.h"
#include "real_data_db.h"

namespace e2e {
namespace {

class StudyBrowserDock : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new QTemporaryDir;
    dbPath_ = dir_->filePath(QStringLiteral("studies.db"));
    const auto rep = test::importBrowserData(dbPath_.toStdString());
    ASSERT_GT(rep.added, 0) << importer::summary(rep);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    test::app();
    qputenv("E2E_DB", dbPath_.toUtf8());
  }
  void TearDown() override { qunsetenv("E2E_DB"); }
  static db::Counts counts() {
    db::Database d(dbPath_.toStdString(), db::Database::Mode::ReadOnly);
    return d.counts();
  }
  static QTemporaryDir* dir_;
  static QString dbPath_;
};
QTemporaryDir* StudyBrowserDock::dir_ = nullptr;
QString StudyBrowserDock::dbPath_;

TEST_F(StudyBrowserDock, ShowsPatientsAsTopLevelRowsWithEveryColumnAtTheDefaultWidth) {
  const db::Counts c = counts();
  QMainWindow w;
  auto* dock = new QDockWidget(QStringLiteral("Studies"), &w);
  auto* browser = new ui::StudyBrowser(dock);
  dock->setWidget(browser);
  w.addDockWidget(Qt::LeftDockWidgetArea, dock);
  w.setCentralWidget(new QWidget(&w));
  w.resize(1600, 950);
  w.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));

  QTreeView* tree = browser->treeView();
  ASSERT_NE(tree, nullptr);
  EXPECT_TRUE(tree->isVisible());
  EXPECT_EQ(tree->model()->rowCount(), static_cast<int>(c.patients)) << "one top-level row per patient";
  EXPECT_EQ(dock->windowTitle(), QStringLiteral("Studies (%1 patients, %2 studies)").arg(c.patients).arg(c.studies));
  EXPECT_EQ(browser->model()->rowCount(), static_cast<int>(c.instances)) << "the flat list holds every instance";

  // Patients are expanded to their studies; every column lies inside the viewport (no column is
  // pushed off the dock's default width).
  EXPECT_TRUE(tree->isExpanded(tree->model()->index(0, 0)));
  const QHeaderView* h = tree->header();
  for (int col = 0; col < ui::StudyTreeModel::ColumnCount; ++col) {
    EXPECT_FALSE(h->isSectionHidden(col));
    EXPECT_GE(h->sectionSize(col), 30) << "column " << col;
    EXPECT_LE(h->sectionViewportPosition(col) + h->sectionSize(col), tree->viewport()->width()) << "column " << col;
  }
  // Newest study first (the default sort).
  QString previous = QStringLiteral("99999999");
  for (int r = 0; r < tree->model()->rowCount(); ++r) {
    const QString date = tree->model()->index(r, ui::StudyTreeModel::DateColumn).data().toString();
    if (date.isEmpty()) continue;
    EXPECT_LE(date, previous) << "row " << r;
    previous = date;
  }
  QDir().mkpath(QDir::tempPath() + QStringLiteral("/e2e-gui-browser-screens"));
  w.grab().save(QDir::tempPath() + QStringLiteral("/e2e-gui-browser-screens/study_browser.png"));
  // A click on the ID header sorts the patients by ID (ascending first).
  QHeaderView* header = tree->header();
  QTest::mouseClick(header->viewport(), Qt::LeftButton, {},
                    QPoint(header->sectionViewportPosition(ui::StudyTreeModel::IdColumn) + 5, header->height() / 2));
  EXPECT_EQ(header->sortIndicatorSection(), ui::StudyTreeModel::IdColumn);
  QStringList ids;
  for (int r = 0; r < tree->model()->rowCount(); ++r)
    ids << tree->model()->index(r, ui::StudyTreeModel::IdColumn).data().toString().toLower();
  QStringList sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(ids, header->sortIndicatorOrder() == Qt::AscendingOrder ? sorted : QStringList(sorted.rbegin(), sorted.rend()));
  EXPECT_TRUE(tree->isExpanded(tree->model()->index(0, 0))) << "still expanded after sorting";
}

// A dock squeezed to its minimum (the main window's central widget can leave it 220 px): one
// column that still says name, ID, date, modality, description and counts.
TEST_F(StudyBrowserDock, NarrowDockShowsEverythingInOneColumn) {
  QDockWidget dock(QStringLiteral("Studies"));
  auto* browser = new ui::StudyBrowser(&dock);
  dock.setWidget(browser);
  dock.resize(220, 700);
  dock.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&dock));
  ASSERT_LT(browser->width(), 440);
  EXPECT_TRUE(browser->treeModel()->compact());
  const QHeaderView* h = browser->treeView()->header();
  EXPECT_FALSE(h->isSectionHidden(ui::StudyTreeModel::NameColumn));
  for (int col = ui::StudyTreeModel::IdColumn; col < ui::StudyTreeModel::ColumnCount; ++col)
    EXPECT_TRUE(h->isSectionHidden(col)) << col;
  QTest::keyClicks(browser->filterEdit(), QStringLiteral("123-654"));
  ASSERT_TRUE(QTest::qWaitFor([&] { return browser->treeModel()->rowCount() == 1; }, 5000));
  const QModelIndex patient = browser->treeModel()->index(0, 0);
  EXPECT_EQ(patient.data().toString(), QStringLiteral("PATIENT, Test \u00B7 123-654 \u00B7 1999-12-23 \u00B7 ECG \u00B7 1 study / 1 inst."));
  EXPECT_EQ(browser->treeModel()->index(0, 0, patient).data().toString(),
            QStringLiteral("1999-12-23 \u00B7 ECG \u00B7 (ECG study) \u00B7 1 ser. / 1 inst. \u00B7 Acc. 0001"));
  // Wide again: the columns come back.
  dock.resize(600, 700);
  ASSERT_TRUE(QTest::qWaitFor([&] { return !browser->treeModel()->compact(); }, 5000));
  EXPECT_FALSE(h->isSectionHidden(ui::StudyTreeModel::DateColumn));
  EXPECT_EQ(patient.data().toString(), QStringLiteral("PATIENT, Test"));
}

TEST_F(StudyBrowserDock, TypingFiltersWithoutEnterAndKeepsParents) {
  QDockWidget dock(QStringLiteral("Studies"));
  auto* browser = new ui::StudyBrowser(&dock);
  dock.setWidget(browser);
  dock.show();
  const int allPatients = browser->treeModel()->rowCount();
  ASSERT_GT(allPatients, 2);

  // The jap1968 DICOM ECG: PatientName "Patient^Test", shown "PATIENT, Test".
  QTest::keyClicks(browser->filterEdit(), QStringLiteral("patient, te"));
  ASSERT_TRUE(QTest::qWaitFor([&] { return browser->treeModel()->rowCount() == 1; }, 5000))
      << "the filter applies while typing: " << browser->treeModel()->rowCount() << " rows";
  const QModelIndex patient = browser->treeModel()->index(0, 0);
  EXPECT_EQ(patient.data().toString(), QStringLiteral("PATIENT, Test"));
  EXPECT_EQ(browser->treeModel()->index(0, ui::StudyTreeModel::IdColumn).data().toString(), QStringLiteral("123-654"));
  EXPECT_TRUE(dock.windowTitle().startsWith(QStringLiteral("Studies (1 of %1 patients").arg(allPatients)))
      << dock.windowTitle().toStdString();

  // Its one study, one ECG series, one instance: selecting the series selects the instance (the
  // flat list follows, as the main window's panels watch it); a double-click opens the file.
  const QModelIndex study = browser->treeModel()->index(0, 0, patient);
  const QModelIndex series = browser->treeModel()->index(0, 0, study);
  ASSERT_TRUE(series.isValid());
  EXPECT_EQ(browser->treeModel()->index(0, ui::StudyTreeModel::ModalityColumn, study).data().toString(),
            QStringLiteral("ECG"));
  QSignalSpy selected(browser, &ui::StudyBrowser::instanceSelected);
  QSignalSpy open(browser, &ui::StudyBrowser::openRequested);
  browser->treeView()->setCurrentIndex(series);
  ASSERT_EQ(selected.count(), 1);
  EXPECT_TRUE(selected.at(0).at(0).toString().endsWith(QStringLiteral("test_ecg.dcm")));
  EXPECT_EQ(selected.at(0).at(1).toString(), QStringLiteral("ECG"));
  auto* table = browser->findChild<QTableView*>();
  ASSERT_NE(table, nullptr);
  ASSERT_GE(table->currentIndex().row(), 0);
  EXPECT_EQ(browser->model()->row(table->currentIndex().row())->path, selected.at(0).at(0).toString());
  Q_EMIT browser->treeView()->doubleClicked(browser->treeModel()->index(0, 0, series));
  ASSERT_EQ(open.count(), 1);
  EXPECT_EQ(open.at(0).at(0).toString(), selected.at(0).at(0).toString());

  // A series-level word keeps only the matching series and their parents; clearing shows all.
  browser->filterEdit()->clear();
  QTest::keyClicks(browser->filterEdit(), QStringLiteral("US"));
  ASSERT_TRUE(QTest::qWaitFor([&] { return browser->treeModel()->rowCount() < allPatients; }, 5000));
  for (int p = 0; p < browser->treeModel()->rowCount(); ++p) {
    const QModelIndex pi = browser->treeModel()->index(p, 0);
    EXPECT_GT(browser->treeModel()->rowCount(pi), 0) << "a kept patient keeps a study";
  }
  browser->filterEdit()->clear();
  ASSERT_TRUE(QTest::qWaitFor([&] { return browser->treeModel()->rowCount() == allPatients; }, 5000));
}

}  // namespace
}  // namespace e2e
