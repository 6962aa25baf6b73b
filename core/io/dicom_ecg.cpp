// DICOM waveform ECG reader. See dicom_ecg.h.
#include "io/dicom_ecg.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

namespace e2e {

namespace {

constexpr const char* kWaveformPrefix = "1.2.840.10008.5.1.4.1.1.9.";
// Files larger than this cannot be a sane waveform object: refuse before loading.
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t(1) << 30;  // 1 GiB

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (std::isspace(static_cast<unsigned char>(s[b])) || s[b] == '\0')) ++b;
  while (e > b && (std::isspace(static_cast<unsigned char>(s[e - 1])) || s[e - 1] == '\0')) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Whole (multi-valued) string value of an element of this item, trimmed; "" if absent.
std::string getString(DcmItem& item, const DcmTagKey& key) {
  OFString v;
  if (item.findAndGetOFStringArray(key, v, OFFalse).good()) return trim(v.c_str());
  return {};
}

std::optional<double> getDouble(DcmItem& item, const DcmTagKey& key, unsigned long pos = 0) {
  Float64 v = 0;
  if (item.findAndGetFloat64(key, v, pos, OFFalse).good() && std::isfinite(v)) return v;
  // DS stored with stray characters: parse the string ourselves.
  OFString s;
  if (item.findAndGetOFString(key, s, pos, OFFalse).good()) {
    std::string t = trim(s.c_str());
    if (!t.empty()) {
      char* end = nullptr;
      double d = std::strtod(t.c_str(), &end);
      if (end && end != t.c_str() && std::isfinite(d)) return d;
    }
  }
  return std::nullopt;
}

std::optional<long> getInteger(DcmItem& item, const DcmTagKey& key, unsigned long pos = 0) {
  Uint16 u16 = 0;
  if (item.findAndGetUint16(key, u16, pos, OFFalse).good()) return static_cast<long>(u16);
  Uint32 u32 = 0;
  if (item.findAndGetUint32(key, u32, pos, OFFalse).good()) return static_cast<long>(u32);
  Sint32 s32 = 0;
  if (item.findAndGetSint32(key, s32, pos, OFFalse).good()) return static_cast<long>(s32);
  if (auto d = getDouble(item, key, pos)) return static_cast<long>(std::lround(*d));
  return std::nullopt;
}

struct Code {
  std::string value, scheme, meaning;
  bool empty() const { return value.empty() && meaning.empty(); }
};

// First item of a code sequence.
Code getCode(DcmItem& item, const DcmTagKey& seqKey) {
  Code c;
  DcmItem* ci = nullptr;
  if (item.findAndGetSequenceItem(seqKey, ci, 0, OFFalse).good() && ci) {
    c.value = getString(*ci, DCM_CodeValue);
    if (c.value.empty()) c.value = getString(*ci, DCM_LongCodeValue);
    if (c.value.empty()) c.value = getString(*ci, DCM_URNCodeValue);
    c.scheme = getString(*ci, DCM_CodingSchemeDesignator);
    c.meaning = getString(*ci, DCM_CodeMeaning);
  }
  return c;
}

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// --------------------------------------------------------------- leads ----

// Lead numbers shared by MDC (2:n, 131328 + n) and SCPECG (5.6.3-9-n) (DICOM CID 3001).
const std::map<int, std::string>& leadNumberTable() {
  static const std::map<int, std::string> t = {
      {1, "I"},    {2, "II"},   {3, "V1"},   {4, "V2"},   {5, "V3"},   {6, "V4"},
      {7, "V5"},   {8, "V6"},   {9, "V7"},   {10, "V2R"}, {11, "V3R"}, {12, "V4R"},
      {13, "V5R"}, {14, "V6R"}, {15, "V7R"}, {16, "X"},   {17, "Y"},   {18, "Z"},
      {19, "CC5"}, {20, "CM5"}, {61, "III"}, {62, "aVR"}, {63, "aVL"}, {64, "aVF"},
      {65, "-aVR"}, {66, "V8"}, {67, "V9"}, {68, "V8R"}, {69, "V9R"}};
  return t;
}

bool allDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

std::string leadFromNumber(const std::string& digits) {
  if (!allDigits(digits) || digits.size() > 9) return {};
  auto it = leadNumberTable().find(std::stoi(digits));
  return it == leadNumberTable().end() ? std::string() : it->second;
}

// Clean a free-text lead description ("Lead I (Einthoven)", "aVR, augmented ...") and
// normalise it; only accepts text with a letter so that bare numbers are not taken as leads.
std::string leadFromText(const std::string& text) {
  std::string t = text.substr(0, text.find_first_of("(,"));
  t = trim(t);
  if (t.empty() || std::none_of(t.begin(), t.end(), [](unsigned char c) { return std::isalpha(c); }))
    return {};
  return canonicalLeadName(t);
}

// ------------------------------------------------------------ samples ----

// Byte stream (little-endian file order) of an OB/OW/UN element.
bool elementBytes(DcmElement* el, std::vector<std::uint8_t>& out, std::string& why) {
  out.clear();
  if (!el) {
    why = "element absent";
    return false;
  }
  const DcmEVR vr = el->getTag().getEVR();
  const Uint32 len = el->getLength();
  if (len == 0) return true;
  if (len == DCM_UndefinedLength) {
    why = "encapsulated (undefined length) waveform data is not supported";
    return false;
  }
  Uint16* w = nullptr;
  if (vr == EVR_OW || vr == EVR_ox || vr == EVR_xs) {
    OFCondition c = el->getUint16Array(w);
    if (c.bad()) w = nullptr;
  }
  if (w) {
    const std::size_t n = len / 2;
    out.resize(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
      out[2 * i] = static_cast<std::uint8_t>(w[i] & 0xff);
      out[2 * i + 1] = static_cast<std::uint8_t>(w[i] >> 8);
    }
    return true;
  }
  Uint8* b = nullptr;
  OFCondition c = el->getUint8Array(b);
  if (c.bad() || !b) {
    if (len % 2 == 0 && el->getUint16Array(w).good() && w) {
      out.resize(len);
      for (std::size_t i = 0; i < len / 2; ++i) {
        out[2 * i] = static_cast<std::uint8_t>(w[i] & 0xff);
        out[2 * i + 1] = static_cast<std::uint8_t>(w[i] >> 8);
      }
      return true;
    }
    why = std::string("cannot read bytes (VR ") + DcmVR(vr).getVRName() + "): " + c.text();
    return false;
  }
  out.assign(b, b + len);
  return true;
}

// G.711 mu-law / A-law expansion to 16-bit linear PCM.
int decodeMuLaw(std::uint8_t u) {
  u = static_cast<std::uint8_t>(~u);
  int t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u & 0x70) >> 4;
  return (u & 0x80) ? (0x84 - t) : (t - 0x84);
}

