// SCP-ECG section 1 (header tags), text decoding and the lead code table.
#include <cstdio>
#include <string>

#include "io/vendor/scp_internal.h"

namespace e2e::scp {
namespace {

std::string twoDigits(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

// Tag 25/5 date (year u16, month, day) as YYYYMMDD, or "" when absent or impossible.
std::string date(const std::uint8_t* p, std::size_t n) {
  if (n < 4) return "";
  const int y = p[0] | (p[1] << 8), m = p[2], d = p[3];
  if (y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31) return "";
  return std::to_string(y) + twoDigits(m) + twoDigits(d);
}

std::string time(const std::uint8_t* p, std::size_t n) {
  if (n < 3 || p[0] > 23 || p[1] > 59 || p[2] > 60) return "";
  return twoDigits(p[0]) + twoDigits(p[1]) + twoDigits(p[2]);
}

const char* manufacturerName(int code) {
  static const char* names[] = {"",          "Burdick",     "Cambridge Heart", "Compumed",   "Datamed",
                                "Fukuda",    "Hewlett-Packard", "Marquette", "Mortara",    "Nihon Kohden",
                                "Okin",      "Quinton",     "Siemens",         "Spacelabs",  "Telemed",
                                "Hellige",   "ESA-OTE",     "Schiller",        "Picker-Schwarzer",
                                "Elettronic-Trentina", "Zwonitz"};
  return code >= 0 && code <= 20 ? names[code] : "";
}

// NUL-terminated strings following each other in [p, p+n).
std::vector<std::string> cStrings(const std::uint8_t* p, std::size_t n) {
  std::vector<std::string> out;
  std::size_t k = 0;
  while (k < n) {
    std::size_t e = k;
    while (e < n && p[e] != 0) ++e;
    out.push_back(text(p + k, e - k));
    k = e + 1;
  }
  return out;
}

bool meaningful(const std::string& s) { return !s.empty() && s != "unknown" && s != "Unknown"; }

// Tag 14 (acquiring device): ids, manufacturer code, model, then APRN, serial number,
// system software, SCP implementation software and manufacturer trade name strings.
void deviceTag(const std::uint8_t* p, std::size_t n, EcgRecord& rec) {
  if (n < 36) {
    rec.warnings.push_back("section 1: acquiring device tag too short (" + std::to_string(n) + " bytes)");
    return;
  }
  Identity& id = rec.identity;
  rec.extra["deviceInstitution"] = std::to_string(p[0] | (p[1] << 8));
  rec.extra["deviceDepartment"] = std::to_string(p[2] | (p[3] << 8));
  rec.extra["deviceId"] = std::to_string(p[4] | (p[5] << 8));
  const std::string model = text(p + 8, 6);
  if (meaningful(model)) id.modelName = model;
  rec.extra["deviceProtocolRevision"] = std::to_string(p[14]);
  if (p[18] == 1) rec.extra["mainsFrequencyHz"] = "50";
  if (p[18] == 2) rec.extra["mainsFrequencyHz"] = "60";
  std::size_t k = 35;
  const std::size_t aprnLen = p[k++];
  std::vector<std::string> strs;
  if (k + aprnLen <= n) {
    rec.extra["deviceAnalysisProgram"] = text(p + k, aprnLen);
    strs = cStrings(p + k + aprnLen, n - k - aprnLen);
  }
  static const char* keys[] = {"deviceSerialNumber", "deviceSoftware", "deviceScpSoftware", "deviceTradeName"};
  for (std::size_t i = 0; i < strs.size() && i < 4; ++i)
    if (meaningful(strs[i])) rec.extra[keys[i]] = strs[i];
  // Manufacturer: the code table, else the trade name unless it merely repeats the SCP
  // implementation software (a converter such as ECGConversion naming itself).
  std::string manufacturer = manufacturerName(p[7]);
  if (manufacturer.empty() && strs.size() >= 4 && meaningful(strs[3]) && strs[3] != strs[2]) manufacturer = strs[3];
  id.manufacturer = manufacturer;
  if (!meaningful(rec.extra["deviceAnalysisProgram"])) rec.extra.erase("deviceAnalysisProgram");
}

void valueWithUnit(const std::uint8_t* p, std::size_t n, const char* key, const char* const* units, int nUnits,
                   EcgRecord& rec) {
  if (n < 3) return;
  const int v = p[0] | (p[1] << 8), u = p[2];
  if (v == 0) return;
  rec.extra[key] = std::to_string(v) + (u > 0 && u < nUnits ? std::string(" ") + units[u] : std::string());
}

void ageTag(const std::uint8_t* p, std::size_t n, EcgRecord& rec) {
  if (n < 3) return;
  const int v = p[0] | (p[1] << 8), u = p[2];
  static const char as[] = {'Y', 'Y', 'M', 'W', 'D'};
  if (v <= 0 || v > 999 || u > 4) return;
  char b[8];
  std::snprintf(b, sizeof b, "%03d%c", v, as[u]);
  rec.identity.age = b;
}

void sexTag(int v, EcgRecord& rec) {
  rec.identity.sex = v == 1 ? "M" : v == 2 ? "F" : v == 9 ? "O" : "";
}

void filterTags(int tag, const std::uint8_t* p, std::size_t n, HeaderInfo& h) {
  if (tag == 27 && n >= 2) {
    const int v = p[0] | (p[1] << 8);  // 0.01 Hz units
    if (v > 0) h.highPassHz = v / 100.0;
  } else if (tag == 28 && n >= 2) {
    const int v = p[0] | (p[1] << 8);  // Hz
    if (v > 0) h.lowPassHz = v;
  } else if (tag == 29 && n >= 1) {
    if (p[0] & 0x01) h.notchHz = 60;
    if (p[0] & 0x02) h.notchHz = 50;
  }
}

// Free-text tags stored in rec.extra under these names.
const char* textTagKey(int tag) {
  switch (tag) {
    case 3: return "secondLastName";
    case 13: return "referralIndication";
    case 16: return "acquiringInstitution";
    case 17: return "analysingInstitution";
    case 18: return "acquiringDepartment";
    case 19: return "analysingDepartment";
    case 20: return "referringPhysician";
    case 21: return "confirmingPhysician";
    case 22: return "technician";
    case 23: return "room";
    case 30: return "freeText";
    case 31: return "ecgSequenceNumber";
    case 35: return "medicalHistory";
    default: return nullptr;
  }
}

void applyTag(int tag, const std::uint8_t* p, std::size_t n, EcgRecord& rec, HeaderInfo& h,
              std::string& last, std::string& first) {
  Identity& id = rec.identity;
  static const char* heightUnits[] = {"", "cm", "inch", "mm"};
  static const char* weightUnits[] = {"", "kg", "g", "lb", "oz"};
  switch (tag) {
    case 0: last = text(p, n); break;
    case 1: first = text(p, n); break;
    case 2: id.patientId = text(p, n); break;
    case 4: ageTag(p, n, rec); break;
    case 5: id.birthDate = date(p, n); break;
    case 6: valueWithUnit(p, n, "height", heightUnits, 4, rec); break;
    case 7: valueWithUnit(p, n, "weight", weightUnits, 5, rec); break;
    case 8: if (n >= 1) sexTag(p[0], rec); break;
    case 11: if (n >= 2 && (p[0] | p[1])) rec.extra["systolicBp"] = std::to_string(p[0] | (p[1] << 8)); break;
    case 12: if (n >= 2 && (p[0] | p[1])) rec.extra["diastolicBp"] = std::to_string(p[0] | (p[1] << 8)); break;
    case 14: deviceTag(p, n, rec); break;
    case 25: id.studyDate = date(p, n); break;
    case 26: id.studyTime = time(p, n); break;
    default:
      filterTags(tag, p, n, h);
      if (const char* key = textTagKey(tag)) {
        const std::string v = text(p, n);
        if (!v.empty()) rec.extra[key] = v;
      }
  }
}

}  // namespace

std::string text(const std::uint8_t* p, std::size_t n) {
  while (n > 0 && (p[n - 1] == 0 || p[n - 1] == ' ')) --n;
  std::size_t nul = 0;
  while (nul < n && p[nul] != 0) ++nul;
  n = nul;
  // Valid UTF-8 with multi-byte sequences stays; anything else is read as Latin-1.
  bool utf8 = true, multi = false;
  for (std::size_t i = 0; i < n && utf8;) {
    const unsigned c = p[i];
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) utf8 = false;
    for (std::size_t k = 1; utf8 && k < len; ++k) utf8 = (p[i + k] & 0xC0) == 0x80;
    multi = multi || len > 1;
    i += len ? len : 1;
  }
  if (utf8) return std::string(reinterpret_cast<const char*>(p), n);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned c = p[i];
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

HeaderInfo parseSection1(const Section& s, EcgRecord& rec) {
  Cursor c = s.cursor("section 1 (header)");
  HeaderInfo h;
  std::string last, first;
  while (c.left() >= 3) {
    const int tag = c.u8();
    const std::size_t len = c.u16();
    if (tag == 255) break;
    if (!c.has(len)) {
      rec.warnings.push_back("section 1: tag " + std::to_string(tag) + " runs past the section; header tags after it ignored");
      break;
    }
    const std::uint8_t* p = c.take(len);
    applyTag(tag, p, len, rec, h, last, first);
  }
  std::string pn = last;
  if (!first.empty()) pn += "^" + first;
  rec.identity.patientName = pn;
  return h;
}

std::string leadName(int code, bool* derived) {
  // SCP-ECG lead codes 0-184 (EN 1064 table 14 and its 2.x/3.0 extensions); "d" = derived lead.
  static const char* names[] = {
      "unspecified", "I", "II", "V1", "V2", "V3", "V4", "V5", "V6", "V7", "V2R", "V3R", "V4R", "V5R", "V6R", "V7R",
      "X", "Y", "Z", "CC5", "CM5", "LA", "RA", "LL", "fI", "fE", "fC", "fA", "fM", "fF", "fH", "dI", "dII", "dV1",
      "dV2", "dV3", "dV4", "dV5", "dV6", "dV7", "dV2R", "dV3R", "dV4R", "dV5R", "dV6R", "dV7R", "dX", "dY", "dZ",
      "dCC5", "dCM5", "dLA", "dRA", "dLL", "dfI", "dfE", "dfC", "dfA", "dfM", "dfF", "dfH", "III", "aVR", "aVL",
      "aVF", "-aVR", "V8", "V9", "V8R", "V9R", "D", "A", "J", "Defib", "Extern", "A1", "A2", "A3", "A4", "dV8",
      "dV9", "dV8R", "dV9R", "dD", "dA", "dJ", "Chest", "V", "VR", "VL", "VF", "MCL", "MCL1", "MCL2", "MCL3",
      "MCL4", "MCL5", "MCL6", "CC", "CC1", "CC2", "CC3", "CC4", "CC6", "CC7", "CM", "CM1", "CM2", "CM3", "CM4",
      "CM6", "dIII", "daVR", "daVL", "daVF", "d-aVR", "dChest", "dV", "dVR", "dVL", "dVF", "CM7", "CH5", "CS5",
      "CB5", "CR5", "ML", "AB1", "AB2", "AB3", "AB4", "ES", "AS", "AI", "S", "dDefib", "dExtern", "dA1", "dA2",
      "dA3", "dA4", "dMCL1", "dMCL2", "dMCL3", "dMCL4", "dMCL5", "dMCL6", "RL", "CV5RL", "CV6LL", "CV6LU", "V10",
      "dMCL", "dCC", "dCC1", "dCC2", "dCC3", "dCC4", "dCC6", "dCC7", "dCM", "dCM1", "dCM2", "dCM3", "dCM4", "dCM6",
      "dCM7", "dCH5", "dCS5", "dCB5", "dCR5", "dML", "dAB1", "dAB2", "dAB3", "dAB4", "dES", "dAS", "dAI", "dS",
      "dRL", "dCV5RL", "dCV6LL", "dCV6LU", "dV10"};
  constexpr int kCount = static_cast<int>(sizeof(names) / sizeof(names[0]));
  if (derived) *derived = false;
  if (code < 0 || code >= kCount) return "lead code " + std::to_string(code);
  std::string name = names[code];
  // Derived versions of the 12 standard leads are still those leads.
  if (name.size() > 1 && name[0] == 'd') {
    const std::string base = name.substr(1);
    if (base == "I" || base == "II" || base == "III" || base == "aVR" || base == "aVL" || base == "aVF" ||
        (base.size() == 2 && base[0] == 'V' && base[1] >= '1' && base[1] <= '6')) {
      if (derived) *derived = true;
      return base;
    }
  }
  return name;
}

}  // namespace e2e::scp
