// Tests of the synthetic paired ECG + echo cohort generator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <map>
#include <set>
#include <sstream>

#include "synth/cohort.h"
#include "synth_test_util.h"

using namespace e2e::synth;
using namespace synthtest;

namespace {

CohortOptions smallOptions(const fs::path& dir, std::uint64_t seed, int patients, int threads) {
  CohortOptions o;
  o.outDir = dir.string();
  o.seed = seed;
  o.patients = patients;
  o.threads = threads;
  o.echoFrames = 12;
  o.echoSize = 80;
  return o;
}

Phenotype basePhenotype() {
  Phenotype p;
  p.patientId = "P900001";
  p.ageYears = 60;
  p.sex = 'M';
  p.heartRateBpm = 70;
  p.lvefPercent = 60;
  p.lvEdvMl = 120;
  p.lvEsvMl = 48;
  p.wallThicknessMm = 9.5;
  p.lvMassG = 160;
  p.qrsMs = 90;
  return p;
}

// Slope energy summed over the independent leads (I, II, V1..V6), smoothed over ~10 ms.
std::vector<double> slopeEnergy(const Ecg& e) {
  const std::size_t n = e.samples;
  std::vector<double> en(n, 0.0);
  const int idx[8] = {0, 1, 6, 7, 8, 9, 10, 11};
  for (int c : idx)
    for (std::size_t k = 2; k + 2 < n; ++k) {
      const double d = e.leads[c][k + 2] - e.leads[c][k - 2];
      en[k] += d * d;
    }
  const int w = std::max(1, static_cast<int>(std::lround(0.010 * e.fs)));
  std::vector<double> sm(n, 0.0);
  double acc = 0;
  for (std::size_t k = 0; k < n; ++k) {
    acc += en[k];
    if (k >= static_cast<std::size_t>(w)) acc -= en[k - w];
    sm[k] = acc / w;
  }
  return sm;
}

// QRS centres: maxima of the slope energy above 30 % of the global maximum, 300 ms apart.
std::vector<std::size_t> detectQrs(const std::vector<double>& en, double fs) {
  const double thr = 0.3 * *std::max_element(en.begin(), en.end());
  const std::size_t refractory = static_cast<std::size_t>(0.3 * fs);
  std::vector<std::size_t> peaks;
  for (std::size_t k = 1; k + 1 < en.size(); ++k) {
    if (en[k] < thr || en[k] < en[k - 1] || en[k] < en[k + 1]) continue;
    if (!peaks.empty() && k - peaks.back() < refractory) {
      if (en[k] > en[peaks.back()]) peaks.back() = k;
      continue;
    }
    peaks.push_back(k);
  }
  return peaks;
}

// Mean QRS width (ms): first to last sample, within 150 ms of each detected QRS, where the
// slope energy exceeds 5 % of that QRS's peak (a device-like onset/offset on the spatial slope).
double measuredQrsWidthMs(const Ecg& e) {
  const auto en = slopeEnergy(e);
  const auto peaks = detectQrs(en, e.fs);
  const std::size_t lim = static_cast<std::size_t>(0.15 * e.fs);
  double sum = 0;
  int n = 0;
  for (std::size_t pk : peaks) {
    if (pk < lim || pk + lim >= en.size()) continue;
    const double thr = 0.05 * en[pk];
    std::size_t a = pk, b = pk;
    for (std::size_t k = pk - lim; k <= pk + lim; ++k)
      if (en[k] > thr) { a = std::min(a, k); b = std::max(b, k); }
    sum += (b - a) * 1000.0 / e.fs;
    ++n;
  }
  return n ? sum / n : 0.0;
}

// Median over beats of peak-to-peak amplitude of V1 plus V5 around each QRS (mV), Sokolow-like.
double measuredQrsVoltage(const Ecg& e) {
  const auto en = slopeEnergy(e);
  const auto peaks = detectQrs(en, e.fs);
  std::vector<double> v;
  const std::size_t half = static_cast<std::size_t>(0.08 * e.fs);
  for (std::size_t pk : peaks) {
    if (pk < half || pk + half >= en.size()) continue;
    double amp = 0;
    for (int lead : {6, 10}) {
      double lo = 1e9, hi = -1e9;
      for (std::size_t k = pk - half; k <= pk + half; ++k) {
        lo = std::min(lo, e.leads[lead][k]);
        hi = std::max(hi, e.leads[lead][k]);
      }
      amp += hi - lo;
    }
    v.push_back(amp);
  }
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Ecg loadEcg(const std::string& path) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(path.c_str()).good()) << path;
  return readEcg(ff);
}