int decodeALaw(std::uint8_t a) {
  a ^= 0x55;
  int t = (a & 0x0f) << 4;
  const int seg = (a & 0x70) >> 4;
  switch (seg) {
    case 0: t += 8; break;
    case 1: t += 0x108; break;
    default: t += 0x108; t <<= seg - 1;
  }
  return (a & 0x80) ? t : -t;
}

struct SampleFormat {
  int bytes = 2;
  std::string interp;  // SB UB MB AB SS US SL UL
};

std::uint64_t rawBits(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int k = 0; k < bytes; ++k) v |= static_cast<std::uint64_t>(p[k]) << (8 * k);
  return v;
}

double decodeSample(std::uint64_t bits, const SampleFormat& f) {
  const std::string& i = f.interp;
  if (i == "SB") return static_cast<double>(static_cast<std::int8_t>(bits & 0xff));
  if (i == "UB") return static_cast<double>(bits & 0xff);
  if (i == "MB") return decodeMuLaw(static_cast<std::uint8_t>(bits));
  if (i == "AB") return decodeALaw(static_cast<std::uint8_t>(bits));
  if (i == "SS") return static_cast<double>(static_cast<std::int16_t>(bits & 0xffff));
  if (i == "US") return static_cast<double>(bits & 0xffff);
  if (i == "SL") return static_cast<double>(static_cast<std::int32_t>(bits & 0xffffffffu));
  return static_cast<double>(bits & 0xffffffffu);  // UL
}

// Scale from a ChannelSensitivityUnits code to mV, or nullopt if not a voltage.
std::optional<double> voltScaleToMv(const Code& unit) {
  std::string v = unit.value;
  if (v == "uV" || v == "UV" || v == "uv" || v == "\xC2\xB5V" || v == "\xB5V") return 1e-3;
  if (v == "mV" || v == "MV" || v == "mv") return 1.0;
  if (v == "V" || v == "v") return 1e3;
  if (v == "nV" || v == "nv") return 1e-6;
  const std::string m = lower(unit.meaning);
  if (v.empty()) {
    if (m == "microvolt" || m == "microvolts") return 1e-3;
    if (m == "millivolt" || m == "millivolts") return 1.0;
    if (m == "volt" || m == "volts") return 1e3;
  }
  return std::nullopt;
}

// ------------------------------------------------------- annotations ----

enum class MeasureField { None, HeartRate, RR, PR, QRS, QT, QTc, PAxis, QRSAxis, TAxis };

MeasureField fieldFromCode(const std::string& code) {
  static const std::map<std::string, MeasureField> t = {
      // SCPECG codes (as written by e.g. Mortara ELI devices).
      {"5.10.2.1-3", MeasureField::RR},
      {"5.13.5-7", MeasureField::PR},
      {"5.13.5-9", MeasureField::QRS},
      {"5.13.5-11", MeasureField::QT},
      {"5.10.2.5-5", MeasureField::QTc},
      {"5.10.3-11", MeasureField::PAxis},
      {"5.10.3-13", MeasureField::QRSAxis},
      {"5.10.3-15", MeasureField::TAxis},
      // MDC (ISO/IEEE 11073-10102; DICOM CID 3687 and neighbours).
      {"2:15872", MeasureField::PR},
      {"2:16156", MeasureField::QRS},
      {"2:16160", MeasureField::QT},
      {"2:15876", MeasureField::QTc},
      {"2:15880", MeasureField::QTc},
      {"2:15892", MeasureField::QTc},
      {"2:16168", MeasureField::RR},
      {"2:16128", MeasureField::PAxis},
      {"2:16132", MeasureField::QRSAxis},
      {"2:16136", MeasureField::TAxis},
      {"2:16770", MeasureField::HeartRate},
      {"2:16016", MeasureField::HeartRate},
      {"MDC_ECG_TIME_PD_PR", MeasureField::PR},
      {"MDC_ECG_TIME_PD_QRS", MeasureField::QRS},
      {"MDC_ECG_TIME_PD_QT", MeasureField::QT},
      {"MDC_ECG_TIME_PD_QTc", MeasureField::QTc},
      {"MDC_ECG_TIME_PD_RR", MeasureField::RR},
      {"MDC_ECG_ANGLE_P_FRONT", MeasureField::PAxis},
      {"MDC_ECG_ANGLE_QRS_FRONT", MeasureField::QRSAxis},
      {"MDC_ECG_ANGLE_T_FRONT", MeasureField::TAxis},
      {"MDC_ECG_HEART_RATE", MeasureField::HeartRate},
      // LOINC.
      {"8867-4", MeasureField::HeartRate},
      {"8625-6", MeasureField::PR},
      {"8633-0", MeasureField::QRS},
      {"8634-8", MeasureField::QT},
      {"8636-3", MeasureField::QTc},
      {"8626-4", MeasureField::PAxis},
      {"8632-2", MeasureField::QRSAxis},
      {"9997-8", MeasureField::QRSAxis},
      {"8638-9", MeasureField::TAxis}};
  auto it = t.find(code);
  return it == t.end() ? MeasureField::None : it->second;
}

