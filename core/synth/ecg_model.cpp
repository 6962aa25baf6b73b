// Synthetic 12-lead ECG from a dipole (vectorcardiogram) model.
//
// The heart vector H(t) (x: patient left, y: inferior, z: anterior; mV) is a sum of
// Gaussian-shaped components, each along a fixed direction: P wave, the QRS loop
// (septal, main left-ventricular and terminal basal forces) and the T wave. Each lead is the
// projection of H on its lead vector: limb leads I and II in the frontal plane (0 and 60 deg,
// Einthoven/hexaxial reference) with III, aVR, aVL, aVF derived from them exactly as a device
// does, and V1..V6 in the horizontal plane (about 120..0 deg from the left, towards anterior)
// with near-field gains. The phenotype drives QRS width (qrsMs), QRS voltage (LV mass),
// R-wave progression (low EF), bundle-branch-block-like activation (wide QRS), Q waves and
// T inversion (with probabilities that grow with low EF), and the heart rate.
#include <algorithm>
#include <array>
#include <cmath>

#include "synth/cohort.h"
#include "synth/rng.h"

namespace e2e::synth {

namespace {

using Vec3 = std::array<double, 3>;

Vec3 normalized(Vec3 v) {
  const double n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  return {v[0] / n, v[1] / n, v[2] / n};
}

struct Component {
  double center;      // s, relative to QRS onset
  double sigmaRise;   // s
  double sigmaFall;   // s (asymmetric Gaussian)
  double amplitude;   // mV
  Vec3 dir;
};

struct BeatModel {
  std::vector<Component> comps;
  double start = 0, end = 0;  // support relative to QRS onset (s)

