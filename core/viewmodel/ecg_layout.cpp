#include "viewmodel/ecg_layout.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace e2e::vm {

const char* toString(EcgLayoutKind k) {
  switch (k) {
    case EcgLayoutKind::Grid3x4: return "3x4";
    case EcgLayoutKind::Grid3x4Rhythm: return "3x4+R";
    case EcgLayoutKind::Grid6x2: return "6x2";
    case EcgLayoutKind::Grid12x1: return "12x1";
  }
  return "3x4+R";
}

std::optional<EcgLayoutKind> layoutFromString(const std::string& s) {
  for (auto k : {EcgLayoutKind::Grid3x4, EcgLayoutKind::Grid3x4Rhythm, EcgLayoutKind::Grid6x2,
                 EcgLayoutKind::Grid12x1})
    if (s == toString(k)) return k;
  return std::nullopt;
}

namespace {

double roundUpTo(double v, double step) { return std::ceil(v / step - 1e-9) * step; }

struct Slot {
  std::string lead;
  std::string label;
  bool inverted = false;
};

Slot slot(const std::string& lead) { return {lead, lead, false}; }

std::vector<Slot> limbLeads(LeadOrder order) {
  if (order == LeadOrder::Cabrera)
    return {slot("aVL"), slot("I"), {"aVR", "-aVR", true}, slot("II"), slot("aVF"), slot("III")};
  return {slot("I"), slot("II"), slot("III"), slot("aVR"), slot("aVL"), slot("aVF")};
}

std::vector<Slot> twelveLeads(LeadOrder order) {
  auto v = limbLeads(order);
  for (const char* l : {"V1", "V2", "V3", "V4", "V5", "V6"}) v.push_back(slot(l));
  return v;
}

// Whether the record has the lead (an empty lead list means the 12 standard leads).
bool hasLead(const EcgLayoutParams& p, const std::string& lead) {
  return p.leads.empty() || std::find(p.leads.begin(), p.leads.end(), lead) != p.leads.end();
}

// Paper scale and the page's time window, shared by all parts of the layout.
struct Page {
  double speed = 0, gain = 0;
  double shownS = 0, startS = 0;
  double pulseW = 0;  // calibration pulse width (mm)
};

// Rows x columns of the lead grid, and the lead of every slot.
struct Grid {
  EcgLayoutKind kind = EcgLayoutKind::Grid3x4Rhythm;
  std::vector<Slot> slots;
  int rows = 3, cols = 4;
  double rowH = 0;
};

Grid chooseGrid(const EcgLayoutParams& p, double gain, double pitchCap) {
  int standardPresent = 0;
  for (const auto& l : standardLeads()) standardPresent += hasLead(p, l) ? 1 : 0;

  Grid g;
  g.kind = p.layout;
  g.slots = twelveLeads(p.order);
  if (standardPresent < 3 && !p.leads.empty()) {
    // Not a 12-lead record (Holter, single lead, ...): one full-length row per lead.
    g.kind = EcgLayoutKind::Grid12x1;
    g.slots.clear();
    for (const auto& l : p.leads) g.slots.push_back(slot(l));
  }
  switch (g.kind) {
    case EcgLayoutKind::Grid3x4:
    case EcgLayoutKind::Grid3x4Rhythm: g.rows = 3; g.cols = 4; g.rowH = std::max(20.0, roundUpTo(3.0 * gain, 5.0)); break;
    case EcgLayoutKind::Grid6x2: g.rows = 6; g.cols = 2; g.rowH = std::max(15.0, roundUpTo(2.5 * gain, 5.0)); break;
    case EcgLayoutKind::Grid12x1: g.rows = static_cast<int>(g.slots.size()); g.cols = 1; g.rowH = std::max(15.0, roundUpTo(2.0 * gain, 5.0)); break;
  }
  if (pitchCap > 0) g.rowH = std::min(g.rowH, pitchCap);
  return g;
}

// Lead slots fill columns top to bottom: column c holds slots [c*rows, (c+1)*rows).
void addGridPanels(EcgLayout& out, const EcgLayoutParams& p, const Page& pg, const Grid& g, double baseOffset) {
  const double colW = out.columnWindowS * pg.speed;
  for (int c = 0; c < g.cols; ++c) {
    for (int r = 0; r < g.rows; ++r) {
      const std::size_t idx = static_cast<std::size_t>(c * g.rows + r);
      if (idx >= g.slots.size()) continue;
      EcgPanel panel;
      panel.lead = g.slots[idx].lead;
      panel.label = g.slots[idx].label;
      panel.inverted = g.slots[idx].inverted;
      panel.available = hasLead(p, panel.lead);
      panel.row = r;
      panel.col = c;
      panel.xMm = out.calAreaMm + c * colW;
      panel.yMm = r * g.rowH;
      panel.wMm = colW;
      panel.hMm = g.rowH;
      panel.baselineYMm = panel.yMm + baseOffset;
      panel.t0 = pg.startS + c * out.columnWindowS;
      panel.t1 = panel.t0 + out.columnWindowS;
      out.panels.push_back(panel);
    }
  }
}

// The full-length rhythm strip (3x4 + R) at y, with its calibration pulse.
void addRhythmPanel(EcgLayout& out, const EcgLayoutParams& p, const Page& pg, int row, double y, double rowH,
                    double baseOffset) {
  std::string lead = p.rhythmLead;
  if (!hasLead(p, lead))
    for (const char* alt : {"II", "V1", "I", "V5"})
      if (hasLead(p, alt)) { lead = alt; break; }
  EcgPanel panel;
  panel.lead = panel.label = lead;
  panel.available = hasLead(p, lead);
  panel.rhythm = true;
  panel.row = row;
  panel.xMm = out.calAreaMm;
  panel.yMm = y;
  panel.wMm = pg.shownS * pg.speed;
  panel.hMm = rowH;
  panel.baselineYMm = y + baseOffset;
  panel.t0 = pg.startS;
  panel.t1 = pg.startS + pg.shownS;
  out.panels.push_back(panel);
  out.pulses.push_back({row, 2.5, y + baseOffset, pg.pulseW, pg.gain});
}

// Median beats under the grid (top at y + gap): limb leads on one row, chest leads on the next
// (same lead order). Returns the bottom of the block.
double addMedianBlock(EcgLayout& out, const EcgLayoutParams& p, const Page& pg, double y, double pitchCap) {
  const double gap = 5.0;
  out.medianTopMm = y + gap;
  double mRowH = std::max(20.0, roundUpTo(3.0 * pg.gain, 5.0));
  if (pitchCap > 0) mRowH = std::min(mRowH, pitchCap);
  const double mOff = roundUpTo(mRowH / 2.0, 5.0);
  const double mW = roundUpTo(p.medianDurationS * pg.speed, 5.0);
  const auto mSlots = twelveLeads(p.order);
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 6; ++c) {
      const auto& s = mSlots[static_cast<std::size_t>(r * 6 + c)];
      EcgPanel panel;
      panel.lead = s.lead;
      panel.label = s.label;
      panel.inverted = s.inverted;
      panel.available = hasLead(p, s.lead);
      panel.median = true;
      panel.row = out.rows + r;
      panel.col = c;
      panel.xMm = out.calAreaMm + c * (mW + gap);
      panel.yMm = out.medianTopMm + r * mRowH;
      panel.wMm = mW;
      panel.hMm = mRowH;
      panel.baselineYMm = panel.yMm + mOff;
      panel.t0 = 0;
      panel.t1 = p.medianDurationS;
      out.panels.push_back(panel);
    }
  for (int r = 0; r < 2; ++r)
    out.pulses.push_back({out.rows + r, 2.5, out.medianTopMm + r * mRowH + mOff, pg.pulseW, pg.gain});
  out.widthMm = std::max(out.widthMm, out.calAreaMm + 6 * mW + 5 * gap);
  return out.medianTopMm + 2 * mRowH;
}

