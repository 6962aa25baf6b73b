// GE MUSE XML reader. Element names follow the MUSE restecg.dtd export (RestingECG root,
// Waveform/LeadData with base64 little-endian int16 samples). See muse_xml.h.
#include "io/vendor/muse_xml.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "io/ecg_leads.h"
#include "io/vendor/xml_file.h"

namespace e2e {
namespace {

using vendor::child;
using vendor::number;
using vendor::text;
using vendor::trimmed;
using vendor::upper;
using vendor::children;

// MM-DD-YYYY (MUSE) -> YYYYMMDD, "" when malformed.
std::string museDate(const std::string& s) {
  int m = 0, d = 0, y = 0;
  char tail = 0;
  if (std::sscanf(s.c_str(), "%2d-%2d-%4d%c", &m, &d, &y, &tail) != 3) return {};
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1800 || y > 2999) return {};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", y, m, d);
  return buf;
}

// HH:MM:SS or HH:MM -> HHMMSS, "" when malformed.
std::string museTime(const std::string& s) {
  int h = 0, mi = 0, se = 0;
  char tail = 0;
  const int n = std::sscanf(s.c_str(), "%2d:%2d:%2d%c", &h, &mi, &se, &tail);
  if (n != 2 && n != 3) return {};
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60) return {};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", h, mi, se);
  return buf;
}

// LeadAmplitudeUnits -> factor to mV (0 when not a voltage).
double unitToMv(const std::string& unit) {
  const std::string u = upper(unit);
  if (u == "MICROVOLTS" || u == "UV" || u == "MICROVOLT") return 1e-3;
  if (u == "MILLIVOLTS" || u == "MV" || u == "MILLIVOLT") return 1.0;
  if (u == "VOLTS" || u == "V" || u == "VOLT") return 1e3;
  if (u == "NANOVOLTS" || u == "NV") return 1e-6;
  return 0.0;
}

struct WaveformContext {
  const std::string& path;
  std::string what;  // "Rhythm waveform", for messages
};

