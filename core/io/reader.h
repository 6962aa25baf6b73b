// Format dispatcher: decides what a file is (DICOM ECG/waveform, DICOM ultrasound, WFDB
// record, video) and reads it with the right reader. No Qt.
#pragma once
#include <string>
#include <variant>
#include <vector>

#include "common/types.h"

namespace e2e {

enum class ProbeKind {
  DicomEcg,       // DICOM waveform SOP class -> readDicomEcg
  DicomEcho,      // DICOM ultrasound SOP class -> readDicomEchoInfo
  Wfdb,           // a WFDB header (.hea) -> readWfdb
  Video,          // a video container (.avi, .mp4, ...) -> readVideoInfo
  VendorEcg,      // a vendor ECG export, by content (format: MUSE / HL7 aECG / SCP-ECG / Philips / CardioSoft)
  WfdbCompanion,  // a signal file (.dat, .mat, ...) that belongs to a .hea beside it: not an input of its own
  Unsupported     // anything else; `reason` says why
};
const char* toString(ProbeKind k);

struct ProbeResult {
  ProbeKind kind = ProbeKind::Unsupported;
  SourceFormat format = SourceFormat::Unknown;
  std::string sopClassUid;  // DICOM only
  std::string reason;       // for Unsupported / WfdbCompanion
  bool damaged = false;     // Unsupported because the file is a DICOM file that cannot be parsed
  bool supported() const { return kind != ProbeKind::Unsupported && kind != ProbeKind::WfdbCompanion; }
};

// Cheap: reads the DICOM header only (never pixel data), the first 4 KiB of other files, or looks at
// the name. Vendor ECG exports are recognised by content, whatever their extension.
ProbeResult probeFile(const std::string& path);

// True when `path` is a DICOM file (preamble "DICM" at offset 128, or a plausible
// preamble-less little-endian data set starting with group 0002 or 0008).
bool looksLikeDicom(const std::string& path);

// Reads SOPClassUID (meta header, then data set) without loading pixel data; "" if none.
// Throws ReadError if the file cannot be parsed as DICOM.
std::string readSopClassUid(const std::string& path);

// Human-readable name of well-known SOP classes ("" if unknown).
std::string sopClassName(const std::string& uid);

// Files that are part of the WFDB record whose header is `heaPath` (the .hea itself first,
// then the signal files beside it with the same record name), for hashing.
std::vector<std::string> wfdbRecordFiles(const std::string& heaPath);

// Thrown by readAny for inputs that are not an error but simply not something we import.
class UnsupportedInput : public ReadError {
 public:
  using ReadError::ReadError;
};

using LoadedObject = std::variant<EcgRecord, EchoInfo>;

// Probes and reads. Echo: metadata only (no pixel decoding). Throws UnsupportedInput for
// unsupported inputs (and WFDB companions), ReadError for broken supported ones.
LoadedObject readAny(const std::string& path);
LoadedObject readProbed(const std::string& path, const ProbeResult& probe);

}  // namespace e2e
