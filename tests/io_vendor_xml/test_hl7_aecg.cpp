// HL7 aECG reader on the four real sample files (FDA/HL7 ballot Mortara ELI250, Philips converted,
// Mindray BeneHeart R12 with vendor extensions, AMPS CalECG2), and corrupt copies.
// Golden digits were read independently (Python ElementTree); SOURCES.txt gives rates and scales.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <pugixml.hpp>
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

std::string aecg(const std::string& name) { return dataFile("ecg_vendor/hl7_aecg/" + name).string(); }

const std::string kBallot = "hl7_2003_ballot_Example_aECG.xml";
const std::string kPhilips = "philips_ad4d3d80-d165_converted_aecg.xml";
const std::string kMindray = "mindray_beneheart_r12_aecg.xml";
const std::string kCalEcg = "calecg2_hl7aecg-Example2.xml";

struct Expect {
  std::string file;
  double hz;
  std::size_t rhythmN;
  double rhythmUv;
  std::size_t medianN;
  double medianUv;
  long iiFirst, iiMid, iiMax;  // rhythm lead II digits: [0], [n/2], max
  long medianIiFirst;
};

// SOURCES.txt values (rate, sample counts, scales) and independently read digits.
const Expect kFiles[] = {
    {kBallot, 500, 5000, 2.5, 599, 2.5, -7, -2, 134, 52},
    {kPhilips, 500, 5500, 5.0, 1200, 2.5, -4, 45, 201, -6},
    {kMindray, 100, 1000, 5.0, 500, 5.0, -32, -32, 541, -30},
    {kCalEcg, 1000, 10000, 2.5, 1200, 2.5, 82, 2, 479, 22},
};

}  // namespace

TEST(Hl7Aecg, SniffsTheRootElement) {
  for (const Expect& e : kFiles) EXPECT_TRUE(looksLikeHl7Aecg(vendor::fileHead(aecg(e.file)))) << e.file;
  EXPECT_FALSE(
      looksLikeHl7Aecg(vendor::fileHead(dataFile("ecg_vendor/muse_xml/ml4h_muse_ecg_deidentified_1.xml").string())));
  EXPECT_FALSE(looksLikeHl7Aecg(""));
  // Comments and a DOCTYPE with an internal subset before the root (xml_file.cpp's sniffing).
  EXPECT_TRUE(
      looksLikeHl7Aecg("<?xml version='1.0'?>\n<!-- a -> b -->\n<!DOCTYPE AnnotatedECG [ <!ENTITY x 'y'> ]>\n"
                       "<hl7:AnnotatedECG xmlns:hl7='urn:hl7-org:v3'/>"));
}

TEST(Hl7Aecg, EverySampleFileReadsAsInSources) {
  for (const Expect& e : kFiles) {
    SCOPED_TRACE(e.file);
    const EcgRecord r = readHl7Aecg(aecg(e.file));
    EXPECT_EQ(r.format, SourceFormat::Hl7Aecg);
    EXPECT_EQ(r.identity.modality, "ECG");
    ASSERT_EQ(r.groups.size(), 2u);
    const EcgGroup& rhythm = r.groups[0];
    const EcgGroup& median = r.groups[1];
    EXPECT_EQ(rhythm.label, "RHYTHM");
    EXPECT_EQ(rhythm.originality, "ORIGINAL");
    EXPECT_TRUE(median.isMedian());
    EXPECT_EQ(median.originality, "DERIVED");
    EXPECT_DOUBLE_EQ(rhythm.samplingHz, e.hz);
    EXPECT_DOUBLE_EQ(median.samplingHz, e.hz);
    EXPECT_EQ(rhythm.numSamples, e.rhythmN);
    EXPECT_EQ(median.numSamples, e.medianN);
    for (const EcgGroup* g : {&rhythm, &median}) {
      ASSERT_EQ(g->channels.size(), 12u);  // all twelve leads stored: none derived
      for (std::size_t i = 0; i < 12; ++i) {
        EXPECT_EQ(g->channels[i].label, standardLeads()[i]);
        EXPECT_EQ(g->channels[i].unit, "mV");
        EXPECT_EQ(g->channels[i].samples.size(), g->numSamples);
        EXPECT_EQ(g->channels[i].codeValue.rfind("MDC_ECG_LEAD_", 0), 0u);
      }
    }
    EXPECT_NEAR(rhythm.channels[0].sensitivity, e.rhythmUv / 1000, 1e-12);
    EXPECT_NEAR(median.channels[0].sensitivity, e.medianUv / 1000, 1e-12);
    EXPECT_EQ(r.extra.count("derivedLeads"), 0u);
    const auto& ii = rhythm.channel("II")->samples;
    const double mv = e.rhythmUv / 1000;
    EXPECT_NEAR(ii[0], e.iiFirst * mv, 1e-6);
    EXPECT_NEAR(ii[ii.size() / 2], e.iiMid * mv, 1e-6);
    EXPECT_NEAR(*std::max_element(ii.begin(), ii.end()), e.iiMax * mv, 1e-6);
    EXPECT_NEAR(median.channel("II")->samples[0], e.medianIiFirst * e.medianUv / 1000, 1e-6);
  }
}

