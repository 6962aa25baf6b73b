// DICOM waveform ECG reader (12-lead ECG, General ECG, and ECG leads found in other
// waveform SOP classes such as Hemodynamic). No Qt.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e {

// True for SOP classes that carry waveforms (ECG, hemodynamic, ...), in which ECG leads may be found.
bool isWaveformSopClass(const std::string& sopClassUid);

// Reads every multiplex group, applies sensitivity/correction/baseline, maps leads by code
// value, and collects annotations/measurements. Throws ReadError naming the file and cause.
// A waveform file whose groups contain no ECG lead throws ReadError too.
EcgRecord readDicomEcg(const std::string& path);

}  // namespace e2e