// Reads one <LeadData>: decodes, checks the counts and CRC, scales to mV.
EcgChannel readLead(const pugi::xml_node& lead, const WaveformContext& ctx, std::vector<std::string>& warnings) {
  const std::string id = text(lead, "LeadID");
  const std::string where = ctx.what + ", lead '" + id + "'";
  if (id.empty()) throw ReadError(ctx.path, ctx.what + ": a LeadData has no LeadID");
  EcgChannel c;
  c.label = canonicalLeadName(id);
  c.codeMeaning = id;
  if (c.label.empty()) {
    c.label = id;
    warnings.push_back(where + ": not a standard lead name, kept as is");
  }
  const auto perBit = number(lead, "LeadAmplitudeUnitsPerBit");
  if (!perBit || !(*perBit > 0)) throw ReadError(ctx.path, where + ": missing or invalid LeadAmplitudeUnitsPerBit");
  const std::string unitName = text(lead, "LeadAmplitudeUnits");
  const double toMv = unitName.empty() ? 1e-3 : unitToMv(unitName);
  if (toMv == 0) throw ReadError(ctx.path, where + ": unsupported LeadAmplitudeUnits '" + unitName + "'");
  if (unitName.empty()) warnings.push_back(where + ": no LeadAmplitudeUnits, microvolts assumed");
  const std::string sampleSize = text(lead, "LeadSampleSize");
  if (!sampleSize.empty() && sampleSize != "2")
    throw ReadError(ctx.path, where + ": unsupported LeadSampleSize " + sampleSize + " (only 2-byte samples exist)");

  const pugi::xml_node data = child(lead, "WaveFormData");
  if (!data) throw ReadError(ctx.path, where + ": no WaveFormData");
  const std::vector<std::uint8_t> bytes = vendor::decodeBase64(data.text().get(), ctx.path, where + " WaveFormData");
  const std::string countText = text(lead, "LeadSampleCountTotal");
  const auto count = vendor::toInt(countText);
  if (!countText.empty() && (!count || *count < 0 || static_cast<unsigned long long>(*count) * 2 != bytes.size()))
    throw ReadError(ctx.path, where + ": LeadSampleCountTotal says " + countText + " samples but WaveFormData holds " +
                                  std::to_string(bytes.size() / 2) + (bytes.size() % 2 ? ".5" : "") +
                                  " (truncated or corrupted file)");
  if (countText.empty()) warnings.push_back(where + ": no LeadSampleCountTotal, sample count taken from the data");
  if (bytes.size() % 2)
    throw ReadError(ctx.path,
                    where + ": WaveFormData holds an odd number of bytes (" + std::to_string(bytes.size()) + ")");
  const std::size_t n = bytes.size() / 2;
  const std::string byteText = text(lead, "LeadByteCountTotal");
  const auto byteCount = vendor::toInt(byteText);
  if (!byteText.empty() &&
      (!byteCount || *byteCount < 0 || static_cast<unsigned long long>(*byteCount) != bytes.size()))
    throw ReadError(ctx.path, where + ": LeadByteCountTotal says " + byteText + " bytes but WaveFormData holds " +
                                  std::to_string(bytes.size()));
  const std::string crcText = text(lead, "LeadDataCRC32");
  if (!crcText.empty()) {
    const auto want = vendor::toInt(crcText);
    const unsigned long got = crc32(crc32(0L, Z_NULL, 0), bytes.data(), static_cast<uInt>(bytes.size()));
    if (!want || static_cast<unsigned long long>(*want) != got)
      throw ReadError(ctx.path, where + ": LeadDataCRC32 " + crcText + " does not match the data (" +
                                    std::to_string(got) + "): the waveform is corrupted");
  }
  c.unit = "mV";
  c.sensitivity = *perBit * toMv;
  c.samples.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto raw = static_cast<std::int16_t>(static_cast<std::uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
    c.samples[i] = static_cast<float>(raw * c.sensitivity);
  }
  return c;
}

// One <Waveform> (Rhythm or Median) -> group.
EcgGroup readWaveform(const pugi::xml_node& wf, const std::string& type, const std::string& path,
                      std::vector<std::string>& warnings) {
  const WaveformContext ctx{path, type + " waveform"};
  EcgGroup g;
  const bool median = upper(type) == "MEDIAN";
  g.label = median ? "MEDIAN" : "RHYTHM";
  g.originality = median ? "DERIVED" : "ORIGINAL";
  const auto base = number(wf, "SampleBase");
  const auto expo = number(wf, "SampleExponent");
  if (!base || !(*base > 0)) throw ReadError(path, ctx.what + ": missing or invalid SampleBase");
  if (expo && (std::fabs(*expo) > 6 || *expo != std::floor(*expo)))
    throw ReadError(path, ctx.what + ": invalid SampleExponent " + text(wf, "SampleExponent"));
  g.samplingHz = *base * std::pow(10.0, expo.value_or(0.0));
  if (!(g.samplingHz >= 1 && g.samplingHz <= 100000))
    throw ReadError(path, ctx.what + ": implausible sampling rate " + std::to_string(g.samplingHz) + " Hz");
  const auto lowPass = number(wf, "LowPassFilter");
  for (const pugi::xml_node& lead : children(wf, "LeadData")) {
    EcgChannel c = readLead(lead, ctx, warnings);
    if (lowPass && *lowPass > 0) c.highFreqHz = *lowPass;
    if (g.channel(c.label)) throw ReadError(path, ctx.what + ": lead " + c.label + " appears twice");
    if (!g.channels.empty() && c.samples.size() != g.channels.front().samples.size())
      throw ReadError(path, ctx.what + ": lead " + c.label + " has " + std::to_string(c.samples.size()) +
                                " samples but lead " + g.channels.front().label + " has " +
                                std::to_string(g.channels.front().samples.size()));
    g.channels.push_back(std::move(c));
  }
  if (g.channels.empty()) throw ReadError(path, ctx.what + ": no LeadData");
  g.numSamples = g.channels.front().samples.size();
  if (g.numSamples == 0) throw ReadError(path, ctx.what + ": the leads hold no samples");
  const std::string declared = text(wf, "NumberofLeads");
  if (!declared.empty() && declared != std::to_string(g.channels.size()))
    warnings.push_back(ctx.what + ": NumberofLeads says " + declared + " but " + std::to_string(g.channels.size()) +
                       " leads are stored");
  return g;
}

