// Tests of the DICOM waveform ECG reader on the real files in shared/data and on
// synthetic files written here with DCMTK.
#include <gtest/gtest.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvrobow.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "io/dicom_ecg.h"
#include "test_util.h"

namespace fs = std::filesystem;
using e2e::EcgAnnotation;
using e2e::EcgRecord;
using e2e::ReadError;

namespace {

const char* kTwelveLead = "1.2.840.10008.5.1.4.1.1.9.1.1";
const char* kHemodynamic = "1.2.840.10008.5.1.4.1.1.9.2.1";

std::string mortara() { return e2e::test::dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm").string(); }
std::string mortaraCopy() {
  return e2e::test::dataFile("ecg_dicom/marcodebe_dicom-ecg-plot/anonymous_ecg.dcm").string();
}
std::string geHemo() { return e2e::test::dataFile("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm").string(); }
std::string echo() { return e2e::test::dataFile("us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm").string(); }

// A fresh temporary directory per test.
fs::path tempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path d = fs::temp_directory_path() /
               ("e2e_io_ecg_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name());
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// ---- Independent raw access with DCMTK (the expected values of the tests) ----

struct RawChannel {
  std::string code, units;
  double sens = 1, corr = 1, base = 0;
};
struct RawGroup {
  int nch = 0;
  long ns = 0;
  double fs = 0;
  std::vector<RawChannel> ch;
  std::vector<std::int16_t> data;  // 16-bit signed, channel-interleaved (both real files are SS)
  double mV(int c, long i) const {
    const double scale = ch[c].units == "uV" ? 1e-3 : 1.0;
    return (data[static_cast<std::size_t>(i) * nch + c] * ch[c].sens * ch[c].corr + ch[c].base) * scale;
  }
};

RawGroup rawGroup(const std::string& path, int gi) {
  RawGroup r;
  DcmFileFormat ff;
  EXPECT_TRUE(ff.loadFile(path.c_str()).good());
  DcmItem* g = nullptr;
  EXPECT_TRUE(ff.getDataset()->findAndGetSequenceItem(DCM_WaveformSequence, g, gi).good());
  if (!g) return r;
  Uint16 nch = 0;
  Uint32 ns = 0;
  Float64 fs = 0;
  OFString interp;
  EXPECT_TRUE(g->findAndGetUint16(DCM_NumberOfWaveformChannels, nch).good());
  EXPECT_TRUE(g->findAndGetUint32(DCM_NumberOfWaveformSamples, ns).good());
  EXPECT_TRUE(g->findAndGetFloat64(DCM_SamplingFrequency, fs).good());
  EXPECT_TRUE(g->findAndGetOFString(DCM_WaveformSampleInterpretation, interp).good());
  EXPECT_EQ(interp, "SS");
  r.nch = nch;
  r.ns = static_cast<long>(ns);
  r.fs = fs;
  for (int c = 0; c < nch; ++c) {
    DcmItem* ci = nullptr;
    EXPECT_TRUE(g->findAndGetSequenceItem(DCM_ChannelDefinitionSequence, ci, c).good());
    RawChannel rc;
    DcmItem* src = nullptr;
    OFString s;
    if (ci->findAndGetSequenceItem(DCM_ChannelSourceSequence, src, 0).good() &&
        src->findAndGetOFString(DCM_CodeValue, s).good())
      rc.code = s.c_str();
    DcmItem* un = nullptr;
    if (ci->findAndGetSequenceItem(DCM_ChannelSensitivityUnitsSequence, un, 0).good() &&
        un->findAndGetOFString(DCM_CodeValue, s).good())
      rc.units = s.c_str();
    ci->findAndGetFloat64(DCM_ChannelSensitivity, rc.sens);
    ci->findAndGetFloat64(DCM_ChannelSensitivityCorrectionFactor, rc.corr);
    ci->findAndGetFloat64(DCM_ChannelBaseline, rc.base);
    r.ch.push_back(rc);
  }
  const Uint16* w = nullptr;
  unsigned long count = 0;
  EXPECT_TRUE(g->findAndGetUint16Array(DCM_WaveformData, w, &count).good());
  for (unsigned long k = 0; k < count; ++k) r.data.push_back(static_cast<std::int16_t>(w[k]));
  return r;
}

const EcgAnnotation* findMeasurement(const EcgRecord& r, const std::string& meaning) {
  for (const auto& a : r.annotations)
    if (a.kind == EcgAnnotation::Kind::Measurement && a.conceptMeaning == meaning) return &a;
  return nullptr;
}

// Expect a ReadError naming the file; returns its cause.
std::string expectReadError(const std::string& path) {
  try {
    e2e::readDicomEcg(path);
  } catch (const ReadError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_FALSE(e.cause().empty());
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    return e.cause();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a ReadError: " << e.what();
    return {};
  }
  ADD_FAILURE() << "no error reading " << path;
  return {};
}

}  // namespace

// ------------------------------------------------------------ helpers ----

TEST(DicomEcgCodes, LeadsFromCodes) {
  using e2e::ecgLeadFromCode;
  EXPECT_EQ(ecgLeadFromCode("2:1", "MDC"), "I");
  EXPECT_EQ(ecgLeadFromCode("2:2", "MDC"), "II");
  EXPECT_EQ(ecgLeadFromCode("2:61", "MDC"), "III");
  EXPECT_EQ(ecgLeadFromCode("2:62", "MDC"), "aVR");
  EXPECT_EQ(ecgLeadFromCode("2:63", "MDC"), "aVL");
  EXPECT_EQ(ecgLeadFromCode("2:64", "MDC"), "aVF");
  EXPECT_EQ(ecgLeadFromCode("2:3", "MDC"), "V1");
  EXPECT_EQ(ecgLeadFromCode("2:8", "MDC"), "V6");
  EXPECT_EQ(ecgLeadFromCode("5.6.3-9-1", "SCPECG"), "I");
  EXPECT_EQ(ecgLeadFromCode("5.6.3-9-61", "SCPECG"), "III");
  EXPECT_EQ(ecgLeadFromCode("5.6.3-9-64", "SCPECG"), "aVF");
  EXPECT_EQ(ecgLeadFromCode("5.6.3-9-5", "SCPECG"), "V3");
  EXPECT_EQ(ecgLeadFromCode("131329", "MDC"), "I");
  EXPECT_EQ(ecgLeadFromCode("131330", "MDC"), "II");
  EXPECT_EQ(ecgLeadFromCode("131389", "MDC"), "III");
  EXPECT_EQ(ecgLeadFromCode("131336", "MDC"), "V6");
  EXPECT_EQ(ecgLeadFromCode("MDC_ECG_LEAD_AVR", "MDC"), "aVR");
  EXPECT_EQ(ecgLeadFromCode("MDC_ECG_LEAD_V2", "MDC"), "V2");
  EXPECT_EQ(ecgLeadFromCode("2:16", "MDC"), "X");
  EXPECT_EQ(ecgLeadFromCode("2:15872", "MDC"), "");  // PR interval, not a lead
  EXPECT_EQ(ecgLeadFromCode("8867-4", "LN"), "");
  EXPECT_EQ(ecgLeadFromCode("", ""), "");
  EXPECT_EQ(ecgLeadFromCode("2:1", "SRT"), "");  // MDC form under another scheme: unknown
}

TEST(DicomEcgCodes, SopClasses) {
  EXPECT_TRUE(e2e::isWaveformSopClass(kTwelveLead));
  EXPECT_TRUE(e2e::isWaveformSopClass("1.2.840.10008.5.1.4.1.1.9.1.2"));
  EXPECT_TRUE(e2e::isWaveformSopClass("1.2.840.10008.5.1.4.1.1.9.1.3"));
  EXPECT_TRUE(e2e::isWaveformSopClass(kHemodynamic));
  EXPECT_TRUE(e2e::isWaveformSopClass("1.2.840.10008.5.1.4.1.1.9.3.1"));
  EXPECT_TRUE(e2e::isWaveformSopClass("1.2.840.10008.5.1.4.1.1.9.5.1"));
  EXPECT_FALSE(e2e::isWaveformSopClass("1.2.840.10008.5.1.4.1.1.3.1"));  // US multi-frame
  EXPECT_FALSE(e2e::isWaveformSopClass(""));
  EXPECT_TRUE(e2e::isEcgSopClass(kTwelveLead));
  EXPECT_FALSE(e2e::isEcgSopClass(kHemodynamic));
}

// ------------------------------------------------------ Mortara 12-lead ----

TEST(DicomEcgMortara, HeaderAndGroups) {
  const EcgRecord r = e2e::readDicomEcg(mortara());
  EXPECT_EQ(r.format, e2e::SourceFormat::DicomEcg);
  EXPECT_EQ(r.sourcePath, mortara());
  EXPECT_EQ(r.identity.sopClassUid, kTwelveLead);
  EXPECT_EQ(r.identity.sopInstanceUid, "1.3.6.1.4.1.20029.40.20130125105919.5407.1.1");
  EXPECT_EQ(r.identity.studyUid, "1.3.76.13.65829.2.20130125082826.1072139.2");
  EXPECT_EQ(r.identity.seriesUid, "1.3.6.1.4.1.20029.40.20130125105919.5407.1");
  EXPECT_EQ(r.identity.patientId, "642341");
  EXPECT_EQ(r.identity.patientName, "Anonymous");
  EXPECT_EQ(r.identity.birthDate, "19710123");
  EXPECT_EQ(r.identity.sex, "F");
  EXPECT_EQ(r.identity.age, "042Y");
  EXPECT_EQ(r.identity.studyDate, "20130125");
  EXPECT_EQ(r.identity.studyTime, "105919");
  EXPECT_EQ(r.identity.accessionNumber, "03028041970546");
  EXPECT_EQ(r.identity.modality, "ECG");
  EXPECT_EQ(r.identity.manufacturer, "Mortara Instrument, Inc.");
  EXPECT_EQ(r.identity.modelName, "el250");

  ASSERT_EQ(r.groups.size(), 2u);
  const e2e::EcgGroup& rh = r.groups[0];
  EXPECT_EQ(rh.label, "RHYTHM");
  EXPECT_EQ(rh.originality, "ORIGINAL");
  EXPECT_FALSE(rh.isMedian());
  EXPECT_DOUBLE_EQ(rh.samplingHz, 1000.0);
  EXPECT_EQ(rh.numSamples, 10000u);
  ASSERT_EQ(rh.channels.size(), 12u);
  for (std::size_t c = 0; c < 12; ++c) {
    EXPECT_EQ(rh.channels[c].label, e2e::standardLeads()[c]) << c;
    EXPECT_EQ(rh.channels[c].codingScheme, "SCPECG");
    EXPECT_EQ(rh.channels[c].unit, "mV");
    EXPECT_EQ(rh.channels[c].samples.size(), 10000u);
  }
  EXPECT_EQ(rh.channels[0].codeValue, "5.6.3-9-1");
  EXPECT_EQ(rh.channels[0].codeMeaning, "Lead I (Einthoven)");
  EXPECT_EQ(rh.channels[2].codeValue, "5.6.3-9-61");
  EXPECT_EQ(rh.channels[6].codeValue, "5.6.3-9-3");

  const e2e::EcgGroup& md = r.groups[1];
  EXPECT_EQ(md.label, "MEDIAN BEAT");
  EXPECT_EQ(md.originality, "DERIVED");
  EXPECT_TRUE(md.isMedian());
  EXPECT_DOUBLE_EQ(md.samplingHz, 1000.0);
  EXPECT_EQ(md.numSamples, 1200u);
  ASSERT_EQ(md.channels.size(), 12u);
  for (std::size_t c = 0; c < 12; ++c) EXPECT_EQ(md.channels[c].label, e2e::standardLeads()[c]);
  EXPECT_EQ(r.rhythm(), &r.groups[0]);
  EXPECT_EQ(r.median(), &r.groups[1]);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings.front();
  // The same bytes under a second name read the same.
  const EcgRecord r2 = e2e::readDicomEcg(mortaraCopy());
  EXPECT_EQ(r2.groups[0].channels[7].samples, rh.channels[7].samples);
}

TEST(DicomEcgMortara, SamplesInMillivolts) {
  const EcgRecord r = e2e::readDicomEcg(mortara());
  for (int gi = 0; gi < 2; ++gi) {
    const RawGroup raw = rawGroup(mortara(), gi);
    ASSERT_EQ(raw.nch, 12);
    ASSERT_EQ(raw.data.size(), static_cast<std::size_t>(raw.nch) * raw.ns);
    const auto& g = r.groups[gi];
    EXPECT_EQ(static_cast<long>(g.numSamples), raw.ns);
    for (int c = 0; c < 12; ++c) {
      EXPECT_EQ(raw.ch[c].units, "uV");
      EXPECT_DOUBLE_EQ(g.channels[c].sensitivity, raw.ch[c].sens);
      EXPECT_DOUBLE_EQ(g.channels[c].correction, raw.ch[c].corr);
      EXPECT_DOUBLE_EQ(g.channels[c].baseline, raw.ch[c].base);
      for (long i : {0L, 1L, 2L, 3L, 4L, 500L, raw.ns - 1})
        EXPECT_NEAR(g.channels[c].samples[i], raw.mV(c, i), 1e-6) << "group " << gi << " ch " << c << " i " << i;
    }
  }
  // From dcmdump: first frame 0050\005a\000a\ffab\0023\0032 ..., ChannelSensitivity 1.25 uV.
  const auto& rh = r.groups[0];
  EXPECT_NEAR(rh.channel("I")->samples[0], 80 * 1.25e-3, 1e-6);
  EXPECT_NEAR(rh.channel("II")->samples[0], 90 * 1.25e-3, 1e-6);
  EXPECT_NEAR(rh.channel("III")->samples[0], 10 * 1.25e-3, 1e-6);
  EXPECT_NEAR(rh.channel("aVR")->samples[0], -85 * 1.25e-3, 1e-6);
  EXPECT_NEAR(rh.channel("aVL")->samples[0], 35 * 1.25e-3, 1e-6);
  EXPECT_NEAR(rh.channel("aVF")->samples[0], 50 * 1.25e-3, 1e-6);
  // Einthoven: III = II - I, to within a count, over the whole rhythm strip.
  const auto& I = rh.channel("I")->samples;
  const auto& II = rh.channel("II")->samples;
  const auto& III = rh.channel("III")->samples;
  double worst = 0;
  for (std::size_t i = 0; i < I.size(); ++i) worst = std::max(worst, std::fabs(double(III[i]) - (II[i] - I[i])));
  EXPECT_LE(worst, 1.25e-3 + 1e-6);
}

TEST(DicomEcgMortara, FilterSettings) {
  const EcgRecord r = e2e::readDicomEcg(mortara());
  for (const auto& ch : r.groups[0].channels) {
    EXPECT_DOUBLE_EQ(ch.lowFreqHz, 0.05);
    EXPECT_DOUBLE_EQ(ch.highFreqHz, 300.0);
    EXPECT_DOUBLE_EQ(ch.notchHz, 0.0);
  }
  // In the median group the device wrote no filter settings for lead I only.
  const auto& md = r.groups[1];
  EXPECT_TRUE(std::isnan(md.channels[0].lowFreqHz));
  EXPECT_TRUE(std::isnan(md.channels[0].highFreqHz));
  EXPECT_TRUE(std::isnan(md.channels[0].notchHz));
  for (std::size_t c = 1; c < md.channels.size(); ++c) {
    EXPECT_DOUBLE_EQ(md.channels[c].lowFreqHz, 0.05);
    EXPECT_DOUBLE_EQ(md.channels[c].highFreqHz, 300.0);
  }
}

TEST(DicomEcgMortara, MeasurementsAndStatements) {
  const EcgRecord r = e2e::readDicomEcg(mortara());
  // Values as in the file's WaveformAnnotationSequence (SCPECG codes, ms / deg).
  const auto& m = r.measurements;
  EXPECT_DOUBLE_EQ(m.rrMs, 982);
  EXPECT_DOUBLE_EQ(m.prMs, 161);
  EXPECT_DOUBLE_EQ(m.qrsMs, 75);
  EXPECT_DOUBLE_EQ(m.qtMs, 368);
  EXPECT_DOUBLE_EQ(m.qtcMs, 370);
  EXPECT_EQ(m.qtcFormula, "");
  EXPECT_DOUBLE_EQ(m.pAxisDeg, 74);
  EXPECT_DOUBLE_EQ(m.qrsAxisDeg, 52);
  EXPECT_DOUBLE_EQ(m.tAxisDeg, 57);
  // No heart rate in the file: derived from RR.
  EXPECT_NEAR(m.heartRateBpm, 60000.0 / 982.0, 1e-9);
  EXPECT_EQ(r.extra.at("heartRateSource"), "RR");

  ASSERT_EQ(r.statements.size(), 2u);
  EXPECT_EQ(r.statements[0], "RITMO SINUSALE");
  EXPECT_EQ(r.statements[1], "ECG NORMALE");

  const EcgAnnotation* pr = findMeasurement(r, "PR Interval");
  ASSERT_NE(pr, nullptr);
  EXPECT_EQ(pr->conceptCode, "5.13.5-7");
  EXPECT_EQ(pr->conceptScheme, "SCPECG");
  EXPECT_EQ(pr->unit, "ms");
  EXPECT_DOUBLE_EQ(pr->value, 161);
  EXPECT_EQ(pr->groupIndex, 0);
  EXPECT_EQ(pr->channelIndex, -1);  // channel 0 = whole group
  const EcgAnnotation* pp = findMeasurement(r, "PP Interval");
  ASSERT_NE(pp, nullptr);
  EXPECT_DOUBLE_EQ(pp->value, 0);
  const EcgAnnotation* axis = findMeasurement(r, "QRS Axis");
  ASSERT_NE(axis, nullptr);
  EXPECT_EQ(axis->unit, "deg");

  int statements = 0, measurements = 0, fiducials = 0;
  for (const auto& a : r.annotations) {
    statements += a.kind == EcgAnnotation::Kind::Statement;
    measurements += a.kind == EcgAnnotation::Kind::Measurement;
    fiducials += a.kind == EcgAnnotation::Kind::Fiducial;
  }
  EXPECT_EQ(statements, 2);
  EXPECT_EQ(measurements, 9);
  EXPECT_EQ(fiducials, 66);
  EXPECT_EQ(r.annotations.size(), 77u);
  // First fiducial: P onset at sample 299.
  const EcgAnnotation* first = nullptr;
  for (const auto& a : r.annotations)
    if (a.kind == EcgAnnotation::Kind::Fiducial) {
      first = &a;
      break;
    }
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->conceptMeaning, "P Onset");
  EXPECT_EQ(first->conceptCode, "5.10.3-1");
  ASSERT_EQ(first->samplePositions.size(), 1u);
  EXPECT_DOUBLE_EQ(first->samplePositions[0], 299);
  EXPECT_EQ(first->groupIndex, 0);
  EXPECT_EQ(r.extra.at("context.Electrode Placement"),
            "Standard 12-lead positions: limb leads placed at extremities");
}

// ------------------------------------------- GE 12-lead in hemodynamic SOP ----

TEST(DicomEcgGeHemodynamic, Reads12Leads) {
  const EcgRecord r = e2e::readDicomEcg(geHemo());
  EXPECT_EQ(r.identity.sopClassUid, kHemodynamic);
  EXPECT_EQ(r.identity.manufacturer, "GE Marquette");
  EXPECT_EQ(r.identity.modelName, "MACLB");
  EXPECT_EQ(r.identity.patientId, "123-654");
  EXPECT_EQ(r.identity.patientName, "Patient^Test");
  EXPECT_EQ(r.identity.seriesNumber, 1);
  EXPECT_EQ(r.identity.studyUid, "1.3.6.1.4.1.6018.4.999");
  ASSERT_EQ(r.groups.size(), 1u);
  const auto& g = r.groups[0];
  EXPECT_EQ(g.label, "RHYTHM");  // no MultiplexGroupLabel, ORIGINAL 10 s strip
  EXPECT_DOUBLE_EQ(g.samplingHz, 240.0);
  EXPECT_EQ(g.numSamples, 2400u);
  ASSERT_EQ(g.channels.size(), 12u);
  for (std::size_t c = 0; c < 12; ++c) EXPECT_EQ(g.channels[c].label, e2e::standardLeads()[c]);
  EXPECT_EQ(r.median(), nullptr);

  const RawGroup raw = rawGroup(geHemo(), 0);
  ASSERT_EQ(raw.nch, 12);
  for (int c = 0; c < 12; ++c) {
    EXPECT_EQ(raw.ch[c].units, "mV");
    EXPECT_DOUBLE_EQ(g.channels[c].sensitivity, 0.00122);
    EXPECT_DOUBLE_EQ(g.channels[c].lowFreqHz, 0.05);
    EXPECT_DOUBLE_EQ(g.channels[c].highFreqHz, 100.0);
    EXPECT_TRUE(std::isnan(g.channels[c].notchHz));
    for (long i : {0L, 1L, 2L, 3L, 4L, 1234L, raw.ns - 1})
      EXPECT_NEAR(g.channels[c].samples[i], raw.mV(c, i), 1e-6);
  }
  // From dcmdump: WaveformData 00ba\0030\ff76\ff8b\00a2 ..., 0.00122 mV per count.
  EXPECT_NEAR(g.channel("I")->samples[0], 186 * 0.00122, 1e-6);
  EXPECT_NEAR(g.channel("II")->samples[0], 48 * 0.00122, 1e-6);
  EXPECT_NEAR(g.channel("III")->samples[0], -138 * 0.00122, 1e-6);
  EXPECT_NEAR(g.channel("aVR")->samples[0], -117 * 0.00122, 1e-6);
  EXPECT_NEAR(g.channel("aVL")->samples[0], 162 * 0.00122, 1e-6);

  // Heart rate annotation (LOINC 8867-4), referencing group 1 channel 1.
  EXPECT_DOUBLE_EQ(r.measurements.heartRateBpm, 69);
  EXPECT_TRUE(std::isnan(r.measurements.prMs));
  ASSERT_EQ(r.annotations.size(), 1u);
  EXPECT_EQ(r.annotations[0].conceptCode, "8867-4");
  EXPECT_EQ(r.annotations[0].unit, "{H.B.}/min");
  EXPECT_EQ(r.annotations[0].groupIndex, 0);
  EXPECT_EQ(r.annotations[0].channelIndex, 0);
  EXPECT_TRUE(r.statements.empty());
  EXPECT_EQ(r.extra.count("heartRateSource"), 0u);
}

// --------------------------------------------------------------- errors ----

TEST(DicomEcgErrors, NonexistentFile) {
  const std::string cause = expectReadError((tempDir() / "missing.dcm").string());
  EXPECT_NE(cause.find("does not exist"), std::string::npos) << cause;
}

TEST(DicomEcgErrors, NotDicom) {
  const fs::path p = tempDir() / "notes.dcm";
  std::ofstream(p) << "This is a plain text file, not a DICOM waveform.\n";
  const std::string cause = expectReadError(p.string());
  EXPECT_NE(cause.find("not a DICOM file"), std::string::npos) << cause;
  const fs::path e = tempDir() / "empty.dcm";
  std::ofstream(e).close();
  expectReadError(e.string());
}

TEST(DicomEcgErrors, TruncatedCopies) {
  const fs::path dir = tempDir();
  for (const std::string& src : {mortara(), geHemo()}) {
    std::ifstream in(src, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 50000u);
    // Cuts inside the meta header, inside sequences, inside WaveformData, in the last element.
    for (std::size_t keep : {std::size_t(140), std::size_t(310), std::size_t(20000), bytes.size() / 2,
                             bytes.size() - 100, bytes.size() - 1}) {
      const fs::path p = dir / (fs::path(src).stem().string() + "_" + std::to_string(keep) + ".dcm");
      std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(keep));
      const std::string cause = expectReadError(p.string());
      EXPECT_NE(cause.find("truncated"), std::string::npos) << keep << ": " << cause;
    }
    // A cut in the preamble is not DICOM at all.
    const fs::path p = dir / "preamble_only.dcm";
    std::ofstream(p, std::ios::binary).write(bytes.data(), 100);
    EXPECT_NE(expectReadError(p.string()).find("not a DICOM file"), std::string::npos);
  }
}

