// HL7 aECG reader (HL7 v3 annotated ECG, FDA 2004 / 2005 implementation guide). Element names
// are matched by local name (the urn:hl7-org:v3 default namespace or any prefix); vendor
// elements the standard does not define are ignored. See hl7_aecg.h.
#include "io/vendor/hl7_aecg.h"

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
using vendor::trimmed;
using vendor::upper;
using vendor::children;
using vendor::localName;

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string attr(const pugi::xml_node& n, const char* name) { return trimmed(n.attribute(name).value()); }

// xsi:type (whatever the prefix).
std::string xsiType(const pugi::xml_node& n) {
  for (const pugi::xml_attribute& a : n.attributes()) {
    std::string_view name = a.name();
    const std::size_t colon = name.find(':');
    if (colon != std::string_view::npos && name.substr(colon + 1) == "type") return trimmed(a.value());
  }
  return {};
}

std::string codeOf(const pugi::xml_node& n) { return attr(child(n, "code"), "code"); }

// All elements with one of the local names, in document order.
std::vector<pugi::xml_node> elementsNamed(const pugi::xml_node& root, std::initializer_list<std::string_view> names) {
  struct Walker : pugi::xml_tree_walker {
    std::vector<std::string_view> names;
    std::vector<pugi::xml_node> found;
    bool for_each(pugi::xml_node& n) override {
      if (n.type() == pugi::node_element && std::find(names.begin(), names.end(), localName(n)) != names.end())
        found.push_back(n);
      return true;
    }
  } w;
  w.names.assign(names.begin(), names.end());
  pugi::xml_node r = root;
  r.traverse(w);
  return w.found;
}

// Physical unit -> factor to mV (0 when not a voltage).
double voltsToMv(const std::string& unit) {
  if (unit == "uV" || unit == "UV" || unit == "\xc2\xb5V" || unit == "microV") return 1e-3;
  if (unit == "mV" || unit == "MV") return 1.0;
  if (unit == "V") return 1e3;
  if (unit == "nV") return 1e-6;
  return 0.0;
}

// Time unit -> factor to seconds (0 when not a time).
double timeToS(const std::string& unit) {
  if (unit == "s" || unit.empty()) return 1.0;
  if (unit == "ms") return 1e-3;
  if (unit == "us") return 1e-6;
  return 0.0;
}

// "YYYYMMDDhhmmss[.fff]" -> date "YYYYMMDD" and time "hhmmss" ("" when malformed).
void splitTimestamp(const std::string& ts, std::string& date, std::string& time) {
  std::size_t digits = 0;
  while (digits < ts.size() && std::isdigit(static_cast<unsigned char>(ts[digits]))) ++digits;
  if (digits < 8) return;
  const int month = std::stoi(ts.substr(4, 2)), day = std::stoi(ts.substr(6, 2));
  if (month < 1 || month > 12 || day < 1 || day > 31) return;
  date = ts.substr(0, 8);
  if (digits >= 12) time = (ts.substr(8, std::min<std::size_t>(6, digits - 8)) + "00").substr(0, 6);
}

// ------------------------------------------------------------------ waveforms ----

// Parses the space-separated integers of a <digits> element.
std::vector<std::int32_t> parseDigits(const char* text, const std::string& path, const std::string& where) {
  std::vector<std::int32_t> out;  // 4 bytes a value: memory stays a small multiple of the file size
  const char* p = text;
  while (true) {
    while (*p && std::isspace(static_cast<unsigned char>(*p))) ++p;
    if (!*p) break;
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(p, &end, 10);
    if (end == p || errno == ERANGE || v > INT32_MAX || v < INT32_MIN ||
        (*end && !std::isspace(static_cast<unsigned char>(*end)))) {
      const char* stop = p;
      while (*stop && !std::isspace(static_cast<unsigned char>(*stop)) && stop - p < 24) ++stop;
      throw ReadError(path, where + ": digit " + std::to_string(out.size() + 1) + " ('" + std::string(p, stop) +
                                "') is not an integer");
    }
    out.push_back(static_cast<std::int32_t>(v));
    p = end;
  }
  return out;
}

