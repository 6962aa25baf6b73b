// Basic Application Level Confidentiality Profile (PS3.15 Annex E, Table E.1-1) for the
// attributes that occur in ECG waveform and ultrasound objects. See anonymize.h.
#include "io/anonymize.h"

#include "common/civil_date.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <stdexcept>
#include <system_error>

namespace e2e::io {
namespace {

namespace fs = std::filesystem;
using Tag = std::pair<unsigned short, unsigned short>;

// X: removed.
const std::set<Tag> kRemove = {
    {0x0008, 0x0012}, {0x0008, 0x0013}, {0x0008, 0x0015}, {0x0008, 0x0024}, {0x0008, 0x0025}, {0x0008, 0x0034},
    {0x0008, 0x0035}, {0x0008, 0x0021}, {0x0008, 0x0022}, {0x0008, 0x0031}, {0x0008, 0x0032},
    {0x0008, 0x0080}, {0x0008, 0x0081}, {0x0008, 0x0082}, {0x0008, 0x0092}, {0x0008, 0x0094}, {0x0008, 0x0096},
    {0x0008, 0x0201}, {0x0008, 0x1010}, {0x0008, 0x1030}, {0x0008, 0x103E}, {0x0008, 0x1040}, {0x0008, 0x1048},
    {0x0008, 0x1049}, {0x0008, 0x1050}, {0x0008, 0x1052}, {0x0008, 0x1060}, {0x0008, 0x1062}, {0x0008, 0x1070},
    {0x0008, 0x1072}, {0x0008, 0x1080}, {0x0008, 0x1084}, {0x0008, 0x1111}, {0x0008, 0x1120}, {0x0008, 0x2111},
    {0x0008, 0x4000}, {0x0010, 0x0021}, {0x0010, 0x0032}, {0x0010, 0x0050}, {0x0010, 0x0101}, {0x0010, 0x1000},
    {0x0010, 0x1001}, {0x0010, 0x1002}, {0x0010, 0x1005}, {0x0010, 0x1010}, {0x0010, 0x1020}, {0x0010, 0x1030},
    {0x0010, 0x1040}, {0x0010, 0x1050}, {0x0010, 0x1060}, {0x0010, 0x1080}, {0x0010, 0x1090}, {0x0010, 0x2000},
    {0x0010, 0x2110}, {0x0010, 0x2150}, {0x0010, 0x2152}, {0x0010, 0x2154}, {0x0010, 0x2160}, {0x0010, 0x2180},
    {0x0010, 0x21A0}, {0x0010, 0x21B0}, {0x0010, 0x21C0}, {0x0010, 0x21D0}, {0x0010, 0x21F0}, {0x0010, 0x2203},
    {0x0010, 0x4000}, {0x0018, 0x1000}, {0x0018, 0x1004}, {0x0018, 0x1005}, {0x0018, 0x1007}, {0x0018, 0x1008},
    {0x0018, 0x1030}, {0x0018, 0x1200}, {0x0018, 0x1201}, {0x0018, 0x1400}, {0x0018, 0x9424}, {0x0020, 0x4000},
    {0x0032, 0x1032}, {0x0032, 0x1033}, {0x0032, 0x1060}, {0x0032, 0x1070}, {0x0032, 0x4000}, {0x0038, 0x0010},
    {0x0038, 0x0300}, {0x0038, 0x0400}, {0x0038, 0x0500}, {0x0040, 0x0007}, {0x0040, 0x0009}, {0x0040, 0x0241},
    {0x0040, 0x0242}, {0x0040, 0x0243}, {0x0040, 0x0244}, {0x0040, 0x0245}, {0x0040, 0x0250}, {0x0040, 0x0251},
    {0x0040, 0x0253}, {0x0040, 0x0254}, {0x0040, 0x0275}, {0x0040, 0x0280}, {0x0040, 0x1001}, {0x0040, 0x1101},
    {0x0040, 0x1400}, {0x0040, 0x2400}, {0x0040, 0x3001}, {0x0040, 0x4037}, {0x0040, 0xA160}, {0x0400, 0x0561},
    {0x0002, 0x0016}, {0x0032, 0x1030}, {0x0038, 0x4000}, {0x0040, 0x1002}};

// Z: emptied (kept present: they are type 2 in the IODs). Acquisition Context Sequence is X in
// the profile but type 2 in the ECG and US IODs: emptied, which leaves nothing to identify.
const std::set<Tag> kEmpty = {{0x0008, 0x0020}, {0x0008, 0x0030}, {0x0008, 0x0050}, {0x0008, 0x0090},
                              {0x0008, 0x1110}, {0x0010, 0x0010}, {0x0010, 0x0020}, {0x0010, 0x0030},
                              {0x0010, 0x0040}, {0x0020, 0x0010}, {0x0040, 0x0555}, {0x0040, 0x2016},
                              {0x0040, 0x2017}};

// D: a dummy value where present (Content Date/Time and Acquisition DateTime are type 1 in the
// ECG waveform IODs, so emptying them would make the object invalid).
const std::set<Tag> kDummy = {{0x0008, 0x0023}, {0x0008, 0x0033}, {0x0008, 0x002A}, {0x0040, 0xA075},
                              {0x0040, 0xA123}, {0x0018, 0x700A}};

// U: instance UIDs, replaced by new ones, the same new UID for the same old one within a run.
const std::set<Tag> kUids = {
    {0x0002, 0x0003}, {0x0004, 0x1511}, {0x0008, 0x0014}, {0x0008, 0x0018}, {0x0008, 0x0058}, {0x0008, 0x1155},
    {0x0008, 0x1195}, {0x0008, 0x3010}, {0x0018, 0x1002}, {0x0020, 0x000D}, {0x0020, 0x000E}, {0x0020, 0x0052},
    {0x0020, 0x0200}, {0x0020, 0x9161}, {0x0020, 0x9164}, {0x0028, 0x1199}, {0x0028, 0x1214}, {0x0040, 0x4023},
    {0x0040, 0xA124}, {0x0040, 0xDB0C}, {0x0040, 0xDB0D}, {0x0062, 0x0021}, {0x0070, 0x031A}, {0x0088, 0x0140},
    {0x3006, 0x0024}, {0x3006, 0x00C2}};

const char* kMethod = "Basic Application Confidentiality Profile";
const char* kShiftMethod = "Retain Longitudinal Temporal Information Modified Dates Option";

bool isLeap(long y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

class Anonymizer {
 public:
  explicit Anonymizer(const AnonymizeOptions& o) : opt_(o) {}

  std::string newUid(const std::string& old) {
    auto it = uids_.find(old);
    if (it != uids_.end()) return it->second;
    char buf[100];
    dcmGenerateUniqueIdentifier(buf, opt_.uidRoot.empty() ? SITE_INSTANCE_UID_ROOT : opt_.uidRoot.c_str());
    return uids_[old] = buf;
  }

  // Applies the profile's actions to `item` and, recursively, to the items of its sequences.
  void walk(DcmItem& item) {
    for (unsigned long i = item.card(); i-- > 0;) {
      DcmElement* e = item.getElement(i);
      const DcmTag& t = e->getTag();
      const Tag key{t.getGroup(), t.getElement()};
      const bool curveOrOverlay = (key.first >= 0x5000 && key.first <= 0x50FF && key.first % 2 == 0) ||
                                  (key.first >= 0x6000 && key.first <= 0x60FF && key.first % 2 == 0);
      if (t.isPrivate() || curveOrOverlay) {
        delete item.remove(i);
        continue;
      }
      // Modified Dates Option: every date (also those the profile removes) moved, times kept.
      if (opt_.shiftDays && (e->ident() == EVR_DA || e->ident() == EVR_DT)) {
        shiftDates(*e);
        continue;
      }
      if (opt_.shiftDays && e->ident() == EVR_TM) continue;
      if (kRemove.count(key)) {
        delete item.remove(i);
        continue;
      }
      if (kEmpty.count(key) && !(opt_.keepPatientSex && key == Tag{0x0010, 0x0040})) {
        if (e->ident() == EVR_SQ) static_cast<DcmSequenceOfItems*>(e)->clear();
        else e->putString("");
        continue;
      }
      if (kDummy.count(key) && e->getLength() > 0) {
        e->putString(dummyFor(e->ident()));
        continue;
      }
      if (kUids.count(key)) {
        remapUids(*e);
        continue;
      }
      if (e->ident() == EVR_SQ) {
        auto* sq = static_cast<DcmSequenceOfItems*>(e);
        for (unsigned long k = 0; k < sq->card(); ++k) walk(*sq->getItem(k));
      }
    }
  }

  // "ANON^<n>" / "ANON<n>" per distinct original patient (ID and name) of this run.
  std::pair<std::string, std::string> pseudonym(const std::string& origId, const std::string& origName) {
    const std::string key = origId + '\n' + origName;
    if (!patients_.count(key)) {
      const std::size_t next = patients_.size() + 1;
      patients_[key] = next;
    }
    const std::size_t n = patients_[key];
    return {opt_.patientName.empty() ? "ANON^" + std::to_string(n) : opt_.patientName,
            opt_.patientId.empty() ? "ANON" + std::to_string(n) : opt_.patientId};
  }

 private:
  static const char* dummyFor(DcmEVR vr) {
    switch (vr) {
      case EVR_DA: return "19000101";
      case EVR_TM: return "000000";
      case EVR_DT: return "19000101000000";
      default: return "ANONYMIZED";
    }
  }

  // Every value of a DA/DT element moved by shiftDays; emptied when one is not a valid date.
  void shiftDates(DcmElement& e) {
    OFString all;
    if (e.getOFStringArray(all).bad() || all.empty()) return;
    const std::string in(all.c_str());
    std::string out;
    for (std::size_t p = 0;;) {
      const std::size_t q = in.find('\\', p);
      const auto shifted = shiftDicomDate(in.substr(p, q == std::string::npos ? std::string::npos : q - p), *opt_.shiftDays);
      if (!shifted) {
        e.putString("");
        return;
      }
      out += (p == 0 ? "" : "\\") + *shifted;
      if (q == std::string::npos) break;
      p = q + 1;
    }
    e.putString(out.c_str());
  }

  void remapUids(DcmElement& e) {
    OFString all;
    if (e.getOFStringArray(all).bad() || all.empty()) return;
    std::string in(all.c_str()), out;
    std::size_t p = 0;
    while (true) {
      const std::size_t q = in.find('\\', p);
      const std::string one = in.substr(p, q == std::string::npos ? std::string::npos : q - p);
      out += (out.empty() && p == 0 ? "" : "\\") + (one.empty() ? one : newUid(one));
      if (q == std::string::npos) break;
      p = q + 1;
    }
    e.putString(out.c_str());
  }

  const AnonymizeOptions& opt_;
  std::map<std::string, std::string> uids_;
  std::map<std::string, std::size_t> patients_;
};

std::string str(DcmItem& d, const DcmTagKey& k) {
  OFString v;
  return d.findAndGetOFStringArray(k, v).good() ? std::string(v.c_str()) : std::string();
}

bool isUltrasound(DcmDataset& d) {
  const std::string cls = str(d, DCM_SOPClassUID);
  return str(d, DCM_Modality) == "US" || cls == UID_UltrasoundImageStorage ||
         cls == UID_UltrasoundMultiframeImageStorage || cls == UID_EnhancedUSVolumeStorage;
}

void addMethodCode(DcmDataset& d, const char* value, const char* meaning) {
  DcmItem* code = nullptr;
  d.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, code, -2);
  if (!code) throw std::runtime_error("cannot add the de-identification method code");
  code->putAndInsertString(DCM_CodeValue, value);
  code->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
  code->putAndInsertString(DCM_CodeMeaning, meaning);
}

void markDeidentified(DcmDataset& d, bool datesShifted) {
  d.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  const std::string method = std::string(kMethod) + (datesShifted ? std::string("\\") + kShiftMethod : "");
  d.putAndInsertString(DCM_DeidentificationMethod, method.c_str());
  addMethodCode(d, "113100", kMethod);
  if (datesShifted) {
    addMethodCode(d, "113107", kShiftMethod);
    d.putAndInsertString(DCM_LongitudinalTemporalInformationModified, "MODIFIED");
  }
}

// One file; throws std::runtime_error with the reason when it cannot be exported.
AnonymizeReport::Written exportOne(Anonymizer& an, const std::string& path, const AnonymizeOptions& opt,
                                   std::vector<std::string>& warnings) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw std::runtime_error("not a readable file");
  DcmFileFormat ff;
  // fileOnly: a file without the DICOM file meta header is not taken for a DICOM object.
  if (ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_fileOnly).bad())
    throw std::runtime_error("not a DICOM object (no DICOM file meta header)");
  DcmDataset& d = *ff.getDataset();
  const std::string sop = str(d, DCM_SOPInstanceUID);
  if (str(d, DCM_SOPClassUID).empty() || sop.empty())
    throw std::runtime_error("not a DICOM object (no SOP Class / Instance UID)");
  if (isUltrasound(d) && str(d, DCM_BurnedInAnnotation) != "NO")
    warnings.push_back("burned-in annotation may identify the patient: " + path);
  const auto [name, id] = an.pseudonym(str(d, DCM_PatientID), str(d, DCM_PatientName));
  an.walk(d);
  an.walk(*ff.getMetaInfo());
  d.putAndInsertString(DCM_PatientName, name.c_str());
  d.putAndInsertString(DCM_PatientID, id.c_str());
  markDeidentified(d, opt.shiftDays.has_value());
  const std::string newSop = an.newUid(sop);
  const fs::path out = fs::path(opt.outDir) / (newSop + ".dcm");
  const fs::path tmp = fs::path(opt.outDir) / ("." + newSop + ".dcm.tmp");
  if (ff.saveFile(tmp.string().c_str(), EXS_Unknown).bad()) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error("cannot write " + out.string());
  }
  return {path, out.string()};
}

}  // namespace