  void add(double c, double sr, double sf, double a, Vec3 d) {
    comps.push_back({c, sr, sf, a, normalized(d)});
    start = std::min(start, c - 4.0 * sr);
    end = std::max(end, c + 4.0 * sf);
  }
  Vec3 at(double t) const {
    Vec3 h{0, 0, 0};
    for (const auto& c : comps) {
      const double s = t < c.center ? c.sigmaRise : c.sigmaFall;
      const double z = (t - c.center) / s;
      if (z * z > 16.0 * 2) continue;
      const double g = c.amplitude * std::exp(-0.5 * z * z);
      h[0] += g * c.dir[0];
      h[1] += g * c.dir[1];
      h[2] += g * c.dir[2];
    }
    return h;
  }
};

// Lead vectors. Limb: frontal plane angle (deg, clockwise from patient left, y inferior).
// Precordial: horizontal plane angle from patient left towards anterior, with a gain.
struct LeadVectors {
  Vec3 i, ii;
  std::array<Vec3, 6> v;
  LeadVectors() {
    const double d = 3.14159265358979323846 / 180.0;
    i = {1.0, 0.0, 0.0};
    ii = {std::cos(60 * d), std::sin(60 * d), 0.0};
    const double ang[6] = {120, 95, 75, 55, 30, 0};
    const double gain[6] = {1.3, 2.0, 2.0, 1.9, 1.6, 1.3};
    for (int k = 0; k < 6; ++k) v[k] = {gain[k] * std::cos(ang[k] * d), gain[k] * 0.12, gain[k] * std::sin(ang[k] * d)};
  }
};

double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }


constexpr double kTwoPi = 6.283185307179586;

// Per-recording variation. Drawn first and in a fixed order, so that phenotypes differing in
// one field keep the same per-recording variation for the same seed.
struct Variation {
  double uQ = 0, uT = 0, chestGain = 1, prJitter = 0, qtcJitter = 0, axisJitter = 0;
  double respHz = 0, respPhase = 0, startFrac = 0;
};

Variation drawVariation(Rng& rng) {
  Variation d;
  d.uQ = rng.uniform();
  d.uT = rng.uniform();
  d.chestGain = std::exp(0.10 * rng.normal());
  d.prJitter = rng.normal(0.0, 0.014);
  d.qtcJitter = rng.normal(0.0, 12.0);
  d.axisJitter = rng.normal(0.0, 0.12);
  d.respHz = rng.uniform(0.2, 0.33);
  d.respPhase = rng.uniform(0.0, kTwoPi);
  d.startFrac = rng.uniform(0.05, 0.6);
  return d;
}

// Conduction and repolarisation findings of this recording.
EcgFacts initialFacts(const Phenotype& p, const Variation& d) {
  const double ef = p.lvefPercent;
  EcgFacts f;
  f.lbbbLike = p.qrsMs >= 120.0;
  f.pathologicalQ = d.uQ < (ef < 40 ? 0.35 : (ef < 50 ? 0.15 : 0.02));
  const bool lvh = p.wallThicknessMm >= 13.0 || p.lvMassG > 240.0;
  f.tInversion = !f.lbbbLike && (d.uT < (ef < 40 ? 0.30 : (ef < 50 ? 0.15 : 0.03)) || (lvh && d.uT < 0.5));
  return f;
}

// QRS forces: septal, main left-ventricular and terminal basal (or LBBB-like activation).
void addQrs(BeatModel& beat, const EcgFacts& f, double q, double aMain, double posterior, double axisJitter) {
  if (!f.lbbbLike) {
    if (f.pathologicalQ)  // anterior necrosis: initial forces point away from V1-V4
      beat.add(0.14 * q, 0.055 * q, 0.055 * q, 0.35, {0.1, -0.1, -1.0});
    else
      beat.add(0.13 * q, 0.05 * q, 0.05 * q, 0.24, {-0.55, 0.15, 0.8});
    beat.add(0.46 * q, 0.12 * q, 0.12 * q, aMain, {0.72, 0.5 + axisJitter, -posterior});
    beat.add(0.80 * q, 0.07 * q, 0.07 * q, 0.3, {-0.35, -0.45, -0.6});
  } else {  // left-bundle-branch-like: leftward septal activation, broad notched main forces
    beat.add(0.15 * q, 0.07 * q, 0.07 * q, 0.3, {0.6, 0.1, -0.3});
    beat.add(0.40 * q, 0.11 * q, 0.11 * q, 0.9 * aMain, {0.75, 0.35 + axisJitter, -posterior - 0.3});
    beat.add(0.68 * q, 0.11 * q, 0.11 * q, 0.9 * aMain, {0.8, 0.2 + axisJitter, -posterior - 0.2});
  }
}

// One beat (P, QRS, T) relative to QRS onset; returns the PR and QT intervals (s) it uses.
BeatModel buildBeat(const Phenotype& p, const Variation& d, const EcgFacts& f, double rr, double& pr, double& qt) {
  const double reduced = clampd((50.0 - p.lvefPercent) / 35.0, 0.0, 1.0);
  const double q = p.qrsMs / 1000.0;
  BeatModel beat;
  pr = clampd(0.150 + 0.025 * (p.ageYears - 50.0) / 30.0 + d.prJitter, 0.12, 0.24);
  beat.add(-pr + 0.050, 0.020, 0.018, 0.14, {0.45, 0.85, 0.12});  // P

  const double massFactor = std::pow(clampd(p.lvMassG, 60.0, 600.0) / 150.0, 0.9);
  const double aMain = clampd(1.25 * massFactor * d.chestGain * (f.pathologicalQ ? 0.8 : 1.0), 0.4, 5.0);
  const double posterior = 0.28 + 0.55 * reduced;  // poor R progression with low EF
  addQrs(beat, f, q, aMain, posterior, d.axisJitter);

  const double qtc = clampd(405.0 + 0.6 * (p.qrsMs - 90.0) + 15.0 * reduced + d.qtcJitter, 360.0, 540.0);
  qt = qtc / 1000.0 * std::sqrt(rr);
  const double sf = 0.045, sr = 0.075;
  const double tPeak = std::max(q + 0.1, qt - 2.3 * sf);
  Vec3 tDir{0.55, 0.65, 0.3};
  double tAmp = clampd(0.32 * std::pow(massFactor, 0.4), 0.15, 0.6);
  if (f.lbbbLike) { tDir = {-0.7, -0.3, 0.55}; tAmp = 0.35; }            // discordant
  else if (f.tInversion) { tDir = {-0.6, -0.35, -0.45}; tAmp *= 0.9; }   // inverted lateral T
  beat.add(tPeak, sr, sf, tAmp, tDir);
  return beat;
}

// Noise-free Sokolow-Lyon voltage (mV) on one beat.
double sokolowLyon(const BeatModel& beat, double q, const LeadVectors& lv) {
  double minV1 = 0, maxV5 = 0, maxV6 = 0;
  for (double t = beat.start; t <= q + 0.02; t += 0.0005) {
    if (t < 0) continue;
    const Vec3 h = beat.at(t);
    minV1 = std::min(minV1, dot(h, lv.v[0]));
    maxV5 = std::max(maxV5, dot(h, lv.v[4]));
    maxV6 = std::max(maxV6, dot(h, lv.v[5]));
  }
  return -minV1 + std::max(maxV5, maxV6);
}

// Heart vector over the recording: beats with respiratory and random RR variation.
struct Rhythm {
  std::vector<double> hx, hy, hz;
  std::vector<double> qrsOnsetsS;
  double sumRr = 0;
  int nRr = 0;
};

Rhythm simulateRhythm(const BeatModel& beat, const Variation& d, double rr, double seconds, double fs, std::size_t n,
                      Rng& rng) {
  Rhythm out;
  out.hx.assign(n, 0.0);
  out.hy.assign(n, 0.0);
  out.hz.assign(n, 0.0);
  const double t0 = d.startFrac * rr;  // first QRS onset
  for (double onset = t0 - rr; onset < seconds + 1.0;) {
    const long first = std::max(0L, static_cast<long>(std::floor((onset + beat.start) * fs)));
    const long last = std::min(static_cast<long>(n) - 1, static_cast<long>(std::ceil((onset + beat.end) * fs)));
    for (long k = first; k <= last; ++k) {
      const Vec3 h = beat.at(k / fs - onset);
      out.hx[k] += h[0]; out.hy[k] += h[1]; out.hz[k] += h[2];
    }
    if (onset >= 0 && onset < seconds) out.qrsOnsetsS.push_back(onset);
    const double thisRr = rr * (1.0 + 0.035 * std::sin(kTwoPi * d.respHz * onset + d.respPhase) +
                                0.012 * rng.normal());
    if (onset >= 0 && onset + thisRr < seconds) { out.sumRr += thisRr; ++out.nRr; }
    onset += thisRr;
  }
  return out;
}

// Leads I, II and V1..V6 as measured: projection plus baseline wander and noise.
std::vector<std::vector<double>> measureLeads(const Rhythm& h, const LeadVectors& lv, std::size_t n, double fs,
                                              Rng& rng) {
  std::vector<std::vector<double>> measured(8, std::vector<double>(n));
  for (int c = 0; c < 8; ++c) {
    const double w1 = rng.uniform(0.08, 0.35), w2 = rng.uniform(0.35, 0.7);
    const double a1 = rng.uniform(0.02, 0.12), a2 = rng.uniform(0.0, 0.04);
    const double ph1 = rng.uniform(0, kTwoPi), ph2 = rng.uniform(0, kTwoPi);
    const double noise = rng.uniform(0.006, 0.016);
    const Vec3& l = c == 0 ? lv.i : (c == 1 ? lv.ii : lv.v[c - 2]);
    auto& out = measured[c];
    for (std::size_t k = 0; k < n; ++k) {
      const double t = k / fs;
      out[k] = l[0] * h.hx[k] + l[1] * h.hy[k] + l[2] * h.hz[k] +
               a1 * std::sin(kTwoPi * w1 * t + ph1) + a2 * std::sin(kTwoPi * w2 * t + ph2) +
               noise * rng.normal();
    }
  }
  return measured;
}

// The 12 leads: I, II and V1..V6 as measured, III, aVR, aVL, aVF derived as a device does.
std::vector<std::vector<float>> deriveLeads(const std::vector<std::vector<double>>& measured, std::size_t n) {
  std::vector<std::vector<float>> leads(12, std::vector<float>(n));
  for (std::size_t k = 0; k < n; ++k) {
    const double I = measured[0][k], II = measured[1][k];
    leads[0][k] = static_cast<float>(I);
    leads[1][k] = static_cast<float>(II);
    leads[2][k] = static_cast<float>(II - I);
    leads[3][k] = static_cast<float>(-(I + II) / 2.0);
    leads[4][k] = static_cast<float>(I - II / 2.0);
    leads[5][k] = static_cast<float>(II - I / 2.0);
    for (int v = 0; v < 6; ++v) leads[6 + v][k] = static_cast<float>(measured[2 + v][k]);
  }
  return leads;
}

// Device-style measurements and interpretation statements.
void addMeasurements(EcgFacts& f, const Phenotype& p, double meanRr, double pr, double qt) {
  f.rrMs = std::round(meanRr * 1000.0);
  f.heartRateBpm = std::round(60.0 / meanRr);
  f.prMs = std::round(pr * 1000.0);
  f.qrsMs = std::round(p.qrsMs);
  f.qtMs = std::round(qt * 1000.0);
  f.qtcMs = std::round(qt * 1000.0 / std::sqrt(meanRr));  // Bazett
  f.statements.push_back("SYNTHETIC ECG");
  f.statements.push_back(f.heartRateBpm < 60 ? "SINUS BRADYCARDIA"
                                             : (f.heartRateBpm > 100 ? "SINUS TACHYCARDIA" : "SINUS RHYTHM"));
  if (f.lbbbLike) f.statements.push_back("LEFT BUNDLE BRANCH BLOCK PATTERN");
  else if (p.qrsMs >= 110) f.statements.push_back("NONSPECIFIC INTRAVENTRICULAR CONDUCTION DELAY");
  if (f.pathologicalQ) f.statements.push_back("Q WAVES IN ANTERIOR LEADS");
  if (f.tInversion) f.statements.push_back("T WAVE ABNORMALITY");
  if (!f.lbbbLike && f.sokolowLyonMv >= 3.5) f.statements.push_back("LEFT VENTRICULAR HYPERTROPHY BY VOLTAGE");
}

}  // namespace