MeasureField fieldFromMeaning(const std::string& meaning) {
  std::string m = lower(meaning);
  m.erase(std::remove_if(m.begin(), m.end(), [](unsigned char c) { return c == '-' || c == '_'; }),
          m.end());
  auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
  if (has("axis")) {
    if (has("qrs") || has("r wave") || has("r axis")) return MeasureField::QRSAxis;
    if (has("p ") || m.rfind("p", 0) == 0) return MeasureField::PAxis;
    if (has("t ") || m.rfind("t", 0) == 0) return MeasureField::TAxis;
    return MeasureField::None;
  }
  if (has("qtc")) return MeasureField::QTc;
  if (has("qt interval") || m == "qt") return MeasureField::QT;
  if (has("qrs dur") || m == "qrs") return MeasureField::QRS;
  if (has("pr interval") || has("pq interval") || m == "pr") return MeasureField::PR;
  if (has("rr interval") || m == "rr") return MeasureField::RR;
  if (has("heart rate") || has("ventricular rate") || has("vent rate") || m == "hr")
    return MeasureField::HeartRate;
  return MeasureField::None;
}

// Converts a measurement to the unit of its EcgMeasurements field (ms, deg, bpm).
double toFieldUnit(MeasureField f, double v, const std::string& unit) {
  const std::string u = lower(unit);
  switch (f) {
    case MeasureField::RR: case MeasureField::PR: case MeasureField::QRS:
    case MeasureField::QT: case MeasureField::QTc:
      if (u == "s" || u == "sec") return v * 1000.0;
      if (u == "us") return v / 1000.0;
      return v;
    case MeasureField::PAxis: case MeasureField::QRSAxis: case MeasureField::TAxis:
      if (u == "rad") return v * 57.29577951308232;
      return v;
    case MeasureField::HeartRate:
      if (u == "/s" || u == "hz" || u == "{h.b.}/s") return v * 60.0;
      return v;
    default:
      return v;
  }
}

std::string qtcFormula(const std::string& code, const std::string& meaning) {
  if (code == "2:15880") return "Bazett";
  if (code == "2:15892") return "Fridericia";
  const std::string m = lower(meaning);
  for (const char* f : {"bazett", "fridericia", "framingham", "hodges"})
    if (m.find(f) != std::string::npos) {
      std::string s = f;
      s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
      return s;
    }
  return {};
}


// ---------------------------------------------------- structure check ----
// DCMTK accepts some truncated files silently (a stream that ends inside an
// undefined-length sequence reads as a complete sequence). This independent walk
// over the element tree of a little-endian file reports where a file is cut short.

class StructureScanner {
 public:
  StructureScanner(const std::vector<std::uint8_t>& b) : b_(b) {}

  // Empty string if the structure is complete, else where the file is cut short.
  std::string scan() {
    try {
      std::size_t pos = 0;
      bool explicitVr = true;
      if (b_.size() >= 132 && std::memcmp(b_.data() + 128, "DICM", 4) == 0) {
        pos = 132;
        // Meta header: explicit VR little endian, group 0002.
        std::string ts;
        while (pos + 4 <= b_.size() && u16(pos) == 0x0002) {
          const std::size_t start = pos;
          pos = element(pos, b_.size(), true);
          if (u16(start + 2) == 0x0010) ts = tsValue(start);
        }
        if (ts == "1.2.840.10008.1.2") explicitVr = false;
        else if (ts == "1.2.840.10008.1.2.1" || ts.rfind("1.2.840.10008.1.2.4", 0) == 0 ||
                 ts.rfind("1.2.840.10008.1.2.5", 0) == 0)
          explicitVr = true;
        else
          return {};  // big endian, deflated or unknown: not checked here
      } else {
        explicitVr = b_.size() >= 6 && std::isupper(b_[4]) && std::isupper(b_[5]);
      }
      elements(pos, b_.size(), explicitVr, false);
      return {};
    } catch (const std::string& why) {
      // Only truncation is reported; other oddities are left to DCMTK's parser.
      return why.rfind("T:", 0) == 0 ? why.substr(2) : std::string();
    }
  }