// The ballot example is the recording of scp_ecg/ecgtoolkit_Example.scp (README.txt). The SCP
// reader is another helper's; until it lands, these are the aECG side's facts the pair must share.
TEST(Hl7Aecg, BallotExampleSubjectDeviceAndMeasurements) {
  const EcgRecord r = readHl7Aecg(aecg(kBallot));
  const Identity& id = r.identity;
  EXPECT_EQ(id.patientId, "SBJ-123");
  EXPECT_EQ(id.patientName, "Clark");
  EXPECT_EQ(id.sex, "M");
  EXPECT_EQ(id.birthDate, "19530508");
  EXPECT_EQ(id.age, "046Y");
  EXPECT_EQ(id.studyDate, "20021122");
  EXPECT_EQ(id.studyTime, "091000");
  EXPECT_EQ(id.manufacturer, "Mortara Instrument, Inc.");
  EXPECT_EQ(id.modelName, "ELI250");
  EXPECT_EQ(r.extra.at("softwareVersion"), "5.3");
  // Representative-beat measurements (the per-beat annotations inside MDC_ECG_BEAT are skipped).
  const EcgMeasurements& m = r.measurements;
  EXPECT_EQ(m.prMs, 148);
  EXPECT_EQ(m.qrsMs, 120);
  EXPECT_EQ(m.qtMs, 420);
  EXPECT_EQ(m.qtcMs, 443);
  EXPECT_EQ(m.pAxisDeg, 44);
  EXPECT_EQ(m.qrsAxisDeg, -61);
  EXPECT_EQ(m.tAxisDeg, 86);
  EXPECT_TRUE(std::isnan(m.heartRateBpm));  // the file gives none
  EXPECT_EQ(r.extra.at("rhythm"), "Sinus Rhythm");
  EXPECT_EQ(r.rhythm()->channels[0].highFreqHz, 150);  // controlVariable low-pass cutoff
  EXPECT_EQ(r.rhythm()->channels[0].notchHz, 60);
  EXPECT_TRUE(std::isnan(r.rhythm()->channels[0].lowFreqHz));  // a FIR high-pass without cutoff
  EXPECT_TRUE(r.statements.empty());
  // Leads are stored I, II, V1-V6, III, aVR, aVL, aVF; the record has the standard order, and
  // the device's III is II - I to within one count.
  const EcgGroup& g = *r.rhythm();
  for (std::size_t k = 0; k < g.numSamples; k += 50)
    EXPECT_NEAR(g.channel("III")->samples[k], g.channel("II")->samples[k] - g.channel("I")->samples[k], 0.0025 + 1e-6);
}

TEST(Hl7Aecg, PhilipsConvertedMeasurementsStatementsAndMedianPadding) {
  const EcgRecord r = readHl7Aecg(aecg(kPhilips));
  const EcgMeasurements& m = r.measurements;
  EXPECT_EQ(m.heartRateBpm, 41);
  EXPECT_EQ(m.rrMs, 1463);
  EXPECT_EQ(m.prMs, 144);
  EXPECT_EQ(m.qrsMs, 102);
  EXPECT_EQ(m.qtMs, 564);
  EXPECT_EQ(m.qtcMs, 466);
  EXPECT_EQ(m.qtcFormula, "Bazett");
  const std::vector<std::string> statements = {"(SB) SINUS BRADYCARDIA, V-rate<60,",
                                               "(NPTA) NO PREVIOUS TRACING AVAILABLE FOR COMPARISON, ,"};
  EXPECT_EQ(r.statements, statements);
  EXPECT_EQ(r.identity.patientId, "20044");
  EXPECT_EQ(r.identity.patientName, "");  // "---" in the file
  EXPECT_EQ(r.identity.sex, "F");
  EXPECT_EQ(r.identity.birthDate, "19760101");
  EXPECT_EQ(r.identity.studyDate, "20081223");
  EXPECT_EQ(r.identity.studyTime, "194446");
  EXPECT_EQ(r.identity.manufacturer, "Philips Medical Systems");
  EXPECT_EQ(r.identity.modelName, "PageWriter Touch");
  // The converter pads the 600-sample median beats to 1200 with digit 32767 (81.9 mV): 0 mV here.
  const EcgGroup& med = *r.median();
  for (const EcgChannel& c : med.channels) {
    EXPECT_TRUE(std::any_of(c.samples.begin(), c.samples.begin() + 600, [](float v) { return std::fabs(v) > 0.05f; }))
        << c.label;  // the beat itself is kept
    for (std::size_t k = 600; k < 1200; k += 37) EXPECT_EQ(c.samples[k], 0.0f) << c.label;
  }
  const bool warned = std::any_of(r.warnings.begin(), r.warnings.end(), [](const std::string& w) {
    return w.find("600 trailing padding") != std::string::npos;
  });
  EXPECT_TRUE(warned);
}

