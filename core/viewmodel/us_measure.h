// Qt-free ultrasound distance measurement from the SequenceOfUltrasoundRegions calibration,
// and the region rules shared by every calibrated measurement (distance, area, angle).
#pragma once

#include <string>
#include <vector>

#include "common/types.h"

namespace e2e::vm {

// A point in image pixels (column x, row y; continuous, pixel centres at integers).
struct PixelPoint {
  double x = 0.0, y = 0.0;
};

// The region a measurement may use: all its points in one region whose X and Y units are cm
// (code 3) with positive PhysicalDeltaX/Y. When regions overlap, a calibrated one is preferred.
struct RegionPick {
  bool ok = false;
  int region = -1;     // index of the region (also set when refused for units or spacing)
  std::string reason;  // why it was refused (empty when ok)
};

// `across` is the reason given when the points lie in no single region although each lies in
// one (e.g. "the two points lie in different ultrasound regions").
RegionPick pickCalibratedRegion(const std::vector<UltrasoundRegion>& regions, const std::vector<PixelPoint>& points,
                                const std::string& across);

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
