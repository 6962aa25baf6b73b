// GE CardioSoft XML reader. No CardioSoft export may be redistributed, so the tests write one
// from a real LUDB record (cardiosoft_writer.h, the UK Biobank element structure) and read it back.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "cardiosoft_writer.h"
#include "io/vendor/cardiosoft_xml.h"
#include "io/vendor/xml_file.h"
#include "io/wfdb.h"
#include "vendor_test_util.h"

using namespace e2e;
using e2e::test::CardioSoftWriteOptions;
using e2e::test::dataFile;
using e2e::test::expectReadError;
using e2e::test::readMutatedCopies;
using e2e::test::replaceOnce;
using e2e::test::slurp;
using e2e::test::spit;
using e2e::test::TempDir;
using e2e::test::writeCardioSoftXml;

namespace {

EcgRecord ludb(int record) { return readWfdb(dataFile("ecg_wfdb/ludb/data/" + std::to_string(record)).string()); }

// A LUDB record with the facts a CardioSoft export carries, and a 600-sample "median" group.
EcgRecord ludbWithFacts(int record) {
  EcgRecord r = ludb(record);
  Identity& id = r.identity;
  id.patientId = "1000037";
  id.patientName = "DOE^JANE";
  id.birthDate = "19580704";
  id.sex = "F";
  id.age = "051Y";
  id.studyDate = "20150823";
  id.studyTime = "141502";
  r.measurements.heartRateBpm = 57;
  r.measurements.rrMs = 1052;
  r.measurements.prMs = 168;
  r.measurements.qrsMs = 94;
  r.measurements.qtMs = 432;
  r.measurements.qtcMs = 420;
  r.measurements.pAxisDeg = 51;
  r.measurements.qrsAxisDeg = -12;
  r.measurements.tAxisDeg = 33;
  r.statements = {"Sinus bradycardia", "Left axis deviation", "Abnormal ECG"};
  EcgGroup median = r.groups.at(0);
  median.label = "MEDIAN";
  median.originality = "DERIVED";
  median.numSamples = 600;
  for (EcgChannel& c : median.channels) c.samples.resize(600);
  r.groups.push_back(median);
  return r;
}

// Every lead of `got` equals `want` within half a count of `resolutionUv`.
void expectSameSignals(const EcgGroup& want, const EcgGroup& got, double resolutionUv) {
  ASSERT_EQ(got.channels.size(), want.channels.size());
  EXPECT_DOUBLE_EQ(got.samplingHz, want.samplingHz);
  EXPECT_EQ(got.numSamples, want.numSamples);
  const double tol = resolutionUv / 2 / 1000 + 1e-6;
  for (std::size_t i = 0; i < want.channels.size(); ++i) {
    const EcgChannel& w = want.channels[i];
    const EcgChannel& g = got.channels[i];
    EXPECT_EQ(g.label, w.label);
    EXPECT_EQ(g.unit, "mV");
    ASSERT_EQ(g.samples.size(), w.samples.size());
    double worst = 0;
    for (std::size_t k = 0; k < w.samples.size(); ++k)
      worst = std::max(worst, std::fabs(double(g.samples[k]) - w.samples[k]));
    EXPECT_LE(worst, tol) << w.label;
  }
}

}  // namespace

TEST(CardioSoftXml, SniffsTheRootElement) {
  TempDir tmp("cs");
  writeCardioSoftXml(ludbWithFacts(1), (tmp / "a.xml").string());
  EXPECT_TRUE(looksLikeCardioSoftXml(vendor::fileHead((tmp / "a.xml").string())));
  EXPECT_FALSE(looksLikeCardioSoftXml(
      vendor::fileHead(dataFile("ecg_vendor/muse_xml/ml4h_muse_ecg_deidentified_1.xml").string())));
  EXPECT_FALSE(looksLikeCardioSoftXml(""));
}

