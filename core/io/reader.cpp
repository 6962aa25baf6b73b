#include "io/reader.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcdatset.h>

#include "io/dicom_ecg.h"
#include "io/dicom_echo.h"
#include "io/video_reader.h"
#include "io/wfdb.h"
#include "io/vendor/cardiosoft_xml.h"
#include "io/vendor/hl7_aecg.h"
#include "io/vendor/muse_xml.h"
#include "io/vendor/philips_xml.h"
#include "io/vendor/scp_ecg.h"
#include "io/vendor/xml_file.h"

namespace fs = std::filesystem;

namespace e2e {
namespace {

std::string lowerExt(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e;
}

}  // namespace

const char* toString(ProbeKind k) {
  switch (k) {
    case ProbeKind::DicomEcg: return "DICOM-ECG";
    case ProbeKind::DicomEcho: return "DICOM-US";
    case ProbeKind::Wfdb: return "WFDB";
    case ProbeKind::Video: return "VIDEO";
    case ProbeKind::VendorEcg: return "VENDOR-ECG";
    case ProbeKind::WfdbCompanion: return "WFDB-SIGNAL";
    default: return "UNSUPPORTED";
  }
}

bool looksLikeDicom(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  unsigned char buf[132] = {};
  in.read(reinterpret_cast<char*>(buf), sizeof buf);
  const auto n = in.gcount();
  if (n >= 132 && std::memcmp(buf + 128, "DICM", 4) == 0) return true;
  if (n < 8) return false;
  // Preamble-less (e.g. old ACR-NEMA style or raw data set) little endian: group 0002 or 0008
  // and a plausible element number / explicit VR.
  const unsigned group = buf[0] | (buf[1] << 8);
  if (group != 0x0002 && group != 0x0008) return false;
  const unsigned elem = buf[2] | (buf[3] << 8);
  if (elem > 0x0100) return false;
  const bool explicitVr = std::isupper(buf[4]) && std::isupper(buf[5]);
  if (explicitVr) return true;
  const std::uint32_t len = buf[4] | (buf[5] << 8) | (buf[6] << 16) | (static_cast<std::uint32_t>(buf[7]) << 24);
  return len < 1024;  // implicit VR: a small length for the first header element
}

std::string readSopClassUid(const std::string& path) {
  DcmFileFormat ff;
  // Values longer than 64 bytes (pixel data, waveforms) are left on disk: only the header is parsed.
  OFCondition st = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 64, ERM_autoDetect);
  if (st.bad()) throw ReadError(path, std::string("not a readable DICOM file (") + st.text() + ")");
  OFString uid;
  if (ff.getMetaInfo() && ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, uid).good() &&
      !uid.empty())
    return uid.c_str();
  if (ff.getDataset() && ff.getDataset()->findAndGetOFString(DCM_SOPClassUID, uid).good()) return uid.c_str();
  return "";
}

