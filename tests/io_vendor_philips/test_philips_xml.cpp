// Philips XML (restingecgdata) reader and XLI decoder tests on the real sierra-ecg-tools samples
// in shared/data/ecg_vendor/philips_xml (golden values: SOURCES.txt / upstream pysierraecg tests).
#include <dcmtk/ofstd/ofstd.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "io/vendor/philips_xml.h"
#include "io/vendor/xli.h"
#include "test_util.h"

namespace fs = std::filesystem;
using e2e::EcgRecord;
using e2e::ReadError;
using e2e::readPhilipsXml;

namespace {

const std::string kDir = "ecg_vendor/philips_xml/";

struct Golden {
  std::string file;
  std::string version;
  double uv;
  std::vector<int> at2750;  // leads I..V6, counts
};

const std::vector<Golden>& goldens() {
  static const std::vector<Golden> g = {
      {"129DYPRG.XML", "1.03", 5, {-9, -17, -7, 13, -1, -12, 0, -1, -3, -4, -7, -6}},
      {"repbeats_example.xml", "1.03", 5, {-9, -17, -7, 13, -1, -12, 0, -1, -3, -4, -7, -6}},
      {"3191723_ZZDEMOPTONLY_1-04_orig.xml", "1.04", 5, {-11, -54, -43, 33, 16, -50, 7, -4, -14, -41, -35, -33}},
      {"ad4d3d80-d165_1-04_orig.xml", "1.04", 5, {32, 46, 14, -39, 9, 30, -74, 320, -1633, 197, 26, 55}},
      {"2020-5-18_15-48-11.xml", "1.04.01", 5, {-12, 78, 90, -33, -51, 84, 14, 3, -24, -20, -13, -21}},
  };
  return g;
}

std::string path(const std::string& name) { return e2e::test::dataFile(kDir + name).string(); }

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int counts(const e2e::EcgChannel& c, std::size_t i, double uv) {
  return static_cast<int>(std::lround(c.samples.at(i) * 1000.0 / uv));
}

class TempDir {
 public:
  TempDir() : dir_(fs::temp_directory_path() / ("e2e_philips_" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& body) const {
    const fs::path p = dir_ / name;
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << body;
    return p.string();
  }

 private:
  fs::path dir_;
};

// The base64 payload of <parsedwaveforms> in the UTF-8 129DYPRG.XML: [begin, end) byte offsets.
std::pair<std::size_t, std::size_t> payloadRange(const std::string& xml) {
  const std::size_t tag = xml.find("<parsedwaveforms");
  const std::size_t b = xml.find('>', tag) + 1;
  return {b, xml.find('<', b)};
}

}  // namespace

TEST(PhilipsXml, SniffsRootElement) {
  for (const auto& g : goldens()) EXPECT_TRUE(e2e::looksLikePhilipsXml(slurp(path(g.file)).substr(0, 4096))) << g.file;
  EXPECT_FALSE(e2e::looksLikePhilipsXml("<?xml version=\"1.0\"?><RestingECG><x/></RestingECG>"));
  EXPECT_FALSE(e2e::looksLikePhilipsXml(""));
  EXPECT_FALSE(e2e::looksLikePhilipsXml("DICM garbage"));
}

TEST(PhilipsXml, EveryFileReadsWithTwelveStandardLeads) {
  for (const auto& g : goldens()) {
    SCOPED_TRACE(g.file);
    const EcgRecord r = readPhilipsXml(path(g.file));
    EXPECT_EQ(r.format, e2e::SourceFormat::PhilipsXml);
    EXPECT_EQ(r.sourcePath, path(g.file));
    EXPECT_EQ(r.identity.modality, "ECG");
    EXPECT_EQ(r.extra.at("documentVersion"), g.version);
    EXPECT_EQ(r.extra.at("compression"), "XLI");
    const e2e::EcgGroup* rh = r.rhythm();
    ASSERT_NE(rh, nullptr);
    EXPECT_EQ(&r.groups.front(), rh);
    EXPECT_EQ(rh->label, "RHYTHM");
    EXPECT_DOUBLE_EQ(rh->samplingHz, 500.0);
    EXPECT_EQ(rh->numSamples, 5500u);  // durationperchannel 11000 ms at 500 Hz
    ASSERT_EQ(rh->channels.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) {
      EXPECT_EQ(rh->channels[i].label, e2e::standardLeads()[i]);
      EXPECT_EQ(rh->channels[i].unit, "mV");
      EXPECT_EQ(rh->channels[i].samples.size(), 5500u);
    }
    EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  }
}

TEST(PhilipsXml, GoldenSamplesReproduced) {
  for (const auto& g : goldens()) {
    SCOPED_TRACE(g.file);
    const EcgRecord r = readPhilipsXml(path(g.file));
    const e2e::EcgGroup* rh = r.rhythm();
    ASSERT_NE(rh, nullptr);
    ASSERT_EQ(rh->channels.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) {
      EXPECT_NEAR(rh->channels[i].sensitivity, g.uv / 1000.0, 1e-12);
      EXPECT_EQ(counts(rh->channels[i], 2750, g.uv), g.at2750[i]) << rh->channels[i].label;
    }
  }
}

TEST(PhilipsXml, ReconstructedLimbLeadsObeyEinthovenAndGoldberger) {
  // III, aVR, aVL and aVF are stored as residuals; rebuilt they must be the derived leads up to
  // the devices' rounding. The last second holds the 1 mV calibration pulse on every lead (200
  // counts on I, II and III alike), so the check stops at 10 s.
  for (const auto& gold : goldens()) {
    SCOPED_TRACE(gold.file);
    const EcgRecord r = readPhilipsXml(path(gold.file));
    const e2e::EcgGroup& g = *r.rhythm();
    int worst = 0;
    for (std::size_t k = 0; k < 5000; ++k) {
      const int i1 = counts(*g.channel("I"), k, 5), i2 = counts(*g.channel("II"), k, 5);
      worst = std::max(worst, std::abs(counts(*g.channel("III"), k, 5) - (i2 - i1)));
      worst = std::max(worst, std::abs(2 * counts(*g.channel("aVR"), k, 5) + (i1 + i2)));
      worst = std::max(worst, std::abs(2 * counts(*g.channel("aVL"), k, 5) - (2 * i1 - i2)));
      worst = std::max(worst, std::abs(2 * counts(*g.channel("aVF"), k, 5) - (2 * i2 - i1)));
    }
    EXPECT_LE(worst, 4);                           // measured: at most 3 counts
    EXPECT_EQ(r.extra.count("derivedLeads"), 0u);  // all twelve were stored, none derived
  }
}

TEST(PhilipsXml, RepresentativeBeatsGoToTheMedianGroup) {
  struct Case {
    std::string file;
    double hz;
    double uv;
    std::size_t n;
  };
  for (const Case& c : {Case{"repbeats_example.xml", 1000, 1.0, 1200}, Case{"2020-5-18_15-48-11.xml", 1000, 1.0, 1200},
                        Case{"ad4d3d80-d165_1-04_orig.xml", 500, 2.5, 1200},
                        Case{"3191723_ZZDEMOPTONLY_1-04_orig.xml", 500, 2.5, 1200}}) {
    SCOPED_TRACE(c.file);
    const EcgRecord r = readPhilipsXml(path(c.file));
    const e2e::EcgGroup* m = r.median();
    ASSERT_NE(m, nullptr);
    EXPECT_TRUE(m->isMedian());
    EXPECT_EQ(m->label, "MEDIAN");
    EXPECT_DOUBLE_EQ(m->samplingHz, c.hz);
    EXPECT_EQ(m->numSamples, c.n);
    ASSERT_EQ(m->channels.size(), 12u);
    for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(m->channels[i].label, e2e::standardLeads()[i]);
    EXPECT_NEAR(m->channels[0].sensitivity, c.uv / 1000.0, 1e-12);
  }
  // repbeats_example lead I starts "/v/+////AAAAAAIA": -2 -2 -1 0 0 2 (1 uV/LSB).
  const EcgRecord r = readPhilipsXml(path("repbeats_example.xml"));
  const e2e::EcgChannel& i1 = r.median()->channels[0];
  const std::vector<int> head = {-2, -2, -1, 0, 0, 2};
  for (std::size_t k = 0; k < head.size(); ++k) EXPECT_EQ(counts(i1, k, 1.0), head[k]);
  EXPECT_EQ(readPhilipsXml(path("129DYPRG.XML")).median(), nullptr);  // same ECG without repbeats
}

TEST(PhilipsXml, SameEcgAsTheConvertedAecgWithinTwoCounts) {
  // hl7_aecg/philips_ad4d3d80-d165_converted_aecg.xml: the same ECG exported as HL7 aECG
  // (rhythm 5 uV, median 2.5 uV); its digits are read here with pugixml directly.
  pugi::xml_document doc;
  ASSERT_TRUE(
      doc.load_file(e2e::test::dataFile("ecg_vendor/hl7_aecg/philips_ad4d3d80-d165_converted_aecg.xml").c_str()));
  std::vector<std::pair<std::string, std::vector<int>>> series;  // (lead code, digits) in file order
  for (pugi::xpath_node d : doc.select_nodes("//*[local-name()='digits']")) {
    const pugi::xml_node seq = d.node().parent().parent();
    std::istringstream in(d.node().child_value());
    std::vector<int> v;
    for (int x; in >> x;) v.push_back(x);
    series.emplace_back(seq.child("code").attribute("code").value(), v);
  }
  ASSERT_GE(series.size(), 24u);  // 12 rhythm + 12 median
  const EcgRecord r = readPhilipsXml(path("ad4d3d80-d165_1-04_orig.xml"));
  const char* codes[] = {"MDC_ECG_LEAD_I",   "MDC_ECG_LEAD_II",  "MDC_ECG_LEAD_III", "MDC_ECG_LEAD_AVR",
                         "MDC_ECG_LEAD_AVL", "MDC_ECG_LEAD_AVF", "MDC_ECG_LEAD_V1",  "MDC_ECG_LEAD_V2",
                         "MDC_ECG_LEAD_V3",  "MDC_ECG_LEAD_V4",  "MDC_ECG_LEAD_V5",  "MDC_ECG_LEAD_V6"};
  for (int group = 0; group < 2; ++group) {
    const e2e::EcgGroup& g = group == 0 ? *r.rhythm() : *r.median();
    const double uv = group == 0 ? 5.0 : 2.5;
    for (std::size_t i = 0; i < 12; ++i) {
      const auto& [code, digits] = series[group * 12 + i];
      SCOPED_TRACE(code);
      EXPECT_EQ(code, codes[i]);
      ASSERT_EQ(digits.size(), g.numSamples);
      // Measured: medians agree within 2 counts everywhere; the converted rhythm differs by up
      // to 4 counts on <1% of samples (the converter's own rounding), mean difference ~0.
      int worst = 0;
      std::size_t within2 = 0;
      double sum = 0;
      for (std::size_t k = 0; k < digits.size(); ++k) {
        const int d = counts(g.channels[i], k, uv) - digits[k];
        worst = std::max(worst, std::abs(d));
        within2 += std::abs(d) <= 2;
        sum += d;
      }
      EXPECT_LE(worst, group == 0 ? 5 : 2);
      EXPECT_GE(within2, digits.size() * 98 / 100);
      EXPECT_LT(std::abs(sum / digits.size()), 0.5);
    }
  }
}

TEST(PhilipsXml, MeasurementsFromTheFiles) {
  const EcgRecord a = readPhilipsXml(path("129DYPRG.XML"));  // 1.03: interpretationmeasurements
  EXPECT_DOUBLE_EQ(a.measurements.heartRateBpm, 41);
  EXPECT_DOUBLE_EQ(a.measurements.prMs, 151);
  EXPECT_DOUBLE_EQ(a.measurements.qrsMs, 135);
  EXPECT_DOUBLE_EQ(a.measurements.qtMs, 476);
  EXPECT_DOUBLE_EQ(a.measurements.qtcMs, 393);
  EXPECT_DOUBLE_EQ(a.measurements.pAxisDeg, 66);
  EXPECT_DOUBLE_EQ(a.measurements.qrsAxisDeg, -21);
  EXPECT_DOUBLE_EQ(a.measurements.tAxisDeg, 59);
  EXPECT_TRUE(std::isnan(a.measurements.rrMs));

  const EcgRecord b = readPhilipsXml(path("3191723_ZZDEMOPTONLY_1-04_orig.xml"));  // 1.04: globalmeasurements
  EXPECT_DOUBLE_EQ(b.measurements.heartRateBpm, 84);
  EXPECT_DOUBLE_EQ(b.measurements.rrMs, 714);
  EXPECT_DOUBLE_EQ(b.measurements.prMs, 144);
  EXPECT_DOUBLE_EQ(b.measurements.qrsMs, 84);
  EXPECT_DOUBLE_EQ(b.measurements.qtMs, 352);
  EXPECT_DOUBLE_EQ(b.measurements.qtcMs, 417);
  EXPECT_EQ(b.measurements.qtcFormula, "Bazett");
  EXPECT_DOUBLE_EQ(b.measurements.pAxisDeg, 81);
  EXPECT_DOUBLE_EQ(b.measurements.qrsAxisDeg, 78);
  EXPECT_DOUBLE_EQ(b.measurements.tAxisDeg, 67);

  const EcgRecord c = readPhilipsXml(path("ad4d3d80-d165_1-04_orig.xml"));
  EXPECT_DOUBLE_EQ(c.measurements.heartRateBpm, 41);
  EXPECT_DOUBLE_EQ(c.measurements.rrMs, 1463);
  EXPECT_DOUBLE_EQ(c.measurements.qtMs, 564);
  EXPECT_DOUBLE_EQ(c.measurements.qtcMs, 466);
  EXPECT_DOUBLE_EQ(c.measurements.qrsAxisDeg, 85);

  const EcgRecord d = readPhilipsXml(path("2020-5-18_15-48-11.xml"));  // 1.04.01
  EXPECT_DOUBLE_EQ(d.measurements.heartRateBpm, 64);
  EXPECT_DOUBLE_EQ(d.measurements.rrMs, 938);
  EXPECT_DOUBLE_EQ(d.measurements.prMs, 164);
  EXPECT_DOUBLE_EQ(d.measurements.qrsMs, 102);
  EXPECT_DOUBLE_EQ(d.measurements.qtMs, 399);
  EXPECT_DOUBLE_EQ(d.measurements.qtcMs, 412);
  EXPECT_DOUBLE_EQ(d.measurements.pAxisDeg, 27);
  EXPECT_DOUBLE_EQ(d.measurements.tAxisDeg, 80);
}

TEST(PhilipsXml, StatementsInOrder) {
  const EcgRecord a = readPhilipsXml(path("129DYPRG.XML"));
  const std::vector<std::string> expectA = {
      "Sinus bradycardia (rate< 50)", "Nonspecific intraventricular conduction delay (QRSd >115mS, not LBBB/RBBB)",
      "Inferior infarct, acute (LCx) (ST>0.10mV, II III aVF, STd V1-V3)", ">>> Acute MI <<<"};
  EXPECT_EQ(a.statements, expectA);
  EXPECT_EQ(a.extra.at("severity"), "- ABNORMAL ECG -");
  const EcgRecord b = readPhilipsXml(path("3191723_ZZDEMOPTONLY_1-04_orig.xml"));
  const std::vector<std::string> expectB = {"SINUS RHYTHM (normal P axis, V-rate 60-99)",
                                            "PROBABLE LEFT VENTRICULAR HYPERTROPHY ((RaVL+SV3)xQRSd >280)",
                                            "ANTERIOR ST ELEVATION, PROBABLY DUE TO LVH (ST >0.20 mV in V1-V4 & LVH)"};
  EXPECT_EQ(b.statements, expectB);
  const EcgRecord c = readPhilipsXml(path("ad4d3d80-d165_1-04_orig.xml"));
  const std::vector<std::string> expectC = {"SINUS BRADYCARDIA (V-rate<60)",
                                            "NO PREVIOUS TRACING AVAILABLE FOR COMPARISON"};
  EXPECT_EQ(c.statements, expectC);
}

TEST(PhilipsXml, DemographicsAndAcquisition) {
  const EcgRecord a = readPhilipsXml(path("129DYPRG.XML"));
  EXPECT_EQ(a.identity.patientId, "1112010721168bdc");
  EXPECT_EQ(a.identity.patientName, "");
  EXPECT_EQ(a.identity.age, "050Y");
  EXPECT_EQ(a.identity.sex, "M");
  EXPECT_EQ(a.identity.studyDate, "20111201");
  EXPECT_EQ(a.identity.studyTime, "072734");
  EXPECT_EQ(a.identity.manufacturer, "Philips");
  EXPECT_EQ(a.identity.modelName, "HeartstartMRx");
  EXPECT_TRUE(a.identity.studyUid.empty());
  EXPECT_NEAR(a.rhythm()->channels[0].lowFreqHz, 0.05, 1e-9);  // signalbandwidth 0.05-150
  EXPECT_NEAR(a.rhythm()->channels[0].highFreqHz, 150, 1e-9);

  const EcgRecord b = readPhilipsXml(path("3191723_ZZDEMOPTONLY_1-04_orig.xml"));
  EXPECT_EQ(b.identity.patientId, "9999");
  EXPECT_EQ(b.identity.patientName, "ZZDEMOPTONLY^ADULT");
  EXPECT_EQ(b.identity.birthDate, "19500101");
  EXPECT_EQ(b.identity.sex, "M");
  EXPECT_EQ(b.identity.studyDate, "20100119");
  EXPECT_EQ(b.identity.studyTime, "151922");
  EXPECT_EQ(b.identity.modelName, "PageWriter Touch");
  EXPECT_EQ(b.extra.at("machineId"), "EKG1715");

  const EcgRecord c = readPhilipsXml(path("ad4d3d80-d165_1-04_orig.xml"));
  EXPECT_EQ(c.identity.sex, "F");
  EXPECT_EQ(c.identity.birthDate, "19760101");
  EXPECT_EQ(c.identity.studyDate, "20081223");
  EXPECT_EQ(c.identity.studyTime, "194446");

  const EcgRecord d = readPhilipsXml(path("2020-5-18_15-48-11.xml"));
  EXPECT_EQ(d.identity.sex, "");  // "Unknown"
  EXPECT_EQ(d.identity.birthDate, "19510101");
  EXPECT_EQ(d.identity.modelName, "PageWriter TC");
  EXPECT_EQ(d.identity.studyDate, "20200518");
}

TEST(PhilipsXml, UncompressedPlainAndBase64WaveformsReadAsStored) {
  // No sample file stores uncompressed leads, so the decoded counts of 129DYPRG are written back
  // as dataencoding="Plain" and as uncompressed base64 int16: the reader must return them as
  // they are (no residual reconstruction outside XLI).
  const std::string full = slurp(path("129DYPRG.XML"));
  const EcgRecord ref = readPhilipsXml(path("129DYPRG.XML"));
  std::string plain;
  std::string raw;
  for (const auto& c : ref.rhythm()->channels)
    for (std::size_t k = 0; k < c.samples.size(); ++k) {
      const int v = counts(c, k, 5);
      plain += std::to_string(v) + (k % 25 == 24 ? "\n" : " ");
      raw.push_back(static_cast<char>(v & 0xff));
      raw.push_back(static_cast<char>((v >> 8) & 0xff));
    }
  OFString b64;
  OFStandard::encodeBase64(reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), b64, 76);
  const std::size_t e = payloadRange(full).second;
  const std::size_t tag = full.find("<parsedwaveforms");
  const std::string open = "<parsedwaveforms durationperchannel=\"11000\" compressflag=\"False\" dataencoding=";
  TempDir t;
  for (const std::string& body : {open + "\"Plain\">" + plain, open + "\"Base64\">" + std::string(b64.c_str())}) {
    const std::string doc = full.substr(0, tag) + body + full.substr(e);
    const EcgRecord r = readPhilipsXml(t.write("plain.xml", doc));
    EXPECT_EQ(r.extra.at("compression"), "none");
    ASSERT_EQ(r.rhythm()->channels.size(), 12u);
    ASSERT_EQ(r.rhythm()->numSamples, 5500u);
    for (std::size_t i = 0; i < 12; ++i) {
      EXPECT_EQ(counts(r.rhythm()->channels[i], 2750, 5), goldens()[0].at2750[i]);
      EXPECT_EQ(r.rhythm()->channels[i].samples, ref.rhythm()->channels[i].samples);
    }
  }
}

