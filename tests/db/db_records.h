// Records the database tests store: a 12-lead DICOM ECG with measurements and statements.
#pragma once
#include <string>

#include "common/types.h"

namespace e2e::test {

inline EcgRecord makeEcg(const std::string& sop, const std::string& name = "DOE^JOHN", const std::string& pid = "P001") {
  EcgRecord r;
  r.format = SourceFormat::DicomEcg;
  r.identity.patientId = pid;
  r.identity.patientName = name;
  r.identity.birthDate = "19500101";
  r.identity.sex = "M";
  r.identity.studyUid = "1.2.826.0.1.1." + sop;
  r.identity.studyDate = "20240315";
  r.identity.studyTime = "101500";
  r.identity.studyDescription = "Resting ECG";
  r.identity.seriesUid = "1.2.826.0.1.2." + sop;
  r.identity.modality = "ECG";
  r.identity.sopClassUid = "1.2.840.10008.5.1.4.1.1.9.1.1";
  r.identity.sopInstanceUid = "1.2.826.0.1.3." + sop;
  EcgGroup g;
  g.label = "RHYTHM";
  g.samplingHz = 500;
  g.numSamples = 5000;
  for (const auto& l : standardLeads()) {
    EcgChannel c;
    c.label = l;
    g.channels.push_back(c);
  }
  r.groups.push_back(g);
  r.measurements.heartRateBpm = 61;
  r.measurements.prMs = 160;
  r.measurements.qrsMs = 92;
  r.measurements.qtMs = 400;
  r.measurements.qtcMs = 402;
  r.measurements.qtcFormula = "Bazett";
  r.measurements.qrsAxisDeg = 45;
  r.statements = {"Sinus rhythm", "Normal ECG"};
  return r;
}

}  // namespace e2e::test