struct EchoAreas {
  std::vector<int> dark;  // dark (blood) pixels inside the sector, per frame
};

EchoAreas loadEchoAreas(const std::string& path) {
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(path.c_str()).good()) << path;
  const Echo e = readEcho(ff);
  EchoAreas a;
  for (int f = 0; f < e.frames; ++f) {
    const std::uint8_t* px = e.frame(f);
    int n = 0;
    for (int i = 0; i < e.rows * e.cols; ++i) n += (px[i] > 0 && px[i] <= kEchoBloodMax) ? 1 : 0;
    a.dark.push_back(n);
  }
  return a;
}

}  // namespace

// ------------------------------------------------------------------------------ phenotypes --

TEST(SynthPhenotype, DeterministicBySeedAndIndex) {
  const Phenotype a = samplePhenotype(7, 12), b = samplePhenotype(7, 12), c = samplePhenotype(8, 12);
  EXPECT_EQ(a.patientId, "P000013");
  EXPECT_EQ(a.lvefPercent, b.lvefPercent);
  EXPECT_EQ(a.lvEdvMl, b.lvEdvMl);
  EXPECT_EQ(a.qrsMs, b.qrsMs);
  EXPECT_EQ(a.sex, b.sex);
  EXPECT_FALSE(a.lvefPercent == c.lvefPercent && a.lvEdvMl == c.lvEdvMl && a.lvMassG == c.lvMassG);
}

TEST(SynthPhenotype, ClassBalanceAndConsistencyOver1000) {
  int cls[3] = {0, 0, 0};
  int wide = 0, wideLow = 0, lowEf = 0;
  for (int i = 0; i < 1000; ++i) {
    const Phenotype p = samplePhenotype(42, i);
    ++cls[p.lvefClass()];
    EXPECT_GE(p.lvefPercent, 10.0);
    EXPECT_LE(p.lvefPercent, 80.0);
    EXPECT_NEAR(p.lvEsvMl, p.lvEdvMl * (1.0 - p.lvefPercent / 100.0), 0.11) << i;
    EXPECT_GT(p.lvMassG, 50.0);
    EXPECT_GE(p.wallThicknessMm, 6.0);
    EXPECT_GE(p.heartRateBpm, 40.0);
    EXPECT_TRUE(p.sex == 'M' || p.sex == 'F');
    if (p.lvefPercent < 50) EXPECT_TRUE(p.structuralHeartDisease) << i;
    if (p.wallThicknessMm >= 13) EXPECT_TRUE(p.structuralHeartDisease) << i;
    if (p.lvefPercent < 40) ++lowEf;
    if (p.qrsMs >= 120) {
      ++wide;
      if (p.lvefPercent < 40) ++wideLow;
    }
  }
  EXPECT_NEAR(cls[0] / 1000.0, 0.25, 0.05);
  EXPECT_NEAR(cls[1] / 1000.0, 0.20, 0.05);
  EXPECT_NEAR(cls[2] / 1000.0, 0.55, 0.05);
  // Wide QRS concentrates in low EF: P(wide | EF<40) well above P(wide).
  ASSERT_GT(lowEf, 0);
  EXPECT_GT(static_cast<double>(wideLow) / lowEf, 2.0 * wide / 1000.0);
}

