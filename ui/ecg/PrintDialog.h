// File > Print… and File > Export ECG as PDF…: the printout's options (paper, layout, gain,
// calipers), then the system print dialog or a file chooser. The page itself is
// ecg/EcgPrintout.h, at exact scale.
#pragma once

#include <QDialog>
#include <vector>

#include "ecg/EcgPrintout.h"

class QCheckBox;
class QComboBox;
class QLabel;
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

  EcgPrintOptions options() const;
  void setOptions(const EcgPrintOptions& o);
  // The printout these options make of the view (its record must outlive the result).
  EcgPrintout printout() const;
  // The summary line ("A4 landscape, 25 mm/s, 10 mm/mV, layout 3x4+R"), or why it cannot print.
  QString summary() const;

  // The last options chosen (QSettings "print/..."), the view's layout when none was saved.
  static EcgPrintOptions savedOptions(const EcgView& view);
  static void saveOptions(const EcgPrintOptions& o);

 private:
  void updateSummary();

  const EcgView& view_;
  QComboBox *paper_ = nullptr, *layout_ = nullptr, *gain_ = nullptr;
  QCheckBox* calipers_ = nullptr;
  QLabel* summary_ = nullptr;
  QPushButton* ok_ = nullptr;
};

// The calipers placed on the view (the canvas holds at most one), in signal terms.
std::vector<EcgCaliperMark> viewCalipers(const EcgView& view);

// File > Print…: the options, then QPrintDialog; prints at exact scale. Messages go to `parent`.
void printEcgInteractive(const EcgView& view, QWidget* parent);
// File > Export ECG as PDF…: the options, then a file chooser.
void exportEcgPdfInteractive(const EcgView& view, QWidget* parent);

}  // namespace e2e::ui
