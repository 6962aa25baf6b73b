#include <gtest/gtest.h>

#include <cmath>

#include "viewmodel/ecg_layout.h"

using namespace e2e;
using namespace e2e::vm;

namespace {
const EcgPanel* find(const EcgLayout& l, const std::string& label, bool rhythm = false) {
  for (const auto& p : l.panels)
    if (p.label == label && p.rhythm == rhythm && !p.median) return &p;
  return nullptr;
}
}  // namespace

TEST(EcgLayout, Grid3x4ColumnsShowTheirOwnWindow) {
  EcgLayoutParams p;
  p.layout = EcgLayoutKind::Grid3x4;
  auto l = computeEcgLayout(p);
  ASSERT_EQ(l.panels.size(), 12u);
  EXPECT_EQ(l.rows, 3);
  EXPECT_EQ(l.cols, 4);
  EXPECT_DOUBLE_EQ(l.columnWindowS, 2.5);
  const char* expected[4][3] = {{"I", "II", "III"}, {"aVR", "aVL", "aVF"}, {"V1", "V2", "V3"}, {"V4", "V5", "V6"}};
  for (int c = 0; c < 4; ++c)
    for (int r = 0; r < 3; ++r) {
      const auto* panel = find(l, expected[c][r]);
      ASSERT_NE(panel, nullptr) << expected[c][r];
      EXPECT_EQ(panel->col, c);
      EXPECT_EQ(panel->row, r);
      EXPECT_DOUBLE_EQ(panel->t0, 2.5 * c);
      EXPECT_DOUBLE_EQ(panel->t1, 2.5 * c + 2.5);
      EXPECT_DOUBLE_EQ(panel->wMm, 62.5);  // 2.5 s at 25 mm/s
      EXPECT_DOUBLE_EQ(panel->xMm, l.calAreaMm + 62.5 * c);
      EXPECT_DOUBLE_EQ(panel->hMm, 30.0);
      EXPECT_DOUBLE_EQ(panel->yMm, 30.0 * r);
      EXPECT_DOUBLE_EQ(panel->baselineYMm, 30.0 * r + 15.0);
    }
  EXPECT_DOUBLE_EQ(l.widthMm, l.calAreaMm + 250.0);
  EXPECT_DOUBLE_EQ(l.heightMm, 90.0);
  EXPECT_EQ(l.pulses.size(), 3u);
}

TEST(EcgLayout, RhythmStripIsLeadIiFullLength) {
  EcgLayoutParams p;  // default: 3x4 + rhythm
  auto l = computeEcgLayout(p);
  ASSERT_EQ(l.panels.size(), 13u);
  const auto* r = find(l, "II", true);
  ASSERT_NE(r, nullptr);
  EXPECT_DOUBLE_EQ(r->t0, 0.0);
  EXPECT_DOUBLE_EQ(r->t1, 10.0);
  EXPECT_DOUBLE_EQ(r->wMm, 250.0);
  EXPECT_DOUBLE_EQ(r->yMm, 90.0);
  EXPECT_EQ(l.rows, 4);
  EXPECT_EQ(l.pulses.size(), 4u);
  EXPECT_DOUBLE_EQ(l.heightMm, 120.0);
}

