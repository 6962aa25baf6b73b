// The printout carries the trust flags (issue 23): the signal-quality banner and the per-lead marks
// of the screen (ui/ecg/EcgPainter) are on the printed page, checked on the PDF itself (pdftotext
// for the words, pdftoppm for the red/amber marks where they belong):
// - Ctrl+P of a real LUDB record with its six chest leads zeroed: the red "NOT USABLE" banner with
//   its reason and a red "flat" beside each chest lead, through QPrinter;
// - the headless printout (`--export-pdf`, `echo2ecg report`: no view, no quality passed in) of the
//   real CinC record JS20008, which carries flat V2, V4 and V6: assessed and marked;
// - LUDB 111 (a likely limb-lead reversal, a record-level warning): the amber banner;
// - the clean record: no banner, no mark, no quality colour on the page.
// The printout shows no model output, so it has no OOD flag to carry (see EcgPrintout.h).
#include <gtest/gtest.h>

#include <QPrinter>
#include <QTemporaryDir>

#include <regex>

#include "ecg/EcgPrintout.h"
#include "ecg/EcgView.h"
#include "ecg/PrintDialog.h"
#include "gui_test_util.h"
#include "print_test_util.h"
#include "signal_quality/quality_fixture.h"

using namespace e2e;
namespace q = e2e::test::quality;

namespace {

EcgRecord ludb(int i) { return q::readEcg(test::dataFile("ecg_wfdb/ludb/data/" + std::to_string(i) + ".hea").string()); }

const vm::EcgPanel* shortPanel(const vm::EcgLayout& l, const std::string& lead) {
  for (const auto& p : l.panels)
    if (p.lead == lead && !p.rhythm && !p.median) return &p;
  return nullptr;
}

// Pixels near colour `c` in the image.
int colourPixels(const QImage& img, const QColor& c) {
  int n = 0;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor p = img.pixelColor(x, y);
      n += std::abs(p.red() - c.red()) < 40 && std::abs(p.green() - c.green()) < 40 && std::abs(p.blue() - c.blue()) < 40;
    }
  return n;
}

// The printed page region right of a panel's label, where its quality mark is drawn, at 8 px/mm.
QImage markArea(const QString& pdf, const ui::EcgPrintout& po, const std::string& lead, const QTemporaryDir& tmp) {
  const auto geo = ui::ecgPageGeometry(po.spec);
  const vm::EcgPanel* p = shortPanel(geo.layout, lead);
  if (!p) return {};
  return test::rasterMm(pdf, 8.0, geo.gridOriginMm.x() + p->xMm + 4.0, geo.gridOriginMm.y() + p->yMm + 1.0, 14.0, 3.5, tmp);
}

// The top margin above the header, where the banner is printed, at 8 px/mm.
QImage bannerArea(const QString& pdf, const ui::EcgPrintout& po, const QTemporaryDir& tmp) {
  const auto geo = ui::ecgPageGeometry(po.spec);
  return test::rasterMm(pdf, 8.0, geo.headerMm.x(), 0.0, geo.headerMm.width(), 6.0, tmp);
}

// "V3" followed by its mark on the same printed line (pdftotext -layout keeps them side by side).
bool printedMark(const std::string& text, const std::string& lead, const std::string& mark) {
  return std::regex_search(text, std::regex("(^|[^A-Za-z0-9])" + lead + " +" + mark));
}

class PrintQuality : public ::testing::Test {
 protected:
  void SetUp() override {
    test::app();
    if (!test::havePoppler()) GTEST_SKIP() << "poppler-utils (pdfinfo, pdftotext, pdftoppm) are not installed";
  }
  QTemporaryDir tmp_;
};

}  // namespace

TEST_F(PrintQuality, CtrlPOfAnUnusableEcgPrintsTheBannerAndEveryFlatLead) {
  EcgRecord rec = ludb(22);
  q::zeroLeads(rec, {"V1", "V2", "V3", "V4", "V5", "V6"});
  ui::EcgView view;
  view.setPxPerMmOverride(4.0);
  view.setRecord(rec);
  ASSERT_NE(view.quality(), nullptr);
  ASSERT_FALSE(view.quality()->usable);
  // The print dialog's printout (File > Print…), printed through QPrinter to a PDF.
  ui::EcgPrintDialog dlg(ui::EcgPrintDialog::Purpose::Print, view);
  const ui::EcgPrintout po = dlg.printout();
  ASSERT_EQ(po.spec.quality, view.quality()) << "the view's quality, not a second assessment";
  const QString banner = ui::ecgPrintoutQualityBanner(po);
  ASSERT_TRUE(banner.startsWith(QStringLiteral("Signal quality: NOT USABLE for prediction"))) << banner.toStdString();
  EXPECT_TRUE(dlg.summary().contains(banner)) << dlg.summary().toStdString();
  EXPECT_TRUE(dlg.summary().contains(QStringLiteral("V1: flat"))) << dlg.summary().toStdString();
  const QString pdf = tmp_.filePath(QStringLiteral("unusable.pdf"));
  QPrinter printer(QPrinter::HighResolution);
  printer.setOutputFormat(QPrinter::PdfFormat);
  printer.setOutputFileName(pdf);
  QString err;
  ASSERT_TRUE(ui::printEcgPrintout(printer, po, &err)) << err.toStdString();

  const std::string text = test::pdfWords(pdf);
  EXPECT_NE(text.find("Signal quality: NOT USABLE for prediction"), std::string::npos) << text;
  EXPECT_NE(text.find("6 of 12 standard leads usable"), std::string::npos) << text;
  for (const char* l : {"V1", "V2", "V3", "V4", "V5", "V6"}) EXPECT_TRUE(printedMark(text, l, "flat")) << l << "\n" << text;
  EXPECT_FALSE(printedMark(text, "aVF", "flat")) << text;
  // Red on the paper: the banner and the chest leads' marks; nothing red beside lead II.
  EXPECT_GT(colourPixels(bannerArea(pdf, po, tmp_), ui::ecgQualitySevereColor()), 50);
  for (const char* l : {"V1", "V4"}) EXPECT_GT(colourPixels(markArea(pdf, po, l, tmp_), ui::ecgQualitySevereColor()), 20) << l;
  EXPECT_EQ(colourPixels(markArea(pdf, po, "II", tmp_), ui::ecgQualitySevereColor()), 0);
}