TEST(DicomEcgErrors, EchoIsNotAWaveform) {
  const std::string cause = expectReadError(echo());
  EXPECT_NE(cause.find("WaveformSequence"), std::string::npos) << cause;
}

// ------------------------------------------------------------ synthetic ----

namespace {

struct SynChannel {
  std::string code, scheme, meaning, label;
  double sens = 10, corr = 1, base = 0;
  std::string unit = "uV";
  double lo = NAN, hi = NAN, notch = NAN;
};
struct SynGroup {
  std::string label;  // empty: no MultiplexGroupLabel
  std::string originality = "ORIGINAL";
  double fs = 500;
  long ns = 0;
  int bits = 8;
  std::string interp = "SB";
  std::vector<SynChannel> ch;
  std::vector<std::uint8_t> data;  // raw little-endian bytes, channel-interleaved
};

void addCode(DcmItem* item, const DcmTagKey& seq, const std::string& value, const std::string& scheme,
             const std::string& meaning) {
  DcmItem* ci = nullptr;
  ASSERT_TRUE(item->findOrCreateSequenceItem(seq, ci, -2).good());
  ci->putAndInsertString(DCM_CodeValue, value.c_str());
  ci->putAndInsertString(DCM_CodingSchemeDesignator, scheme.c_str());
  ci->putAndInsertString(DCM_CodeMeaning, meaning.c_str());
}

void putDouble(DcmItem* item, const DcmTagKey& key, double v) {
  if (!std::isnan(v)) item->putAndInsertString(key, std::to_string(v).substr(0, 16).c_str());
}

void addGroup(DcmDataset* ds, const SynGroup& g) {
  DcmItem* wi = nullptr;
  ASSERT_TRUE(ds->findOrCreateSequenceItem(DCM_WaveformSequence, wi, -2).good());
  wi->putAndInsertString(DCM_WaveformOriginality, g.originality.c_str());
  wi->putAndInsertUint16(DCM_NumberOfWaveformChannels, static_cast<Uint16>(g.ch.size()));
  wi->putAndInsertUint32(DCM_NumberOfWaveformSamples, static_cast<Uint32>(g.ns));
  putDouble(wi, DCM_SamplingFrequency, g.fs);
  if (!g.label.empty()) wi->putAndInsertString(DCM_MultiplexGroupLabel, g.label.c_str());
  for (const auto& c : g.ch) {
    DcmItem* ci = nullptr;
    ASSERT_TRUE(wi->findOrCreateSequenceItem(DCM_ChannelDefinitionSequence, ci, -2).good());
    if (!c.code.empty() || !c.meaning.empty()) addCode(ci, DCM_ChannelSourceSequence, c.code, c.scheme, c.meaning);
    if (!c.label.empty()) ci->putAndInsertString(DCM_ChannelLabel, c.label.c_str());
    putDouble(ci, DCM_ChannelSensitivity, c.sens);
    addCode(ci, DCM_ChannelSensitivityUnitsSequence, c.unit, "UCUM", c.unit);
    putDouble(ci, DCM_ChannelSensitivityCorrectionFactor, c.corr);
    putDouble(ci, DCM_ChannelBaseline, c.base);
    ci->putAndInsertUint16(DCM_WaveformBitsStored, static_cast<Uint16>(g.bits));
    putDouble(ci, DCM_FilterLowFrequency, c.lo);
    putDouble(ci, DCM_FilterHighFrequency, c.hi);
    putDouble(ci, DCM_NotchFilterFrequency, c.notch);
  }
  wi->putAndInsertUint16(DCM_WaveformBitsAllocated, static_cast<Uint16>(g.bits));
  wi->putAndInsertString(DCM_WaveformSampleInterpretation, g.interp.c_str());
  if (g.bits == 8) {
    auto* el = new DcmOtherByteOtherWord(DcmTag(DCM_WaveformData, EVR_OB));
    el->putUint8Array(g.data.data(), static_cast<unsigned long>(g.data.size()));
    wi->insert(el, true);
  } else {
    std::vector<Uint16> w(g.data.size() / 2);
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = static_cast<Uint16>(g.data[2 * i] | (g.data[2 * i + 1] << 8));
    auto* el = new DcmOtherByteOtherWord(DcmTag(DCM_WaveformData, EVR_OW));
    el->putUint16Array(w.data(), static_cast<unsigned long>(w.size()));
    wi->insert(el, true);
  }
}

std::string save(DcmFileFormat& ff, const fs::path& p) {
  OFCondition c = ff.saveFile(p.string().c_str(), EXS_LittleEndianExplicit);
  EXPECT_TRUE(c.good()) << c.text();
  return p.string();
}

void header(DcmDataset* ds, const char* sop) {
  ds->putAndInsertString(DCM_SOPClassUID, sop);
  ds->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.10.999.1.1");
  ds->putAndInsertString(DCM_StudyInstanceUID, "1.2.826.0.1.3680043.10.999.2");
  ds->putAndInsertString(DCM_SeriesInstanceUID, "1.2.826.0.1.3680043.10.999.3");
  ds->putAndInsertString(DCM_PatientID, "SYN-001");
  ds->putAndInsertString(DCM_PatientName, "Synthetic^Patient");
  ds->putAndInsertString(DCM_Modality, "ECG");
  ds->putAndInsertString(DCM_Manufacturer, "Echo2ECG tests");
  ds->putAndInsertString(DCM_SeriesNumber, "7");
}

std::int8_t rhythmRaw(long i, int c) { return static_cast<std::int8_t>((i * 7 + c * 13) % 256 - 128); }
std::uint8_t medianRaw(long i, int c) { return static_cast<std::uint8_t>((i * 11 + c * 5) % 256); }

// 12-lead file: a MEDIAN group (UB, written first) and a RHYTHM group (SB), 8-bit,
// lead codes in all the supported forms, plus annotations.
std::string writeSynthetic12Lead(const fs::path& p) {
  DcmFileFormat ff;
  DcmDataset* ds = ff.getDataset();
  header(ds, kTwelveLead);
  const std::vector<std::pair<std::string, std::string>> codes = {
      {"2:1", "MDC"},         {"131330", "MDC"},        {"5.6.3-9-61", "SCPECG"}, {"MDC_ECG_LEAD_AVR", "MDC"},
      {"2:63", "MDC"},        {"2:64", "MDC"},          {"2:3", "MDC"},           {"2:4", "MDC"},
      {"5.6.3-9-5", "SCPECG"}, {"2:6", "MDC"},          {"2:7", "MDC"},           {"99:99", "99LOCAL"}};
  auto channels = [&](double sens) {
    std::vector<SynChannel> v;
    for (std::size_t c = 0; c < 12; ++c) {
      SynChannel ch;
      ch.code = codes[c].first;
      ch.scheme = codes[c].second;
      ch.meaning = c == 11 ? "Something local" : "lead";
      ch.label = c == 11 ? "V6" : "";
      ch.sens = sens;
      ch.lo = 0.5;
      ch.hi = 150;
      ch.notch = 50;
      v.push_back(ch);
    }
    return v;
  };
  SynGroup md;
  md.label = "MEDIAN BEAT";
  md.originality = "DERIVED";
  md.ns = 30;
  md.interp = "UB";
  md.ch = channels(2.5);
  md.ch[0].unit = "mV";  // 2.5 mV per count on lead I of the median group
  md.ch[0].sens = 0.004;
  md.ch[1].base = -300;  // uV baseline
  for (long i = 0; i < md.ns; ++i)
    for (int c = 0; c < 12; ++c) md.data.push_back(medianRaw(i, c));
  SynGroup rh;  // no label: a 1 s ORIGINAL strip is a rhythm group
  rh.ns = 500;
  rh.ch = channels(5.0);
  rh.ch[2].corr = 1.5;
  for (long i = 0; i < rh.ns; ++i)
    for (int c = 0; c < 12; ++c) rh.data.push_back(static_cast<std::uint8_t>(rhythmRaw(i, c)));
  addGroup(ds, md);
  addGroup(ds, rh);

  // Annotations: a coded statement, a text statement, MDC measurements, a fiducial on the median.
  auto ann = [&]() {
    DcmItem* a = nullptr;
    EXPECT_TRUE(ds->findOrCreateSequenceItem(DCM_WaveformAnnotationSequence, a, -2).good());
    return a;
  };
  DcmItem* a = ann();
  addCode(a, DCM_ConceptNameCodeSequence, "D3-33250", "SRT", "Sinus rhythm");
  a = ann();
  a->putAndInsertString(DCM_UnformattedTextValue, "Normal ECG");
  const struct { const char* code; const char* meaning; const char* unit; const char* value; } ms[] = {
      {"2:15872", "PR interval global", "ms", "160"},       {"2:16156", "QRS duration global", "ms", "0.092"},
      {"2:16160", "QT interval global", "ms", "380"},       {"2:15880", "QTc Bazett", "ms", "412"},
      {"8867-4", "Heart rate", "{H.B.}/min", "72"},         {"2:16128", "P axis", "deg", "45"},
      {"2:16132", "QRS axis", "deg", "-10"},                {"2:16136", "T axis", "deg", "30"}};
  for (const auto& m : ms) {
    a = ann();
    addCode(a, DCM_ConceptNameCodeSequence, m.code, m.code[1] == ':' ? "MDC" : "LN", m.meaning);
    // QRS given in seconds to exercise the unit conversion.
    addCode(a, DCM_MeasurementUnitsCodeSequence, std::string(m.code) == "2:16156" ? "s" : m.unit, "UCUM", m.unit);
    a->putAndInsertString(DCM_NumericValue, m.value);
    a->putAndInsertString(DCM_ReferencedWaveformChannels, "2\\0");
  }
  a = ann();
  addCode(a, DCM_ConceptNameCodeSequence, "5.10.3-3", "SCPECG", "QRS Onset");
  a->putAndInsertString(DCM_ReferencedWaveformChannels, "1\\3");  // median (first item), lead III
  a->putAndInsertString(DCM_TemporalRangeType, "POINT");
  a->putAndInsertUint32(DCM_ReferencedSamplePositions, 12);
  return save(ff, p);
}

}  // namespace