TEST(SynthPhenotype, LowEfHeartsAreLarger) {
  double edvLow = 0, edvNormal = 0;
  int nLow = 0, nNormal = 0;
  for (int i = 0; i < 600; ++i) {
    const Phenotype p = samplePhenotype(3, i);
    if (p.lvefPercent < 35) { edvLow += p.lvEdvMl; ++nLow; }
    if (p.lvefPercent >= 55) { edvNormal += p.lvEdvMl; ++nNormal; }
  }
  ASSERT_GT(nLow, 10);
  ASSERT_GT(nNormal, 10);
  EXPECT_GT(edvLow / nLow, 1.3 * edvNormal / nNormal);
}

TEST(SynthUid, ValidDeterministicAndDistinct) {
  const std::string a = makeUid(1, 2, "study");
  EXPECT_EQ(a, makeUid(1, 2, "study"));
  EXPECT_NE(a, makeUid(1, 3, "study"));
  EXPECT_NE(a, makeUid(2, 2, "study"));
  EXPECT_NE(a, makeUid(1, 2, "ecg-sop"));
  ASSERT_EQ(a.rfind("2.25.", 0), 0u);
  EXPECT_LE(a.size(), 64u);
  EXPECT_NE(a[5], '0');
  EXPECT_TRUE(std::all_of(a.begin() + 5, a.end(), [](char c) { return c >= '0' && c <= '9'; }));
}

// ----------------------------------------------------------------------------- determinism --

TEST(SynthCohort, ByteIdenticalAcrossThreadCountsAndSeedSensitive) {
  TempDir d1, d2, d3;
  int calls = 0, last = 0;
  const auto r1 = generateCohort(smallOptions(d1.path, 99, 3, 1), [&](int done, int total) {
    ++calls;
    last = done;
    EXPECT_EQ(total, 3);
  });
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(last, 3);
  const auto r2 = generateCohort(smallOptions(d2.path, 99, 3, 3));
  const auto r3 = generateCohort(smallOptions(d3.path, 100, 3, 2));
  ASSERT_EQ(r1.files.size(), 15u);
  ASSERT_EQ(r2.files.size(), 15u);
  for (std::size_t i = 0; i < r1.files.size(); ++i) {
    const fs::path rel = fs::relative(r1.files[i], d1.path);
    EXPECT_EQ(rel, fs::relative(r2.files[i], d2.path));
    const std::string a = readBytes(r1.files[i]), b = readBytes(r2.files[i]);
    ASSERT_GT(a.size(), 1000u);
    EXPECT_TRUE(a == b) << rel;
    const std::string c = readBytes(d3.path / rel);
    EXPECT_FALSE(a == c) << "different seed, same bytes: " << rel;
  }
  EXPECT_EQ(readBytes(r1.labelsCsv), readBytes(r2.labelsCsv));
  EXPECT_NE(readBytes(r1.labelsCsv), readBytes(r3.labelsCsv));
  // No temporary files are left behind.
  for (auto& e : fs::recursive_directory_iterator(d1.path))
    EXPECT_EQ(e.path().string().find(".tmp"), std::string::npos) << e.path();
}