// The layout with the rows at most pitchCap apart (0: the natural spacing for the gain).
EcgLayout layoutWithPitch(const EcgLayoutParams& p, double pitchCap) {
  EcgLayout out;
  Page pg;
  pg.speed = p.speedMmPerS;
  pg.gain = p.gainMmPerMv;
  pg.shownS = (p.durationS > 0) ? std::min(p.durationS, 10.0) : 10.0;
  pg.startS = (p.durationS > pg.shownS && std::isfinite(p.startS)) ? std::clamp(p.startS, 0.0, p.durationS - pg.shownS) : 0.0;
  out.startS = pg.startS;
  out.endS = pg.startS + pg.shownS;
  pg.pulseW = 0.2 * pg.speed;
  out.calAreaMm = roundUpTo(2.5 + pg.pulseW + 2.5, 5.0);

  const Grid g = chooseGrid(p, pg.gain, pitchCap);
  const double baseOffset = roundUpTo(g.rowH / 2.0, 5.0);
  out.rowPitchMm = g.rowH;
  out.cols = g.cols;
  out.columnWindowS = pg.shownS / g.cols;
  addGridPanels(out, p, pg, g, baseOffset);
  for (int r = 0; r < g.rows; ++r) out.pulses.push_back({r, 2.5, r * g.rowH + baseOffset, pg.pulseW, pg.gain});
  out.rows = g.rows;
  double y = g.rows * g.rowH;

  if (g.kind == EcgLayoutKind::Grid3x4Rhythm) {
    addRhythmPanel(out, p, pg, g.rows, y, g.rowH, baseOffset);
    out.rows = g.rows + 1;
    y += g.rowH;
  }
  out.widthMm = out.calAreaMm + pg.shownS * pg.speed;

  if (p.medianDurationS > 0) y = addMedianBlock(out, p, pg, y, pitchCap);
  out.heightMm = y;
  return out;
}

}  // namespace

