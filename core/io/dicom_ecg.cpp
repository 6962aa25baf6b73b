// DICOM waveform ECG reader: file checks, loading, identity and the public entry points.
// Waveform decoding is in dicom_ecg_waveform.cpp, annotations in dicom_ecg_annotations.cpp.
// See dicom_ecg.h.
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

#include "io/dicom_ecg_internal.h"

namespace e2e {

namespace dicom_ecg_detail {

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

std::string getString(DcmItem& item, const DcmTagKey& key) {
  OFString v;
  if (item.findAndGetOFStringArray(key, v, OFFalse).good()) return trim(v.c_str());
  return {};
}

std::optional<double> getDouble(DcmItem& item, const DcmTagKey& key, unsigned long pos) {
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

std::optional<long> getInteger(DcmItem& item, const DcmTagKey& key, unsigned long pos) {
  Uint16 u16 = 0;
  if (item.findAndGetUint16(key, u16, pos, OFFalse).good()) return static_cast<long>(u16);
  Uint32 u32 = 0;
  if (item.findAndGetUint32(key, u32, pos, OFFalse).good()) return static_cast<long>(u32);
  Sint32 s32 = 0;
  if (item.findAndGetSint32(key, s32, pos, OFFalse).good()) return static_cast<long>(s32);
  if (auto d = getDouble(item, key, pos)) return static_cast<long>(std::lround(*d));
  return std::nullopt;
}

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

namespace {

constexpr const char* kWaveformPrefix = "1.2.840.10008.5.1.4.1.1.9.";
// Files larger than this cannot be a sane waveform object: refuse before loading.
constexpr std::uintmax_t kMaxFileBytes = std::uintmax_t(1) << 30;  // 1 GiB

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

}  // namespace

// Clean a free-text lead description ("Lead I (Einthoven)", "aVR, augmented ...") and
// normalise it; only accepts text with a letter so that bare numbers are not taken as leads.
std::string leadFromText(const std::string& text) {
  std::string t = text.substr(0, text.find_first_of("(,"));
  t = trim(t);
  if (t.empty() || std::none_of(t.begin(), t.end(), [](unsigned char c) { return std::isalpha(c); }))
    return {};
  return canonicalLeadName(t);
}

namespace {

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

}  // namespace

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

}  // namespace dicom_ecg_detail

using dicom_ecg_detail::allDigits;
using dicom_ecg_detail::kWaveformPrefix;
using dicom_ecg_detail::leadFromNumber;
using dicom_ecg_detail::leadNumberTable;
using dicom_ecg_detail::trim;
using dicom_ecg_detail::upper;

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
    dicom_ecg_detail::Reader r(path);
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
