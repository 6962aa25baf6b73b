#include "viewmodel/image_view_model.h"

#include <algorithm>
#include <cmath>

namespace e2e::vm {

void ImageViewModel::setImageSize(int cols, int rows) {
  cols_ = std::max(0, cols);
  rows_ = std::max(0, rows);
  if (centred_) centre_ = {(cols_ - 1) / 2.0, (rows_ - 1) / 2.0};
}

void ImageViewModel::setViewportSize(double w, double h) {
  vw_ = std::max(1.0, w);
  vh_ = std::max(1.0, h);
}

double ImageViewModel::fitScale() const {
  if (!hasImage()) return 1.0;
  return std::min(vw_ / cols_, vh_ / rows_);
}

void ImageViewModel::zoomAt(double factor, double vx, double vy) {
  if (!hasImage() || !(factor > 0) || !std::isfinite(factor)) return;
  const ImagePoint fixed = viewportToImage(vx, vy);
  zoom_ = std::clamp(zoom_ * factor, kMinZoom, kMaxZoom);
  const double s = scale();
  centre_ = {fixed.x - (vx - vw_ / 2.0) / s, fixed.y - (vy - vh_ / 2.0) / s};
  centred_ = false;
}

double ImageViewModel::wheelFactor(double angleDelta) { return std::pow(1.25, angleDelta / 120.0); }

void ImageViewModel::panBy(double dx, double dy) {
  if (!hasImage() || !std::isfinite(dx) || !std::isfinite(dy)) return;
  const double s = scale();
  centre_.x -= dx / s;
  centre_.y -= dy / s;
  // Keep at least part of the image in view: the centre stays within the image bounds.
  centre_.x = std::clamp(centre_.x, -0.5, cols_ - 0.5);
  centre_.y = std::clamp(centre_.y, -0.5, rows_ - 0.5);
  centred_ = false;
}

void ImageViewModel::resetView() {
  zoom_ = 1.0;
  centred_ = true;
  centre_ = {(cols_ - 1) / 2.0, (rows_ - 1) / 2.0};
}

bool ImageViewModel::isDefaultView() const { return centred_ && zoom_ == 1.0; }

ImagePoint ImageViewModel::viewportToImage(double vx, double vy) const {
  const double s = scale();
  return {(vx - vw_ / 2.0) / s + centre_.x, (vy - vh_ / 2.0) / s + centre_.y};
}

ImagePoint ImageViewModel::imageToViewport(double ix, double iy) const {
  const double s = scale();
  return {(ix - centre_.x) * s + vw_ / 2.0, (iy - centre_.y) * s + vh_ / 2.0};
}

void ImageViewModel::setWindowLevel(double w, double l) {
  if (!std::isfinite(w) || !std::isfinite(l)) return;
  window_ = std::clamp(w, kMinWindow, kMaxWindow);
  level_ = std::clamp(l, -512.0, 767.0);
}

void ImageViewModel::dragWindowLevel(double dx, double dy) { setWindowLevel(window_ + dx, level_ + dy); }

void ImageViewModel::resetWindowLevel() {
  window_ = kDefaultWindow;
  level_ = kDefaultLevel;
}

bool ImageViewModel::isDefaultWindowLevel() const { return window_ == kDefaultWindow && level_ == kDefaultLevel; }

double ImageViewModel::displayValue(double stored) const {
  const double v = (stored - (level_ - window_ / 2.0)) / window_ * 255.0;
  return std::clamp(v, 0.0, 255.0);
}

}  // namespace e2e::vm
