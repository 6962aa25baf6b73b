// Signal quality on ALL 200 LUDB records and the CinC 2021 records: clean originals and degraded
// copies made here. The detection and false-flag rates are measured, printed, and asserted.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

#include "quality_fixture.h"
#include "signal/ecg_quality_internal.h"

namespace q = e2e::test::quality;
using e2e::EcgRecord;
using e2e::signal::assessEcgQuality;
using e2e::signal::EcgQuality;

namespace {

const std::vector<std::string> kCodes = {"missing", "flat",   "clipped",       "noise",
                                         "baseline_wander", "lead_off", "limb_reversal", "pacing"};
// "flat": V3 zeroed (detected = V3 flat and the record still usable); "six_zeroed": V1..V6 zeroed
// (detected = not usable); "lead_off": V2 held at one value for 4 s; the others: the code itself.
const std::vector<std::string> kDegradations = {"flat",          "six_zeroed", "lead_off", "clipped", "noise",
                                                "baseline_wander", "limb_reversal", "pacing"};

struct Rates {
  int records = 0;
  int usable = 0;
  std::map<std::string, int> originalFlagged;  // code -> records with that code
  std::map<std::string, int> detected;         // degradation -> copies with the expected code
  std::map<std::string, int> copies;           // degradation -> copies made
  std::map<std::string, int> copiesUsable;
  std::vector<std::string> unusableOriginals;
  std::vector<std::string> flaggedOriginals;  // "file: lead code, ..." for the report
};

EcgQuality degradeAndAssess(const EcgRecord& src, const std::string& kind, unsigned seed) {
  EcgRecord r = src;
  if (kind == "flat") q::zeroLeads(r, {"V3"});
  if (kind == "six_zeroed") q::zeroLeads(r, {"V1", "V2", "V3", "V4", "V5", "V6"});
  if (kind == "lead_off") {
    auto& v = q::lead(r, "V2")->samples;
    const auto fs = q::rhythmOf(r).samplingHz;
    const auto a = static_cast<std::size_t>(2 * fs), b = std::min(v.size(), static_cast<std::size_t>(6 * fs));
    if (a < b) std::fill(v.begin() + static_cast<std::ptrdiff_t>(a), v.begin() + static_cast<std::ptrdiff_t>(b), v[a]);
  }
  if (kind == "clipped") q::clipAll(r, 0.5f);
  if (kind == "noise") q::addNoise(r, 0.3, 0.1, seed);
  if (kind == "baseline_wander") q::addSine(r, 0.2, 1.0);  // 2 mV peak-to-peak
  if (kind == "limb_reversal") q::swapArms(r);
  if (kind == "pacing") {
    std::vector<std::vector<double>> rows;
    std::vector<bool> usable;
    for (const auto& l : e2e::standardLeads()) {
      const e2e::EcgChannel* c = q::lead(r, l);
      rows.emplace_back(c ? std::vector<double>(c->samples.begin(), c->samples.end()) : std::vector<double>());
      usable.push_back(c != nullptr);
    }
    const auto peaks = e2e::signal::quality::detectBeats(rows, usable, q::rhythmOf(r).samplingHz);
    q::addPacing(r, peaks, 0.002, 5.0, 0.04);
  }
  return assessEcgQuality(r);
}

Rates measure(const std::vector<std::string>& paths) {
  Rates s;
  unsigned seed = 1;
  for (const auto& p : paths) {
    const EcgRecord rec = q::readEcg(p);
    const EcgQuality orig = assessEcgQuality(rec);
    ++s.records;
    if (orig.usable) ++s.usable;
    else s.unusableOriginals.push_back(p + ": " + orig.reason);
    for (const auto& c : kCodes)
      if (q::hasCode(orig, c)) ++s.originalFlagged[c];
    if (!orig.issues.empty()) {
      std::string line = std::filesystem::path(p).filename().string() + ":";
      for (const auto& i : orig.issues) line += " " + (i.lead.empty() ? std::string("record") : i.lead) + "/" + i.code;
      s.flaggedOriginals.push_back(line);
    }
    for (const auto& d : kDegradations) {
      if (d == "pacing" && rec.rhythm()->samplingHz < e2e::signal::quality::kPacingMinHz) continue;
      const EcgQuality deg = degradeAndAssess(rec, d, seed++);
      ++s.copies[d];
      if (deg.usable) ++s.copiesUsable[d];
      const bool hit = d == "flat"         ? q::hasCode(deg, "flat", "V3") && deg.usable
                       : d == "six_zeroed" ? !deg.usable && !deg.reason.empty()
                       : d == "lead_off"   ? q::hasCode(deg, "lead_off", "V2")
                                           : q::hasCode(deg, d);
      if (hit) ++s.detected[d];
    }
  }
  return s;
}

void print(const char* name, const Rates& s) {
  std::printf("[quality] %s: %d records, %d usable\n", name, s.records, s.usable);
  for (const auto& c : kCodes)
    std::printf("[quality] %s originals flagged %-16s %3d / %d\n", name, c.c_str(), s.originalFlagged.count(c) ? s.originalFlagged.at(c) : 0, s.records);
  for (const auto& d : kDegradations)
    std::printf("[quality] %s degraded %-16s detected %3d / %d (usable %d)\n", name, d.c_str(),
                s.detected.count(d) ? s.detected.at(d) : 0, s.copies.count(d) ? s.copies.at(d) : 0,
                s.copiesUsable.count(d) ? s.copiesUsable.at(d) : 0);
  for (const auto& f : s.flaggedOriginals) std::printf("[quality] %s flagged original %s\n", name, f.c_str());
  for (const auto& u : s.unusableOriginals) std::printf("[quality] %s unusable original %s\n", name, u.c_str());
}

const Rates& ludb() {
  static const Rates s = [] {
    Rates r = measure(q::ludbPaths());
    print("LUDB", r);
    return r;
  }();
  return s;
}

const Rates& cinc() {
  static const Rates s = [] {
    Rates r = measure(q::cincPaths());
    print("CinC", r);
    return r;
  }();
  return s;
}

double rate(const std::map<std::string, int>& m, const std::string& k, int of) {
  return of ? (m.count(k) ? m.at(k) : 0) / static_cast<double>(of) : 0.0;
}

}  // namespace

