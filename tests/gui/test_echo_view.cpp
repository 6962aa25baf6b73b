// Drives the VTK echo viewer inside a QOpenGLWidget (needs an X display: xvfb-run), the echo
// grid and the main window; saves the screenshots of docs/screenshots.
#include <gtest/gtest.h>

#include <QComboBox>
#include <QDir>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTest>

#include "app/MainWindow.h"
#include "ecg/EcgView.h"
#include "echo/EchoView.h"
#include "gui_test_util.h"
#include "io/dicom_echo.h"
#include "test_util.h"

using namespace e2e;
using namespace e2e::ui;

#define REQUIRE_DISPLAY()                                                                   \
  do {                                                                                      \
    if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";    \
    test::app(true);                                                                        \
  } while (0)

namespace {
// 8 frames of 120 x 160 grey: a gradient, with a bright 20x20 block at the top-left whose
// column position moves with the frame index, and a dark bottom band.
std::shared_ptr<EchoFrames> syntheticFrames(int n = 8) {
  auto f = std::make_shared<EchoFrames>();
  f->rows = 120;
  f->cols = 160;
  f->frames = n;
  f->channels = 1;
  f->pixels.resize(static_cast<std::size_t>(n) * 120 * 160);
  for (int i = 0; i < n; ++i)
    for (int r = 0; r < 120; ++r)
      for (int c = 0; c < 160; ++c) {
        int v = 40 + c / 2;
        if (r < 20 && c >= 10 * i && c < 10 * i + 20) v = 250;
        if (r >= 100) v = 0;
        f->pixels[(static_cast<std::size_t>(i) * 120 + r) * 160 + c] = static_cast<std::uint8_t>(v);
      }
  return f;
}

EchoInfo syntheticInfo(int n = 8, double fps = 25.0) {
  EchoInfo info;
  info.rows = 120;
  info.cols = 160;
  info.frames = n;
  info.fps = fps;
  info.fpsSource = FrameRateSource::FrameTime;
  info.viewLabel = "A4C";
  info.viewSource = ViewLabelSource::Synthetic;
  info.sourcePath = "synthetic.dcm";
  UltrasoundRegion reg;
  reg.x0 = 0; reg.y0 = 0; reg.x1 = 159; reg.y1 = 119;
  reg.spatialFormat = 1;
  reg.unitsX = reg.unitsY = 3;
  reg.deltaX = reg.deltaY = 0.05;
  info.regions.push_back(reg);
  return info;
}

// Mean absolute difference between the rendered frame and the decoded frame, sampled at
// image pixel centres mapped to the framebuffer.
double meanAbsDiff(const EchoView& v, const QImage& fb, int frame) {
  const EchoFrames& f = *v.frames();
  const double dpr = fb.width() / static_cast<double>(v.glWidget()->width());
  double sum = 0;
  int n = 0;
  for (int r = 2; r < f.rows - 2; r += 5)
    for (int c = 2; c < f.cols - 2; c += 5) {
      const QPointF w = v.glWidget()->imageToWidget(QPointF(c, r)) * dpr;
      const QColor px = fb.pixelColor(static_cast<int>(w.x()), static_cast<int>(w.y()));
      const std::uint8_t* p = f.frame(frame) + (static_cast<std::size_t>(r) * f.cols + c) * f.channels;
      const int ref = f.channels == 3 ? (p[0] + p[1] + p[2]) / 3 : p[0];
      sum += std::abs(qGray(px.rgb()) - ref);
      ++n;
    }
  return n ? sum / n : 1e9;
}

bool waitUntil(const std::function<bool()>& cond, int maxMs = 8000) {
  for (int waited = 0; waited < maxMs; waited += 20) {
    if (cond()) return true;
    QTest::qWait(20);
  }
  return cond();
}
}  // namespace

TEST(EchoView, RendersTheDecodedFrameRowZeroOnTop) {
  REQUIRE_DISPLAY();
  EchoView v;
  v.resize(640, 560);
  v.setLoop(syntheticInfo(), syntheticFrames());
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  QImage fb = v.glWidget()->grabFramebuffer();
  ASSERT_FALSE(fb.isNull());
  EXPECT_GT(v.glWidget()->vtkRenderCount(), 0);
  // Not blank: both dark and bright pixels.
  int bright = 0, dark = 0;
  for (int y = 0; y < fb.height(); y += 4)
    for (int x = 0; x < fb.width(); x += 4) {
      const int g = qGray(fb.pixel(x, y));
      bright += g > 200;
      dark += g < 20;
    }
  EXPECT_GT(bright, 20);
  EXPECT_GT(dark, 20);
  EXPECT_LT(meanAbsDiff(v, fb, 0), 12.0);
  // Orientation: the bright block (rows 0-19) is at the top of the image, the black band at the bottom.
  const double dpr = fb.width() / static_cast<double>(v.glWidget()->width());
  const QPointF top = v.glWidget()->imageToWidget(QPointF(10, 8)) * dpr;
  const QPointF bottom = v.glWidget()->imageToWidget(QPointF(10, 110)) * dpr;
  EXPECT_GT(qGray(fb.pixel(top.toPoint())), 200);
  EXPECT_LT(qGray(fb.pixel(bottom.toPoint())), 30);
  // Outside the image (letterbox) is black.
  const QRectF ir = v.glWidget()->imageRectInWidget();
  ASSERT_TRUE(ir.left() > 5.0 || ir.top() > 5.0);
  const QPointF outside = ir.left() > 5.0 ? QPointF(2, ir.center().y()) : QPointF(ir.center().x(), 2);
  EXPECT_LT(qGray(fb.pixel((outside * dpr).toPoint())), 20);
  EXPECT_NEAR(ir.width() / ir.height(), 160.0 / 120.0, 0.01);  // square pixels
  // Another frame: the block has moved right by 10 columns per frame.
  v.setFrame(5);
  QApplication::processEvents();
  fb = v.glWidget()->grabFramebuffer();
  EXPECT_LT(meanAbsDiff(v, fb, 5), 12.0);
  EXPECT_GT(meanAbsDiff(v, fb, 0), meanAbsDiff(v, fb, 5) + 3.0);
}

TEST(EchoView, RendersRgbFrames) {
  REQUIRE_DISPLAY();
  auto f = std::make_shared<EchoFrames>();
  f->rows = 60;
  f->cols = 80;
  f->frames = 2;
  f->channels = 3;
  f->pixels.assign(static_cast<std::size_t>(2) * 60 * 80 * 3, 0);
  // Frame 0: left half red, right half blue (colour Doppler-like RGB).
  for (int r = 0; r < 60; ++r)
    for (int c = 0; c < 80; ++c) {
      auto* p = &f->pixels[(static_cast<std::size_t>(r) * 80 + c) * 3];
      if (c < 40) p[0] = 220; else p[2] = 220;
    }
  EchoInfo info = syntheticInfo(2, 30.0);
  info.rows = 60;
  info.cols = 80;
  EchoView v;
  v.resize(500, 450);
  v.setLoop(info, f);
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  const QImage fb = v.glWidget()->grabFramebuffer();
  const double dpr = fb.width() / static_cast<double>(v.glWidget()->width());
  const QColor left = fb.pixelColor((v.glWidget()->imageToWidget(QPointF(15, 40)) * dpr).toPoint());
  const QColor right = fb.pixelColor((v.glWidget()->imageToWidget(QPointF(65, 40)) * dpr).toPoint());
  EXPECT_GT(left.red(), 180);
  EXPECT_LT(left.blue(), 40);
  EXPECT_GT(right.blue(), 180);
  EXPECT_LT(right.red(), 40);
}

TEST(EchoView, PlayAdvancesStepAndLoop) {
  REQUIRE_DISPLAY();
  EchoView v;
  v.resize(400, 360);
  v.setLoop(syntheticInfo(8, 25.0), syntheticFrames());
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  EXPECT_EQ(v.fpsText(), QStringLiteral("25.0 fps (FrameTime)"));
  EXPECT_EQ(v.viewText(), QStringLiteral("View: A4C (Synthetic)"));
  EXPECT_EQ(v.currentFrame(), 0);
  v.play();
  EXPECT_TRUE(v.isPlaying());
  EXPECT_TRUE(waitUntil([&] { return v.currentFrame() >= 2; }));
  v.pause();
  EXPECT_FALSE(v.isPlaying());
  const int f = v.currentFrame();
  QTest::qWait(150);
  EXPECT_EQ(v.currentFrame(), f);  // paused
  EXPECT_EQ(v.glWidget()->shownFrame(), f);
  v.setFrame(0);
  v.step(-1);
  EXPECT_EQ(v.currentFrame(), 7);  // loop wraps
  QTest::keyClick(&v, Qt::Key_Right);
  EXPECT_EQ(v.currentFrame(), 0);
  QTest::keyClick(&v, Qt::Key_Right);
  EXPECT_EQ(v.currentFrame(), 1);
  QTest::keyClick(&v, Qt::Key_Space);
  EXPECT_TRUE(v.isPlaying());
  QTest::keyClick(&v, Qt::Key_Space);
  EXPECT_FALSE(v.isPlaying());
  v.setFrame(0);
  v.step(-1);
  v.setLoopPlayback(false);
  v.step(1);
  EXPECT_EQ(v.currentFrame(), 7);
  v.setSpeed(4.0);
  EXPECT_DOUBLE_EQ(v.cine().speed(), 2.0);
  // Without loop, playback stops on the last frame.
  v.setFrame(5);
  v.play();
  EXPECT_TRUE(waitUntil([&] { return !v.isPlaying(); }));
  EXPECT_EQ(v.currentFrame(), 7);
}

TEST(EchoView, CalibratedDistanceAndRefusal) {
  REQUIRE_DISPLAY();
  EchoView v;
  v.resize(640, 560);
  v.setLoop(syntheticInfo(), syntheticFrames());
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  auto r = v.measure(QPointF(20, 30), QPointF(50, 70));  // 30, 40 px -> 50 px x 0.05 cm
  ASSERT_TRUE(r.ok);
  EXPECT_NEAR(r.cm, 2.5, 1e-9);
  EXPECT_EQ(v.measurementText(), QStringLiteral("2.50 cm"));
  // The overlay line is drawn (green) between the points, and stays there over repaints
  // (direct framebuffer grabs and grabs of the parent widget).
  for (int pass = 0; pass < 3; ++pass) {
    v.glWidget()->update();
    QApplication::processEvents();
    const QImage fb = pass == 2 ? v.grab().toImage() : v.glWidget()->grabFramebuffer();
    const double dpr = pass == 2 ? 1.0 : fb.width() / static_cast<double>(v.glWidget()->width());
    const QPointF off = pass == 2 ? QPointF(v.glWidget()->pos()) : QPointF();
    const QPointF mid = (v.glWidget()->imageToWidget(QPointF(35, 50)) + off) * dpr;
    bool green = false;
    for (int dy = -3; dy <= 3 && !green; ++dy)
      for (int dx = -3; dx <= 3 && !green; ++dx) {
        const QColor c = fb.pixelColor(static_cast<int>(mid.x()) + dx, static_cast<int>(mid.y()) + dy);
        green = c.green() > 180 && c.red() < 160 && c.blue() < 180;
      }
    EXPECT_TRUE(green) << "pass " << pass;
  }
  // Mouse drag through the widget measures too.
  const QPoint a = v.glWidget()->imageToWidget(QPointF(10, 10)).toPoint();
  const QPoint b = v.glWidget()->imageToWidget(QPointF(110, 10)).toPoint();
  QTest::mousePress(v.glWidget(), Qt::LeftButton, Qt::NoModifier, a);
  QTest::mouseMove(v.glWidget(), b);
  QTest::mouseRelease(v.glWidget(), Qt::LeftButton, Qt::NoModifier, b);
  EXPECT_TRUE(v.measurementText().endsWith(QStringLiteral(" cm"))) << v.measurementText().toStdString();
  EXPECT_NEAR(v.measurementText().section(QLatin1Char(' '), 0, 0).toDouble(), 5.0, 0.15);
  // Without calibration: refused with a reason.
  EchoInfo info = syntheticInfo();
  info.regions.clear();
  v.setLoop(info, syntheticFrames());
  r = v.measure(QPointF(20, 30), QPointF(50, 70));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(v.measurementText().startsWith(QStringLiteral("no distance: no ultrasound region")));
}

TEST(EchoView, RealExecho8Frames) {
  REQUIRE_DISPLAY();
  const auto path = test::dataFile("us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm");
  EchoView v;
  v.resize(640, 560);
  v.openFile(QString::fromStdString(path.string()));
  v.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&v));
  ASSERT_TRUE(v.hasLoop());
  EXPECT_EQ(v.frames()->frames, 8);
  EXPECT_TRUE(v.fpsText().contains(QStringLiteral(" fps ("))) << v.fpsText().toStdString();
  QImage fb = v.glWidget()->grabFramebuffer();
  EXPECT_LT(meanAbsDiff(v, fb, 0), 20.0);
  v.play();
  EXPECT_TRUE(waitUntil([&] { return v.currentFrame() >= 1; }));
  v.pause();
  QApplication::processEvents();
  fb = v.glWidget()->grabFramebuffer();
  EXPECT_LT(meanAbsDiff(v, fb, v.currentFrame()), 20.0);
}