 private:
  std::uint16_t u16(std::size_t p) const { return static_cast<std::uint16_t>(b_[p] | (b_[p + 1] << 8)); }
  std::uint32_t u32(std::size_t p) const {
    return static_cast<std::uint32_t>(b_[p] | (b_[p + 1] << 8) | (b_[p + 2] << 16)) |
           (static_cast<std::uint32_t>(b_[p + 3]) << 24);
  }
  std::string tag(std::size_t p) const {
    char buf[16];
    std::snprintf(buf, sizeof buf, "(%04x,%04x)", u16(p), u16(p + 2));
    return buf;
  }
  [[noreturn]] void cut(std::size_t p, const std::string& what) const {
    throw "T:" + what + " at byte offset " + std::to_string(p) + " extends beyond the end of the file (" +
        std::to_string(b_.size()) + " bytes)";
  }
  std::string tsValue(std::size_t start) const {
    const std::size_t len = u16(start + 6);
    std::string v(reinterpret_cast<const char*>(b_.data() + start + 8), len);
    return trim(v);
  }
  static bool longVr(const char* vr) {
    static const char* const l[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (const char* x : l)
      if (vr[0] == x[0] && vr[1] == x[1]) return true;
    return false;
  }

  // Elements until `end` (or an item delimiter when `inItem`). Returns the position after.
  std::size_t elements(std::size_t pos, std::size_t end, bool explicitVr, bool inItem) {
    while (pos < end) {
      if (pos + 8 > end) cut(pos, "element header");
      if (u16(pos) == 0xfffe && u16(pos + 2) == 0xe00d) {
        if (!inItem) throw std::string("unexpected item delimiter at byte offset ") + std::to_string(pos);
        return pos + 8;
      }
      pos = element(pos, end, explicitVr);
    }
    if (inItem) cut(pos, "item without delimiter");
    return pos;
  }

  std::size_t element(std::size_t pos, std::size_t end, bool explicitVr) {
    if (pos + 8 > end) cut(pos, "element header");
    const std::string t = tag(pos);
    if (u16(pos) == 0xfffe) throw std::string("unexpected item tag ") + t + " at byte offset " + std::to_string(pos);
    std::uint32_t len;
    std::size_t hdr;
    bool un = false;
    if (explicitVr) {
      const char vr[2] = {static_cast<char>(b_[pos + 4]), static_cast<char>(b_[pos + 5])};
      if (longVr(vr)) {
        if (pos + 12 > end) cut(pos, "element " + t + " header");
        len = u32(pos + 8);
        hdr = 12;
      } else {
        len = u16(pos + 6);
        hdr = 8;
      }
      un = vr[0] == 'U' && vr[1] == 'N';
    } else {
      len = u32(pos + 4);
      hdr = 8;
    }
    pos += hdr;
    if (len == 0xffffffffu) {
      // Undefined length: a sequence (or encapsulated data / UN sequence) of items.
      return items(pos, end, explicitVr && !un, t);
    }
    if (static_cast<std::uint64_t>(pos) + len > end) cut(pos - hdr, "element " + t);
    return pos + len;
  }

  std::size_t items(std::size_t pos, std::size_t end, bool explicitVr, const std::string& seqTag) {
    while (true) {
      if (pos + 8 > end) cut(pos, "sequence " + seqTag + " (no sequence delimiter)");
      if (u16(pos) != 0xfffe) throw std::string("malformed sequence ") + seqTag + " at byte offset " + std::to_string(pos);
      const std::uint16_t e = u16(pos + 2);
      const std::uint32_t len = u32(pos + 4);
      pos += 8;
      if (e == 0xe0dd) return pos;
      if (e != 0xe000) throw std::string("malformed sequence ") + seqTag + " at byte offset " + std::to_string(pos - 8);
      if (len == 0xffffffffu) {
        pos = elements(pos, end, explicitVr, true);
      } else {
        if (static_cast<std::uint64_t>(pos) + len > end) cut(pos - 8, "item of " + seqTag);
        pos += len;
      }
    }
  }

  const std::vector<std::uint8_t>& b_;
};

// ------------------------------------------------------------- groups ----

struct GroupResult {
  EcgGroup group;
  int originalIndex = 0;
  std::vector<int> channelMap;  // original channel index -> kept index, or -1
};

class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}

  EcgRecord read();

 private:
  [[noreturn]] void fail(const std::string& cause) const { throw ReadError(path_, cause); }
  void warn(const std::string& w) { rec_.warnings.push_back(w); }

  void checkFile();
  void load();
  void readIdentity();
  std::optional<GroupResult> readGroup(DcmItem& item, int index);
  void readAnnotations();

  std::string path_;
  DcmFileFormat ff_;
  DcmDataset* ds_ = nullptr;
  EcgRecord rec_;
  bool ecgSop_ = false;
  std::vector<std::string> skipped_;
  std::map<int, int> groupMap_;                     // original group -> record group
  std::map<int, std::vector<int>> channelMaps_;     // original group -> channel map
};

void Reader::checkFile() {
  std::error_code ec;
  if (!std::filesystem::exists(path_, ec)) fail("file does not exist");
  if (std::filesystem::is_directory(path_, ec)) fail("is a directory, not a DICOM file");
  const std::uintmax_t size = std::filesystem::file_size(path_, ec);
  if (ec) fail("cannot determine file size: " + ec.message());
  if (size == 0) fail("file is empty");
  if (size > kMaxFileBytes) fail("file too large for a DICOM waveform object (" + std::to_string(size) + " bytes)");
  std::ifstream in(path_, std::ios::binary);
  if (!in) fail("cannot open file for reading");
  unsigned char head[132] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const std::streamsize got = in.gcount();
  const bool part10 = got >= 132 && std::memcmp(head + 128, "DICM", 4) == 0;
  if (!part10) {
    // A bare dataset (no preamble) must at least start with a plausible group number.
    const unsigned group = got >= 2 ? (head[0] | (head[1] << 8)) : 0xffff;
    const unsigned groupBE = got >= 2 ? ((head[0] << 8) | head[1]) : 0xffff;
    const bool plausible = got >= 8 && (group == 0x0002 || group == 0x0008 || groupBE == 0x0002 ||
                                        groupBE == 0x0008);
    if (!plausible) fail("not a DICOM file (no 'DICM' signature at offset 128 and no DICOM dataset start)");
  }
}

