// The echo cell's calibrated measurements (distance, area by trace, angle): the drawing state
// machine driven by the mouse in image pixels, the finished measurements (kept in image
// coordinates, so they follow zoom and pan), and their painting. Values come from core
// (viewmodel/us_measure.h, viewmodel/us_area_angle.h); refusals keep core's reason.
#pragma once

#include <QFont>
#include <QPointF>
#include <QRectF>
#include <QString>
#include <functional>
#include <optional>
#include <vector>

#include "common/types.h"

class QPainter;

namespace e2e::ui {

enum class EchoMeasureKind { Distance, Area, Angle };

struct EchoMeasurement {
  EchoMeasureKind kind = EchoMeasureKind::Distance;
  std::vector<QPointF> points;  // image pixels (column, row); the angle's vertex is points[1]
  bool ok = false;
  double value = kNaN;  // cm, cm^2 or degrees
  QString valueText;    // "2.50 cm", "12.34 cm²", "90.0°"; empty when refused
  QString statusText;   // "Area: 12.34 cm²   perimeter 13.20 cm" or "no area: <reason>"
};

// Value and texts of a measurement from its points and the image's ultrasound regions.
EchoMeasurement evaluateMeasurement(EchoMeasureKind kind, std::vector<QPointF> points,
                                    const std::vector<UltrasoundRegion>& regions);

// Distance: press, drag, release. Area: click vertices (a click near the first point or a
// double-click closes), or press and drag a freehand trace that closes on release. Angle: click
// the first point, the vertex and the last point (or drag the first arm, then click). Each
// event returns true when a measurement was finished (appended to measurements()).
class EchoMeasureTool {
 public:
  void setRegions(std::vector<UltrasoundRegion> regions) { regions_ = std::move(regions); }
  void setKind(EchoMeasureKind k);  // drops the measurement being drawn
  EchoMeasureKind kind() const { return kind_; }

  // `snap`: closing distance, `minStep`: freehand spacing, both in image pixels.
  bool press(QPointF p, double snap);
  bool drag(QPointF p, double minStep);
  bool release(QPointF p);
  bool doubleClick(QPointF p);
  void hover(QPointF p);  // no button: where the next point would go (drawn as a dashed line)
  bool cancel();      // Esc: drops the measurement being drawn; false when there was none
  bool removeLast();  // deletes the last finished measurement; false when there was none
  void clear();
  const EchoMeasurement& add(EchoMeasureKind kind, std::vector<QPointF> points);  // finished

  const std::vector<EchoMeasurement>& measurements() const { return done_; }
  const std::optional<EchoMeasurement>& current() const { return current_; }
  const std::optional<QPointF>& hovered() const { return hover_; }
  bool drawing() const { return current_.has_value(); }

 private:
  bool finish();
  void refreshCurrent();
  std::vector<UltrasoundRegion> regions_;
  EchoMeasureKind kind_ = EchoMeasureKind::Distance;
  std::vector<EchoMeasurement> done_;
  std::optional<EchoMeasurement> current_;
  bool pressStarted_ = false;  // this press began the measurement
  bool traced_ = false;        // this press has dragged out freehand points
  double snap_ = 0.0;          // the last press's closing distance
  std::optional<QPointF> hover_;
};

// Paints the finished measurements and the one being drawn, `toWidget` mapping image pixels to
// widget pixels; value labels are kept inside `bounds` (widget pixels).
void paintMeasurements(QPainter& p, const EchoMeasureTool& tool, const std::function<QPointF(QPointF)>& toWidget,
                       const QFont& font, const QRectF& bounds);

}  // namespace e2e::ui
