// The ECG page measured in pixels: grid spacing, calibration pulses, trace scaling, PDF size.
#include <gtest/gtest.h>

#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>

#include "ecg/EcgPainter.h"
#include "gui_test_util.h"

using namespace e2e;
using namespace e2e::ui;
using e2e::test::runCentres;

namespace {
constexpr double kPx = 10.0;  // 10 px per mm

std::vector<double> diffs(const std::vector<double>& v) {
  std::vector<double> d;
  for (std::size_t i = 1; i < v.size(); ++i) d.push_back(v[i] - v[i - 1]);
  return d;
}

bool isMajor(const QColor& c) { return c == ecgMajorGridColor(); }
bool isGridLine(const QColor& c) { return c == ecgMajorGridColor() || c == ecgMinorGridColor(); }
}  // namespace

TEST(EcgPaint, GridSpacingIsOneAndFiveMillimetres) {
  test::app();
  EcgPaintSpec spec;  // no record: grid only
  prepareEcgSpec(spec);
  const auto geo = ecgPageGeometry(spec);
  const QImage img = renderEcgImage(spec, kPx);
  ASSERT_EQ(img.width(), static_cast<int>(std::ceil(geo.pageMm.width() * kPx)));
  const int gx0 = static_cast<int>(std::round(geo.gridOriginMm.x() * kPx));
  const int gy0 = static_cast<int>(std::round(geo.gridOriginMm.y() * kPx));
  const int gx1 = gx0 + static_cast<int>(geo.layout.widthMm * kPx);
  const int gy1 = gy0 + static_cast<int>(geo.layout.heightMm * kPx);
  // A row between grid lines (12.3 mm below the grid top) and a column (40.7 mm right of its
  // left), away from labels and calibration pulses.
  const int cal = static_cast<int>(std::round(geo.layout.calAreaMm * kPx));
  for (bool horizontal : {true, false}) {
    const int fixed = horizontal ? gy0 + 123 : gx0 + 407;
    const int from = horizontal ? gx0 + cal : gy0, to = horizontal ? gx1 : gy1;
    const auto major = runCentres(img, horizontal, fixed, from, to, isMajor);
    const auto all = runCentres(img, horizontal, fixed, from, to, isGridLine);
    ASSERT_GT(major.size(), 10u);
    ASSERT_GT(all.size(), 50u);
    for (double d : diffs(major)) EXPECT_NEAR(d, 50.0, 0.51) << (horizontal ? "vertical lines" : "horizontal lines");
    for (double d : diffs(all)) EXPECT_NEAR(d, 10.0, 0.51);
    EXPECT_NEAR(major.front(), from, 1.0);  // the grid starts on a major line
  }
}

TEST(EcgPaint, CalibrationPulseIsOneMillivoltBy200Ms) {
  test::app();
  const EcgRecord rec = test::flatRecord(0.0);
  for (double gain : {5.0, 10.0, 20.0})
    for (double speed : {25.0, 50.0}) {
      EcgPaintSpec spec;
      spec.record = &rec;
      spec.params.gainMmPerMv = gain;
      spec.params.speedMmPerS = speed;
      prepareEcgSpec(spec);
      const auto geo = ecgPageGeometry(spec);
      const QImage img = renderEcgImage(spec, kPx);
      const auto& pulse = geo.layout.pulses.at(1);
      const double ox = geo.gridOriginMm.x() * kPx, oy = geo.gridOriginMm.y() * kPx;
      const double baseY = oy + pulse.baselineYMm * kPx;
      const double x0 = ox + pulse.xMm * kPx;
      // Width: the two vertical edges on a row at half height.
      const int midRow = static_cast<int>(std::round(baseY - gain * kPx / 2.0));
      const auto edges = runCentres(img, true, midRow, static_cast<int>(ox), static_cast<int>(ox + geo.layout.calAreaMm * kPx) - 2, test::isDark);
      ASSERT_EQ(edges.size(), 2u) << "gain " << gain << " speed " << speed;
      EXPECT_NEAR(edges[1] - edges[0], 0.2 * speed * kPx, 1.0);  // 200 ms: 50 px at 25 mm/s
      EXPECT_NEAR(edges[0], x0, 1.0);
      // Height: top bar (column through the pulse middle) to the baseline (column before the pulse).
      const int midCol = static_cast<int>(std::round(x0 + 0.1 * speed * kPx));
      const int from = static_cast<int>(baseY - (gain + 4.0) * kPx), to = static_cast<int>(baseY + 4.0 * kPx);
      const auto top = runCentres(img, false, midCol, from, to, test::isDark);
      const auto base = runCentres(img, false, static_cast<int>(x0 - 0.2 * kPx), from, to, test::isDark);
      ASSERT_EQ(top.size(), 1u);
      ASSERT_EQ(base.size(), 1u);
      EXPECT_NEAR(base.back() - top.front(), gain * kPx, 1.0);  // 1 mV: 100 px at 10 mm/mV
    }
}

