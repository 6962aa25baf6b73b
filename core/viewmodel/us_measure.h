// Qt-free ultrasound distance measurement from the SequenceOfUltrasoundRegions calibration.
#pragma once

#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::vm {

struct DistanceResult {
  bool ok = false;
  double cm = kNaN;
  int region = -1;     // index of the region used
  std::string reason;  // why it was refused (empty when ok)
};

// Distance in cm between two pixel points (column x, row y). Accepted only when both points
// lie in the same region whose X and Y units are cm (code 3) with positive PhysicalDeltaX/Y;
// otherwise refused with a reason (no calibration, outside regions, across regions, units).
DistanceResult regionDistanceCm(const std::vector<UltrasoundRegion>& regions, double x0, double y0,
                                double x1, double y1);

}  // namespace e2e::vm
