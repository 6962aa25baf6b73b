// The synthetic cohort read back through the project's own DICOM readers.
#include <gtest/gtest.h>

#include <cmath>

#include "io/dicom_ecg.h"
#include "io/dicom_echo.h"
#include "synth/cohort.h"
#include "synth_test_util.h"

using namespace e2e::synth;
using namespace synthtest;

TEST(SynthRoundTrip, EcgReader) {
  TempDir d;
  CohortOptions o;
  o.outDir = d.path.string();
  o.patients = 2;
  o.seed = 31;
  o.views = {"A4C"};
  o.echoFrames = 8;
  o.echoSize = 64;
  o.threads = 1;
  const auto r = generateCohort(o);
  ASSERT_EQ(r.files.size(), 4u);
  for (int i = 0; i < 2; ++i) {
    const Phenotype& p = r.patients[i];
    const std::string path = r.files[2 * i];
    const e2e::EcgRecord rec = e2e::readDicomEcg(path);
    EXPECT_EQ(rec.identity.patientId, p.patientId);
    EXPECT_EQ(rec.identity.patientName, "SYNTHETIC^" + p.patientId);
    EXPECT_EQ(rec.identity.seriesDescription.rfind("SYNTHETIC", 0), 0u);
    EXPECT_EQ(rec.identity.studyUid, makeUid(o.seed, i, "study"));
    const e2e::EcgGroup* g = rec.rhythm();
    ASSERT_NE(g, nullptr);
    EXPECT_DOUBLE_EQ(g->samplingHz, 500.0);
    EXPECT_EQ(g->numSamples, 5000u);
    ASSERT_EQ(g->channels.size(), 12u);
    for (std::size_t c = 0; c < 12; ++c) {
      EXPECT_EQ(g->channels[c].label, e2e::standardLeads()[c]);
      EXPECT_EQ(g->channels[c].unit, "mV");
      ASSERT_EQ(g->channels[c].samples.size(), 5000u);
    }
    // Same values as decoding the file directly.
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(path.c_str()).good());
    const Ecg raw = readEcg(ff);
    for (std::size_t c = 0; c < 12; ++c)
      for (std::size_t k = 0; k < 5000; k += 97) EXPECT_NEAR(g->channels[c].samples[k], raw.leads[c][k], 1e-4);
    EXPECT_DOUBLE_EQ(rec.measurements.qrsMs, p.qrsMs);
    EXPECT_EQ(rec.measurements.qtcFormula, "Bazett");
    EXPECT_NEAR(rec.measurements.qtcMs, rec.measurements.qtMs / std::sqrt(rec.measurements.rrMs / 1000.0), 1.0);
    EXPECT_NEAR(rec.measurements.heartRateBpm, p.heartRateBpm, 5.0);
    bool synthetic = false;
    for (const auto& s : rec.statements) synthetic = synthetic || s == "SYNTHETIC ECG";
    EXPECT_TRUE(synthetic);
  }
}

TEST(SynthRoundTrip, EchoReader) {
  TempDir d;
  CohortOptions o;
  o.outDir = d.path.string();
  o.patients = 1;
  o.seed = 37;
  o.echoFrames = 10;
  o.echoSize = 72;
  o.threads = 1;
  const auto r = generateCohort(o);
  ASSERT_EQ(r.files.size(), 5u);
  const Phenotype& p = r.patients[0];
  for (std::size_t v = 0; v < o.views.size(); ++v) {
    const std::string path = r.files[1 + v];
    const e2e::EchoInfo info = e2e::readDicomEchoInfo(path);
    EXPECT_EQ(info.identity.patientName, "SYNTHETIC^" + p.patientId);
    EXPECT_EQ(info.identity.seriesDescription, "SYNTHETIC " + o.views[v]);
    EXPECT_EQ(info.rows, 72);
    EXPECT_EQ(info.cols, 72);
    EXPECT_EQ(info.frames, 10);
    EXPECT_EQ(info.photometric, "MONOCHROME2");
    EXPECT_GE(info.fps, 30.0);
    EXPECT_LE(info.fps, 50.0);
    EXPECT_EQ(info.viewLabel, o.views[v]);
    ASSERT_EQ(info.regions.size(), 1u);
    EXPECT_EQ(info.regions[0].unitsX, 3);
    const EchoLoop loop = synthesizeEcho(p, o.views[v], 0, o.echoFrames, o.echoSize);
    EXPECT_NEAR(info.regions[0].deltaX, loop.cmPerPixel, 1e-9);
    const e2e::EchoFrames frames = e2e::readDicomEchoFrames(path);
    DcmFileFormat ff;
    ASSERT_TRUE(ff.loadFile(path.c_str()).good());
    const Echo raw = readEcho(ff);
    EXPECT_EQ(frames.channels, 1);
    EXPECT_EQ(frames.pixels, raw.pixels);
  }
}
