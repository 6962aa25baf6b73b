// DICOM ECG reader, annotation part: WaveformAnnotationSequence (measurements, fiducials,
// statements) mapped onto EcgMeasurements. See dicom_ecg.h.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <string>

#include "io/dicom_ecg_internal.h"

namespace e2e::dicom_ecg_detail {

namespace {

enum class MeasureField { None, HeartRate, RR, PR, QRS, QT, QTc, PAxis, QRSAxis, TAxis };

MeasureField fieldFromCode(const std::string& code) {
  static const std::map<std::string, MeasureField> t = {
      // SCPECG codes (as written by e.g. Mortara ELI devices).
      {"5.10.2.1-3", MeasureField::RR},
      {"5.13.5-7", MeasureField::PR},
      {"5.13.5-9", MeasureField::QRS},
      {"5.13.5-11", MeasureField::QT},
      {"5.10.2.5-5", MeasureField::QTc},
      {"5.10.3-11", MeasureField::PAxis},
      {"5.10.3-13", MeasureField::QRSAxis},
      {"5.10.3-15", MeasureField::TAxis},
      // MDC (ISO/IEEE 11073-10102; DICOM CID 3687 and neighbours).
      {"2:15872", MeasureField::PR},
      {"2:16156", MeasureField::QRS},
      {"2:16160", MeasureField::QT},
      {"2:15876", MeasureField::QTc},
      {"2:15880", MeasureField::QTc},
      {"2:15892", MeasureField::QTc},
      {"2:16168", MeasureField::RR},
      {"2:16128", MeasureField::PAxis},
      {"2:16132", MeasureField::QRSAxis},
      {"2:16136", MeasureField::TAxis},
      {"2:16770", MeasureField::HeartRate},
      {"2:16016", MeasureField::HeartRate},
      {"MDC_ECG_TIME_PD_PR", MeasureField::PR},
      {"MDC_ECG_TIME_PD_QRS", MeasureField::QRS},
      {"MDC_ECG_TIME_PD_QT", MeasureField::QT},
      {"MDC_ECG_TIME_PD_QTc", MeasureField::QTc},
      {"MDC_ECG_TIME_PD_RR", MeasureField::RR},
      {"MDC_ECG_ANGLE_P_FRONT", MeasureField::PAxis},
      {"MDC_ECG_ANGLE_QRS_FRONT", MeasureField::QRSAxis},
      {"MDC_ECG_ANGLE_T_FRONT", MeasureField::TAxis},
      {"MDC_ECG_HEART_RATE", MeasureField::HeartRate},
      // LOINC.
      {"8867-4", MeasureField::HeartRate},
      {"8625-6", MeasureField::PR},
      {"8633-0", MeasureField::QRS},
      {"8634-8", MeasureField::QT},
      {"8636-3", MeasureField::QTc},
      {"8626-4", MeasureField::PAxis},
      {"8632-2", MeasureField::QRSAxis},
      {"9997-8", MeasureField::QRSAxis},
      {"8638-9", MeasureField::TAxis}};
  auto it = t.find(code);
  return it == t.end() ? MeasureField::None : it->second;
}

MeasureField fieldFromMeaning(const std::string& meaning) {
  std::string m = lower(meaning);
  m.erase(std::remove_if(m.begin(), m.end(), [](unsigned char c) { return c == '-' || c == '_'; }),
          m.end());
  auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
  if (has("axis")) {
    if (has("qrs") || has("r wave") || has("r axis")) return MeasureField::QRSAxis;
    if (has("p ") || m.rfind("p", 0) == 0) return MeasureField::PAxis;
    if (has("t ") || m.rfind("t", 0) == 0) return MeasureField::TAxis;
    return MeasureField::None;
  }
  if (has("qtc")) return MeasureField::QTc;
  if (has("qt interval") || m == "qt") return MeasureField::QT;
  if (has("qrs dur") || m == "qrs") return MeasureField::QRS;
  if (has("pr interval") || has("pq interval") || m == "pr") return MeasureField::PR;
  if (has("rr interval") || m == "rr") return MeasureField::RR;
  if (has("heart rate") || has("ventricular rate") || has("vent rate") || m == "hr")
    return MeasureField::HeartRate;
  return MeasureField::None;
}

// Converts a measurement to the unit of its EcgMeasurements field (ms, deg, bpm).
double toFieldUnit(MeasureField f, double v, const std::string& unit) {
  const std::string u = lower(unit);
  switch (f) {
    case MeasureField::RR: case MeasureField::PR: case MeasureField::QRS:
    case MeasureField::QT: case MeasureField::QTc:
      if (u == "s" || u == "sec") return v * 1000.0;
      if (u == "us") return v / 1000.0;
      return v;
    case MeasureField::PAxis: case MeasureField::QRSAxis: case MeasureField::TAxis:
      if (u == "rad") return v * 57.29577951308232;
      return v;
    case MeasureField::HeartRate:
      if (u == "/s" || u == "hz" || u == "{h.b.}/s") return v * 60.0;
      return v;
    default:
      return v;
  }
}

std::string qtcFormula(const std::string& code, const std::string& meaning) {
  if (code == "2:15880") return "Bazett";
  if (code == "2:15892") return "Fridericia";
  const std::string m = lower(meaning);
  for (const char* f : {"bazett", "fridericia", "framingham", "hodges"})
    if (m.find(f) != std::string::npos) {
      std::string s = f;
      s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
      return s;
    }
  return {};
}

// Fiducial positions of an annotation: sample positions and time offsets (DS seconds -> ms).
void readFiducials(DcmItem& it, EcgAnnotation& a) {
  DcmElement* el = nullptr;
  if (it.findAndGetElement(DCM_ReferencedSamplePositions, el).good() && el) {
    for (unsigned long k = 0; k < el->getVM(); ++k) {
      Uint32 v = 0;
      if (el->getUint32(v, k).good()) a.samplePositions.push_back(v);
    }
  }
  el = nullptr;
  if (it.findAndGetElement(DCM_ReferencedTimeOffsets, el).good() && el) {
    for (unsigned long k = 0; k < el->getVM(); ++k) {
      Float64 v = 0;
      if (el->getFloat64(v, k).good()) a.timeOffsetsMs.push_back(v * 1000.0);  // DS seconds
    }
  }
}

// Stores a measurement annotation in its EcgMeasurements field, if it maps to one.
// qtcPriority: prefer a generic QTc over formula-specific ones only if no generic one.
void applyMeasurement(const EcgAnnotation& a, EcgMeasurements& m, double& qtcPriority) {
  MeasureField f = fieldFromCode(a.conceptCode);
  if (f == MeasureField::None) f = fieldFromMeaning(a.conceptMeaning);
  const double v = toFieldUnit(f, a.value, a.unit);
  switch (f) {
    case MeasureField::HeartRate: m.heartRateBpm = v; break;
    case MeasureField::RR: m.rrMs = v; break;
    case MeasureField::PR: m.prMs = v; break;
    case MeasureField::QRS: m.qrsMs = v; break;
    case MeasureField::QT: m.qtMs = v; break;
    case MeasureField::QTc: {
      std::string formula = qtcFormula(a.conceptCode, a.conceptMeaning);
      const double prio = formula.empty() ? 1 : 0;
      if (prio >= qtcPriority) {
        m.qtcMs = v;
        m.qtcFormula = formula;
        qtcPriority = prio;
      }
      break;
    }
    case MeasureField::PAxis: m.pAxisDeg = v; break;
    case MeasureField::QRSAxis: m.qrsAxisDeg = v; break;
    case MeasureField::TAxis: m.tAxisDeg = v; break;
    default: break;
  }
}

}  // namespace

// ReferencedWaveformChannels: pairs (group, channel), 1-based, channel 0 = all; mapped to
// the kept groups/channels. Also reads the fiducial positions.
void Reader::readAnnotationReferences(DcmItem& it, EcgAnnotation& a) {
  Uint16 grp = 0, chan = 0;
  if (it.findAndGetUint16(DCM_ReferencedWaveformChannels, grp, 0).good() && grp > 0) {
    auto gm = groupMap_.find(static_cast<int>(grp) - 1);
    if (gm != groupMap_.end()) {
      a.groupIndex = gm->second;
      if (it.findAndGetUint16(DCM_ReferencedWaveformChannels, chan, 1).good() && chan > 0) {
        const auto& cm = channelMaps_[static_cast<int>(grp) - 1];
        if (chan <= cm.size()) a.channelIndex = cm[chan - 1];
      }
    }
  }
  readFiducials(it, a);
}

void Reader::readAnnotations() {
  DcmSequenceOfItems* seq = nullptr;
  if (ds_->findAndGetSequence(DCM_WaveformAnnotationSequence, seq).bad() || !seq) return;
  EcgMeasurements& m = rec_.measurements;
  double qtcPriority = -1;  // prefer a generic QTc over formula-specific ones only if no generic one
  for (unsigned long i = 0; i < seq->card(); ++i) {
    DcmItem* it = seq->getItem(i);
    if (!it) continue;
    EcgAnnotation a;
    Code name = getCode(*it, DCM_ConceptNameCodeSequence);
    a.conceptCode = name.value;
    a.conceptScheme = name.scheme;
    a.conceptMeaning = name.meaning;
    a.text = getString(*it, DCM_UnformattedTextValue);
    readAnnotationReferences(*it, a);
    auto numeric = getDouble(*it, DCM_NumericValue);
    if (numeric) {
      a.kind = EcgAnnotation::Kind::Measurement;
      a.value = *numeric;
      a.unit = getCode(*it, DCM_MeasurementUnitsCodeSequence).value;
      applyMeasurement(a, m, qtcPriority);
    } else if (!a.samplePositions.empty() || !a.timeOffsetsMs.empty()) {
      a.kind = EcgAnnotation::Kind::Fiducial;
    } else {
      a.kind = EcgAnnotation::Kind::Statement;
      if (a.text.empty()) {
        Code value = getCode(*it, DCM_ConceptCodeSequence);
        a.text = !value.meaning.empty() ? value.meaning : name.meaning;
      }
      if (a.text.empty()) continue;  // empty item
      rec_.statements.push_back(a.text);
    }
    rec_.annotations.push_back(std::move(a));
  }
  if (std::isnan(m.heartRateBpm) && m.rrMs > 0) {
    m.heartRateBpm = 60000.0 / m.rrMs;
    rec_.extra["heartRateSource"] = "RR";
  }
}

}  // namespace e2e::dicom_ecg_detail
