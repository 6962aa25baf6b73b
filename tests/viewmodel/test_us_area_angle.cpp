// Calibrated area (closed trace) and angle on ultrasound images (issue 20): shoelace area with
// anisotropic pixel spacing, perimeter, angle between two rays, and the region rules shared
// with the distance, on synthetic regions and on the calibrated regions of real files.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "io/dicom_echo.h"
#include "test_util.h"
#include "viewmodel/us_area_angle.h"

using namespace e2e;
using namespace e2e::vm;

namespace {
constexpr double kPi = 3.14159265358979323846;

UltrasoundRegion region(int x0, int y0, int x1, int y1, int units, double dx, double dy) {
  UltrasoundRegion r;
  r.x0 = x0; r.y0 = y0; r.x1 = x1; r.y1 = y1;
  r.spatialFormat = 1;
  r.unitsX = r.unitsY = units;
  r.deltaX = dx; r.deltaY = dy;
  return r;
}

std::vector<PixelPoint> rect(double x0, double y0, double x1, double y1) { return {{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}; }

bool has(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

EchoInfo realInfo(const char* rel) {
  const auto path = test::dataFile(std::string("us_dicom/") + rel);
  return readDicomEchoInfo(path.string());
}
}  // namespace

TEST(UsAreaGeometry, ShoelaceWithAnisotropicPixels) {
  // 10 x 20 px at 0.1 cm x 0.05 cm: a 1 cm x 1 cm square, whichever way round it is traced.
  EXPECT_DOUBLE_EQ(polygonAreaPhysical(rect(5, 5, 15, 25), 0.1, 0.05), 1.0);
  auto cw = rect(5, 5, 15, 25);
  std::reverse(cw.begin(), cw.end());
  EXPECT_DOUBLE_EQ(polygonAreaPhysical(cw, 0.1, 0.05), 1.0);
  EXPECT_DOUBLE_EQ(polygonPerimeterPhysical(rect(5, 5, 15, 25), 0.1, 0.05), 4.0);
  // Right triangle with legs 1 cm (10 px in x) and 1 cm (20 px in y): 0.5 cm^2, 2 + sqrt(2) cm.
  const std::vector<PixelPoint> tri = {{0, 0}, {10, 0}, {0, 20}};
  EXPECT_DOUBLE_EQ(polygonAreaPhysical(tri, 0.1, 0.05), 0.5);
  EXPECT_NEAR(polygonPerimeterPhysical(tri, 0.1, 0.05), 2.0 + std::sqrt(2.0), 1e-12);
  // A concave L: 3 x 3 square less its 2 x 2 top-right corner = 5 px^2.
  const std::vector<PixelPoint> ell = {{0, 0}, {1, 0}, {1, 2}, {3, 2}, {3, 3}, {0, 3}};
  EXPECT_DOUBLE_EQ(polygonAreaPhysical(ell, 1.0, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(polygonPerimeterPhysical(ell, 1.0, 1.0), 12.0);
  // A regular 360-gon of radius 100 px far from the origin: (n/2) r^2 sin(2 pi / n).
  std::vector<PixelPoint> circle;
  for (int k = 0; k < 360; ++k) circle.push_back({5000 + 100 * std::cos(2 * kPi * k / 360), 7000 + 100 * std::sin(2 * kPi * k / 360)});
  EXPECT_NEAR(polygonAreaPhysical(circle, 0.05, 0.05), 180.0 * 1e4 * std::sin(2 * kPi / 360) * 0.0025, 1e-9);
  EXPECT_NEAR(polygonPerimeterPhysical(circle, 0.05, 0.05), 360 * 2 * 100 * std::sin(kPi / 360) * 0.05, 1e-9);
}

TEST(UsAreaGeometry, SelfIntersection) {
  EXPECT_FALSE(polygonSelfIntersects(rect(0, 0, 10, 10)));
  EXPECT_TRUE(polygonSelfIntersects({{0, 0}, {10, 10}, {10, 0}, {0, 10}}));  // bow tie
  EXPECT_FALSE(polygonSelfIntersects({{0, 0}, {1, 0}, {1, 2}, {3, 2}, {3, 3}, {0, 3}}));
  EXPECT_TRUE(polygonSelfIntersects({{0, 0}, {4, 0}, {4, 4}, {2, 0}, {0, 4}}));  // touches its first edge
}

TEST(UsAngleGeometry, PhysicalAngle) {
  EXPECT_DOUBLE_EQ(angleDegreesPhysical({10, 0}, {0, 0}, {0, 10}, 1, 1), 90.0);
  EXPECT_DOUBLE_EQ(angleDegreesPhysical({10, 0}, {0, 0}, {-10, 0}, 1, 1), 180.0);
  EXPECT_DOUBLE_EQ(angleDegreesPhysical({10, 0}, {0, 0}, {20, 0}, 1, 1), 0.0);
  // 3-4-5 triangle: acos(3/5).
  EXPECT_NEAR(angleDegreesPhysical({140, 300}, {100, 300}, {130, 260}, 1, 1), 53.13010235415598, 1e-9);
  // Anisotropic: (10, 0) px and (10, 20) px at 0.1 x 0.05 cm are (1, 0) and (1, 1) cm: 45 deg,
  // not the 63.43 deg of the pixel grid.
  EXPECT_NEAR(angleDegreesPhysical({20, 5}, {10, 5}, {20, 25}, 0.1, 0.05), 45.0, 1e-12);
  EXPECT_TRUE(std::isnan(angleDegreesPhysical({10, 5}, {10, 5}, {20, 25}, 1, 1)));
}

TEST(UsArea, CalibratedRegion) {
  const std::vector<UltrasoundRegion> regions = {region(0, 0, 399, 299, 3, 0.1, 0.05)};
  auto r = regionAreaCm2(regions, rect(100, 100, 130, 140));  // 3 cm x 2 cm
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_DOUBLE_EQ(r.cm2, 6.0);
  EXPECT_DOUBLE_EQ(r.perimeterCm, 10.0);
  EXPECT_EQ(r.region, 0);
  // A closing click on the first point and a repeated (double-click) point change nothing.
  auto pts = rect(100, 100, 130, 140);
  pts.insert(pts.begin() + 2, pts[1]);
  pts.push_back(pts.front());
  r = regionAreaCm2(regions, pts);
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_DOUBLE_EQ(r.cm2, 6.0);
}

TEST(UsArea, Refusals) {
  const std::vector<UltrasoundRegion> two = {region(0, 0, 99, 99, 3, 0.05, 0.05), region(100, 0, 199, 99, 3, 0.05, 0.05)};
  auto r = regionAreaCm2({}, rect(1, 1, 5, 5));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(has(r.reason, "no ultrasound region")) << r.reason;
  r = regionAreaCm2(two, rect(50, 10, 150, 50));  // across the boundary at x = 99.5
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(has(r.reason, "crosses ultrasound region boundaries")) << r.reason;
  EXPECT_TRUE(std::isnan(r.cm2));
  r = regionAreaCm2(two, rect(150, 10, 250, 50));
  EXPECT_TRUE(has(r.reason, "outside")) << r.reason;
  r = regionAreaCm2(two, {{10, 10}, {20, 20}});
  EXPECT_TRUE(has(r.reason, "at least 3")) << r.reason;
  r = regionAreaCm2(two, {{10, 10}, {20, 20}, {30, 30}});
  EXPECT_TRUE(has(r.reason, "encloses no area")) << r.reason;
  r = regionAreaCm2(two, {{10, 10}, {30, 30}, {30, 10}, {10, 30}});
  EXPECT_TRUE(has(r.reason, "crosses itself")) << r.reason;
  r = regionAreaCm2({region(0, 0, 99, 99, 3, 0.0, 0.0)}, rect(1, 1, 5, 5));
  EXPECT_TRUE(has(r.reason, "PhysicalDelta")) << r.reason;
  auto doppler = region(0, 0, 99, 99, 4, 0.01, 0.5);
  doppler.unitsY = 7;
  r = regionAreaCm2({doppler}, rect(1, 1, 5, 5));
  EXPECT_TRUE(has(r.reason, "s/cm/s, not cm")) << r.reason;
  std::vector<PixelPoint> many(kMaxTracePoints + 1, PixelPoint{1, 1});
  r = regionAreaCm2(two, many);
  EXPECT_TRUE(has(r.reason, "too many points")) << r.reason;
  r = regionAreaCm2(two, {{10, 10}, {kNaN, 20}, {30, 10}});
  EXPECT_TRUE(has(r.reason, "finite")) << r.reason;
  EXPECT_TRUE(regionAreaCm2(two, rect(110, 10, 190, 50)).ok);
}

TEST(UsAngle, CalibratedAndRefused) {
  const std::vector<UltrasoundRegion> two = {region(0, 0, 99, 99, 3, 0.1, 0.05), region(100, 0, 199, 99, 3, 0.05, 0.05)};
  auto r = regionAngleDeg(two, {20, 5}, {10, 5}, {20, 25});
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_NEAR(r.degrees, 45.0, 1e-12);
  EXPECT_EQ(r.region, 0);
  r = regionAngleDeg(two, {120, 5}, {110, 5}, {120, 15});  // isotropic second region
  ASSERT_TRUE(r.ok) << r.reason;
  EXPECT_NEAR(r.degrees, 45.0, 1e-12);
  EXPECT_EQ(r.region, 1);
  r = regionAngleDeg(two, {20, 5}, {10, 5}, {120, 25});
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(has(r.reason, "three points lie in different ultrasound regions")) << r.reason;
  r = regionAngleDeg(two, {10, 5}, {10, 5}, {20, 25});
  EXPECT_TRUE(has(r.reason, "zero length")) << r.reason;
  r = regionAngleDeg({}, {10, 5}, {10, 6}, {20, 25});
  EXPECT_TRUE(has(r.reason, "no ultrasound region")) << r.reason;
}

// Philips CX50 (pydicom-data OBXXXX1A): B-mode region x 120..800, y 60..518 at
// 0.026228787661969974 cm/px both ways; a Doppler strip x 176..743, y 522..576 in s / none.
TEST(UsAreaAngleRealFiles, PhilipsRegions) {
  const EchoInfo info = realInfo("pydicom-data/OBXXXX1A.dcm");
  ASSERT_EQ(info.regions.size(), 2u);
  // 400 x 300 px = 120000 px^2 x 0.026228787661969974^2 = 82.553916266005 cm^2; perimeter
  // 1400 px = 36.720302726757964 cm.
  auto a = regionAreaCm2(info.regions, rect(200, 100, 600, 400));
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_NEAR(a.cm2, 82.553916266005, 1e-9);
  EXPECT_NEAR(a.perimeterCm, 36.720302726757964, 1e-9);
  EXPECT_EQ(a.region, 0);
  // Right angle and the 3-4-5 angle.
  auto g = regionAngleDeg(info.regions, {300, 150}, {300, 400}, {650, 400});
  ASSERT_TRUE(g.ok) << g.reason;
  EXPECT_DOUBLE_EQ(g.degrees, 90.0);
  g = regionAngleDeg(info.regions, {340, 300}, {300, 300}, {330, 260});
  EXPECT_NEAR(g.degrees, 53.13010235415598, 1e-9);
  // Inside the Doppler strip: units s / none are not a length.
  a = regionAreaCm2(info.regions, rect(200, 530, 300, 570));
  EXPECT_FALSE(a.ok);
  EXPECT_TRUE(has(a.reason, "region units are s/none, not cm")) << a.reason;
  EXPECT_EQ(a.region, 1);
  // From the B-mode image down into the Doppler strip.
  a = regionAreaCm2(info.regions, rect(200, 400, 300, 550));
  EXPECT_TRUE(has(a.reason, "crosses ultrasound region boundaries")) << a.reason;
  g = regionAngleDeg(info.regions, {300, 150}, {300, 400}, {300, 560});
  EXPECT_TRUE(has(g.reason, "different ultrasound regions")) << g.reason;
  // Above the B-mode region (the vendor header).
  a = regionAreaCm2(info.regions, rect(200, 10, 300, 100));
  EXPECT_TRUE(has(a.reason, "outside every calibrated")) << a.reason;
}

// Aloka (gdcm-US-ALOKA-16): two side-by-side B-mode regions x 32..335 and 336..639, y 24..415,
// 0.038265306502580643 cm/px, and a small uncalibrated region inside the first.
TEST(UsAreaAngleRealFiles, AlokaDualImage) {
  const EchoInfo info = realInfo("pydicom-data/gdcm-US-ALOKA-16.dcm");
  ASSERT_EQ(info.regions.size(), 3u);
  // 20 x 50 px inside the small region 2 (which overlaps region 0): region 0's calibration,
  // 1000 x 0.038265306502580643^2 = 1.4642336817364403 cm^2.
  auto a = regionAreaCm2(info.regions, rect(40, 50, 60, 100));
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.region, 0);
  EXPECT_NEAR(a.cm2, 1.4642336817364403, 1e-12);
  a = regionAreaCm2(info.regions, rect(400, 100, 420, 150));  // same size in the right image
  ASSERT_TRUE(a.ok) << a.reason;
  EXPECT_EQ(a.region, 1);
  EXPECT_NEAR(a.cm2, 1.4642336817364403, 1e-12);
  // A trace from the left image into the right one is refused.
  a = regionAreaCm2(info.regions, rect(300, 100, 380, 150));
  EXPECT_FALSE(a.ok);
  EXPECT_TRUE(has(a.reason, "crosses ultrasound region boundaries")) << a.reason;
  auto g = regionAngleDeg(info.regions, {100, 100}, {200, 200}, {300, 100});
  ASSERT_TRUE(g.ok) << g.reason;
  EXPECT_DOUBLE_EQ(g.degrees, 90.0);
}

TEST(UsAreaAngleRealFiles, UncalibratedFileRefuses) {
  const EchoInfo info = realInfo("godcm_barre/US-MONO2-8-8x-execho.dcm");
  ASSERT_TRUE(info.regions.empty());
  const auto a = regionAreaCm2(info.regions, rect(10, 10, 50, 50));
  EXPECT_FALSE(a.ok);
  EXPECT_EQ(a.reason, "no ultrasound region calibration in this image");
  const auto g = regionAngleDeg(info.regions, {10, 10}, {20, 20}, {30, 10});
  EXPECT_FALSE(g.ok);
  EXPECT_EQ(g.reason, "no ultrasound region calibration in this image");
}
