// File > Print… and File > Export ECG as PDF…: the printout's options (paper, layout, gain,
// calipers) beside a preview of the page exactly as it will print (the printout painted on a
// QPrinter in preview mode by the function that prints it, redrawn whenever an option changes),
// then the system print dialog or a file chooser. The page itself is ecg/EcgPrintout.h, at exact
// scale, with the ECG's signal-quality banner and lead marks.
#pragma once

#include <QDialog>
#include <memory>
#include <vector>

#include "ecg/EcgPrintout.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPrintPreviewWidget;
class QPrinter;
class QPushButton;
class QWidget;

namespace e2e::ui {

class EcgView;

class EcgPrintDialog : public QDialog {
  Q_OBJECT
 public:
  enum class Purpose { Print, ExportPdf };
  // `view` gives the record, its display settings and the calipers placed on it.
  EcgPrintDialog(Purpose purpose, const EcgView& view, QWidget* parent = nullptr);
  ~EcgPrintDialog() override;

  EcgPrintOptions options() const;
  void setOptions(const EcgPrintOptions& o);
  // The printout these options make of the view (its record must outlive the result).
  EcgPrintout printout() const;
  // The summary line ("A4 landscape, 25 mm/s, 10 mm/mV, layout 3x4+R"), or why it cannot print.
  QString summary() const;

  // The last options chosen (QSettings "print/..."), the view's layout when none was saved.
  static EcgPrintOptions savedOptions(const EcgView& view);
  static void saveOptions(const EcgPrintOptions& o);

  // The preview: the pages painted on previewPrinter() (1 when the printout fits the paper, 0
  // when there is nothing to print), redrawn on every option change (previewRenders() counts the
  // redraws).
  QPrintPreviewWidget* previewWidget() const { return preview_; }
  const QPrinter& previewPrinter() const { return *previewPrinter_; }
  int previewPageCount() const;
  int previewRenders() const { return previewRenders_; }

 private:
  void updateSummary();
  void paintPreview(QPrinter* printer);

  const EcgView& view_;
  QComboBox *paper_ = nullptr, *layout_ = nullptr, *gain_ = nullptr;
  QCheckBox* calipers_ = nullptr;
  QLabel* summary_ = nullptr;
  QPushButton* ok_ = nullptr;
  std::unique_ptr<QPrinter> previewPrinter_;
  QPrintPreviewWidget* preview_ = nullptr;
  int previewRenders_ = 0;
};

// The calipers placed on the view (the canvas holds at most one), in signal terms.
std::vector<EcgCaliperMark> viewCalipers(const EcgView& view);

// File > Print…: the options, then QPrintDialog; prints at exact scale. Messages go to `parent`.
void printEcgInteractive(const EcgView& view, QWidget* parent);
// File > Export ECG as PDF…: the options, then a file chooser.
void exportEcgPdfInteractive(const EcgView& view, QWidget* parent);

}  // namespace e2e::ui