void Reader::load() {
  {
    std::ifstream in(path_, std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string why = StructureScanner(bytes).scan();
    if (!why.empty()) fail("truncated or corrupt DICOM file: " + why);
  }
  // Large values are read lazily by loadFile (DCM_MaxReadLength); loadAllDataIntoMemory()
  // then reads them all (the file size was bounded above), so that a truncated value is
  // reported now rather than on first access.
  OFCondition c = ff_.loadFile(path_.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                               ERM_autoDetect);
  if (c.bad()) {
    std::string t = c.text();
    if (c == EC_StreamNotifyClient || c == EC_ItemEnd || t.find("end of") != std::string::npos ||
        t.find("Premature") != std::string::npos)
      fail(std::string("truncated or corrupt DICOM file: ") + t);
    fail(std::string("cannot parse DICOM file: ") + t);
  }
  c = ff_.loadAllDataIntoMemory();
  if (c.bad()) fail(std::string("truncated or corrupt DICOM file (cannot load values): ") + c.text());
  ds_ = ff_.getDataset();
  if (!ds_) fail("DICOM file has no dataset");
}

void Reader::readIdentity() {
  Identity& id = rec_.identity;
  id.patientId = getString(*ds_, DCM_PatientID);
  id.patientName = getString(*ds_, DCM_PatientName);
  id.birthDate = getString(*ds_, DCM_PatientBirthDate);
  id.sex = getString(*ds_, DCM_PatientSex);
  id.age = getString(*ds_, DCM_PatientAge);
  id.studyUid = getString(*ds_, DCM_StudyInstanceUID);
  id.studyDate = getString(*ds_, DCM_StudyDate);
  id.studyTime = getString(*ds_, DCM_StudyTime);
  id.studyDescription = getString(*ds_, DCM_StudyDescription);
  id.accessionNumber = getString(*ds_, DCM_AccessionNumber);
  id.seriesUid = getString(*ds_, DCM_SeriesInstanceUID);
  id.seriesDescription = getString(*ds_, DCM_SeriesDescription);
  if (auto n = getInteger(*ds_, DCM_SeriesNumber)) id.seriesNumber = static_cast<int>(*n);
  id.modality = getString(*ds_, DCM_Modality);
  id.sopClassUid = getString(*ds_, DCM_SOPClassUID);
  if (id.sopClassUid.empty()) {
    OFString ms;
    if (ff_.getMetaInfo() && ff_.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, ms).good())
      id.sopClassUid = trim(ms.c_str());
  }
  id.sopInstanceUid = getString(*ds_, DCM_SOPInstanceUID);
  id.manufacturer = getString(*ds_, DCM_Manufacturer);
  id.modelName = getString(*ds_, DCM_ManufacturerModelName);

  auto extra = [&](const char* key, const DcmTagKey& tag) {
    std::string v = getString(*ds_, tag);
    if (!v.empty()) rec_.extra[key] = v;
  };
  extra("institutionName", DCM_InstitutionName);
  extra("stationName", DCM_StationName);
  extra("softwareVersions", DCM_SoftwareVersions);
  extra("deviceSerialNumber", DCM_DeviceSerialNumber);
  extra("acquisitionDateTime", DCM_AcquisitionDateTime);
  extra("contentDate", DCM_ContentDate);
  extra("contentTime", DCM_ContentTime);
  extra("referringPhysicianName", DCM_ReferringPhysicianName);
  extra("patientSize", DCM_PatientSize);
  extra("patientWeight", DCM_PatientWeight);

  // Acquisition context (electrode placement, procedure phase, ...).
  DcmSequenceOfItems* ctx = nullptr;
  if (ds_->findAndGetSequence(DCM_AcquisitionContextSequence, ctx).good() && ctx) {
    for (unsigned long i = 0; i < ctx->card(); ++i) {
      DcmItem* it = ctx->getItem(i);
      if (!it) continue;
      Code name = getCode(*it, DCM_ConceptNameCodeSequence);
      Code value = getCode(*it, DCM_ConceptCodeSequence);
      std::string text = value.meaning;
      if (text.empty()) text = getString(*it, DCM_TextValue);
      if (text.empty()) {
        if (auto v = getDouble(*it, DCM_NumericValue)) text = fmt(*v);
      }
      if (!name.meaning.empty() && !text.empty()) rec_.extra["context." + name.meaning] = text;
    }
  }
}

