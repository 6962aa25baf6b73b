// Signal quality: single cases on real ECGs (LUDB, CinC 2021, the DICOM waveform ECGs) and on
// degraded copies of them made here.
#include <gtest/gtest.h>

#include <cstring>

#include "quality_fixture.h"
#include "signal/ecg_quality_internal.h"

namespace q = e2e::test::quality;
using e2e::EcgRecord;
using e2e::signal::assessEcgQuality;
using e2e::signal::EcgQuality;
using e2e::signal::QualityIssue;

namespace {

EcgRecord ludb(int i) { return q::readEcg(e2e::test::dataFile("ecg_wfdb/ludb/data/" + std::to_string(i) + ".hea").string()); }

const e2e::signal::LeadQuality& leadOf(const EcgQuality& eq, const std::string& name) {
  for (const auto& l : eq.leads)
    if (l.lead == name) return l;
  throw std::runtime_error("no lead " + name);
}

bool leadHas(const EcgQuality& eq, const std::string& lead, const std::string& code) {
  const auto& c = leadOf(eq, lead).codes;
  return std::find(c.begin(), c.end(), code) != c.end();
}

}  // namespace

TEST(QualityCases, CleanLudbRecordIsUsableAndScoresHigh) {
  const EcgQuality eq = assessEcgQuality(ludb(1));
  EXPECT_TRUE(eq.usable) << eq.reason;
  EXPECT_TRUE(eq.reason.empty());
  EXPECT_EQ(eq.version, "quality-v1");
  ASSERT_EQ(eq.leads.size(), 12u);
  EXPECT_EQ(eq.leads[0].lead, "I");
  EXPECT_EQ(eq.leads[11].lead, "V6");
  EXPECT_EQ(eq.usableLeads, 12);
  EXPECT_GT(eq.score, 0.8);
  EXPECT_DOUBLE_EQ(eq.samplingHz, 500.0);
  EXPECT_DOUBLE_EQ(eq.durationS, 10.0);
  for (const auto& l : eq.leads) {
    EXPECT_TRUE(l.present) << l.lead;
    EXPECT_GT(l.peakToPeakMv, 0.1) << l.lead;
    EXPECT_LT(l.noiseRmsMv, 0.05) << l.lead;
  }
  EXPECT_FALSE(q::hasUnusableIssue(eq));
}

TEST(QualityCases, DicomEcgsAreUsable) {
  for (const auto& p : q::dicomPaths()) {
    const EcgRecord rec = q::readEcg(p);
    const EcgQuality eq = assessEcgQuality(rec);
    EXPECT_TRUE(eq.usable) << p << ": " << eq.reason;
    EXPECT_FALSE(q::hasUnusableIssue(eq)) << p;
    EXPECT_GE(eq.usableLeads, 8) << p;
  }
}

TEST(QualityCases, OneZeroedLeadIsFlatAndRecordStaysUsable) {
  EcgRecord r = ludb(2);
  q::zeroLeads(r, {"V3"});
  const EcgQuality eq = assessEcgQuality(r);
  EXPECT_TRUE(eq.usable) << eq.reason;
  EXPECT_TRUE(leadHas(eq, "V3", "flat"));
  EXPECT_EQ(leadOf(eq, "V3").score, 0.0);
  EXPECT_EQ(eq.usableLeads, 11);
  ASSERT_TRUE(q::hasCode(eq, "flat", "V3"));
  for (const auto& i : eq.issues)
    if (i.code == "flat") {
      EXPECT_EQ(i.severity, QualityIssue::Severity::Warning);
      EXPECT_NE(i.message.find("V3: flat"), std::string::npos) << i.message;
    }
  for (const auto& l : eq.leads)
    if (l.lead != "V3") EXPECT_FALSE(leadHas(eq, l.lead, "flat")) << l.lead;
}

TEST(QualityCases, SixZeroedLeadsMakeTheRecordUnusable) {
  EcgRecord r = ludb(3);
  q::zeroLeads(r, {"V1", "V2", "V3", "V4", "V5", "V6"});
  const EcgQuality eq = assessEcgQuality(r);
  EXPECT_FALSE(eq.usable);
  EXPECT_NE(eq.reason.find("6 of 12 standard leads usable"), std::string::npos) << eq.reason;
  EXPECT_LE(eq.score, 0.2);
  ASSERT_FALSE(eq.issues.empty());
  EXPECT_TRUE(eq.issues.front().lead.empty()) << "record-level issues come first";
  EXPECT_EQ(eq.issues.front().severity, QualityIssue::Severity::Unusable);
}

TEST(QualityCases, DerivedLimbLeadsCountAsPresent) {
  EcgRecord r = ludb(4);
  auto& ch = q::rhythmOf(r).channels;
  ch.erase(std::remove_if(ch.begin(), ch.end(),
                          [](const e2e::EcgChannel& c) {
                            const std::string l = e2e::canonicalLeadName(c.label);
                            return l == "III" || l == "aVR" || l == "aVL" || l == "aVF";
                          }),
           ch.end());
  ASSERT_EQ(ch.size(), 8u);
  const EcgQuality eq = assessEcgQuality(r);
  EXPECT_TRUE(eq.usable) << eq.reason;
  EXPECT_EQ(eq.usableLeads, 12);
  EXPECT_FALSE(q::hasCode(eq, "missing"));
}