TEST(SynthCohort, LabelsCsvMatchesPhenotypesAndFiles) {
  TempDir d;
  const auto r = generateCohort(smallOptions(d.path, 5, 4, 2));
  std::istringstream in(readBytes(r.labelsCsv));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "patient_id,study_uid,age,sex,lvef_percent,lvef_class,shd,edv,esv,wall_mm,lv_mass_g,qrs_ms,hr");
  int row = 0;
  while (std::getline(in, line)) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) f.push_back(cell);
    ASSERT_EQ(f.size(), 13u) << line;
    const Phenotype& p = r.patients[row];
    EXPECT_EQ(f[0], p.patientId);
    EXPECT_NEAR(std::stod(f[4]), p.lvefPercent, 0.051);
    EXPECT_EQ(std::stoi(f[5]), p.lvefClass());
    EXPECT_EQ(f[6], p.structuralHeartDisease ? "1" : "0");
    // The study UID in the labels is the one in every DICOM file of that patient.
    for (const char* name : {"ecg.dcm", "echo_A4C.dcm", "echo_PSAX.dcm"}) {
      DcmFileFormat ff;
      ASSERT_TRUE(ff.loadFile((d.path / p.patientId / name).c_str()).good());
      EXPECT_EQ(str(ff.getDataset(), DCM_StudyInstanceUID), f[1]);
      EXPECT_EQ(str(ff.getDataset(), DCM_PatientID), p.patientId);
    }
    ++row;
  }
  EXPECT_EQ(row, 4);
}

TEST(SynthCohort, RejectsBadOptions) {
  CohortOptions o;
  EXPECT_THROW(generateCohort(o), std::invalid_argument);  // no outDir
  TempDir d;
  o.outDir = d.path.string();
  o.views = {"A5C"};
  EXPECT_THROW(generateCohort(o), std::invalid_argument);
  EXPECT_THROW(synthesizeEcho(basePhenotype(), "XYZ", 1), std::invalid_argument);
  Phenotype bad = basePhenotype();
  bad.patientId = "../escape";
  o.views = {"A4C"};
  EXPECT_THROW(writePatient(o, bad, 0), std::invalid_argument);
  EXPECT_FALSE(fs::exists(d.path.parent_path() / "escape"));
}

// ----------------------------------------------------------------------------------- ECG --

