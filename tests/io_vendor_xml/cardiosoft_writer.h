// Test generator: writes an EcgRecord as a GE CardioSoft XML (CardiologyXML) file, with the element
// structure the UK Biobank exports use (StripData, RestingECGMeasurements/MedianSamples,
// Interpretation, PatientInfo, ObservationDateTime, ClinicalInfo/DeviceInfo, FilterSetting).
// No real CardioSoft sample may be redistributed, so the reader's tests write their own.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e::test {

struct CardioSoftWriteOptions {
  double resolutionUv = 5.0;  // Resolution (uVperLsb) of the integer counts written
  std::string deviceDesc = "CARDIOSYS V 6.51";
  bool trailingComma = false;  // end every WaveformData with a comma (tolerated by the reader)
};

// Writes the rhythm group (StripData) and the median group (MedianSamples) of `rec`, its
// measurements, statements (as DiagnosisText lines) and identity. Samples (mV) are rounded to
// counts of options.resolutionUv. Throws std::runtime_error when the file cannot be written or a
// sample does not fit 16 bits at that resolution.
void writeCardioSoftXml(const EcgRecord& rec, const std::string& path, const CardioSoftWriteOptions& options = {});

}  // namespace e2e::test
