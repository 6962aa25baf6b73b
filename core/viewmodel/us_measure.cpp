#include "viewmodel/us_measure.h"

#include <cmath>

namespace e2e::vm {

DistanceResult regionDistanceCm(const std::vector<UltrasoundRegion>& regions, double x0, double y0,
                                double x1, double y1) {
  DistanceResult r;
  if (regions.empty()) {
    r.reason = "no ultrasound region calibration in this image";
    return r;
  }
  int firstHit = -1, secondHit = -1, both = -1;
  for (std::size_t i = 0; i < regions.size(); ++i) {
    const bool a = regions[i].contains(x0, y0), b = regions[i].contains(x1, y1);
    if (a && firstHit < 0) firstHit = static_cast<int>(i);
    if (b && secondHit < 0) secondHit = static_cast<int>(i);
    if (a && b) {
      // Prefer a calibrated (cm) region when regions overlap.
      const auto& g = regions[i];
      const bool cal = g.unitsX == 3 && g.unitsY == 3 && g.deltaX > 0 && g.deltaY > 0;
      if (both < 0 || cal) both = static_cast<int>(i);
      if (cal) break;
    }
  }
  if (firstHit < 0 || secondHit < 0) {
    r.reason = "point outside every calibrated ultrasound region";
    return r;
  }
  if (both < 0) {
    r.reason = "the two points lie in different ultrasound regions";
    return r;
  }
  const auto& g = regions[static_cast<std::size_t>(both)];
  r.region = both;
  if (g.unitsX != 3 || g.unitsY != 3) {
    r.reason = "region units are " + ultrasoundUnitName(g.unitsX) + "/" + ultrasoundUnitName(g.unitsY) +
               ", not cm";
    return r;
  }
  if (!(g.deltaX > 0) || !(g.deltaY > 0)) {
    r.reason = "region has no physical pixel spacing (PhysicalDeltaX/Y)";
    return r;
  }
  const double dx = (x1 - x0) * g.deltaX, dy = (y1 - y0) * g.deltaY;
  r.cm = std::sqrt(dx * dx + dy * dy);
  r.ok = true;
  return r;
}

}  // namespace e2e::vm
