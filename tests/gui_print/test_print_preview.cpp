// The print dialog's preview (issue 20): the page painted by the function that prints it, on a
// QPrinter in preview mode, redrawn whenever the paper, layout or gain changes. Checked on the
// preview widget as drawn: one page (none when the options do not fit the paper), the page's shape
// that of A4 or Letter landscape, and its picture following every option (the same options draw
// the same page again, other options another page).
#include <gtest/gtest.h>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QPrintPreviewWidget>
#include <QPrinter>

#include <cstdlib>
#include <variant>

#include "ecg/EcgPrintout.h"
#include "ecg/EcgView.h"
#include "ecg/PrintDialog.h"
#include "gui_test_util.h"
#include "io/reader.h"
#include "test_util.h"

using namespace e2e;

namespace {

const EcgRecord& e07500() {
  static const EcgRecord r =
      std::get<EcgRecord>(readAny(test::dataFile("ecg_wfdb/torch_ecg_cinc2021/E07500.hea").string()));
  return r;
}

// The paper as drawn in the preview: the bounding box of the white pixels (the scene around the
// page is grey, the page's margins white).
QRect pageRect(const QImage& img) {
  int x0 = img.width(), y0 = img.height(), x1 = -1, y1 = -1;
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      const QColor c = img.pixelColor(x, y);
      if (c.red() >= 250 && c.green() >= 250 && c.blue() >= 250) {
        x0 = std::min(x0, x), y0 = std::min(y0, y), x1 = std::max(x1, x), y1 = std::max(y1, y);
      }
    }
  return x1 < 0 ? QRect() : QRect(QPoint(x0, y0), QPoint(x1, y1));
}

QImage previewPage(ui::EcgPrintDialog& dlg) {
  QApplication::processEvents();
  const QImage img = dlg.previewWidget()->grab().toImage();
  const QRect r = pageRect(img);
  return r.isEmpty() ? QImage() : img.copy(r);
}

void choose(QComboBox* box, const QVariant& v) {
  const int i = box->findData(v);
  ASSERT_GE(i, 0);
  box->setCurrentIndex(i);
}

}  // namespace

TEST(PrintPreview, OnePageThatFollowsPaperLayoutAndGain) {
  test::app();
  ui::EcgView view;
  view.setPxPerMmOverride(4.0);
  view.setRecord(e07500());
  ui::EcgPrintDialog::saveOptions(ui::EcgPrintOptions{});  // A4, 3x4+R, 10 mm/mV
  ui::EcgPrintDialog dlg(ui::EcgPrintDialog::Purpose::Print, view);
  auto* paper = dlg.findChild<QComboBox*>(QStringLiteral("printPaper"));
  auto* layout = dlg.findChild<QComboBox*>(QStringLiteral("printLayout"));
  auto* gain = dlg.findChild<QComboBox*>(QStringLiteral("printGain"));
  ASSERT_TRUE(paper && layout && gain);
  ASSERT_NE(dlg.previewWidget(), nullptr);
  EXPECT_EQ(dlg.findChild<QPrintPreviewWidget*>(QStringLiteral("printPreview")), dlg.previewWidget());
  dlg.resize(1200, 640);
  dlg.show();
  QApplication::processEvents();

  // A4 landscape: one page, 297 x 210 mm, drawn with that shape.
  EXPECT_EQ(dlg.previewPageCount(), 1);
  const QPageLayout a4 = dlg.previewPrinter().pageLayout();
  EXPECT_EQ(a4.pageSize().id(), QPageSize::A4);
  EXPECT_EQ(a4.orientation(), QPageLayout::Landscape);
  const QImage first = previewPage(dlg);
  ASSERT_FALSE(first.isNull());
  ASSERT_GT(first.width(), 300);
  EXPECT_NEAR(static_cast<double>(first.width()) / first.height(), 297.0 / 210.0, 0.02);
  if (const char* keep = std::getenv("E2E_PRINT_PREVIEW_SHOT")) dlg.grab().save(QString::fromLocal8Bit(keep));

  // Letter: the preview's page becomes Letter landscape, 279.4 x 215.9 mm.
  const int renders = dlg.previewRenders();
  choose(paper, static_cast<int>(ui::EcgPaper::Letter));
  EXPECT_GT(dlg.previewRenders(), renders) << "redrawn on the change";
  EXPECT_EQ(dlg.previewPageCount(), 1);
  EXPECT_EQ(dlg.previewPrinter().pageLayout().pageSize().id(), QPageSize::Letter);
  const QImage letter = previewPage(dlg);
  ASSERT_FALSE(letter.isNull());
  EXPECT_NEAR(static_cast<double>(letter.width()) / letter.height(), 279.4 / 215.9, 0.02);

  // Back to A4: the same page as at first; then another gain and another layout: other pages.
  choose(paper, static_cast<int>(ui::EcgPaper::A4));
  EXPECT_EQ(previewPage(dlg), first) << "the same options draw the same page";
  choose(gain, 5.0);
  const QImage half = previewPage(dlg);
  ASSERT_EQ(half.size(), first.size());
  EXPECT_NE(half, first) << "5 mm/mV draws other traces";
  choose(layout, static_cast<int>(vm::EcgLayoutKind::Grid12x1));
  const QImage twelve = previewPage(dlg);
  EXPECT_NE(twelve, half) << "12x1 is another page";

  // Every combination: one page when the printout fits the paper at exact scale (the summary and
  // the Print button agree), none when it does not; the page size always the chosen paper.
  for (auto p : {ui::EcgPaper::A4, ui::EcgPaper::Letter})
    for (double g : {5.0, 10.0, 20.0})
      for (auto k : {vm::EcgLayoutKind::Grid3x4Rhythm, vm::EcgLayoutKind::Grid3x4, vm::EcgLayoutKind::Grid6x2,
                     vm::EcgLayoutKind::Grid12x1}) {
        choose(paper, static_cast<int>(p));
        choose(gain, g);
        choose(layout, static_cast<int>(k));
        const bool fits = ui::ecgPageGeometry(dlg.printout().spec).fitsPaper;
        SCOPED_TRACE(dlg.summary().toStdString());
        EXPECT_EQ(dlg.previewPageCount(), fits ? 1 : 0);
        if (fits)
          EXPECT_EQ(dlg.previewPrinter().pageLayout().pageSize().id(),
                    p == ui::EcgPaper::A4 ? QPageSize::A4 : QPageSize::Letter);
      }
}