TEST_F(PrintQuality, HeadlessPrintoutOfARealEcgWithFlatLeadsMarksThem) {
  // JS20008 (CinC 2021) really carries flat V2, V4 and V6. The headless path passes no quality.
  const EcgRecord rec = q::readEcg(test::dataFile("ecg_wfdb/torch_ecg_cinc2021/JS20008.hea").string());
  ui::EcgPaintSpec spec;
  spec.record = &rec;
  ui::prepareEcgSpec(spec);
  ASSERT_EQ(spec.quality, nullptr);
  ui::EcgPrintOptions o;
  o.paper = ui::EcgPaper::A4;
  const ui::EcgPrintout po = ui::makeEcgPrintout(spec, o);
  ASSERT_NE(po.spec.quality, nullptr) << "assessed for the printout";
  const QStringList marks = ui::ecgPrintoutQualityMarks(po);
  for (const char* l : {"V2", "V4", "V6"})
    EXPECT_TRUE(marks.contains(QStringLiteral("%1: flat").arg(QLatin1String(l)))) << marks.join(QLatin1Char('|')).toStdString();
  const ui::EcgPrintout copy = po;  // a copy shares the assessment
  EXPECT_EQ(copy.spec.quality, po.spec.quality);
  const QString pdf = tmp_.filePath(QStringLiteral("js20008.pdf"));
  QString err;
  ASSERT_TRUE(ui::writeEcgPrintoutPdf(copy, pdf, &err)) << err.toStdString();
  const std::string text = test::pdfWords(pdf);
  for (const char* l : {"V2", "V4", "V6"}) EXPECT_TRUE(printedMark(text, l, "flat")) << l << "\n" << text;
  EXPECT_FALSE(printedMark(text, "V1", "flat")) << text;
  EXPECT_GT(colourPixels(markArea(pdf, copy, "V2", tmp_), ui::ecgQualitySevereColor()), 20);
  EXPECT_EQ(colourPixels(markArea(pdf, copy, "V1", tmp_), ui::ecgQualitySevereColor()), 0);
}

TEST_F(PrintQuality, RecordLevelWarningPrintsAnAmberBannerAndACleanEcgNone) {
  // LUDB 111: a likely limb-lead reversal (record-level warning, still usable).
  EcgRecord warn = ludb(111);
  ui::EcgView view;
  view.setPxPerMmOverride(4.0);
  view.setRecord(warn);
  ASSERT_TRUE(view.quality()->usable);
  ASSERT_TRUE(q::hasCode(*view.quality(), "limb_reversal"));
  const ui::EcgPrintout po = ui::makeEcgPrintout(view.spec(), ui::EcgPrintOptions{});
  const QString banner = ui::ecgPrintoutQualityBanner(po);
  ASSERT_TRUE(banner.startsWith(QStringLiteral("Signal quality: "))) << banner.toStdString();
  const QString pdf = tmp_.filePath(QStringLiteral("ludb111.pdf"));
  ASSERT_TRUE(ui::writeEcgPrintoutPdf(po, pdf));
  const std::string text = test::pdfWords(pdf);
  EXPECT_NE(text.find(banner.left(60).toStdString()), std::string::npos) << banner.toStdString() << "\n" << text;
  EXPECT_GT(colourPixels(bannerArea(pdf, po, tmp_), ui::ecgQualityWarningColor()), 50);
  EXPECT_EQ(colourPixels(bannerArea(pdf, po, tmp_), ui::ecgQualitySevereColor()), 0);

  // The clean record (LUDB 21): no banner, no mark, no quality colour anywhere above the grid.
  view.setRecord(ludb(21));
  ASSERT_TRUE(view.quality()->usable);
  ASSERT_TRUE(view.quality()->issues.empty());
  const ui::EcgPrintout clean = ui::makeEcgPrintout(view.spec(), ui::EcgPrintOptions{});
  EXPECT_TRUE(ui::ecgPrintoutQualityBanner(clean).isEmpty());
  EXPECT_TRUE(ui::ecgPrintoutQualityMarks(clean).isEmpty());
  const QString cleanPdf = tmp_.filePath(QStringLiteral("clean.pdf"));
  ASSERT_TRUE(ui::writeEcgPrintoutPdf(clean, cleanPdf));
  const std::string cleanText = test::pdfWords(cleanPdf);
  EXPECT_EQ(cleanText.find("Signal quality"), std::string::npos) << cleanText;
  for (const char* w : {"flat", "noisy", "lead off", "wander", "clipped"})
    EXPECT_EQ(cleanText.find(w), std::string::npos) << w << "\n" << cleanText;
  EXPECT_EQ(colourPixels(bannerArea(cleanPdf, clean, tmp_), ui::ecgQualityWarningColor()), 0);
  EXPECT_EQ(colourPixels(bannerArea(cleanPdf, clean, tmp_), ui::ecgQualitySevereColor()), 0);
  for (const char* l : {"I", "V3"})
    EXPECT_EQ(colourPixels(markArea(cleanPdf, clean, l, tmp_), ui::ecgQualitySevereColor()), 0) << l;
}
