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


// Phenotype-derived LV geometry and sector depth. Draws one random number (the LA radius).
struct LvGeometry {
  double reduced = 0, h = 0, edv = 0, esv = 0, lEd = 0, dEd = 0, longShort = 0, laMax = 0, laR = 0, depthCm = 0;
  // LV long axis L and width D (cm) at contraction c (0: end-diastole, 1: end-systole).
  void at(double c, double& L, double& D) const {
    const double vol = edv - c * (edv - esv);
    L = lEd * (1.0 - longShort * c);
    D = std::sqrt(6.0 * vol / (kPi * L));
  }
};

LvGeometry lvGeometry(const Phenotype& p, int v, Rng& rng) {
  LvGeometry g;
  const double ef = p.lvefPercent;
  g.reduced = clampd((50.0 - ef) / 35.0, 0.0, 1.0);
  g.h = p.wallThicknessMm / 10.0;  // cm
  g.edv = std::max(p.lvEdvMl, 20.0);
  g.esv = clampd(p.lvEsvMl, 5.0, g.edv);
  // LV shape at end-diastole: width/length ratio, more spherical when dilated.
  const double k = 0.55 + 0.10 * g.reduced;
  g.lEd = std::cbrt(6.0 * g.edv / (kPi * k * k));
  g.dEd = k * g.lEd;
  g.longShort = 0.05 + 0.10 * clampd(ef / 65.0, 0.0, 1.2);  // long-axis shortening at ES
  g.laMax = 2.0 + 0.8 * g.reduced;  // depth depends on the phenotype only
  g.laR = g.laMax - rng.uniform(0.0, 0.3);

  // Sector geometry. Depth chosen so the heart fits (as a sonographer would set it).
  double depthCm;
  if (v <= 1) depthCm = std::ceil(1.0 + g.h + g.lEd + 2.0 * g.laMax + 1.0);
  else depthCm = std::ceil(3.5 + 2.0 * g.h + g.dEd + 2.0 * g.laMax * (v == 2 ? 1.0 : 0.3) + 1.5);
  g.depthCm = clampd(depthCm, 13.0, 24.0);
  return g;
}

// Loop header: size, frame rate, transducer position and pixel spacing.
void setupLoop(EchoLoop& out, const std::string& view, int frames, int size, double rr, double depthCm) {
  out.view = view;
  out.rows = out.cols = size;
  out.frames = frames;
  out.fps = std::round(clampd(frames / rr, 30.0, 50.0));
  out.apexX = (size - 1) / 2.0;
  out.apexY = 1.0;
  const double rPx = size - 3.0 - out.apexY;
  out.cmPerPixel = depthCm / rPx;
}

// Fan pixel: coordinates (cm), attenuation, static speckle.
struct Px { int idx; float x, y, att; std::uint8_t sp; };

std::vector<Px> buildFan(const EchoLoop& out, int size, double depthCm, Rng& rng) {
  const double halfAngle = 37.5 * kPi / 180.0;
  const double cm = out.cmPerPixel;
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
  return fan;
}

// Static structures (their shapes do not change over the cycle) and view anchors.
struct Scene {
  int v = 0;
  double lEd = 0, h = 0, laR = 0;
  double tilt = 0, apexX = 0, apexDepth = 0, ux = 0, uy = 1;
  Ellipse rv, rvWall, ra, raWall;
  double plaxCx = 0, plaxCy = 0, plaxTilt = 0, aoR = 0, aoY = 0, psaxCy = 0, psaxOuterEd = 0;
  Ellipse plaxRv, plaxRvWall, psaxRv, psaxRvWall;
};

