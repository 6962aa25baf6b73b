// Drives the real EcgView widget (offscreen): layouts, settings, cursor readout, calipers,
// display filters, the real Mortara DICOM ECG, the study browser.
#include <gtest/gtest.h>

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QComboBox>
#include <QLabel>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include "browser/StudyBrowser.h"
#include "db/database.h"
#include "ecg/EcgView.h"
#include "gui_test_util.h"
#include "io/dicom_ecg.h"
#include "test_util.h"

using namespace e2e;
using namespace e2e::ui;

namespace {
QPointF panelPoint(const EcgCanvas& c, const std::string& label, double tS, double mv) {
  const auto geo = ecgPageGeometry(c.spec());
  for (const auto& p : geo.layout.panels)
    if (p.label == label && !p.rhythm && !p.median) {
      const double x = p.xMm + (tS - p.t0) * c.spec().params.speedMmPerS;
      const double y = p.baselineYMm - mv * c.spec().params.gainMmPerMv;
      return c.gridMmToWidget(QPointF(x, y));
    }
  return {};
}
}  // namespace

TEST(EcgView, LayoutSwitchingThroughTheControls) {
  test::app();
  EcgView view;
  view.setPxPerMmOverride(4.0);
  const EcgRecord rec = test::flatRecord(0.0);
  view.setRecord(rec);
  auto* box = view.findChild<QComboBox*>(QStringLiteral("layoutBox"));
  ASSERT_NE(box, nullptr);
  int heights[4];
  for (int i = 0; i < box->count(); ++i) {
    box->setCurrentIndex(i);
    EXPECT_EQ(static_cast<int>(view.layoutKind()), box->itemData(i).toInt());
    heights[i] = view.canvas()->sizeHint().height();
  }
  // 12x1 is taller than 3x4 (12 rows of 20 mm do not fit A4).
  EXPECT_GT(heights[3], heights[0]);
  view.setLayoutKind(vm::EcgLayoutKind::Grid6x2);
  EXPECT_EQ(box->currentText(), QStringLiteral("6x2"));
  auto* speed = view.findChild<QComboBox*>(QStringLiteral("speedBox"));
  speed->setCurrentIndex(speed->findData(50.0));
  EXPECT_DOUBLE_EQ(view.speed(), 50.0);
  EXPECT_DOUBLE_EQ(view.spec().params.speedMmPerS, 50.0);
}

TEST(EcgView, SettingsPersist) {
  test::app();
  {
    EcgView view;
    view.setSpeed(12.5);
    view.setGain(20.0);
    view.setLayoutKind(vm::EcgLayoutKind::Grid12x1);
    view.setLeadOrder(vm::LeadOrder::Cabrera);
  }
  EcgView again;
  EXPECT_DOUBLE_EQ(again.speed(), 12.5);
  EXPECT_DOUBLE_EQ(again.gain(), 20.0);
  EXPECT_EQ(again.layoutKind(), vm::EcgLayoutKind::Grid12x1);
  EXPECT_EQ(again.leadOrder(), vm::LeadOrder::Cabrera);
  again.setSpeed(25.0);
  again.setGain(10.0);
  again.setLayoutKind(vm::EcgLayoutKind::Grid3x4Rhythm);
  again.setLeadOrder(vm::LeadOrder::Standard);
}

TEST(EcgView, ScreenMillimetresUseCalibration) {
  test::app();
  EcgView view;
  const double before = view.screenPxPerMm();
  EXPECT_GT(before, 1.0);
  const double f = view.calibrationFactor();
  view.setCalibrationFactor(f * 1.25);
  EXPECT_NEAR(view.screenPxPerMm(), before * 1.25, 1e-9);
  EcgView other;  // persisted
  EXPECT_NEAR(other.calibrationFactor(), f * 1.25, 1e-9);
  view.setCalibrationFactor(f);
}

