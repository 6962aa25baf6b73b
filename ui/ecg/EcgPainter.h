// One painting function for the clinical ECG page, used for the screen, PDF and PNG export.
// Everything is laid out in millimetres (core/viewmodel/ecg_layout.h) and scaled by pxPerMm.
#pragma once

#include <QColor>
#include <QImage>
#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QString>
#include <QStringList>

#include "common/types.h"
#include "signal/ecg_quality.h"
#include "viewmodel/ecg_layout.h"

class QPainter;
class QPainterPath;
class QFontMetricsF;

namespace e2e::ui {

// Standard ECG paper colours (pink 1 mm grid, red 5 mm grid) and the trace colour.
inline QColor ecgMinorGridColor() { return QColor(0xF6, 0xC6, 0xCC); }
inline QColor ecgMajorGridColor() { return QColor(0xE0, 0x70, 0x80); }
inline QColor ecgTraceColor() { return QColor(0, 0, 0); }

// Paper of a printout: Auto is A4 landscape when the content fits, else the content's own size;
// A4 and Letter are fixed landscape pages (the rows move closer if needed, the scale never
// changes).
enum class EcgPaper { Auto, A4, Letter };
// "A4" / "Letter" (case-insensitive); false when unknown.
bool paperFromString(const QString& s, EcgPaper& out);

struct EcgPaintSpec {
  const EcgRecord* record = nullptr;   // samples drawn (already display-filtered if any)
  vm::EcgLayoutParams params;          // speed, gain, layout, order (the rest: prepareEcgSpec)
  bool showMedian = true;              // median-beat block when the record has a median group
  QString displayFilterText = "off";   // legend text of the display filters
  QString qtcFormula = "Bazett";       // formula when QTc must be computed from QT and RR
  EcgPaper paper = EcgPaper::Auto;
  // Signal quality of the record as loaded (issue 23), or null: a small mark beside the label of
  // each lead with an issue, and a banner line above the header when the record is not usable
  // (or has record-level warnings such as a likely limb-lead reversal).
  const signal::EcgQuality* quality = nullptr;
};

// Fills params.durationS, params.leads and params.medianDurationS from the record.
void prepareEcgSpec(EcgPaintSpec& spec);

struct EcgPageGeometry {
  QSizeF pageMm;          // see EcgPaper
  QPointF gridOriginMm;   // top-left of the grid area on the page
  QRectF headerMm;        // patient/measurement strip
  QRectF legendMm;        // speed/gain/filters legend under the grid
  vm::EcgLayout layout;   // with room for the traces (vm::fitTraceHeadroom)
  bool fitsPaper = true;  // false when a fixed paper is narrower than the content
};
EcgPageGeometry ecgPageGeometry(const EcgPaintSpec& spec);

// Traces are clipped only at the page edge (they run over neighbouring rows, into the margins,
// as on paper); a trace that would leave the page gets a red mark there.
QRectF ecgTraceClipRectMm(const EcgPageGeometry& geo);
// The trace of layout panel `panelIndex` in device units at pxPerMm (page top-left at 0,0);
// empty when the panel has no samples.
QPainterPath ecgPanelTracePath(const EcgPaintSpec& spec, const EcgPageGeometry& geo, int panelIndex, double pxPerMm);

// Paints the whole page (white background, header, grid, calibration pulses, traces, labels,
// legend) with the page's top-left at the painter origin, at pxPerMm device units per mm.
void paintEcg(QPainter& painter, const EcgPaintSpec& spec, double pxPerMm);

QImage renderEcgImage(const EcgPaintSpec& spec, double pxPerMm);
bool exportEcgPng(const EcgPaintSpec& spec, const QString& path, double pxPerMm = 12.0);
// PDF at exact millimetres (page size = ecgPageGeometry().pageMm, zero margins). Fails with a
// message when a fixed paper is too narrow for the content (e.g. 50 mm/s on A4).
bool exportEcgPdf(const EcgPaintSpec& spec, const QString& path, QString* error = nullptr);

// Header texts (also used by tests and the window title).
QString ecgPatientLine(const EcgRecord& r);
QString ecgMeasurementLine(const EcgRecord& r, const QString& qtcFormula);
QString ecgLegendLine(const EcgPaintSpec& spec);
// Study date and time (YYYY-MM-DD HH:MM, never shortened), device and format for a header box
// widthPx wide: the device name is elided so that the whole line fits.
QString ecgStudyLine(const EcgRecord& r, const QFontMetricsF& fm, double widthPx);
// The lines of the statement block: device statements, else the diagnoses as SNOMED CT terms
// with their code ("Sinus bradycardia (426177001)"; unknown codes "SNOMED <code>").
QStringList ecgStatementLines(const EcgRecord& r);

// ---- signal quality marks (issue 23) ----
// Short mark for the lead's issues ("flat", "noisy, wander", ...), "" when none or no quality.
QString ecgQualityMark(const EcgPaintSpec& spec, const std::string& lead);
// True when the lead's issue makes it unusable (flat, lead off, missing): drawn red, else amber.
bool ecgQualityMarkSevere(const EcgPaintSpec& spec, const std::string& lead);
// The full messages of the lead's issues (the canvas readout shows them).
QStringList ecgQualityMessages(const EcgPaintSpec& spec, const std::string& lead);
// "Signal quality: NOT USABLE for prediction - <reason>", or the record-level warnings; "" if none.
QString ecgQualityBanner(const EcgPaintSpec& spec);
inline QColor ecgQualityWarningColor() { return QColor(0xC0, 0x70, 0x00); }  // amber
inline QColor ecgQualitySevereColor() { return QColor(0xC0, 0x00, 0x00); }   // red

}  // namespace e2e::ui
