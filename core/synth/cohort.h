// Synthetic paired ECG + echo cohort, written as real DICOM. Clearly labelled synthetic.
// No open data pairs ECG with echo/LVEF; this cohort exists for development, tests and
// benchmarks only, and is never clinical evidence.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace e2e::synth {

// Latent phenotype of one synthetic patient; drives both the ECG and the echo.
struct Phenotype {
  std::string patientId;
  double ageYears = 60;
  char sex = 'M';
  double heartRateBpm = 70;
  double lvefPercent = 60;       // ejection fraction
  double lvEdvMl = 120;          // end-diastolic volume
  double lvEsvMl = 48;           // end-systolic volume
  double wallThicknessMm = 9;    // septal/posterior wall
  double lvMassG = 150;
  double qrsMs = 90;             // conduction (QRS duration)
  bool structuralHeartDisease = false;
  int lvefClass() const { return lvefPercent < 40 ? 0 : (lvefPercent < 50 ? 1 : 2); }  // <40, 40-49, >=50
};

struct CohortOptions {
  std::string outDir;
  int patients = 100;
  std::uint64_t seed = 42;
  std::vector<std::string> views = {"A4C", "A2C", "PLAX", "PSAX"};
  int echoFrames = 32;           // frames per loop
  int echoSize = 112;            // rows = cols of each echo frame
  double ecgSeconds = 10.0;
  double ecgSamplingHz = 500.0;
  int threads = 0;               // 0 = all cores
};

struct CohortResult {
  std::vector<Phenotype> patients;
  std::vector<std::string> files;   // every DICOM file written
  std::string labelsCsv;            // labels.csv written in outDir (patient_id, lvef, lvef_class, shd, ...)
};

// Deterministic by seed: the same options give byte-identical files.
Phenotype samplePhenotype(std::uint64_t seed, int index);
CohortResult generateCohort(const CohortOptions& opts,
                            const std::function<void(int done, int total)>& progress = {});

}  // namespace e2e::synth
