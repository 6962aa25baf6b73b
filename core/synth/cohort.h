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

// Deterministic by seed: the same options give byte-identical files whatever the thread count
// (own PRNG, no std:: distributions; across platforms only libm rounding of exp/sin/log could differ).
Phenotype samplePhenotype(std::uint64_t seed, int index);
// Writes outDir/<patientId>/ecg.dcm and outDir/<patientId>/echo_<view>.dcm for every view, then
// outDir/labels.csv (one row per patient, in index order). Files are written atomically
// (temporary name + rename). The progress callback is called from worker threads, serialised.
// Throws std::runtime_error on an I/O or DICOM error.
CohortResult generateCohort(const CohortOptions& opts,
                            const std::function<void(int done, int total)>& progress = {});

// ---- Lower-level pieces (tests, benchmarks, tools) ------------------------------------------

// Device-style ECG facts of a synthetic recording (what the written annotations report).
struct EcgFacts {
  double heartRateBpm = 0, rrMs = 0, prMs = 0, qrsMs = 0, qtMs = 0, qtcMs = 0;  // QTc: Bazett
  bool pathologicalQ = false, tInversion = false, lbbbLike = false;
  double sokolowLyonMv = 0;                  // S(V1) + max R(V5, V6), measured on the noise-free beat
  std::vector<std::string> statements;       // "SYNTHETIC ECG" first
};

// 12-lead ECG in mV, standard order I, II, III, aVR, aVL, aVF, V1..V6.
struct EcgSignal {
  double samplingHz = 500;
  std::vector<std::vector<float>> leads;     // 12 x N
  std::vector<double> qrsOnsetsS;            // QRS onset time of every beat (s)
  EcgFacts facts;
};
// Dipole (vectorcardiogram) model projected on the 12 lead vectors; seed picks the
// per-recording variation (rhythm variability, noise, wander, Q waves, T inversion).
EcgSignal synthesizeEcg(const Phenotype& p, std::uint64_t seed, double seconds = 10.0,
                        double samplingHz = 500.0);

// One beating-heart echo loop, 8-bit grey, frame-major, row-major. 0 outside the sector.
struct EchoLoop {
  std::string view;
  int rows = 0, cols = 0, frames = 0;
  double fps = 0;
  double cmPerPixel = 0;                     // PhysicalDeltaX = PhysicalDeltaY
  double apexX = 0, apexY = 0;               // transducer (sector apex) in pixels
  int edFrame = 0, esFrame = 0;              // end-diastolic / end-systolic frames of the first cycle
  std::vector<double> lvAreaCm2;             // drawn LV cavity area per frame (cm^2)
  std::vector<std::uint8_t> pixels;
};
// Known views: A4C, A2C, PLAX, PSAX. Throws std::invalid_argument for others.
EchoLoop synthesizeEcho(const Phenotype& p, const std::string& view, std::uint64_t seed,
                        int frames = 32, int size = 112);

// Writes one patient's study (ECG + one echo per view) under opts.outDir/<p.patientId>/ and
// returns the paths written. index and opts.seed make the UIDs, dates and noise.
std::vector<std::string> writePatient(const CohortOptions& opts, const Phenotype& p, int index);

// Deterministic DICOM UID "2.25.<decimal>" from (seed, index, object label).
std::string makeUid(std::uint64_t seed, int index, const std::string& object);

// Dark-pixel threshold: blood pool is drawn in 1..kBloodMax, tissue above kTissueMin (tests).
constexpr int kEchoBloodMax = 26;
constexpr int kEchoTissueMin = 34;

}  // namespace e2e::synth