TEST(Hl7Aecg, MindrayVendorExtensionsDoNotHideTheStandardParts) {
  const EcgRecord r = readHl7Aecg(aecg(kMindray));  // no XML declaration, extra elements
  const EcgMeasurements& m = r.measurements;
  EXPECT_EQ(m.heartRateBpm, 57);
  EXPECT_EQ(m.prMs, 192);
  EXPECT_EQ(m.qrsMs, 88);
  EXPECT_EQ(m.qtMs, 418);
  EXPECT_EQ(m.qtcMs, 413);  // MDC_ECG_TIME_PD_QTc is 0: the vendor's QTcH is used
  EXPECT_EQ(m.qtcFormula, "Hodges");
  EXPECT_EQ(m.pAxisDeg, 60);
  EXPECT_EQ(m.qrsAxisDeg, 64);
  EXPECT_EQ(m.tAxisDeg, 11);
  ASSERT_EQ(r.statements.size(), 4u);
  EXPECT_EQ(r.statements[0], "Rythme sinusal avec ESA");
  EXPECT_EQ(r.statements[1], "--- Interpr\xc3\xa9tation sans conna\xc3\xaetre le sexe/l'\xc3\xa2ge du patient ---");
  EXPECT_EQ(r.statements[2], "ECG limite");
  EXPECT_EQ(r.statements[3], "Diagnostic non confirm\xc3\xa9.");
  EXPECT_EQ(r.identity.patientId, "25060897140");  // Mindray's PatientID element
  EXPECT_EQ(r.identity.sex, "");                   // UN
  EXPECT_EQ(r.identity.modelName, "BeneHeart R12");
  EXPECT_EQ(r.identity.studyDate, "20250923");
  EXPECT_EQ(r.identity.studyTime, "103550");
  const auto rv5 = std::find_if(r.annotations.begin(), r.annotations.end(),
                                [](const EcgAnnotation& a) { return a.conceptCode == "MINDRAY_ECG_RV5"; });
  ASSERT_NE(rv5, r.annotations.end());
  EXPECT_DOUBLE_EQ(rv5->value, 1.008);
  EXPECT_EQ(rv5->unit, "mV");
}

TEST(Hl7Aecg, CalEcgSubjectAndHeartRate) {
  const EcgRecord r = readHl7Aecg(aecg(kCalEcg));
  EXPECT_EQ(r.measurements.heartRateBpm, 52);  // unit written "bmp" by the device
  EXPECT_EQ(r.identity.patientId, "106_ABC");
  EXPECT_EQ(r.identity.patientName, "ABC");
  EXPECT_EQ(r.identity.birthDate, "19710616");
  EXPECT_EQ(r.identity.studyDate, "20040115");
  EXPECT_EQ(r.identity.studyTime, "112004");
  EXPECT_EQ(r.identity.manufacturer, "Manufacturer ABC");
}

TEST(Hl7Aecg, EightStoredLeadsGetDerivedLimbLeads) {
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file(aecg(kBallot).c_str()));
  std::vector<pugi::xml_node> drop;
  for (pugi::xpath_node n : doc.select_nodes("//*[local-name()='sequence']")) {
    const std::string code = n.node().child("code").attribute("code").value();
    if (code == "MDC_ECG_LEAD_III" || code == "MDC_ECG_LEAD_AVR" || code == "MDC_ECG_LEAD_AVL" ||
        code == "MDC_ECG_LEAD_AVF")
      drop.push_back(n.node().parent());
  }
  ASSERT_EQ(drop.size(), 8u);  // rhythm and median
  for (pugi::xml_node c : drop) c.parent().remove_child(c);
  TempDir tmp("aecg");
  ASSERT_TRUE(doc.save_file((tmp / "eight.xml").c_str()));
  const EcgRecord full = readHl7Aecg(aecg(kBallot));
  const EcgRecord r = readHl7Aecg((tmp / "eight.xml").string());
  EXPECT_EQ(r.extra.at("derivedLeads"), "III,aVR,aVL,aVF");
  for (std::size_t gi = 0; gi < 2; ++gi) {
    ASSERT_EQ(r.groups[gi].channels.size(), 12u);
    for (const std::string lead : {"III", "aVR", "aVL", "aVF"}) {
      const auto& derived = r.groups[gi].channel(lead)->samples;
      const auto& stored = full.groups[gi].channel(lead)->samples;
      for (std::size_t k = 0; k < derived.size(); k += 13)
        EXPECT_NEAR(derived[k], stored[k], 0.0025 + 1e-6) << lead << k;
    }
  }
}