// One SLIST_PQ lead sequence -> channel in mV.
// Trailing digits at the int16 limits (32767 / -32768) are padding (Philips' converter pads its
// 600-sample median beats to 1200 with 32767): they become 0 mV and are counted in `padded`.
EcgChannel readLeadSequence(const std::string& code, const pugi::xml_node& value, const std::string& path,
                            const std::string& series, std::vector<std::string>& warnings, std::size_t& padded) {
  EcgChannel c;
  c.codeValue = code;
  c.codingScheme = "MDC";
  c.codeMeaning = code;
  const std::string prefix = "MDC_ECG_LEAD_";
  c.label = upper(code).rfind(prefix, 0) == 0 ? canonicalLeadName(code.substr(prefix.size())) : canonicalLeadName(code);
  if (c.label.empty()) {
    c.label = code;
    warnings.push_back(series + ": sequence " + code + " is not a standard lead, kept as is");
  }
  const std::string where = series + ", lead " + code;
  const std::string type = xsiType(value);
  if (type != "SLIST_PQ") throw ReadError(path, where + ": unsupported value type '" + type + "' (expected SLIST_PQ)");
  const pugi::xml_node origin = child(value, "origin"), scale = child(value, "scale");
  const auto scaleV = vendor::toDouble(attr(scale, "value"));
  if (!scale || !scaleV || *scaleV == 0) throw ReadError(path, where + ": missing or invalid scale");
  const double scaleF = voltsToMv(attr(scale, "unit"));
  if (scaleF == 0) throw ReadError(path, where + ": scale unit '" + attr(scale, "unit") + "' is not a voltage");
  double originMv = 0.0;
  if (origin) {
    const auto ov = vendor::toDouble(attr(origin, "value"));
    const std::string unit = attr(origin, "unit");
    const double of = unit.empty() ? scaleF : voltsToMv(unit);  // an origin without unit: the scale's
    if (!ov || of == 0) throw ReadError(path, where + ": invalid origin");
    originMv = *ov * of;
  }
  const pugi::xml_node digits = child(value, "digits");
  if (!digits) throw ReadError(path, where + ": no digits");
  const std::vector<std::int32_t> raw = parseDigits(digits.text().get(), path, where);
  c.unit = "mV";
  c.sensitivity = *scaleV * scaleF;
  c.baseline = originMv;
  c.samples.resize(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) c.samples[i] = static_cast<float>(originMv + c.sensitivity * raw[i]);
  padded = 0;
  while (padded < raw.size() && (raw[raw.size() - 1 - padded] == 32767 || raw[raw.size() - 1 - padded] == -32768)) {
    c.samples[raw.size() - 1 - padded] = 0.0f;
    ++padded;
  }
  return c;
}

// Sampling rate of a TIME_* sequence value (GLIST_TS / GLIST_PQ increment); 0 if absent.
double sequenceRate(const pugi::xml_node& value, const std::string& path, const std::string& where) {
  const pugi::xml_node inc = child(value, "increment");
  if (!inc) return 0.0;
  const auto v = vendor::toDouble(attr(inc, "value"));
  const double f = timeToS(attr(inc, "unit"));
  if (!v || !(*v > 0) || f == 0)
    throw ReadError(path, where + ": invalid time increment '" + attr(inc, "value") + " " + attr(inc, "unit") + "'");
  const double hz = 1.0 / (*v * f);
  if (!(hz >= 1 && hz <= 100000))
    throw ReadError(path, where + ": implausible sampling rate " + std::to_string(hz) + " Hz");
  return hz;
}

