// GE MUSE XML reader on the real de-identified MGH sample (ml4h), and corrupt copies of it.
// Golden sample values were decoded independently (Python base64 + struct '<h').
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "io/vendor/hl7_aecg.h"
#include "io/vendor/muse_xml.h"
#include "io/vendor/xml_file.h"
#include "vendor_test_util.h"

using namespace e2e;
using e2e::test::dataFile;
using e2e::test::expectReadError;
using e2e::test::filesIn;
using e2e::test::readMutatedCopies;
using e2e::test::sourcesEntries;
using e2e::test::replaceOnce;
using e2e::test::slurp;
using e2e::test::spit;
using e2e::test::TempDir;

namespace {

const std::string kMuse = "ecg_vendor/muse_xml/ml4h_muse_ecg_deidentified_1.xml";
constexpr double kUvPerBit = 4.88;
constexpr double kMv = kUvPerBit / 1000.0;  // mV per count

std::string musePath() { return dataFile(kMuse).string(); }

}  // namespace

TEST(MuseXml, SniffsTheRootElement) {
  EXPECT_TRUE(looksLikeMuseXml(vendor::fileHead(musePath())));
  EXPECT_FALSE(
      looksLikeMuseXml(vendor::fileHead(dataFile("ecg_vendor/hl7_aecg/hl7_2003_ballot_Example_aECG.xml").string())));
  EXPECT_FALSE(looksLikeMuseXml(""));
  EXPECT_FALSE(looksLikeMuseXml("MUSE RestingECG"));
}

TEST(MuseXml, ReadsRhythmAndMedianAsInSources) {
  const EcgRecord r = readMuseXml(musePath());
  EXPECT_EQ(r.format, SourceFormat::MuseXml);
  EXPECT_EQ(r.sourcePath, musePath());
  EXPECT_EQ(r.identity.modality, "ECG");
  ASSERT_EQ(r.groups.size(), 2u);
  const EcgGroup* rhythm = r.rhythm();
  const EcgGroup* median = r.median();
  ASSERT_TRUE(rhythm && median);
  EXPECT_EQ(&r.groups[0], rhythm);  // rhythm first
  EXPECT_EQ(rhythm->label, "RHYTHM");
  EXPECT_EQ(rhythm->originality, "ORIGINAL");
  EXPECT_EQ(median->label, "MEDIAN");
  // SOURCES.txt: Median 8x300 + Rhythm 8x2500 @ SampleBase 240 Hz, 4.88 uV/bit, leads I,II,V1-V6.
  EXPECT_DOUBLE_EQ(rhythm->samplingHz, 240.0);
  EXPECT_DOUBLE_EQ(median->samplingHz, 240.0);
  EXPECT_EQ(rhythm->numSamples, 2500u);
  EXPECT_EQ(median->numSamples, 300u);
  for (const EcgGroup* g : {rhythm, median}) {
    ASSERT_EQ(g->channels.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) {
      const EcgChannel& c = g->channels[i];
      EXPECT_EQ(c.label, standardLeads()[i]);
      EXPECT_EQ(c.unit, "mV");
      EXPECT_NEAR(c.sensitivity, kMv, 1e-12);
      EXPECT_EQ(c.samples.size(), g->numSamples);
      const bool derived = c.label == "III" || c.label == "aVR" || c.label == "aVL" || c.label == "aVF";
      EXPECT_EQ(c.codeMeaning.rfind("derived", 0) == 0, derived) << c.label;
    }
  }
  EXPECT_EQ(r.extra.at("derivedLeads"), "III,aVR,aVL,aVF");
  EXPECT_EQ(r.extra.at("museOriginalECGSampleBase"), "250");
}

TEST(MuseXml, SamplesAreCountsTimesResolutionAndLimbLeadsAreDerived) {
  const EcgRecord r = readMuseXml(musePath());
  const EcgGroup& g = *r.rhythm();
  const auto& I = g.channel("I")->samples;
  const auto& II = g.channel("II")->samples;
  const int firstI[] = {4, 1, -2, -13, -24};
  for (int k = 0; k < 5; ++k) EXPECT_NEAR(I[k], firstI[k] * kMv, 1e-6) << k;
  EXPECT_NEAR(I[1000], -9 * kMv, 1e-6);
  EXPECT_NEAR(II[1000], -16 * kMv, 1e-6);
  EXPECT_NEAR(*std::max_element(II.begin(), II.end()), 392 * kMv, 1e-6);
  EXPECT_NEAR(*std::min_element(II.begin(), II.end()), -214 * kMv, 1e-6);
  const auto& V6 = g.channel("V6")->samples;
  EXPECT_NEAR(*std::max_element(V6.begin(), V6.end()), 270 * kMv, 1e-6);
  EXPECT_NEAR(g.channel("III")->samples[1000], (-16 + 9) * kMv, 1e-6);
  for (std::size_t k = 0; k < g.numSamples; k += 97) {
    EXPECT_NEAR(g.channel("III")->samples[k], II[k] - I[k], 1e-6);
    EXPECT_NEAR(g.channel("aVR")->samples[k], -(I[k] + II[k]) / 2, 1e-6);
    EXPECT_NEAR(g.channel("aVL")->samples[k], I[k] - II[k] / 2, 1e-6);
    EXPECT_NEAR(g.channel("aVF")->samples[k], II[k] - I[k] / 2, 1e-6);
  }
}

