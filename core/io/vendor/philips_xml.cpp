#include "io/vendor/philips_xml.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "io/ecg_leads.h"
#include "io/vendor/xli.h"
#include "io/vendor/xml_file.h"

namespace e2e {
namespace {

using vendor::child;
using vendor::lower;
using vendor::trimmed;
using vendor::children;
using vendor::toDouble;
using vendor::toInt;

constexpr std::size_t kMaxLeads = 64;

// Element text, trimmed ("" for an empty node).
std::string text(const pugi::xml_node& n) { return n ? trimmed(n.child_value()) : std::string(); }

// Element text at a path of local names below `n` ("" when any step is missing).
std::string textAt(pugi::xml_node n, std::initializer_list<std::string_view> path) {
  for (std::string_view p : path) n = child(n, p);
  return text(n);
}

std::string attr(const pugi::xml_node& n, const char* name) { return trimmed(n.attribute(name).value()); }

std::vector<std::string> splitWords(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Floor division by two, as the reference decoder does (Python's floor of x / 2).
std::int32_t floorHalf(std::int32_t x) { return x >= 0 ? x / 2 : -((-x + 1) / 2); }

// Rhythm waveform parameters gathered from <signalcharacteristics> and <parsedwaveforms>.
struct SignalInfo {
  double rateHz = 0;
  double uvPerLsb = 0;
  std::size_t expectedSamples = 0;  // durationperchannel * rate, 0 when not stated
  double hipassHz = kNaN, lowpassHz = kNaN, notchHz = kNaN;
  std::string acquisitionType;
  std::vector<std::string> labels;
};

// Lead names of a file without leadlabels (SierraECG 1.03): the standard order for 12-lead sets.
std::vector<std::string> defaultLabels(const std::string& acquisitionType, std::size_t count) {
  std::vector<std::string> out;
  const bool std12 = acquisitionType == "STD-12" || acquisitionType == "10-WIRE";
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(std12 && i < 12 ? standardLeads()[i] : "Channel " + std::to_string(i + 1));
  return out;
}

double firstNumber(std::initializer_list<std::string> values) {
  for (const std::string& v : values)
    if (auto d = toDouble(v)) return *d;
  return kNaN;
}

void readFilters(const pugi::xml_node& sc, const pugi::xml_node& pw, SignalInfo& s) {
  s.hipassHz = firstNumber({attr(pw, "hipass"), textAt(sc, {"hipass"})});
  s.lowpassHz = firstNumber({attr(pw, "lowpass"), textAt(sc, {"lowpass"})});
  const std::string band = textAt(sc, {"signalbandwidth"});  // 1.03: "0.05-150"
  const std::size_t dash = band.find('-');
  if (std::isnan(s.hipassHz) && dash != std::string::npos) s.hipassHz = firstNumber({band.substr(0, dash)});
  if (std::isnan(s.lowpassHz) && dash != std::string::npos) s.lowpassHz = firstNumber({band.substr(dash + 1)});
  const std::string notched =
      lower(attr(pw, "notchfiltered").empty() ? textAt(sc, {"notchfiltered"}) : attr(pw, "notchfiltered"));
  if (notched == "true") s.notchHz = firstNumber({textAt(sc, {"acsetting"})});
}

SignalInfo readSignalInfo(const std::string& path, const pugi::xml_node& root, const pugi::xml_node& pw,
                          std::vector<std::string>& warnings) {
  const pugi::xml_node sc = child(child(root, "dataacquisition"), "signalcharacteristics");
  SignalInfo s;
  s.rateHz = firstNumber({attr(pw, "samplespersecond"), textAt(sc, {"samplingrate"})});
  if (!(s.rateHz > 0 && s.rateHz <= 100000))
    throw ReadError(path, "no valid sampling rate (samplespersecond / samplingrate) in the Philips XML");
  s.uvPerLsb = firstNumber({attr(pw, "resolution"), textAt(sc, {"resolution"}), textAt(sc, {"signalresolution"})});
  if (!(s.uvPerLsb > 0 && s.uvPerLsb < 1e6)) {
    warnings.push_back("no valid signal resolution in the file; Philips default 5 uV/LSB assumed");
    s.uvPerLsb = 5.0;
  }
  const double durationMs = firstNumber({attr(pw, "durationperchannel"), text(child(pw, "durationperchannel"))});
  if (durationMs > 0 && durationMs < 3.6e6)
    s.expectedSamples = static_cast<std::size_t>(std::lround(durationMs * s.rateHz / 1000.0));
  s.acquisitionType = textAt(sc, {"acquisitiontype"});
  readFilters(sc, pw, s);

  std::vector<std::string> labels = splitWords(attr(pw, "leadlabels"));
  auto declared = toInt(attr(pw, "numberofleads"));
  if (!declared) declared = toInt(textAt(sc, {"numberchannelsvalid"}));
  if (!declared) declared = toInt(textAt(sc, {"numberchannelsallocated"}));
  if (labels.empty()) {
    if (!declared || *declared <= 0)
      throw ReadError(path, "the Philips XML names no leads (leadlabels / numberchannels)");
    labels = defaultLabels(s.acquisitionType, static_cast<std::size_t>(std::min<long long>(*declared, kMaxLeads)));
  } else if (declared && *declared > 0 && static_cast<std::size_t>(*declared) < labels.size()) {
    labels.resize(static_cast<std::size_t>(*declared));
  }
  if (labels.size() > kMaxLeads) throw ReadError(path, "more than " + std::to_string(kMaxLeads) + " leads listed");
  s.labels = labels;
  return s;
}

// Philips stores III, aVR, aVL and aVF as residuals against the leads computed from I and II.
void reconstructLimbLeads(std::vector<std::vector<std::int32_t>>& leads) {
  auto& i1 = leads[0];
  auto& i2 = leads[1];
  auto& i3 = leads[2];
  const std::size_t n = std::min({i1.size(), i2.size(), i3.size(), leads[3].size(), leads[4].size(), leads[5].size()});
  for (std::size_t k = 0; k < n; ++k) {
    i3[k] = i2[k] - i1[k] - i3[k];
    leads[3][k] = -leads[3][k] - floorHalf(i1[k] + i2[k]);
    leads[4][k] = floorHalf(i1[k] - i3[k]) - leads[4][k];
    leads[5][k] = floorHalf(i2[k] + i3[k]) - leads[5][k];
  }
}

bool isStandardLimbOrder(const std::vector<std::string>& labels) {
  if (labels.size() < 6) return false;
  for (std::size_t i = 0; i < 6; ++i)
    if (canonicalLeadName(labels[i]) != standardLeads()[i]) return false;
  return true;
}

std::vector<std::int32_t> int16Samples(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::int32_t> out(bytes.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::int16_t>(static_cast<std::uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
  return out;
}

std::vector<std::int32_t> plainSamples(const std::string& path, const std::string& body, const std::string& what) {
  std::vector<std::int32_t> out;
  std::istringstream in(body);
  for (std::string w; in >> w;) {
    const auto v = toInt(w);
    if (!v || *v < INT16_MIN || *v > INT16_MAX) throw ReadError(path, what + ": '" + w + "' is not a 16-bit sample");
    out.push_back(static_cast<std::int32_t>(*v));
  }
  return out;
}

// Splits one uncompressed sample run into leads of `perLead` samples.
std::vector<std::vector<std::int32_t>> splitLeads(const std::string& path, const std::vector<std::int32_t>& all,
                                                  std::size_t leads, std::size_t perLead) {
  if (perLead == 0) perLead = all.size() / leads;
  if (perLead == 0 || all.size() < leads * perLead)
    throw ReadError(path, "uncompressed waveform holds " + std::to_string(all.size()) + " samples, fewer than " +
                              std::to_string(leads) + " leads need");
  std::vector<std::vector<std::int32_t>> out(leads);
  for (std::size_t l = 0; l < leads; ++l) out[l].assign(all.begin() + l * perLead, all.begin() + (l + 1) * perLead);
  return out;
}

std::vector<std::vector<std::int32_t>> decodeRhythm(const std::string& path, const pugi::xml_node& pw,
                                                    const SignalInfo& s, bool& xliCompressed) {
  const std::string encoding = lower(attr(pw, "dataencoding"));
  std::string method = attr(pw, "compressmethod");
  if (method.empty()) method = attr(pw, "compression");
  const std::string flag = lower(attr(pw, "compressflag"));
  xliCompressed = flag == "true" || (flag.empty() && !method.empty() && lower(method) != "uncompressed");
  if (xliCompressed && lower(method) != "xli")
    throw ReadError(path, "waveform compression '" + method + "' is not supported (only XLI)");
  const std::size_t n = s.labels.size();
  if (encoding == "plain") {
    if (xliCompressed) throw ReadError(path, "XLI-compressed waveform data must be base64-encoded");
    return splitLeads(path, plainSamples(path, pw.child_value(), "parsedwaveforms"), n, s.expectedSamples);
  }
  if (encoding != "base64")
    throw ReadError(path, "waveform data encoding '" + attr(pw, "dataencoding") + "' is not supported");
  const std::vector<std::uint8_t> bytes = vendor::decodeBase64(pw.child_value(), path, "parsedwaveforms");
  if (!xliCompressed) return splitLeads(path, int16Samples(bytes), n, s.expectedSamples);
  const std::size_t cap = s.expectedSamples > 0 ? s.expectedSamples * 2 + 64 : xli::kMaxSamplesPerLead;
  std::vector<std::vector<std::int32_t>> leads;
  try {
    leads = xli::decodeLeads(bytes, n, cap);
  } catch (const std::runtime_error& e) {
    throw ReadError(path, std::string("XLI waveform data: ") + e.what());
  }
  if (leads.size() < n)
    throw ReadError(path, "XLI waveform data holds " + std::to_string(leads.size()) + " leads, the file lists " +
                              std::to_string(n));
  return leads;
}

// Common length of the leads: the stated duration when every lead reaches it, else the shortest.
std::size_t commonLength(const std::vector<std::vector<std::int32_t>>& leads, std::size_t expected,
                         std::vector<std::string>& warnings, const std::string& what) {
  std::size_t shortest = leads.front().size(), longest = 0;
  for (const auto& l : leads) shortest = std::min(shortest, l.size()), longest = std::max(longest, l.size());
  if (expected > 0 && shortest >= expected) {
    if (longest > expected) warnings.push_back(what + ": samples after the stated duration ignored");
    return expected;
  }
  if (expected > 0)
    warnings.push_back(what + ": " + std::to_string(shortest) + " samples per lead, the file states " +
                       std::to_string(expected));
  if (longest > shortest) warnings.push_back(what + ": leads of different lengths cut to " + std::to_string(shortest));
  return shortest;
}

EcgChannel makeChannel(const std::string& label, const std::vector<std::int32_t>& counts, std::size_t n,
                       double uvPerLsb) {
  EcgChannel c;
  const std::string canon = canonicalLeadName(label);
  c.label = canon.empty() ? label : canon;
  c.codeMeaning = label;
  c.unit = "mV";
  c.sensitivity = uvPerLsb / 1000.0;
  c.samples.resize(n);
  for (std::size_t i = 0; i < n; ++i) c.samples[i] = static_cast<float>(counts[i] * c.sensitivity);
  return c;
}

void readRhythm(const std::string& path, const pugi::xml_node& root, EcgRecord& rec) {
  const pugi::xml_node pw = vendor::descendant(child(root, "waveforms"), "parsedwaveforms");
  if (!pw) throw ReadError(path, "the Philips XML has no <parsedwaveforms> (no waveform data)");
  const SignalInfo s = readSignalInfo(path, root, pw, rec.warnings);
  bool xliCompressed = false;
  std::vector<std::vector<std::int32_t>> leads = decodeRhythm(path, pw, s, xliCompressed);
  if (xliCompressed && isStandardLimbOrder(s.labels)) {
    reconstructLimbLeads(leads);
  } else if (xliCompressed) {
    rec.warnings.push_back("lead set '" + s.acquisitionType +
                           "' is not I, II, III, aVR, aVL, aVF first: leads kept as stored");
  }
  EcgGroup g;
  g.label = "RHYTHM";
  g.originality = "ORIGINAL";
  g.samplingHz = s.rateHz;
  g.numSamples = commonLength(leads, s.expectedSamples, rec.warnings, "rhythm");
  if (g.numSamples == 0) throw ReadError(path, "the rhythm waveform holds no samples");
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    EcgChannel c = makeChannel(s.labels[i], leads[i], g.numSamples, s.uvPerLsb);
    c.lowFreqHz = s.hipassHz;
    c.highFreqHz = s.lowpassHz;
    c.notchHz = s.notchHz;
    g.channels.push_back(std::move(c));
  }
  rec.groups.push_back(std::move(g));
  std::ostringstream res;
  res << s.uvPerLsb;
  rec.extra["resolution_uV"] = res.str();
  if (!s.acquisitionType.empty()) rec.extra["acquisitionType"] = s.acquisitionType;
  rec.extra["compression"] = xliCompressed ? "XLI" : "none";
}

// Representative (median) beats: <repbeats> with one <repbeat leadname=...> per lead, the samples
// in the repbeat itself (1.03) or its <waveform> child (1.04).
void readRepBeats(const std::string& path, const pugi::xml_node& root, EcgRecord& rec) {
  const pugi::xml_node rb = child(child(root, "waveforms"), "repbeats");
  if (!rb) return;
  const double rate = firstNumber({attr(rb, "samplespersec"), attr(rb, "samplespersecond")});
  double uv = firstNumber({attr(rb, "resolution")});
  if (!(rate > 0 && rate <= 100000)) {
    rec.warnings.push_back("representative beats skipped: no valid samplespersec");
    return;
  }
  if (!(uv > 0 && uv < 1e6)) {
    rec.warnings.push_back("representative beats: no resolution stated, 1 uV/LSB assumed");
    uv = 1.0;
  }
  const bool plain = lower(attr(rb, "dataencoding")) == "plain";
  if (!plain && lower(attr(rb, "dataencoding")) != "base64")
    throw ReadError(path, "representative beat encoding '" + attr(rb, "dataencoding") + "' is not supported");
  std::vector<std::string> labels;
  std::vector<std::vector<std::int32_t>> beats;
  for (const pugi::xml_node& b : children(rb, "repbeat")) {
    const pugi::xml_node w = child(b, "waveform") ? child(b, "waveform") : b;
    const std::string what = "repbeat " + attr(b, "leadname");
    if (plain) {
      beats.push_back(plainSamples(path, w.child_value(), what));
    } else {
      const auto bytes = vendor::decodeBase64(w.child_value(), path, what);
      if (bytes.size() % 2) throw ReadError(path, what + ": odd number of bytes in 16-bit samples");
      beats.push_back(int16Samples(bytes));
    }
    labels.push_back(attr(b, "leadname"));
    if (beats.size() > kMaxLeads)
      throw ReadError(path, "more than " + std::to_string(kMaxLeads) + " representative beats");
  }
  if (beats.empty()) return;
  EcgGroup g;
  g.label = "MEDIAN";
  g.originality = "DERIVED";
  g.samplingHz = rate;
  g.numSamples = commonLength(beats, 0, rec.warnings, "representative beats");
  if (g.numSamples == 0) {
    rec.warnings.push_back("representative beats hold no samples");
    return;
  }
  for (std::size_t i = 0; i < beats.size(); ++i)
    g.channels.push_back(makeChannel(labels[i], beats[i], g.numSamples, uv));
  sortStandardLeadOrder(g);
  rec.groups.push_back(std::move(g));
  if (!attr(rb, "repbeatmethod").empty()) rec.extra["repbeatMethod"] = attr(rb, "repbeatmethod");
}

// First numeric value among elements named in `names`, searched in each node of `where` in turn.
double measure(const std::vector<pugi::xml_node>& where, std::initializer_list<std::string_view> names,
               std::string* found = nullptr) {
  for (const pugi::xml_node& n : where)
    for (std::string_view name : names)
      if (auto v = toDouble(text(child(n, name)))) {
        if (found) *found = std::string(name);
        return *v;
      }
  return kNaN;
}

void readMeasurements(const pugi::xml_node& root, const pugi::xml_node& interp, EcgRecord& rec) {
  // 1.04: interpretation/globalmeasurements, internalmeasurements/crossleadmeasurements;
  // 1.03: interpretation/interpretationmeasurements, measurements/globalmeasurements.
  const std::vector<pugi::xml_node> where = {child(interp, "globalmeasurements"),
                                             child(interp, "interpretationmeasurements"),
                                             child(child(root, "internalmeasurements"), "crossleadmeasurements"),
                                             child(child(root, "measurements"), "globalmeasurements")};
  EcgMeasurements& m = rec.measurements;
  m.heartRateBpm = measure(where, {"heartrate", "meanventrate"});
  m.rrMs = measure(where, {"rrint"});
  m.prMs = measure(where, {"print", "meanprint"});
  m.qrsMs = measure(where, {"qrsdur", "meanqrsdur"});
  m.qtMs = measure(where, {"qtint", "meanqtint"});
  std::string qtcName;
  m.qtcMs = measure(where, {"qtcb", "meanqtc"}, &qtcName);
  if (qtcName == "qtcb") m.qtcFormula = "Bazett";
  m.pAxisDeg = measure(where, {"pfrontaxis"});
  m.qrsAxisDeg = measure(where, {"qrsfrontaxis"});
  m.tAxisDeg = measure(where, {"tfrontaxis"});
  const double qtcf = measure(where, {"qtcf"});
  if (!std::isnan(qtcf)) rec.extra["qtcFridericia_ms"] = std::to_string(std::lround(qtcf));
  if (std::isnan(m.qtcMs) && !std::isnan(qtcf)) m.qtcMs = qtcf, m.qtcFormula = "Fridericia";
}

void readInterpretation(const pugi::xml_node& root, EcgRecord& rec) {
  const std::vector<pugi::xml_node> all = children(child(root, "interpretations"), "interpretation");
  const pugi::xml_node interp = all.empty() ? pugi::xml_node() : all.front();
  readMeasurements(root, interp, rec);
  if (all.size() > 1) rec.extra["interpretations"] = std::to_string(all.size()) + " (first one read)";
  for (const pugi::xml_node& st : children(interp, "statement")) {
    const std::string left = text(child(st, "leftstatement")), right = text(child(st, "rightstatement"));
    if (left.empty() && right.empty()) continue;
    rec.statements.push_back(right.empty() ? left : left.empty() ? right : left + " (" + right + ")");
  }
  const std::string severity = text(child(interp, "severity"));
  if (!severity.empty()) rec.extra["severity"] = severity;
  const std::string signature = text(child(interp, "mdsignatureline"));
  if (!signature.empty()) rec.extra["mdSignatureLine"] = signature;
}

std::string digitsOnly(const std::string& s) {
  std::string out;
  for (char c : s)
    if (std::isdigit(static_cast<unsigned char>(c))) out.push_back(c);
  return out;
}

void readPatient(const pugi::xml_node& root, Identity& id) {
  const pugi::xml_node p = child(child(root, "patient"), "generalpatientdata");
  id.patientId = textAt(p, {"patientid"});
  const pugi::xml_node name = child(p, "name");
  std::string pn = textAt(name, {"lastname"}) + "^" + textAt(name, {"firstname"});
  const std::string middle = textAt(name, {"middlename"});
  if (!middle.empty()) pn += "^" + middle;
  while (!pn.empty() && pn.back() == '^') pn.pop_back();
  id.patientName = pn;
  const std::string dob = digitsOnly(textAt(p, {"age", "dateofbirth"}));
  if (dob.size() == 8) id.birthDate = dob;
  if (auto years = toInt(textAt(p, {"age", "years"})); years && *years >= 0 && *years < 200) {
    std::string a = std::to_string(*years);
    id.age = std::string(3 - std::min<std::size_t>(3, a.size()), '0') + a + "Y";
  }
  const std::string sex = lower(textAt(p, {"sex"}));
  id.sex = sex == "male" || sex == "m" ? "M" : sex == "female" || sex == "f" ? "F" : "";
}

void readAcquisition(const pugi::xml_node& root, EcgRecord& rec) {
  const pugi::xml_node da = child(root, "dataacquisition");
  Identity& id = rec.identity;
  const std::string date = digitsOnly(attr(da, "date")), time = digitsOnly(attr(da, "time"));
  if (date.size() == 8) id.studyDate = date;
  if (time.size() >= 4) id.studyTime = time.substr(0, 6);
  const pugi::xml_node machine = child(da, "machine");
  id.manufacturer = "Philips";
  id.modelName = text(machine);
  if (!attr(machine, "machineid").empty()) rec.extra["machineId"] = attr(machine, "machineid");
  if (!attr(machine, "detaildescription").empty()) rec.extra["machineDetail"] = attr(machine, "detaildescription");
  const pugi::xml_node acq = child(da, "acquirer");
  for (const char* key : {"institutionname", "departmentname", "departmentid", "facilityname"})
    if (const std::string v = textAt(acq, {key}); !v.empty()) rec.extra[key] = v;
  id.studyDescription = textAt(child(root, "reportinfo"), {"reportdescription"});
}

}  // namespace

bool looksLikePhilipsXml(std::string_view head) { return vendor::xmlRootName(head) == "restingecgdata"; }

EcgRecord readPhilipsXml(const std::string& path) {
  pugi::xml_document doc;
  vendor::loadXmlFile(path, doc);
  const pugi::xml_node root = doc.document_element();
  if (vendor::localName(root) != "restingecgdata")
    throw ReadError(path, "not a Philips XML ECG (root element <" + std::string(vendor::localName(root)) +
                              ">, expected <restingecgdata>)");
  EcgRecord rec;
  rec.format = SourceFormat::PhilipsXml;
  rec.sourcePath = path;
  rec.identity.modality = "ECG";
  const pugi::xml_node info = child(root, "documentinfo");
  const std::string type = textAt(info, {"documenttype"}), version = textAt(info, {"documentversion"});
  rec.extra["documentType"] = type;
  rec.extra["documentVersion"] = version;
  if ((type != "SierraECG" && type != "PhilipsECG") || (version != "1.03" && version.rfind("1.04", 0) != 0))
    rec.warnings.push_back("document type '" + type + " " + version +
                           "' not among those verified (SierraECG 1.03, PhilipsECG 1.04, 1.04.01)");
  readRhythm(path, root, rec);
  readRepBeats(path, root, rec);
  deriveLimbLeads(rec);  // only adds leads a reduced lead set did not store
  readInterpretation(root, rec);
  readPatient(root, rec.identity);
  readAcquisition(root, rec);
  return rec;
}

}  // namespace e2e
