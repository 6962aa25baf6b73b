// Echo measurements a reader draws with the mouse (issue 20): area by trace (clicked vertices
// closed on the first point or by a double-click, or a freehand drag) in cm^2 and an angle of
// three points in degrees, from the Sequence of Ultrasound Regions of real calibrated files;
// refused with core's reason on an uncalibrated file and across regions; Esc cancels, Delete and
// Clear remove; measurements stay on the image through zoom and pan. Needs an X display
// (xvfb-run): the cells render with VTK in a QOpenGLWidget.
#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QLabel>
#include <QTest>
#include <QToolButton>
#include <QWheelEvent>

#include <filesystem>

#include "echo/EchoView.h"
#include "gui_test_util.h"
#include "io/dicom_echo.h"
#include "test_util.h"

using namespace e2e;
using namespace e2e::ui;

#define REQUIRE_DISPLAY()                                                                \
  do {                                                                                   \
    if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)"; \
    test::app(true);                                                                     \
  } while (0)

namespace {
// Philips CX50 (pydicom-data): 800 x 600, B-mode region x 120..800, y 60..518 at
// 0.026228787661969974 cm per pixel both ways.
const char* kPhilips = "us_dicom/pydicom-data/OBXXXX1A.dcm";
// A 400 x 300 px rectangle inside it: 120000 px^2 x 0.026228787661969974^2 cm^2.
constexpr double kRectCm2 = 82.553916266005;
const QPointF kTL(200, 100), kTR(600, 100), kBR(600, 400), kBL(200, 400);

// Opens a real file in a shown cell; false (test skipped) when the data is missing.
bool openShown(EchoView& v, const char* rel) {
  const auto path = test::dataFile(rel);
  if (!std::filesystem::exists(path)) return false;
  v.resize(900, 800);
  v.openFile(QString::fromStdString(path.string()));
  v.show();
  return QTest::qWaitForWindowExposed(&v);
}

QPoint at(const EchoView& v, QPointF imagePx) { return v.glWidget()->imageToWidget(imagePx).toPoint(); }

void click(EchoView& v, QPointF imagePx) { QTest::mouseClick(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, imagePx)); }

// A real double-click: press, release, double-click, release.
void doubleClick(EchoView& v, QPointF imagePx) {
  click(v, imagePx);
  QTest::mouseDClick(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, imagePx));
  QTest::mouseRelease(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, imagePx));
}

// A mouse move with no button held (what mouse tracking delivers).
void hoverTo(EchoView& v, QPointF imagePx) {
  const QPointF w = v.glWidget()->imageToWidget(imagePx);
  QMouseEvent e(QEvent::MouseMove, w, v.glWidget()->mapToGlobal(w), Qt::NoButton, Qt::NoButton, Qt::NoModifier);
  QApplication::sendEvent(v.glWidget(), &e);
}

double leadingNumber(const QString& s) { return s.section(QLatin1Char(' '), 0, 0).remove(QChar(0xB0)).toDouble(); }

// Whether the overlay's colour (green: finished, light blue: being drawn) is within 3 px of image point `img`.
bool colourNear(const EchoView& v, QPointF img, bool green) {
  v.glWidget()->update();
  QApplication::processEvents();
  const QImage fb = v.glWidget()->grabFramebuffer();
  const double dpr = fb.width() / static_cast<double>(v.glWidget()->width());
  const QPointF c = v.glWidget()->imageToWidget(img) * dpr;
  for (int dy = -3; dy <= 3; ++dy)
    for (int dx = -3; dx <= 3; ++dx) {
      const QColor col = fb.pixelColor(static_cast<int>(c.x()) + dx, static_cast<int>(c.y()) + dy);
      if (green && col.green() > 180 && col.red() < 160 && col.blue() < 180) return true;
      if (!green && col.blue() > 220 && col.green() > 170 && col.red() < 160) return true;
    }
  return false;
}

bool greenNear(const EchoView& v, QPointF img) { return colourNear(v, img, true); }
}  // namespace