Scene makeScene(const Phenotype& p, const LvGeometry& g, int v, Rng& rng) {
  Scene s;
  s.v = v;
  s.lEd = g.lEd; s.h = g.h; s.laR = g.laR;
  const double h = g.h, lEd = g.lEd, dEd = g.dEd, reduced = g.reduced;
  s.tilt = (v == 0 ? -0.10 : -0.05) + rng.normal(0.0, 0.03);
  s.apexX = (v == 0 ? 1.1 : 0.3) + rng.normal(0.0, 0.15);
  s.apexDepth = 1.0 + h;
  const double tilt = s.tilt, ux = std::sin(tilt), uy = std::cos(tilt);
  s.ux = ux; s.uy = uy;
  const double rvB = 1.45 + 0.25 * reduced;
  s.rv = makeEllipse(s.apexX - dEd / 2 - h - 0.35 - rvB + 0.45 * lEd * ux, s.apexDepth + 0.45 * lEd * uy,
                     0.42 * lEd, rvB, tilt);
  s.rvWall = s.rv; s.rvWall.a += 0.35; s.rvWall.b += 0.35;
  s.ra = makeEllipse(s.rv.cx + (s.rv.a + 1.9) * ux, s.rv.cy + (s.rv.a + 1.9) * uy, 1.8, 1.6, tilt);
  s.raWall = s.ra; s.raWall.a += 0.25; s.raWall.b += 0.25;
  // PLAX / PSAX anchors.
  const double anterior = 0.8;                      // chest wall
  const double rvBand = 1.0 + rng.uniform(0.0, 0.4);
  const double septumTop = anterior + 0.4 + 2.0 * rvBand;
  s.plaxCx = -1.6; s.plaxCy = septumTop + h + dEd / 2;
  s.plaxTilt = kPi / 2 + 0.12;                      // a axis roughly horizontal (towards +x)
  s.aoR = (p.sex == 'M' ? 1.45 : 1.3);
  s.aoY = s.plaxCy - 0.3 * dEd;
  s.psaxCy = septumTop + h + dEd / 2;
  // Right ventricle: PLAX outflow band in front of the septum; PSAX crescent hugging the LV.
  s.plaxRv = makeEllipse(s.plaxCx + 0.6, anterior + 0.4 + rvBand, 3.6, rvBand - 0.15, kPi / 2);
  s.plaxRvWall = s.plaxRv; s.plaxRvWall.a += 0.35; s.plaxRvWall.b += 0.35;
  const double psaxRo = dEd / 2 + h, psaxRvOff = (psaxRo + 0.3) * 0.7071;
  s.psaxRv = makeEllipse(-psaxRvOff, s.psaxCy - psaxRvOff, 1.1 + 0.2 * reduced, psaxRo + 0.3, kPi / 4);
  s.psaxRvWall = s.psaxRv; s.psaxRvWall.a += 0.35; s.psaxRvWall.b += 0.35;
  s.psaxOuterEd = dEd / 2 + h + 0.15;
  return s;
}

// Shapes that move with the cycle (LV cavity and wall, LA, papillary muscles) for one frame.
struct FrameShapes {
  Ellipse cav, wall, peri, la, laWall;
  Ellipse pap1, pap2;
  double baseCut = 1e9;
  double lvArea = 0;  // drawn LV cavity area (cm^2)
};