TEST(MuseXml, ReadsMeasurementsStatementsAndDemographics) {
  const EcgRecord r = readMuseXml(musePath());
  const EcgMeasurements& m = r.measurements;
  EXPECT_EQ(m.heartRateBpm, 102);
  EXPECT_EQ(m.prMs, 167);
  EXPECT_EQ(m.qrsMs, 83);
  EXPECT_EQ(m.qtMs, 367);
  EXPECT_EQ(m.qtcMs, 478);
  EXPECT_EQ(m.pAxisDeg, 48);
  EXPECT_EQ(m.qrsAxisDeg, -31);
  EXPECT_EQ(m.tAxisDeg, 59);
  EXPECT_TRUE(std::isnan(m.rrMs));  // not in the file
  EXPECT_EQ(r.extra.at("museAtrialRate"), "102");
  // Diagnosis statements joined into the device's lines (StmtFlag ENDSLINE ends a line).
  const std::vector<std::string> lines = {"BASELINE ARTIFACT",
                                          "SINUS TACHYCARDIA WITH ONE VENTRICULAR PREMATURE BEAT",
                                          "LEFT AXIS DEVIATION",
                                          "OLD ANTEROSEPTAL INFARCT",
                                          "WHEN COMPARED WITH ECG OF 1/21/99 16:22,",
                                          "SINUS TACHYCARDIA HAS APPEARED"};
  EXPECT_EQ(r.statements, lines);
  EXPECT_EQ(r.extra.at("originalDiagnosis").substr(0, 29), "SINUS TACHYCARDIA\nOCCASIONAL\n");
  const Identity& id = r.identity;
  EXPECT_EQ(id.patientId, "502542127");
  EXPECT_EQ(id.patientName, "WEST^KANYE");
  EXPECT_EQ(id.birthDate, "19410321");
  EXPECT_EQ(id.sex, "M");
  EXPECT_EQ(id.age, "066Y");
  EXPECT_EQ(id.studyDate, "20000422");
  EXPECT_EQ(id.studyTime, "113400");
  EXPECT_EQ(id.modelName, "MAC");
  EXPECT_EQ(id.manufacturer, "GE Healthcare");
  EXPECT_EQ(r.extra.at("museSiteName"), "MGH CARDIOLOGY ECG DATABASE");
  EXPECT_EQ(r.extra.at("museVersion"), "8.0.2.10132");
  EXPECT_TRUE(id.studyUid.empty());
}

// ------------------------------------------------------------------ bad inputs ----

namespace {

// Offset of the first base64 character of the rhythm's lead I WaveFormData.
std::size_t rhythmDataStart(const std::string& s) {
  const std::size_t rhythm = s.find("<WaveformType>Rhythm</WaveformType>");
  std::size_t p = s.find("<WaveFormData>", rhythm) + std::string("<WaveFormData>").size();
  while (std::isspace(static_cast<unsigned char>(s[p]))) ++p;
  return p;
}

// Offset of the n-th base64 character (whitespace skipped) from `start`.
std::size_t nthDataChar(const std::string& s, std::size_t start, int n) {
  std::size_t p = start;
  for (int seen = 0;; ++p) {
    if (std::isspace(static_cast<unsigned char>(s[p]))) continue;
    if (seen++ == n) return p;
  }
}

}  // namespace

TEST(MuseXml, TruncatedCopiesGiveClearErrors) {
  const std::string s = slurp(musePath());
  TempDir tmp("muse");
  for (const double frac : {0.0005, 0.1, 0.5, 0.9, 0.999}) {
    const auto p = tmp / ("cut" + std::to_string(frac) + ".xml");
    spit(p, s.substr(0, static_cast<std::size_t>(s.size() * frac)));
    expectReadError(readMuseXml, p, "not well-formed XML");
  }
}