EcgGroup readSequenceSet(const pugi::xml_node& set, const std::string& series, double fallbackHz,
                         const std::string& path, std::vector<std::string>& warnings) {
  EcgGroup g;
  std::size_t paddedMax = 0;
  for (const pugi::xml_node& comp : children(set, "component")) {
    const pugi::xml_node seq = child(comp, "sequence");
    if (!seq) continue;
    const std::string code = codeOf(seq);
    const pugi::xml_node value = child(seq, "value");
    if (code.rfind("TIME_", 0) == 0) {
      if (const double hz = sequenceRate(value, path, series + " " + code); hz > 0) g.samplingHz = hz;
      continue;
    }
    if (!value) throw ReadError(path, series + ", sequence " + code + ": no value");
    std::size_t padded = 0;
    EcgChannel c = readLeadSequence(code, value, path, series, warnings, padded);
    paddedMax = std::max(paddedMax, padded);
    if (g.channel(c.label)) throw ReadError(path, series + ": lead " + c.label + " appears twice");
    if (!g.channels.empty() && c.samples.size() != g.channels.front().samples.size())
      throw ReadError(path, series + ": lead " + c.label + " has " + std::to_string(c.samples.size()) +
                                " samples but lead " + g.channels.front().label + " has " +
                                std::to_string(g.channels.front().samples.size()));
    g.channels.push_back(std::move(c));
  }
  if (g.channels.empty()) return g;
  if (g.samplingHz <= 0) {
    if (fallbackHz <= 0) throw ReadError(path, series + ": no time sequence gives the sampling rate");
    g.samplingHz = fallbackHz;
    warnings.push_back(series + ": no time sequence, the rhythm's sampling rate is assumed");
  }
  g.numSamples = g.channels.front().samples.size();
  if (g.numSamples == 0) throw ReadError(path, series + ": the leads hold no samples");
  if (paddedMax)
    warnings.push_back(series + ": up to " + std::to_string(paddedMax) +
                       " trailing padding samples (digit 32767) per lead set to 0 mV");
  return g;
}

// Filter settings a series declares (controlVariable: MDC_ECG_CTL_VBL_ATTR_FILTER_LOW_PASS / _HIGH_PASS
// with a _CUTOFF_FREQ, _NOTCH with a _NOTCH_FREQ, in Hz) -> the group's channels.
void applySeriesFilters(const pugi::xml_node& series, EcgGroup& g) {
  for (const pugi::xml_node& outer : children(series, "controlVariable")) {
    const pugi::xml_node filter = child(outer, "controlVariable");
    const std::string kind = codeOf(filter);
    for (const pugi::xml_node& comp : children(filter, "component")) {
      const pugi::xml_node cv = child(comp, "controlVariable");
      const std::string what = codeOf(cv);
      const pugi::xml_node value = child(cv, "value");
      const auto hz = vendor::toDouble(attr(value, "value"));
      if (!hz || !(*hz > 0) || attr(value, "unit") != "Hz") continue;
      for (EcgChannel& c : g.channels) {
        if (endsWith(kind, "_FILTER_LOW_PASS") && endsWith(what, "_CUTOFF_FREQ")) c.highFreqHz = *hz;
        if (endsWith(kind, "_FILTER_HIGH_PASS") && endsWith(what, "_CUTOFF_FREQ")) c.lowFreqHz = *hz;
        if (endsWith(kind, "_FILTER_NOTCH") && endsWith(what, "_NOTCH_FREQ")) c.notchHz = *hz;
      }
    }
  }
}

void readWaveforms(const pugi::xml_node& root, EcgRecord& rec) {
  std::vector<EcgGroup> rhythm, median;
  for (const pugi::xml_node& s : elementsNamed(root, {"series", "derivedSeries"})) {
    const bool derived = localName(s) == "derivedSeries";
    const std::string code = codeOf(s);
    const bool isMedian = derived || upper(code).find("REPRESENTATIVE") != std::string::npos;
    const std::string label = upper(code) == "RHYTHM" ? "RHYTHM"
                              : isMedian              ? "MEDIAN"
                                                      : (code.empty() ? "RHYTHM" : code);
    const std::string name = std::string(derived ? "derivedSeries " : "series ") + (code.empty() ? "(no code)" : code);
    for (const pugi::xml_node& comp : children(s, "component")) {
      const pugi::xml_node set = child(comp, "sequenceSet");
      if (!set) continue;
      const double fallback = rhythm.empty() ? 0.0 : rhythm.front().samplingHz;
      EcgGroup g = readSequenceSet(set, name, fallback, rec.sourcePath, rec.warnings);
      if (g.channels.empty()) continue;
      g.label = label;
      g.originality = derived ? "DERIVED" : "ORIGINAL";
      applySeriesFilters(s, g);
      (g.isMedian() ? median : rhythm).push_back(std::move(g));
    }
  }
  if (rhythm.empty() && median.empty()) throw ReadError(rec.sourcePath, "HL7 aECG file holds no lead sequence");
  for (auto& g : rhythm) rec.groups.push_back(std::move(g));
  for (auto& g : median) rec.groups.push_back(std::move(g));
  for (EcgGroup& g : rec.groups) sortStandardLeadOrder(g);
  deriveLimbLeads(rec);
}