std::optional<std::string> shiftDicomDate(const std::string& value, int days) {
  std::string v = value;
  // The ACR-NEMA form YYYY.MM.DD (still found in old ultrasound files) is written as YYYYMMDD.
  if (v.size() >= 10 && v[4] == '.' && v[7] == '.') v = v.substr(0, 4) + v.substr(5, 2) + v.substr(8);
  if (v.size() < 8) return std::nullopt;
  for (int i = 0; i < 8; ++i)
    if (v[static_cast<std::size_t>(i)] < '0' || v[static_cast<std::size_t>(i)] > '9') return std::nullopt;
  const long y = std::stol(v.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoul(v.substr(4, 2))), d = static_cast<unsigned>(std::stoul(v.substr(6, 2)));
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && isLeap(y) ? 1u : 0u)) return std::nullopt;
  long ny = 0;
  unsigned nm = 0, nd = 0;
  civilFromDays(daysFromCivil(y, m, d) + days, ny, nm, nd);
  if (ny < 1 || ny > 9999) return std::nullopt;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%04ld%02u%02u", ny, nm, nd);
  return std::string(buf) + v.substr(8);
}

AnonymizeReport anonymizeFiles(const std::vector<std::string>& dicomPaths, const AnonymizeOptions& options) {
  if (options.outDir.empty()) throw std::runtime_error("anonymised export: no output folder given");
  if (options.shiftDays && (*options.shiftDays > kMaxDateShiftDays || *options.shiftDays < -kMaxDateShiftDays))
    throw std::runtime_error("anonymised export: a date shift of " + std::to_string(*options.shiftDays) +
                             " days is beyond the limit of " + std::to_string(kMaxDateShiftDays) + " days");
  std::error_code ec;
  fs::create_directories(options.outDir, ec);
  if (!fs::is_directory(options.outDir))
    throw std::runtime_error("anonymised export: cannot create the output folder " + options.outDir);
  AnonymizeReport report;
  Anonymizer an(options);
  for (const auto& p : dicomPaths) {
    try {
      report.written.push_back(exportOne(an, p, options, report.warnings));
    } catch (const std::exception& e) {
      report.errors.push_back(p + ": " + e.what());
    }
  }
  return report;
}

}  // namespace e2e::io