TEST(DicomEcgSynthetic, EightBitTwoGroups) {
  const std::string path = writeSynthetic12Lead(tempDir() / "syn12.dcm");
  const EcgRecord r = e2e::readDicomEcg(path);
  EXPECT_EQ(r.identity.patientId, "SYN-001");
  EXPECT_EQ(r.identity.seriesNumber, 7);
  ASSERT_EQ(r.groups.size(), 2u);
  // Rhythm first although written second.
  const auto& rh = r.groups[0];
  const auto& md = r.groups[1];
  EXPECT_EQ(rh.label, "RHYTHM");
  EXPECT_EQ(md.label, "MEDIAN BEAT");
  EXPECT_EQ(r.rhythm(), &rh);
  EXPECT_EQ(r.median(), &md);
  EXPECT_EQ(rh.numSamples, 500u);
  EXPECT_EQ(md.numSamples, 30u);
  ASSERT_EQ(rh.channels.size(), 12u);
  ASSERT_EQ(md.channels.size(), 12u);
  for (std::size_t c = 0; c < 12; ++c) {
    EXPECT_EQ(rh.channels[c].label, e2e::standardLeads()[c]) << c;
    EXPECT_EQ(md.channels[c].label, e2e::standardLeads()[c]) << c;
    EXPECT_DOUBLE_EQ(rh.channels[c].lowFreqHz, 0.5);
    EXPECT_DOUBLE_EQ(rh.channels[c].highFreqHz, 150);
    EXPECT_DOUBLE_EQ(rh.channels[c].notchHz, 50);
  }
  EXPECT_EQ(rh.channels[11].codeValue, "99:99");
  // Lead V6 came from ChannelLabel, once per group: two warnings naming the code.
  int fallbackWarnings = 0;
  for (const auto& w : r.warnings) fallbackWarnings += w.find("99:99") != std::string::npos;
  EXPECT_EQ(fallbackWarnings, 2);

  for (long i = 0; i < 500; ++i)
    for (int c = 0; c < 12; ++c) {
      const double corr = c == 2 ? 1.5 : 1.0;
      ASSERT_NEAR(rh.channels[c].samples[i], rhythmRaw(i, c) * 5.0 * corr * 1e-3, 1e-6) << i << " " << c;
    }
  for (long i = 0; i < 30; ++i) {
    EXPECT_NEAR(md.channels[0].samples[i], medianRaw(i, 0) * 0.004, 1e-6);
    EXPECT_NEAR(md.channels[1].samples[i], (medianRaw(i, 1) * 2.5 - 300) * 1e-3, 1e-6);
    EXPECT_NEAR(md.channels[5].samples[i], medianRaw(i, 5) * 2.5 * 1e-3, 1e-6);
  }
  EXPECT_DOUBLE_EQ(md.channels[1].baseline, -300);
  EXPECT_DOUBLE_EQ(rh.channels[2].correction, 1.5);

  ASSERT_EQ(r.statements.size(), 2u);
  EXPECT_EQ(r.statements[0], "Sinus rhythm");
  EXPECT_EQ(r.statements[1], "Normal ECG");
  const auto& m = r.measurements;
  EXPECT_DOUBLE_EQ(m.prMs, 160);
  EXPECT_NEAR(m.qrsMs, 92, 1e-9);
  EXPECT_DOUBLE_EQ(m.qtMs, 380);
  EXPECT_DOUBLE_EQ(m.qtcMs, 412);
  EXPECT_EQ(m.qtcFormula, "Bazett");
  EXPECT_DOUBLE_EQ(m.heartRateBpm, 72);
  EXPECT_DOUBLE_EQ(m.pAxisDeg, 45);
  EXPECT_DOUBLE_EQ(m.qrsAxisDeg, -10);
  EXPECT_DOUBLE_EQ(m.tAxisDeg, 30);
  EXPECT_TRUE(std::isnan(m.rrMs));
  // Measurements referenced original group 2 (the rhythm), now index 0.
  const EcgAnnotation* pr = findMeasurement(r, "PR interval global");
  ASSERT_NE(pr, nullptr);
  EXPECT_EQ(pr->groupIndex, 0);
  // The fiducial referenced original group 1 channel 3 (median, III): now group 1, channel 2.
  const EcgAnnotation& f = r.annotations.back();
  EXPECT_EQ(f.kind, EcgAnnotation::Kind::Fiducial);
  EXPECT_EQ(f.groupIndex, 1);
  EXPECT_EQ(f.channelIndex, 2);
  ASSERT_EQ(f.samplePositions.size(), 1u);
  EXPECT_DOUBLE_EQ(f.samplePositions[0], 12);
}

