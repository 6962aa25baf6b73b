// The ECG printout (issue 20): File > Print through QPrinter and Export PDF through QPdfWriter
// give one A4 / Letter landscape page at exact scale, measured on the PDF rasterised by pdftoppm
// (5 mm major grid, 10 mm calibration pulse); the caliper placed in the view is on the printout
// (same beat on another layout) only when chosen; the print dialog's options and summary.
#include <gtest/gtest.h>

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QPrinter>
#include <QPushButton>
#include <QTemporaryDir>

#include <variant>

#include "ecg/EcgPrintout.h"
#include "ecg/EcgView.h"
#include "ecg/PrintDialog.h"
#include "gui_test_util.h"
#include "io/reader.h"
#include "print_test_util.h"
#include "test_util.h"

using namespace e2e;

namespace {

EcgRecord readEcg(const std::string& rel) {
  LoadedObject obj = readAny(test::dataFile(rel).string());
  return std::get<EcgRecord>(std::move(obj));
}

EcgRecord& e07500() {
  static EcgRecord r = readEcg("ecg_wfdb/torch_ecg_cinc2021/E07500.hea");
  return r;
}

ui::EcgPaintSpec viewSpec(const EcgRecord& r) {
  ui::EcgPaintSpec s;
  s.record = &r;
  ui::prepareEcgSpec(s);
  return s;
}

// The rhythm-strip panel of lead II in a 3x4+R layout (0-10 s).
const vm::EcgPanel* rhythmII(const vm::EcgLayout& l) {
  for (const auto& p : l.panels)
    if (p.lead == "II" && !p.median && p.t0 <= 0.0 && p.t1 >= 9.9) return &p;
  return nullptr;
}

class Printout : public ::testing::Test {
 protected:
  void SetUp() override {
    test::app();
    if (!test::havePoppler()) GTEST_SKIP() << "poppler-utils (pdfinfo, pdftotext, pdftoppm) are not installed";
  }
  QTemporaryDir tmp_;
};

// The grid of `pdf` measured at 20 px/mm: every major line 5.00 mm from the next, over 200 mm
// across and 40 mm down (to 0.08 mm, under a pixel at 254 dpi); the calibration pulse 10 mm tall.
void expectExactScale(const QString& pdf, const ui::EcgPrintout& po, const QTemporaryDir& tmp) {
  const auto geo = ui::ecgPageGeometry(po.spec);
  const double k = 20.0;
  const QImage across = test::rasterMm(pdf, k, geo.gridOriginMm.x() + 20.0, geo.gridOriginMm.y() + 12.0, 200.0, 8.0, tmp);
  ASSERT_FALSE(across.isNull());
  const auto xs = test::majorLineCentres(across, true);
  ASSERT_GE(xs.size(), 39u);
  for (double s : test::spacings(xs)) EXPECT_NEAR(s / k, 5.0, 0.08);
  EXPECT_NEAR((xs.back() - xs.front()) / k, 5.0 * static_cast<double>(xs.size() - 1), 0.1);
  // Lines sit on whole 5 mm steps from the grid's left edge.
  EXPECT_NEAR(std::fmod(20.0 + xs.front() / k + 0.05, 5.0), 0.05, 0.1);
  const QImage down = test::rasterMm(pdf, k, geo.gridOriginMm.x() + 40.0, geo.gridOriginMm.y() + 2.0, 8.0, 40.0, tmp);
  const auto ys = test::majorLineCentres(down, false);
  ASSERT_GE(ys.size(), 6u);
  // A trace may hide a line along its baseline: the gaps are then whole multiples of 5 mm.
  for (double s : test::spacings(ys)) {
    EXPECT_NEAR(s / k, 5.0 * std::round(s / k / 5.0), 0.08);
    EXPECT_GE(std::round(s / k / 5.0), 1.0);
  }
  EXPECT_GE((ys.back() - ys.front()) / k, 30.0);
  // The first row's calibration pulse: 1 mV at 10 mm/mV is 10 mm tall on the paper.
  const vm::CalibrationPulse& c = geo.layout.pulses.front();
  const QImage pulse = test::rasterMm(pdf, k, geo.gridOriginMm.x() + c.xMm - 1.0,
                                      geo.gridOriginMm.y() + c.baselineYMm - c.hMm - 2.0, c.wMm + 2.0, c.hMm + 4.0, tmp);
  const double tall = test::longestDarkColumnRun(pulse) / k;
  EXPECT_GT(tall, 9.85);
  EXPECT_LT(tall, 10.35);  // 10 mm plus at most the 0.2 mm trace width
}

TEST_F(Printout, A4ThroughQPrinterIsOneLandscapePageAtExactScale) {
  ui::EcgPrintOptions o;
  o.paper = ui::EcgPaper::A4;
  const ui::EcgPrintout po = ui::makeEcgPrintout(viewSpec(e07500()), o);
  EXPECT_EQ(po.spec.params.speedMmPerS, 25.0);
  EXPECT_EQ(po.spec.params.gainMmPerMv, 10.0);
  const QString pdf = tmp_.filePath(QStringLiteral("print.pdf"));
  QPrinter printer(QPrinter::HighResolution);
  printer.setOutputFormat(QPrinter::PdfFormat);
  printer.setOutputFileName(pdf);
  QString err;
  ASSERT_TRUE(ui::printEcgPrintout(printer, po, &err)) << err.toStdString();
  const std::string info = test::pdfInfo(pdf);
  EXPECT_EQ(test::pdfPages(info), 1) << info;
  const auto size = test::pdfPageSizePt(info);
  EXPECT_NEAR(size.first, 595.28, 0.5) << info;
  EXPECT_NEAR(size.second, 841.89, 0.5) << info;
  EXPECT_NE(info.find("(A4)"), std::string::npos) << info;
  expectExactScale(pdf, po, tmp_);
}

TEST_F(Printout, LetterThroughQPdfWriterIsOneLandscapePageAtExactScale) {
  ui::EcgPrintOptions o;
  o.paper = ui::EcgPaper::Letter;
  const ui::EcgPrintout po = ui::makeEcgPrintout(viewSpec(e07500()), o);
  const QString pdf = tmp_.filePath(QStringLiteral("letter.pdf"));
  QString err;
  ASSERT_TRUE(ui::writeEcgPrintoutPdf(po, pdf, &err)) << err.toStdString();
  const std::string info = test::pdfInfo(pdf);
  EXPECT_EQ(test::pdfPages(info), 1) << info;
  const auto size = test::pdfPageSizePt(info);
  EXPECT_NEAR(size.first, 612.0, 0.5) << info;
  EXPECT_NEAR(size.second, 792.0, 0.5) << info;
  expectExactScale(pdf, po, tmp_);
  const std::string text = test::pdfText(pdf);
  EXPECT_NE(text.find("25 mm/s"), std::string::npos) << text;
  EXPECT_NE(text.find("10 mm/mV"), std::string::npos) << text;
}

TEST_F(Printout, EveryLayoutFitsA4AndLetterAtExactScale) {
  for (auto paper : {ui::EcgPaper::A4, ui::EcgPaper::Letter})
    for (auto k : {vm::EcgLayoutKind::Grid3x4Rhythm, vm::EcgLayoutKind::Grid3x4, vm::EcgLayoutKind::Grid6x2,
                   vm::EcgLayoutKind::Grid12x1}) {
      ui::EcgPrintOptions o;
      o.paper = paper;
      o.layout = k;
      const auto po = ui::makeEcgPrintout(viewSpec(e07500()), o);
      const auto geo = ui::ecgPageGeometry(po.spec);
      EXPECT_TRUE(geo.fitsPaper) << vm::toString(k);
      EXPECT_EQ(ui::ecgPrintoutPageLayout(po).orientation(), QPageLayout::Landscape);
      EXPECT_GE(geo.layout.widthMm, 250.0);  // 10 s at 25 mm/s
    }
}

TEST_F(Printout, ViewCaliperIsOnThePrintoutOnlyWhenChosen) {
  ui::EcgView view;
  view.setPxPerMmOverride(4.0);
  view.setSpeed(25.0);
  view.setGain(10.0);
  view.setLayoutKind(vm::EcgLayoutKind::Grid3x4Rhythm);
  view.setRecord(e07500());
  const auto geo = ui::ecgPageGeometry(view.canvas()->spec());
  const vm::EcgPanel* ii = rhythmII(geo.layout);
  ASSERT_NE(ii, nullptr);
  // 1.0 s to 1.8 s on the rhythm strip: 800 ms, 75 bpm.
  const QPointF a(ii->xMm + 25.0, ii->baselineYMm), b(ii->xMm + 45.0, ii->baselineYMm);
  view.canvas()->setCaliper(view.canvas()->gridMmToWidget(a), view.canvas()->gridMmToWidget(b));
  const auto marks = ui::viewCalipers(view);
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(marks[0].lead, "II");
  EXPECT_NEAR(marks[0].tA, 1.0, 1e-6);
  EXPECT_NEAR(marks[0].tB, 1.8, 1e-6);
  EXPECT_EQ(marks[0].text, QStringLiteral("Δt 800 ms (75 bpm)"));

  // On a 6x2 printout lead II shows 0-5 s: the caliper lands on the same beat, 20 mm wide.
  ui::EcgPrintOptions o;
  o.layout = vm::EcgLayoutKind::Grid6x2;
  const auto with = ui::makeEcgPrintout(view.spec(), o, marks);
  const auto pgeo = ui::ecgPageGeometry(with.spec);
  const auto ab = ui::caliperOnLayout(pgeo, with.spec, marks[0]);
  ASSERT_TRUE(ab.has_value());
  EXPECT_NEAR(ab->second.x() - ab->first.x(), 20.0, 1e-6);
  const QString pdfWith = tmp_.filePath(QStringLiteral("with.pdf")), pdfWithout = tmp_.filePath(QStringLiteral("without.pdf"));
  ASSERT_TRUE(ui::writeEcgPrintoutPdf(with, pdfWith));
  o.includeCalipers = false;
  const auto without = ui::makeEcgPrintout(view.spec(), o, marks);
  EXPECT_TRUE(without.calipers.empty());
  ASSERT_TRUE(ui::writeEcgPrintoutPdf(without, pdfWithout));
  EXPECT_NE(test::pdfText(pdfWith).find("Caliper II: Δt 800 ms (75 bpm)"), std::string::npos) << test::pdfText(pdfWith);
  EXPECT_EQ(test::pdfText(pdfWithout).find("Caliper"), std::string::npos);
  // The caliper's lines in blue on the paper, around the measured span (not on the page without it).
  const QPointF o0 = pgeo.gridOriginMm;
  const auto box = [&](const QString& pdf) {
    return test::rasterMm(pdf, 8.0, o0.x() + ab->first.x() - 2.0, o0.y() + ab->first.y() - 12.0, 30.0, 20.0, tmp_);
  };
  EXPECT_GT(test::caliperBluePixels(box(pdfWith)), 100);
  EXPECT_EQ(test::caliperBluePixels(box(pdfWithout)), 0);

  // A caliper on a span the layout does not show is still listed, and says so.
  ui::EcgCaliperMark late = marks[0];
  late.tA = 6.0;
  late.tB = 6.8;
  o.includeCalipers = true;
  const auto lines = ui::ecgCaliperLines(ui::makeEcgPrintout(view.spec(), o, {late}));
  ASSERT_EQ(lines.size(), 1);
  EXPECT_TRUE(lines[0].contains(QStringLiteral("not shown on this layout"))) << lines[0].toStdString();
}

TEST_F(Printout, DialogOptionsMakeThePrintoutItDescribes) {
  ui::EcgView view;
  view.setPxPerMmOverride(4.0);
  view.setRecord(e07500());
  ui::EcgPrintDialog dlg(ui::EcgPrintDialog::Purpose::Print, view);
  auto* paper = dlg.findChild<QComboBox*>(QStringLiteral("printPaper"));
  auto* layout = dlg.findChild<QComboBox*>(QStringLiteral("printLayout"));
  auto* calipers = dlg.findChild<QCheckBox*>(QStringLiteral("printCalipers"));
  ASSERT_TRUE(paper && layout && calipers);
  paper->setCurrentIndex(paper->findData(static_cast<int>(ui::EcgPaper::Letter)));
  layout->setCurrentIndex(layout->findData(static_cast<int>(vm::EcgLayoutKind::Grid12x1)));
  calipers->setChecked(false);
  const ui::EcgPrintOptions o = dlg.options();
  EXPECT_EQ(o.paper, ui::EcgPaper::Letter);
  EXPECT_EQ(o.layout, vm::EcgLayoutKind::Grid12x1);
  EXPECT_FALSE(o.includeCalipers);
  EXPECT_TRUE(dlg.summary().startsWith(QStringLiteral("Letter landscape, 25 mm/s, 10 mm/mV, layout 12x1")))
      << dlg.summary().toStdString();
  const auto po = dlg.printout();
  EXPECT_EQ(po.spec.paper, ui::EcgPaper::Letter);
  EXPECT_EQ(po.spec.params.layout, vm::EcgLayoutKind::Grid12x1);
  // The choice is remembered for the next printout.
  ui::EcgPrintDialog::saveOptions(o);
  const auto again = ui::EcgPrintDialog::savedOptions(view);
  EXPECT_EQ(again.paper, ui::EcgPaper::Letter);
  EXPECT_EQ(again.layout, vm::EcgLayoutKind::Grid12x1);
  EXPECT_FALSE(again.includeCalipers);
  // Without an ECG there is nothing to print.
  ui::EcgView empty;
  ui::EcgPrintDialog none(ui::EcgPrintDialog::Purpose::ExportPdf, empty);
  QPushButton* exportButton = nullptr;
  for (auto* b : none.findChildren<QPushButton*>())
    if (b->text() == QStringLiteral("Export PDF…")) exportButton = b;
  ASSERT_NE(exportButton, nullptr);
  EXPECT_FALSE(exportButton->isEnabled());
  EXPECT_EQ(none.summary(), QStringLiteral("No ECG is open."));
}

}  // namespace