std::optional<GroupResult> Reader::readGroup(DcmItem& item, int gi) {
  const std::string where = "WaveformSequence item " + std::to_string(gi + 1);
  GroupResult res;
  res.originalIndex = gi;
  EcgGroup& g = res.group;

  auto nch = getInteger(item, DCM_NumberOfWaveformChannels);
  auto ns = getInteger(item, DCM_NumberOfWaveformSamples);
  auto fs = getDouble(item, DCM_SamplingFrequency);
  if (!nch || *nch <= 0) fail(where + ": missing or invalid NumberOfWaveformChannels");
  if (!ns || *ns <= 0) fail(where + ": missing or invalid NumberOfWaveformSamples");
  if (!fs || !(*fs > 0.0)) fail(where + ": missing or invalid SamplingFrequency");
  g.samplingHz = *fs;
  g.numSamples = static_cast<std::size_t>(*ns);
  g.originality = getString(item, DCM_WaveformOriginality);

  auto bitsAlloc = getInteger(item, DCM_WaveformBitsAllocated);
  if (!bitsAlloc) fail(where + ": missing WaveformBitsAllocated");
  SampleFormat sf;
  sf.interp = upper(getString(item, DCM_WaveformSampleInterpretation));
  if (*bitsAlloc != 8 && *bitsAlloc != 16 && *bitsAlloc != 32)
    fail(where + ": unsupported WaveformBitsAllocated " + std::to_string(*bitsAlloc) + " (8, 16 or 32 expected)");
  sf.bytes = static_cast<int>(*bitsAlloc / 8);
  if (sf.interp.empty()) {
    sf.interp = sf.bytes == 1 ? "SB" : sf.bytes == 2 ? "SS" : "SL";
    warn(where + ": WaveformSampleInterpretation missing, assuming " + sf.interp);
  }
  {
    const std::string& i = sf.interp;
    int need = (i == "SB" || i == "UB" || i == "MB" || i == "AB") ? 1
               : (i == "SS" || i == "US")                         ? 2
               : (i == "SL" || i == "UL")                         ? 4
                                                                  : 0;
    if (need == 0) fail(where + ": unsupported WaveformSampleInterpretation '" + i + "'");
    if (need != sf.bytes)
      fail(where + ": WaveformSampleInterpretation " + i + " does not match WaveformBitsAllocated " +
           std::to_string(*bitsAlloc));
  }

  DcmSequenceOfItems* chSeq = nullptr;
  if (item.findAndGetSequence(DCM_ChannelDefinitionSequence, chSeq).bad() || !chSeq || chSeq->card() == 0)
    fail(where + ": missing ChannelDefinitionSequence");
  if (static_cast<long>(chSeq->card()) != *nch)
    fail(where + ": ChannelDefinitionSequence has " + std::to_string(chSeq->card()) +
         " items but NumberOfWaveformChannels is " + std::to_string(*nch));

  // Waveform data and its length.
  DcmElement* dataEl = nullptr;
  if (item.findAndGetElement(DCM_WaveformData, dataEl, OFFalse).bad() || !dataEl)
    fail(where + ": missing WaveformData");
  std::vector<std::uint8_t> bytes;
  std::string why;
  if (!elementBytes(dataEl, bytes, why)) fail(where + ": cannot read WaveformData: " + why);
  const std::uint64_t expected = static_cast<std::uint64_t>(*nch) * static_cast<std::uint64_t>(*ns) *
                                 static_cast<std::uint64_t>(sf.bytes);
  if (bytes.size() != expected && !(bytes.size() == expected + 1 && expected % 2 == 1))
    fail(where + ": inconsistent WaveformData length: " + std::to_string(bytes.size()) + " bytes, expected " +
         std::to_string(expected) + " (" + std::to_string(*nch) + " channels x " + std::to_string(*ns) +
         " samples x " + std::to_string(sf.bytes) + " bytes)");

  std::optional<std::uint64_t> padding;
  {
    DcmElement* padEl = nullptr;
    std::vector<std::uint8_t> pb;
    std::string pwhy;
    if (item.findAndGetElement(DCM_WaveformPaddingValue, padEl, OFFalse).good() && padEl &&
        elementBytes(padEl, pb, pwhy) && pb.size() >= static_cast<std::size_t>(sf.bytes))
      padding = rawBits(pb.data(), sf.bytes);
  }

  g.label = getString(item, DCM_MultiplexGroupLabel);
  if (g.label.empty()) {
    const bool shortDerived = upper(g.originality) == "DERIVED" && g.numSamples / g.samplingHz <= 2.5;
    g.label = shortDerived ? "MEDIAN" : "RHYTHM";
  }

  res.channelMap.assign(static_cast<std::size_t>(*nch), -1);
  std::size_t padded = 0;
  for (long c = 0; c < *nch; ++c) {
    DcmItem* ci = chSeq->getItem(static_cast<unsigned long>(c));
    if (!ci) fail(where + ": unreadable ChannelDefinitionSequence item " + std::to_string(c + 1));
    const std::string cwhere = where + " channel " + std::to_string(c + 1);
    EcgChannel ch;
    Code src = getCode(*ci, DCM_ChannelSourceSequence);
    ch.codeValue = src.value;
    ch.codingScheme = src.scheme;
    ch.codeMeaning = src.meaning;
    const std::string channelLabel = getString(*ci, DCM_ChannelLabel);

    std::string lead = ecgLeadFromCode(src.value, src.scheme);
    if (lead.empty()) {
      std::string from;
      lead = leadFromText(src.meaning);
      if (!lead.empty()) {
        from = "code meaning '" + src.meaning + "'";
      } else {
        lead = leadFromText(channelLabel);
        if (!lead.empty()) from = "ChannelLabel '" + channelLabel + "'";
      }
      const std::string codeDesc = src.value.empty() ? std::string("no source code")
                                                     : "unknown source code '" + src.value + "'" +
                                                           (src.scheme.empty() ? "" : " (" + src.scheme + ")");
      if (!lead.empty()) {
        warn(cwhere + ": " + codeDesc + ", lead " + lead + " taken from " + from);
      } else if (ecgSop_) {
        lead = !channelLabel.empty() ? channelLabel
               : !src.meaning.empty() ? src.meaning
                                      : "Channel " + std::to_string(c + 1);
        warn(cwhere + ": " + codeDesc + ", not recognised as an ECG lead; kept as '" + lead + "'");
      } else {
        std::string name = !src.meaning.empty() ? src.meaning : !channelLabel.empty() ? channelLabel : src.value;
        skipped_.push_back(name.empty() ? "group " + std::to_string(gi + 1) + " channel " + std::to_string(c + 1)
                                        : name);
        continue;
      }
    }
    ch.label = lead;

    // Calibration.
    auto sens = getDouble(*ci, DCM_ChannelSensitivity);
    auto corr = getDouble(*ci, DCM_ChannelSensitivityCorrectionFactor);
    auto base = getDouble(*ci, DCM_ChannelBaseline);
    ch.sensitivity = sens.value_or(1.0);
    ch.correction = corr.value_or(1.0);
    ch.baseline = base.value_or(0.0);
    if (sens && *sens == 0.0) {
      warn(cwhere + ": ChannelSensitivity is 0, using 1");
      ch.sensitivity = 1.0;
    }
    double scale = 1.0;
    if (!sens) {
      ch.unit = "raw";
      warn(cwhere + ": no ChannelSensitivity, samples left in raw counts");
    } else {
      Code unit = getCode(*ci, DCM_ChannelSensitivityUnitsSequence);
      if (auto s = voltScaleToMv(unit)) {
        scale = *s;
        ch.unit = "mV";
      } else {
        ch.unit = !unit.value.empty() ? unit.value : unit.meaning;
        warn(cwhere + ": sensitivity unit '" + (ch.unit.empty() ? std::string("(none)") : ch.unit) +
             "' is not a voltage; samples kept in that unit");
      }
    }
    if (auto v = getDouble(*ci, DCM_FilterLowFrequency)) ch.lowFreqHz = *v;
    if (auto v = getDouble(*ci, DCM_FilterHighFrequency)) ch.highFreqHz = *v;
    if (auto v = getDouble(*ci, DCM_NotchFilterFrequency)) ch.notchHz = *v;

    // De-multiplex and convert.
    const double mul = ch.sensitivity * ch.correction * scale;
    const double add = ch.baseline * scale;
    ch.samples.resize(g.numSamples);
    const std::size_t stride = static_cast<std::size_t>(*nch) * sf.bytes;
    const std::uint8_t* p = bytes.data() + static_cast<std::size_t>(c) * sf.bytes;
    for (std::size_t i = 0; i < g.numSamples; ++i, p += stride) {
      const std::uint64_t bits = rawBits(p, sf.bytes);
      if (padding && bits == *padding) {
        ch.samples[i] = 0.0f;
        ++padded;
        continue;
      }
      ch.samples[i] = static_cast<float>(decodeSample(bits, sf) * mul + add);
    }
    res.channelMap[static_cast<std::size_t>(c)] = static_cast<int>(g.channels.size());
    g.channels.push_back(std::move(ch));
  }
  if (padded) warn(where + ": " + std::to_string(padded) + " padding samples (no data) set to 0");
  if (g.channels.empty()) return std::nullopt;
  return res;
}

