// GE CardioSoft / CASE resting ECG XML export (root <CardiologyXML>; the UK Biobank ECG format). No Qt.
#pragma once
#include <string>
#include <string_view>

#include "common/types.h"

namespace e2e {

// True when `head` (the first bytes of a file, e.g. 4 KiB) is XML whose root element is CardiologyXML.
bool looksLikeCardioSoftXml(std::string_view head);

// Reads StripData (rhythm, group "RHYTHM") and RestingECGMeasurements/MedianSamples (median beats,
// group "MEDIAN"): SampleRate (Hz), Resolution (uVperLsb), one WaveformData per lead holding
// comma-separated integers, checked against ChannelSampleCountTotal; samples are converted to mV.
// Limb leads the file lacks are derived from I and II. Measurements come from
// RestingECGMeasurements (VentricularRate, RRInterval, PQInterval, QRSDuration, QTInterval,
// QTCInterval, P/R/T axes), statements from Interpretation/Diagnosis/DiagnosisText then
// Interpretation/Conclusion/ConclusionText (separator lines of dashes dropped), demographics from
// PatientInfo, the acquisition time from ObservationDateTime, the device from DeviceInfo, filters
// from FilterSetting. Throws ReadError naming the file and the cause.
EcgRecord readCardioSoftXml(const std::string& path);

}  // namespace e2e
