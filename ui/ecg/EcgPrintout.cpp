#include "ecg/EcgPrintout.h"

#include <QFile>
#include <QFont>
#include <QFontMetricsF>
#include <QLocale>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QPrinter>

#include <algorithm>
#include <cmath>

#include "common/person_name.h"

namespace e2e::ui {

namespace {
constexpr double kPrintSpeedMmPerS = 25.0;
const QColor kCaliperColor(0, 70, 190);

bool validGain(double g) { return g == 5.0 || g == 10.0 || g == 20.0; }

void setFontMm(QPainter& p, double mm, double k, bool bold) {
  QFont f(QStringLiteral("DejaVu Sans"));
  f.setPixelSize(std::max(1, static_cast<int>(std::lround(mm * k))));
  f.setBold(bold);
  p.setFont(f);
}

const vm::EcgPanel* panelFor(const vm::EcgLayout& l, const EcgCaliperMark& m) {
  const double lo = std::min(m.tA, m.tB), hi = std::max(m.tA, m.tB), eps = 1e-6;
  for (const auto& p : l.panels)
    if (p.lead == m.lead && p.median == m.median && p.available && p.t0 <= lo + eps && hi <= p.t1 + eps) return &p;
  return nullptr;
}

// One caliper on the paper: its two boundary lines across its panel, the measured span and the
// text on a white backing (as on the screen).
void drawCaliper(QPainter& p, const vm::EcgPanel& panel, QPointF a, QPointF b, bool amplitude, const QString& text,
                 QPointF origin, double k) {
  auto X = [&](double x) { return (origin.x() + x) * k; };
  auto Y = [&](double y) { return (origin.y() + y) * k; };
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  QPen dash(kCaliperColor, std::max(1.0, 0.15 * k), Qt::DashLine);
  p.setPen(dash);
  if (!amplitude) {
    for (double x : {a.x(), b.x()}) p.drawLine(QPointF(X(x), Y(panel.yMm)), QPointF(X(x), Y(panel.yMm + panel.hMm)));
    p.setPen(QPen(kCaliperColor, std::max(1.0, 0.25 * k)));
    p.drawLine(QPointF(X(a.x()), Y(a.y())), QPointF(X(b.x()), Y(a.y())));
  } else {
    for (double y : {a.y(), b.y()}) p.drawLine(QPointF(X(panel.xMm), Y(y)), QPointF(X(panel.xMm + panel.wMm), Y(y)));
    p.setPen(QPen(kCaliperColor, std::max(1.0, 0.25 * k)));
    p.drawLine(QPointF(X(a.x()), Y(a.y())), QPointF(X(a.x()), Y(b.y())));
  }
  setFontMm(p, 2.4, k, true);
  const QPointF at(X(std::max(a.x(), b.x()) + 1.0), Y(std::min(a.y(), b.y()) - 1.0));
  const QRectF box = QFontMetricsF(p.font()).boundingRect(text).translated(at).adjusted(-0.5 * k, -0.3 * k, 0.5 * k, 0.3 * k);
  p.fillRect(box, QColor(255, 255, 255, 230));
  p.setPen(kCaliperColor);
  p.drawText(at, text);
  p.restore();
}
}  // namespace

std::optional<EcgCaliperMark> caliperMarkFromGrid(const EcgPaintSpec& spec, QPointF aMm, QPointF bMm, bool amplitude,
                                                  const QString& text) {
  const EcgPageGeometry geo = ecgPageGeometry(spec);
  const int i = vm::panelAt(geo.layout, aMm.x(), aMm.y());
  if (i < 0) return std::nullopt;
  const vm::EcgPanel& panel = geo.layout.panels[static_cast<std::size_t>(i)];
  EcgCaliperMark m;
  m.amplitude = amplitude;
  m.lead = panel.lead;
  m.label = QString::fromStdString(panel.label);
  m.median = panel.median;
  const double speed = spec.params.speedMmPerS, gain = spec.params.gainMmPerMv;
  m.tA = vm::panelTimeAt(panel, aMm.x(), speed);
  m.tB = amplitude ? m.tA : vm::panelTimeAt(panel, bMm.x(), speed);
  // As printed (an inverted -aVR panel keeps its printed sign): millivolts above the baseline.
  m.vA = (panel.baselineYMm - aMm.y()) / gain;
  m.vB = (panel.baselineYMm - bMm.y()) / gain;
  m.text = text;
  return m;
}

EcgPaper defaultPrintPaper() {
  const QLocale::Country c = QLocale().territory();
  return (c == QLocale::UnitedStates || c == QLocale::Canada) ? EcgPaper::Letter : EcgPaper::A4;
}

EcgPrintout makeEcgPrintout(const EcgPaintSpec& view, const EcgPrintOptions& o, const std::vector<EcgCaliperMark>& calipers) {
  EcgPrintout out;
  out.spec = view;
  out.spec.paper = o.paper == EcgPaper::Letter ? EcgPaper::Letter : EcgPaper::A4;
  out.spec.params.layout = o.layout;
  out.spec.params.speedMmPerS = kPrintSpeedMmPerS;
  out.spec.params.gainMmPerMv = validGain(o.gainMmPerMv) ? o.gainMmPerMv : 10.0;
  out.spec.params.maxHeightMm = 0.0;  // ecgPageGeometry sets it from the paper
  if (o.includeCalipers) out.calipers = calipers;
  if (view.quality) {
    // The view's quality (of the record as loaded, before display filters): shared, not copied.
    out.quality = std::shared_ptr<const signal::EcgQuality>(std::shared_ptr<void>(), view.quality);
  } else if (view.record) {
    out.quality = std::make_shared<const signal::EcgQuality>(signal::assessEcgQuality(*view.record));
  }
  out.spec.quality = out.quality.get();
  return out;
}

QString ecgPrintoutQualityBanner(const EcgPrintout& po) { return ecgQualityBanner(po.spec); }

QStringList ecgPrintoutQualityMarks(const EcgPrintout& po) {
  QStringList out;
  if (!po.spec.quality) return out;
  for (const auto& l : po.spec.quality->leads) {
    const QString m = ecgQualityMark(po.spec, l.lead);
    if (!m.isEmpty()) out << QString::fromStdString(l.lead) + QStringLiteral(": ") + m;
  }
  return out;
}

std::optional<std::pair<QPointF, QPointF>> caliperOnLayout(const EcgPageGeometry& geo, const EcgPaintSpec& spec,
                                                           const EcgCaliperMark& m) {
  const vm::EcgPanel* panel = panelFor(geo.layout, m);
  if (!panel) return std::nullopt;
  const double speed = spec.params.speedMmPerS, gain = spec.params.gainMmPerMv;
  auto x = [&](double t) { return panel->xMm + (t - panel->t0) * speed; };
  auto y = [&](double v) { return panel->baselineYMm - v * gain; };
  return std::make_pair(QPointF(x(m.tA), y(m.vA)), QPointF(x(m.tB), y(m.vB)));
}

QStringList ecgCaliperLines(const EcgPrintout& po) {
  QStringList lines;
  const EcgPageGeometry geo = ecgPageGeometry(po.spec);
  for (const auto& m : po.calipers) {
    QString s = QStringLiteral("Caliper %1%2: %3").arg(m.label, m.median ? QStringLiteral(" (median beat)") : QString(), m.text);
    if (!caliperOnLayout(geo, po.spec, m))
      s += QStringLiteral(" (at %1-%2 s, not shown on this layout)").arg(std::min(m.tA, m.tB), 0, 'f', 2).arg(std::max(m.tA, m.tB), 0, 'f', 2);
    lines << s;
  }
  return lines;
}

QPageLayout ecgPrintoutPageLayout(const EcgPrintout& po) {
  const EcgPageGeometry geo = ecgPageGeometry(po.spec);
  const bool landscape = geo.pageMm.width() > geo.pageMm.height();
  const QPageSize size(po.spec.paper == EcgPaper::Letter ? QPageSize::Letter : QPageSize::A4);
  return QPageLayout(size, landscape ? QPageLayout::Landscape : QPageLayout::Portrait, QMarginsF(0, 0, 0, 0),
                     QPageLayout::Millimeter);
}

QString ecgPrintoutDescription(const EcgPrintout& po) {
  const bool landscape = ecgPrintoutPageLayout(po).orientation() == QPageLayout::Landscape;
  return QStringLiteral("%1 %2, %3 mm/s, %4 mm/mV, layout %5")
      .arg(po.spec.paper == EcgPaper::Letter ? QStringLiteral("Letter") : QStringLiteral("A4"),
           landscape ? QStringLiteral("landscape") : QStringLiteral("portrait"))
      .arg(po.spec.params.speedMmPerS)
      .arg(po.spec.params.gainMmPerMv)
      .arg(QString::fromLatin1(vm::toString(po.spec.params.layout)));
}

void paintEcgPrintout(QPainter& p, const EcgPrintout& po, double k) {
  paintEcg(p, po.spec, k);
  if (po.calipers.empty()) return;
  const EcgPageGeometry geo = ecgPageGeometry(po.spec);
  for (const auto& m : po.calipers) {
    const auto ab = caliperOnLayout(geo, po.spec, m);
    if (!ab) continue;
    if (const vm::EcgPanel* panel = panelFor(geo.layout, m))
      drawCaliper(p, *panel, ab->first, ab->second, m.amplitude, m.text, geo.gridOriginMm, k);
  }
  // Every caliper is also listed in the footer, under the legend (in the bottom margin).
  p.save();
  setFontMm(p, 2.4, k, false);
  p.setPen(kCaliperColor);
  const double y = geo.legendMm.bottom() + 0.2;
  p.drawText(QRectF(geo.legendMm.x() * k, y * k, geo.legendMm.width() * k, 3.5 * k), Qt::AlignLeft | Qt::AlignVCenter,
             ecgCaliperLines(po).join(QStringLiteral("    ")));
  p.restore();
}

bool paintEcgPrintoutOn(QPagedPaintDevice& device, double dpi, const EcgPrintout& po, QString* error) {
  const EcgPageGeometry geo = ecgPageGeometry(po.spec);
  if (!geo.fitsPaper) {
    if (error)
      *error = QStringLiteral("the ECG grid is %1 x %2 mm: it does not fit %3 at exact scale")
                   .arg(geo.layout.widthMm, 0, 'f', 0)
                   .arg(geo.layout.heightMm, 0, 'f', 0)
                   .arg(po.spec.paper == EcgPaper::Letter ? QStringLiteral("Letter") : QStringLiteral("A4"));
    return false;
  }
  if (!device.setPageLayout(ecgPrintoutPageLayout(po))) {
    if (error) *error = QStringLiteral("the output device refused the page size");
    return false;
  }
  QPainter p;
  if (!p.begin(&device)) {
    if (error) *error = QStringLiteral("cannot start painting on the output");
    return false;
  }
  paintEcgPrintout(p, po, dpi / 25.4);
  if (!p.end()) {
    if (error) *error = QStringLiteral("cannot finish the output");
    return false;
  }
  return true;
}

namespace {
QString documentTitle(const EcgPrintout& po) {
  QString t = QStringLiteral("12-lead ECG");
  if (po.spec.record && !po.spec.record->identity.patientName.empty())
    t += QStringLiteral(" - ") + QString::fromStdString(formatPersonName(po.spec.record->identity.patientName));
  return t;
}
}  // namespace

bool writeEcgPrintoutPdf(const EcgPrintout& po, const QString& path, QString* error) {
  {
    // A clear reason (missing folder, no permission) before any painting; no file left behind.
    const bool existed = QFile::exists(path);
    QFile probe(path);
    if (!probe.open(QIODevice::Append)) {
      if (error) *error = probe.errorString();
      return false;
    }
    probe.close();
    if (!existed) QFile::remove(path);
  }
  QPdfWriter w(path);
  w.setResolution(600);
  w.setCreator(QStringLiteral("Echo2ECG Workstation"));
  w.setTitle(documentTitle(po));
  return paintEcgPrintoutOn(w, w.resolution(), po, error);
}

bool printEcgPrintout(QPrinter& printer, const EcgPrintout& po, QString* error) {
  printer.setFullPage(true);  // the painter's origin is the paper's corner: exact millimetres
  printer.setDocName(documentTitle(po));
  printer.setCreator(QStringLiteral("Echo2ECG Workstation"));
  return paintEcgPrintoutOn(printer, printer.resolution(), po, error);
}

}  // namespace e2e::ui