TEST(MuseXml, CorruptedWaveformDataIsDetected) {
  const std::string s = slurp(musePath());
  TempDir tmp("muse");
  // A flipped (still valid) base64 character: the LeadDataCRC32 no longer matches.
  std::string flipped = s;
  const std::size_t at = nthDataChar(s, rhythmDataStart(s), 40);
  flipped[at] = flipped[at] == 'A' ? 'B' : 'A';
  spit(tmp / "flip.xml", flipped);
  expectReadError(readMuseXml, tmp / "flip.xml", "LeadDataCRC32");
  // A character that is not base64 at all.
  std::string garbled = s;
  garbled[nthDataChar(s, rhythmDataStart(s), 8)] = '*';
  spit(tmp / "garbled.xml", garbled);
  expectReadError(readMuseXml, tmp / "garbled.xml", "invalid base64");
  // Four characters (3 bytes) gone: the sample count no longer matches.
  std::string shortened = s;
  for (int k = 0; k < 4; ++k) shortened.erase(nthDataChar(shortened, rhythmDataStart(s), 100), 1);
  spit(tmp / "short.xml", shortened);
  expectReadError(readMuseXml, tmp / "short.xml", "LeadSampleCountTotal says 2500");
}

TEST(MuseXml, HugeSampleCountIsRefusedWithoutAllocating) {
  const std::string s = slurp(musePath());
  TempDir tmp("muse");
  spit(tmp / "huge.xml", replaceOnce(s, "<LeadSampleCountTotal>2500</LeadSampleCountTotal>",
                                     "<LeadSampleCountTotal>2147483648</LeadSampleCountTotal>"));
  expectReadError(readMuseXml, tmp / "huge.xml",
                  "LeadSampleCountTotal says 2147483648 samples but WaveFormData holds 2500");
  spit(tmp / "bytes.xml", replaceOnce(s, "<LeadByteCountTotal>5000</LeadByteCountTotal>",
                                      "<LeadByteCountTotal>4294967296</LeadByteCountTotal>"));
  expectReadError(readMuseXml, tmp / "bytes.xml", "LeadByteCountTotal");
}

TEST(MuseXml, BadHeaderValuesGiveClearErrors) {
  const std::string s = slurp(musePath());
  TempDir tmp("muse");
  spit(tmp / "rate.xml", replaceOnce(s, "<SampleBase>240</SampleBase>", "<SampleBase>fast</SampleBase>"));
  expectReadError(readMuseXml, tmp / "rate.xml", "SampleBase");
  spit(tmp / "unit.xml", replaceOnce(s, "<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>",
                                     "<LeadAmplitudeUnits>FURLONGS</LeadAmplitudeUnits>"));
  expectReadError(readMuseXml, tmp / "unit.xml", "unsupported LeadAmplitudeUnits 'FURLONGS'");
  spit(tmp / "nowave.xml", "<?xml version=\"1.0\"?><RestingECG><PatientDemographics/></RestingECG>");
  expectReadError(readMuseXml, tmp / "nowave.xml", "no Rhythm or Median waveform");
}

TEST(MuseXml, EmptyAndNonEcgFilesAreRefused) {
  TempDir tmp("muse");
  spit(tmp / "empty.xml", "");
  expectReadError(readMuseXml, tmp / "empty.xml", "not well-formed XML");
  spit(tmp / "other.xml", "<?xml version=\"1.0\"?><html><body>hello</body></html>");
  expectReadError(readMuseXml, tmp / "other.xml", "not a GE MUSE XML file (root element <html>");
  expectReadError(readMuseXml, dataFile("ecg_vendor/hl7_aecg/hl7_2003_ballot_Example_aECG.xml"),
                  "expected <RestingECG>");
  expectReadError(readMuseXml, tmp / "missing.xml", "cannot read file");
}

TEST(MuseXml, EveryFileOfTheFolderReads) {
  const auto dir = dataFile("ecg_vendor/muse_xml");
  const auto files = filesIn(dir, ".xml");
  EXPECT_EQ(static_cast<int>(files.size()), sourcesEntries(dir));
  for (const auto& f : files) {
    const EcgRecord r = readMuseXml(f.string());
    EXPECT_NE(r.rhythm(), nullptr) << f;
    EXPECT_EQ(r.rhythm()->channels.size(), 12u) << f;
  }
}

TEST(MuseXml, RandomlyDamagedCopiesNeverCrash) {
  TempDir tmp("muse");
  const int refused = readMutatedCopies(readMuseXml, slurp(musePath()), tmp / "", 60, 3);
  EXPECT_GT(refused, 30);  // most damage is caught (XML syntax, base64, CRC32)
}
