// Latent phenotype sampling for the synthetic cohort.
#include <cmath>
#include <cstdio>

#include "synth/cohort.h"
#include "synth/rng.h"

namespace e2e::synth {

namespace {
// Teichholz: V = 7 / (2.4 + D) * D^3 (D in cm, V in ml). Inverted by bisection.
double teichholzDiameterCm(double volumeMl) {
  double lo = 1.0, hi = 12.0;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    const double v = 7.0 / (2.4 + mid) * mid * mid * mid;
    (v < volumeMl ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}
}  // namespace

Phenotype samplePhenotype(std::uint64_t seed, int index) {
  Rng rng(mixSeed(seed, static_cast<std::uint64_t>(index), "phenotype"));
  Phenotype p;
  char id[32];
  std::snprintf(id, sizeof id, "P%06d", index + 1);
  p.patientId = id;

  // LVEF: mixture so that <40 / 40-49 / >=50 are about 25 / 20 / 55 %.
  const double u = rng.uniform();
  int cls = u < 0.25 ? 0 : (u < 0.45 ? 1 : 2);
  if (cls == 0) p.lvefPercent = 15.0 + 24.9 * std::pow(rng.uniform(), 0.8);
  else if (cls == 1) p.lvefPercent = 40.0 + 9.9 * rng.uniform();
  else p.lvefPercent = clampd(rng.normal(61.0, 5.5), 50.0, 78.0);
  p.lvefPercent = std::round(p.lvefPercent * 10.0) / 10.0;
  if (p.lvefPercent >= 50.0 && cls != 2) p.lvefPercent = 49.9;
  if (p.lvefPercent < 50.0 && cls == 2) p.lvefPercent = 50.0;
  const double ef = p.lvefPercent;
  const double reduced = clampd((55.0 - ef) / 40.0, 0.0, 1.0);  // 0 normal .. 1 severely reduced

  p.ageYears = std::round(clampd(rng.normal(54.0 + 14.0 * reduced, 14.0), 18.0, 95.0));
  p.sex = rng.bernoulli(0.5 + 0.25 * reduced) ? 'M' : 'F';
  const bool male = p.sex == 'M';

  // Volumes: normal EDV by sex, dilated with reduced EF; ESV follows from EF exactly.
  const double edvNormal = male ? rng.normal(118.0, 18.0) : rng.normal(92.0, 15.0);
  p.lvEdvMl = clampd(edvNormal * (1.0 + 0.9 * reduced * reduced + 0.15 * reduced), 55.0, 330.0);
  p.lvEdvMl = std::round(p.lvEdvMl * 10.0) / 10.0;
  p.lvEsvMl = std::round(p.lvEdvMl * (1.0 - ef / 100.0) * 10.0) / 10.0;

  // Wall thickness: hypertrophy (hypertension, ageing) in a minority.
  double wall = male ? rng.normal(9.6, 1.0) : rng.normal(8.6, 0.9);
  const double pLvh = 0.10 + 0.20 * clampd((p.ageYears - 40.0) / 40.0, 0.0, 1.0);
  if (rng.bernoulli(pLvh)) wall += rng.uniform(2.5, 7.0);
  if (reduced > 0.6 && rng.bernoulli(0.5)) wall -= 1.0;  // thinned walls in dilated hearts
  p.wallThicknessMm = std::round(clampd(wall, 6.0, 20.0) * 10.0) / 10.0;

  // LV mass, ASE cube formula on the Teichholz-equivalent end-diastolic diameter.
  const double lvid = teichholzDiameterCm(p.lvEdvMl);
  const double h = p.wallThicknessMm / 10.0;
  const double d3 = std::pow(lvid + 2.0 * h, 3.0) - lvid * lvid * lvid;
  p.lvMassG = std::round((0.8 * 1.04 * d3 + 0.6) * 10.0) / 10.0;

  // Conduction: QRS wider with low EF (bundle-branch block), slightly with hypertrophy.
  double qrs = rng.normal(91.0, 8.0) + 0.6 * (p.wallThicknessMm - 9.0);
  if (cls == 0 && rng.bernoulli(0.45)) qrs = rng.uniform(125.0, 175.0);
  else if (cls == 1 && rng.bernoulli(0.20)) qrs = rng.uniform(115.0, 155.0);
  else if (rng.bernoulli(0.04)) qrs = rng.uniform(120.0, 150.0);
  else qrs += 12.0 * reduced;
  p.qrsMs = std::round(clampd(qrs, 70.0, 190.0));

  p.heartRateBpm = std::round(clampd(rng.normal(68.0 + 12.0 * reduced, 10.0), 45.0, 125.0));

  // Structural heart disease: reduced EF, LV hypertrophy (wall or mass index).
  const double bsa = male ? 1.95 : 1.72;
  const double massIndex = p.lvMassG / bsa;
  p.structuralHeartDisease = ef < 50.0 || p.wallThicknessMm >= 13.0 ||
                             massIndex > (male ? 115.0 : 95.0);
  return p;
}

}  // namespace e2e::synth
