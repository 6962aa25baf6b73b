// Reading a real ECG on paper (issue 20): traces are never cut flat at the grid (CinC E07500's
// V4 reaches its true height at 10 mm/mV), the header lays out its fields without cutting the
// date, and CinC diagnoses print as SNOMED CT terms. Runs offscreen.
#include <gtest/gtest.h>

#include <QFontMetricsF>
#include <QPainterPath>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "ecg/EcgPainter.h"
#include "gui_test_util.h"
#include "io/wfdb.h"
#include "test_util.h"

using namespace e2e;
using namespace e2e::ui;

namespace {
std::filesystem::path e07500() { return test::dataFile("ecg_wfdb/torch_ecg_cinc2021/E07500.hea"); }

int panelIndex(const vm::EcgLayout& l, const std::string& lead) {
  for (std::size_t i = 0; i < l.panels.size(); ++i)
    if (l.panels[i].lead == lead && !l.panels[i].rhythm && !l.panels[i].median) return static_cast<int>(i);
  return -1;
}

struct Extremes {
  double hiMv = -1e9, loMv = 1e9, hiT = 0;  // hiT: time of the largest sample
};
// Largest and smallest sample (mV) of a lead in a time window, read straight from the record.
Extremes extremes(const EcgRecord& r, const std::string& lead, double t0, double t1) {
  const EcgGroup* g = r.rhythm();
  const EcgChannel* c = g->channel(lead);
  Extremes e;
  for (std::size_t i = static_cast<std::size_t>(std::floor(t0 * g->samplingHz));
       i < std::min(c->samples.size(), static_cast<std::size_t>(std::ceil(t1 * g->samplingHz))); ++i) {
    if (c->samples[i] > e.hiMv) {
      e.hiMv = c->samples[i];
      e.hiT = static_cast<double>(i) / g->samplingHz;
    }
    e.loMv = std::min(e.loMv, static_cast<double>(c->samples[i]));
  }
  return e;
}

// The painted peak of panel `lead` (path geometry and rendered pixels) is at its true height.
void expectPeakAtTrueHeight(const EcgRecord& rec, vm::EcgLayoutKind layout, double gain, const std::string& lead,
                            bool tallerThanItsRow) {
  EcgPaintSpec spec;
  spec.record = &rec;
  spec.params.layout = layout;
  spec.params.gainMmPerMv = gain;
  prepareEcgSpec(spec);
  const auto geo = ecgPageGeometry(spec);
  const int i = panelIndex(geo.layout, lead);
  ASSERT_GE(i, 0) << lead;
  const vm::EcgPanel& panel = geo.layout.panels[static_cast<std::size_t>(i)];
  const Extremes ex = extremes(rec, lead, panel.t0, panel.t1);
  const double hiMv = ex.hiMv, loMv = ex.loMv;
  if (tallerThanItsRow)
    ASSERT_GT(hiMv * gain, panel.baselineYMm - panel.yMm) << "the test needs a peak taller than the row's room above its baseline";

  const double k = 10.0;  // px per mm
  const QPainterPath path = ecgPanelTracePath(spec, geo, i, k);
  ASSERT_FALSE(path.isEmpty());
  const double baselinePx = (geo.gridOriginMm.y() + panel.baselineYMm) * k;
  EXPECT_NEAR((baselinePx - path.boundingRect().top()) / k, hiMv * gain, 0.01) << lead << ": peak height in mm";
  EXPECT_NEAR((path.boundingRect().bottom() - baselinePx) / k, -loMv * gain, 0.01) << lead << ": trough depth in mm";
  const QRectF clip = ecgTraceClipRectMm(geo);
  EXPECT_GE(path.boundingRect().top() / k, clip.top()) << "peak inside the page";
  EXPECT_LE(path.boundingRect().bottom() / k, clip.bottom());
  // Inside the grid, too: room was added above the first row.
  EXPECT_GE(path.boundingRect().top() / k, geo.gridOriginMm.y() - 1e-6);

  // The pixels: around the peak's time, the highest dark pixel is the peak.
  const QImage img = renderEcgImage(spec, k);
  const double xPeakMm = geo.gridOriginMm.x() + panel.xMm + (ex.hiT - panel.t0) * spec.params.speedMmPerS;
  const int x0 = static_cast<int>((xPeakMm - 0.5) * k), x1 = static_cast<int>((xPeakMm + 0.5) * k);
  const int yTop = static_cast<int>(geo.gridOriginMm.y() * k);
  int highest = img.height();
  for (int x = x0; x <= x1; ++x)
    for (int y = yTop; y < std::min(highest, img.height()); ++y)
      if (test::isDark(img.pixelColor(x, y))) {
        highest = y;
        break;
      }
  const double paintedMm = (baselinePx - highest) / k;
  EXPECT_NEAR(paintedMm, hiMv * gain, 0.3) << lead << ": painted peak " << paintedMm << " mm for " << hiMv << " mV";
}
}  // namespace

TEST(EcgReading, E07500V4PeakIsNotClippedIn3x4) {
  test::app();
  if (!std::filesystem::exists(e07500())) GTEST_SKIP() << "no " << e07500();
  const EcgRecord rec = readWfdb(e07500().string());
  // V4: 2.25 mV R waves, first row of 3x4 (15 mm above its baseline before the fix).
  expectPeakAtTrueHeight(rec, vm::EcgLayoutKind::Grid3x4, 10.0, "V4", true);
  expectPeakAtTrueHeight(rec, vm::EcgLayoutKind::Grid3x4Rhythm, 10.0, "V4", true);
  expectPeakAtTrueHeight(rec, vm::EcgLayoutKind::Grid3x4, 20.0, "V4", true);
}

