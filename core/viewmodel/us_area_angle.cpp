#include "viewmodel/us_area_angle.h"

#include <algorithm>
#include <cmath>

namespace e2e::vm {

namespace {
constexpr double kPi = 3.14159265358979323846;

double cross(PixelPoint o, PixelPoint a, PixelPoint b) { return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x); }

bool onSegment(PixelPoint p, PixelPoint a, PixelPoint b) {
  return std::min(a.x, b.x) <= p.x && p.x <= std::max(a.x, b.x) && std::min(a.y, b.y) <= p.y && p.y <= std::max(a.y, b.y);
}

int sign(double v) { return v > 0 ? 1 : v < 0 ? -1 : 0; }

// Closed segments ab and cd share a point.
bool segmentsTouch(PixelPoint a, PixelPoint b, PixelPoint c, PixelPoint d) {
  const int d1 = sign(cross(c, d, a)), d2 = sign(cross(c, d, b)), d3 = sign(cross(a, b, c)), d4 = sign(cross(a, b, d));
  if (d1 * d2 < 0 && d3 * d4 < 0) return true;
  return (d1 == 0 && onSegment(a, c, d)) || (d2 == 0 && onSegment(b, c, d)) || (d3 == 0 && onSegment(c, a, b)) ||
         (d4 == 0 && onSegment(d, a, b));
}

// The trace without repeated consecutive points (a click and a double-click at one place).
std::vector<PixelPoint> withoutRepeats(const std::vector<PixelPoint>& in) {
  std::vector<PixelPoint> out;
  out.reserve(in.size());
  for (const PixelPoint& p : in)
    if (out.empty() || out.back().x != p.x || out.back().y != p.y) out.push_back(p);
  while (out.size() > 1 && out.back().x == out.front().x && out.back().y == out.front().y) out.pop_back();
  return out;
}
}  // namespace

double polygonAreaPhysical(const std::vector<PixelPoint>& poly, double dx, double dy) {
  const std::size_t n = poly.size();
  if (n < 3) return 0.0;
  double twice = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const PixelPoint& p = poly[i];
    const PixelPoint& q = poly[(i + 1) % n];
    twice += (p.x - poly[0].x) * (q.y - poly[0].y) - (q.x - poly[0].x) * (p.y - poly[0].y);  // relative: less rounding
  }
  return std::fabs(twice) / 2.0 * dx * dy;
}

double polygonPerimeterPhysical(const std::vector<PixelPoint>& poly, double dx, double dy) {
  const std::size_t n = poly.size();
  if (n < 2) return 0.0;
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const PixelPoint& p = poly[i];
    const PixelPoint& q = poly[(i + 1) % n];
    sum += std::hypot((q.x - p.x) * dx, (q.y - p.y) * dy);
    if (n == 2) break;  // a segment, not a loop
  }
  return sum;
}

double angleDegreesPhysical(PixelPoint a, PixelPoint v, PixelPoint b, double dx, double dy) {
  const double ux = (a.x - v.x) * dx, uy = (a.y - v.y) * dy, wx = (b.x - v.x) * dx, wy = (b.y - v.y) * dy;
  if ((ux == 0 && uy == 0) || (wx == 0 && wy == 0)) return kNaN;
  return std::atan2(std::fabs(ux * wy - uy * wx), ux * wx + uy * wy) * 180.0 / kPi;
}

bool polygonSelfIntersects(const std::vector<PixelPoint>& poly) {
  const std::size_t n = poly.size();
  if (n < 4) return false;
  for (std::size_t i = 0; i < n; ++i) {
    const PixelPoint a = poly[i], b = poly[(i + 1) % n];
    for (std::size_t j = i + 2; j < n; ++j) {
      if (i == 0 && j == n - 1) continue;  // the closing edge is adjacent to the first
      if (segmentsTouch(a, b, poly[j], poly[(j + 1) % n])) return true;
    }
  }
  return false;
}

AreaResult regionAreaCm2(const std::vector<UltrasoundRegion>& regions, const std::vector<PixelPoint>& polygon) {
  AreaResult r;
  if (polygon.size() > kMaxTracePoints) {
    r.reason = "the trace has too many points (" + std::to_string(polygon.size()) + ", at most " +
               std::to_string(kMaxTracePoints) + ")";
    return r;
  }
  const std::vector<PixelPoint> poly = withoutRepeats(polygon);
  if (poly.size() < 3) {
    r.reason = "an area needs at least 3 distinct points";
    return r;
  }
  // Regions are rectangles: a trace whose points all lie in one region stays inside it.
  const RegionPick pick = pickCalibratedRegion(regions, poly, "the trace crosses ultrasound region boundaries");
  r.region = pick.region;
  if (!pick.ok) {
    r.reason = pick.reason;
    return r;
  }
  if (polygonSelfIntersects(poly)) {
    r.reason = "the trace crosses itself";
    return r;
  }
  const auto& g = regions[static_cast<std::size_t>(pick.region)];
  const double area = polygonAreaPhysical(poly, g.deltaX, g.deltaY);
  if (!(area > 0)) {
    r.reason = "the trace encloses no area";
    return r;
  }
  r.cm2 = area;
  r.perimeterCm = polygonPerimeterPhysical(poly, g.deltaX, g.deltaY);
  r.ok = true;
  return r;
}

AngleResult regionAngleDeg(const std::vector<UltrasoundRegion>& regions, PixelPoint a, PixelPoint vertex, PixelPoint b) {
  AngleResult r;
  const RegionPick pick = pickCalibratedRegion(regions, {a, vertex, b}, "the three points lie in different ultrasound regions");
  r.region = pick.region;
  if (!pick.ok) {
    r.reason = pick.reason;
    return r;
  }
  const auto& g = regions[static_cast<std::size_t>(pick.region)];
  const double deg = angleDegreesPhysical(a, vertex, b, g.deltaX, g.deltaY);
  if (!std::isfinite(deg)) {
    r.reason = "an arm of the angle has zero length";
    return r;
  }
  r.degrees = deg;
  r.ok = true;
  return r;
}

}  // namespace e2e::vm