TEST(CardioSoftXml, LudbRecordRoundTripsWithinQuantisation) {
  for (const int record : {1, 2}) {
    for (const double res : {5.0, 1.0, 0.5}) {
      SCOPED_TRACE("LUDB " + std::to_string(record) + " at " + std::to_string(res) + " uV/LSB");
      const EcgRecord src = ludbWithFacts(record);
      TempDir tmp("cs");
      const std::string path = (tmp / "ludb.xml").string();
      writeCardioSoftXml(src, path, CardioSoftWriteOptions{res});
      const EcgRecord r = readCardioSoftXml(path);
      EXPECT_EQ(r.format, SourceFormat::CardioSoftXml);
      EXPECT_EQ(r.sourcePath, path);
      ASSERT_EQ(r.groups.size(), 2u);
      EXPECT_EQ(r.groups[0].label, "RHYTHM");
      EXPECT_EQ(r.groups[0].originality, "ORIGINAL");
      EXPECT_TRUE(r.groups[1].isMedian());
      EXPECT_DOUBLE_EQ(r.groups[0].samplingHz, 500.0);
      EXPECT_EQ(r.groups[0].numSamples, 5000u);
      EXPECT_NEAR(r.groups[0].channels[0].sensitivity, res / 1000, 1e-12);
      expectSameSignals(src.groups[0], r.groups[0], res);
      expectSameSignals(src.groups[1], r.groups[1], res);
      EXPECT_EQ(r.extra.count("derivedLeads"), 0u);
    }
  }
}

TEST(CardioSoftXml, ReadsMeasurementsStatementsDemographicsDeviceAndFilters) {
  TempDir tmp("cs");
  const std::string path = (tmp / "facts.xml").string();
  writeCardioSoftXml(ludbWithFacts(1), path);
  const EcgRecord r = readCardioSoftXml(path);
  const EcgMeasurements& m = r.measurements;
  EXPECT_EQ(m.heartRateBpm, 57);
  EXPECT_EQ(m.rrMs, 1052);
  EXPECT_EQ(m.prMs, 168);
  EXPECT_EQ(m.qrsMs, 94);
  EXPECT_EQ(m.qtMs, 432);
  EXPECT_EQ(m.qtcMs, 420);
  EXPECT_EQ(m.pAxisDeg, 51);
  EXPECT_EQ(m.qrsAxisDeg, -12);
  EXPECT_EQ(m.tAxisDeg, 33);
  // The writer puts a "---" separator line first, as CardioSoft does: it is not a statement.
  const std::vector<std::string> statements = {"Sinus bradycardia", "Left axis deviation", "Abnormal ECG"};
  EXPECT_EQ(r.statements, statements);
  const Identity& id = r.identity;
  EXPECT_EQ(id.patientId, "1000037");
  EXPECT_EQ(id.patientName, "DOE^JANE");
  EXPECT_EQ(id.birthDate, "19580704");
  EXPECT_EQ(id.sex, "F");
  EXPECT_EQ(id.age, "051Y");
  EXPECT_EQ(id.studyDate, "20150823");
  EXPECT_EQ(id.studyTime, "141502");
  EXPECT_EQ(id.modality, "ECG");
  EXPECT_EQ(id.manufacturer, "GE Healthcare");
  EXPECT_EQ(id.modelName, "CARDIOSYS V 6.51");
  EXPECT_EQ(id.studyDescription, "RestECG");
  const EcgChannel& c = r.groups[0].channels[0];
  EXPECT_EQ(c.highFreqHz, 150);
  EXPECT_EQ(c.lowFreqHz, 0.04);
  EXPECT_EQ(c.notchHz, 50);
}

TEST(CardioSoftXml, EightStoredLeadsGetDerivedLimbLeads) {
  EcgRecord src = ludbWithFacts(1);
  for (EcgGroup& g : src.groups)
    g.channels.erase(std::remove_if(g.channels.begin(), g.channels.end(),
                                    [](const EcgChannel& c) { return c.label == "III" || c.label[0] == 'a'; }),
                     g.channels.end());
  ASSERT_EQ(src.groups[0].channels.size(), 8u);
  TempDir tmp("cs");
  const std::string path = (tmp / "eight.xml").string();
  writeCardioSoftXml(src, path, CardioSoftWriteOptions{1.0, "CARDIOSYS V 6.51", /*trailingComma=*/true});
  const EcgRecord r = readCardioSoftXml(path);
  EXPECT_EQ(r.extra.at("derivedLeads"), "III,aVR,aVL,aVF");
  const EcgGroup& g = r.groups[0];
  ASSERT_EQ(g.channels.size(), 12u);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(g.channels[i].label, standardLeads()[i]);
  const auto& I = g.channel("I")->samples;
  const auto& II = g.channel("II")->samples;
  for (std::size_t k = 0; k < g.numSamples; k += 41) {
    EXPECT_NEAR(g.channel("III")->samples[k], II[k] - I[k], 1e-6);
    EXPECT_NEAR(g.channel("aVF")->samples[k], II[k] - I[k] / 2, 1e-6);
  }
}