// ---------------------------------------------------------------- annotations ----

bool insideBeat(const pugi::xml_node& annotation) {
  for (pugi::xml_node p = annotation.parent(); p; p = p.parent())
    if (localName(p) == "annotation" && upper(codeOf(p)) == "MDC_ECG_BEAT") return true;
  return false;
}

// Duration in ms from a PQ value (unit ms when absent).
double toMs(double v, const std::string& unit) { return unit == "s" ? v * 1000.0 : unit == "us" ? v / 1000.0 : v; }

// Sets the measurement a code stands for, when not set yet. Returns false when the code is none.
bool applyMeasurement(const std::string& code, double v, const std::string& unit, EcgRecord& rec) {
  EcgMeasurements& m = rec.measurements;
  const std::string c = upper(code);
  auto setOnce = [](double& field, double value) {
    if (std::isnan(field)) field = value;
  };
  if (c == "MDC_ECG_HEART_RATE")
    setOnce(m.heartRateBpm, unit == "/s" || unit == "Hz" ? v * 60.0 : v);
  else if (c == "MDC_ECG_TIME_PD_RR")
    setOnce(m.rrMs, toMs(v, unit));
  else if (c == "MDC_ECG_TIME_PD_PR" || c == "MDC_ECG_TIME_PD_PQ")
    setOnce(m.prMs, toMs(v, unit));
  else if (c == "MDC_ECG_TIME_PD_QRS")
    setOnce(m.qrsMs, toMs(v, unit));
  else if (c == "MDC_ECG_TIME_PD_QT")
    setOnce(m.qtMs, toMs(v, unit));
  else if (c == "MDC_ECG_TIME_PD_QTC" || endsWith(c, "_QTCB") || endsWith(c, "_QTCF") || endsWith(c, "_QTCH")) {
    if (!(v > 0)) {
      rec.warnings.push_back(code + " of " + std::to_string(v) + " ms ignored");
      return true;
    }
    if (!std::isnan(m.qtcMs)) return true;
    m.qtcMs = toMs(v, unit);
    m.qtcFormula = endsWith(c, "_QTCB")   ? "Bazett"
                   : endsWith(c, "_QTCF") ? "Fridericia"
                   : endsWith(c, "_QTCH") ? "Hodges"
                                          : "";
  } else if (c == "MDC_ECG_ANGLE_P_FRONT" || endsWith(c, "_P_AXIS"))
    setOnce(m.pAxisDeg, v);
  else if (c == "MDC_ECG_ANGLE_QRS_FRONT" || endsWith(c, "_QRS_AXIS"))
    setOnce(m.qrsAxisDeg, v);
  else if (c == "MDC_ECG_ANGLE_T_FRONT" || endsWith(c, "_T_AXIS"))
    setOnce(m.tAxisDeg, v);
  else
    return false;
  return true;
}

void readAnnotations(const pugi::xml_node& root, EcgRecord& rec) {
  for (const pugi::xml_node& a : elementsNamed(root, {"annotation"})) {
    if (insideBeat(a)) continue;
    const std::string code = codeOf(a);
    const pugi::xml_node value = child(a, "value");
    if (code.empty() || !value) continue;
    const std::string type = xsiType(value);
    if (type == "ST" && upper(code).rfind("MDC_ECG_INTERPRETATION", 0) == 0) {
      if (std::string t = trimmed(value.text().get()); !t.empty()) rec.statements.push_back(std::move(t));
    } else if (type == "PQ") {
      const auto v = vendor::toDouble(attr(value, "value"));
      if (!v) continue;
      applyMeasurement(code, *v, attr(value, "unit"), rec);
      EcgAnnotation ann;
      ann.kind = EcgAnnotation::Kind::Measurement;
      ann.conceptCode = code;
      ann.conceptScheme = attr(child(a, "code"), "codeSystemName");
      ann.value = *v;
      ann.unit = attr(value, "unit");
      rec.annotations.push_back(std::move(ann));
    } else if (type == "CE" && upper(code) == "MDC_ECG_RHY" && !rec.extra.count("rhythm")) {
      const std::string shown = attr(value, "displayName");
      rec.extra["rhythm"] = shown.empty() ? attr(value, "code") : shown;
    }
  }
  if (std::isnan(rec.measurements.heartRateBpm) && rec.measurements.rrMs > 0) {
    rec.measurements.heartRateBpm = 60000.0 / rec.measurements.rrMs;
    rec.extra["heartRateSource"] = "RR";
  }
}

