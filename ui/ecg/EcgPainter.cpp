#include "ecg/EcgPainter.h"

#include <QFont>
#include <QFontMetricsF>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPainterPath>
#include <QPdfWriter>

#include <algorithm>
#include <cmath>

#include "common/person_name.h"
#include "labels/snomed_terms.h"

namespace e2e::ui {

namespace {
constexpr double kMarginMm = 6.0;
constexpr double kHeaderMm = 30.0;
constexpr double kLegendMm = 8.0;
constexpr double kA4W = 297.0, kA4H = 210.0;
constexpr double kLetterW = 279.4, kLetterH = 215.9;

QString qs(const std::string& s) { return QString::fromStdString(s); }

QString fmtNum(double v, const char* unit) {
  if (!std::isfinite(v)) return QStringLiteral("—");
  return QString::number(v, 'f', 0) + QStringLiteral(" ") + QString::fromLatin1(unit);
}

QString formatDate(const std::string& d) {
  if (d.size() < 8) return qs(d);
  return qs(d.substr(0, 4) + "-" + d.substr(4, 2) + "-" + d.substr(6, 2));
}

QString formatTime(const std::string& t) {
  if (t.size() < 4) return qs(t);
  return qs(t.substr(0, 2) + ":" + t.substr(2, 2));
}

QString formatName(const std::string& pn) {
  const QString n = qs(formatPersonName(pn));  // "FAMILY, Given", as everywhere (common/person_name.h)
  return n.isEmpty() ? QStringLiteral("(no name)") : n;
}

void setFontMm(QPainter& p, double mm, double pxPerMm, bool bold = false) {
  QFont f(QStringLiteral("DejaVu Sans"));
  f.setPixelSize(std::max(1, static_cast<int>(std::lround(mm * pxPerMm))));
  f.setBold(bold);
  p.setFont(f);
}
}  // namespace

void prepareEcgSpec(EcgPaintSpec& spec) {
  spec.params.leads.clear();
  spec.params.durationS = 10.0;
  spec.params.medianDurationS = 0.0;
  if (!spec.record) return;
  if (const EcgGroup* g = spec.record->rhythm()) {
    for (const auto& c : g->channels) spec.params.leads.push_back(c.label);
    if (g->samplingHz > 0) spec.params.durationS = static_cast<double>(g->numSamples) / g->samplingHz;
  }
  if (const EcgGroup* m = spec.record->median(); m && spec.showMedian && m->samplingHz > 0)
    spec.params.medianDurationS = static_cast<double>(m->numSamples) / m->samplingHz;
}

bool paperFromString(const QString& s, EcgPaper& out) {
  const QString v = s.trimmed().toLower();
  if (v == QStringLiteral("a4")) out = EcgPaper::A4;
  else if (v == QStringLiteral("letter")) out = EcgPaper::Letter;
  else return false;
  return true;
}

EcgPageGeometry ecgPageGeometry(const EcgPaintSpec& spec) {
  EcgPageGeometry g;
  vm::EcgLayoutParams params = spec.params;
  double maxGridH = 0.0;
  if (spec.paper != EcgPaper::Auto) {
    g.pageMm = spec.paper == EcgPaper::A4 ? QSizeF(kA4W, kA4H) : QSizeF(kLetterW, kLetterH);
    maxGridH = g.pageMm.height() - 2 * kMarginMm - kHeaderMm - kLegendMm;
    params.maxHeightMm = maxGridH;
  }
  g.layout = vm::computeEcgLayout(params);
  if (spec.record) vm::fitTraceHeadroom(g.layout, *spec.record, params.gainMmPerMv, maxGridH);
  const double contentW = g.layout.widthMm;
  const double contentH = kHeaderMm + g.layout.heightMm + kLegendMm;
  if (spec.paper != EcgPaper::Auto) {
    g.fitsPaper = contentW + 2 * kMarginMm <= g.pageMm.width() + 1e-6 && contentH + 2 * kMarginMm <= g.pageMm.height() + 1e-6;
  } else if (contentW + 2 * kMarginMm <= kA4W && contentH + 2 * kMarginMm <= kA4H) {
    g.pageMm = QSizeF(kA4W, kA4H);
  } else {
    g.pageMm = QSizeF(contentW + 2 * kMarginMm, contentH + 2 * kMarginMm);
  }
  const double x0 = std::max(0.0, std::floor((g.pageMm.width() - contentW) / 2.0));
  g.headerMm = QRectF(x0, kMarginMm, contentW, kHeaderMm);
  g.gridOriginMm = QPointF(x0, kMarginMm + kHeaderMm);
  g.legendMm = QRectF(x0, kMarginMm + kHeaderMm + g.layout.heightMm, contentW, kLegendMm);
  return g;
}

QRectF ecgTraceClipRectMm(const EcgPageGeometry& geo) { return QRectF(QPointF(0, 0), geo.pageMm); }

QString ecgPatientLine(const EcgRecord& r) {
  const auto& id = r.identity;
  QStringList parts;
  parts << formatName(id.patientName);
  if (!id.patientId.empty()) parts << QStringLiteral("ID ") + qs(id.patientId);
  if (!id.birthDate.empty()) parts << QStringLiteral("DOB ") + formatDate(id.birthDate);
  if (!id.age.empty()) {
    QString a = qs(id.age);
    while (a.size() > 1 && a.startsWith(QLatin1Char('0'))) a.remove(0, 1);
    parts << QStringLiteral("Age ") + a;
  } else if (auto it = r.extra.find("Age"); it != r.extra.end()) {
    parts << QStringLiteral("Age ") + qs(it->second);
  }
  if (!id.sex.empty()) parts << QStringLiteral("Sex ") + qs(id.sex);
  else if (auto it = r.extra.find("Sex"); it != r.extra.end()) parts << QStringLiteral("Sex ") + qs(it->second);
  return parts.join(QStringLiteral("   "));
}

QString ecgMeasurementLine(const EcgRecord& r, const QString& qtcFormula) {
  const auto& m = r.measurements;
  const auto qtc = vm::qtcFor(m, qtcFormula.toStdString());
  QStringList parts;
  parts << QStringLiteral("HR ") + fmtNum(m.heartRateBpm, "bpm");
  parts << QStringLiteral("PR ") + fmtNum(m.prMs, "ms");
  parts << QStringLiteral("QRS ") + fmtNum(m.qrsMs, "ms");
  QString qt = QStringLiteral("QT/QTc ") + (std::isfinite(m.qtMs) ? QString::number(m.qtMs, 'f', 0) : QStringLiteral("—")) +
               QStringLiteral("/") + (std::isfinite(qtc.qtcMs) ? QString::number(qtc.qtcMs, 'f', 0) : QStringLiteral("—")) +
               QStringLiteral(" ms");
  if (!qtc.formula.empty())
    qt += QStringLiteral(" (") + qs(qtc.formula) + (qtc.computed ? QStringLiteral(", computed") : QString()) + QStringLiteral(")");
  parts << qt;
  auto ax = [](double v) { return std::isfinite(v) ? QString::number(v, 'f', 0) : QStringLiteral("—"); };
  if (std::isfinite(m.pAxisDeg) || std::isfinite(m.qrsAxisDeg) || std::isfinite(m.tAxisDeg))
    parts << QStringLiteral("P/QRS/T axes ") + ax(m.pAxisDeg) + QStringLiteral("/") + ax(m.qrsAxisDeg) +
                 QStringLiteral("/") + ax(m.tAxisDeg) + QStringLiteral("°");
  return parts.join(QStringLiteral("    "));
}

QString ecgLegendLine(const EcgPaintSpec& spec) {
  QStringList parts;
  parts << QString::number(spec.params.speedMmPerS) + QStringLiteral(" mm/s");
  parts << QString::number(spec.params.gainMmPerMv) + QStringLiteral(" mm/mV");
  QString dev;
  if (spec.record)
    if (const EcgGroup* g = spec.record->rhythm()) {
      dev = qs(vm::deviceFilterText(*g));
      if (g->samplingHz > 0) parts << QString::number(g->samplingHz) + QStringLiteral(" Hz sampling");
    }
  parts << QStringLiteral("Device filters: ") + (dev.isEmpty() ? QStringLiteral("not stated") : dev);
  parts << QStringLiteral("Display filters: ") + spec.displayFilterText;
  parts << QStringLiteral("Layout ") + QString::fromLatin1(vm::toString(spec.params.layout)) +
               (spec.params.order == vm::LeadOrder::Cabrera ? QStringLiteral(" (Cabrera)") : QString());
  if (spec.params.durationS > 10.0 + 1e-6) {
    const auto l = vm::computeEcgLayout(spec.params);
    parts << QStringLiteral("Shown %1-%2 s of %3 s").arg(l.startS, 0, 'f', 1).arg(l.endS, 0, 'f', 1).arg(spec.params.durationS, 0, 'f', 1);
  }
  if (spec.record)
    if (const EcgGroup* g = spec.record->rhythm()) {
      QStringList extra;
      const auto& std12 = standardLeads();
      bool twelve = true;
      for (const auto& l : std12) twelve = twelve && g->channel(l) != nullptr;
      if (twelve)
        for (const auto& c : g->channels)
          if (std::find(std12.begin(), std12.end(), c.label) == std12.end()) extra << qs(c.label);
      if (!extra.isEmpty()) parts << QStringLiteral("Not shown: ") + extra.join(QStringLiteral(", "));
    }
  return parts.join(QStringLiteral("    "));
}

QString ecgStudyLine(const EcgRecord& r, const QFontMetricsF& fm, double widthPx) {
  const QString gap = QStringLiteral("   ");
  QString date;
  if (!r.identity.studyDate.empty())
    date = (formatDate(r.identity.studyDate) + QStringLiteral(" ") + formatTime(r.identity.studyTime)).trimmed();
  const QString format = QString::fromLatin1(toString(r.format));
  QString dev = qs(r.identity.manufacturer + " " + r.identity.modelName).simplified();
  // The date and the format are never shortened; the device gets what is left.
  QString fixed = date.isEmpty() ? format : date + gap + format;
  if (!dev.isEmpty()) {
    const double room = widthPx - fm.horizontalAdvance(fixed) - fm.horizontalAdvance(gap);
    dev = room > fm.horizontalAdvance(QStringLiteral("W…")) ? fm.elidedText(dev, Qt::ElideRight, room) : QString();
  }
  if (dev.isEmpty()) return fixed;
  return date.isEmpty() ? dev + gap + format : date + gap + dev + gap + format;
}

QStringList ecgStatementLines(const EcgRecord& r) {
  QStringList st;
  for (const auto& s : r.statements) st << qs(s);
  if (st.isEmpty())
    for (const auto& d : r.diagnoses) st << qs(labels::snomedDisplayText(d));
  return st;
}
namespace {
const signal::LeadQuality* leadQuality(const EcgPaintSpec& spec, const std::string& lead) {
  if (!spec.quality) return nullptr;
  for (const auto& l : spec.quality->leads)
    if (l.lead == lead) return &l;
  return nullptr;
}
}  // namespace

QString ecgQualityMark(const EcgPaintSpec& spec, const std::string& lead) {
  const signal::LeadQuality* l = leadQuality(spec, lead);
  if (!l) return QString();
  QStringList words;
  for (const auto& c : l->codes) {
    const QString w = c == "noise" ? QStringLiteral("noisy")
                      : c == "baseline_wander" ? QStringLiteral("wander")
                      : c == "lead_off" ? QStringLiteral("lead off")
                      : qs(c);
    if (!words.contains(w)) words << w;
  }
  return words.join(QStringLiteral(", "));
}

bool ecgQualityMarkSevere(const EcgPaintSpec& spec, const std::string& lead) {
  const signal::LeadQuality* l = leadQuality(spec, lead);
  if (!l) return false;
  return std::any_of(l->codes.begin(), l->codes.end(),
                     [](const std::string& c) { return c == "flat" || c == "lead_off" || c == "missing"; });
}

QStringList ecgQualityMessages(const EcgPaintSpec& spec, const std::string& lead) {
  QStringList out;
  if (spec.quality)
    for (const auto& i : spec.quality->issues)
      if (i.lead == lead) out << qs(i.message);
  return out;
}

QString ecgQualityBanner(const EcgPaintSpec& spec) {
  if (!spec.quality) return QString();
  if (!spec.quality->usable)
    return QStringLiteral("Signal quality: NOT USABLE for prediction \u2014 ") + qs(spec.quality->reason);
  QStringList record;
  for (const auto& i : spec.quality->issues)
    if (i.lead.empty()) record << qs(i.message);
  return record.isEmpty() ? QString() : QStringLiteral("Signal quality: ") + record.join(QStringLiteral("; "));
}

namespace {

void drawGrid(QPainter& p, const QPointF& o, double wMm, double hMm, double k) {
  p.setRenderHint(QPainter::Antialiasing, false);
  const double minorW = std::max(1.0, std::round(0.08 * k));
  const double majorW = std::max(1.0, std::round(0.16 * k));
  auto line = [&](double x1, double y1, double x2, double y2) {
    p.drawLine(QPointF(std::round((o.x() + x1) * k), std::round((o.y() + y1) * k)),
               QPointF(std::round((o.x() + x2) * k), std::round((o.y() + y2) * k)));
  };
  const int nx = static_cast<int>(std::floor(wMm + 1e-6)), ny = static_cast<int>(std::floor(hMm + 1e-6));
  QPen minor(ecgMinorGridColor(), minorW);
  minor.setCapStyle(Qt::FlatCap);
  p.setPen(minor);
  for (int i = 0; i <= nx; ++i)
    if (i % 5) line(i, 0, i, ny);
  for (int j = 0; j <= ny; ++j)
    if (j % 5) line(0, j, nx, j);
  QPen major(ecgMajorGridColor(), majorW);
  major.setCapStyle(Qt::FlatCap);
  p.setPen(major);
  for (int i = 0; i <= nx; i += 5) line(i, 0, i, ny);
  for (int j = 0; j <= ny; j += 5) line(0, j, nx, j);
}

// Millimetre grid coordinates -> device units, relative to the grid's top-left.
struct GridMap {
  QPointF o;  // grid origin on the page, mm
  double k;   // device units per mm
  double X(double xMm) const { return (o.x() + xMm) * k; }
  double Y(double yMm) const { return (o.y() + yMm) * k; }
};

QRectF mmToDevice(const QRectF& r, double k) { return QRectF(r.x() * k, r.y() * k, r.width() * k, r.height() * k); }

double traceWidth(double k) { return std::max(1.0, std::round(0.2 * k)); }

// Device statements (interpretation), then diagnoses: two columns of up to five lines.
void drawStatements(QPainter& p, const EcgRecord& r, const QRectF& h, double k) {
  setFontMm(p, 2.5, k);
  QStringList st = ecgStatementLines(r);
  if (st.isEmpty()) st << QStringLiteral("(no device statements)");
  const int maxLines = 5;
  const double lineH = 3.5 * k;
  const double colW = h.width() / 2.0;
  for (int i = 0; i < std::min<int>(st.size(), 2 * maxLines); ++i) {
    const int col = i / maxLines, row = i % maxLines;
    QString text = st[i];
    if (i == 2 * maxLines - 1 && st.size() > 2 * maxLines) text = QStringLiteral("… (%1 more)").arg(st.size() - i);
    p.drawText(QRectF(h.x() + col * colW, h.y() + 11.0 * k + row * lineH, colW - 2 * k, lineH),
               Qt::AlignLeft | Qt::AlignVCenter, QFontMetricsF(p.font()).elidedText(text, Qt::ElideRight, colW - 2 * k));
  }
}

// Patient line, study date/device/format, measurements and statements. The study line is laid
// out first (its date is never cut); the patient line gets the rest of the row, elided.
void drawRecordHeader(QPainter& p, const EcgRecord& r, const QString& qtcFormula, const QRectF& h, double k) {
  setFontMm(p, 2.6, k);
  const QString study = ecgStudyLine(r, QFontMetricsF(p.font()), h.width() * 0.45);
  const double studyW = QFontMetricsF(p.font()).horizontalAdvance(study) + 1.0;
  p.drawText(QRectF(h.right() - studyW, h.y(), studyW, 4.5 * k), Qt::AlignRight | Qt::AlignVCenter, study);
  setFontMm(p, 3.2, k, true);
  const double patientW = std::max(0.0, h.width() - studyW - 3.0 * k);
  p.drawText(QRectF(h.x(), h.y(), patientW, 4.5 * k), Qt::AlignLeft | Qt::AlignVCenter,
             QFontMetricsF(p.font()).elidedText(ecgPatientLine(r), Qt::ElideRight, patientW));
  setFontMm(p, 2.8, k, true);
  p.drawText(QRectF(h.x(), h.y() + 5.0 * k, h.width(), 4.5 * k), Qt::AlignLeft | Qt::AlignVCenter,
             ecgMeasurementLine(r, qtcFormula));
  drawStatements(p, r, h, k);
}

void drawHeader(QPainter& p, const EcgPaintSpec& spec, const EcgPageGeometry& geo, double k) {
  const QRectF h = mmToDevice(geo.headerMm, k);
  p.setPen(Qt::black);
  if (spec.record) {
    drawRecordHeader(p, *spec.record, spec.qtcFormula, h, k);
  } else {
    setFontMm(p, 3.2, k, true);
    p.drawText(h, Qt::AlignLeft | Qt::AlignTop, QStringLiteral("No ECG loaded"));
  }
}

// Calibration pulses: 1 mV x 200 ms at the current gain and speed.
void drawCalibrationPulses(QPainter& p, const vm::EcgLayout& L, const GridMap& m) {
  p.setRenderHint(QPainter::Antialiasing, false);
  QPen trace(ecgTraceColor(), traceWidth(m.k), Qt::SolidLine, Qt::FlatCap, Qt::MiterJoin);
  p.setPen(trace);
  for (const auto& c : L.pulses) {
    const double xb = std::round(m.X(c.xMm)), xe = std::round(m.X(c.xMm + c.wMm));
    const double yb = std::round(m.Y(c.baselineYMm)), yt = std::round(m.Y(c.baselineYMm - c.hMm));
    QPolygonF poly;
    poly << QPointF(std::round(m.X(0.5)), yb) << QPointF(xb, yb) << QPointF(xb, yt) << QPointF(xe, yt) << QPointF(xe, yb)
         << QPointF(std::round(m.X(L.calAreaMm - 0.5)), yb);
    p.drawPolyline(poly);
  }
}

// Lead label (with its quality mark) and, between columns, a boundary tick across the baseline.
void drawPanelLabel(QPainter& p, const EcgPaintSpec& spec, const vm::EcgPanel& panel, const GridMap& m) {
  setFontMm(p, 3.0, m.k, true);
  p.setPen(Qt::black);
  const QPointF at(m.X(panel.xMm + 1.0), m.Y(panel.yMm + 4.0));
  p.drawText(at, qs(panel.label));
  const QString mark = panel.median ? QString() : ecgQualityMark(spec, panel.lead);
  if (!mark.isEmpty()) {
    const double labelW = QFontMetricsF(p.font()).horizontalAdvance(qs(panel.label));
    setFontMm(p, 2.2, m.k, true);
    p.setPen(ecgQualityMarkSevere(spec, panel.lead) ? ecgQualitySevereColor() : ecgQualityWarningColor());
    p.drawText(at + QPointF(labelW + 0.8 * m.k, 0), mark);
  }
  if (panel.col > 0 && !panel.median) {
    p.setPen(QPen(Qt::black, traceWidth(m.k)));
    p.drawLine(QPointF(m.X(panel.xMm), m.Y(panel.baselineYMm - 2.5)), QPointF(m.X(panel.xMm), m.Y(panel.baselineYMm + 2.5)));
  }
}

// The panel's samples as a path (gaps at non-finite samples); empty when under two samples.
QPainterPath panelTracePath(const EcgPaintSpec& spec, const vm::EcgPanel& panel, const EcgGroup& g,
                            const EcgChannel& ch, const GridMap& m) {
  QPainterPath path;
  const double fs = g.samplingHz;
  const auto n = static_cast<long>(ch.samples.size());
  const long i0 = std::max(0L, static_cast<long>(std::floor(panel.t0 * fs)));
  const long i1 = std::min(n, static_cast<long>(std::ceil(panel.t1 * fs)));
  if (i1 - i0 < 2) return path;
  const double sign = panel.inverted ? -1.0 : 1.0;
  const double speed = spec.params.speedMmPerS, gain = spec.params.gainMmPerMv;
  bool started = false;
  for (long i = i0; i < i1; ++i) {
    const float v = ch.samples[static_cast<std::size_t>(i)];
    if (!std::isfinite(v)) { started = false; continue; }
    const QPointF pt(m.X(panel.xMm + (i / fs - panel.t0) * speed), m.Y(panel.baselineYMm - sign * v * gain));
    if (!started) { path.moveTo(pt); started = true; }
    else path.lineTo(pt);
  }
  return path;
}

// A red arrowhead and "beyond page" where a trace leaves the page (top or bottom edge).
void drawOverflowMark(QPainter& p, double x, double edgeY, bool top, double k) {
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  const QColor red(200, 0, 0);
  p.setPen(Qt::NoPen);
  p.setBrush(red);
  const double d = top ? 1.0 : -1.0, s = 1.5 * k;
  QPolygonF tri;
  tri << QPointF(x, edgeY) << QPointF(x - s, edgeY + d * 2 * s) << QPointF(x + s, edgeY + d * 2 * s);
  p.drawPolygon(tri);
  setFontMm(p, 2.2, k, true);
  p.setPen(red);
  p.drawText(QPointF(x + 1.8 * s, edgeY + d * 2 * s), QStringLiteral("trace beyond page"));
  p.restore();
}

void drawPanel(QPainter& p, const EcgPaintSpec& spec, const vm::EcgPanel& panel, const GridMap& m, const QRectF& clipRect) {
  const EcgGroup* g = nullptr;
  if (spec.record) g = panel.median ? spec.record->median() : spec.record->rhythm();
  const EcgChannel* ch = (g && panel.available) ? g->channel(panel.lead) : nullptr;
  drawPanelLabel(p, spec, panel, m);
  if (!ch || g->samplingHz <= 0 || ch->samples.empty()) {
    setFontMm(p, 2.5, m.k);
    p.setPen(Qt::gray);
    p.drawText(QPointF(m.X(panel.xMm + 8.0), m.Y(panel.yMm + 4.0)), QStringLiteral("(no data)"));
    return;
  }
  const QPainterPath path = panelTracePath(spec, panel, *g, *ch, m);
  if (path.isEmpty()) return;
  p.save();
  p.setClipRect(clipRect);
  p.setPen(QPen(ecgTraceColor(), std::max(1.0, 0.2 * m.k), Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
  p.setBrush(Qt::NoBrush);
  p.drawPath(path);
  p.restore();
  const QRectF b = path.boundingRect();
  if (b.top() < clipRect.top()) drawOverflowMark(p, b.center().x(), clipRect.top(), true, m.k);
  if (b.bottom() > clipRect.bottom()) drawOverflowMark(p, b.center().x(), clipRect.bottom(), false, m.k);
}

void drawTraces(QPainter& p, const EcgPaintSpec& spec, const EcgPageGeometry& geo, const GridMap& m) {
  const vm::EcgLayout& L = geo.layout;
  p.setRenderHint(QPainter::Antialiasing, true);
  const QRectF clipRect = mmToDevice(ecgTraceClipRectMm(geo), m.k);
  for (const auto& panel : L.panels) drawPanel(p, spec, panel, m, clipRect);
  if (L.medianTopMm >= 0) {
    setFontMm(p, 2.6, m.k, true);
    p.setPen(Qt::black);
    p.drawText(QPointF(m.X(0), m.Y(L.medianTopMm - 1.0)), QStringLiteral("Median beats"));
  }
}

void drawLegend(QPainter& p, const EcgPaintSpec& spec, const EcgPageGeometry& geo, double k) {
  setFontMm(p, 2.6, k);
  p.setPen(Qt::black);
  p.drawText(mmToDevice(geo.legendMm, k), Qt::AlignLeft | Qt::AlignVCenter, ecgLegendLine(spec));
}

// The quality banner in the top margin, above the header (the page geometry does not change).
void drawQualityBanner(QPainter& p, const EcgPaintSpec& spec, const EcgPageGeometry& geo, double k) {
  const QString banner = ecgQualityBanner(spec);
  if (banner.isEmpty()) return;
  p.setPen(spec.quality->usable ? ecgQualityWarningColor() : ecgQualitySevereColor());
  const QRectF r((geo.headerMm.x()) * k, 0.8 * k, geo.headerMm.width() * k, (kMarginMm - 1.0) * k);
  // A long reason gets a smaller font before it is shortened (the printout must not hide it).
  for (double mm : {2.6, 2.3, 2.0, 1.8}) {
    setFontMm(p, mm, k, true);
    if (QFontMetricsF(p.font()).horizontalAdvance(banner) <= r.width()) break;
  }
  p.drawText(r, Qt::AlignLeft | Qt::AlignVCenter, QFontMetricsF(p.font()).elidedText(banner, Qt::ElideRight, r.width()));
}

}  // namespace

void paintEcg(QPainter& p, const EcgPaintSpec& specIn, double k) {
  EcgPaintSpec spec = specIn;
  const EcgPageGeometry geo = ecgPageGeometry(spec);
  const GridMap m{geo.gridOriginMm, k};

  p.save();
  p.fillRect(QRectF(0, 0, geo.pageMm.width() * k, geo.pageMm.height() * k), Qt::white);
  drawHeader(p, spec, geo, k);
  drawGrid(p, m.o, geo.layout.widthMm, geo.layout.heightMm, k);
  drawCalibrationPulses(p, geo.layout, m);
  drawTraces(p, spec, geo, m);
  drawLegend(p, spec, geo, k);
  drawQualityBanner(p, spec, geo, k);
  p.restore();
}

QPainterPath ecgPanelTracePath(const EcgPaintSpec& spec, const EcgPageGeometry& geo, int i, double k) {
  if (!spec.record || i < 0 || i >= static_cast<int>(geo.layout.panels.size())) return {};
  const vm::EcgPanel& panel = geo.layout.panels[static_cast<std::size_t>(i)];
  const EcgGroup* g = panel.median ? spec.record->median() : spec.record->rhythm();
  const EcgChannel* ch = (g && panel.available) ? g->channel(panel.lead) : nullptr;
  if (!ch || g->samplingHz <= 0 || ch->samples.empty()) return {};
  return panelTracePath(spec, panel, *g, *ch, GridMap{geo.gridOriginMm, k});
}

QImage renderEcgImage(const EcgPaintSpec& spec, double k) {
  const auto geo = ecgPageGeometry(spec);
  QImage img(static_cast<int>(std::ceil(geo.pageMm.width() * k)), static_cast<int>(std::ceil(geo.pageMm.height() * k)),
             QImage::Format_RGB32);
  img.fill(Qt::white);
  QPainter p(&img);
  paintEcg(p, spec, k);
  p.end();
  img.setDotsPerMeterX(static_cast<int>(std::lround(k * 1000)));
  img.setDotsPerMeterY(static_cast<int>(std::lround(k * 1000)));
  return img;
}

bool exportEcgPng(const EcgPaintSpec& spec, const QString& path, double k) {
  return renderEcgImage(spec, k).save(path, "PNG");
}

bool exportEcgPdf(const EcgPaintSpec& spec, const QString& path, QString* error) {
  const auto geo = ecgPageGeometry(spec);
  if (!geo.fitsPaper) {
    if (error)
      *error = QStringLiteral("the ECG at %1 mm/s needs a page %2 mm wide: it does not fit this paper at exact scale "
                              "(use 25 mm/s or the automatic page size)")
                   .arg(spec.params.speedMmPerS)
                   .arg(geo.layout.widthMm + 2 * kMarginMm, 0, 'f', 0);
    return false;
  }
  QPdfWriter w(path);
  w.setResolution(600);
  // QPageSize is portrait; a wide page is a portrait size in landscape orientation.
  const bool landscape = geo.pageMm.width() > geo.pageMm.height();
  const QSizeF portrait = landscape ? geo.pageMm.transposed() : geo.pageMm;
  QPageSize size(portrait, QPageSize::Millimeter, QStringLiteral("ECG"), QPageSize::FuzzyMatch);
  if (!w.setPageLayout(QPageLayout(size, landscape ? QPageLayout::Landscape : QPageLayout::Portrait,
                                   QMarginsF(0, 0, 0, 0), QPageLayout::Millimeter))) {
    if (error) *error = QStringLiteral("cannot set the PDF page size");
    return false;
  }
  w.setCreator(QStringLiteral("Echo2ECG Workstation"));
  w.setTitle(QStringLiteral("12-lead ECG"));
  QPainter p;
  if (!p.begin(&w)) {
    if (error) *error = QStringLiteral("cannot write ") + path;
    return false;
  }
  paintEcg(p, spec, w.resolution() / 25.4);
  p.end();
  return true;
}

}  // namespace e2e::ui