TEST(SynthEcg, DicomStructureAndSyntheticMarkers) {
  TempDir d;
  CohortOptions o = smallOptions(d.path, 11, 1, 1);
  const auto files = writePatient(o, basePhenotype(), 0);
  ASSERT_EQ(files.size(), 5u);
  DcmFileFormat ff;
  ASSERT_TRUE(ff.loadFile(files[0].c_str()).good());
  DcmDataset* ds = ff.getDataset();
  EXPECT_EQ(str(ds, DCM_SOPClassUID), "1.2.840.10008.5.1.4.1.1.9.1.1");
  EXPECT_EQ(str(ff.getMetaInfo(), DCM_MediaStorageSOPClassUID), "1.2.840.10008.5.1.4.1.1.9.1.1");
  EXPECT_EQ(str(ds, DCM_Modality), "ECG");
  EXPECT_EQ(str(ds, DCM_PatientName), "SYNTHETIC^P900001");
  EXPECT_EQ(str(ds, DCM_StudyDescription).rfind("SYNTHETIC", 0), 0u);
  EXPECT_EQ(str(ds, DCM_SeriesDescription).rfind("SYNTHETIC", 0), 0u);
  EXPECT_NE(str(ds, DCM_PatientComments).find("not clinical data"), std::string::npos);
  EXPECT_EQ(str(ds, DCM_PatientAge), "060Y");
  EXPECT_EQ(str(ds, DCM_StudyDate).size(), 8u);

  const Ecg e = readEcg(ff);
  EXPECT_EQ(e.channels, 12u);
  EXPECT_EQ(e.samples, 5000u);
  EXPECT_DOUBLE_EQ(e.fs, 500.0);
  ASSERT_EQ(e.leads.size(), 12u);

  // Lead codes: SCPECG I, II, III, aVR, aVL, aVF, V1..V6; units mV.
  const char* codes[12] = {"5.6.3-9-1",  "5.6.3-9-2", "5.6.3-9-61", "5.6.3-9-62", "5.6.3-9-63", "5.6.3-9-64",
                           "5.6.3-9-3",  "5.6.3-9-4", "5.6.3-9-5",  "5.6.3-9-6",  "5.6.3-9-7",  "5.6.3-9-8"};
  DcmItem* grp = nullptr;
  ASSERT_TRUE(ds->findAndGetSequenceItem(DCM_WaveformSequence, grp, 0).good());
  EXPECT_EQ(str(grp, DCM_WaveformSampleInterpretation), "SS");
  for (int c = 0; c < 12; ++c) {
    DcmItem* cd = nullptr;
    ASSERT_TRUE(grp->findAndGetSequenceItem(DCM_ChannelDefinitionSequence, cd, c).good());
    DcmItem* src = nullptr;
    ASSERT_TRUE(cd->findAndGetSequenceItem(DCM_ChannelSourceSequence, src, 0).good());
    EXPECT_EQ(str(src, DCM_CodeValue), codes[c]);
    EXPECT_EQ(str(src, DCM_CodingSchemeDesignator), "SCPECG");
    DcmItem* unit = nullptr;
    ASSERT_TRUE(cd->findAndGetSequenceItem(DCM_ChannelSensitivityUnitsSequence, unit, 0).good());
    EXPECT_EQ(str(unit, DCM_CodeValue), "mV");
  }

  // Einthoven: III = II - I, aVF = II - I/2 (to a few quantisation steps).
  for (unsigned k = 0; k < e.samples; k += 7) {
    EXPECT_NEAR(e.leads[2][k], e.leads[1][k] - e.leads[0][k], 0.011);
    EXPECT_NEAR(e.leads[5][k], e.leads[1][k] - e.leads[0][k] / 2, 0.011);
  }
  // Physiological amplitudes: a QRS of a few mV, not flat.
  double maxAbs = 0;
  for (const auto& l : e.leads)
    for (double v : l) maxAbs = std::max(maxAbs, std::fabs(v));
  EXPECT_GT(maxAbs, 0.5);
  EXPECT_LT(maxAbs, 8.0);

  // Annotations: "SYNTHETIC ECG" statement, QRS duration and Bazett QTc measurements.
  bool synthetic = false;
  double qrs = NAN, qt = NAN, qtc = NAN, rr = NAN, hr = NAN;
  for (int i = 0;; ++i) {
    DcmItem* a = nullptr;
    if (ds->findAndGetSequenceItem(DCM_WaveformAnnotationSequence, a, i).bad()) break;
    if (str(a, DCM_UnformattedTextValue) == "SYNTHETIC ECG") synthetic = true;
    DcmItem* cn = nullptr;
    if (a->findAndGetSequenceItem(DCM_ConceptNameCodeSequence, cn, 0).good()) {
      Float64 v = 0;
      a->findAndGetFloat64(DCM_NumericValue, v);
      const std::string code = str(cn, DCM_CodeValue);
      if (code == "5.13.5-9") qrs = v;
      if (code == "5.13.5-11") qt = v;
      if (code == "5.10.2.5-5") qtc = v;
      if (code == "5.10.2.1-3") rr = v;
      if (code == "8867-4") hr = v;
    }
  }
  EXPECT_TRUE(synthetic);
  EXPECT_DOUBLE_EQ(qrs, 90.0);
  EXPECT_NEAR(hr, 70.0, 4.0);
  EXPECT_NEAR(qtc, qt / std::sqrt(rr / 1000.0), 1.0);

  // The measured heart rate on the signal agrees with the phenotype.
  const auto peaks = detectQrs(slopeEnergy(e), e.fs);
  EXPECT_NEAR(static_cast<double>(peaks.size()), 70.0 / 6.0, 2.0);
}

TEST(SynthEcg, MeasuredQrsWidthGrowsWithQrsDuration) {
  TempDir d;
  CohortOptions o = smallOptions(d.path, 21, 1, 1);
  o.views = {};
  std::vector<double> widths;
  for (double qrs : {80.0, 105.0, 135.0, 165.0}) {
    Phenotype p = basePhenotype();
    p.qrsMs = qrs;
    p.patientId = "P90000" + std::to_string(static_cast<int>(qrs) % 10);
    const auto files = writePatient(o, p, 0);
    widths.push_back(measuredQrsWidthMs(loadEcg(files[0])));
  }
  for (std::size_t i = 1; i < widths.size(); ++i)
    EXPECT_GT(widths[i], widths[i - 1] + 10.0) << "widths " << widths[0] << " " << widths[1] << " " << widths[2] << " "
                                               << widths[3];
  EXPECT_GT(widths.back(), 1.5 * widths.front());
}