TEST(DicomEcgSynthetic, HemodynamicSkipsPressure) {
  const fs::path dir = tempDir();
  DcmFileFormat ff;
  header(ff.getDataset(), kHemodynamic);
  SynGroup g;
  g.ns = 100;
  g.bits = 16;
  g.interp = "SS";
  SynChannel ecg;
  ecg.code = "2:2";
  ecg.scheme = "MDC";
  ecg.meaning = "Lead II";
  ecg.unit = "mV";
  ecg.sens = 0.01;
  SynChannel art;
  art.code = "109046";
  art.scheme = "DCM";
  art.meaning = "Arterial pressure waveform";
  art.unit = "mm[Hg]";
  art.sens = 0.1;
  SynChannel ecg2;  // unknown code, ECG lead by its meaning
  ecg2.code = "LOCAL-7";
  ecg2.scheme = "99X";
  ecg2.meaning = "ECG Lead V5";
  ecg2.unit = "uV";
  g.ch = {art, ecg, ecg2};
  for (long i = 0; i < g.ns; ++i)
    for (int c = 0; c < 3; ++c) {
      const std::int16_t v = static_cast<std::int16_t>(i * 100 - c * 3000);
      g.data.push_back(static_cast<std::uint8_t>(v & 0xff));
      g.data.push_back(static_cast<std::uint8_t>((v >> 8) & 0xff));
    }
  addGroup(ff.getDataset(), g);
  const std::string path = save(ff, dir / "hemo.dcm");
  const EcgRecord r = e2e::readDicomEcg(path);
  ASSERT_EQ(r.groups.size(), 1u);
  ASSERT_EQ(r.groups[0].channels.size(), 2u);
  EXPECT_EQ(r.groups[0].channels[0].label, "II");
  EXPECT_EQ(r.groups[0].channels[1].label, "V5");
  EXPECT_NEAR(r.groups[0].channels[0].samples[10], (10 * 100 - 3000) * 0.01, 1e-6);
  EXPECT_NEAR(r.groups[0].channels[1].samples[10], (10 * 100 - 6000) * 10 * 1e-3, 1e-6);
  EXPECT_EQ(r.extra.at("skippedChannels"), "Arterial pressure waveform");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("LOCAL-7"), std::string::npos);

  // Only the pressure channel: no ECG lead -> ReadError.
  DcmFileFormat ff2;
  header(ff2.getDataset(), kHemodynamic);
  SynGroup p = g;
  p.ch = {art};
  p.data.clear();
  for (long i = 0; i < p.ns; ++i) {
    p.data.push_back(static_cast<std::uint8_t>(i));
    p.data.push_back(0);
  }
  addGroup(ff2.getDataset(), p);
  const std::string cause = expectReadError(save(ff2, dir / "pressure_only.dcm"));
  EXPECT_NE(cause.find("no ECG lead"), std::string::npos) << cause;
}

