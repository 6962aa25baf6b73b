#include "echo/EchoMeasureOverlay.h"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPath>
#include <QPolygonF>

#include <algorithm>
#include <cmath>

#include "viewmodel/us_area_angle.h"
#include "viewmodel/us_measure.h"

namespace e2e::ui {

namespace {
double dist(QPointF a, QPointF b) { return std::hypot(a.x() - b.x(), a.y() - b.y()); }

std::vector<vm::PixelPoint> pixels(const std::vector<QPointF>& pts) {
  std::vector<vm::PixelPoint> out;
  out.reserve(pts.size());
  for (const QPointF& p : pts) out.push_back({p.x(), p.y()});
  return out;
}

void setResult(EchoMeasurement& m, bool ok, double value, const QString& valueText, const QString& status,
               const QString& what, const std::string& reason) {
  m.ok = ok;
  m.value = ok ? value : kNaN;
  m.valueText = ok ? valueText : QString();
  m.statusText = ok ? status : QStringLiteral("no %1: %2").arg(what, QString::fromStdString(reason));
}
}  // namespace

EchoMeasurement evaluateMeasurement(EchoMeasureKind kind, std::vector<QPointF> points,
                                    const std::vector<UltrasoundRegion>& regions) {
  EchoMeasurement m;
  m.kind = kind;
  m.points = std::move(points);
  const auto& pts = m.points;
  if (kind == EchoMeasureKind::Distance) {
    const QPointF a = pts.empty() ? QPointF() : pts.front(), b = pts.empty() ? QPointF() : pts.back();
    const auto r = vm::regionDistanceCm(regions, a.x(), a.y(), b.x(), b.y());
    const QString v = QStringLiteral("%1 cm").arg(r.cm, 0, 'f', 2);
    setResult(m, r.ok, r.cm, v, QStringLiteral("Distance: ") + v, QStringLiteral("distance"), r.reason);
  } else if (kind == EchoMeasureKind::Area) {
    const auto r = vm::regionAreaCm2(regions, pixels(pts));
    const QString v = QStringLiteral("%1 cm²").arg(r.cm2, 0, 'f', 2);
    setResult(m, r.ok, r.cm2, v, QStringLiteral("Area: %1   perimeter %2 cm").arg(v).arg(r.perimeterCm, 0, 'f', 2),
              QStringLiteral("area"), r.reason);
  } else {
    vm::AngleResult r;
    if (pts.size() == 3) r = vm::regionAngleDeg(regions, {pts[0].x(), pts[0].y()}, {pts[1].x(), pts[1].y()}, {pts[2].x(), pts[2].y()});
    else r.reason = "an angle needs three points";
    const QString v = QStringLiteral("%1°").arg(r.degrees, 0, 'f', 1);
    setResult(m, r.ok, r.degrees, v, QStringLiteral("Angle: ") + v, QStringLiteral("angle"), r.reason);
  }
  return m;
}

// ------------------------------------------------------------------ tool ----

void EchoMeasureTool::setKind(EchoMeasureKind k) {
  kind_ = k;
  cancel();
}

bool EchoMeasureTool::press(QPointF p, double snap) {
  traced_ = false;
  snap_ = snap;
  hover_.reset();
  pressStarted_ = !current_ || kind_ == EchoMeasureKind::Distance;
  if (pressStarted_) {
    current_ = EchoMeasurement{};
    current_->kind = kind_;
    current_->points = {p};
    if (kind_ == EchoMeasureKind::Distance) current_->points.push_back(p);
    refreshCurrent();
    return false;
  }
  auto& pts = current_->points;
  if (kind_ == EchoMeasureKind::Area && pts.size() >= 3 && dist(p, pts.front()) <= snap) return finish();
  if (kind_ != EchoMeasureKind::Angle || pts.size() < 3) pts.push_back(p);
  refreshCurrent();
  return false;
}

bool EchoMeasureTool::drag(QPointF p, double minStep) {
  if (!current_) return false;
  auto& pts = current_->points;
  if (kind_ == EchoMeasureKind::Area) {
    if (dist(p, pts.back()) < minStep) return false;
    pts.push_back(p);
    traced_ = true;
  } else if (kind_ == EchoMeasureKind::Angle && pts.size() == 1) {
    if (dist(p, pts.back()) < std::max(minStep, snap_)) return false;  // a shaky click is not an arm
    pts.push_back(p);  // dragging out the first arm: the vertex follows the cursor
  } else {
    pts.back() = p;
  }
  refreshCurrent();
  return false;
}

bool EchoMeasureTool::release(QPointF p) {
  if (!current_) return false;
  auto& pts = current_->points;
  const bool started = pressStarted_;
  pressStarted_ = false;
  switch (kind_) {
    case EchoMeasureKind::Distance:
      pts.back() = p;
      if (dist(pts.front(), pts.back()) == 0.0) {  // a click, not a drag: nothing measured
        current_.reset();
        return false;
      }
      return finish();
    case EchoMeasureKind::Area:
      if (started && traced_ && pts.size() >= 4) {  // a freehand trace closes when the button is let go
        if (dist(p, pts.back()) > 0) pts.push_back(p);
        return finish();
      }
      return false;
    case EchoMeasureKind::Angle:
      if (pts.size() >= 2) pts.back() = p;
      refreshCurrent();
      return pts.size() == 3 ? finish() : false;
  }
  return false;
}

bool EchoMeasureTool::doubleClick(QPointF) {
  // The double-click's first click already placed its vertex.
  if (!current_ || kind_ != EchoMeasureKind::Area || current_->points.size() < 3) return false;
  return finish();
}

void EchoMeasureTool::hover(QPointF p) {
  if (current_) hover_ = p;
  else hover_.reset();
}

bool EchoMeasureTool::cancel() {
  const bool had = current_.has_value();
  current_.reset();
  hover_.reset();
  pressStarted_ = traced_ = false;
  return had;
}

bool EchoMeasureTool::removeLast() {
  if (done_.empty()) return false;
  done_.pop_back();
  return true;
}

void EchoMeasureTool::clear() {
  cancel();
  done_.clear();
}

const EchoMeasurement& EchoMeasureTool::add(EchoMeasureKind kind, std::vector<QPointF> points) {
  done_.push_back(evaluateMeasurement(kind, std::move(points), regions_));
  return done_.back();
}

bool EchoMeasureTool::finish() {
  if (!current_) return false;
  hover_.reset();
  add(current_->kind, std::move(current_->points));
  current_.reset();
  pressStarted_ = traced_ = false;
  return true;
}

void EchoMeasureTool::refreshCurrent() {
  // Live value while a distance or an angle is drawn; a trace is evaluated when it closes.
  if (!current_ || current_->kind == EchoMeasureKind::Area) return;
  if (current_->kind == EchoMeasureKind::Angle && current_->points.size() < 3) return;
  *current_ = evaluateMeasurement(current_->kind, std::move(current_->points), regions_);
}

// -------------------------------------------------------------- painting ----

namespace {
constexpr double kPi = 3.14159265358979323846;
const QColor kOk(80, 255, 120), kRefused(255, 150, 60), kDrawing(120, 200, 255);

void cross(QPainter& p, QPointF c) {
  p.drawLine(c + QPointF(-5, 0), c + QPointF(5, 0));
  p.drawLine(c + QPointF(0, -5), c + QPointF(0, 5));
}

// Text on a dark backing at `at` (baseline), moved inside `bounds` when it would stick out.
void label(QPainter& p, QPointF at, const QString& text, const QColor& colour, const QRectF& bounds) {
  if (text.isEmpty()) return;
  QRectF box = QFontMetricsF(p.font()).boundingRect(text).translated(at).adjusted(-3, -2, 3, 2);
  const QPointF shift(std::max(bounds.left() - box.left(), std::min(0.0, bounds.right() - box.right())),
                      std::max(bounds.top() - box.top(), std::min(0.0, bounds.bottom() - box.bottom())));
  box.translate(shift);
  at += shift;
  p.fillRect(box, QColor(0, 0, 0, 170));
  p.setPen(colour);
  p.drawText(at, text);
}

// Arc at the angle's vertex between its two arms (widget pixels).
void angleArc(QPainter& p, QPointF a, QPointF v, QPointF b) {
  const double r = std::min({18.0, dist(a, v) / 2, dist(b, v) / 2});
  if (r < 3) return;
  const double t0 = std::atan2(-(a.y() - v.y()), a.x() - v.x()) * 180.0 / kPi;
  double span = std::atan2(-(b.y() - v.y()), b.x() - v.x()) * 180.0 / kPi - t0;
  while (span > 180) span -= 360;
  while (span < -180) span += 360;
  p.drawArc(QRectF(v.x() - r, v.y() - r, 2 * r, 2 * r), static_cast<int>(t0 * 16), static_cast<int>(span * 16));
}

void paintOne(QPainter& p, const EchoMeasurement& m, const std::function<QPointF(QPointF)>& toWidget, bool drawing,
              const QRectF& bounds) {
  std::vector<QPointF> w;
  w.reserve(m.points.size());
  for (const QPointF& q : m.points) w.push_back(toWidget(q));
  if (w.empty()) return;
  const QColor colour = drawing ? kDrawing : m.ok ? kOk : kRefused;
  p.setPen(QPen(colour, 2));
  p.setBrush(Qt::NoBrush);
  QPointF at = w.back();
  if (m.kind == EchoMeasureKind::Area) {
    const QPolygonF poly(QList<QPointF>(w.begin(), w.end()));
    if (drawing) p.drawPolyline(poly);
    else {
      p.setBrush(QColor(colour.red(), colour.green(), colour.blue(), 40));
      p.drawPolygon(poly);
    }
    cross(p, w.front());
    at = poly.boundingRect().topRight();
  } else {
    for (std::size_t i = 1; i < w.size(); ++i) p.drawLine(w[i - 1], w[i]);
    for (const QPointF& c : w) cross(p, c);
    if (m.kind == EchoMeasureKind::Angle && w.size() == 3) {
      angleArc(p, w[0], w[1], w[2]);
      at = w[1];
    }
  }
  const QString text = m.ok ? m.valueText : drawing ? QString() : m.statusText;
  label(p, at + QPointF(8, -8), text, colour, bounds);
}
}  // namespace

void paintMeasurements(QPainter& p, const EchoMeasureTool& tool, const std::function<QPointF(QPointF)>& toWidget,
                       const QFont& font, const QRectF& bounds) {
  p.save();
  p.setFont(font);
  for (const auto& m : tool.measurements()) paintOne(p, m, toWidget, false, bounds);
  if (tool.current()) {
    paintOne(p, *tool.current(), toWidget, true, bounds);
    const auto& pts = tool.current()->points;
    if (tool.hovered() && !pts.empty() && tool.current()->kind != EchoMeasureKind::Distance) {
      p.setPen(QPen(kDrawing, 1, Qt::DashLine));
      const QPointF h = toWidget(*tool.hovered());
      p.drawLine(toWidget(pts.back()), h);
      if (tool.current()->kind == EchoMeasureKind::Area && pts.size() >= 2) p.drawLine(h, toWidget(pts.front()));
    }
  }
  p.restore();
}

}  // namespace e2e::ui