TEST(SynthEcg, QrsVoltageGrowsWithLvMass) {
  TempDir d;
  CohortOptions o = smallOptions(d.path, 23, 1, 1);
  o.views = {};
  std::vector<double> volts;
  for (double mass : {110.0, 180.0, 280.0}) {
    Phenotype p = basePhenotype();
    p.lvMassG = mass;
    const auto files = writePatient(o, p, 0);
    volts.push_back(measuredQrsVoltage(loadEcg(files[0])));
  }
  EXPECT_GT(volts[1], 1.2 * volts[0]);
  EXPECT_GT(volts[2], 1.2 * volts[1]);
  // Sokolow-Lyon voltage of the model follows LV mass too.
  Phenotype small = basePhenotype(), big = basePhenotype();
  small.lvMassG = 110;
  big.lvMassG = 320;
  EXPECT_GT(synthesizeEcg(big, 5).facts.sokolowLyonMv, 1.5 * synthesizeEcg(small, 5).facts.sokolowLyonMv);
}

TEST(SynthEcg, FindingsFollowThePhenotype) {
  int lowEf = 0, lowEfQ = 0, normal = 0, normalQ = 0, bigMass = 0, bigMassLvh = 0, smallMass = 0, smallMassLvh = 0;
  for (int i = 0; i < 300; ++i) {
    const Phenotype p = samplePhenotype(9, i);
    const EcgSignal s = synthesizeEcg(p, 1000 + i, 2.0);
    ASSERT_EQ(s.leads.size(), 12u);
    ASSERT_EQ(s.leads[0].size(), 1000u);
    const auto& st = s.facts.statements;
    auto has = [&](const std::string& x) { return std::find(st.begin(), st.end(), x) != st.end(); };
    EXPECT_EQ(st.front(), "SYNTHETIC ECG");
    EXPECT_EQ(has("LEFT BUNDLE BRANCH BLOCK PATTERN"), p.qrsMs >= 120) << i;
    EXPECT_EQ(s.facts.pathologicalQ, has("Q WAVES IN ANTERIOR LEADS"));
    EXPECT_DOUBLE_EQ(s.facts.qrsMs, p.qrsMs);
    if (p.lvefPercent < 40) { ++lowEf; lowEfQ += s.facts.pathologicalQ; }
    if (p.lvefPercent >= 50) { ++normal; normalQ += s.facts.pathologicalQ; }
    if (p.qrsMs < 120) {
      if (p.lvMassG > 230) { ++bigMass; bigMassLvh += has("LEFT VENTRICULAR HYPERTROPHY BY VOLTAGE"); }
      if (p.lvMassG < 160) { ++smallMass; smallMassLvh += has("LEFT VENTRICULAR HYPERTROPHY BY VOLTAGE"); }
    }
  }
  ASSERT_GT(lowEf, 20);
  ASSERT_GT(normal, 50);
  EXPECT_GT(static_cast<double>(lowEfQ) / lowEf, static_cast<double>(normalQ) / normal + 0.15);
  ASSERT_GT(bigMass, 5);
  ASSERT_GT(smallMass, 5);
  EXPECT_GT(static_cast<double>(bigMassLvh) / bigMass, static_cast<double>(smallMassLvh) / smallMass + 0.3);
}

TEST(SynthEcg, OtherSamplingRates) {
  const Phenotype p = basePhenotype();
  const EcgSignal s = synthesizeEcg(p, 3, 10.0, 1000.0);
  ASSERT_EQ(s.leads.size(), 12u);
  EXPECT_EQ(s.leads[0].size(), 10000u);
  EXPECT_NEAR(static_cast<double>(s.qrsOnsetsS.size()), 70.0 / 6.0, 2.0);
}

