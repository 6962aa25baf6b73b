// SCP-ECG reader on the real sample files of shared/data/ecg_vendor/scp_ecg (values from
// SOURCES.txt and the files' own header bytes), and the cross-format check against the HL7 aECG
// export of the same recording (digits read here with pugixml, independently of the aECG reader).
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/vendor/scp_ecg.h"
#include "scp_test_util.h"

using e2e::EcgGroup;
using e2e::EcgRecord;
using e2e::ReadError;
using e2e::readScpEcg;
using namespace scptest;

namespace {

const std::string kExample = kDir + "ecgtoolkit_Example.scp";
const std::string kWa2007 = kDir + "welchallyn_ECG_20070321_110542_191010101010.SCP";
const std::string kWa2008 = kDir + "welchallyn_ECG_20081029_105642_191010101010.SCP";
const std::string kWa2017 = kDir + "welchallyn_ECG_20170504_163507_123456789.SCP";
const std::string kQuirk = kDir + "quirks/healforce_noncompliant_62.SCP";
const std::string kAecg = "ecg_vendor/hl7_aecg/hl7_2003_ballot_Example_aECG.xml";

EcgRecord read(const std::string& rel) { return readScpEcg(e2e::test::dataFile(rel).string()); }

std::vector<std::string> labels(const EcgGroup& g) {
  std::vector<std::string> out;
  for (const auto& c : g.channels) out.push_back(c.label);
  return out;
}

// Local name of an element ("v3:series" -> "series").
std::string local(const pugi::xml_node& n) {
  std::string s = n.name();
  const auto colon = s.find(':');
  return colon == std::string::npos ? s : s.substr(colon + 1);
}

pugi::xml_node firstChild(const pugi::xml_node& n, const std::string& name) {
  for (auto c : n.children())
    if (local(c) == name) return c;
  return {};
}

// Lead code -> samples in mV of the first <sequenceSet> under `series`.
std::map<std::string, std::vector<double>> aecgLeads(const pugi::xml_node& series) {
  std::map<std::string, std::vector<double>> out;
  pugi::xml_node set;
  for (auto n : series.select_nodes(".//*[local-name()='sequenceSet']")) {
    set = n.node();
    break;
  }
  for (auto comp : set.children()) {
    const pugi::xml_node seq = firstChild(comp, "sequence");
    const std::string code = firstChild(seq, "code").attribute("code").value();
    if (code.rfind("MDC_ECG_LEAD_", 0) != 0) continue;
    const pugi::xml_node value = firstChild(seq, "value");
    const double origin = firstChild(value, "origin").attribute("value").as_double();
    const double scale = firstChild(value, "scale").attribute("value").as_double();  // uV
    std::istringstream digits(firstChild(value, "digits").text().get());
    std::vector<double> mv;
    double d;
    while (digits >> d) mv.push_back((origin + scale * d) / 1000.0);
    out[code.substr(13)] = mv;
  }
  return out;
}

// The first value of an annotation with this MDC code.
double aecgAnnotation(const pugi::xml_document& doc, const std::string& code) {
  const std::string q = "//*[local-name()='annotation'][*[local-name()='code'][@code='" + code + "']]";
  const auto n = doc.select_node(q.c_str()).node();
  return firstChild(n, "value").attribute("value").as_double(std::nan(""));
}

std::string scpLeadToAecg(const std::string& label) {
  std::string s = label;
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

void expectSameLeads(const EcgGroup& g, const std::map<std::string, std::vector<double>>& ref, const char* what) {
  ASSERT_EQ(g.channels.size(), ref.size()) << what;
  for (const auto& c : g.channels) {
    const auto it = ref.find(scpLeadToAecg(c.label));
    ASSERT_NE(it, ref.end()) << what << " lead " << c.label;
    ASSERT_EQ(c.samples.size(), it->second.size()) << what << " lead " << c.label;
    double maxErr = 0;
    for (std::size_t k = 0; k < c.samples.size(); ++k) maxErr = std::max(maxErr, std::abs(c.samples[k] - it->second[k]));
    // Same 2.5 uV quantisation on both sides and no sample shift: equal up to float rounding.
    EXPECT_LT(maxErr, 1e-6) << what << " lead " << c.label;
  }
}

}  // namespace

TEST(ScpFiles, SniffsRealFilesAndRejectsOthers) {
  for (const auto& f : {kExample, kWa2007, kWa2008, kWa2017}) {
    const std::string head = slurp(e2e::test::dataFile(f)).substr(0, 4096);
    EXPECT_TRUE(e2e::looksLikeScpEcg(head)) << f;
  }
  EXPECT_FALSE(e2e::looksLikeScpEcg(slurp(e2e::test::dataFile(kQuirk)).substr(0, 4096)));
  EXPECT_FALSE(e2e::looksLikeScpEcg(slurp(e2e::test::dataFile(kAecg)).substr(0, 4096)));
  EXPECT_FALSE(e2e::looksLikeScpEcg(""));
  EXPECT_FALSE(e2e::looksLikeScpEcg(std::string(21, '\0')));
}

TEST(ScpFiles, EcgToolkitExampleHeaderWaveformsAndMeasurements) {
  const EcgRecord r = read(kExample);
  EXPECT_EQ(r.format, e2e::SourceFormat::ScpEcg);
  EXPECT_EQ(r.sourcePath, e2e::test::dataFile(kExample).string());
  EXPECT_EQ(r.identity.modality, "ECG");
  EXPECT_EQ(r.extra.at("scpProtocolVersion"), "2.0");
  EXPECT_EQ(r.extra.at("rhythmDifference"), "2");
  EXPECT_EQ(r.extra.at("referenceBeatSubtraction"), "no");
  EXPECT_EQ(r.identity.patientId, "SBJ-123");
  EXPECT_EQ(r.identity.patientName, "Clark");
  EXPECT_EQ(r.identity.birthDate, "19530508");
  EXPECT_EQ(r.identity.sex, "M");
  EXPECT_EQ(r.identity.studyDate, "20021122");
  EXPECT_EQ(r.identity.studyTime, "091000");
  EXPECT_EQ(r.identity.modelName, "ELI250");
  ASSERT_EQ(r.groups.size(), 2u);
  const EcgGroup& rh = *r.rhythm();
  EXPECT_EQ(rh.label, "RHYTHM");
  EXPECT_DOUBLE_EQ(rh.samplingHz, 500.0);
  EXPECT_EQ(rh.numSamples, 5000u);  // 10 s
  const std::vector<std::string> order = {"I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "III", "aVR", "aVL", "aVF"};
  EXPECT_EQ(labels(rh), order);
  for (const auto& c : rh.channels) {
    EXPECT_EQ(c.unit, "mV");
    EXPECT_DOUBLE_EQ(c.sensitivity, 0.0025);  // AVM 2500 nV
  }
  const EcgGroup& md = *r.median();
  EXPECT_TRUE(md.isMedian());
  EXPECT_DOUBLE_EQ(md.samplingHz, 500.0);
  EXPECT_EQ(md.numSamples, 599u);  // section 4: 1198 ms
  EXPECT_EQ(labels(md), order);
  EXPECT_TRUE(r.extra.find("derivedLeads") == r.extra.end());  // all 12 leads are stored
  EXPECT_DOUBLE_EQ(r.measurements.pAxisDeg, 44);
  EXPECT_DOUBLE_EQ(r.measurements.qrsAxisDeg, -61);
  EXPECT_DOUBLE_EQ(r.measurements.tAxisDeg, 86);
}

TEST(ScpFiles, EcgToolkitExampleEqualsItsAecgExport) {
  const EcgRecord r = read(kExample);
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_file(e2e::test::dataFile(kAecg).c_str()));
  const auto rhythmSeries = doc.select_node("//*[local-name()='series']").node();
  const auto derived = doc.select_node("//*[local-name()='derivedSeries']").node();
  ASSERT_TRUE(rhythmSeries && derived);
  const auto rhythm = aecgLeads(rhythmSeries);
  const auto median = aecgLeads(derived);
  ASSERT_EQ(rhythm.size(), 12u);
  ASSERT_EQ(rhythm.at("I").size(), 5000u);
  expectSameLeads(*r.rhythm(), rhythm, "rhythm");
  expectSameLeads(*r.median(), median, "median");
  // Acquisition time and global measurements agree with the aECG annotations.
  const std::string head =
      doc.select_node("//*[local-name()='head'][contains(@value,'.')]").node().attribute("value").value();
  EXPECT_EQ(head.substr(0, 8), r.identity.studyDate);
  EXPECT_EQ(head.substr(8, 6), r.identity.studyTime);
  EXPECT_DOUBLE_EQ(r.measurements.prMs, aecgAnnotation(doc, "MDC_ECG_TIME_PD_PR"));
  EXPECT_DOUBLE_EQ(r.measurements.qrsMs, aecgAnnotation(doc, "MDC_ECG_TIME_PD_QRS"));
  EXPECT_DOUBLE_EQ(r.measurements.qtMs, aecgAnnotation(doc, "MDC_ECG_TIME_PD_QT"));
  EXPECT_DOUBLE_EQ(r.measurements.qtcMs, aecgAnnotation(doc, "MDC_ECG_TIME_PD_QTc"));
  EXPECT_DOUBLE_EQ(r.measurements.pAxisDeg, aecgAnnotation(doc, "MDC_ECG_ANGLE_P_FRONT"));
  EXPECT_DOUBLE_EQ(r.measurements.qrsAxisDeg, aecgAnnotation(doc, "MDC_ECG_ANGLE_QRS_FRONT"));
  EXPECT_DOUBLE_EQ(r.measurements.tAxisDeg, aecgAnnotation(doc, "MDC_ECG_ANGLE_T_FRONT"));
}

namespace {

// What every Welch Allyn file shares (SOURCES.txt): 8 stored leads, 1667 us, AVM 3750 nV,
// first differences, default Huffman table, median present, no subtraction.
void checkWelchAllyn(const EcgRecord& r, int medianMs) {
  EXPECT_EQ(r.extra.at("scpProtocolVersion"), "2.0");
  EXPECT_EQ(r.extra.at("rhythmDifference"), "1");
  EXPECT_EQ(r.extra.at("huffman"), "default table");
  EXPECT_EQ(r.extra.at("referenceBeatSubtraction"), "no");
  EXPECT_EQ(r.extra.at("derivedLeads"), "III,aVR,aVL,aVF");
  EXPECT_EQ(r.identity.modelName, "MDW14");
  EXPECT_NE(r.identity.manufacturer.find("Welch Allyn"), std::string::npos);
  const EcgGroup& rh = *r.rhythm();
  EXPECT_NEAR(rh.samplingHz, 1e6 / 1667, 1e-9);
  EXPECT_EQ(rh.numSamples, 6000u);
  EXPECT_NEAR(rh.numSamples / rh.samplingHz, 10.0, 0.01);
  EXPECT_EQ(labels(rh), e2e::standardLeads());
  const EcgGroup& md = *r.median();
  EXPECT_EQ(md.numSamples, static_cast<std::size_t>(medianMs * 1000 / 1667));
  for (const EcgGroup* g : {&rh, &md}) {
    const auto* i = g->channel("I");
    const auto* ii = g->channel("II");
    const auto* iii = g->channel("III");
    ASSERT_TRUE(i && ii && iii);
    for (std::size_t k = 0; k < g->numSamples; ++k) ASSERT_NEAR(iii->samples[k], ii->samples[k] - i->samples[k], 1e-5);
  }
  for (const auto& c : rh.channels) {
    double lo = 1e9, hi = -1e9;
    for (float v : c.samples) lo = std::min<double>(lo, v), hi = std::max<double>(hi, v);
    EXPECT_GT(hi - lo, 0.1) << c.label;  // a real ECG, not silence
    EXPECT_LT(hi - lo, 10.0) << c.label;
    EXPECT_DOUBLE_EQ(c.sensitivity, 0.00375) << c.label;
  }
}

}  // namespace

TEST(ScpFiles, WelchAllyn2007) {
  const EcgRecord r = read(kWa2007);
  checkWelchAllyn(r, 718);
  EXPECT_EQ(r.identity.patientName, "Karlsson^Peter");
  EXPECT_EQ(r.identity.patientId, "191010101010");
  EXPECT_EQ(r.identity.birthDate, "19680227");
  EXPECT_EQ(r.identity.sex, "M");
  EXPECT_EQ(r.identity.age, "039Y");
  EXPECT_EQ(r.identity.studyDate, "20070321");  // as in the file name
  EXPECT_EQ(r.identity.studyTime, "110542");
  EXPECT_EQ(r.extra.at("height"), "180 cm");
  EXPECT_EQ(r.extra.at("weight"), "85 kg");
  const auto& m = r.measurements;
  EXPECT_DOUBLE_EQ(m.heartRateBpm, 75);
  EXPECT_DOUBLE_EQ(m.rrMs, 800);
  EXPECT_DOUBLE_EQ(m.prMs, 157);
  EXPECT_DOUBLE_EQ(m.qrsMs, 88);
  EXPECT_DOUBLE_EQ(m.qtMs, 360);
  EXPECT_DOUBLE_EQ(m.qtcMs, 402);
  EXPECT_EQ(m.qtcFormula, "Bazett");
  EXPECT_DOUBLE_EQ(m.pAxisDeg, 29);
  EXPECT_DOUBLE_EQ(m.qrsAxisDeg, 53);
  EXPECT_DOUBLE_EQ(m.tAxisDeg, 56);
  ASSERT_EQ(r.statements.size(), 9u);
  EXPECT_EQ(r.statements[0], "sinusrytm");
  EXPECT_EQ(r.statements[1], "VK-hypertrofi");
  EXPECT_EQ(r.statements[2], "\xC3\xA5lderskorrigerat Sokolow index (SV1+RV5 eller V6) = 4.1 mV");  // Latin-1 -> UTF-8
  const auto* notch = &r.rhythm()->channels[0];
  EXPECT_DOUBLE_EQ(notch->notchHz, 50);      // tag 29 bit 1
  EXPECT_DOUBLE_EQ(notch->highFreqHz, 35);   // tag 28
}

TEST(ScpFiles, WelchAllyn2008PacedWithArtifactWarning) {
  const EcgRecord r = read(kWa2008);
  checkWelchAllyn(r, 708);
  EXPECT_EQ(r.identity.studyDate, "20081029");
  EXPECT_EQ(r.identity.studyTime, "105642");
  EXPECT_EQ(r.identity.age, "040Y");
  EXPECT_EQ(r.extra.at("ecgSequenceNumber"), "a1b2c3");
  EXPECT_EQ(r.extra.at("pacemakerSpikes"), "14");
  const auto& m = r.measurements;
  EXPECT_DOUBLE_EQ(m.rrMs, 750);
  EXPECT_DOUBLE_EQ(m.heartRateBpm, 80);
  EXPECT_TRUE(std::isnan(m.prMs));      // P onset 29999 = not computed
  EXPECT_TRUE(std::isnan(m.pAxisDeg));  // 999 = undefined
  EXPECT_DOUBLE_EQ(m.qrsMs, 87);
  EXPECT_DOUBLE_EQ(m.qrsAxisDeg, 44);
  const std::vector<std::string> st = {
      "Warning: artifact in (part of) recording - use interpretation with caution", "sinus rhythm", "Normal ECG"};
  EXPECT_EQ(r.statements, st);
}

TEST(ScpFiles, WelchAllyn2017TestPatient) {
  const EcgRecord r = read(kWa2017);
  checkWelchAllyn(r, 755);
  EXPECT_EQ(r.identity.patientName, "test^test");
  EXPECT_EQ(r.identity.patientId, "123456789");
  EXPECT_EQ(r.identity.studyDate, "20170504");
  EXPECT_EQ(r.identity.studyTime, "163507");
  EXPECT_DOUBLE_EQ(r.measurements.heartRateBpm, 60);
  EXPECT_DOUBLE_EQ(r.measurements.rrMs, 1000);
  ASSERT_EQ(r.statements.size(), 3u);
  EXPECT_EQ(r.statements[0], "sinusrytm (l\xC3\xA5ngsam)");
  EXPECT_EQ(r.statements[2], "normal EKG-variant");
}

TEST(ScpFiles, NonCompliantHealforceIsAClearError) {
  try {
    read(kQuirk);
    FAIL() << "non-compliant file was accepted";
  } catch (const ReadError& e) {
    EXPECT_NE(std::string(e.what()).find("SCPECG"), std::string::npos) << e.what();
    EXPECT_EQ(e.path(), e2e::test::dataFile(kQuirk).string());
  }
}