void readWaveforms(const pugi::xml_node& root, EcgRecord& rec) {
  std::vector<EcgGroup> rhythm, median;
  for (const pugi::xml_node& wf : children(root, "Waveform")) {
    const std::string type = text(wf, "WaveformType");
    if (upper(type) == "RHYTHM")
      rhythm.push_back(readWaveform(wf, type, rec.sourcePath, rec.warnings));
    else if (upper(type) == "MEDIAN")
      median.push_back(readWaveform(wf, type, rec.sourcePath, rec.warnings));
    else
      rec.warnings.push_back("Waveform of type '" + type + "' skipped");
  }
  if (rhythm.empty() && median.empty())
    throw ReadError(rec.sourcePath, "MUSE XML file holds no Rhythm or Median waveform");
  for (auto& g : rhythm) rec.groups.push_back(std::move(g));
  for (auto& g : median) rec.groups.push_back(std::move(g));
  deriveLimbLeads(rec);
}

void readMeasurements(const pugi::xml_node& root, EcgRecord& rec) {
  // The analysis program's own sampling (e.g. 250 Hz while the stored waveforms say 240 Hz).
  if (const pugi::xml_node o = child(root, "OriginalRestingECGMeasurements"))
    for (const char* name : {"ECGSampleBase", "ECGSampleExponent"})
      if (const std::string v = text(o, name); !v.empty()) rec.extra[std::string("museOriginal") + name] = v;
  const pugi::xml_node m = child(root, "RestingECGMeasurements");
  if (!m) return;
  EcgMeasurements& out = rec.measurements;
  const auto set = [&](const char* name, double& field) {
    if (auto v = number(m, name)) field = *v;
  };
  set("VentricularRate", out.heartRateBpm);
  set("PRInterval", out.prMs);
  set("QRSDuration", out.qrsMs);
  set("QTInterval", out.qtMs);
  set("QTCorrected", out.qtcMs);
  set("PAxis", out.pAxisDeg);
  set("RAxis", out.qrsAxisDeg);
  set("TAxis", out.tAxisDeg);
  set("AvgRRInterval", out.rrMs);
  // QTcFrmla is kept only when named (its numeric codes are not documented publicly).
  const std::string formula = upper(text(m, "QTcFrmla"));
  if (formula == "BAZETT")
    out.qtcFormula = "Bazett";
  else if (formula == "FRIDERICIA")
    out.qtcFormula = "Fridericia";
  else if (formula == "HODGES")
    out.qtcFormula = "Hodges";
  else if (formula == "FRAMINGHAM")
    out.qtcFormula = "Framingham";
  else if (!formula.empty())
    rec.extra["museQTcFrmla"] = formula;
  for (const char* name : {"AtrialRate", "QRSCount", "QOnset", "QOffset", "POnset", "POffset", "TOffset"})
    if (const std::string v = text(m, name); !v.empty()) rec.extra[std::string("muse") + name] = v;
}

// Statements of a (Original)Diagnosis element, one per device line (ENDSLINE closes a line).
std::vector<std::string> diagnosisLines(const pugi::xml_node& diag) {
  std::vector<std::string> lines;
  std::string line;
  for (const pugi::xml_node& st : children(diag, "DiagnosisStatement")) {
    const std::string t = text(st, "StmtText");
    if (!t.empty()) line += (line.empty() ? "" : " ") + t;
    bool ends = false;
    for (const pugi::xml_node& f : children(st, "StmtFlag"))
      ends = ends || upper(trimmed(f.text().get())) == "ENDSLINE";
    if (ends && !line.empty()) {
      lines.push_back(line);
      line.clear();
    }
  }
  if (!line.empty()) lines.push_back(line);
  return lines;
}