FrameShapes frameShapes(const Scene& s, double L, double D) {
  FrameShapes fs;
  const double h = s.h, laR = s.laR;
  if (s.v <= 1) {
    const double a = L / 2, b = D / 2;
    fs.cav = makeEllipse(s.apexX + a * s.ux, s.apexDepth + a * s.uy, a, b, s.tilt);
    fs.wall = fs.cav; fs.wall.a += h; fs.wall.b += h;
    fs.baseCut = 0.72 * a;
    fs.la = makeEllipse(fs.cav.cx + (a + 0.85 * laR) * s.ux, fs.cav.cy + (a + 0.85 * laR) * s.uy, laR, laR * 0.95,
                        s.tilt);
    fs.laWall = fs.la; fs.laWall.a += 0.25; fs.laWall.b += 0.25;
    fs.lvArea = kPi * a * b;
  } else if (s.v == 2) {
    const double a = 0.45 * L, b = D / 2;
    fs.cav = makeEllipse(s.plaxCx, s.plaxCy, a, b, s.plaxTilt);
    fs.wall = fs.cav; fs.wall.a += h; fs.wall.b += h;
    fs.peri = fs.wall; fs.peri.a += 0.3; fs.peri.b += 0.3;
    fs.baseCut = 0.55 * a;
    fs.la = makeEllipse(s.plaxCx + 0.45 * s.lEd + 0.3 + laR, s.aoY + s.aoR + 0.35 + laR, laR, laR, s.plaxTilt);
    fs.laWall = fs.la; fs.laWall.a += 0.25; fs.laWall.b += 0.25;
    fs.lvArea = kPi * a * b;
  } else {
    const double r = D / 2;
    fs.cav = makeEllipse(0.0, s.psaxCy, r, r, 0.0);
    fs.wall = fs.cav; fs.wall.a += h; fs.wall.b += h;
    fs.peri = fs.wall; fs.peri.a += 0.3; fs.peri.b += 0.3;
    const double pr = 0.32 + 0.04 * h;
    fs.pap1 = makeEllipse(0.6 * r * std::cos(2.3), s.psaxCy + 0.6 * r * std::sin(2.3), pr, pr, 0.0);
    fs.pap2 = makeEllipse(0.6 * r * std::cos(0.9), s.psaxCy + 0.6 * r * std::sin(0.9), pr, pr, 0.0);
    fs.lvArea = kPi * r * r - 2.0 * kPi * pr * pr;
  }
  return fs;
}

std::uint8_t classifyApical(const Scene& s, const FrameShapes& fs, double x, double y) {
  const int v = s.v;
  if (fs.cav.inside(x, y)) return kBlood;
  if (fs.wall.inside(x, y) && fs.wall.axial(x, y) < fs.baseCut) return kMyo;
  if (fs.la.inside(x, y)) return kBlood;
  if (fs.laWall.inside(x, y)) return kMyo;
  if (v == 0 && s.rv.inside(x, y)) return kBlood;
  if (v == 0 && s.rvWall.inside(x, y)) return kMyo;
  if (v == 0 && s.ra.inside(x, y)) return kBlood;
  if (v == 0 && s.raWall.inside(x, y)) return kMyo;
  return kTissue;
}

std::uint8_t classifyPlax(const Scene& s, const FrameShapes& fs, double x, double y) {
  const bool inAo = x > s.plaxCx + 0.33 * s.lEd && std::fabs(y - s.aoY) < s.aoR;
  const bool inAoWall = x > s.plaxCx + 0.33 * s.lEd && std::fabs(y - s.aoY) < s.aoR + 0.3;
  if (fs.cav.inside(x, y)) return kBlood;
  if (inAo) return kBlood;
  if (fs.wall.inside(x, y) && fs.wall.axial(x, y) < fs.baseCut) return kMyo;
  if (inAoWall) return kBright;
  if (fs.la.inside(x, y)) return kBlood;
  if (fs.laWall.inside(x, y)) return kMyo;
  if (fs.peri.inside(x, y) && y > s.plaxCy) return kBright;
  if (s.plaxRv.inside(x, y)) return kBlood;
  if (s.plaxRvWall.inside(x, y)) return kMyo;
  return kTissue;
}

std::uint8_t classifyPsax(const Scene& s, const FrameShapes& fs, double x, double y) {
  const double psaxCy = s.psaxCy, psaxOuterEd = s.psaxOuterEd;
  if (fs.pap1.inside(x, y) || fs.pap2.inside(x, y)) return kMyo;
  if (fs.cav.inside(x, y)) return kBlood;
  if (fs.wall.inside(x, y)) return kMyo;
  if (fs.peri.inside(x, y) && y > psaxCy) return kBright;
  if (s.psaxRv.inside(x, y) && (x * x + (y - psaxCy) * (y - psaxCy)) > psaxOuterEd * psaxOuterEd + 0.0) return kBlood;
  if (s.psaxRvWall.inside(x, y)) return kMyo;
  return kTissue;
}

