// The ECG paper shows signal quality (issue 23): a real LUDB record with one lead zeroed gets a
// red "flat" mark beside that lead's label (and the cursor readout names the issue); with six
// leads zeroed a red banner says the record is not usable. Runs offscreen.
#include <gtest/gtest.h>

#include <QImage>

#include "ecg/EcgPainter.h"
#include "ecg/EcgView.h"
#include "gui_test_util.h"
#include "quality_fixture.h"

using namespace e2e;
using namespace e2e::ui;
namespace q = e2e::test::quality;

namespace {

EcgRecord ludb(int i) { return q::readEcg(test::dataFile("ecg_wfdb/ludb/data/" + std::to_string(i) + ".hea").string()); }

int panelIndex(const vm::EcgLayout& l, const std::string& lead) {
  for (std::size_t i = 0; i < l.panels.size(); ++i)
    if (l.panels[i].lead == lead && !l.panels[i].rhythm && !l.panels[i].median) return static_cast<int>(i);
  return -1;
}

// Pixels of colour `c` (within a small tolerance) in the rectangle (page mm) of `img` at k px/mm.
int countColour(const QImage& img, const QRectF& mm, double k, const QColor& c) {
  int n = 0;
  for (int y = static_cast<int>(mm.top() * k); y < static_cast<int>(mm.bottom() * k) && y < img.height(); ++y)
    for (int x = static_cast<int>(mm.left() * k); x < static_cast<int>(mm.right() * k) && x < img.width(); ++x) {
      const QColor p = img.pixelColor(x, y);
      if (std::abs(p.red() - c.red()) < 40 && std::abs(p.green() - c.green()) < 40 && std::abs(p.blue() - c.blue()) < 40) ++n;
    }
  return n;
}

// The area right of a panel's label where the quality mark is drawn (page mm).
QRectF markArea(const EcgPageGeometry& geo, const vm::EcgPanel& p) {
  return QRectF(geo.gridOriginMm.x() + p.xMm + 4.0, geo.gridOriginMm.y() + p.yMm + 1.0, 14.0, 3.5);
}

}  // namespace

TEST(QualityGui, FlatLeadGetsAMarkBesideItsLabel) {
  test::app();
  EcgRecord rec = ludb(21);
  q::zeroLeads(rec, {"V3"});
  EcgView view;
  view.setRecord(rec);
  ASSERT_NE(view.quality(), nullptr);
  EXPECT_TRUE(view.quality()->usable);
  const EcgPaintSpec& spec = view.spec();
  ASSERT_EQ(spec.quality, view.quality());
  EXPECT_EQ(ecgQualityMark(spec, "V3"), QStringLiteral("flat"));
  EXPECT_TRUE(ecgQualityMarkSevere(spec, "V3"));
  EXPECT_TRUE(ecgQualityMark(spec, "V2").isEmpty());
  EXPECT_TRUE(ecgQualityBanner(spec).isEmpty());

  const double k = 8.0;
  const auto geo = ecgPageGeometry(spec);
  const QImage img = renderEcgImage(spec, k);
  const int v3 = panelIndex(geo.layout, "V3"), v2 = panelIndex(geo.layout, "V2");
  ASSERT_GE(v3, 0);
  ASSERT_GE(v2, 0);
  const auto& p3 = geo.layout.panels[static_cast<std::size_t>(v3)];
  EXPECT_GT(countColour(img, markArea(geo, p3), k, ecgQualitySevereColor()), 20) << "red mark beside V3";
  EXPECT_EQ(countColour(img, markArea(geo, geo.layout.panels[static_cast<std::size_t>(v2)]), k, ecgQualitySevereColor()), 0);

  // The readout under the cursor in the V3 panel names the issue.
  EcgCanvas* c = view.canvas();
  const QPointF px = c->gridMmToWidget(QPointF(p3.xMm + p3.wMm / 2, p3.baselineYMm));
  EXPECT_TRUE(c->readoutAt(px).contains(QStringLiteral("V3: flat"))) << c->readoutAt(px).toStdString();

  // The clean record has no marks at all.
  view.setRecord(ludb(21));
  for (const auto& l : standardLeads()) EXPECT_TRUE(ecgQualityMark(view.spec(), l).isEmpty()) << l;
  const QImage clean = renderEcgImage(view.spec(), k);
  EXPECT_EQ(countColour(clean, markArea(geo, p3), k, ecgQualitySevereColor()), 0);
}

TEST(QualityGui, UnusableRecordGetsABanner) {
  test::app();
  EcgRecord rec = ludb(22);
  q::addNoise(rec, 0.3, 0.1, 5);
  q::zeroLeads(rec, {"V1", "V2", "V3", "V4", "V5", "V6"});
  EcgView view;
  view.setRecord(rec);
  ASSERT_NE(view.quality(), nullptr);
  ASSERT_FALSE(view.quality()->usable);
  const QString banner = ecgQualityBanner(view.spec());
  EXPECT_TRUE(banner.startsWith(QStringLiteral("Signal quality: NOT USABLE"))) << banner.toStdString();
  EXPECT_TRUE(banner.contains(QStringLiteral("6 of 12 standard leads usable"))) << banner.toStdString();
  EXPECT_EQ(ecgQualityMark(view.spec(), "I"), QStringLiteral("noisy"));
  EXPECT_FALSE(ecgQualityMarkSevere(view.spec(), "I"));

  const double k = 8.0;
  const auto geo = ecgPageGeometry(view.spec());
  const QImage img = renderEcgImage(view.spec(), k);
  const QRectF top(geo.headerMm.x(), 0.0, geo.headerMm.width(), 6.0);
  EXPECT_GT(countColour(img, top, k, ecgQualitySevereColor()), 50) << "red banner in the top margin";
  const auto& pI = geo.layout.panels[static_cast<std::size_t>(panelIndex(geo.layout, "I"))];
  EXPECT_GT(countColour(img, markArea(geo, pI), k, ecgQualityWarningColor()), 20) << "amber mark beside I";

  view.setRecord(ludb(22));
  const QImage clean = renderEcgImage(view.spec(), k);
  EXPECT_EQ(countColour(clean, top, k, ecgQualitySevereColor()), 0);
}