TEST(EchoMeasure, AreaByClickedVerticesClosedOnTheFirstPoint) {
  REQUIRE_DISPLAY();
  EchoView v;
  if (!openShown(v, kPhilips)) GTEST_SKIP() << "no " << kPhilips;
  v.setFocus();
  QTest::keyClick(&v, Qt::Key_A);
  EXPECT_EQ(v.mouseMode(), EchoMouseMode::Area);
  EXPECT_EQ(v.findChild<QComboBox*>(QStringLiteral("echoTool"))->currentText(), QStringLiteral("Area (A)"));
  for (QPointF p : {kTL, kTR, kBR, kBL}) click(v, p);
  EXPECT_TRUE(v.isDrawingMeasurement());
  EXPECT_TRUE(v.measurements().empty());
  // A click 3 widget px from the first vertex closes the trace.
  QTest::mouseClick(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, kTL) + QPoint(3, 2));
  EXPECT_FALSE(v.isDrawingMeasurement());
  ASSERT_EQ(v.measurements().size(), 1u);
  const EchoMeasurement& m = v.measurements()[0];
  ASSERT_TRUE(m.ok) << m.statusText.toStdString();
  EXPECT_EQ(m.points.size(), 4u);
  EXPECT_NEAR(m.value, kRectCm2, kRectCm2 * 0.01);
  EXPECT_TRUE(v.measurementText().endsWith(QStringLiteral(" cm²"))) << v.measurementText().toStdString();
  EXPECT_NEAR(leadingNumber(v.measurementText()), kRectCm2, kRectCm2 * 0.01);
  const QString status = v.findChild<QLabel*>(QStringLiteral("measureLabel"))->text();
  EXPECT_TRUE(status.startsWith(QStringLiteral("Area: "))) << status.toStdString();
  EXPECT_TRUE(status.contains(QStringLiteral("perimeter 36.7"))) << status.toStdString();  // 1400 px x 0.02623 cm
  EXPECT_TRUE(greenNear(v, QPointF(400, 100))) << "the top edge is drawn";
  EXPECT_FALSE(greenNear(v, QPointF(400, 250))) << "inside, away from the outline";
  EXPECT_FALSE(greenNear(v, QPointF(700, 250))) << "outside the trace";

  // Zoom and pan: the trace keeps its image coordinates and value, and is drawn where the image went.
  const std::vector<QPointF> before = m.points;
  const QPointF leftEdgeBefore = v.glWidget()->imageToWidget(QPointF(200, 250));
  QWheelEvent wheel(QPointF(300, 300), v.glWidget()->mapToGlobal(QPointF(300, 300)), QPoint(), QPoint(0, 240), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(v.glWidget(), &wheel);
  QTest::mousePress(v.glWidget(), Qt::MiddleButton, Qt::NoModifier, QPoint(400, 400));
  QTest::mouseMove(v.glWidget(), QPoint(340, 430));
  QTest::mouseRelease(v.glWidget(), Qt::MiddleButton, Qt::NoModifier, QPoint(340, 430));
  EXPECT_FALSE(v.imageView().isDefaultView());
  ASSERT_EQ(v.measurements().size(), 1u);
  EXPECT_EQ(v.measurements()[0].points, before);
  EXPECT_NEAR(v.measurements()[0].value, kRectCm2, kRectCm2 * 0.01);
  EXPECT_TRUE(greenNear(v, QPointF(200, 250))) << "the left edge follows the zoomed, panned image";
  EXPECT_FALSE(greenNear(v, v.glWidget()->widgetToImage(leftEdgeBefore))) << "not where the left edge was before";
}

TEST(EchoMeasure, FreehandTraceAndDoubleClickClose) {
  REQUIRE_DISPLAY();
  EchoView v;
  if (!openShown(v, kPhilips)) GTEST_SKIP() << "no " << kPhilips;
  v.setMouseMode(EchoMouseMode::Area);
  // Freehand: press on one corner, drag round the rectangle in 5 px steps, let go on the start.
  auto* gl = v.glWidget();
  const QPoint tl = at(v, kTL), tr = at(v, kTR), br = at(v, kBR), bl = at(v, kBL);
  QTest::mousePress(gl, Qt::LeftButton, Qt::NoModifier, tl);
  for (auto [from, to] : {std::pair{tl, tr}, std::pair{tr, br}, std::pair{br, bl}, std::pair{bl, tl}}) {
    const QPoint d = to - from;
    const int steps = std::max(std::abs(d.x()), std::abs(d.y())) / 5;
    for (int k = 1; k <= steps; ++k) QTest::mouseMove(gl, from + d * k / steps);
  }
  QTest::mouseRelease(gl, Qt::LeftButton, Qt::NoModifier, tl);
  ASSERT_EQ(v.measurements().size(), 1u);
  EXPECT_GT(v.measurements()[0].points.size(), 100u) << "a freehand trace, not four clicks";
  ASSERT_TRUE(v.measurements()[0].ok) << v.measurements()[0].statusText.toStdString();
  EXPECT_NEAR(v.measurements()[0].value, kRectCm2, kRectCm2 * 0.01);

  // Polygon closed by a double-click on its last vertex: the triangle TL, TR, BR is half the rectangle.
  click(v, kTL);
  click(v, kTR);
  doubleClick(v, kBR);
  ASSERT_EQ(v.measurements().size(), 2u);
  EXPECT_EQ(v.measurements()[1].points.size(), 3u);
  EXPECT_NEAR(v.measurements()[1].value, kRectCm2 / 2, kRectCm2 * 0.005);
  EXPECT_FALSE(v.isDrawingMeasurement());
}