TEST(EcgPaint, TraceIsScaledByGainAndPlacedByTime) {
  test::app();
  // Lead I: 0 mV except 1 mV during [1.0, 1.2) s. Column 0 shows [0, 2.5) s.
  const EcgRecord rec = test::makeRecord([](const std::string& lead, double t) {
    return (lead == "I" && t >= 1.0 && t < 1.2) ? 1.0 : 0.0;
  });
  EcgPaintSpec spec;
  spec.record = &rec;
  prepareEcgSpec(spec);
  const auto geo = ecgPageGeometry(spec);
  const QImage img = renderEcgImage(spec, kPx);
  const vm::EcgPanel* panel = nullptr;
  for (const auto& p : geo.layout.panels)
    if (p.label == "I" && !p.rhythm) panel = &p;
  ASSERT_NE(panel, nullptr);
  const double ox = geo.gridOriginMm.x() * kPx, oy = geo.gridOriginMm.y() * kPx;
  const double base = oy + panel->baselineYMm * kPx;
  // At t = 1.1 s (27.5 mm into the panel) the trace is 10 mm above the baseline.
  const int col = static_cast<int>(std::round(ox + (panel->xMm + 1.1 * 25.0) * kPx));
  const auto hits = runCentres(img, false, col, static_cast<int>(oy + panel->yMm * kPx), static_cast<int>(oy + (panel->yMm + panel->hMm) * kPx), test::isDark);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0], base - 100.0, 2.0);
  // At t = 0.5 s the trace is on the baseline.
  const int col2 = static_cast<int>(std::round(ox + (panel->xMm + 0.5 * 25.0) * kPx));
  const auto hits2 = runCentres(img, false, col2, static_cast<int>(oy + (panel->yMm + 5) * kPx), static_cast<int>(oy + (panel->yMm + panel->hMm) * kPx), test::isDark);
  ASSERT_EQ(hits2.size(), 1u);
  EXPECT_NEAR(hits2[0], base, 2.0);
  // The step's rising edge is at 1.0 s: a dark run along the row at half amplitude there.
  const auto edge = runCentres(img, true, static_cast<int>(base - 50), static_cast<int>(ox + panel->xMm * kPx),
                               static_cast<int>(ox + (panel->xMm + panel->wMm) * kPx), test::isDark);
  ASSERT_EQ(edge.size(), 2u);
  EXPECT_NEAR(edge[0], ox + (panel->xMm + 25.0) * kPx, 2.0);
  EXPECT_NEAR(edge[1] - edge[0], 0.2 * 25.0 * kPx, 2.0);
}

TEST(EcgPaint, InvertedLeadInCabrera) {
  test::app();
  const EcgRecord rec = test::makeRecord([](const std::string& lead, double) { return lead == "aVR" ? 0.5 : 0.0; });
  EcgPaintSpec spec;
  spec.record = &rec;
  spec.params.order = vm::LeadOrder::Cabrera;
  prepareEcgSpec(spec);
  const auto geo = ecgPageGeometry(spec);
  const QImage img = renderEcgImage(spec, kPx);
  const vm::EcgPanel* panel = nullptr;
  for (const auto& p : geo.layout.panels)
    if (p.label == "-aVR") panel = &p;
  ASSERT_NE(panel, nullptr);
  const double ox = geo.gridOriginMm.x() * kPx, oy = geo.gridOriginMm.y() * kPx;
  const int col = static_cast<int>(std::round(ox + (panel->xMm + 30) * kPx));
  const auto hits = runCentres(img, false, col, static_cast<int>(oy + panel->yMm * kPx), static_cast<int>(oy + (panel->yMm + panel->hMm) * kPx), test::isDark);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0], oy + panel->baselineYMm * kPx + 50.0, 2.0);  // -0.5 mV: below the baseline
}