TEST(EcgView, CursorReadoutAndCalipers) {
  test::app();
  EcgView view;
  view.setPxPerMmOverride(5.0);
  view.setSpeed(25.0);
  view.setGain(10.0);
  view.setLayoutKind(vm::EcgLayoutKind::Grid3x4Rhythm);
  view.setLeadOrder(vm::LeadOrder::Standard);
  const EcgRecord rec = test::makeRecord([](const std::string& lead, double) { return lead == "V2" ? 0.8 : 0.0; });
  view.setRecord(rec);
  EcgCanvas& c = *view.canvas();
  // V2 is column 2 (5.0-7.5 s), row 1. Point at 6.0 s, 0.5 mV above the baseline.
  const QPointF p = panelPoint(c, "V2", 6.0, 0.5);
  const QString r = c.readoutAt(p);
  EXPECT_TRUE(r.startsWith(QStringLiteral("V2"))) << r.toStdString();
  EXPECT_TRUE(r.contains(QStringLiteral("t = 6000 ms"))) << r.toStdString();
  EXPECT_TRUE(r.contains(QStringLiteral("0.50 mV"))) << r.toStdString();
  EXPECT_TRUE(r.contains(QStringLiteral("signal 0.80 mV"))) << r.toStdString();
  // A real mouse move updates the label under the paper.
  c.resize(c.sizeHint());
  QMouseEvent move(QEvent::MouseMove, p, c.mapToGlobal(p), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(&c, &move);
  auto* label = view.findChild<QLabel*>(QStringLiteral("ecgReadout"));
  ASSERT_NE(label, nullptr);
  EXPECT_TRUE(label->text().contains(QStringLiteral("V2"))) << label->text().toStdString();

  // Time caliper by dragging 20 mm at 25 mm/s: 800 ms, 75 bpm.
  c.setCaliperMode(CaliperMode::Time);
  const QPointF a = panelPoint(c, "II", 1.0, 0.0), b = panelPoint(c, "II", 1.8, 0.0);
  QTest::mousePress(&c, Qt::LeftButton, Qt::NoModifier, a.toPoint());
  QTest::mouseMove(&c, b.toPoint());
  QTest::mouseRelease(&c, Qt::LeftButton, Qt::NoModifier, b.toPoint());
  EXPECT_EQ(c.caliperText(), QStringLiteral("Δt 800 ms (75 bpm)"));
  // Amplitude caliper: 15 mm at 10 mm/mV = 1.5 mV.
  c.setCaliperMode(CaliperMode::Amplitude);
  c.setCaliper(panelPoint(c, "II", 1.0, 0.0), panelPoint(c, "II", 1.0, 1.5));
  EXPECT_EQ(c.caliperText(), QStringLiteral("ΔV 1.50 mV"));
  view.setGain(20.0);
  c.setCaliper(panelPoint(c, "II", 1.0, 0.0), panelPoint(c, "II", 1.0, 1.5));
  EXPECT_EQ(c.caliperText(), QStringLiteral("ΔV 1.50 mV"));
  view.setGain(10.0);
}

TEST(EcgView, DisplayFiltersAreZeroPhaseAndLabelled) {
  test::app();
  // 1 mV 50 Hz mains on a 0.3 mV 1 Hz sine.
  const EcgRecord rec = test::makeRecord([](const std::string&, double t) {
    return 0.3 * std::sin(2 * M_PI * 1.0 * t) + 1.0 * std::sin(2 * M_PI * 50.0 * t);
  });
  DisplayFilterSettings f;
  f.notchHz = 50;
  const EcgRecord out = applyDisplayFilters(rec, f);
  const auto& x = out.groups[0].channels[1].samples;
  double maxErr = 0;
  for (std::size_t i = 1000; i < 4000; ++i) maxErr = std::max(maxErr, std::abs(x[i] - 0.3 * std::sin(2 * M_PI * i / 500.0)));
  EXPECT_LT(maxErr, 0.1);  // mains removed, the slow wave kept in place (zero phase)
  EXPECT_EQ(f.text(), QStringLiteral("notch 50 Hz (zero-phase)"));
  EcgView view;
  view.setRecord(rec);
  view.setDisplayFilters(f);
  EXPECT_EQ(view.spec().displayFilterText, f.text());
  EXPECT_TRUE(ecgLegendLine(view.spec()).contains(QStringLiteral("Display filters: notch 50 Hz")));
  const auto boxes = view.findChildren<QCheckBox*>();
  EXPECT_FALSE(boxes.isEmpty());
  view.setDisplayFilters(DisplayFilterSettings{});
  EXPECT_EQ(view.spec().displayFilterText, QStringLiteral("off"));
}

TEST(EcgView, RealMortaraEcg) {
  test::app();
  const auto path = test::dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm");
  const EcgRecord rec = readDicomEcg(path.string());
  ASSERT_NE(rec.rhythm(), nullptr);
  EcgView view;
  view.setPxPerMmOverride(4.0);
  view.setRecord(rec);
  ASSERT_TRUE(view.hasRecord());
  EXPECT_EQ(view.spec().params.leads.size(), 12u);
  EXPECT_NEAR(view.spec().params.durationS, 10.0, 0.5);
  for (auto k : {vm::EcgLayoutKind::Grid3x4, vm::EcgLayoutKind::Grid6x2, vm::EcgLayoutKind::Grid12x1, vm::EcgLayoutKind::Grid3x4Rhythm}) {
    view.setLayoutKind(k);
    const QImage img = view.canvas()->grab().toImage();
    ASSERT_FALSE(img.isNull());
    // Traces were drawn: plenty of dark pixels inside the grid.
    int dark = 0;
    for (int y = 0; y < img.height(); y += 2)
      for (int x = 0; x < img.width(); x += 2) dark += test::isDark(img.pixelColor(x, y)) ? 1 : 0;
    EXPECT_GT(dark, 1500) << vm::toString(k);
  }
  if (rec.median()) EXPECT_GT(view.spec().params.medianDurationS, 0.3);
  const QString header = ecgMeasurementLine(rec, QStringLiteral("Bazett"));
  EXPECT_TRUE(header.contains(QStringLiteral("HR "))) << header.toStdString();
}

TEST(EcgView, PagesThroughALongRecord) {
  test::app();
  // 30 s record: lead II is 1 mV during [20, 30) s, 0 before.
  const EcgRecord rec = test::makeRecord([](const std::string&, double t) { return t >= 20.0 ? 1.0 : 0.0; }, 250.0, 30.0);
  EcgView view;
  view.setPxPerMmOverride(5.0);
  view.setLayoutKind(vm::EcgLayoutKind::Grid3x4Rhythm);
  view.setRecord(rec);
  auto* start = view.findChild<QDoubleSpinBox*>(QStringLiteral("startBox"));
  ASSERT_NE(start, nullptr);
  EXPECT_TRUE(start->isEnabled());
  EXPECT_DOUBLE_EQ(start->maximum(), 20.0);
  EcgCanvas& c = *view.canvas();
  const auto geo = ecgPageGeometry(c.spec());
  const vm::EcgPanel* rhythm = nullptr;
  for (const auto& p : geo.layout.panels)
    if (p.rhythm) rhythm = &p;
  ASSERT_NE(rhythm, nullptr);
  const QPointF at = c.gridMmToWidget(QPointF(rhythm->xMm + 50.0, rhythm->baselineYMm));  // 2 s into the strip
  EXPECT_TRUE(c.readoutAt(at).contains(QStringLiteral("t = 2000 ms")));
  EXPECT_TRUE(c.readoutAt(at).contains(QStringLiteral("signal 0.00 mV")));
  start->setValue(15.0);
  EXPECT_DOUBLE_EQ(view.startTime(), 15.0);
  EXPECT_TRUE(c.readoutAt(at).contains(QStringLiteral("t = 17000 ms"))) << c.readoutAt(at).toStdString();
  QTest::keyClick(&view, Qt::Key_PageDown);
  EXPECT_DOUBLE_EQ(view.startTime(), 20.0);  // clamped at duration - 10 s
  EXPECT_TRUE(c.readoutAt(at).contains(QStringLiteral("signal 1.00 mV"))) << c.readoutAt(at).toStdString();
  EXPECT_TRUE(ecgLegendLine(view.spec()).contains(QStringLiteral("Shown 20.0-30.0 s of 30.0 s")));
  view.setRecord(test::flatRecord());
  EXPECT_DOUBLE_EQ(view.startTime(), 0.0);
  EXPECT_FALSE(start->isEnabled());
}

TEST(StudyBrowser, ListsTheDatabaseInstances) {
  test::app();
  QTemporaryDir dir;
  const std::string dbPath = dir.filePath(QStringLiteral("studies.db")).toStdString();
  {
    db::Database database(dbPath);
    EcgRecord rec = test::flatRecord();
    rec.identity.patientName = "DOE^JANE";
    rec.identity.patientId = "P-77";
    rec.identity.studyUid = "1.2.3.4";
    rec.identity.studyDate = "20240102";
    rec.identity.seriesUid = "1.2.3.4.1";
    rec.identity.sopInstanceUid = "1.2.3.4.1.1";
    rec.identity.sopClassUid = "1.2.840.10008.5.1.4.1.1.9.1.1";
    rec.identity.modality = "ECG";
    rec.sourcePath = "/data/ecg1.dcm";
    db::FileFacts facts;
    facts.path = "/data/ecg1.dcm";
    facts.size = 1234;
    facts.sha256 = std::string(64, 'a');
    database.insertEcg(rec, facts);
  }
  InstanceTableModel model;
  EXPECT_TRUE(model.load(QString::fromStdString(dbPath), QString()).isEmpty());
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.data(model.index(0, 0), Qt::DisplayRole).toString(), QStringLiteral("DOE, JANE"));
  EXPECT_EQ(model.data(model.index(0, 1), Qt::DisplayRole).toString(), QStringLiteral("P-77"));
  EXPECT_EQ(model.data(model.index(0, 3), Qt::DisplayRole).toString(), QStringLiteral("ECG"));
  EXPECT_EQ(model.data(model.index(0, 5), Qt::DisplayRole).toString(), QStringLiteral("ecg1.dcm"));
  EXPECT_TRUE(model.load(QString::fromStdString(dbPath), QStringLiteral("nobody")).isEmpty());
  EXPECT_EQ(model.rowCount(), 0);
  EXPECT_FALSE(model.load(dir.filePath(QStringLiteral("missing.db")), QString()).isEmpty());  // says why

  // The dock widget reads $E2E_DB and asks to open a row on double-click.
  qputenv("E2E_DB", QByteArray::fromStdString(dbPath));
  StudyBrowser browser;
  qunsetenv("E2E_DB");
  ASSERT_EQ(browser.model()->rowCount(), 1);
  QSignalSpy spy(&browser, &StudyBrowser::openRequested);
  auto* table = browser.findChild<QTableView*>();
  ASSERT_NE(table, nullptr);
  Q_EMIT table->doubleClicked(browser.model()->index(0, 2));
  ASSERT_EQ(spy.count(), 1);
  EXPECT_EQ(spy.at(0).at(0).toString(), QStringLiteral("/data/ecg1.dcm"));
}

