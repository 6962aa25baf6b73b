#include "cardiosoft_writer.h"

#include <cmath>
#include <pugixml.hpp>
#include <stdexcept>

namespace e2e::test {
namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void leaf(pugi::xml_node parent, const char* name, const std::string& value, const char* units = nullptr) {
  pugi::xml_node n = parent.append_child(name);
  if (units) n.append_attribute("units") = units;
  n.text() = value.c_str();
}

void measurement(pugi::xml_node parent, const char* name, double v, const char* units) {
  leaf(parent, name, std::isnan(v) ? std::string() : fmt(std::round(v)), units);
}

// NumberOfLeads, SampleRate, ChannelSampleCountTotal, Resolution, then one WaveformData per lead.
void writeGroup(pugi::xml_node parent, const EcgGroup& g, const CardioSoftWriteOptions& o) {
  leaf(parent, "NumberOfLeads", std::to_string(g.channels.size()));
  leaf(parent, "SampleRate", fmt(g.samplingHz), "Hz");
  leaf(parent, "ChannelSampleCountTotal", std::to_string(g.numSamples));
  leaf(parent, "Resolution", fmt(o.resolutionUv), "uVperLsb");
  for (const EcgChannel& c : g.channels) {
    std::string text = "\n\t\t";
    for (std::size_t i = 0; i < c.samples.size(); ++i) {
      const double counts = std::round(c.samples[i] * 1000.0 / o.resolutionUv);
      if (!(std::fabs(counts) <= 32767)) throw std::runtime_error("sample out of 16-bit range in lead " + c.label);
      text += std::to_string(static_cast<long>(counts));
      if (i + 1 < c.samples.size() || o.trailingComma) text += ",";
      if (i % 20 == 19) text += "\n\t\t";
    }
    pugi::xml_node w = parent.append_child("WaveformData");
    w.append_attribute("lead") = c.label.c_str();
    w.text() = text.c_str();
  }
}

void writeIdentity(pugi::xml_node root, const EcgRecord& rec, const CardioSoftWriteOptions& o) {
  const Identity& id = rec.identity;
  pugi::xml_node when = root.append_child("ObservationDateTime");
  const std::string t = id.studyTime + "000000", d = id.studyDate;
  leaf(when, "Hour", t.substr(0, 2));
  leaf(when, "Minute", t.substr(2, 2));
  leaf(when, "Second", t.substr(4, 2));
  if (d.size() == 8) {
    leaf(when, "Day", d.substr(6, 2));
    leaf(when, "Month", d.substr(4, 2));
    leaf(when, "Year", d.substr(0, 4));
  }
  pugi::xml_node device = root.append_child("ClinicalInfo").append_child("DeviceInfo");
  leaf(device, "Desc", o.deviceDesc);
  leaf(device, "SoftwareVer", "6.51");
  pugi::xml_node p = root.append_child("PatientInfo");
  leaf(p, "PID", id.patientId);
  pugi::xml_node name = p.append_child("Name");
  const std::size_t caret = id.patientName.find('^');
  leaf(name, "FamilyName", id.patientName.substr(0, caret));
  leaf(name, "GivenName", caret == std::string::npos ? std::string() : id.patientName.substr(caret + 1));
  if (id.age.size() == 4) leaf(p, "Age", std::to_string(std::stoi(id.age.substr(0, 3))), "years");
  pugi::xml_node birth = p.append_child("BirthDateTime");
  if (id.birthDate.size() == 8) {
    leaf(birth, "Day", id.birthDate.substr(6, 2));
    leaf(birth, "Month", id.birthDate.substr(4, 2));
    leaf(birth, "Year", id.birthDate.substr(0, 4));
  }
  leaf(p, "Gender", id.sex == "M" ? "MALE" : id.sex == "F" ? "FEMALE" : "");
}

}  // namespace

void writeCardioSoftXml(const EcgRecord& rec, const std::string& path, const CardioSoftWriteOptions& o) {
  pugi::xml_document doc;
  pugi::xml_node decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("CardiologyXML");
  leaf(root, "ObservationType", "RestECG");
  writeIdentity(root, rec, o);
  pugi::xml_node filters = root.append_child("FilterSetting");
  leaf(filters, "CubicSpline", "no");
  leaf(filters, "Filter50Hz", "yes");
  leaf(filters, "Filter60Hz", "no");
  leaf(filters, "LowPass", "150", "Hz");
  leaf(filters, "HighPass", "0.04", "Hz");
  pugi::xml_node interp = root.append_child("Interpretation").append_child("Diagnosis");
  leaf(interp, "DiagnosisText", "---");
  for (const std::string& s : rec.statements) leaf(interp, "DiagnosisText", s);
  pugi::xml_node m = root.append_child("RestingECGMeasurements");
  const EcgMeasurements& v = rec.measurements;
  measurement(m, "VentricularRate", v.heartRateBpm, "BPM");
  measurement(m, "PQInterval", v.prMs, "ms");
  measurement(m, "QRSDuration", v.qrsMs, "ms");
  measurement(m, "QTInterval", v.qtMs, "ms");
  measurement(m, "QTCInterval", v.qtcMs, "ms");
  measurement(m, "RRInterval", v.rrMs, "ms");
  measurement(m, "PAxis", v.pAxisDeg, "deg");
  measurement(m, "RAxis", v.qrsAxisDeg, "deg");
  measurement(m, "TAxis", v.tAxisDeg, "deg");
  if (const EcgGroup* median = rec.median()) writeGroup(m.append_child("MedianSamples"), *median, o);
  if (const EcgGroup* rhythm = rec.rhythm()) writeGroup(root.append_child("StripData"), *rhythm, o);
  if (!doc.save_file(path.c_str(), "\t", pugi::format_default, pugi::encoding_utf8))
    throw std::runtime_error("cannot write " + path);
}

}  // namespace e2e::test