TEST(PhilipsXml, UnverifiedVersionReadsWithAWarning) {
  std::string doc = slurp(path("129DYPRG.XML"));
  const std::size_t v = doc.find("<documentversion>1.03<");
  ASSERT_NE(v, std::string::npos);
  doc.replace(v + 17, 4, "1.05");
  TempDir t;
  const EcgRecord r = readPhilipsXml(t.write("v105.xml", doc));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("SierraECG 1.05"), std::string::npos) << r.warnings[0];
  EXPECT_EQ(counts(r.rhythm()->channels[0], 2750, 5), -9);
  EXPECT_EQ(r.extra.at("resolution_uV"), "5");
}

// ----------------------------------------------------------------------------- bad input ----

TEST(PhilipsXmlBadInput, EmptyFileAndNonEcgXml) {
  TempDir t;
  EXPECT_THROW(readPhilipsXml(t.write("empty.xml", "")), ReadError);
  try {
    readPhilipsXml(t.write("other.xml", "<?xml version=\"1.0\"?><RestingECG><PatientDemographics/></RestingECG>"));
    FAIL() << "no error";
  } catch (const ReadError& e) {
    EXPECT_NE(std::string(e.what()).find("restingecgdata"), std::string::npos) << e.what();
  }
  EXPECT_THROW(readPhilipsXml(t.write("nowave.xml", "<restingecgdata xmlns=\"http://www3.medical.philips.com\"/>")),
               ReadError);
  EXPECT_THROW(readPhilipsXml((fs::temp_directory_path() / "does_not_exist_philips.xml").string()), ReadError);
}

