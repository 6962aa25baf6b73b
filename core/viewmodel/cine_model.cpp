#include "viewmodel/cine_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace e2e::vm {

CineModel::CineModel(int frames, double fps, const std::vector<double>& frameTimesMs)
    : frames_(std::max(0, frames)), fps_(fps > 0 ? fps : 30.0) {
  starts_.assign(static_cast<std::size_t>(frames_) + 1, 0.0);
  const double period = 1000.0 / fps_;
  bool vectorOk = frames_ > 1 && frameTimesMs.size() == static_cast<std::size_t>(frames_);
  if (vectorOk)
    for (std::size_t i = 1; i < frameTimesMs.size(); ++i)
      if (!(frameTimesMs[i] > 0)) vectorOk = false;
  useVector_ = vectorOk;
  for (int i = 1; i <= frames_; ++i) {
    double d = period;
    if (useVector_) {
      // Increment from frame i-1 to frame i; the last frame is shown as long as the previous one.
      d = (i < frames_) ? frameTimesMs[static_cast<std::size_t>(i)] : frameTimesMs[static_cast<std::size_t>(frames_ - 1)];
    }
    starts_[static_cast<std::size_t>(i)] = starts_[static_cast<std::size_t>(i - 1)] + d;
  }
}

CineModel CineModel::fromInfo(const EchoInfo& info) {
  return CineModel(info.frames, info.fps, info.frameTimesMs);
}

void CineModel::setSpeed(double s) {
  if (!std::isfinite(s)) return;
  speed_ = std::clamp(s, kMinSpeed, kMaxSpeed);
}

double CineModel::frameStartMs(int i) const {
  if (frames_ == 0) return 0.0;
  i = std::clamp(i, 0, frames_);
  return starts_[static_cast<std::size_t>(i)];
}

double CineModel::frameDurationMs(int i) const {
  if (frames_ == 0) return 1000.0 / fps_;
  i = std::clamp(i, 0, frames_ - 1);
  return starts_[static_cast<std::size_t>(i) + 1] - starts_[static_cast<std::size_t>(i)];
}

double CineModel::durationMs() const { return frames_ ? starts_.back() : 0.0; }

int CineModel::frameAt(double elapsedMs, int startFrame) const {
  if (frames_ <= 0) return 0;
  startFrame = std::clamp(startFrame, 0, frames_ - 1);
  const double total = durationMs();
  double t = frameStartMs(startFrame) + std::max(0.0, elapsedMs) * speed_;
  if (loop_) {
    t = std::fmod(t, total);
  } else if (t >= total) {
    return frames_ - 1;
  }
  // Last frame whose start <= t.
  auto it = std::upper_bound(starts_.begin(), starts_.end() - 1, t + 1e-9);
  return std::clamp(static_cast<int>(it - starts_.begin()) - 1, 0, frames_ - 1);
}

bool CineModel::finishedAt(double elapsedMs, int startFrame) const {
  if (loop_ || frames_ <= 0) return false;
  startFrame = std::clamp(startFrame, 0, frames_ - 1);
  return frameStartMs(startFrame) + std::max(0.0, elapsedMs) * speed_ >= durationMs();
}

int CineModel::step(int current, int delta) const {
  if (frames_ <= 0) return 0;
  long long i = static_cast<long long>(current) + delta;
  if (loop_) {
    i %= frames_;
    if (i < 0) i += frames_;
    return static_cast<int>(i);
  }
  return static_cast<int>(std::clamp<long long>(i, 0, frames_ - 1));
}

std::string fpsText(double fps, FrameRateSource src) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.1f fps (%s)", fps, toString(src));
  return buf;
}

}  // namespace e2e::vm