TEST(EcgReading, E07500LeadIIsNotClippedIn12x1) {
  test::app();
  if (!std::filesystem::exists(e07500())) GTEST_SKIP() << "no " << e07500();
  const EcgRecord rec = readWfdb(e07500().string());
  expectPeakAtTrueHeight(rec, vm::EcgLayoutKind::Grid12x1, 10.0, "I", false);
  expectPeakAtTrueHeight(rec, vm::EcgLayoutKind::Grid12x1, 20.0, "I", false);
  // Lead I five times as tall (4.2 mV at 20 mm/mV: 84 mm over a 20 mm room) keeps its height too.
  EcgRecord tall = rec;
  for (auto& c : tall.groups[0].channels)
    if (c.label == "I")
      for (auto& v : c.samples) v *= 5.0f;
  expectPeakAtTrueHeight(tall, vm::EcgLayoutKind::Grid12x1, 20.0, "I", true);
}

TEST(EcgReading, FixedPaperKeepsTheScaleAndTheWholeTrace) {
  test::app();
  if (!std::filesystem::exists(e07500())) GTEST_SKIP() << "no " << e07500();
  const EcgRecord rec = readWfdb(e07500().string());
  for (EcgPaper paper : {EcgPaper::A4, EcgPaper::Letter}) {
    EcgPaintSpec spec;
    spec.record = &rec;
    spec.paper = paper;
    prepareEcgSpec(spec);
    const auto geo = ecgPageGeometry(spec);
    EXPECT_TRUE(geo.fitsPaper);
    EXPECT_DOUBLE_EQ(geo.pageMm.width(), paper == EcgPaper::A4 ? 297.0 : 279.4);
    EXPECT_DOUBLE_EQ(geo.layout.pulses[0].hMm, 10.0);
    EXPECT_GE(geo.layout.topHeadroomMm, 10.0);
    const int v4 = panelIndex(geo.layout, "V4");
    const QRectF b = ecgPanelTracePath(spec, geo, v4, 1.0).boundingRect();
    EXPECT_TRUE(ecgTraceClipRectMm(geo).contains(b)) << "V4 stays on the page";
  }
  // 50 mm/s is 510 mm wide: it cannot fit landscape A4 at exact scale, and the export says so.
  EcgPaintSpec wide;
  wide.record = &rec;
  wide.paper = EcgPaper::A4;
  wide.params.speedMmPerS = 50.0;
  prepareEcgSpec(wide);
  EXPECT_FALSE(ecgPageGeometry(wide).fitsPaper);
  QString err;
  EXPECT_FALSE(exportEcgPdf(wide, QDir::temp().filePath(QStringLiteral("e2e_wide.pdf")), &err));
  EXPECT_TRUE(err.contains(QStringLiteral("does not fit"))) << err.toStdString();
}

TEST(EcgReading, HeaderKeepsTheFullDateWithALongDeviceName) {
  test::app();
  EcgRecord r = test::flatRecord();
  r.identity.studyDate = "20221023";
  r.identity.studyTime = "154812";
  r.identity.manufacturer = "Very Long Cardiology Devices International Incorporated";
  r.identity.modelName = "MAC 5500 HD Resting ECG Analysis System with Extra Long Name";
  QFont f(QStringLiteral("DejaVu Sans"));
  f.setPixelSize(26);
  const QFontMetricsF fm(f);
  const double width = 900;
  const QString line = ecgStudyLine(r, fm, width);
  EXPECT_TRUE(line.startsWith(QStringLiteral("2022-10-23 15:48"))) << line.toStdString();
  EXPECT_TRUE(line.endsWith(QStringLiteral("WFDB"))) << line.toStdString();
  EXPECT_TRUE(line.contains(QStringLiteral("…"))) << "the device name is elided: " << line.toStdString();
  EXPECT_LE(fm.horizontalAdvance(line), width);
  // A short device name is shown whole; a box too small for any device keeps date and format.
  r.identity.manufacturer = "GE";
  r.identity.modelName = "MAC";
  EXPECT_EQ(ecgStudyLine(r, fm, width), QStringLiteral("2022-10-23 15:48   GE MAC   WFDB"));
  EXPECT_EQ(ecgStudyLine(r, fm, 50), QStringLiteral("2022-10-23 15:48   WFDB"));
}

TEST(EcgReading, E07500DiagnosesAreSnomedTerms) {
  test::app();
  if (!std::filesystem::exists(e07500())) GTEST_SKIP() << "no " << e07500();
  const EcgRecord rec = readWfdb(e07500().string());
  ASSERT_TRUE(rec.statements.empty());
  const QStringList lines = ecgStatementLines(rec);
  ASSERT_EQ(lines.size(), 2);
  EXPECT_EQ(lines[0], QStringLiteral("Left atrial enlargement (67741000119109)"));
  EXPECT_EQ(lines[1], QStringLiteral("Sinus bradycardia (426177001)"));
  EcgRecord unknown = rec;
  unknown.diagnoses = {"999999999"};
  EXPECT_EQ(ecgStatementLines(unknown), QStringList{QStringLiteral("SNOMED 999999999")});
  // Device statements come first when the record has them.
  unknown.statements = {"Sinus rhythm"};
  EXPECT_EQ(ecgStatementLines(unknown), QStringList{QStringLiteral("Sinus rhythm")});
}