EcgLayout computeEcgLayout(const EcgLayoutParams& p) {
  if (!(p.speedMmPerS > 0) || !(p.gainMmPerMv > 0))
    throw std::invalid_argument("paper speed and gain must be positive");
  EcgLayout out = layoutWithPitch(p, 0.0);
  if (!(p.maxHeightMm > 0) || out.heightMm <= p.maxHeightMm) return out;
  // Fixed paper: bring the rows closer (5 mm steps, at least 10 mm) until the grid fits.
  for (double cap = out.rowPitchMm - 5.0; cap >= 10.0; cap -= 5.0) {
    out = layoutWithPitch(p, cap);
    if (out.heightMm <= p.maxHeightMm) break;
  }
  return out;
}

TraceExtent traceExtentMm(const EcgPanel& p, const EcgGroup& g, double gain) {
  TraceExtent e;
  const EcgChannel* ch = p.available ? g.channel(p.lead) : nullptr;
  if (!ch || !(g.samplingHz > 0) || ch->samples.empty()) return e;
  const double fs = g.samplingHz;
  const auto n = static_cast<long>(ch->samples.size());
  const long i0 = std::max(0L, static_cast<long>(std::floor(p.t0 * fs)));
  const long i1 = std::min(n, static_cast<long>(std::ceil(p.t1 * fs)));
  double hi = -HUGE_VAL, lo = HUGE_VAL;
  for (long i = i0; i < i1; ++i) {
    const double v = ch->samples[static_cast<std::size_t>(i)];
    if (!std::isfinite(v)) continue;
    hi = std::max(hi, v);
    lo = std::min(lo, v);
  }
  if (hi < lo) return e;
  const double sign = p.inverted ? -1.0 : 1.0;
  const double y1 = p.baselineYMm - sign * hi * gain, y2 = p.baselineYMm - sign * lo * gain;
  e.topMm = std::min(y1, y2);
  e.bottomMm = std::max(y1, y2);
  return e;
}

void fitTraceHeadroom(EcgLayout& l, const EcgRecord& r, double gain, double maxHeightMm) {
  double top = 0, bottom = 0;
  for (const auto& p : l.panels) {
    const EcgGroup* g = p.median ? r.median() : r.rhythm();
    if (!g) continue;
    const TraceExtent e = traceExtentMm(p, *g, gain);
    if (!std::isfinite(e.topMm)) continue;
    top = std::max(top, -e.topMm);
    bottom = std::max(bottom, e.bottomMm - l.heightMm);
  }
  top = top > 0 ? roundUpTo(top, 5.0) : 0.0;
  bottom = bottom > 0 ? roundUpTo(bottom, 5.0) : 0.0;
  if (maxHeightMm > 0) {
    // Share the room left on the paper: the top first (peaks are what voltage criteria read).
    const double room = std::max(0.0, std::floor((maxHeightMm - l.heightMm) / 5.0 + 1e-9) * 5.0);
    top = std::min(top, room);
    bottom = std::min(bottom, room - top);
  }
  for (auto& p : l.panels) {
    p.yMm += top;
    p.baselineYMm += top;
  }
  for (auto& c : l.pulses) c.baselineYMm += top;
  if (l.medianTopMm >= 0) l.medianTopMm += top;
  l.heightMm += top + bottom;
  l.topHeadroomMm += top;
  l.bottomHeadroomMm += bottom;
}

