// SCP-ECG (EN 1064 / ISO 11073-91064) resting ECG files, protocol versions 1.x and 2.x (3.0
// where it differs little): Huffman-coded rhythm (section 6) and reference beats (section 5),
// header tags (section 1), global measurements (section 7) and interpretation statements
// (sections 8 and 11). No Qt.
#pragma once
#include <string>
#include <string_view>

#include "common/types.h"

namespace e2e {

// `head` is the first bytes of a file (4 KiB is plenty). True for a plausible SCP-ECG record:
// a record length that fits the header and section 0 (id 0) carrying the "SCPECG" identifier
// at byte 16. The CRC is not checked here, so that a file that fails only its CRC still goes to
// readScpEcg and gets a clear error.
bool looksLikeScpEcg(std::string_view head);

// Reads the whole record: file and section CRCs are verified (a mismatch is an error naming the
// section), the rhythm and reference-beat leads are decoded to mV with canonical lead names,
// 8-lead files (I, II, V1-V6) get III, aVR, aVL, aVF derived. Throws ReadError on any
// inconsistency; never allocates more than the file size justifies.
EcgRecord readScpEcg(const std::string& path);

}  // namespace e2e
