// Reading an echo loop (issue 20): zoom at the cursor (wheel), pan (middle-drag or the Pan
// tool), window/level (right-drag or the tool) with reset, the measurement still right when
// zoomed, and each cell titled with patient, study date and view/file. Needs an X display
// (xvfb-run): the cells render with VTK in a QOpenGLWidget.
#include <gtest/gtest.h>

#include <QApplication>
#include <QComboBox>
#include <QToolButton>
#include <QTest>
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
// 4 frames of 120 x 160 grey: each column's value is 40 + column / 2 (40..119).
std::shared_ptr<EchoFrames> rampFrames() {
  auto f = std::make_shared<EchoFrames>();
  f->rows = 120;
  f->cols = 160;
  f->frames = 4;
  f->pixels.resize(4u * 120 * 160);
  for (int i = 0; i < 4; ++i)
    for (int r = 0; r < 120; ++r)
      for (int c = 0; c < 160; ++c) f->pixels[(static_cast<std::size_t>(i) * 120 + r) * 160 + c] = static_cast<std::uint8_t>(40 + c / 2);
  return f;
}

EchoInfo rampInfo() {
  EchoInfo info;
  info.rows = 120;
  info.cols = 160;
  info.frames = 4;
  info.fps = 25;
  info.fpsSource = FrameRateSource::FrameTime;
  info.viewLabel = "A2C";
  info.viewSource = ViewLabelSource::Synthetic;
  info.sourcePath = "/data/study1/echo_A2C.dcm";
  info.identity.patientName = "DOE^JANE";
  info.identity.studyDate = "20231022";
  UltrasoundRegion reg;
  reg.x0 = 0; reg.y0 = 0; reg.x1 = 159; reg.y1 = 119;
  reg.spatialFormat = 1;
  reg.unitsX = reg.unitsY = 3;
  reg.deltaX = reg.deltaY = 0.05;
  info.regions.push_back(reg);
  return info;
}

void wheel(QWidget* w, const QPointF& at, int angle) {
  QWheelEvent e(at, w->mapToGlobal(at), QPoint(), QPoint(0, angle), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(w, &e);
}

// Grey of image pixel (col, row) as rendered in the framebuffer.
int renderedGrey(const EchoView& v, double col, double row) {
  v.glWidget()->update();
  QApplication::processEvents();
  const QImage fb = v.glWidget()->grabFramebuffer();
  const double dpr = fb.width() / static_cast<double>(v.glWidget()->width());
  const QPointF p = v.glWidget()->imageToWidget(QPointF(col, row)) * dpr;
  return qGray(fb.pixel(p.toPoint()));
}
}  // namespace

TEST(EchoReading, CellTitleHasPatientDateAndViewFile) {
  test::app();
  EXPECT_EQ(echoCellTitle(rampInfo()), QStringLiteral("DOE, JANE   2023-10-22   A2C   echo_A2C.dcm"));
  EchoInfo named = rampInfo();
  named.identity.patientName = "Doe^John^Q";  // the workstation's one name format (common/person_name.h)
  EXPECT_TRUE(echoCellTitle(named).startsWith(QStringLiteral("DOE, John Q   2023-10-22"))) << echoCellTitle(named).toStdString();
  EchoInfo anon = rampInfo();
  anon.identity = Identity{};
  anon.viewLabel.clear();
  EXPECT_EQ(echoCellTitle(anon), QStringLiteral("(no name)   (no date)   view ?   echo_A2C.dcm"));
  anon.identity.studyDate = "1994.01.01";  // ACR-NEMA style
  EXPECT_EQ(echoCellTitle(anon), QStringLiteral("(no name)   1994-01-01   view ?   echo_A2C.dcm"));
  anon.identity.studyDate = "1994.1.1";  // not a date we can read: shown as stored
  EXPECT_EQ(echoCellTitle(anon), QStringLiteral("(no name)   1994.1.1   view ?   echo_A2C.dcm"));
}