// ------------------------------------------------------------------ bad inputs ----

TEST(Hl7Aecg, NonNumericDigitsAndBadScalesGiveClearErrors) {
  const std::string s = slurp(aecg(kBallot));
  TempDir tmp("aecg");
  const std::size_t digits = s.find("<digits>");
  spit(tmp / "nan.xml", replaceOnce(s, " -9 ", " -9x ", digits));
  expectReadError(readHl7Aecg, tmp / "nan.xml", "('-9x') is not an integer");
  spit(tmp / "unit.xml",
       replaceOnce(s, "<scale value=\"2.5\" unit=\"uV\"/>", "<scale value=\"2.5\" unit=\"furlong\"/>"));
  expectReadError(readHl7Aecg, tmp / "unit.xml", "scale unit 'furlong' is not a voltage");
  spit(tmp / "inc.xml",
       replaceOnce(s, "<increment value=\"0.002\" unit=\"s\"/>", "<increment value=\"0\" unit=\"s\"/>"));
  expectReadError(readHl7Aecg, tmp / "inc.xml", "invalid time increment");
  spit(tmp / "huge.xml", replaceOnce(s, " -9 ", " 99999999999999999999999 ", digits));
  expectReadError(readHl7Aecg, tmp / "huge.xml", "is not an integer");
  // One lead a sample short of the others.
  spit(tmp / "short.xml", replaceOnce(s, " -9 ", " ", digits));
  expectReadError(readHl7Aecg, tmp / "short.xml", "has 5000 samples but lead I has 4999");
}

TEST(Hl7Aecg, TruncatedEmptyAndNonEcgFilesAreRefused) {
  const std::string s = slurp(aecg(kMindray));
  TempDir tmp("aecg");
  for (const double frac : {0.001, 0.3, 0.7, 0.999}) {
    const auto p = tmp / ("cut" + std::to_string(frac) + ".xml");
    spit(p, s.substr(0, static_cast<std::size_t>(s.size() * frac)));
    expectReadError(readHl7Aecg, p, "not well-formed XML");
  }
  spit(tmp / "empty.xml", "");
  expectReadError(readHl7Aecg, tmp / "empty.xml", "not well-formed XML");
  spit(tmp / "other.xml", "<svg xmlns=\"http://www.w3.org/2000/svg\"><g/></svg>");
  expectReadError(readHl7Aecg, tmp / "other.xml", "not an HL7 aECG file (root element <svg>");
  spit(tmp / "nolead.xml", "<AnnotatedECG xmlns=\"urn:hl7-org:v3\"><component><series/></component></AnnotatedECG>");
  expectReadError(readHl7Aecg, tmp / "nolead.xml", "holds no lead sequence");
  expectReadError(readHl7Aecg, dataFile("ecg_vendor/muse_xml/ml4h_muse_ecg_deidentified_1.xml"),
                  "expected <AnnotatedECG>");
}

TEST(Hl7Aecg, EveryFileOfTheFolderReads) {
  const auto dir = dataFile("ecg_vendor/hl7_aecg");
  const auto files = filesIn(dir, ".xml");
  EXPECT_EQ(static_cast<int>(files.size()), sourcesEntries(dir));
  EXPECT_EQ(files.size(), std::size(kFiles));
  for (const auto& f : files) {
    const EcgRecord r = readHl7Aecg(f.string());
    ASSERT_NE(r.rhythm(), nullptr) << f;
    EXPECT_EQ(r.rhythm()->channels.size(), 12u) << f;
    EXPECT_NE(r.median(), nullptr) << f;
  }
}

TEST(Hl7Aecg, RandomlyDamagedCopiesNeverCrash) {
  TempDir tmp("aecg");
  const int refused = readMutatedCopies(readHl7Aecg, slurp(aecg(kMindray)), tmp / "", 60, 3);
  EXPECT_GT(refused, 0);
}
