// One painting function for the clinical ECG page, used for the screen, PDF and PNG export.
// Everything is laid out in millimetres (core/viewmodel/ecg_layout.h) and scaled by pxPerMm.
#pragma once

#include <QColor>
#include <QImage>
#include <QPointF>
#include <QRectF>
#include <QSizeF>
#include <QString>

#include "common/types.h"
#include "viewmodel/ecg_layout.h"

class QPainter;

namespace e2e::ui {

// Standard ECG paper colours (pink 1 mm grid, red 5 mm grid) and the trace colour.
inline QColor ecgMinorGridColor() { return QColor(0xF6, 0xC6, 0xCC); }
inline QColor ecgMajorGridColor() { return QColor(0xE0, 0x70, 0x80); }
inline QColor ecgTraceColor() { return QColor(0, 0, 0); }

struct EcgPaintSpec {
  const EcgRecord* record = nullptr;   // samples drawn (already display-filtered if any)
  vm::EcgLayoutParams params;          // speed, gain, layout, order (the rest: prepareEcgSpec)
  bool showMedian = true;              // median-beat block when the record has a median group
  QString displayFilterText = "off";   // legend text of the display filters
  QString qtcFormula = "Bazett";       // formula when QTc must be computed from QT and RR
};

// Fills params.durationS, params.leads and params.medianDurationS from the record.
void prepareEcgSpec(EcgPaintSpec& spec);

struct EcgPageGeometry {
  QSizeF pageMm;          // A4 landscape when the content fits, else the content size
  QPointF gridOriginMm;   // top-left of the grid area on the page
  QRectF headerMm;        // patient/measurement strip
  QRectF legendMm;        // speed/gain/filters legend under the grid
  vm::EcgLayout layout;
};
EcgPageGeometry ecgPageGeometry(const EcgPaintSpec& spec);

// Paints the whole page (white background, header, grid, calibration pulses, traces, labels,
// legend) with the page's top-left at the painter origin, at pxPerMm device units per mm.
void paintEcg(QPainter& painter, const EcgPaintSpec& spec, double pxPerMm);

QImage renderEcgImage(const EcgPaintSpec& spec, double pxPerMm);
bool exportEcgPng(const EcgPaintSpec& spec, const QString& path, double pxPerMm = 12.0);
// PDF at exact millimetres (page size = ecgPageGeometry().pageMm, zero margins).
bool exportEcgPdf(const EcgPaintSpec& spec, const QString& path, QString* error = nullptr);

// Header texts (also used by tests and the window title).
QString ecgPatientLine(const EcgRecord& r);
QString ecgMeasurementLine(const EcgRecord& r, const QString& qtcFormula);
QString ecgLegendLine(const EcgPaintSpec& spec);

}  // namespace e2e::ui