int panelAt(const EcgLayout& l, double xMm, double yMm) {
  for (std::size_t i = 0; i < l.panels.size(); ++i) {
    const auto& p = l.panels[i];
    if (xMm >= p.xMm && xMm < p.xMm + p.wMm && yMm >= p.yMm && yMm < p.yMm + p.hMm)
      return static_cast<int>(i);
  }
  return -1;
}

double mmToMs(double dxMm, double speed) { return dxMm / speed * 1000.0; }
double mmToMv(double dyMm, double gain) { return dyMm / gain; }
double msToMm(double ms, double speed) { return ms / 1000.0 * speed; }
double mvToMm(double mv, double gain) { return mv * gain; }
double rateFromIntervalMs(double ms) { return ms > 0 ? 60000.0 / ms : kNaN; }

double panelTimeAt(const EcgPanel& p, double xMm, double speed) {
  return p.t0 + (xMm - p.xMm) / speed;
}

double panelAmplitudeAt(const EcgPanel& p, double yMm, double gain) {
  const double a = (p.baselineYMm - yMm) / gain;
  return p.inverted ? -a : a;
}

double sampleAt(const EcgGroup& g, const std::string& lead, double t) {
  const EcgChannel* ch = g.channel(lead);
  if (!ch || g.samplingHz <= 0 || ch->samples.empty()) return kNaN;
  const double pos = t * g.samplingHz;
  if (pos < 0 || pos > static_cast<double>(ch->samples.size() - 1)) return kNaN;
  const auto i = static_cast<std::size_t>(std::floor(pos));
  if (i + 1 >= ch->samples.size()) return ch->samples.back();
  const double f = pos - static_cast<double>(i);
  return ch->samples[i] * (1.0 - f) + ch->samples[i + 1] * f;
}

double qtcBazett(double qtMs, double rrMs) {
  if (!(qtMs > 0) || !(rrMs > 0)) return kNaN;
  return qtMs / std::sqrt(rrMs / 1000.0);
}

double qtcFridericia(double qtMs, double rrMs) {
  if (!(qtMs > 0) || !(rrMs > 0)) return kNaN;
  return qtMs / std::cbrt(rrMs / 1000.0);
}

QtcResult qtcFor(const EcgMeasurements& m, const std::string& preferred) {
  QtcResult r;
  if (std::isfinite(m.qtcMs)) {
    r.qtcMs = m.qtcMs;
    r.formula = m.qtcFormula.empty() ? "device" : m.qtcFormula;
    return r;
  }
  double rr = m.rrMs;
  if (!std::isfinite(rr) && std::isfinite(m.heartRateBpm) && m.heartRateBpm > 0) rr = 60000.0 / m.heartRateBpm;
  if (!std::isfinite(m.qtMs) || !std::isfinite(rr)) return r;
  if (preferred == "Fridericia") {
    r.qtcMs = qtcFridericia(m.qtMs, rr);
    r.formula = "Fridericia";
  } else {
    r.qtcMs = qtcBazett(m.qtMs, rr);
    r.formula = "Bazett";
  }
  r.computed = true;
  return r;
}

std::string deviceFilterText(const EcgGroup& g) {
  double lo = kNaN, hi = kNaN, notch = kNaN;
  for (const auto& c : g.channels) {
    if (!std::isfinite(lo) && std::isfinite(c.lowFreqHz)) lo = c.lowFreqHz;
    if (!std::isfinite(hi) && std::isfinite(c.highFreqHz)) hi = c.highFreqHz;
    if (!std::isfinite(notch) && std::isfinite(c.notchHz)) notch = c.notchHz;
  }
  std::ostringstream s;
  auto num = [](double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  };
  if (std::isfinite(lo) || std::isfinite(hi))
    s << (std::isfinite(lo) ? num(lo) : "?") << "-" << (std::isfinite(hi) ? num(hi) : "?") << " Hz";
  if (std::isfinite(notch) && notch > 0) s << (s.tellp() > 0 ? ", " : "") << "notch " << num(notch) << " Hz";
  return s.str();
}

}  // namespace e2e::vm