// ---------------------------------------------------------------------------------- echo --

TEST(SynthEcho, OneCardiacCycleAtThePhenotypeHeartRate) {
  for (double hr : {55.0, 70.0, 95.0}) {
    Phenotype p = basePhenotype();
    p.heartRateBpm = hr;
    const EchoLoop loop = synthesizeEcho(p, "A2C", 4, 32, 64);
    EXPECT_GE(loop.fps, 30.0);
    EXPECT_LE(loop.fps, 50.0);
    const double rr = 60.0 / hr;
    // End systole at ~38 % of the RR interval; the largest area at end-diastole (frame 0).
    EXPECT_NEAR(loop.esFrame / loop.fps, 0.38 * rr, 1.5 / loop.fps) << hr;
    EXPECT_EQ(std::max_element(loop.lvAreaCm2.begin(), loop.lvAreaCm2.end()) - loop.lvAreaCm2.begin(), 0);
    EXPECT_EQ(std::min_element(loop.lvAreaCm2.begin(), loop.lvAreaCm2.end()) - loop.lvAreaCm2.begin(),
              loop.esFrame);
  }
}

TEST(SynthEcho, DicomStructureAndSyntheticMarkers) {
  TempDir d;
  CohortOptions o = smallOptions(d.path, 13, 1, 1);
  const Phenotype p = basePhenotype();
  const auto files = writePatient(o, p, 0);
  ASSERT_EQ(files.size(), 5u);
  const std::map<std::string, std::string> codes = {
      {"A4C", "399214001"}, {"A2C", "399232001"}, {"PLAX", "399139001"}, {"PSAX", "399271003"}};
  std::set<std::string> series;
  for (std::size_t i = 1; i < files.size(); ++i) {
    const std::string view = o.views[i - 1];
    EXPECT_EQ(fs::path(files[i]).filename().string(), "echo_" + view + ".dcm");
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(files[i].c_str()).good());
    DcmDataset* ds = ff.getDataset();
    EXPECT_EQ(str(ds, DCM_SOPClassUID), "1.2.840.10008.5.1.4.1.1.3.1");
    EXPECT_EQ(str(ds, DCM_Modality), "US");
    EXPECT_EQ(str(ds, DCM_SeriesDescription), "SYNTHETIC " + view);
    EXPECT_EQ(str(ds, DCM_PatientName), "SYNTHETIC^P900001");
    EXPECT_NE(str(ds, DCM_ImageComments).find("not clinical data"), std::string::npos);
    EXPECT_EQ(str(ds, DCM_PhotometricInterpretation), "MONOCHROME2");
    series.insert(str(ds, DCM_SeriesInstanceUID));
    DcmItem* vc = nullptr;
    ASSERT_TRUE(ds->findAndGetSequenceItem(DCM_ViewCodeSequence, vc, 0).good());
    EXPECT_EQ(str(vc, DCM_CodeValue), codes.at(view));
    EXPECT_EQ(str(vc, DCM_CodingSchemeDesignator), "SCT");
    Float64 frameTime = 0;
    ASSERT_TRUE(ds->findAndGetFloat64(DCM_FrameTime, frameTime).good());
    EXPECT_GE(1000.0 / frameTime, 29.9);
    EXPECT_LE(1000.0 / frameTime, 50.1);
    DcmItem* reg = nullptr;
    ASSERT_TRUE(ds->findAndGetSequenceItem(DCM_SequenceOfUltrasoundRegions, reg, 0).good());
    Uint16 units = 0;
    reg->findAndGetUint16(DCM_PhysicalUnitsXDirection, units);
    EXPECT_EQ(units, 3);
    Float64 dx = 0;
    reg->findAndGetFloat64(DCM_PhysicalDeltaX, dx);
    const EchoLoop loop = synthesizeEcho(p, view, 0, o.echoFrames, o.echoSize);
    EXPECT_NEAR(dx, loop.cmPerPixel, 1e-9);
    EXPECT_GT(dx * o.echoSize, 12.0);  // a 13-24 cm deep sector
    const Echo e = readEcho(ff);
    EXPECT_EQ(e.frames, o.echoFrames);
    EXPECT_EQ(e.rows, o.echoSize);
    EXPECT_EQ(e.cols, o.echoSize);
    // Outside the sector is black; the top corners are outside a 75-degree fan.
    EXPECT_EQ(e.frame(0)[e.cols * (e.rows / 3)], 0);
    EXPECT_EQ(e.frame(0)[e.cols * (e.rows / 3) + e.cols - 1], 0);
  }
  EXPECT_EQ(series.size(), 4u);
}

