// Traces are never cut at the grid (core/viewmodel/ecg_layout: fitTraceHeadroom, maxHeightMm).
#include <gtest/gtest.h>

#include <cmath>

#include "viewmodel/ecg_layout.h"

using namespace e2e;
using namespace e2e::vm;

namespace {
// 12 standard leads at 500 Hz, 10 s of zeros; `lead` gets one sample of `mv` at time t.
EcgRecord spikeRecord(const std::string& lead, double t, float mv) {
  EcgRecord r;
  EcgGroup g;
  g.label = "RHYTHM";
  g.samplingHz = 500;
  g.numSamples = 5000;
  for (const auto& l : standardLeads()) {
    EcgChannel c;
    c.label = l;
    c.unit = "mV";
    c.samples.assign(5000, 0.0f);
    if (l == lead) c.samples[static_cast<std::size_t>(t * 500)] = mv;
    g.channels.push_back(c);
  }
  r.groups.push_back(g);
  return r;
}

const EcgPanel* panelOf(const EcgLayout& l, const std::string& lead) {
  for (const auto& p : l.panels)
    if (p.lead == lead && !p.rhythm && !p.median) return &p;
  return nullptr;
}

EcgLayoutParams params3x4() {
  EcgLayoutParams p;
  p.layout = EcgLayoutKind::Grid3x4;
  return p;
}
}  // namespace

TEST(EcgHeadroom, TallTopRowPeakGetsRoomAboveTheGrid) {
  // V4 is in the first row of 3x4 (baseline 15 mm under the top); a 2.25 mV R wave at 10 mm/mV
  // reaches 22.5 mm above its baseline: 7.5 mm above the grid -> 10 mm (two squares) of room.
  const EcgRecord r = spikeRecord("V4", 8.0, 2.25f);
  EcgLayout l = computeEcgLayout(params3x4());
  const double h0 = l.heightMm;
  const EcgPanel before = *panelOf(l, "V4");
  const TraceExtent e0 = traceExtentMm(before, *r.rhythm(), 10.0);
  EXPECT_NEAR(e0.topMm, before.baselineYMm - 22.5, 1e-4);
  EXPECT_LT(e0.topMm, 0.0) << "the peak would leave the grid";

  fitTraceHeadroom(l, r, 10.0);
  EXPECT_DOUBLE_EQ(l.topHeadroomMm, 10.0);
  EXPECT_DOUBLE_EQ(l.bottomHeadroomMm, 0.0);
  EXPECT_DOUBLE_EQ(l.heightMm, h0 + 10.0);
  const EcgPanel* v4 = panelOf(l, "V4");
  EXPECT_DOUBLE_EQ(v4->baselineYMm, before.baselineYMm + 10.0);
  const TraceExtent e = traceExtentMm(*v4, *r.rhythm(), 10.0);
  EXPECT_GE(e.topMm, 0.0);
  EXPECT_NEAR(v4->baselineYMm - e.topMm, 22.5, 1e-4) << "the peak keeps its true height";
  // Pulses moved with their rows.
  EXPECT_DOUBLE_EQ(l.pulses[0].baselineYMm, v4->baselineYMm);
}

TEST(EcgHeadroom, DeepBottomRowTroughGetsRoomUnderTheGrid) {
  const EcgRecord r = spikeRecord("V6", 9.0, -3.0f);  // last row of 3x4: 15 mm under its baseline fit
  EcgLayout l = computeEcgLayout(params3x4());
  const double h0 = l.heightMm;
  fitTraceHeadroom(l, r, 10.0);
  EXPECT_DOUBLE_EQ(l.topHeadroomMm, 0.0);
  EXPECT_DOUBLE_EQ(l.bottomHeadroomMm, 15.0);  // 30 - 15 mm
  const TraceExtent e = traceExtentMm(*panelOf(l, "V6"), *r.rhythm(), 10.0);
  EXPECT_LE(e.bottomMm, l.heightMm);
  EXPECT_DOUBLE_EQ(l.heightMm, h0 + 15.0);
}

TEST(EcgHeadroom, MiddleRowsMayOverlapTheirNeighboursWithoutRoom) {
  // V5 is the middle row: its 2.5 mV peak runs over V4's row, inside the grid: no room added.
  const EcgRecord r = spikeRecord("V5", 8.0, 2.5f);
  EcgLayout l = computeEcgLayout(params3x4());
  const double h0 = l.heightMm;
  fitTraceHeadroom(l, r, 10.0);
  EXPECT_DOUBLE_EQ(l.heightMm, h0);
  const TraceExtent e = traceExtentMm(*panelOf(l, "V5"), *r.rhythm(), 10.0);
  EXPECT_LT(e.topMm, panelOf(l, "V5")->yMm) << "runs over the row above";
  EXPECT_GE(e.topMm, 0.0);
}

TEST(EcgHeadroom, InvertedCabreraLeadUsesItsDrawnSign) {
  EcgLayoutParams p = params3x4();
  p.order = LeadOrder::Cabrera;
  const EcgRecord r = spikeRecord("aVR", 0.5, -2.0f);  // -aVR is drawn +2 mV
  EcgLayout l = computeEcgLayout(p);
  const EcgPanel* avr = panelOf(l, "aVR");
  ASSERT_TRUE(avr && avr->inverted);
  const TraceExtent e = traceExtentMm(*avr, *r.rhythm(), 10.0);
  EXPECT_NEAR(e.topMm, avr->baselineYMm - 20.0, 1e-4);
}

TEST(EcgHeadroom, FixedPaperLimitsTheRoomAndTheRowPitch) {
  EcgLayoutParams p;
  p.layout = EcgLayoutKind::Grid12x1;  // 12 rows x 20 mm = 240 mm at 10 mm/mV
  EcgLayout natural = computeEcgLayout(p);
  EXPECT_DOUBLE_EQ(natural.heightMm, 240.0);
  p.maxHeightMm = 150.0;
  EcgLayout l = computeEcgLayout(p);
  EXPECT_LE(l.heightMm, 150.0);
  EXPECT_DOUBLE_EQ(l.rowPitchMm, 10.0);
  EXPECT_DOUBLE_EQ(l.pulses[0].hMm, 10.0) << "the scale never changes";
  const EcgRecord r = spikeRecord("I", 1.0, 4.0f);  // 40 mm over a 5 mm baseline offset
  fitTraceHeadroom(l, r, 10.0, 150.0);
  EXPECT_LE(l.heightMm, 150.0);
  EXPECT_DOUBLE_EQ(l.topHeadroomMm, 150.0 - 120.0) << "all the paper left, no more";
}

TEST(EcgHeadroom, NoSamplesNoExtentNoRoom) {
  EcgLayout l = computeEcgLayout(params3x4());
  const double h0 = l.heightMm;
  EcgRecord empty;
  fitTraceHeadroom(l, empty, 10.0);
  EXPECT_DOUBLE_EQ(l.heightMm, h0);
  EXPECT_TRUE(std::isnan(traceExtentMm(l.panels[0], EcgGroup{}, 10.0).topMm));
}