void Reader::readAnnotations() {
  DcmSequenceOfItems* seq = nullptr;
  if (ds_->findAndGetSequence(DCM_WaveformAnnotationSequence, seq).bad() || !seq) return;
  EcgMeasurements& m = rec_.measurements;
  double qtcPriority = -1;  // prefer a generic QTc over formula-specific ones only if no generic one
  for (unsigned long i = 0; i < seq->card(); ++i) {
    DcmItem* it = seq->getItem(i);
    if (!it) continue;
    EcgAnnotation a;
    Code name = getCode(*it, DCM_ConceptNameCodeSequence);
    a.conceptCode = name.value;
    a.conceptScheme = name.scheme;
    a.conceptMeaning = name.meaning;
    a.text = getString(*it, DCM_UnformattedTextValue);

    // ReferencedWaveformChannels: pairs (group, channel), 1-based, channel 0 = all.
    {
      Uint16 grp = 0, chan = 0;
      if (it->findAndGetUint16(DCM_ReferencedWaveformChannels, grp, 0).good() && grp > 0) {
        auto gm = groupMap_.find(static_cast<int>(grp) - 1);
        if (gm != groupMap_.end()) {
          a.groupIndex = gm->second;
          if (it->findAndGetUint16(DCM_ReferencedWaveformChannels, chan, 1).good() && chan > 0) {
            const auto& cm = channelMaps_[static_cast<int>(grp) - 1];
            if (chan <= cm.size()) a.channelIndex = cm[chan - 1];
          }
        }
      }
    }
    // Fiducial positions.
    {
      DcmElement* el = nullptr;
      if (it->findAndGetElement(DCM_ReferencedSamplePositions, el).good() && el) {
        for (unsigned long k = 0; k < el->getVM(); ++k) {
          Uint32 v = 0;
          if (el->getUint32(v, k).good()) a.samplePositions.push_back(v);
        }
      }
      el = nullptr;
      if (it->findAndGetElement(DCM_ReferencedTimeOffsets, el).good() && el) {
        for (unsigned long k = 0; k < el->getVM(); ++k) {
          Float64 v = 0;
          if (el->getFloat64(v, k).good()) a.timeOffsetsMs.push_back(v * 1000.0);  // DS seconds
        }
      }
    }
    auto numeric = getDouble(*it, DCM_NumericValue);
    if (numeric) {
      a.kind = EcgAnnotation::Kind::Measurement;
      a.value = *numeric;
      Code unit = getCode(*it, DCM_MeasurementUnitsCodeSequence);
      a.unit = unit.value;
      MeasureField f = fieldFromCode(a.conceptCode);
      if (f == MeasureField::None) f = fieldFromMeaning(a.conceptMeaning);
      const double v = toFieldUnit(f, a.value, a.unit);
      switch (f) {
        case MeasureField::HeartRate: m.heartRateBpm = v; break;
        case MeasureField::RR: m.rrMs = v; break;
        case MeasureField::PR: m.prMs = v; break;
        case MeasureField::QRS: m.qrsMs = v; break;
        case MeasureField::QT: m.qtMs = v; break;
        case MeasureField::QTc: {
          std::string formula = qtcFormula(a.conceptCode, a.conceptMeaning);
          const double prio = formula.empty() ? 1 : 0;
          if (prio >= qtcPriority) {
            m.qtcMs = v;
            m.qtcFormula = formula;
            qtcPriority = prio;
          }
          break;
        }
        case MeasureField::PAxis: m.pAxisDeg = v; break;
        case MeasureField::QRSAxis: m.qrsAxisDeg = v; break;
        case MeasureField::TAxis: m.tAxisDeg = v; break;
        default: break;
      }
    } else if (!a.samplePositions.empty() || !a.timeOffsetsMs.empty()) {
      a.kind = EcgAnnotation::Kind::Fiducial;
    } else {
      a.kind = EcgAnnotation::Kind::Statement;
      if (a.text.empty()) {
        Code value = getCode(*it, DCM_ConceptCodeSequence);
        a.text = !value.meaning.empty() ? value.meaning : name.meaning;
      }
      if (a.text.empty()) continue;  // empty item
      rec_.statements.push_back(a.text);
    }
    rec_.annotations.push_back(std::move(a));
  }
  if (std::isnan(m.heartRateBpm) && m.rrMs > 0) {
    m.heartRateBpm = 60000.0 / m.rrMs;
    rec_.extra["heartRateSource"] = "RR";
  }
}