std::string sopClassName(const std::string& uid) {
  static const std::map<std::string, std::string> names = {
      {"1.2.840.10008.5.1.4.1.1.9.1.1", "12-lead ECG Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.1.2", "General ECG Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.1.3", "Ambulatory ECG Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.1.4", "General 32-bit ECG Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.2.1", "Hemodynamic Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.3.1", "Basic Cardiac Electrophysiology Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.4.1", "Basic Voice Audio Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.5.1", "Arterial Pulse Waveform"},
      {"1.2.840.10008.5.1.4.1.1.9.6.1", "Respiratory Waveform"},
      {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image"},
      {"1.2.840.10008.5.1.4.1.1.6.2", "Enhanced US Volume"},
      {"1.2.840.10008.5.1.4.1.1.3.1", "Ultrasound Multi-frame Image"},
      {"1.2.840.10008.5.1.4.1.1.6", "Ultrasound Image (Retired)"},
      {"1.2.840.10008.5.1.4.1.1.3", "Ultrasound Multi-frame Image (Retired)"},
      {"1.2.840.10008.5.1.4.1.1.12.1", "X-Ray Angiographic Image"},
      {"1.2.840.10008.5.1.4.1.1.12.2", "X-Ray Radiofluoroscopic Image"},
      {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image"},
      {"1.2.840.10008.5.1.4.1.1.2", "CT Image"},
      {"1.2.840.10008.5.1.4.1.1.4", "MR Image"},
      {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image"},
      {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR"},
      {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR"},
      {"1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR"},
      {"1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF"},
  };
  auto it = names.find(uid);
  return it == names.end() ? std::string() : it->second;
}

std::vector<std::string> wfdbRecordFiles(const std::string& heaPath) {
  std::vector<std::string> out{heaPath};
  const fs::path p(heaPath);
  const std::string stem = p.stem().string();
  std::error_code ec;
  std::vector<std::string> others;
  for (const auto& e : fs::directory_iterator(p.parent_path().empty() ? fs::path(".") : p.parent_path(), ec)) {
    if (!e.is_regular_file(ec)) continue;
    const fs::path q = e.path();
    if (q.stem().string() == stem && lowerExt(q.string()) != ".hea") others.push_back(q.string());
  }
  std::sort(others.begin(), others.end());
  out.insert(out.end(), others.begin(), others.end());
  return out;
}

namespace {
// The vendor ECG formats, by content (first 4 KiB): SCP-ECG's "SCPECG" section 0, or the XML root.
SourceFormat sniffVendorEcg(const std::string& path) {
  const std::string head = vendor::fileHead(path, 4096);
  if (head.empty()) return SourceFormat::Unknown;
  if (looksLikeScpEcg(head)) return SourceFormat::ScpEcg;
  if (looksLikeMuseXml(head)) return SourceFormat::MuseXml;
  if (looksLikeHl7Aecg(head)) return SourceFormat::Hl7Aecg;
  if (looksLikePhilipsXml(head)) return SourceFormat::PhilipsXml;
  if (looksLikeCardioSoftXml(head)) return SourceFormat::CardioSoftXml;
  return SourceFormat::Unknown;
}

EcgRecord readVendorEcg(const std::string& path, SourceFormat f) {
  switch (f) {
    case SourceFormat::ScpEcg: return readScpEcg(path);
    case SourceFormat::MuseXml: return readMuseXml(path);
    case SourceFormat::Hl7Aecg: return readHl7Aecg(path);
    case SourceFormat::PhilipsXml: return readPhilipsXml(path);
    case SourceFormat::CardioSoftXml: return readCardioSoftXml(path);
    default: throw UnsupportedInput(path, "not a vendor ECG export");
  }
}
}  // namespace

ProbeResult probeFile(const std::string& path) {
  ProbeResult r;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    r.reason = fs::exists(path, ec) ? "not a regular file" : "file not found";
    return r;
  }
  const std::string ext = lowerExt(path);
  if (ext == ".hea") {
    r.kind = ProbeKind::Wfdb;
    r.format = SourceFormat::Wfdb;
    return r;
  }
  if (looksLikeVideoFile(path)) {
    r.kind = ProbeKind::Video;
    r.format = SourceFormat::Video;
    return r;
  }
  if (looksLikeDicom(path)) {
    std::string uid;
    try {
      uid = readSopClassUid(path);
    } catch (const ReadError& e) {
      r.reason = "damaged DICOM file: " + e.cause();
      r.damaged = true;
      return r;
    }
    r.sopClassUid = uid;
    if (uid.empty()) {
      r.reason = "DICOM file without SOP Class UID";
    } else if (isWaveformSopClass(uid)) {
      r.kind = ProbeKind::DicomEcg;
      r.format = SourceFormat::DicomEcg;
    } else if (isUltrasoundSopClass(uid)) {
      r.kind = ProbeKind::DicomEcho;
      r.format = SourceFormat::DicomEcho;
    } else {
      const std::string name = sopClassName(uid);
      r.reason = "unsupported DICOM object (SOP class " + uid + (name.empty() ? "" : " " + name) + ")";
    }
    return r;
  }
  // By content; a .scp file that does not look like SCP-ECG still goes to the SCP reader, which says why
  // it is not one (a non-compliant device file is an error to report, not something to skip).
  if (SourceFormat vendor = sniffVendorEcg(path); vendor != SourceFormat::Unknown || ext == ".scp") {
    if (vendor == SourceFormat::Unknown) vendor = SourceFormat::ScpEcg;
    r.kind = ProbeKind::VendorEcg;
    r.format = vendor;
    return r;
  }
  // A signal file of a WFDB record: a .hea with the same record name lies beside it.
  {
    const fs::path p(path);
    fs::path hea = p;
    hea.replace_extension(".hea");
    if (ext != ".hea" && fs::exists(hea, ec)) {
      r.kind = ProbeKind::WfdbCompanion;
      r.format = SourceFormat::Wfdb;
      r.reason = "part of WFDB record " + hea.filename().string();
      return r;
    }
  }
  r.reason = ext.empty() ? "unsupported file type (no extension, not DICOM)"
                         : "unsupported file type (" + ext + ", not DICOM)";
  return r;
}

LoadedObject readProbed(const std::string& path, const ProbeResult& probe) {
  switch (probe.kind) {
    case ProbeKind::DicomEcg: return readDicomEcg(path);
    case ProbeKind::DicomEcho: return readDicomEchoInfo(path);
    case ProbeKind::Wfdb: return readWfdb(path);
    case ProbeKind::Video: return readVideoInfo(path);
    case ProbeKind::VendorEcg: return readVendorEcg(path, probe.format);
    default:
      throw UnsupportedInput(path, probe.reason.empty() ? "unsupported input" : probe.reason);
  }
}

LoadedObject readAny(const std::string& path) { return readProbed(path, probeFile(path)); }

}  // namespace e2e
