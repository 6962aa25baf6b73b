#include "common/types.h"

#include <algorithm>
#include <cctype>

namespace e2e {

const char* toString(SourceFormat f) {
  switch (f) {
    case SourceFormat::DicomEcg: return "DICOM-ECG";
    case SourceFormat::DicomEcho: return "DICOM-US";
    case SourceFormat::Wfdb: return "WFDB";
    case SourceFormat::Video: return "VIDEO";
    case SourceFormat::MuseXml: return "MUSE-XML";
    case SourceFormat::Hl7Aecg: return "HL7-aECG";
    case SourceFormat::ScpEcg: return "SCP-ECG";
    case SourceFormat::PhilipsXml: return "PHILIPS-XML";
    case SourceFormat::CardioSoftXml: return "CARDIOSOFT-XML";
    default: return "UNKNOWN";
  }
}

const char* toString(FrameRateSource s) {
  switch (s) {
    case FrameRateSource::FrameTimeVector: return "FrameTimeVector";
    case FrameRateSource::FrameTime: return "FrameTime";
    case FrameRateSource::CineRate: return "CineRate";
    case FrameRateSource::RecommendedDisplayFrameRate: return "RecommendedDisplayFrameRate";
    case FrameRateSource::Container: return "Container";
    default: return "Default";
  }
}

const char* toString(ViewLabelSource s) {
  switch (s) {
    case ViewLabelSource::ViewCodeSequence: return "ViewCodeSequence";
    case ViewLabelSource::SeriesDescription: return "SeriesDescription";
    case ViewLabelSource::Filename: return "Filename";
    case ViewLabelSource::Synthetic: return "Synthetic";
    default: return "None";
  }
}

bool EcgGroup::isMedian() const {
  std::string l = label;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::toupper(c); });
  return l.find("MEDIAN") != std::string::npos || l.find("AVERAGE") != std::string::npos ||
         l.find("REPRESENTATIVE") != std::string::npos || l.find("TEMPLATE") != std::string::npos;
}

const EcgChannel* EcgGroup::channel(const std::string& lead) const {
  for (const auto& c : channels)
    if (c.label == lead) return &c;
  return nullptr;
}

const EcgGroup* EcgRecord::rhythm() const {
  for (const auto& g : groups)
    if (!g.isMedian()) return &g;
  return nullptr;
}

const EcgGroup* EcgRecord::median() const {
  for (const auto& g : groups)
    if (g.isMedian()) return &g;
  return nullptr;
}

const std::vector<std::string>& standardLeads() {
  static const std::vector<std::string> leads = {"I", "II", "III", "aVR", "aVL", "aVF",
                                                 "V1", "V2", "V3", "V4", "V5", "V6"};
  return leads;
}

std::string canonicalLeadName(const std::string& label) {
  std::string s;
  for (unsigned char c : label)
    if (!std::isspace(c) && c != '_' && c != '-') s += static_cast<char>(std::toupper(c));
  for (const char* prefix : {"LEAD", "ECGLEAD"})
    if (s.rfind(prefix, 0) == 0 && s.size() > std::char_traits<char>::length(prefix))
      s = s.substr(std::char_traits<char>::length(prefix));
  static const std::map<std::string, std::string> map = {
      {"I", "I"},     {"II", "II"},   {"III", "III"}, {"AVR", "aVR"}, {"AVL", "aVL"},
      {"AVF", "aVF"}, {"V1", "V1"},   {"V2", "V2"},   {"V3", "V3"},   {"V4", "V4"},
      {"V5", "V5"},   {"V6", "V6"},   {"1", "I"},     {"2", "II"},    {"3", "III"},
      {"-AVR", "-aVR"}, {"V3R", "V3R"}, {"V4R", "V4R"}, {"V5R", "V5R"}, {"V7", "V7"},
      {"V8", "V8"},   {"V9", "V9"},   {"X", "X"},     {"Y", "Y"},     {"Z", "Z"},
      {"VX", "X"},    {"VY", "Y"},    {"VZ", "Z"}};
  auto it = map.find(s);
  return it == map.end() ? std::string() : it->second;
}

std::string ultrasoundUnitName(int code) {
  switch (code) {
    case 0: return "none";
    case 1: return "percent";
    case 2: return "dB";
    case 3: return "cm";
    case 4: return "s";
    case 5: return "Hz";
    case 6: return "dB/s";
    case 7: return "cm/s";
    case 8: return "cm2";
    case 9: return "cm2/s";
    case 10: return "cm3";
    case 11: return "cm3/s";
    case 12: return "deg";
    default: return "unknown";
  }
}

}  // namespace e2e