TEST(QualityCases, MissingChestLeadsAreReported) {
  EcgRecord r = ludb(5);
  auto& ch = q::rhythmOf(r).channels;
  ch.erase(std::remove_if(ch.begin(), ch.end(),
                          [](const e2e::EcgChannel& c) { return e2e::canonicalLeadName(c.label)[0] == 'V'; }),
           ch.end());
  const EcgQuality eq = assessEcgQuality(r);
  EXPECT_FALSE(eq.usable);
  EXPECT_TRUE(q::hasCode(eq, "missing", "V1"));
  EXPECT_FALSE(leadOf(eq, "V1").present);
  EXPECT_NE(eq.reason.find("6 of 12"), std::string::npos) << eq.reason;
}

TEST(QualityCases, ShortAndEmptyRecordsAreUnusable) {
  EcgRecord r = ludb(6);
  for (auto& c : q::rhythmOf(r).channels) c.samples.resize(750);  // 1.5 s
  q::rhythmOf(r).numSamples = 750;
  EcgQuality eq = assessEcgQuality(r);
  EXPECT_FALSE(eq.usable);
  EXPECT_NE(eq.reason.find("1.50 s of signal"), std::string::npos) << eq.reason;

  EcgRecord none;
  eq = assessEcgQuality(none);
  EXPECT_FALSE(eq.usable);
  EXPECT_NE(eq.reason.find("no rhythm waveform"), std::string::npos) << eq.reason;
  EXPECT_EQ(eq.leads.size(), 12u);
}

TEST(QualityCases, StuckLeadIsLeadOff) {
  EcgRecord r = ludb(7);
  auto& s = q::lead(r, "V2")->samples;
  std::fill(s.begin() + 1000, s.begin() + 3000, s[1000]);  // 4 s at one value
  const EcgQuality eq = assessEcgQuality(r);
  EXPECT_TRUE(leadHas(eq, "V2", "lead_off"));
  EXPECT_TRUE(eq.usable);
  EXPECT_EQ(eq.usableLeads, 12) << "stuck for 40 %: still counted usable";
}

TEST(QualityCases, ClippedNoisyWanderingCopiesAreFlaggedOnTheirLeads) {
  EcgRecord clipped = ludb(8);
  q::clipAll(clipped, 0.5f);
  const EcgQuality c = assessEcgQuality(clipped);
  EXPECT_TRUE(q::hasCode(c, "clipped"));
  for (const auto& l : c.leads)
    if (leadHas(c, l.lead, "clipped")) EXPECT_GT(l.clippedFraction, 0.005) << l.lead;

  EcgRecord noisy = ludb(8);
  q::addNoise(noisy, 0.3, 0.1, 42);
  const EcgQuality n = assessEcgQuality(noisy);
  for (const auto& l : n.leads) EXPECT_TRUE(leadHas(n, l.lead, "noise")) << l.lead;
  EXPECT_NE(n.issues[0].message.find("50 Hz mains"), std::string::npos) << n.issues[0].message;

  EcgRecord wander = ludb(8);
  q::addSine(wander, 0.2, 1.0);
  const EcgQuality w = assessEcgQuality(wander);
  for (const auto& l : w.leads) {
    EXPECT_TRUE(leadHas(w, l.lead, "baseline_wander")) << l.lead;
    EXPECT_GT(l.wanderMv, 1.5) << l.lead;
  }
  EXPECT_LT(w.score, assessEcgQuality(ludb(8)).score);
}

TEST(QualityCases, AllLeadsNoiseDominatedIsUnusable) {
  EcgRecord r = ludb(9);
  q::addNoise(r, 0.0, 5.0, 7);  // white noise of 5 mV RMS buries every QRS
  const EcgQuality eq = assessEcgQuality(r);
  EXPECT_FALSE(eq.usable);
  EXPECT_NE(eq.reason.find("dominated by noise"), std::string::npos) << eq.reason;
}

TEST(QualityCases, PacingNeedsFiveHundredHertz) {
  EcgRecord r = ludb(10);
  EcgRecord low = r;
  auto& g = q::rhythmOf(low);
  for (auto& c : g.channels) {
    std::vector<float> d;
    for (std::size_t t = 0; t < c.samples.size(); t += 2) d.push_back(c.samples[t]);
    c.samples = d;
  }
  g.samplingHz = 250;
  g.numSamples = g.channels[0].samples.size();
  const EcgQuality eq = assessEcgQuality(low);
  EXPECT_TRUE(eq.usable) << eq.reason;
  EXPECT_FALSE(eq.pacingAssessable);
  ASSERT_EQ(eq.notes.size(), 1u);
  EXPECT_NE(eq.notes[0].find("not assessable at 250 Hz"), std::string::npos) << eq.notes[0];
  EXPECT_TRUE(assessEcgQuality(r).pacingAssessable);
}

TEST(QualityCases, SeverityNames) {
  EXPECT_STREQ(e2e::signal::toString(QualityIssue::Severity::Warning), "warning");
  EXPECT_STREQ(e2e::signal::toString(QualityIssue::Severity::Unusable), "unusable");
}

TEST(QualityCases, LongRecordsAreAssessedOnTheirFirstFiveMinutes) {
  EcgRecord r = ludb(11);
  auto& g = q::rhythmOf(r);
  for (auto& c : g.channels) {
    const std::vector<float> ten = c.samples;
    for (int k = 1; k < 40; ++k) c.samples.insert(c.samples.end(), ten.begin(), ten.end());  // 400 s
  }
  g.numSamples = g.channels[0].samples.size();
  const EcgQuality eq = assessEcgQuality(r);
  EXPECT_TRUE(eq.usable) << eq.reason;
  EXPECT_DOUBLE_EQ(eq.durationS, 300.0);
  ASSERT_FALSE(eq.notes.empty());
  EXPECT_EQ(eq.notes[0], "quality assessed on the first 300 s of 400 s");
}