TEST(PhilipsXmlBadInput, TruncatedCopiesFailCleanly) {
  TempDir t;
  for (const char* name : {"129DYPRG.XML", "2020-5-18_15-48-11.xml"}) {
    const std::string full = slurp(path(name));
    for (double f : {0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99}) {
      const std::string cut = full.substr(0, static_cast<std::size_t>(full.size() * f));
      EXPECT_THROW(readPhilipsXml(t.write("cut.xml", cut)), ReadError) << name << " at " << f;
    }
  }
}

TEST(PhilipsXmlBadInput, TruncatedXliPayloadFailsCleanly) {
  TempDir t;
  const std::string full = slurp(path("129DYPRG.XML"));
  const auto [b, e] = payloadRange(full);
  for (double f : {0.0, 0.05, 0.5, 0.95}) {
    std::size_t keep = static_cast<std::size_t>((e - b) * f) / 4 * 4;  // whole base64 quads
    const std::string cut = full.substr(0, b + keep) + full.substr(e);
    EXPECT_THROW(readPhilipsXml(t.write("short.xml", cut)), ReadError) << f;
  }
}

TEST(PhilipsXmlBadInput, FlippedPayloadBytesNeverCrash) {
  // XLI has no checksum: a changed byte either breaks the LZW/delta stream (clear ReadError) or
  // decodes to different, still bounded 16-bit samples. Both outcomes are accepted here; the
  // point is no crash and no out-of-bounds access (run once under ASan/UBSan).
  TempDir t;
  const std::string full = slurp(path("129DYPRG.XML"));
  const auto [b, e] = payloadRange(full);
  int errors = 0, decoded = 0;
  for (std::size_t k = 0; k < 64; ++k) {
    std::string bad = full;
    const std::size_t pos = b + 12 + (e - b - 24) * k / 64;
    if (bad[pos] == '\n' || bad[pos] == '\r') continue;
    bad[pos] = bad[pos] == 'A' ? 'z' : 'A';
    try {
      const EcgRecord r = readPhilipsXml(t.write("flip.xml", bad));
      ++decoded;
      for (const auto& c : r.rhythm()->channels)
        for (float v : c.samples) ASSERT_LE(std::abs(v), 3 * 32768 * 0.005f);
    } catch (const ReadError& ex) {
      ++errors;
      EXPECT_NE(std::string(ex.what()).find("XLI"), std::string::npos) << ex.what();
    }
  }
  EXPECT_GT(errors, 0);  // most flips break the stream and say so
  std::cout << "flipped payload bytes: " << errors << " clear errors, " << decoded << " decoded\n";
}