TEST(EchoMeasure, RightAngleIs90Degrees) {
  REQUIRE_DISPLAY();
  EchoView v;
  if (!openShown(v, kPhilips)) GTEST_SKIP() << "no " << kPhilips;
  v.setFocus();
  QTest::keyClick(&v, Qt::Key_G);
  EXPECT_EQ(v.mouseMode(), EchoMouseMode::Angle);
  // First point, vertex, last point: a vertical and a horizontal arm.
  click(v, QPointF(300, 150));
  click(v, QPointF(300, 400));
  EXPECT_TRUE(v.isDrawingMeasurement());
  click(v, QPointF(650, 400));
  ASSERT_EQ(v.measurements().size(), 1u);
  ASSERT_TRUE(v.measurements()[0].ok) << v.measurements()[0].statusText.toStdString();
  EXPECT_NEAR(v.measurements()[0].value, 90.0, 1e-9);
  EXPECT_EQ(v.measurementText(), QStringLiteral("90.0°"));
  EXPECT_EQ(v.findChild<QLabel*>(QStringLiteral("measureLabel"))->text(), QStringLiteral("Angle: 90.0°"));
  // Dragging the first arm, then a click: 3-4-5 gives acos(3/5) = 53.13 deg.
  QTest::mousePress(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, QPointF(300, 300)));
  QTest::mouseMove(v.glWidget(), at(v, QPointF(300, 200)) + QPoint(0, 20));
  QTest::mouseMove(v.glWidget(), at(v, QPointF(300, 200)));
  QTest::mouseRelease(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, QPointF(300, 200)));
  click(v, QPointF(460, 320));  // vertex (300, 200): arms (0, 100) and (160, 120) px
  ASSERT_EQ(v.measurements().size(), 2u);
  EXPECT_NEAR(v.measurements()[1].value, 53.13, 0.5);
  EXPECT_TRUE(greenNear(v, QPointF(380, 260))) << "the second arm is drawn";
}

TEST(EchoMeasure, UncalibratedAndCrossRegionTracesAreRefused) {
  REQUIRE_DISPLAY();
  EchoView v;
  if (!openShown(v, "us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm")) GTEST_SKIP() << "no execho file";
  ASSERT_TRUE(v.info().regions.empty());
  v.setMouseMode(EchoMouseMode::Area);
  for (QPointF p : {QPointF(20, 20), QPointF(100, 20), QPointF(100, 90)}) click(v, p);
  doubleClick(v, QPointF(20, 90));
  ASSERT_EQ(v.measurements().size(), 1u);
  EXPECT_FALSE(v.measurements()[0].ok);
  EXPECT_EQ(v.measurementText(), QStringLiteral("no area: no ultrasound region calibration in this image"));
  EXPECT_EQ(v.findChild<QLabel*>(QStringLiteral("measureLabel"))->text(), v.measurementText());
  v.setMouseMode(EchoMouseMode::Angle);
  for (QPointF p : {QPointF(20, 20), QPointF(60, 60), QPointF(100, 20)}) click(v, p);
  EXPECT_EQ(v.measurementText(), QStringLiteral("no angle: no ultrasound region calibration in this image"));

  // Aloka: two images side by side (x 32..335 and 336..639); a trace over both is refused.
  EchoView a;
  if (!openShown(a, "us_dicom/pydicom-data/gdcm-US-ALOKA-16.dcm")) GTEST_SKIP() << "no Aloka file";
  a.setMouseMode(EchoMouseMode::Area);
  for (QPointF p : {QPointF(250, 100), QPointF(450, 100), QPointF(450, 300)}) click(a, p);
  doubleClick(a, QPointF(250, 300));
  EXPECT_EQ(a.measurementText(), QStringLiteral("no area: the trace crosses ultrasound region boundaries"));
  for (QPointF p : {QPointF(100, 100), QPointF(300, 100), QPointF(300, 300)}) click(a, p);
  doubleClick(a, QPointF(100, 300));  // 200 x 200 px in the left image
  ASSERT_TRUE(a.measurements().back().ok) << a.measurementText().toStdString();
  const double expected = 40000 * 0.038265306502580643 * 0.038265306502580643;  // 58.57 cm^2
  EXPECT_NEAR(a.measurements().back().value, expected, expected * 0.01);
}

