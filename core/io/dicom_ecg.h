// DICOM waveform ECG reader (12-lead ECG, General ECG, and ECG leads found in other
// waveform SOP classes such as Hemodynamic). No Qt.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e {

// True for SOP classes that carry waveforms (ECG, hemodynamic, ...), in which ECG leads may be found.
bool isWaveformSopClass(const std::string& sopClassUid);

// True for the ECG waveform SOP classes proper (12-lead, General, Ambulatory, General 32-bit ECG).
bool isEcgSopClass(const std::string& sopClassUid);

// Canonical lead name (I, II, III, aVR, aVL, aVF, V1..V6, V7, V3R, X, ...) for a
// ChannelSourceSequence code: MDC "2:n", MDC numeric (131328 + n), MDC reference ids
// (MDC_ECG_LEAD_II), or SCPECG "5.6.3-9-n". Returns "" when the code is not a known lead.
std::string ecgLeadFromCode(const std::string& codeValue, const std::string& codingScheme = "");

// Reads every multiplex group, applies sensitivity/correction/baseline, maps leads by code
// value, and collects annotations/measurements. Throws ReadError naming the file and cause.
// A waveform file whose groups contain no ECG lead throws ReadError too.
//
// Details: samples are converted to mV when the channel sensitivity unit is a voltage
// (uV, mV, V); raw sensitivity/correction/baseline are kept in EcgChannel. Channels of
// non-ECG SOP classes (hemodynamic, ...) that are not ECG leads are skipped and listed in
// EcgRecord::extra["skippedChannels"]. Groups that keep no channel are dropped. Rhythm
// groups come first, median-beat groups after (original order otherwise).
// Annotation group/channel indices refer to EcgRecord::groups / EcgGroup::channels after
// that reordering (-1 when the referenced group/channel was not kept or not given).
// Samples equal to WaveformPaddingValue are set to 0 (a warning counts them).
// If the device gives no heart rate but an RR interval, heartRateBpm = 60000 / RR and
// extra["heartRateSource"] = "RR".
EcgRecord readDicomEcg(const std::string& path);

}  // namespace e2e