void readStatements(const pugi::xml_node& root, EcgRecord& rec) {
  if (const pugi::xml_node d = child(root, "Diagnosis")) rec.statements = diagnosisLines(d);
  if (const pugi::xml_node d = child(root, "OriginalDiagnosis")) {
    std::string joined;
    for (const std::string& l : diagnosisLines(d)) joined += (joined.empty() ? "" : "\n") + l;
    if (!joined.empty()) rec.extra["originalDiagnosis"] = joined;
  }
}

std::string museAge(const std::string& value, const std::string& units) {
  const auto v = vendor::toInt(value);
  if (!v || *v < 0 || *v > 999) return {};
  const std::string u = upper(units);
  const char unit = u.rfind("MONTH", 0) == 0 ? 'M' : u.rfind("WEEK", 0) == 0 ? 'W' : u.rfind("DAY", 0) == 0 ? 'D' : 'Y';
  char buf[8];
  std::snprintf(buf, sizeof buf, "%03lld%c", *v, unit);
  return buf;
}

void readDemographics(const pugi::xml_node& root, EcgRecord& rec) {
  Identity& id = rec.identity;
  if (const pugi::xml_node p = child(root, "PatientDemographics")) {
    id.patientId = text(p, "PatientID");
    const std::string last = text(p, "PatientLastName"), first = text(p, "PatientFirstName");
    id.patientName = first.empty() ? last : last + "^" + first;
    id.birthDate = museDate(text(p, "DateofBirth"));
    const std::string sex = upper(text(p, "Gender"));
    id.sex = sex == "MALE" || sex == "M" ? "M" : sex == "FEMALE" || sex == "F" ? "F" : "";
    id.age = museAge(text(p, "PatientAge"), text(p, "AgeUnits"));
  }
  if (const pugi::xml_node t = child(root, "TestDemographics")) {
    id.studyDate = museDate(text(t, "AcquisitionDate"));
    id.studyTime = museTime(text(t, "AcquisitionTime"));
    if (id.studyDate.empty() && !text(t, "AcquisitionDate").empty())
      rec.warnings.push_back("AcquisitionDate '" + text(t, "AcquisitionDate") + "' is not MM-DD-YYYY");
    id.modelName = text(t, "AcquisitionDevice");
    id.studyDescription = text(t, "DataType");
    for (const char* name : {"Site", "SiteName", "Location", "LocationName", "Status", "AcquisitionSoftwareVersion",
                             "AnalysisSoftwareVersion", "CartNumber"})
      if (const std::string v = text(t, name); !v.empty()) rec.extra[std::string("muse") + name] = v;
  }
  if (const pugi::xml_node info = child(root, "MuseInfo"))
    if (const std::string v = text(info, "MuseVersion"); !v.empty()) rec.extra["museVersion"] = v;
  id.manufacturer = "GE Healthcare";  // MUSE is GE's ECG management system; the cart model is AcquisitionDevice
  id.modality = "ECG";
}

}  // namespace

bool looksLikeMuseXml(std::string_view head) { return vendor::xmlRootName(head) == "RestingECG"; }

EcgRecord readMuseXml(const std::string& path) {
  pugi::xml_document doc;
  vendor::loadXmlFile(path, doc);
  const pugi::xml_node root = doc.document_element();
  if (vendor::localName(root) != "RestingECG")
    throw ReadError(path, "not a GE MUSE XML file (root element <" + std::string(vendor::localName(root)) +
                              ">, expected <RestingECG>)");
  EcgRecord rec;
  rec.format = SourceFormat::MuseXml;
  rec.sourcePath = path;
  readWaveforms(root, rec);
  readMeasurements(root, rec);
  readStatements(root, rec);
  readDemographics(root, rec);
  return rec;
}

}  // namespace e2e