TEST(EchoReading, WheelZoomsAtTheCursorAndMiddleDragPans) {
  REQUIRE_DISPLAY();
  EchoView v;
  v.resize(640, 560);
  v.setLoop(rampInfo(), rampFrames());
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  EXPECT_EQ(v.titleText(), echoCellTitle(rampInfo()));
  auto* gl = v.glWidget();
  const QPointF cursor(gl->width() * 0.7, gl->height() * 0.4);
  const QPointF under = gl->widgetToImage(cursor);
  const double s0 = v.imageView().scale();
  wheel(gl, cursor, 240);  // two notches in
  EXPECT_NEAR(v.imageView().zoom(), 1.5625, 1e-9);
  EXPECT_NEAR(v.imageView().scale(), s0 * 1.5625, 1e-9);
  const QPointF still = gl->widgetToImage(cursor);
  EXPECT_NEAR(still.x(), under.x(), 1e-6);
  EXPECT_NEAR(still.y(), under.y(), 1e-6);
  // What is drawn follows: the column under the cursor has its own grey.
  EXPECT_NEAR(renderedGrey(v, under.x(), under.y()), 40 + static_cast<int>(under.x()) / 2, 3);

  // Middle-drag pans by the mouse movement.
  const QPointF before = gl->imageToWidget(QPointF(80, 60));
  const QPoint a = QPoint(200, 200), b = QPoint(260, 180);
  QTest::mousePress(gl, Qt::MiddleButton, Qt::NoModifier, a);
  QTest::mouseMove(gl, b);
  QTest::mouseRelease(gl, Qt::MiddleButton, Qt::NoModifier, b);
  const QPointF after = gl->imageToWidget(QPointF(80, 60));
  EXPECT_NEAR(after.x() - before.x(), 60, 1.0);
  EXPECT_NEAR(after.y() - before.y(), -20, 1.0);
  EXPECT_FALSE(v.imageView().isDefaultView());

  // Measuring while zoomed still gives the calibrated distance (100 px x 0.05 cm).
  const auto r = v.measure(QPointF(20, 30), QPointF(120, 30));
  ASSERT_TRUE(r.ok);
  EXPECT_NEAR(r.cm, 5.0, 1e-9);
  const QPoint m0 = gl->imageToWidget(QPointF(30, 50)).toPoint(), m1 = gl->imageToWidget(QPointF(70, 50)).toPoint();
  QTest::mousePress(gl, Qt::LeftButton, Qt::NoModifier, m0);
  QTest::mouseMove(gl, m1);
  QTest::mouseRelease(gl, Qt::LeftButton, Qt::NoModifier, m1);
  EXPECT_NEAR(v.measurementText().section(QLatin1Char(' '), 0, 0).toDouble(), 2.0, 0.1) << v.measurementText().toStdString();

  // Reset: fit and centred again.
  QTest::mouseClick(v.findChild<QToolButton*>(QStringLiteral("echoResetView")), Qt::LeftButton);
  EXPECT_TRUE(v.imageView().isDefaultView());
  EXPECT_NEAR(v.imageView().scale(), s0, 1e-9);
}

TEST(EchoReading, RightDragSetsWindowLevelAndTheImageFollows) {
  REQUIRE_DISPLAY();
  EchoView v;
  v.resize(640, 560);
  v.setLoop(rampInfo(), rampFrames());
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  auto* gl = v.glWidget();
  // Stored 60 at column 40 is shown as 60 at the default window/level.
  EXPECT_NEAR(renderedGrey(v, 40, 60), 60, 3);
  // Right-drag 155 px left and 38 px up: window 255 -> 100, level 127.5 -> 89.5.
  const QPoint a(400, 300), b(245, 262);
  QTest::mousePress(gl, Qt::RightButton, Qt::NoModifier, a);
  QTest::mouseMove(gl, b);
  QTest::mouseRelease(gl, Qt::RightButton, Qt::NoModifier, b);
  EXPECT_DOUBLE_EQ(v.imageView().window(), 100.0);
  EXPECT_DOUBLE_EQ(v.imageView().level(), 89.5);
  EXPECT_TRUE(v.imageView().isDefaultView()) << "window/level does not move the image";
  // Stored 60 -> (60 - 39.5) / 100 * 255 = 52; stored 110 (column 140) -> 180.
  EXPECT_NEAR(renderedGrey(v, 40, 60), v.imageView().displayValue(60), 4);
  EXPECT_NEAR(renderedGrey(v, 140, 60), v.imageView().displayValue(110), 4);
  EXPECT_NEAR(v.imageView().displayValue(110), 179.8, 0.1);

  // The Window/level tool does the same with the left button; measurement stays off meanwhile.
  v.setMouseMode(EchoMouseMode::WindowLevel);
  EXPECT_EQ(v.findChild<QComboBox*>(QStringLiteral("echoTool"))->currentText(), QStringLiteral("Window/level"));
  QTest::mousePress(gl, Qt::LeftButton, Qt::NoModifier, a);
  QTest::mouseMove(gl, a + QPoint(20, 0));
  QTest::mouseRelease(gl, Qt::LeftButton, Qt::NoModifier, a + QPoint(20, 0));
  EXPECT_DOUBLE_EQ(v.imageView().window(), 120.0);
  EXPECT_TRUE(v.measurementText().isEmpty());
  // Pan tool.
  v.setMouseMode(EchoMouseMode::Pan);
  QTest::mousePress(gl, Qt::LeftButton, Qt::NoModifier, a);
  QTest::mouseMove(gl, a + QPoint(-30, 10));
  QTest::mouseRelease(gl, Qt::LeftButton, Qt::NoModifier, a + QPoint(-30, 10));
  EXPECT_FALSE(v.imageView().isDefaultView());
  // A new loop starts at the stored values, fitted.
  v.setLoop(rampInfo(), rampFrames());
  EXPECT_TRUE(v.imageView().isDefaultWindowLevel());
  EXPECT_TRUE(v.imageView().isDefaultView());
  EXPECT_NEAR(renderedGrey(v, 40, 60), 60, 3);
}

TEST(EchoReading, RealEchoOpensTitledAndZooms) {
  REQUIRE_DISPLAY();
  const auto path = test::dataFile("us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm");
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "no " << path;
  EchoView v;
  v.resize(640, 560);
  v.openFile(QString::fromStdString(path.string()));
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  EXPECT_TRUE(v.titleText().endsWith(QStringLiteral("US-MONO2-8-8x-execho.dcm"))) << v.titleText().toStdString();
  const EchoInfo info = readDicomEchoInfo(path.string());
  EXPECT_EQ(v.titleText(), echoCellTitle(info));
  wheel(v.glWidget(), QPointF(100, 100), -120);
  EXPECT_NEAR(v.imageView().zoom(), 0.8, 1e-9);
}