TEST(PhilipsXmlBadInput, HugeChunkSizeIsRefusedBeforeAllocating) {
  TempDir t;
  const std::string full = slurp(path("129DYPRG.XML"));
  const std::size_t b = payloadRange(full).first;
  ASSERT_EQ(full.substr(b, 8), "7gUAAAEA");              // ee 05 00 00 | 01 00: first chunk 1518 bytes
  for (const char* header : {"AAAAgAEA", "////fwEA"}) {  // 2^31 (negative int32), 2^31 - 1
    std::string bad = full;
    bad.replace(b, 8, header);
    try {
      readPhilipsXml(t.write("huge.xml", bad));
      FAIL() << "no error for " << header;
    } catch (const ReadError& e) {
      EXPECT_NE(std::string(e.what()).find("chunk size"), std::string::npos) << e.what();
    }
  }
}

TEST(Xli, DecoderRejectsMalformedChunks) {
  // Header claims 2^31 - 1 payload bytes with 4 present.
  std::vector<std::uint8_t> huge = {0xff, 0xff, 0xff, 0x7f, 1, 0, 0, 0, 1, 2, 3, 4};
  std::size_t off = 0;
  EXPECT_THROW(e2e::xli::decodeChunk(huge.data(), huge.size(), off), std::runtime_error);
  EXPECT_EQ(off, 0u);
  std::vector<std::uint8_t> shortHeader = {4, 0, 0};
  EXPECT_THROW(e2e::xli::decodeChunk(shortHeader.data(), shortHeader.size(), off), std::runtime_error);
  // First code 0x3FE (1022) is a dictionary entry before any was defined.
  const std::uint8_t undefined[] = {0xFF, 0x80, 0, 0, 0};
  EXPECT_THROW(e2e::xli::lzwDecode(undefined, sizeof undefined, 1000), std::runtime_error);
  // One sample is not a lead.
  EXPECT_THROW(e2e::xli::decodeDeltas({0x12}, 0), std::runtime_error);
}

