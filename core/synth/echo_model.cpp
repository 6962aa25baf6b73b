// Synthetic echocardiography loops: a sector (fan) B-mode image with multiplicative
// Rayleigh speckle and a beating left ventricle whose cavity follows the phenotype's
// EDV -> ESV -> EDV over one cardiac cycle at its heart rate.
//
// Apical views (A4C, A2C): the LV cavity is an ellipse of long axis L and width D, so the
// single-plane area-length volume 8 A^2 / (3 pi L) = pi L D^2 / 6 equals the phenotype volume
// at every frame. The apex is fixed; the base descends with longitudinal shortening.
// PLAX: long-axis LV with septum, posterior wall, aortic root and left atrium.
// PSAX: ring of myocardium (mid-ventricle, papillary muscles) with the RV crescent.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "synth/cohort.h"
#include "synth/rng.h"

namespace e2e::synth {

namespace {

constexpr double kPi = 3.14159265358979323846;

enum Cls : std::uint8_t { kTissue = 0, kBlood = 1, kMyo = 2, kBright = 3 };

struct Ellipse {
  double cx = 0, cy = 0, a = 1, b = 1, ux = 0, uy = 1;  // u: direction of the a axis
  bool inside(double x, double y) const {
    const double dx = x - cx, dy = y - cy;
    const double s = (dx * ux + dy * uy) / a, w = (-dx * uy + dy * ux) / b;
    return s * s + w * w <= 1.0;
  }
  double axial(double x, double y) const { return (x - cx) * ux + (y - cy) * uy; }
};

Ellipse makeEllipse(double cx, double cy, double a, double b, double angle /* of a axis from +y */) {
  Ellipse e;
  e.cx = cx; e.cy = cy; e.a = a; e.b = b;
  e.ux = std::sin(angle); e.uy = std::cos(angle);
  return e;
}

// Volume phase of the cardiac cycle: 0 at end-diastole, 1 at end-systole.
constexpr double kSystoleFrac = 0.38;
double contraction(double tau) {
  tau -= std::floor(tau);
  if (tau <= kSystoleFrac) return 0.5 * (1.0 - std::cos(kPi * tau / kSystoleFrac));
  const double u = (tau - kSystoleFrac) / (1.0 - kSystoleFrac);
  double g = 0.8 * 0.5 * (1.0 - std::cos(kPi * std::min(u / 0.4, 1.0)));  // rapid filling
  if (u > 0.8) g += 0.2 * 0.5 * (1.0 - std::cos(kPi * (u - 0.8) / 0.2));   // atrial kick
  return 1.0 - g;
}

struct Rayleigh {
  float q[256];
  Rayleigh() {
    const double sigma = std::sqrt(2.0 / kPi);  // mean 1
    for (int i = 0; i < 256; ++i) q[i] = static_cast<float>(sigma * std::sqrt(-2.0 * std::log(1.0 - (i + 0.5) / 256.0)));
  }
};

}  // namespace

EchoLoop synthesizeEcho(const Phenotype& p, const std::string& view, std::uint64_t seed, int frames, int size) {
  const int v = view == "A4C" ? 0 : view == "A2C" ? 1 : view == "PLAX" ? 2 : view == "PSAX" ? 3 : -1;
  if (v < 0) throw std::invalid_argument("synthesizeEcho: unknown view '" + view + "'");
  if (frames < 2 || size < 32) throw std::invalid_argument("synthesizeEcho: need >= 2 frames and size >= 32");
  static const Rayleigh ray;
  Rng rng(mixSeed(seed, 0, "echo:" + p.patientId + ":" + view));

  const double ef = p.lvefPercent;
  const double reduced = clampd((50.0 - ef) / 35.0, 0.0, 1.0);
  const double h = p.wallThicknessMm / 10.0;  // cm
  const double edv = std::max(p.lvEdvMl, 20.0);
  const double esv = clampd(p.lvEsvMl, 5.0, edv);
  // LV shape at end-diastole: width/length ratio, more spherical when dilated.
  const double k = 0.55 + 0.10 * reduced;
  const double lEd = std::cbrt(6.0 * edv / (kPi * k * k));
  const double dEd = k * lEd;
  const double longShort = 0.05 + 0.10 * clampd(ef / 65.0, 0.0, 1.2);  // long-axis shortening at ES
  auto lvAt = [&](double c, double& L, double& D) {
    const double vol = edv - c * (edv - esv);
    L = lEd * (1.0 - longShort * c);
    D = std::sqrt(6.0 * vol / (kPi * L));
  };
  const double laMax = 2.0 + 0.8 * reduced;  // depth depends on the phenotype only
  const double laR = laMax - rng.uniform(0.0, 0.3);

  // Sector geometry. Depth chosen so the heart fits (as a sonographer would set it).
  double depthCm;
  if (v <= 1) depthCm = std::ceil(1.0 + h + lEd + 2.0 * laMax + 1.0);
  else depthCm = std::ceil(3.5 + 2.0 * h + dEd + 2.0 * laMax * (v == 2 ? 1.0 : 0.3) + 1.5);
  depthCm = clampd(depthCm, 13.0, 24.0);
  const double halfAngle = 37.5 * kPi / 180.0;

  EchoLoop out;
  out.view = view;
  out.rows = out.cols = size;
  out.frames = frames;
  const double rr = 60.0 / p.heartRateBpm;
  out.fps = std::round(clampd(frames / rr, 30.0, 50.0));
  out.apexX = (size - 1) / 2.0;
  out.apexY = 1.0;
  const double rPx = size - 3.0 - out.apexY;
  out.cmPerPixel = depthCm / rPx;
  const double cm = out.cmPerPixel;

  // Fan pixels: coordinates (cm), attenuation, static speckle.
  struct Px { int idx; float x, y, att; std::uint8_t sp; };
  std::vector<Px> fan;
  fan.reserve(static_cast<std::size_t>(size) * size);
  for (int r = 0; r < size; ++r)
    for (int c = 0; c < size; ++c) {
      const double x = (c - out.apexX) * cm, y = (r - out.apexY) * cm;
      const double rad = std::sqrt(x * x + y * y);
      if (y <= 0 || rad > depthCm || std::fabs(std::atan2(x, y)) > halfAngle) continue;
      fan.push_back({r * size + c, static_cast<float>(x), static_cast<float>(y),
                     static_cast<float>(1.0 - 0.3 * rad / depthCm), static_cast<std::uint8_t>(rng.next() >> 56)});
    }

  // Static structures (their shapes do not change over the cycle).
  const double tilt = (v == 0 ? -0.10 : -0.05) + rng.normal(0.0, 0.03);
  const double apexX = (v == 0 ? 1.1 : 0.3) + rng.normal(0.0, 0.15), apexDepth = 1.0 + h;
  const double ux = std::sin(tilt), uy = std::cos(tilt);
  const double rvB = 1.45 + 0.25 * reduced;
  Ellipse rv = makeEllipse(apexX - dEd / 2 - h - 0.35 - rvB + 0.45 * lEd * ux, apexDepth + 0.45 * lEd * uy,
                           0.42 * lEd, rvB, tilt);
  Ellipse rvWall = rv; rvWall.a += 0.35; rvWall.b += 0.35;
  Ellipse ra = makeEllipse(rv.cx + (rv.a + 1.9) * ux, rv.cy + (rv.a + 1.9) * uy, 1.8, 1.6, tilt);
  Ellipse raWall = ra; raWall.a += 0.25; raWall.b += 0.25;
  // PLAX / PSAX anchors.
  const double anterior = 0.8;                      // chest wall
  const double rvBand = 1.0 + rng.uniform(0.0, 0.4);
  const double septumTop = anterior + 0.4 + 2.0 * rvBand;
  const double plaxCx = -1.6, plaxCy = septumTop + h + dEd / 2;
  const double plaxTilt = kPi / 2 + 0.12;           // a axis roughly horizontal (towards +x)
  const double aoR = (p.sex == 'M' ? 1.45 : 1.3);
  const double aoY = plaxCy - 0.3 * dEd;
  const double psaxCy = septumTop + h + dEd / 2;
  // Right ventricle: PLAX outflow band in front of the septum; PSAX crescent hugging the LV.
  Ellipse plaxRv = makeEllipse(plaxCx + 0.6, anterior + 0.4 + rvBand, 3.6, rvBand - 0.15, kPi / 2);
  Ellipse plaxRvWall = plaxRv; plaxRvWall.a += 0.35; plaxRvWall.b += 0.35;
  const double psaxRo = dEd / 2 + h, psaxRvOff = (psaxRo + 0.3) * 0.7071;
  Ellipse psaxRv = makeEllipse(-psaxRvOff, psaxCy - psaxRvOff, 1.1 + 0.2 * reduced, psaxRo + 0.3, kPi / 4);
  Ellipse psaxRvWall = psaxRv; psaxRvWall.a += 0.35; psaxRvWall.b += 0.35;
  const double psaxOuterEd = dEd / 2 + h + 0.15;

  out.pixels.assign(static_cast<std::size_t>(frames) * size * size, 0);
  out.lvAreaCm2.resize(frames);
  double bestC = -1;
  for (int f = 0; f < frames; ++f) {
    const double t = f / out.fps;
    const double c = contraction(t / rr);
    if (t < rr && c > bestC) { bestC = c; out.esFrame = f; }
    double L, D;
    lvAt(c, L, D);
    Ellipse cav, wall, peri, la, laWall;
    Ellipse pap1, pap2;
    double baseCut = 1e9;
    if (v <= 1) {
      const double a = L / 2, b = D / 2;
      cav = makeEllipse(apexX + a * ux, apexDepth + a * uy, a, b, tilt);
      wall = cav; wall.a += h; wall.b += h;
      baseCut = 0.72 * a;
      la = makeEllipse(cav.cx + (a + 0.85 * laR) * ux, cav.cy + (a + 0.85 * laR) * uy, laR, laR * 0.95, tilt);
      laWall = la; laWall.a += 0.25; laWall.b += 0.25;
      out.lvAreaCm2[f] = kPi * a * b;
    } else if (v == 2) {
      const double a = 0.45 * L, b = D / 2;
      cav = makeEllipse(plaxCx, plaxCy, a, b, plaxTilt);
      wall = cav; wall.a += h; wall.b += h;
      peri = wall; peri.a += 0.3; peri.b += 0.3;
      baseCut = 0.55 * a;
      la = makeEllipse(plaxCx + 0.45 * lEd + 0.3 + laR, aoY + aoR + 0.35 + laR, laR, laR, plaxTilt);
      laWall = la; laWall.a += 0.25; laWall.b += 0.25;
      out.lvAreaCm2[f] = kPi * a * b;
    } else {
      const double r = D / 2;
      cav = makeEllipse(0.0, psaxCy, r, r, 0.0);
      wall = cav; wall.a += h; wall.b += h;
      peri = wall; peri.a += 0.3; peri.b += 0.3;
      const double pr = 0.32 + 0.04 * h;
      pap1 = makeEllipse(0.6 * r * std::cos(2.3), psaxCy + 0.6 * r * std::sin(2.3), pr, pr, 0.0);
      pap2 = makeEllipse(0.6 * r * std::cos(0.9), psaxCy + 0.6 * r * std::sin(0.9), pr, pr, 0.0);
      out.lvAreaCm2[f] = kPi * r * r - 2.0 * kPi * pr * pr;
    }

    std::uint8_t* img = out.pixels.data() + static_cast<std::size_t>(f) * size * size;
    std::uint64_t bits = 0;
    int nbits = 0;
    for (const Px& px : fan) {
      const double x = px.x, y = px.y;
      std::uint8_t cls = kTissue;
      if (v <= 1) {
        if (cav.inside(x, y)) cls = kBlood;
        else if (wall.inside(x, y) && wall.axial(x, y) < baseCut) cls = kMyo;
        else if (la.inside(x, y)) cls = kBlood;
        else if (laWall.inside(x, y)) cls = kMyo;
        else if (v == 0 && rv.inside(x, y)) cls = kBlood;
        else if (v == 0 && rvWall.inside(x, y)) cls = kMyo;
        else if (v == 0 && ra.inside(x, y)) cls = kBlood;
        else if (v == 0 && raWall.inside(x, y)) cls = kMyo;
      } else if (v == 2) {
        const bool inAo = x > plaxCx + 0.33 * lEd && std::fabs(y - aoY) < aoR;
        const bool inAoWall = x > plaxCx + 0.33 * lEd && std::fabs(y - aoY) < aoR + 0.3;
        if (cav.inside(x, y)) cls = kBlood;
        else if (inAo) cls = kBlood;
        else if (wall.inside(x, y) && wall.axial(x, y) < baseCut) cls = kMyo;
        else if (inAoWall) cls = kBright;
        else if (la.inside(x, y)) cls = kBlood;
        else if (laWall.inside(x, y)) cls = kMyo;
        else if (peri.inside(x, y) && y > plaxCy) cls = kBright;
        else if (plaxRv.inside(x, y)) cls = kBlood;
        else if (plaxRvWall.inside(x, y)) cls = kMyo;
      } else {
        if (pap1.inside(x, y) || pap2.inside(x, y)) cls = kMyo;
        else if (cav.inside(x, y)) cls = kBlood;
        else if (wall.inside(x, y)) cls = kMyo;
        else if (peri.inside(x, y) && y > psaxCy) cls = kBright;
        else if (psaxRv.inside(x, y) &&
                 (x * x + (y - psaxCy) * (y - psaxCy)) > psaxOuterEd * psaxOuterEd + 0.0) cls = kBlood;
        else if (psaxRvWall.inside(x, y)) cls = kMyo;
      }
      if (nbits == 0) { bits = rng.next(); nbits = 8; }
      const std::uint8_t dyn = static_cast<std::uint8_t>(bits);
      bits >>= 8; --nbits;
      const float sp = 0.7f * ray.q[px.sp] + 0.3f * ray.q[dyn];
      int val;
      if (cls == kBlood) {
        val = static_cast<int>(3.0f + 7.0f * sp);
        val = std::clamp(val, 1, kEchoBloodMax);
      } else {
        const float base = cls == kTissue ? 92.f : (cls == kMyo ? 165.f : 225.f);
        val = static_cast<int>(base * px.att * (0.55f + 0.45f * sp));
        val = std::clamp(val, kEchoTissueMin, 255);
      }
      img[px.idx] = static_cast<std::uint8_t>(val);
    }
  }
  out.edFrame = 0;
  return out;
}

}  // namespace e2e::synth
