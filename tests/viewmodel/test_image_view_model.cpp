// Window/level, zoom at a point and pan of the echo cells (core/viewmodel/image_view_model).
#include <gtest/gtest.h>

#include "viewmodel/image_view_model.h"

using namespace e2e::vm;

namespace {
ImageViewModel model160x120In400x300() {
  ImageViewModel m;
  m.setImageSize(160, 120);
  m.setViewportSize(400, 300);
  return m;
}
}  // namespace

TEST(ImageViewModel, FitsAndCentresTheImage) {
  auto m = model160x120In400x300();
  EXPECT_DOUBLE_EQ(m.fitScale(), 2.5);
  const auto c = m.imageToViewport(79.5, 59.5);  // image centre
  EXPECT_DOUBLE_EQ(c.x, 200.0);
  EXPECT_DOUBLE_EQ(c.y, 150.0);
  const auto tl = m.viewportToImage(0, 0);
  EXPECT_DOUBLE_EQ(tl.x, -0.5);
  EXPECT_DOUBLE_EQ(tl.y, -0.5);
  EXPECT_TRUE(m.isDefaultView());
}

TEST(ImageViewModel, ZoomKeepsThePointUnderTheCursor) {
  auto m = model160x120In400x300();
  const auto before = m.viewportToImage(300, 80);
  m.zoomAt(2.0, 300, 80);
  EXPECT_DOUBLE_EQ(m.zoom(), 2.0);
  EXPECT_DOUBLE_EQ(m.scale(), 5.0);
  const auto after = m.viewportToImage(300, 80);
  EXPECT_NEAR(after.x, before.x, 1e-9);
  EXPECT_NEAR(after.y, before.y, 1e-9);
  const auto back = m.imageToViewport(before.x, before.y);
  EXPECT_NEAR(back.x, 300, 1e-9);
  EXPECT_NEAR(back.y, 80, 1e-9);
  EXPECT_FALSE(m.isDefaultView());
  // Wheel: one notch in is x1.25, one out undoes it; limits hold.
  EXPECT_DOUBLE_EQ(ImageViewModel::wheelFactor(120), 1.25);
  EXPECT_NEAR(ImageViewModel::wheelFactor(-120) * 1.25, 1.0, 1e-12);
  m.zoomAt(1000.0, 10, 10);
  EXPECT_DOUBLE_EQ(m.zoom(), ImageViewModel::kMaxZoom);
  m.zoomAt(1e-6, 10, 10);
  EXPECT_DOUBLE_EQ(m.zoom(), ImageViewModel::kMinZoom);
  m.resetView();
  EXPECT_TRUE(m.isDefaultView());
  EXPECT_DOUBLE_EQ(m.imageToViewport(79.5, 59.5).x, 200.0);
}

TEST(ImageViewModel, PanMovesTheImageWithTheMouse) {
  auto m = model160x120In400x300();
  m.zoomAt(2.0, 200, 150);
  const auto p = m.imageToViewport(40, 30);
  m.panBy(25, -10);
  const auto q = m.imageToViewport(40, 30);
  EXPECT_NEAR(q.x - p.x, 25, 1e-9);
  EXPECT_NEAR(q.y - p.y, -10, 1e-9);
  // The image never leaves the view entirely.
  m.panBy(1e6, 1e6);
  EXPECT_DOUBLE_EQ(m.centre().x, -0.5);
  EXPECT_DOUBLE_EQ(m.centre().y, -0.5);
}

TEST(ImageViewModel, WindowLevelMapping) {
  ImageViewModel m;
  EXPECT_TRUE(m.isDefaultWindowLevel());
  EXPECT_DOUBLE_EQ(m.displayValue(0), 0);
  EXPECT_DOUBLE_EQ(m.displayValue(255), 255);
  EXPECT_DOUBLE_EQ(m.displayValue(100), 100);  // identity by default
  m.setWindowLevel(100, 50);                    // 0..100 -> 0..255
  EXPECT_DOUBLE_EQ(m.displayValue(0), 0);
  EXPECT_DOUBLE_EQ(m.displayValue(50), 127.5);
  EXPECT_DOUBLE_EQ(m.displayValue(100), 255);
  EXPECT_DOUBLE_EQ(m.displayValue(200), 255);
  m.dragWindowLevel(-150, 20);  // window clamps at its minimum
  EXPECT_DOUBLE_EQ(m.window(), ImageViewModel::kMinWindow);
  EXPECT_DOUBLE_EQ(m.level(), 70);
  m.dragWindowLevel(10000, 0);
  EXPECT_DOUBLE_EQ(m.window(), ImageViewModel::kMaxWindow);
  m.resetWindowLevel();
  EXPECT_TRUE(m.isDefaultWindowLevel());
}

TEST(ImageViewModel, NoImageIsHarmless) {
  ImageViewModel m;
  m.zoomAt(2.0, 1, 1);
  m.panBy(5, 5);
  EXPECT_DOUBLE_EQ(m.zoom(), 1.0);
  EXPECT_TRUE(m.isDefaultView());
}