// One test per data set: under ctest every test is its own process, and the measurement (all
// records, every degraded copy) is the expensive part.
TEST(QualityRates, Ludb200OriginalsAndDegradedCopies) {
  const Rates& s = ludb();
  ASSERT_EQ(s.records, 200);
  // Every clean original is usable.
  EXPECT_EQ(s.usable, 200);
  EXPECT_TRUE(s.unusableOriginals.empty());
  // Originals are rarely flagged.
  EXPECT_LE(rate(s.originalFlagged, "limb_reversal", 200), 0.05);
  EXPECT_LE(rate(s.originalFlagged, "pacing", 200), 0.02);
  EXPECT_LE(rate(s.originalFlagged, "clipped", 200), 0.05);
  EXPECT_LE(rate(s.originalFlagged, "flat", 200), 0.02);
  EXPECT_LE(rate(s.originalFlagged, "missing", 200), 0.0);
  // Degraded copies are detected.
  for (const auto& d : kDegradations) ASSERT_EQ(s.copies.count(d) ? s.copies.at(d) : 0, 200) << d;
  EXPECT_EQ(rate(s.detected, "flat", 200), 1.0);
  EXPECT_EQ(rate(s.detected, "six_zeroed", 200), 1.0);
  EXPECT_EQ(rate(s.detected, "lead_off", 200), 1.0);
  EXPECT_GE(rate(s.detected, "clipped", 200), 0.95);
  EXPECT_GE(rate(s.detected, "noise", 200), 0.95);
  EXPECT_GE(rate(s.detected, "baseline_wander", 200), 0.95);
  EXPECT_GE(rate(s.detected, "pacing", 200), 0.95);
  EXPECT_GE(rate(s.detected, "limb_reversal", 200), 0.70);
  // A single degradation never makes a clean record unusable (except zeroing six leads).
  for (const auto& d : kDegradations)
    if (d != "six_zeroed") EXPECT_EQ(rate(s.copiesUsable, d, 200), 1.0) << d;
}

TEST(QualityRates, CincOriginalsAndDegradedCopies) {
  const Rates& s = cinc();
  ASSERT_GE(s.records, 40);
  EXPECT_EQ(s.usable, s.records);
  EXPECT_LE(rate(s.originalFlagged, "limb_reversal", s.records), 0.10);
  EXPECT_EQ(rate(s.detected, "flat", s.records), 1.0);
  EXPECT_EQ(rate(s.detected, "six_zeroed", s.records), 1.0);
  EXPECT_GE(rate(s.detected, "clipped", s.records), 0.9);
  EXPECT_GE(rate(s.detected, "noise", s.records), 0.9);
  EXPECT_GE(rate(s.detected, "baseline_wander", s.records), 0.9);
  EXPECT_GE(rate(s.detected, "limb_reversal", s.records), 0.6);
  EXPECT_GE(rate(s.detected, "lead_off", s.records), 0.9);  // not where V2 is flat already
  ASSERT_EQ(s.copies.count("pacing") ? s.copies.at("pacing") : 0, s.records) << "all CinC records here are 500 Hz";
  EXPECT_GE(rate(s.detected, "pacing", s.records), 0.9);
}
