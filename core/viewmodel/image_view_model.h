// Qt-free view state of a 2-D image viewer (the echo cine cells): window/level of the displayed
// grey values, zoom centred on a point, pan, and the viewport <-> image pixel mapping.
//
// Image pixels: (column, row), the centre of pixel (0, 0) at (0, 0), rows growing down.
// Viewport: widget pixels, origin top-left. At zoom 1 the whole image fits the viewport.
#pragma once

namespace e2e::vm {

struct ImagePoint {
  double x = 0, y = 0;
};

class ImageViewModel {
 public:
  static constexpr double kMinZoom = 0.5;
  static constexpr double kMaxZoom = 16.0;
  static constexpr double kMinWindow = 1.0;
  static constexpr double kMaxWindow = 1024.0;
  // The identity mapping of 8-bit stored values.
  static constexpr double kDefaultWindow = 255.0;
  static constexpr double kDefaultLevel = 127.5;

  // A new image or viewport size keeps zoom, pan and window/level (resetView() to clear them).
  void setImageSize(int cols, int rows);
  void setViewportSize(double width, double height);
  int cols() const { return cols_; }
  int rows() const { return rows_; }
  bool hasImage() const { return cols_ > 0 && rows_ > 0; }

  // ---- zoom and pan ----
  double zoom() const { return zoom_; }
  double fitScale() const;                 // viewport px per image px at zoom 1
  double scale() const { return fitScale() * zoom_; }
  ImagePoint centre() const { return centre_; }  // image point shown at the viewport centre
  // Multiplies the zoom by `factor` (clamped to [kMinZoom, kMaxZoom]) keeping the image point
  // under viewport point (vx, vy) where it is.
  void zoomAt(double factor, double vx, double vy);
  // Zoom factor of a mouse wheel turn (angle in 1/8 degree, 120 = one notch): 1.25 per notch.
  static double wheelFactor(double angleDelta);
  // Moves the image by (dx, dy) viewport pixels.
  void panBy(double dx, double dy);
  void resetView();                        // zoom 1, image centred
  bool isDefaultView() const;

  ImagePoint viewportToImage(double vx, double vy) const;
  ImagePoint imageToViewport(double ix, double iy) const;

  // ---- window/level ----
  double window() const { return window_; }
  double level() const { return level_; }
  void setWindowLevel(double window, double level);  // window clamped to [kMinWindow, kMaxWindow], level to [-512, 767]
  // Drag by (dx, dy) viewport pixels: right narrows/widens the window (+1 per pixel), down
  // darkens by raising the level (+1 per pixel), as on most PACS viewers.
  void dragWindowLevel(double dx, double dy);
  void resetWindowLevel();
  bool isDefaultWindowLevel() const;
  // Displayed grey (0..255) of a stored value under the current window/level (linear ramp,
  // clamped): level - window/2 -> 0, level + window/2 -> 255.
  double displayValue(double stored) const;

 private:
  int cols_ = 0, rows_ = 0;
  double vw_ = 1, vh_ = 1;
  double zoom_ = 1.0;
  ImagePoint centre_{};
  bool centred_ = true;  // centre_ follows the image centre until the user pans or zooms
  double window_ = kDefaultWindow, level_ = kDefaultLevel;
};

}  // namespace e2e::vm