// ------------------------------------------------------------------ bad inputs ----

TEST(CardioSoftXml, BadValuesAndCountsGiveClearErrors) {
  TempDir tmp("cs");
  writeCardioSoftXml(ludbWithFacts(1), (tmp / "good.xml").string());
  const std::string s = slurp(tmp / "good.xml");
  const std::size_t strip = s.find("<StripData>");
  const std::size_t firstComma = s.find(',', s.find("<WaveformData lead=\"II\">", strip));
  std::string nan = s;
  nan.insert(firstComma + 1, "abc");
  spit(tmp / "nan.xml", nan);
  expectReadError(readCardioSoftXml, tmp / "nan.xml", "StripData, lead 'II': value 2 ('abc");
  std::string gap = s;
  gap.insert(firstComma, " 7");
  spit(tmp / "gap.xml", gap);
  expectReadError(readCardioSoftXml, tmp / "gap.xml", "instead of a comma");
  spit(tmp / "huge.xml", replaceOnce(s, "<ChannelSampleCountTotal>5000</ChannelSampleCountTotal>",
                                     "<ChannelSampleCountTotal>2147483648</ChannelSampleCountTotal>", strip));
  expectReadError(readCardioSoftXml, tmp / "huge.xml",
                  "ChannelSampleCountTotal says 2147483648 samples but the lead holds 5000");
  spit(tmp / "res.xml", replaceOnce(s, "units=\"uVperLsb\">5<", "units=\"mVperLsb\">5<", strip));
  expectReadError(readCardioSoftXml, tmp / "res.xml", "unsupported Resolution unit 'mVperLsb'");
  spit(tmp / "rate.xml", replaceOnce(s, "<SampleRate units=\"Hz\">500<", "<SampleRate units=\"Hz\">-500<", strip));
  expectReadError(readCardioSoftXml, tmp / "rate.xml", "invalid SampleRate '-500'");
}

TEST(CardioSoftXml, TruncatedEmptyAndNonEcgFilesAreRefused) {
  TempDir tmp("cs");
  writeCardioSoftXml(ludbWithFacts(1), (tmp / "good.xml").string());
  const std::string s = slurp(tmp / "good.xml");
  for (const double frac : {0.001, 0.4, 0.8, 0.999}) {
    const auto p = tmp / ("cut" + std::to_string(frac) + ".xml");
    spit(p, s.substr(0, static_cast<std::size_t>(s.size() * frac)));
    expectReadError(readCardioSoftXml, p, "not well-formed XML");
  }
  spit(tmp / "empty.xml", "");
  expectReadError(readCardioSoftXml, tmp / "empty.xml", "not well-formed XML");
  spit(tmp / "other.xml", "<?xml version=\"1.0\"?><catalog><book id=\"1\"/></catalog>");
  expectReadError(readCardioSoftXml, tmp / "other.xml", "not a GE CardioSoft XML file (root element <catalog>");
  spit(tmp / "nodata.xml", "<CardiologyXML><PatientInfo><PID>1</PID></PatientInfo></CardiologyXML>");
  expectReadError(readCardioSoftXml, tmp / "nodata.xml", "holds no StripData or MedianSamples");
  expectReadError(readCardioSoftXml, dataFile("ecg_vendor/hl7_aecg/mindray_beneheart_r12_aecg.xml"),
                  "expected <CardiologyXML>");
}

TEST(CardioSoftXml, RandomlyDamagedCopiesNeverCrash) {
  TempDir tmp("cs");
  writeCardioSoftXml(ludbWithFacts(1), (tmp / "good.xml").string());
  const int refused = readMutatedCopies(readCardioSoftXml, slurp(tmp / "good.xml"), tmp / "", 60, 3);
  EXPECT_GT(refused, 0);
}