TEST(StudyBrowser, FiltersByModalityDateAndLabelAndSorts) {
  test::app();
  QTemporaryDir dir;
  const std::string dbPath = dir.filePath(QStringLiteral("studies.db")).toStdString();
  {
    db::Database database(dbPath);
    EcgRecord ecg = test::flatRecord();
    ecg.identity.patientName = "ALPHA^ANN";
    ecg.identity.patientId = "P-1";
    ecg.identity.studyUid = "1.2.9.1";
    ecg.identity.studyDate = "20200101";
    ecg.identity.seriesUid = "1.2.9.1.1";
    ecg.identity.sopInstanceUid = "1.2.9.1.1.1";
    ecg.identity.sopClassUid = "1.2.840.10008.5.1.4.1.1.9.1.1";
    ecg.identity.modality = "ECG";
    database.insertEcg(ecg, db::FileFacts{"/data/a_ecg.dcm", 10, std::string(64, 'b')});
    EchoInfo echo;
    echo.identity.patientName = "BETA^BOB";
    echo.identity.patientId = "P-2";
    echo.identity.studyUid = "1.2.9.2";
    echo.identity.studyDate = "20220505";
    echo.identity.seriesUid = "1.2.9.2.1";
    echo.identity.sopInstanceUid = "1.2.9.2.1.1";
    echo.identity.sopClassUid = "1.2.840.10008.5.1.4.1.1.3.1";
    echo.identity.modality = "US";
    echo.rows = echo.cols = 64;
    echo.frames = 4;
    echo.fps = 25;
    database.insertEcho(echo, db::FileFacts{"/data/b_echo.dcm", 20, std::string(64, 'c')});
    database.setStudyLabel(*database.studyRowIdByUid("1.2.9.1"), "lvef_class", "0", "test");
  }
  const QString path = QString::fromStdString(dbPath);
  InstanceTableModel model;
  InstanceTableModel::Query q;
  ASSERT_TRUE(model.load(path, q).isEmpty());
  EXPECT_EQ(model.rowCount(), 2);

  q.modality = QStringLiteral("US");
  ASSERT_TRUE(model.load(path, q).isEmpty());
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.row(0)->patientId, QStringLiteral("P-2"));

  q = {};
  q.dateFrom = QStringLiteral("2021-01-01");  // dashes accepted
  ASSERT_TRUE(model.load(path, q).isEmpty());
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.row(0)->studyDate, QStringLiteral("20220505"));
  q.dateTo = QStringLiteral("20211231");
  ASSERT_TRUE(model.load(path, q).isEmpty());
  EXPECT_EQ(model.rowCount(), 0);

  q = {};
  q.label = QStringLiteral("lvef_class=0");
  ASSERT_TRUE(model.load(path, q).isEmpty());
  ASSERT_EQ(model.rowCount(), 1);
  EXPECT_EQ(model.row(0)->patientId, QStringLiteral("P-1"));
  q.label = QStringLiteral("lvef_class=2");
  ASSERT_TRUE(model.load(path, q).isEmpty());
  EXPECT_EQ(model.rowCount(), 0);

  q = {};
  q.dateFrom = QStringLiteral("2020-13");
  EXPECT_FALSE(model.load(path, q).isEmpty());  // a malformed date is refused with a reason

  q = {};
  ASSERT_TRUE(model.load(path, q).isEmpty());
  model.sort(2, Qt::DescendingOrder);  // by study date, newest first
  EXPECT_EQ(model.row(0)->studyDate, QStringLiteral("20220505"));
  model.sort(2, Qt::AscendingOrder);
  EXPECT_EQ(model.row(0)->studyDate, QStringLiteral("20200101"));
  model.sort(0, Qt::DescendingOrder);  // by patient name
  EXPECT_EQ(model.row(0)->patientName, QStringLiteral("BETA, BOB"));
}