TEST(EchoMeasure, EscCancelsDeleteAndClearRemove) {
  REQUIRE_DISPLAY();
  EchoView v;
  if (!openShown(v, kPhilips)) GTEST_SKIP() << "no " << kPhilips;
  v.setFocus();
  QTest::keyClick(&v, Qt::Key_A);
  click(v, kTL);
  click(v, kTR);
  EXPECT_TRUE(v.isDrawingMeasurement());
  // Moving the mouse shows a dashed line to where the next vertex would go, without adding one.
  EXPECT_FALSE(colourNear(v, QPointF(600, 250), false));
  hoverTo(v, kBR);
  EXPECT_TRUE(colourNear(v, QPointF(600, 250), false)) << "dashed line from the last vertex to the cursor";
  EXPECT_TRUE(colourNear(v, QPointF(400, 100), false)) << "the edge being drawn";
  QTest::keyClick(&v, Qt::Key_Escape);
  EXPECT_FALSE(colourNear(v, QPointF(400, 100), false)) << "Esc removed the drawing";
  EXPECT_FALSE(v.isDrawingMeasurement());
  EXPECT_TRUE(v.measurements().empty());
  EXPECT_TRUE(v.measurementText().isEmpty());
  // After Esc the next click starts a new trace (not a third vertex of the old one).
  for (QPointF p : {kTL, kTR, kBR}) click(v, p);
  doubleClick(v, kBL);
  ASSERT_EQ(v.measurements().size(), 1u);
  EXPECT_EQ(v.measurements()[0].points.size(), 4u);
  // Angle: Esc after two points; then a distance (D) and Delete removes the last one.
  QTest::keyClick(&v, Qt::Key_G);
  click(v, QPointF(300, 150));
  click(v, QPointF(300, 400));
  QTest::keyClick(&v, Qt::Key_Escape);
  EXPECT_FALSE(v.isDrawingMeasurement());
  EXPECT_EQ(v.measurements().size(), 1u);
  QTest::keyClick(&v, Qt::Key_D);
  EXPECT_EQ(v.mouseMode(), EchoMouseMode::Measure);
  QTest::mousePress(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, QPointF(200, 450)));
  QTest::mouseMove(v.glWidget(), at(v, QPointF(600, 450)));
  QTest::mouseRelease(v.glWidget(), Qt::LeftButton, Qt::NoModifier, at(v, QPointF(600, 450)));
  ASSERT_EQ(v.measurements().size(), 2u);
  EXPECT_NEAR(v.measurements()[1].value, 400 * 0.026228787661969974, 0.05);  // 10.49 cm
  QTest::keyClick(&v, Qt::Key_Delete);
  ASSERT_EQ(v.measurements().size(), 1u);
  EXPECT_EQ(v.measurements()[0].kind, EchoMeasureKind::Area);
  EXPECT_TRUE(v.measurementText().endsWith(QStringLiteral(" cm²")));
  QTest::mouseClick(v.findChild<QToolButton*>(QStringLiteral("echoClearMeasurements")), Qt::LeftButton);
  EXPECT_TRUE(v.measurements().empty());
  EXPECT_TRUE(v.measurementText().isEmpty());
  // Ctrl+A is not the Area key.
  QTest::keyClick(&v, Qt::Key_P);
  QTest::keyClick(&v, Qt::Key_A, Qt::ControlModifier);
  EXPECT_EQ(v.mouseMode(), EchoMouseMode::Pan);
}