TEST(Xli, LzwAndDeltaDecodingByHand) {
  // Codes 'a'(0x61) 'b'(0x62) 256 ('ab', defined after 'b') and 258, the entry being defined
  // ('ab' + 'a'), 10 bits MSB first: 0001100001 0001100010 0100000000 0100000010, then padding.
  const std::uint8_t lzw[] = {0x18, 0x46, 0x24, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00};
  const std::vector<std::uint8_t> out = e2e::xli::lzwDecode(lzw, sizeof lzw, 100);
  const std::string s(out.begin(), out.end());
  EXPECT_EQ(s.substr(0, 7), "ababab" + std::string("a"));
  EXPECT_THROW(e2e::xli::lzwDecode(lzw, sizeof lzw, 4), std::runtime_error);  // output cap
  // Deltas: hi bytes then lo bytes; samples 10, 12, then 2*12 - 10 - first(-1) = 15, then
  // 2*15 - 12 - (code[2] - 64) with code[2] = 64 + 3 -> 15.
  const std::vector<std::uint8_t> packed = {0, 0, 0, 0, 10, 12, 67, 99};
  const std::vector<std::int32_t> v = e2e::xli::decodeDeltas(packed, -1);
  EXPECT_EQ(v, (std::vector<std::int32_t>{10, 12, 15, 15}));
}