// ----------------------------------------------------------------- identity ----

// PN "Family^Given" from an HL7 name (structured family/given parts, or plain text).
std::string personName(const pugi::xml_node& name) {
  const std::string family = trimmed(child(name, "family").text().get());
  const std::string given = trimmed(child(name, "given").text().get());
  std::string pn = family.empty() && given.empty() ? trimmed(name.text().get())
                   : given.empty()                 ? family
                                                   : family + "^" + given;
  if (!pn.empty() && pn.find_first_not_of("-^ ") == std::string::npos) pn.clear();  // "---": no name
  return pn;
}

void readSubject(const pugi::xml_node& root, EcgRecord& rec) {
  Identity& id = rec.identity;
  const pugi::xml_node subject = vendor::descendant(root, "trialSubject");
  const pugi::xml_node person = child(subject, "subjectDemographicPerson");
  id.patientId = attr(child(subject, "id"), "extension");
  if (id.patientId.empty()) id.patientId = trimmed(child(person, "PatientID").text().get());  // Mindray extension
  id.patientName = personName(child(person, "name"));
  const std::string sex = upper(attr(child(person, "administrativeGenderCode"), "code"));
  id.sex = sex == "M" || sex == "F" ? sex : "";
  std::string birthTime;
  splitTimestamp(attr(child(person, "birthTime"), "value"), id.birthDate, birthTime);
  for (const pugi::xml_node& obs : elementsNamed(root, {"relatedObservation"})) {
    if (codeOf(obs) != "21612-7") continue;  // LOINC "Reported Age"
    const pugi::xml_node v = child(obs, "value");
    const auto age = vendor::toInt(attr(v, "value"));
    const std::string unit = attr(v, "unit");
    if (age && *age >= 0 && *age < 1000 && (unit == "a" || unit == "mo" || unit == "wk" || unit == "d")) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "%03lld%c", *age,
                    unit == "a"    ? 'Y'
                    : unit == "mo" ? 'M'
                    : unit == "wk" ? 'W'
                                   : 'D');
      id.age = buf;
    }
    break;
  }
}

void readStudy(const pugi::xml_node& root, EcgRecord& rec) {
  Identity& id = rec.identity;
  const pugi::xml_node eff = child(root, "effectiveTime");
  std::string ts = attr(child(eff, "center"), "value");
  if (ts.empty()) ts = attr(child(eff, "low"), "value");
  splitTimestamp(ts, id.studyDate, id.studyTime);
  if (id.studyDate.empty() && !ts.empty()) rec.warnings.push_back("effectiveTime '" + ts + "' is not a timestamp");
  const pugi::xml_node device = vendor::descendant(root, "manufacturedSeriesDevice");
  id.modelName = trimmed(child(device, "manufacturerModelName").text().get());
  id.manufacturer = trimmed(child(child(device.parent(), "manufacturerOrganization"), "name").text().get());
  if (const std::string sw = trimmed(child(device, "softwareName").text().get()); !sw.empty())
    rec.extra["softwareVersion"] = sw;
  id.modality = "ECG";
  if (const std::string c = codeOf(root); !c.empty()) rec.extra["aecgCode"] = c;
}

}  // namespace

bool looksLikeHl7Aecg(std::string_view head) { return vendor::xmlRootName(head) == "AnnotatedECG"; }

EcgRecord readHl7Aecg(const std::string& path) {
  pugi::xml_document doc;
  vendor::loadXmlFile(path, doc);
  const pugi::xml_node root = doc.document_element();
  if (localName(root) != "AnnotatedECG")
    throw ReadError(
        path, "not an HL7 aECG file (root element <" + std::string(localName(root)) + ">, expected <AnnotatedECG>)");
  EcgRecord rec;
  rec.format = SourceFormat::Hl7Aecg;
  rec.sourcePath = path;
  readWaveforms(root, rec);
  readAnnotations(root, rec);
  readSubject(root, rec);
  readStudy(root, rec);
  return rec;
}

}  // namespace e2e