std::uint8_t classify(const Scene& s, const FrameShapes& fs, double x, double y) {
  if (s.v <= 1) return classifyApical(s, fs, x, y);
  if (s.v == 2) return classifyPlax(s, fs, x, y);
  return classifyPsax(s, fs, x, y);
}

// Grey value of a pixel of class cls with combined speckle sp.
std::uint8_t pixelValue(std::uint8_t cls, const Px& px, float sp) {
  int val;
  if (cls == kBlood) {
    val = static_cast<int>(3.0f + 7.0f * sp);
    val = std::clamp(val, 1, kEchoBloodMax);
  } else {
    const float base = cls == kTissue ? 92.f : (cls == kMyo ? 165.f : 225.f);
    val = static_cast<int>(base * px.att * (0.55f + 0.45f * sp));
    val = std::clamp(val, kEchoTissueMin, 255);
  }
  return static_cast<std::uint8_t>(val);
}

// Draws one frame: one dynamic speckle byte per fan pixel (8 per random draw).
void renderFrame(std::uint8_t* img, const std::vector<Px>& fan, const Scene& s, const FrameShapes& fs,
                 const Rayleigh& ray, Rng& rng) {
  std::uint64_t bits = 0;
  int nbits = 0;
  for (const Px& px : fan) {
    const double x = px.x, y = px.y;
    const std::uint8_t cls = classify(s, fs, x, y);
    if (nbits == 0) { bits = rng.next(); nbits = 8; }
    const std::uint8_t dyn = static_cast<std::uint8_t>(bits);
    bits >>= 8; --nbits;
    const float sp = 0.7f * ray.q[px.sp] + 0.3f * ray.q[dyn];
    img[px.idx] = pixelValue(cls, px, sp);
  }
}

}  // namespace

EchoLoop synthesizeEcho(const Phenotype& p, const std::string& view, std::uint64_t seed, int frames, int size) {
  const int v = view == "A4C" ? 0 : view == "A2C" ? 1 : view == "PLAX" ? 2 : view == "PSAX" ? 3 : -1;
  if (v < 0) throw std::invalid_argument("synthesizeEcho: unknown view '" + view + "'");
  if (frames < 2 || size < 32) throw std::invalid_argument("synthesizeEcho: need >= 2 frames and size >= 32");
  static const Rayleigh ray;
  Rng rng(mixSeed(seed, 0, "echo:" + p.patientId + ":" + view));

  // Random draws, in this order: LA radius, static fan speckle, scene placement, per-frame speckle.
  const LvGeometry g = lvGeometry(p, v, rng);
  EchoLoop out;
  const double rr = 60.0 / p.heartRateBpm;
  setupLoop(out, view, frames, size, rr, g.depthCm);
  const std::vector<Px> fan = buildFan(out, size, g.depthCm, rng);
  const Scene scene = makeScene(p, g, v, rng);

  out.pixels.assign(static_cast<std::size_t>(frames) * size * size, 0);
  out.lvAreaCm2.resize(frames);
  double bestC = -1;
  for (int f = 0; f < frames; ++f) {
    const double t = f / out.fps;
    const double c = contraction(t / rr);
    if (t < rr && c > bestC) { bestC = c; out.esFrame = f; }
    double L, D;
    g.at(c, L, D);
    const FrameShapes fs = frameShapes(scene, L, D);
    out.lvAreaCm2[f] = fs.lvArea;
    renderFrame(out.pixels.data() + static_cast<std::size_t>(f) * size * size, fan, scene, fs, ray, rng);
  }
  out.edFrame = 0;
  return out;
}

}  // namespace e2e::synth
