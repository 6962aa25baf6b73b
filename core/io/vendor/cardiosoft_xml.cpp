// GE CardioSoft XML reader (CardiologyXML, as exported for the UK Biobank resting ECGs).
// See cardiosoft_xml.h.
#include "io/vendor/cardiosoft_xml.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

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

// Comma-separated integers (tabs and line breaks allowed, one trailing comma tolerated).
std::vector<std::int32_t> parseValues(const char* p, const std::string& path, const std::string& where) {
  std::vector<std::int32_t> out;  // 4 bytes a value: memory stays a small multiple of the file size
  const auto skipWs = [&p] {
    while (*p && std::isspace(static_cast<unsigned char>(*p))) ++p;
  };
  while (true) {
    skipWs();
    if (!*p) break;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(p, &end, 10);
    if (end == p || errno == ERANGE || v > INT32_MAX || v < INT32_MIN) {
      const char* stop = p;
      while (*stop && *stop != ',' && stop - p < 24) ++stop;
      throw ReadError(path, where + ": value " + std::to_string(out.size() + 1) + " ('" +
                                trimmed(std::string(p, stop)) + "') is not an integer");
    }
    out.push_back(static_cast<std::int32_t>(v));
    p = end;
    skipWs();
    if (*p == ',')
      ++p;
    else if (*p)
      throw ReadError(path, where + ": value " + std::to_string(out.size()) + " is followed by '" + std::string(1, *p) +
                                "' instead of a comma");
  }
  return out;
}

struct Scale {
  double hz = 0.0;
  double mvPerLsb = 0.0;
};

// SampleRate and Resolution of a StripData / MedianSamples element (0 when absent).
Scale readScale(const pugi::xml_node& n, const std::string& what, const std::string& path) {
  Scale s;
  const pugi::xml_node rate = child(n, "SampleRate"), res = child(n, "Resolution");
  if (rate) {
    const auto hz = vendor::toDouble(rate.text().get());
    const std::string unit = trimmed(rate.attribute("units").value());
    if (!hz || !(*hz >= 1 && *hz <= 100000))
      throw ReadError(path, what + ": invalid SampleRate '" + trimmed(rate.text().get()) + "'");
    if (!unit.empty() && upper(unit) != "HZ")
      throw ReadError(path, what + ": unsupported SampleRate unit '" + unit + "'");
    s.hz = *hz;
  }
  if (res) {
    const auto r = vendor::toDouble(res.text().get());
    const std::string unit = trimmed(res.attribute("units").value());
    if (!r || !(*r > 0)) throw ReadError(path, what + ": invalid Resolution '" + trimmed(res.text().get()) + "'");
    if (!unit.empty() && upper(unit) != "UVPERLSB")
      throw ReadError(path, what + ": unsupported Resolution unit '" + unit + "'");
    s.mvPerLsb = *r * 1e-3;
  }
  return s;
}

// One StripData or MedianSamples element -> group.
EcgGroup readWaveforms(const pugi::xml_node& n, const std::string& what, const Scale& fallback, EcgRecord& rec) {
  const std::string& path = rec.sourcePath;
  Scale s = readScale(n, what, path);
  if (s.hz == 0 || s.mvPerLsb == 0) {
    if (fallback.hz == 0 || fallback.mvPerLsb == 0) throw ReadError(path, what + ": no SampleRate or Resolution");
    if (s.hz == 0) s.hz = fallback.hz;
    if (s.mvPerLsb == 0) s.mvPerLsb = fallback.mvPerLsb;
    rec.warnings.push_back(what + ": SampleRate or Resolution missing, the rhythm strip's is assumed");
  }
  const std::string countText = text(n, "ChannelSampleCountTotal");
  const auto count = vendor::toInt(countText);
  if (!countText.empty() && (!count || *count < 0))
    throw ReadError(path, what + ": invalid ChannelSampleCountTotal '" + countText + "'");
  EcgGroup g;
  g.samplingHz = s.hz;
  for (const pugi::xml_node& w : children(n, "WaveformData")) {
    const std::string lead = trimmed(w.attribute("lead").value());
    const std::string where = what + ", lead '" + lead + "'";
    EcgChannel c;
    c.label = canonicalLeadName(lead);
    c.codeMeaning = lead;
    if (c.label.empty()) {
      if (lead.empty()) throw ReadError(path, what + ": a WaveformData has no lead attribute");
      c.label = lead;
      rec.warnings.push_back(where + ": not a standard lead name, kept as is");
    }
    const std::vector<std::int32_t> raw = parseValues(w.text().get(), path, where);
    if (count && static_cast<unsigned long long>(*count) != raw.size())
      throw ReadError(path, where + ": ChannelSampleCountTotal says " + countText + " samples but the lead holds " +
                                std::to_string(raw.size()) + " (truncated or corrupted file)");
    if (g.channel(c.label)) throw ReadError(path, what + ": lead " + c.label + " appears twice");
    if (!g.channels.empty() && raw.size() != g.channels.front().samples.size())
      throw ReadError(path, where + ": " + std::to_string(raw.size()) + " samples but lead " +
                                g.channels.front().label + " has " + std::to_string(g.channels.front().samples.size()));
    c.unit = "mV";
    c.sensitivity = s.mvPerLsb;
    c.samples.resize(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) c.samples[i] = static_cast<float>(raw[i] * s.mvPerLsb);
    g.channels.push_back(std::move(c));
  }
  if (g.channels.empty()) throw ReadError(path, what + ": no WaveformData");
  g.numSamples = g.channels.front().samples.size();
  if (g.numSamples == 0) throw ReadError(path, what + ": the leads hold no samples");
  const std::string declared = text(n, "NumberOfLeads");
  if (!declared.empty() && declared != std::to_string(g.channels.size()))
    rec.warnings.push_back(what + ": NumberOfLeads says " + declared + " but " + std::to_string(g.channels.size()) +
                           " leads are stored");
  return g;
}

