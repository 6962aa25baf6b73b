// Qt-free calibrated area (closed trace) and angle (three points) on an ultrasound image, from
// the SequenceOfUltrasoundRegions calibration, with the same region rules as the distance
// (us_measure.h): every point in one region whose X and Y units are cm with positive
// PhysicalDeltaX/Y, otherwise refused with a reason.
#pragma once

#include <string>
#include <vector>

#include "common/types.h"
#include "viewmodel/us_measure.h"

namespace e2e::vm {

struct AreaResult {
  bool ok = false;
  double cm2 = kNaN;          // enclosed area
  double perimeterCm = kNaN;  // closed outline, the last point joined to the first
  int region = -1;
  std::string reason;  // why it was refused (empty when ok)
};

struct AngleResult {
  bool ok = false;
  double degrees = kNaN;  // 0..180, between the rays vertex->a and vertex->b
  int region = -1;
  std::string reason;
};

// Pure geometry in physical units (no region checks): pixel offsets scaled by dx (columns) and
// dy (rows), so that anisotropic pixels are measured right.
double polygonAreaPhysical(const std::vector<PixelPoint>& polygon, double dx, double dy);     // shoelace, >= 0
double polygonPerimeterPhysical(const std::vector<PixelPoint>& polygon, double dx, double dy);  // closed
// Degrees between the rays vertex->a and vertex->b; NaN when a ray has zero length.
double angleDegreesPhysical(PixelPoint a, PixelPoint vertex, PixelPoint b, double dx, double dy);
// True when two non-adjacent edges of the closed polygon cross or touch (a figure-eight trace,
// whose shoelace area would be wrong).
bool polygonSelfIntersects(const std::vector<PixelPoint>& polygon);

// Area in cm^2 and perimeter in cm of the closed trace through `polygon` (pixels; at least 3
// points, at most kMaxTracePoints). Refused: too few or too many points, a trace leaving its
// region or crossing region boundaries, a trace that crosses itself or encloses no area, a
// region not calibrated in cm.
inline constexpr std::size_t kMaxTracePoints = 5000;
AreaResult regionAreaCm2(const std::vector<UltrasoundRegion>& regions, const std::vector<PixelPoint>& polygon);

// Angle in degrees at `vertex` between the rays to a and b, in physical space. Refused like the
// distance, and when a ray has zero length.
AngleResult regionAngleDeg(const std::vector<UltrasoundRegion>& regions, PixelPoint a, PixelPoint vertex, PixelPoint b);

}  // namespace e2e::vm