TEST(EchoGrid, GridsOfViews) {
  REQUIRE_DISPLAY();
  EchoGrid g;
  g.resize(900, 700);
  g.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&g));
  g.setGrid(1, 2);
  EXPECT_EQ(g.viewCount(), 2);
  g.setGrid(2, 2);
  EXPECT_EQ(g.viewCount(), 4);
  auto frames = syntheticFrames();
  EXPECT_EQ(g.addLoop(syntheticInfo(), frames), 0);
  EXPECT_EQ(g.addLoop(syntheticInfo(), frames), 1);
  EXPECT_EQ(g.addLoop(syntheticInfo(), frames), 2);
  QApplication::processEvents();
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(g.view(i)->isVisible());
    EXPECT_LT(meanAbsDiff(*g.view(i), g.view(i)->glWidget()->grabFramebuffer(), 0), 15.0);
  }
  EXPECT_FALSE(g.view(3)->hasLoop());
  g.playAll();
  EXPECT_TRUE(g.view(0)->isPlaying() && g.view(2)->isPlaying());
  g.pauseAll();
  g.setGrid(1, 1);
  EXPECT_TRUE(g.view(0)->isVisible());
  EXPECT_FALSE(g.view(1)->isVisible());
}

TEST(MainWindow, OpensRealFilesAndSavesScreenshots) {
  REQUIRE_DISPLAY();
  MainWindow w;
  w.resize(1600, 1000);
  w.show();
  ASSERT_TRUE(QTest::qWaitForWindowExposed(&w));
  const QString ecg = QString::fromStdString(test::dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm").string());
  const QString echo = QString::fromStdString(test::dataFile("us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm").string());
  ASSERT_TRUE(w.openPath(ecg, false));
  EXPECT_TRUE(w.ecgView()->hasRecord());
  EXPECT_EQ(w.tabs()->currentWidget(), w.ecgView());
  w.ecgView()->setLayoutKind(vm::EcgLayoutKind::Grid3x4Rhythm);
  w.echoGrid()->setGrid(1, 2);
  ASSERT_TRUE(w.openPath(echo, false));
  EXPECT_TRUE(w.echoGrid()->view(0)->hasLoop());
  EXPECT_EQ(w.tabs()->currentWidget(), w.echoGrid());
  w.echoGrid()->view(1)->setLoop(syntheticInfo(), syntheticFrames());
  w.echoGrid()->view(0)->setFrame(3);
  w.echoGrid()->view(0)->measure(QPointF(40, 40), QPointF(90, 80));
  w.echoGrid()->view(1)->setFrame(4);
  w.echoGrid()->view(1)->measure(QPointF(30, 40), QPointF(130, 90));
  EXPECT_FALSE(w.recentFiles().isEmpty());

  // docs/screenshots is refreshed with E2E_UPDATE_SCREENSHOTS=1; otherwise a temporary folder.
  QTemporaryDir tmp;
  const bool update = qEnvironmentVariableIntValue("E2E_UPDATE_SCREENSHOTS") == 1;
  const QString dir = update ? QString::fromUtf8(E2E_SCREENSHOT_DIR) : tmp.path();
  const QStringList saved = w.saveScreenshots(dir);
  EXPECT_EQ(saved.size(), 8);  // + network_settings, query_pacs, received_objects
  {
    const QImage ret(QDir(dir).filePath(QStringLiteral("retrieval.png")));  // the similar-studies panel
    EXPECT_FALSE(ret.isNull());
    EXPECT_GT(ret.width(), 200);
  }
  for (const QString& name : {QStringLiteral("ecg_paper.png"), QStringLiteral("ecg_view.png"), QStringLiteral("echo_grid.png"),
                              QStringLiteral("main_window.png"), QStringLiteral("network_settings.png"),
                              QStringLiteral("query_pacs.png")}) {
    const QImage img(QDir(dir).filePath(name));
    EXPECT_FALSE(img.isNull()) << name.toStdString();
    EXPECT_GT(img.width(), 400);
  }
  // Recent files are persisted.
  {
    MainWindow other;
    EXPECT_EQ(other.recentFiles(), w.recentFiles());
  }
  // A file that is neither: refused, with the reason, and not added to the recent files.
  const int recent = w.recentFiles().size();
  EXPECT_FALSE(w.openPath(QStringLiteral("/nonexistent/file.dcm"), false));
  EXPECT_EQ(w.recentFiles().size(), recent);
}
