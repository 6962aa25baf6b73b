// The ECG printout: one page at exact scale (25 mm/s, 10 mm/mV unless another gain is chosen)
// on A4 or Letter, with the calipers measured on the screen when chosen. One code path for
// File > Print (QPrinter), File > Export PDF… (QPdfWriter), `echo2ecg-gui --export-pdf` and,
// through it, `echo2ecg report` (the CLI stays Qt-free and runs the GUI binary's export).
// The page carries the ECG's signal quality as the screen shows it (issue 23). It prints no model
// output (predictions stay in the prediction panel and the DICOM SR), so it has no OOD flag to
// carry: anything model-made added here must come with its quality and OOD flags.
#pragma once

#include <QPageLayout>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ecg/EcgPainter.h"

class QPainter;
class QPagedPaintDevice;
class QPrinter;

namespace e2e::ui {

// A caliper measured on the screen, kept in signal terms (lead, seconds, millivolts) so that it
// lands on the same beat on any printout layout.
struct EcgCaliperMark {
  bool amplitude = false;  // a ΔV caliper; else Δt
  std::string lead;        // canonical lead of the panel it was placed on
  QString label;           // the panel's printed label ("-aVR" in Cabrera order)
  bool median = false;     // placed on the median-beat block
  double tA = 0, tB = 0;   // seconds from record start (equal for a ΔV caliper)
  double vA = 0, vB = 0;   // millivolts from the baseline (sign as printed)
  QString text;            // "Δt 800 ms (75 bpm)" / "ΔV 1.00 mV"
};

// The caliper from aMm to bMm (grid millimetres of the page `spec` lays out, as EcgCanvas keeps
// it); nullopt when aMm is on no panel.
std::optional<EcgCaliperMark> caliperMarkFromGrid(const EcgPaintSpec& spec, QPointF aMm, QPointF bMm, bool amplitude,
                                                  const QString& text);

struct EcgPrintOptions {
  EcgPaper paper = EcgPaper::A4;  // A4 or Letter (Auto is treated as A4)
  vm::EcgLayoutKind layout = vm::EcgLayoutKind::Grid3x4Rhythm;
  double gainMmPerMv = 10.0;      // 5, 10 or 20; the speed is always 25 mm/s
  bool includeCalipers = true;    // the calipers and their measurements
};
// The paper this locale uses (Letter in the US and Canada, else A4).
EcgPaper defaultPrintPaper();

struct EcgPrintout {
  EcgPaintSpec spec;                      // record, filters and order of the view; options' scale
  std::vector<EcgCaliperMark> calipers;   // empty when not included
  // The signal quality the page shows (issue 23: the banner line above the header and a mark
  // beside each lead with an issue, drawn by paintEcg as on the screen): the view's when it has
  // one, else assessed here from spec.record (the headless `--export-pdf` / `echo2ecg report`
  // path). spec.quality points into it; copies of the printout share it.
  std::shared_ptr<const signal::EcgQuality> quality;
};
// A printout of `view` (record, filters, order, signal quality) at the options' paper and scale.
// When view.quality is null and view.record is set, the quality is assessed from view.record (the
// record as read: callers with display filters pass the quality of the unfiltered record, as
// EcgView does), so that no printout leaves out a flat, noisy or disconnected lead.
EcgPrintout makeEcgPrintout(const EcgPaintSpec& view, const EcgPrintOptions& options,
                            const std::vector<EcgCaliperMark>& calipers = {});
// "Signal quality: ..." banner of the printout ("" when the record has no record-level issue),
// and the per-lead marks ("V3: flat"), as printed.
QString ecgPrintoutQualityBanner(const EcgPrintout& printout);
QStringList ecgPrintoutQualityMarks(const EcgPrintout& printout);

// Where a caliper lands on the printout's layout (grid millimetres): on the panel of its lead
// that shows both of its times; nullopt when the layout shows no such panel.
std::optional<std::pair<QPointF, QPointF>> caliperOnLayout(const EcgPageGeometry& geo, const EcgPaintSpec& spec,
                                                           const EcgCaliperMark& mark);
// The caliper lines of the printout's footer ("Caliper II: Δt 800 ms (75 bpm)").
QStringList ecgCaliperLines(const EcgPrintout& printout);

// The page (A4 or Letter, landscape when the content is wider than tall, zero margins).
QPageLayout ecgPrintoutPageLayout(const EcgPrintout& printout);
// "A4 landscape, 25 mm/s, 10 mm/mV" for dialogs and the command line.
QString ecgPrintoutDescription(const EcgPrintout& printout);

// Paints the page with its top-left at the painter origin, pxPerMm device units per mm.
void paintEcgPrintout(QPainter& painter, const EcgPrintout& printout, double pxPerMm);

// Sets the device's page layout and paints the page at `dpi`. False (with a message) when the
// content does not fit the paper at exact scale or the device refuses the page.
bool paintEcgPrintoutOn(QPagedPaintDevice& device, double dpi, const EcgPrintout& printout, QString* error);
// The printout as a one-page PDF (QPdfWriter, 600 dpi).
bool writeEcgPrintoutPdf(const EcgPrintout& printout, const QString& path, QString* error = nullptr);
// The printout on a printer (also a PDF printer): full page, the paper and orientation set here.
bool printEcgPrintout(QPrinter& printer, const EcgPrintout& printout, QString* error = nullptr);

}  // namespace e2e::ui