TEST(SynthEcho, CavityAreaFollowsVolumesAndEjectionFraction) {
  TempDir d;
  CohortOptions o = smallOptions(d.path, 17, 1, 1);
  o.echoFrames = 32;
  o.echoSize = 112;
  o.views = {"A4C", "PSAX"};
  std::vector<double> changeA4c, changePsax;
  for (double ef : {25.0, 45.0, 65.0}) {
    Phenotype p = basePhenotype();
    p.lvefPercent = ef;
    p.lvEdvMl = 140;
    p.lvEsvMl = 140 * (1 - ef / 100);
    const auto files = writePatient(o, p, 0);
    const EchoLoop loop = synthesizeEcho(p, "A4C", 0, o.echoFrames, o.echoSize);
    for (int v = 0; v < 2; ++v) {
      const EchoAreas a = loadEchoAreas(files[1 + v]);
      ASSERT_EQ(a.dark.size(), 32u);
      const int ed = a.dark[0];
      const int es = *std::min_element(a.dark.begin(), a.dark.end());
      EXPECT_GT(ed, es) << "view " << v << " EF " << ef;
      (v == 0 ? changeA4c : changePsax).push_back(static_cast<double>(ed - es) / ed);
      if (v == 0) {
        // End systole is where the generator says it is, and the dark-pixel change equals the
        // drawn LV area change in cm^2 (PhysicalDelta consistent with the geometry).
        EXPECT_NEAR(a.dark[loop.esFrame], es, 0.03 * es + 10);
        const double cm2 = loop.cmPerPixel * loop.cmPerPixel;
        const double drawn = loop.lvAreaCm2[0] - loop.lvAreaCm2[loop.esFrame];
        EXPECT_NEAR((ed - a.dark[loop.esFrame]) * cm2, drawn, 0.15 * drawn + 1.0) << "EF " << ef;
      }
    }
    // The drawn cavity shrinks from end-diastole to end-systole.
    EXPECT_GT(loop.lvAreaCm2[0], loop.lvAreaCm2[loop.esFrame]);
  }
  EXPECT_LT(changeA4c[0], changeA4c[1]);
  EXPECT_LT(changeA4c[1], changeA4c[2]);
  EXPECT_LT(changePsax[0], changePsax[1]);
  EXPECT_LT(changePsax[1], changePsax[2]);
}

TEST(SynthEcho, SpeckleIsDeterministicAndTextured) {
  const Phenotype p = basePhenotype();
  const EchoLoop a = synthesizeEcho(p, "PLAX", 77, 4, 96), b = synthesizeEcho(p, "PLAX", 77, 4, 96),
                 c = synthesizeEcho(p, "PLAX", 78, 4, 96);
  EXPECT_EQ(a.pixels, b.pixels);
  EXPECT_NE(a.pixels, c.pixels);
  // Tissue is speckled: many distinct grey levels, and the histogram is not degenerate.
  std::set<int> levels(a.pixels.begin(), a.pixels.end());
  EXPECT_GT(levels.size(), 100u);
}
