#include <gtest/gtest.h>

#include "viewmodel/us_measure.h"

using namespace e2e;
using namespace e2e::vm;

namespace {
UltrasoundRegion region(int x0, int y0, int x1, int y1, int units, double dx, double dy) {
  UltrasoundRegion r;
  r.x0 = x0; r.y0 = y0; r.x1 = x1; r.y1 = y1;
  r.spatialFormat = 1;
  r.unitsX = r.unitsY = units;
  r.deltaX = dx; r.deltaY = dy;
  return r;
}
}  // namespace

TEST(RegionDistance, SameCalibratedRegion) {
  std::vector<UltrasoundRegion> regions = {region(0, 0, 399, 299, 3, 0.05, 0.05)};
  auto r = regionDistanceCm(regions, 10, 10, 40, 50);  // 30, 40 px -> 50 px
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_NEAR(r.cm, 2.5, 1e-12);
  EXPECT_EQ(r.region, 0);
  // Anisotropic pixels.
  regions[0].deltaY = 0.1;
  r = regionDistanceCm(regions, 0, 0, 0, 10);
  EXPECT_NEAR(r.cm, 1.0, 1e-12);
}

TEST(RegionDistance, RefusedWithoutCalibration) {
  auto r = regionDistanceCm({}, 0, 0, 10, 10);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("no ultrasound region"), std::string::npos);
  r = regionDistanceCm({region(0, 0, 100, 100, 3, 0.0, 0.0)}, 0, 0, 10, 10);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("PhysicalDelta"), std::string::npos);
}

TEST(RegionDistance, RefusedAcrossRegionsOrOutside) {
  std::vector<UltrasoundRegion> regions = {region(0, 0, 99, 99, 3, 0.05, 0.05),
                                           region(100, 0, 199, 99, 3, 0.05, 0.05)};
  auto r = regionDistanceCm(regions, 50, 50, 150, 50);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("different"), std::string::npos);
  r = regionDistanceCm(regions, 50, 50, 250, 50);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("outside"), std::string::npos);
  EXPECT_TRUE(regionDistanceCm(regions, 110, 10, 190, 10).ok);
}

TEST(RegionDistance, RefusedForNonCmUnits) {
  // Spectral Doppler: x in seconds, y in cm/s.
  auto reg = region(0, 0, 100, 100, 4, 0.01, 0.5);
  reg.unitsY = 7;
  auto r = regionDistanceCm({reg}, 10, 10, 20, 20);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("s/cm/s"), std::string::npos) << r.reason;
}