void applyFilters(const pugi::xml_node& root, EcgRecord& rec) {
  const pugi::xml_node f = child(root, "FilterSetting");
  if (!f) return;
  const auto low = number(f, "LowPass"), high = number(f, "HighPass");
  const auto on = [&](const char* name) {
    const std::string v = upper(text(f, name));
    return v == "YES" || v == "TRUE" || v == "1" || v == "ON";
  };
  const double notch = on("Filter50Hz") ? 50.0 : on("Filter60Hz") ? 60.0 : kNaN;
  for (EcgGroup& g : rec.groups)
    for (EcgChannel& c : g.channels) {
      if (low && *low > 0) c.highFreqHz = *low;
      if (high && *high > 0) c.lowFreqHz = *high;
      c.notchHz = notch;
    }
}

void readSignals(const pugi::xml_node& root, EcgRecord& rec) {
  pugi::xml_node strip = child(root, "StripData");
  if (!strip) strip = child(child(root, "Strip"), "StripData");
  const pugi::xml_node meas = child(root, "RestingECGMeasurements");
  const pugi::xml_node medianNode = child(meas, "MedianSamples");
  if (!strip && !medianNode) throw ReadError(rec.sourcePath, "CardioSoft XML file holds no StripData or MedianSamples");
  Scale stripScale;
  if (strip) {
    EcgGroup g = readWaveforms(strip, "StripData", Scale{}, rec);
    g.label = "RHYTHM";
    g.originality = "ORIGINAL";
    stripScale = {g.samplingHz, g.channels.front().sensitivity};
    rec.groups.push_back(std::move(g));
  }
  if (medianNode) {
    EcgGroup g = readWaveforms(medianNode, "MedianSamples", stripScale, rec);
    g.label = "MEDIAN";
    g.originality = "DERIVED";
    for (const char* name : {"FirstValid", "LastValid"})
      if (const std::string v = text(medianNode, name); !v.empty()) rec.extra[std::string("median") + name] = v;
    rec.groups.push_back(std::move(g));
  }
  for (EcgGroup& g : rec.groups) sortStandardLeadOrder(g);
  deriveLimbLeads(rec);
  applyFilters(root, rec);
}

void readMeasurements(const pugi::xml_node& root, EcgRecord& rec) {
  const pugi::xml_node m = child(root, "RestingECGMeasurements");
  if (!m) return;
  EcgMeasurements& out = rec.measurements;
  const auto set = [&](const char* name, double& field) {
    if (auto v = number(m, name)) field = *v;
  };
  set("VentricularRate", out.heartRateBpm);
  set("RRInterval", out.rrMs);
  set("PQInterval", out.prMs);
  set("QRSDuration", out.qrsMs);
  set("QTInterval", out.qtMs);
  set("QTCInterval", out.qtcMs);
  set("PAxis", out.pAxisDeg);
  set("RAxis", out.qrsAxisDeg);
  set("TAxis", out.tAxisDeg);
  for (const char* name : {"PDuration", "PPInterval", "QRSNum"})
    if (const std::string v = text(m, name); !v.empty()) rec.extra[std::string("cardiosoft") + name] = v;
}

bool separatorLine(const std::string& s) { return s.find_first_not_of("-=_* ") == std::string::npos; }

void readStatements(const pugi::xml_node& root, EcgRecord& rec) {
  const pugi::xml_node interp = child(root, "Interpretation");
  for (const auto& [block, line] :
       {std::pair<const char*, const char*>{"Diagnosis", "DiagnosisText"}, {"Conclusion", "ConclusionText"}})
    for (const pugi::xml_node& b : children(interp, block))
      for (const pugi::xml_node& t : children(b, line)) {
        std::string s = trimmed(t.text().get());
        if (!s.empty() && !separatorLine(s)) rec.statements.push_back(std::move(s));
      }
}

