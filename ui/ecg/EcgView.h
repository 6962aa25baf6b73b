// Clinical 12-lead ECG viewer: paper-like grid at physical millimetres, layouts, speed/gain,
// display filters, calipers with a live cursor readout, PDF/PNG export.
#pragma once

#include <QPointF>
#include <QWidget>
#include <optional>

#include "ecg/EcgPainter.h"

class QComboBox;
class QCheckBox;
class QDoubleSpinBox;
class QHBoxLayout;
class QVBoxLayout;
class QLabel;
class QPushButton;
class QScrollArea;

namespace e2e::ui {

enum class CaliperMode { None, Time, Amplitude };

struct DisplayFilterSettings {
  bool baseline = false;   // zero-phase baseline-wander removal (0.5 Hz)
  int lowpassHz = 0;       // 0 off, 40, 100, 150
  int notchHz = 0;         // 0 off, 50, 60
  QString text() const;    // legend text, "off" when none
  bool any() const { return baseline || lowpassHz > 0 || notchHz > 0; }
};

// Returns a copy of the record with the display filters applied to every channel.
EcgRecord applyDisplayFilters(const EcgRecord& r, const DisplayFilterSettings& f);

// The paper itself: paints paintEcg() at pxPerMm and handles the mouse.
class EcgCanvas : public QWidget {
  Q_OBJECT
 public:
  explicit EcgCanvas(QWidget* parent = nullptr);
  void setSpec(const EcgPaintSpec& spec);
  const EcgPaintSpec& spec() const { return spec_; }
  void setPxPerMm(double k);
  double pxPerMm() const { return k_; }
  void setCaliperMode(CaliperMode m);
  CaliperMode caliperMode() const { return mode_; }
  QSize sizeHint() const override;

  // Widget pixel -> grid millimetres (origin: top-left of the grid).
  QPointF widgetToGridMm(const QPointF& px) const;
  QPointF gridMmToWidget(const QPointF& mm) const;
  // Live readout for a widget position: lead, time (ms) and amplitude (mV), "" outside the panels.
  QString readoutAt(const QPointF& px) const;
  // Caliper between two widget points; text like "Δt 800 ms (75 bpm)" or "ΔV 1.00 mV".
  QString caliperText() const;
  bool hasCaliper() const { return caliper_.has_value(); }
  // The caliper's two ends in grid millimetres (for the printout, ecg/EcgPrintout.h).
  std::optional<std::pair<QPointF, QPointF>> caliperMm() const { return caliper_; }
  void setCaliper(const QPointF& a, const QPointF& b);  // widget pixels
  void clearCaliper() { caliper_.reset(); update(); }

 Q_SIGNALS:
  void readoutChanged(const QString& text);
  void caliperChanged(const QString& text);

 protected:
  void paintEvent(QPaintEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;
  void leaveEvent(QEvent*) override;

 private:
  EcgPaintSpec spec_;
  EcgPageGeometry geo_;
  double k_ = 4.0;
  CaliperMode mode_ = CaliperMode::Time;
  std::optional<std::pair<QPointF, QPointF>> caliper_;  // grid mm
  bool dragging_ = false;
  QPointF cursor_{-1, -1};
  QString readout_;
};

class EcgView : public QWidget {
  Q_OBJECT
 public:
  explicit EcgView(QWidget* parent = nullptr);

  void setRecord(const EcgRecord& record);
  bool hasRecord() const { return record_.has_value(); }
  const EcgRecord* record() const { return record_ ? &*record_ : nullptr; }
  // Signal quality of the record as loaded (before display filters), computed once by setRecord.
  const signal::EcgQuality* quality() const { return quality_ ? &*quality_ : nullptr; }

  void setSpeed(double mmPerS);
  void setGain(double mmPerMv);
  void setLayoutKind(vm::EcgLayoutKind k);
  void setLeadOrder(vm::LeadOrder o);
  // For this run only (echo2ecg-gui --layout): shown, never written to the settings. Speed, gain,
  // layout and lead order are saved (QSettings "ecg/...") only when they change afterwards.
  void setLayoutKindForSession(vm::EcgLayoutKind k);
  void setDisplayFilters(const DisplayFilterSettings& f);
  // First second of the 10 s page in long records (clamped by the layout).
  void setStartTime(double seconds);
  double startTime() const { return spec_.params.startS; }
  double speed() const { return spec_.params.speedMmPerS; }
  double gain() const { return spec_.params.gainMmPerMv; }
  vm::EcgLayoutKind layoutKind() const { return spec_.params.layout; }
  vm::LeadOrder leadOrder() const { return spec_.params.order; }
  DisplayFilterSettings displayFilters() const { return filters_; }
  const EcgPaintSpec& spec() const { return spec_; }

  // Screen millimetres: QScreen::physicalDotsPerInch / 25.4 x the user's ruler calibration
  // (QSettings "ecg/screenCalibration"). A fixed override (tests, zoom) replaces it when > 0.
  double screenPxPerMm() const;
  double calibrationFactor() const { return calibration_; }
  void setCalibrationFactor(double f);  // persisted
  void setPxPerMmOverride(double k);
  EcgCanvas* canvas() const { return canvas_; }

  bool exportPdf(const QString& path, QString* error = nullptr) const;
  bool exportPng(const QString& path, double pxPerMm = 12.0) const;

 public Q_SLOTS:
  void calibrateScreen();   // ruler dialog
  void exportPdfDialog();
  void exportPngDialog();

 Q_SIGNALS:
  void settingsChanged();
  void readoutChanged(const QString& text);

 private:
  // Construction helpers (called once, in this order, by the constructor).
  void loadSettings();                      // speed/gain/layout/order/calibration from QSettings
  QPushButton* createControls();            // the toolbar's controls; returns the ruler button
  QVBoxLayout* buildToolbar(QPushButton* calib);
  void buildLayout(QPushButton* calib);     // toolbar, scrolling canvas, readout
  void connectControls(QPushButton* calib);
  void applyControlChange();                // a speed/gain/layout/order/filter control changed

  void rebuild();
  void syncControls();
  void keyPressEvent(QKeyEvent* e) override;

  std::optional<EcgRecord> record_;
  std::optional<signal::EcgQuality> quality_;
  EcgRecord filtered_;
  EcgPaintSpec spec_;
  DisplayFilterSettings filters_;
  double calibration_ = 1.0;
  double override_ = 0.0;
  // The speed/gain/layout/order last shown: rebuild() saves a value only when it differs (a
  // user's change), so a value set for this run only is never saved by a later unrelated change.
  struct Shown {
    double speed = 0, gain = 0;
    vm::EcgLayoutKind layout = vm::EcgLayoutKind::Grid3x4Rhythm;
    vm::LeadOrder order = vm::LeadOrder::Standard;
  } shown_;
  EcgCanvas* canvas_ = nullptr;
  QScrollArea* scroll_ = nullptr;
  QComboBox *speedBox_ = nullptr, *gainBox_ = nullptr, *layoutBox_ = nullptr, *caliperBox_ = nullptr;
  QComboBox *lowpassBox_ = nullptr, *notchBox_ = nullptr;
  QCheckBox *cabreraBox_ = nullptr, *baselineBox_ = nullptr;
  QDoubleSpinBox* startBox_ = nullptr;
  QLabel* readout_ = nullptr;
  bool syncing_ = false;
};

}  // namespace e2e::ui
