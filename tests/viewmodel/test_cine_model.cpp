#include <gtest/gtest.h>

#include "viewmodel/cine_model.h"

using namespace e2e;
using namespace e2e::vm;

TEST(CineModel, FrameFromElapsedTimeAtFps) {
  CineModel m(8, 25.0);  // 40 ms per frame
  EXPECT_DOUBLE_EQ(m.durationMs(), 320.0);
  EXPECT_EQ(m.frameAt(0), 0);
  EXPECT_EQ(m.frameAt(39.9), 0);
  EXPECT_EQ(m.frameAt(40.0), 1);
  EXPECT_EQ(m.frameAt(125.0), 3);
  EXPECT_EQ(m.frameAt(319.0), 7);
  EXPECT_EQ(m.frameAt(330.0), 0);  // looped
  EXPECT_EQ(m.frameAt(40.0, 7), 0);
  EXPECT_DOUBLE_EQ(m.intervalMs(0), 40.0);
}

TEST(CineModel, SpeedScalesPlaybackAndIsClamped) {
  CineModel m(10, 10.0);  // 100 ms per frame
  m.setSpeed(2.0);
  EXPECT_EQ(m.frameAt(100.0), 2);
  EXPECT_DOUBLE_EQ(m.intervalMs(0), 50.0);
  m.setSpeed(0.25);
  EXPECT_EQ(m.frameAt(399.0), 0);
  EXPECT_EQ(m.frameAt(400.0), 1);
  EXPECT_DOUBLE_EQ(m.intervalMs(0), 400.0);
  m.setSpeed(8.0);
  EXPECT_DOUBLE_EQ(m.speed(), 2.0);
  m.setSpeed(0.01);
  EXPECT_DOUBLE_EQ(m.speed(), 0.25);
}

TEST(CineModel, NoLoopStopsOnLastFrame) {
  CineModel m(5, 10.0);
  m.setLoop(false);
  EXPECT_EQ(m.frameAt(450.0), 4);
  EXPECT_FALSE(m.finishedAt(450.0));
  EXPECT_EQ(m.frameAt(10000.0), 4);
  EXPECT_TRUE(m.finishedAt(500.0));
  EXPECT_TRUE(m.finishedAt(100.0, 4));
}

TEST(CineModel, FrameTimeVector) {
  // First increment is 0 (DICOM); then 10, 20, 30, 40 ms.
  CineModel m(5, 30.0, {0, 10, 20, 30, 40});
  EXPECT_TRUE(m.usesFrameTimeVector());
  EXPECT_DOUBLE_EQ(m.frameStartMs(1), 10.0);
  EXPECT_DOUBLE_EQ(m.frameStartMs(2), 30.0);
  EXPECT_DOUBLE_EQ(m.frameStartMs(4), 100.0);
  EXPECT_DOUBLE_EQ(m.frameDurationMs(4), 40.0);
  EXPECT_DOUBLE_EQ(m.durationMs(), 140.0);
  EXPECT_EQ(m.frameAt(9.0), 0);
  EXPECT_EQ(m.frameAt(10.0), 1);
  EXPECT_EQ(m.frameAt(29.0), 1);
  EXPECT_EQ(m.frameAt(30.0), 2);
  EXPECT_EQ(m.frameAt(99.0), 3);
  EXPECT_EQ(m.frameAt(139.0), 4);
  EXPECT_EQ(m.frameAt(145.0), 0);
  // A wrong-length vector is ignored in favour of the fps.
  CineModel bad(5, 20.0, {0, 10});
  EXPECT_FALSE(bad.usesFrameTimeVector());
  EXPECT_DOUBLE_EQ(bad.frameStartMs(2), 100.0);
}

TEST(CineModel, Stepping) {
  CineModel m(8, 30.0);
  EXPECT_EQ(m.step(7, 1), 0);
  EXPECT_EQ(m.step(0, -1), 7);
  EXPECT_EQ(m.step(3, 10), 5);
  m.setLoop(false);
  EXPECT_EQ(m.step(7, 1), 7);
  EXPECT_EQ(m.step(0, -1), 0);
  EXPECT_EQ(m.step(3, 2), 5);
}

TEST(CineModel, FromInfoAndDefaults) {
  EchoInfo info;
  info.frames = 8;
  info.fps = 0;  // unknown
  auto m = CineModel::fromInfo(info);
  EXPECT_DOUBLE_EQ(m.fps(), 30.0);
  EXPECT_EQ(m.frames(), 8);
  CineModel empty;
  EXPECT_EQ(empty.frameAt(100), 0);
  EXPECT_EQ(fpsText(30.0, FrameRateSource::FrameTime), "30.0 fps (FrameTime)");
}
