// GE MUSE XML resting ECG export (root <RestingECG>, ISO-8859-1, DOCTYPE restecg.dtd). No Qt.
#pragma once
#include <string>
#include <string_view>

#include "common/types.h"

namespace e2e {

// True when `head` (the first bytes of a file, e.g. 4 KiB) is XML whose root element is RestingECG.
bool looksLikeMuseXml(std::string_view head);

// Reads the Rhythm and Median <Waveform>s (base64 little-endian int16 per lead, checked against
// LeadSampleCountTotal, LeadByteCountTotal and LeadDataCRC32), scales them to mV with
// LeadAmplitudeUnitsPerBit / LeadAmplitudeUnits, and derives III, aVR, aVL, aVF from I and II
// when the file stores only I, II, V1-V6 (extra["derivedLeads"]). Measurements come from
// RestingECGMeasurements, statements from Diagnosis (one statement per device line: texts are
// joined until a statement flagged ENDSLINE), demographics from Patient/TestDemographics.
// OriginalDiagnosis lines are kept in extra["originalDiagnosis"] (newline-separated).
// Throws ReadError naming the file and the cause.
EcgRecord readMuseXml(const std::string& path);

}  // namespace e2e