namespace {
QSizeF pdfMediaBoxMm(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return {};
  const QByteArray data = f.readAll();
  static const QRegularExpression re(QStringLiteral("/MediaBox\\s*\\[\\s*([-0-9.]+)\\s+([-0-9.]+)\\s+([-0-9.]+)\\s+([-0-9.]+)\\s*\\]"));
  const auto m = re.match(QString::fromLatin1(data));
  if (!m.hasMatch()) return {};
  const double pt = 25.4 / 72.0;
  return QSizeF((m.captured(3).toDouble() - m.captured(1).toDouble()) * pt, (m.captured(4).toDouble() - m.captured(2).toDouble()) * pt);
}
}  // namespace

TEST(EcgPaint, PdfPageSizeInMillimetres) {
  test::app();
  QTemporaryDir dir;
  const EcgRecord rec = test::flatRecord(0.0);
  EcgPaintSpec spec;
  spec.record = &rec;
  prepareEcgSpec(spec);
  const QString a4 = dir.filePath(QStringLiteral("a4.pdf"));
  QString err;
  ASSERT_TRUE(exportEcgPdf(spec, a4, &err)) << err.toStdString();
  const QSizeF s = pdfMediaBoxMm(a4);
  EXPECT_NEAR(s.width(), 297.0, 0.2);  // A4 landscape
  EXPECT_NEAR(s.height(), 210.0, 0.2);

  spec.params.layout = vm::EcgLayoutKind::Grid12x1;
  spec.params.speedMmPerS = 50.0;
  const auto geo = ecgPageGeometry(spec);
  EXPECT_GT(geo.pageMm.width(), 500.0);
  const QString big = dir.filePath(QStringLiteral("big.pdf"));
  ASSERT_TRUE(exportEcgPdf(spec, big, &err));
  const QSizeF b = pdfMediaBoxMm(big);
  EXPECT_NEAR(b.width(), geo.pageMm.width(), 0.3);
  EXPECT_NEAR(b.height(), geo.pageMm.height(), 0.3);
}

TEST(EcgPaint, HeaderTexts) {
  test::app();
  EcgRecord rec = test::flatRecord();
  rec.measurements.heartRateBpm = 93.75;
  rec.measurements.qtMs = 360;
  rec.measurements.prMs = 160;
  rec.measurements.qrsMs = 90;
  const QString line = ecgMeasurementLine(rec, QStringLiteral("Bazett"));
  EXPECT_TRUE(line.contains(QStringLiteral("HR 94 bpm"))) << line.toStdString();
  EXPECT_TRUE(line.contains(QStringLiteral("QT/QTc 360/450 ms (Bazett, computed)"))) << line.toStdString();
  EXPECT_TRUE(ecgMeasurementLine(rec, QStringLiteral("Fridericia")).contains(QStringLiteral("Fridericia")));
  EXPECT_TRUE(ecgPatientLine(rec).startsWith(QStringLiteral("DOE, JANE")));
  EcgPaintSpec spec;
  spec.record = &rec;
  rec.groups[0].channels[0].lowFreqHz = 0.05;
  rec.groups[0].channels[0].highFreqHz = 150;
  prepareEcgSpec(spec);
  const QString legend = ecgLegendLine(spec);
  EXPECT_TRUE(legend.contains(QStringLiteral("25 mm/s")));
  EXPECT_TRUE(legend.contains(QStringLiteral("10 mm/mV")));
  EXPECT_TRUE(legend.contains(QStringLiteral("Device filters: 0.05-150 Hz")));
  EXPECT_TRUE(legend.contains(QStringLiteral("Display filters: off")));
}
