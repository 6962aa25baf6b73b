// Qt-free cine (echo loop playback) model: which frame to show after a given elapsed
// playback time, at the acquired frame rate (or the per-frame FrameTimeVector) and a
// playback speed of 0.25x .. 2x, with looping and stepping.
#pragma once

#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::vm {

class CineModel {
 public:
  static constexpr double kMinSpeed = 0.25;
  static constexpr double kMaxSpeed = 2.0;

  CineModel() = default;
  // frameTimesMs: DICOM FrameTimeVector (increment from the previous frame, the first is 0);
  // ignored unless it has exactly `frames` values. fps <= 0 falls back to 30.
  CineModel(int frames, double fps, const std::vector<double>& frameTimesMs = {});
  static CineModel fromInfo(const EchoInfo& info);

  int frames() const { return frames_; }
  double fps() const { return fps_; }
  bool usesFrameTimeVector() const { return useVector_; }

  double speed() const { return speed_; }
  void setSpeed(double s);              // clamped to [0.25, 2]
  bool loop() const { return loop_; }
  void setLoop(bool on) { loop_ = on; }

  double frameStartMs(int i) const;     // media time at which frame i starts
  double frameDurationMs(int i) const;  // how long frame i is shown (media time, speed 1)
  double durationMs() const;            // one loop

  // Frame shown `elapsedMs` of wall-clock time after playback started at `startFrame`.
  // Looping wraps; without loop it stops on the last frame.
  int frameAt(double elapsedMs, int startFrame = 0) const;
  // True when, without loop, playback from startFrame has reached its end after elapsedMs.
  bool finishedAt(double elapsedMs, int startFrame = 0) const;
  // Wall-clock interval until the next frame when showing frame i (for a QTimer).
  double intervalMs(int i) const { return frameDurationMs(i) / speed_; }
  // Step by delta frames: wraps when looping, else clamps to [0, frames-1].
  int step(int current, int delta) const;

 private:
  int frames_ = 0;
  double fps_ = 30.0;
  bool useVector_ = false;
  std::vector<double> starts_;  // size frames_ + 1 (the last is the loop end)
  double speed_ = 1.0;
  bool loop_ = true;
};

// "30.0 fps (FrameTime)"
std::string fpsText(double fps, FrameRateSource src);

}  // namespace e2e::vm