EcgSignal synthesizeEcg(const Phenotype& p, std::uint64_t seed, double seconds, double fs) {
  Rng rng(mixSeed(seed, 0, "ecg:" + p.patientId));
  static const LeadVectors lv;
  const double rr = 60.0 / p.heartRateBpm;

  // Random draws in a fixed order: per-recording variation, RR variation, then wander and noise.
  const Variation d = drawVariation(rng);
  EcgFacts f = initialFacts(p, d);
  double pr = 0, qt = 0;
  const BeatModel beat = buildBeat(p, d, f, rr, pr, qt);
  f.sokolowLyonMv = sokolowLyon(beat, p.qrsMs / 1000.0, lv);

  const std::size_t n = static_cast<std::size_t>(std::llround(seconds * fs));
  EcgSignal sig;
  sig.samplingHz = fs;
  Rhythm rhythm = simulateRhythm(beat, d, rr, seconds, fs, n, rng);
  sig.qrsOnsetsS = std::move(rhythm.qrsOnsetsS);
  sig.leads = deriveLeads(measureLeads(rhythm, lv, n, fs, rng), n);

  const double meanRr = rhythm.nRr > 0 ? rhythm.sumRr / rhythm.nRr : rr;
  addMeasurements(f, p, meanRr, pr, qt);
  sig.facts = f;
  return sig;
}

}  // namespace e2e::synth