// Day/Month/Year children -> YYYYMMDD ("" when incomplete or invalid).
std::string dateOf(const pugi::xml_node& n) {
  const auto d = vendor::toInt(text(n, "Day")), m = vendor::toInt(text(n, "Month")), y = vendor::toInt(text(n, "Year"));
  if (!d || !m || !y || *d < 1 || *d > 31 || *m < 1 || *m > 12 || *y < 1800 || *y > 2999) return {};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04lld%02lld%02lld", *y, *m, *d);
  return buf;
}

std::string timeOf(const pugi::xml_node& n) {
  const auto h = vendor::toInt(text(n, "Hour")), mi = vendor::toInt(text(n, "Minute"));
  const auto s = vendor::toInt(text(n, "Second"));
  if (!h || !mi || *h < 0 || *h > 23 || *mi < 0 || *mi > 59 || (s && (*s < 0 || *s > 60))) return {};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02lld%02lld%02lld", *h, *mi, s.value_or(0));
  return buf;
}

void readPatient(const pugi::xml_node& root, EcgRecord& rec) {
  Identity& id = rec.identity;
  const pugi::xml_node p = child(root, "PatientInfo");
  if (!p) return;
  id.patientId = text(p, "PID");
  const pugi::xml_node name = child(p, "Name");
  const std::string family = text(name, "FamilyName"), given = text(name, "GivenName");
  id.patientName = given.empty() ? family : family + "^" + given;
  const pugi::xml_node birth = child(p, "BirthDateTime");
  id.birthDate = dateOf(birth);
  if (id.birthDate.empty() && !text(birth, "Year").empty()) rec.extra["birthYear"] = text(birth, "Year");
  const std::string sex = upper(text(p, "Gender"));
  id.sex = sex == "MALE" || sex == "M" ? "M" : sex == "FEMALE" || sex == "F" ? "F" : "";
  const pugi::xml_node ageNode = child(p, "Age");
  if (const auto age = vendor::toInt(ageNode.text().get()); age && *age >= 0 && *age < 1000) {
    const std::string u = upper(trimmed(ageNode.attribute("units").value()));
    const char unit = u.rfind("MONTH", 0) == 0  ? 'M'
                      : u.rfind("WEEK", 0) == 0 ? 'W'
                      : u.rfind("DAY", 0) == 0  ? 'D'
                                                : 'Y';
    char buf[8];
    std::snprintf(buf, sizeof buf, "%03lld%c", *age, unit);
    id.age = buf;
  }
  for (const char* fact : {"Race", "Height", "Weight", "PaceMaker"})
    if (const std::string v = text(p, fact); !v.empty()) rec.extra[std::string("patient") + fact] = v;
}

void readStudy(const pugi::xml_node& root, EcgRecord& rec) {
  Identity& id = rec.identity;
  const pugi::xml_node when = child(root, "ObservationDateTime");
  id.studyDate = dateOf(when);
  id.studyTime = timeOf(when);
  if (when && id.studyDate.empty()) rec.warnings.push_back("ObservationDateTime holds no valid date");
  id.studyDescription = text(root, "ObservationType");
  if (id.studyDescription.empty()) id.studyDescription = text(child(root, "ClinicalInfo"), "ObservationType");
  const pugi::xml_node device = vendor::descendant(root, "DeviceInfo");
  id.modelName = text(device, "Desc");
  for (const char* fact : {"SoftwareVer", "AnalysisVer"})
    if (const std::string v = text(device, fact); !v.empty()) rec.extra[std::string("device") + fact] = v;
  id.manufacturer = "GE Healthcare";  // CardioSoft is GE's PC ECG system
  id.modality = "ECG";
  if (const std::string uid = text(child(root, "UID"), "DICOMStudyUID"); !uid.empty()) rec.extra["dicomStudyUid"] = uid;
}

}  // namespace

bool looksLikeCardioSoftXml(std::string_view head) { return vendor::xmlRootName(head) == "CardiologyXML"; }

EcgRecord readCardioSoftXml(const std::string& path) {
  pugi::xml_document doc;
  vendor::loadXmlFile(path, doc);
  const pugi::xml_node root = doc.document_element();
  if (vendor::localName(root) != "CardiologyXML")
    throw ReadError(path, "not a GE CardioSoft XML file (root element <" + std::string(vendor::localName(root)) +
                              ">, expected <CardiologyXML>)");
  EcgRecord rec;
  rec.format = SourceFormat::CardioSoftXml;
  rec.sourcePath = path;
  readSignals(root, rec);
  readMeasurements(root, rec);
  readStatements(root, rec);
  readPatient(root, rec);
  readStudy(root, rec);
  return rec;
}

}  // namespace e2e