TEST(EcgLayout, RhythmLeadFallsBackWhenMissing) {
  EcgLayoutParams p;
  p.leads = {"I", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"};
  auto l = computeEcgLayout(p);
  const EcgPanel* rhythm = nullptr;
  for (const auto& panel : l.panels)
    if (panel.rhythm) rhythm = &panel;
  ASSERT_NE(rhythm, nullptr);
  EXPECT_EQ(rhythm->lead, "V1");
  const auto* ii = find(l, "II");
  ASSERT_NE(ii, nullptr);
  EXPECT_FALSE(ii->available);
}

TEST(EcgLayout, Grid6x2And12x1) {
  EcgLayoutParams p;
  p.layout = EcgLayoutKind::Grid6x2;
  auto l = computeEcgLayout(p);
  ASSERT_EQ(l.panels.size(), 12u);
  const auto* v1 = find(l, "V1");
  ASSERT_NE(v1, nullptr);
  EXPECT_EQ(v1->col, 1);
  EXPECT_EQ(v1->row, 0);
  EXPECT_DOUBLE_EQ(v1->t0, 5.0);
  EXPECT_DOUBLE_EQ(v1->t1, 10.0);
  EXPECT_DOUBLE_EQ(v1->wMm, 125.0);
  EXPECT_EQ(find(l, "aVF")->row, 5);
  EXPECT_EQ(l.pulses.size(), 6u);

  p.layout = EcgLayoutKind::Grid12x1;
  l = computeEcgLayout(p);
  ASSERT_EQ(l.panels.size(), 12u);
  for (const auto& panel : l.panels) {
    EXPECT_DOUBLE_EQ(panel.t0, 0.0);
    EXPECT_DOUBLE_EQ(panel.t1, 10.0);
    EXPECT_DOUBLE_EQ(panel.wMm, 250.0);
  }
  EXPECT_EQ(find(l, "V6")->row, 11);
  EXPECT_EQ(l.pulses.size(), 12u);
}

TEST(EcgLayout, CabreraOrder) {
  EcgLayoutParams p;
  p.layout = EcgLayoutKind::Grid3x4;
  p.order = LeadOrder::Cabrera;
  auto l = computeEcgLayout(p);
  const char* col0[] = {"aVL", "I", "-aVR"};
  const char* col1[] = {"II", "aVF", "III"};
  for (int r = 0; r < 3; ++r) {
    ASSERT_NE(find(l, col0[r]), nullptr);
    EXPECT_EQ(find(l, col0[r])->col, 0);
    EXPECT_EQ(find(l, col0[r])->row, r);
    EXPECT_EQ(find(l, col1[r])->col, 1);
    EXPECT_EQ(find(l, col1[r])->row, r);
  }
  const auto* maVR = find(l, "-aVR");
  EXPECT_TRUE(maVR->inverted);
  EXPECT_EQ(maVR->lead, "aVR");
  EXPECT_EQ(find(l, "aVR"), nullptr);

  p.layout = EcgLayoutKind::Grid6x2;
  l = computeEcgLayout(p);
  const char* order[] = {"aVL", "I", "-aVR", "II", "aVF", "III"};
  for (int r = 0; r < 6; ++r) {
    EXPECT_EQ(find(l, order[r])->row, r);
    EXPECT_EQ(find(l, order[r])->col, 0);
  }
}

TEST(EcgLayout, SpeedScalesWidthsNotWindows) {
  for (double speed : {12.5, 25.0, 50.0}) {
    EcgLayoutParams p;
    p.speedMmPerS = speed;
    p.layout = EcgLayoutKind::Grid3x4;
    auto l = computeEcgLayout(p);
    const auto* v4 = find(l, "V4");
    EXPECT_DOUBLE_EQ(v4->t0, 7.5);
    EXPECT_DOUBLE_EQ(v4->wMm, 2.5 * speed);
    EXPECT_DOUBLE_EQ(l.pulses[0].wMm, 0.2 * speed);
    EXPECT_GE(l.calAreaMm, l.pulses[0].xMm + l.pulses[0].wMm);
  }
}

TEST(EcgLayout, CalibrationPulseIsOneMillivoltAtEachGain) {
  for (double gain : {5.0, 10.0, 20.0}) {
    EcgLayoutParams p;
    p.gainMmPerMv = gain;
    auto l = computeEcgLayout(p);
    ASSERT_EQ(l.pulses.size(), 4u);
    for (std::size_t r = 0; r < l.pulses.size(); ++r) {
      const auto& pulse = l.pulses[r];
      EXPECT_DOUBLE_EQ(pulse.hMm, gain);         // 1 mV
      EXPECT_DOUBLE_EQ(pulse.wMm, 5.0);          // 200 ms at 25 mm/s
      EXPECT_LT(pulse.xMm + pulse.wMm, l.calAreaMm);  // before the traces start
      // At the start of its row, on the row's baseline, fitting in the row.
      const EcgPanel* first = nullptr;
      for (const auto& panel : l.panels)
        if (panel.row == static_cast<int>(r) && panel.col == 0) first = &panel;
      ASSERT_NE(first, nullptr);
      EXPECT_DOUBLE_EQ(pulse.baselineYMm, first->baselineYMm);
      EXPECT_GE(pulse.baselineYMm - pulse.hMm, first->yMm);
    }
  }
}

TEST(EcgLayout, NonTwelveLeadRecordGetsOneRowPerLead) {
  EcgLayoutParams p;
  p.leads = {"MLII", "V5"};
  auto l = computeEcgLayout(p);
  ASSERT_EQ(l.panels.size(), 2u);
  EXPECT_EQ(l.panels[0].lead, "MLII");
  EXPECT_EQ(l.panels[1].row, 1);
  EXPECT_DOUBLE_EQ(l.panels[1].t1, 10.0);
}

TEST(EcgLayout, MedianBlockBelowGrid) {
  EcgLayoutParams p;
  p.medianDurationS = 1.2;
  auto l = computeEcgLayout(p);
  int medians = 0;
  for (const auto& panel : l.panels)
    if (panel.median) {
      ++medians;
      EXPECT_GE(panel.yMm, 120.0);
      EXPECT_DOUBLE_EQ(panel.t1, 1.2);
    }
  EXPECT_EQ(medians, 12);
  EXPECT_DOUBLE_EQ(l.medianTopMm, 125.0);
  EXPECT_EQ(l.pulses.size(), 6u);
  // Limb leads on the first median row, chest leads on the second; 1.2 s -> 30 mm wide.
  for (const auto& panel : l.panels)
    if (panel.median) {
      const bool chest = panel.lead[0] == 'V';
      EXPECT_DOUBLE_EQ(panel.yMm, chest ? 155.0 : 125.0) << panel.lead;
      EXPECT_DOUBLE_EQ(panel.wMm, 30.0);
    }
  EXPECT_DOUBLE_EQ(l.heightMm, 185.0);
}

TEST(EcgLayout, ShortRecordAndInvalidInput) {
  EcgLayoutParams p;
  p.durationS = 5.0;
  p.layout = EcgLayoutKind::Grid3x4;
  auto l = computeEcgLayout(p);
  EXPECT_DOUBLE_EQ(l.columnWindowS, 1.25);
  p.speedMmPerS = 0;
  EXPECT_THROW(computeEcgLayout(p), std::invalid_argument);
}

TEST(EcgLayout, PagesThroughLongRecords) {
  EcgLayoutParams p;
  p.durationS = 38.4;
  p.startS = 20.0;
  auto l = computeEcgLayout(p);
  EXPECT_DOUBLE_EQ(l.startS, 20.0);
  EXPECT_DOUBLE_EQ(l.endS, 30.0);
  const auto* v1 = find(l, "V1");
  EXPECT_DOUBLE_EQ(v1->t0, 25.0);
  EXPECT_DOUBLE_EQ(v1->t1, 27.5);
  EXPECT_DOUBLE_EQ(find(l, "II", true)->t0, 20.0);
  EXPECT_DOUBLE_EQ(find(l, "II", true)->t1, 30.0);
  EXPECT_DOUBLE_EQ(v1->xMm, l.calAreaMm + 2 * 62.5);  // positions do not move
  p.startS = 35.0;  // clamped so that the page stays full
  l = computeEcgLayout(p);
  EXPECT_NEAR(l.startS, 28.4, 1e-12);
  EXPECT_NEAR(find(l, "II", true)->t1, 38.4, 1e-12);
  p.startS = -3.0;
  EXPECT_DOUBLE_EQ(computeEcgLayout(p).startS, 0.0);
  p.durationS = 8.0;  // short record: always from 0
  p.startS = 2.0;
  EXPECT_DOUBLE_EQ(computeEcgLayout(p).startS, 0.0);
}

TEST(EcgLayout, LayoutNamesRoundTrip) {
  for (auto k : {EcgLayoutKind::Grid3x4, EcgLayoutKind::Grid3x4Rhythm, EcgLayoutKind::Grid6x2, EcgLayoutKind::Grid12x1})
    EXPECT_EQ(layoutFromString(toString(k)), k);
  EXPECT_FALSE(layoutFromString("4x3").has_value());
}

TEST(Calipers, TimeAndAmplitudeFromMillimetres) {
  EXPECT_DOUBLE_EQ(mmToMs(5.0, 25.0), 200.0);
  EXPECT_DOUBLE_EQ(mmToMs(5.0, 50.0), 100.0);
  EXPECT_DOUBLE_EQ(mmToMs(5.0, 12.5), 400.0);
  EXPECT_DOUBLE_EQ(mmToMv(10.0, 10.0), 1.0);
  EXPECT_DOUBLE_EQ(mmToMv(10.0, 20.0), 0.5);
  EXPECT_DOUBLE_EQ(mmToMv(10.0, 5.0), 2.0);
  EXPECT_DOUBLE_EQ(msToMm(1000.0, 25.0), 25.0);
  EXPECT_DOUBLE_EQ(mvToMm(1.5, 10.0), 15.0);
  EXPECT_DOUBLE_EQ(rateFromIntervalMs(800.0), 75.0);
  EXPECT_TRUE(std::isnan(rateFromIntervalMs(0.0)));
}

TEST(Calipers, PanelHitTestAndReadout) {
  EcgLayoutParams p;
  p.layout = EcgLayoutKind::Grid3x4;
  p.order = LeadOrder::Cabrera;
  auto l = computeEcgLayout(p);
  // 10 mm into the second column, 5 mm above the baseline of row 2 (-aVR is col 0 row 2).
  const double x = l.calAreaMm + 62.5 + 10.0, y = 60.0 + 15.0 - 5.0;
  const int i = panelAt(l, x, y);
  ASSERT_GE(i, 0);
  const auto& panel = l.panels[static_cast<std::size_t>(i)];
  EXPECT_EQ(panel.label, "III");
  EXPECT_NEAR(panelTimeAt(panel, x, 25.0), 2.9, 1e-12);
  EXPECT_NEAR(panelAmplitudeAt(panel, y, 10.0), 0.5, 1e-12);
  const int j = panelAt(l, l.calAreaMm + 1.0, y);
  EXPECT_EQ(l.panels[static_cast<std::size_t>(j)].label, "-aVR");
  EXPECT_NEAR(panelAmplitudeAt(l.panels[static_cast<std::size_t>(j)], y, 10.0), -0.5, 1e-12);
  EXPECT_EQ(panelAt(l, 1.0, 1.0), -1);  // calibration column
}

TEST(Calipers, SampleInterpolation) {
  EcgGroup g;
  g.samplingHz = 500;
  EcgChannel c;
  c.label = "II";
  for (int i = 0; i < 500; ++i) c.samples.push_back(static_cast<float>(i) * 0.01f);
  g.channels.push_back(c);
  g.numSamples = 500;
  EXPECT_NEAR(sampleAt(g, "II", 0.101), 0.505, 1e-5);
  EXPECT_TRUE(std::isnan(sampleAt(g, "II", 2.0)));
  EXPECT_TRUE(std::isnan(sampleAt(g, "V1", 0.1)));
}

TEST(Qtc, BazettAndFridericia) {
  EXPECT_NEAR(qtcBazett(400, 1000), 400, 1e-9);
  EXPECT_NEAR(qtcBazett(360, 640), 450, 1e-9);      // sqrt(0.64) = 0.8
  EXPECT_NEAR(qtcFridericia(360, 729), 400, 1e-9);  // cbrt(0.729) = 0.9
  EcgMeasurements m;
  m.qtMs = 360;
  m.heartRateBpm = 93.75;  // RR 640 ms
  auto r = qtcFor(m);
  EXPECT_TRUE(r.computed);
  EXPECT_EQ(r.formula, "Bazett");
  EXPECT_NEAR(r.qtcMs, 450, 1e-9);
  r = qtcFor(m, "Fridericia");
  EXPECT_EQ(r.formula, "Fridericia");
  EXPECT_NEAR(r.qtcMs, 360 / std::cbrt(0.64), 1e-9);
  m.qtcMs = 444;
  m.qtcFormula = "Hodges";
  r = qtcFor(m);
  EXPECT_FALSE(r.computed);
  EXPECT_EQ(r.formula, "Hodges");
  EXPECT_DOUBLE_EQ(r.qtcMs, 444);
  EcgMeasurements none;
  EXPECT_TRUE(std::isnan(qtcFor(none).qtcMs));
}

TEST(DeviceFilters, TextFromChannelSettings) {
  EcgGroup g;
  EcgChannel c;
  c.lowFreqHz = 0.05;
  c.highFreqHz = 150;
  c.notchHz = 60;
  g.channels.push_back(c);
  EXPECT_EQ(deviceFilterText(g), "0.05-150 Hz, notch 60 Hz");
  EcgGroup empty;
  empty.channels.push_back(EcgChannel{});
  EXPECT_EQ(deviceFilterText(empty), "");
}