EcgRecord Reader::read() {
  checkFile();
  load();
  rec_.format = SourceFormat::DicomEcg;
  rec_.sourcePath = path_;

  // Text in UTF-8 (statements are often in the local language).
  {
    std::string cs = getString(*ds_, DCM_SpecificCharacterSet);
    if (!cs.empty() && cs != "ISO_IR 192" && cs != "ISO_IR 6") {
      OFCondition c = ff_.convertToUTF8();
      if (c.bad()) warn(std::string("could not convert text from ") + cs + " to UTF-8: " + c.text());
    }
  }

  readIdentity();
  const std::string& sop = rec_.identity.sopClassUid;
  ecgSop_ = isEcgSopClass(sop);

  DcmSequenceOfItems* wf = nullptr;
  if (ds_->findAndGetSequence(DCM_WaveformSequence, wf).bad() || !wf || wf->card() == 0) {
    if (!sop.empty() && !isWaveformSopClass(sop))
      fail("not a waveform object: SOP class " + sop + " has no WaveformSequence");
    fail("missing WaveformSequence (5400,0100)");
  }
  if (!sop.empty() && !isWaveformSopClass(sop))
    warn("SOP class " + sop + " is not a waveform SOP class; reading its WaveformSequence anyway");
  if (sop.empty()) warn("no SOPClassUID");

  std::vector<GroupResult> groups;
  for (unsigned long i = 0; i < wf->card(); ++i) {
    DcmItem* item = wf->getItem(i);
    if (!item) fail("unreadable WaveformSequence item " + std::to_string(i + 1));
    if (auto g = readGroup(*item, static_cast<int>(i))) groups.push_back(std::move(*g));
  }
  if (groups.empty())
    fail("no ECG lead found in any of the " + std::to_string(wf->card()) +
         " waveform multiplex group(s) (SOP class " + (sop.empty() ? std::string("unknown") : sop) + ")");

  std::stable_partition(groups.begin(), groups.end(), [](const GroupResult& g) { return !g.group.isMedian(); });
  for (std::size_t k = 0; k < groups.size(); ++k) {
    groupMap_[groups[k].originalIndex] = static_cast<int>(k);
    channelMaps_[groups[k].originalIndex] = groups[k].channelMap;
    rec_.groups.push_back(std::move(groups[k].group));
  }
  if (!skipped_.empty()) {
    std::string s;
    for (const auto& n : skipped_) s += (s.empty() ? "" : ", ") + n;
    rec_.extra["skippedChannels"] = s;
  }
  readAnnotations();
  return std::move(rec_);
}

}  // namespace

bool isWaveformSopClass(const std::string& sopClassUid) {
  return sopClassUid.rfind(kWaveformPrefix, 0) == 0 && sopClassUid.size() > std::strlen(kWaveformPrefix);
}

bool isEcgSopClass(const std::string& uid) {
  return uid == "1.2.840.10008.5.1.4.1.1.9.1.1" || uid == "1.2.840.10008.5.1.4.1.1.9.1.2" ||
         uid == "1.2.840.10008.5.1.4.1.1.9.1.3" || uid == "1.2.840.10008.5.1.4.1.1.9.100.1";
}

std::string ecgLeadFromCode(const std::string& codeValue, const std::string& codingScheme) {
  const std::string v = trim(codeValue);
  if (v.empty()) return {};
  const std::string scheme = upper(trim(codingScheme));
  if (v.rfind("2:", 0) == 0 && (scheme.empty() || scheme == "MDC")) return leadFromNumber(v.substr(2));
  if (v.rfind("5.6.3-9-", 0) == 0 && (scheme.empty() || scheme == "SCPECG"))
    return leadFromNumber(v.substr(8));
  if (allDigits(v) && (scheme.empty() || scheme == "MDC") && v.size() <= 9) {
    const long n = std::stol(v);
    if (n > 131328 && n < 131328 + 256) return leadFromNumber(std::to_string(n - 131328));
    return {};
  }
  const std::string u = upper(v);
  if (u.rfind("MDC_ECG_LEAD_", 0) == 0) {
    std::string rest = u.substr(13);
    if (rest == "AVR_NEG" || rest == "-AVR") return "-aVR";
    std::string name = canonicalLeadName(rest);
    for (const auto& kv : leadNumberTable())
      if (upper(kv.second) == rest) return kv.second;
    return name;
  }
  return {};
}

EcgRecord readDicomEcg(const std::string& path) {
  try {
    Reader r(path);
    return r.read();
  } catch (const ReadError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw ReadError(path, "out of memory while reading the waveform");
  } catch (const std::exception& e) {
    throw ReadError(path, std::string("unexpected error: ") + e.what());
  }
}

}  // namespace e2e