namespace {
// A one-group 12-lead file, changed by `edit` before saving.
std::string writeVariant(const fs::path& p, const std::function<void(SynGroup&)>& edit) {
  DcmFileFormat ff;
  header(ff.getDataset(), kTwelveLead);
  SynGroup g;
  g.ns = 40;
  for (int c = 0; c < 12; ++c) {
    SynChannel ch;
    ch.code = "2:" + std::to_string(c < 2 ? c + 1 : c < 6 ? c + 59 : c - 3);
    ch.scheme = "MDC";
    g.ch.push_back(ch);
  }
  edit(g);
  if (g.data.empty()) g.data.assign(g.ch.size() * g.ns * (g.bits / 8), 1);
  addGroup(ff.getDataset(), g);
  return save(ff, p);
}
}  // namespace

TEST(DicomEcgSynthetic, VariantReadsFine) {
  const EcgRecord r = e2e::readDicomEcg(writeVariant(tempDir() / "ok.dcm", [](SynGroup&) {}));
  ASSERT_EQ(r.groups.size(), 1u);
  for (std::size_t c = 0; c < 12; ++c) EXPECT_EQ(r.groups[0].channels[c].label, e2e::standardLeads()[c]);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(DicomEcgSynthetic, InconsistentDataLength) {
  const std::string p = writeVariant(tempDir() / "short.dcm", [](SynGroup& g) {
    g.data.assign(g.ch.size() * g.ns - 24, 3);  // two frames missing
  });
  const std::string cause = expectReadError(p);
  EXPECT_NE(cause.find("inconsistent WaveformData length"), std::string::npos) << cause;
}

TEST(DicomEcgSynthetic, UnsupportedBits) {
  std::string cause = expectReadError(writeVariant(tempDir() / "bits12.dcm", [](SynGroup& g) {
    g.bits = 12;
    g.data.assign(g.ch.size() * g.ns, 0);
  }));
  EXPECT_NE(cause.find("WaveformBitsAllocated"), std::string::npos) << cause;
  cause = expectReadError(writeVariant(tempDir() / "mismatch.dcm", [](SynGroup& g) { g.interp = "SS"; }));
  EXPECT_NE(cause.find("does not match"), std::string::npos) << cause;
  cause = expectReadError(writeVariant(tempDir() / "interp.dcm", [](SynGroup& g) { g.interp = "XX"; }));
  EXPECT_NE(cause.find("WaveformSampleInterpretation"), std::string::npos) << cause;
}

TEST(DicomEcgSynthetic, MuLawSamples) {
  // G.711 mu-law: 0xFF and 0x7F are the two zeros, 0x80 / 0x00 the extremes.
  const EcgRecord r = e2e::readDicomEcg(writeVariant(tempDir() / "mulaw.dcm", [](SynGroup& g) {
    g.interp = "MB";
    g.ns = 4;
    const std::uint8_t frame[4] = {0xFF, 0x80, 0x00, 0xFE};
    for (int i = 0; i < 4; ++i)
      for (std::size_t c = 0; c < g.ch.size(); ++c) g.data.push_back(frame[i]);
  }));
  const auto& s = r.groups[0].channels[0].samples;
  ASSERT_EQ(s.size(), 4u);
  EXPECT_NEAR(s[0], 0.0, 1e-9);
  EXPECT_NEAR(s[1], 32124 * 10e-3, 1e-3);
  EXPECT_NEAR(s[2], -32124 * 10e-3, 1e-3);
  EXPECT_NEAR(s[3], 8 * 10e-3, 1e-6);  // 0xFE -> 8
}

TEST(DicomEcgSynthetic, MissingWaveformSequence) {
  DcmFileFormat ff;
  header(ff.getDataset(), kTwelveLead);
  const std::string cause = expectReadError(save(ff, tempDir() / "nowave.dcm"));
  EXPECT_NE(cause.find("WaveformSequence"), std::string::npos) << cause;
}

TEST(DicomEcgErrors, CorruptedBytesNeverCrash) {
  // Deterministic byte corruption of the real files: every read either succeeds or
  // throws ReadError (no crash, no other exception type).
  const fs::path dir = tempDir();
  std::uint32_t state = 12345;
  auto next = [&]() { return state = state * 1664525u + 1013904223u; };
  int errors = 0, reads = 0;
  for (const std::string& src : {mortara(), geHemo()}) {
    std::ifstream in(src, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (int k = 0; k < 60; ++k) {
      std::vector<char> b = bytes;
      // Corrupt a few bytes, mostly in the header and sequence structure before WaveformData.
      const std::size_t span = k % 3 == 0 ? b.size() : std::min<std::size_t>(b.size(), 20000);
      for (int j = 0; j < 1 + k % 4; ++j) b[132 + next() % (span - 132)] = static_cast<char>(next() >> 24);
      const fs::path p = dir / ("corrupt_" + std::to_string(k) + ".dcm");
      std::ofstream(p, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
      ++reads;
      try {
        e2e::readDicomEcg(p.string());
      } catch (const ReadError& e) {
        ++errors;
        EXPECT_EQ(e.path(), p.string());
      } catch (const std::exception& e) {
        ADD_FAILURE() << "not a ReadError: " << e.what();
      }
    }
  }
  EXPECT_EQ(reads, 120);
  EXPECT_GT(errors, 0);
}
