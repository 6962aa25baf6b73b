// Small helpers shared by the writers of result objects (prediction SR, Encapsulated PDF): UID and
// character-set checks and the atomic save of a DICOM file. Internal to core/net (e2e_results_sr).
#pragma once
#include <string>

class DcmFileFormat;

namespace e2e::net {

// A syntactically valid, non-empty UID.
bool validDicomUid(const std::string& uid);
// Only 7-bit characters (the default character repertoire is enough).
bool isAsciiText(const std::string& s);
// Writes `file` (explicit VR little endian) to outPath + ".part" and renames it onto outPath, so a
// reader never sees a partial object; the folder must exist. Throws std::runtime_error naming the file.
void saveDicomAtomic(DcmFileFormat& file, const std::string& outPath);

}  // namespace e2e::net
