// Shared helpers of the signal-quality tests: the real ECGs of shared/data and degraded copies of
// them (made here, in memory).
#pragma once
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/types.h"
#include "io/reader.h"
#include "signal/ecg_quality.h"
#include "test_util.h"

namespace e2e::test::quality {

inline EcgRecord readEcg(const std::string& path) { return std::get<EcgRecord>(readAny(path)); }

inline std::vector<std::string> ludbPaths() {
  std::vector<std::string> out;
  for (int i = 1; i <= 200; ++i) out.push_back(dataFile("ecg_wfdb/ludb/data/" + std::to_string(i) + ".hea").string());
  return out;
}

inline std::vector<std::string> cincPaths() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dataFile("ecg_wfdb/torch_ecg_cinc2021")))
    if (e.path().extension() == ".hea") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

inline std::vector<std::string> dicomPaths() {
  return {dataFile("ecg_dicom/pydicom_debian/waveform_ecg.dcm").string(),
          dataFile("ecg_dicom/marcodebe_dicom-ecg-plot/anonymous_ecg.dcm").string(),
          dataFile("ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm").string()};
}

inline EcgGroup& rhythmOf(EcgRecord& r) {
  for (auto& g : r.groups)
    if (!g.isMedian()) return g;
  throw std::runtime_error("no rhythm group");
}

inline EcgChannel* lead(EcgRecord& r, const std::string& name) {
  for (auto& c : rhythmOf(r).channels)
    if (canonicalLeadName(c.label) == name) return &c;
  return nullptr;
}

// The degraded copies (WFDB records: samples already in mV).
inline void zeroLeads(EcgRecord& r, const std::vector<std::string>& leads) {
  for (const auto& l : leads)
    if (EcgChannel* c = lead(r, l)) std::fill(c->samples.begin(), c->samples.end(), 0.f);
}

inline void clipAll(EcgRecord& r, float limitMv) {
  for (auto& c : rhythmOf(r).channels)
    for (float& v : c.samples) v = std::clamp(v, -limitMv, limitMv);
}

inline void addNoise(EcgRecord& r, double mainsAmpMv, double whiteSdMv, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> white(0.0, whiteSdMv);
  const double fs = rhythmOf(r).samplingHz;
  for (auto& c : rhythmOf(r).channels)
    for (std::size_t t = 0; t < c.samples.size(); ++t)
      c.samples[t] += static_cast<float>(mainsAmpMv * std::sin(2 * M_PI * 50.0 * t / fs) + white(rng));
}

inline void addSine(EcgRecord& r, double hz, double ampMv) {
  const double fs = rhythmOf(r).samplingHz;
  for (auto& c : rhythmOf(r).channels)
    for (std::size_t t = 0; t < c.samples.size(); ++t)
      c.samples[t] += static_cast<float>(ampMv * std::sin(2 * M_PI * hz * t / fs));
}

// LA/RA reversal: I -> -I, II <-> III, aVR <-> aVL (aVF and the chest leads unchanged).
inline void swapArms(EcgRecord& r) {
  for (float& v : lead(r, "I")->samples) v = -v;
  std::swap(lead(r, "II")->samples, lead(r, "III")->samples);
  std::swap(lead(r, "aVR")->samples, lead(r, "aVL")->samples);
}

// A rectangular stimulus of `widthS` and `ampMv` added to every lead `beforeS` ahead of each of
// the given R peaks (sample indices).
inline void addPacing(EcgRecord& r, const std::vector<std::size_t>& peaks, double widthS, double ampMv,
                      double beforeS) {
  const double fs = rhythmOf(r).samplingHz;
  const auto w = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(widthS * fs)));
  const auto before = static_cast<std::size_t>(std::lround(beforeS * fs));
  for (auto& c : rhythmOf(r).channels)
    for (std::size_t p : peaks) {
      if (p < before) continue;
      for (std::size_t t = p - before; t < p - before + w && t < c.samples.size(); ++t)
        c.samples[t] += static_cast<float>(ampMv);
    }
}

inline bool hasCode(const signal::EcgQuality& q, const std::string& code, const std::string& leadName = "*") {
  for (const auto& i : q.issues)
    if (i.code == code && (leadName == "*" || i.lead == leadName)) return true;
  return false;
}

inline bool hasUnusableIssue(const signal::EcgQuality& q) {
  for (const auto& i : q.issues)
    if (i.severity == signal::QualityIssue::Severity::Unusable) return true;
  return false;
}

}  // namespace e2e::test::quality
