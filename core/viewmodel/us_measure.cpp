#include "viewmodel/us_measure.h"

#include <cmath>

namespace e2e::vm {

namespace {
bool isCalibratedCm(const UltrasoundRegion& g) {
  return g.unitsX == 3 && g.unitsY == 3 && g.deltaX > 0 && g.deltaY > 0 && std::isfinite(g.deltaX) &&
         std::isfinite(g.deltaY);
}
}  // namespace

RegionPick pickCalibratedRegion(const std::vector<UltrasoundRegion>& regions, const std::vector<PixelPoint>& points,
                                const std::string& across) {
  RegionPick r;
  if (regions.empty()) {
    r.reason = "no ultrasound region calibration in this image";
    return r;
  }
  if (points.empty()) {
    r.reason = "no points to measure";
    return r;
  }
  int all = -1;
  bool someOutside = false;
  for (const PixelPoint& p : points) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
      r.reason = "a point is not a finite pixel position";
      return r;
    }
    bool inAny = false;
    for (const auto& g : regions) inAny = inAny || g.contains(p.x, p.y);
    someOutside = someOutside || !inAny;
  }
  if (someOutside) {
    r.reason = "point outside every calibrated ultrasound region";
    return r;
  }
  for (std::size_t i = 0; i < regions.size(); ++i) {
    bool inside = true;
    for (const PixelPoint& p : points) inside = inside && regions[i].contains(p.x, p.y);
    if (!inside) continue;
    const bool cal = isCalibratedCm(regions[i]);
    if (all < 0 || cal) all = static_cast<int>(i);  // prefer a calibrated (cm) region when regions overlap
    if (cal) break;
  }
  if (all < 0) {
    r.reason = across;
    return r;
  }
  const auto& g = regions[static_cast<std::size_t>(all)];
  r.region = all;
  if (g.unitsX != 3 || g.unitsY != 3) {
    r.reason = "region units are " + ultrasoundUnitName(g.unitsX) + "/" + ultrasoundUnitName(g.unitsY) + ", not cm";
    return r;
  }
  if (!isCalibratedCm(g)) {
    r.reason = "region has no physical pixel spacing (PhysicalDeltaX/Y)";
    return r;
  }
  r.ok = true;
  return r;
}

DistanceResult regionDistanceCm(const std::vector<UltrasoundRegion>& regions, double x0, double y0,
                                double x1, double y1) {
  DistanceResult r;
  const RegionPick pick = pickCalibratedRegion(regions, {{x0, y0}, {x1, y1}}, "the two points lie in different ultrasound regions");
  r.region = pick.region;
  if (!pick.ok) {
    r.reason = pick.reason;
    return r;
  }
  const auto& g = regions[static_cast<std::size_t>(pick.region)];
  const double dx = (x1 - x0) * g.deltaX, dy = (y1 - y0) * g.deltaY;
  r.cm = std::sqrt(dx * dx + dy * dy);
  r.ok = true;
  return r;
}

}  // namespace e2e::vm
