#include "ecg/EcgView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMessageBox>
#include <QMouseEvent>
#include <QPainter>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

#include "signal/filters.h"

namespace e2e::ui {

QString DisplayFilterSettings::text() const {
  QStringList parts;
  if (baseline) parts << QStringLiteral("baseline 0.5 Hz");
  if (lowpassHz > 0) parts << QStringLiteral("low-pass %1 Hz").arg(lowpassHz);
  if (notchHz > 0) parts << QStringLiteral("notch %1 Hz").arg(notchHz);
  if (parts.isEmpty()) return QStringLiteral("off");
  return parts.join(QStringLiteral(", ")) + QStringLiteral(" (zero-phase)");
}

EcgRecord applyDisplayFilters(const EcgRecord& r, const DisplayFilterSettings& f) {
  EcgRecord out = r;
  if (!f.any()) return out;
  signal::DisplayFilter df;
  df.baseline = f.baseline;
  df.lowpassHz = f.lowpassHz;
  df.notchHz = f.notchHz;
  for (auto& g : out.groups) {
    if (g.samplingHz <= 0) continue;
    for (auto& c : g.channels)
      if (c.samples.size() > 8) c.samples = signal::applyDisplayFilter(c.samples, g.samplingHz, df);
  }
  return out;
}

// ------------------------------------------------------------------ canvas ----

EcgCanvas::EcgCanvas(QWidget* parent) : QWidget(parent) {
  setMouseTracking(true);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setCursor(Qt::CrossCursor);
  setSpec(EcgPaintSpec{});
}

void EcgCanvas::setSpec(const EcgPaintSpec& spec) {
  spec_ = spec;
  geo_ = ecgPageGeometry(spec_);
  resize(sizeHint());
  updateGeometry();
  update();
}

void EcgCanvas::setPxPerMm(double k) {
  if (!(k > 0)) return;
  k_ = k;
  resize(sizeHint());
  updateGeometry();
  update();
}

void EcgCanvas::setCaliperMode(CaliperMode m) {
  mode_ = m;
  if (m == CaliperMode::None) caliper_.reset();
  update();
}

QSize EcgCanvas::sizeHint() const {
  return QSize(static_cast<int>(std::ceil(geo_.pageMm.width() * k_)), static_cast<int>(std::ceil(geo_.pageMm.height() * k_)));
}

QPointF EcgCanvas::widgetToGridMm(const QPointF& px) const {
  return QPointF(px.x() / k_ - geo_.gridOriginMm.x(), px.y() / k_ - geo_.gridOriginMm.y());
}

QPointF EcgCanvas::gridMmToWidget(const QPointF& mm) const {
  return QPointF((mm.x() + geo_.gridOriginMm.x()) * k_, (mm.y() + geo_.gridOriginMm.y()) * k_);
}

QString EcgCanvas::readoutAt(const QPointF& px) const {
  const QPointF mm = widgetToGridMm(px);
  const int i = vm::panelAt(geo_.layout, mm.x(), mm.y());
  if (i < 0) return QString();
  const auto& panel = geo_.layout.panels[static_cast<std::size_t>(i)];
  const double t = vm::panelTimeAt(panel, mm.x(), spec_.params.speedMmPerS);
  const double a = vm::panelAmplitudeAt(panel, mm.y(), spec_.params.gainMmPerMv);
  QString s = QStringLiteral("%1   t = %2 ms   %3 mV")
                  .arg(QString::fromStdString(panel.label))
                  .arg(t * 1000.0, 0, 'f', 0)
                  .arg(a, 0, 'f', 2);
  if (spec_.record) {
    const EcgGroup* g = panel.median ? spec_.record->median() : spec_.record->rhythm();
    if (g) {
      const double v = vm::sampleAt(*g, panel.lead, t);
      if (std::isfinite(v)) s += QStringLiteral("   signal %1 mV").arg(panel.inverted ? -v : v, 0, 'f', 2);
    }
  }
  if (panel.median) s += QStringLiteral("   (median beat)");
  else if (const QStringList q = ecgQualityMessages(spec_, panel.lead); !q.isEmpty())
    s += QStringLiteral("   [") + q.join(QStringLiteral("; ")) + QStringLiteral("]");
  return s;
}

void EcgCanvas::setCaliper(const QPointF& a, const QPointF& b) {
  caliper_ = std::make_pair(widgetToGridMm(a), widgetToGridMm(b));
  update();
  Q_EMIT caliperChanged(caliperText());
}

QString EcgCanvas::caliperText() const {
  if (!caliper_) return QString();
  const QPointF d = caliper_->second - caliper_->first;
  if (mode_ == CaliperMode::Amplitude) {
    return QStringLiteral("ΔV %1 mV").arg(std::abs(vm::mmToMv(d.y(), spec_.params.gainMmPerMv)), 0, 'f', 2);
  }
  const double ms = std::abs(vm::mmToMs(d.x(), spec_.params.speedMmPerS));
  QString s = QStringLiteral("Δt %1 ms").arg(ms, 0, 'f', 0);
  const double rate = vm::rateFromIntervalMs(ms);
  if (std::isfinite(rate)) s += QStringLiteral(" (%1 bpm)").arg(rate, 0, 'f', 0);
  return s;
}

void EcgCanvas::paintEvent(QPaintEvent*) {
  QPainter p(this);
  paintEcg(p, spec_, k_);
  // Caliper overlay (screen only).
  if (caliper_ && mode_ != CaliperMode::None) {
    const QPointF a = gridMmToWidget(caliper_->first), b = gridMmToWidget(caliper_->second);
    const QColor c(0, 90, 200);
    p.setRenderHint(QPainter::Antialiasing, true);
    p.setPen(QPen(c, 1.5, Qt::DashLine));
    const QRectF grid(gridMmToWidget(QPointF(0, 0)), gridMmToWidget(QPointF(geo_.layout.widthMm, geo_.layout.heightMm)));
    if (mode_ == CaliperMode::Time) {
      for (double x : {a.x(), b.x()}) p.drawLine(QPointF(x, grid.top()), QPointF(x, grid.bottom()));
      p.setPen(QPen(c, 1.5));
      p.drawLine(QPointF(a.x(), a.y()), QPointF(b.x(), a.y()));
    } else {
      for (double y : {a.y(), b.y()}) p.drawLine(QPointF(grid.left(), y), QPointF(grid.right(), y));
      p.setPen(QPen(c, 1.5));
      p.drawLine(QPointF(a.x(), a.y()), QPointF(a.x(), b.y()));
    }
    QFont f = font();
    f.setBold(true);
    p.setFont(f);
    const QString text = caliperText();
    const QPointF at(std::max(a.x(), b.x()) + 6, std::min(a.y(), b.y()) - 6);
    const QRectF box = QFontMetricsF(f).boundingRect(text).translated(at).adjusted(-3, -2, 3, 2);
    p.fillRect(box, QColor(255, 255, 255, 220));
    p.setPen(c);
    p.drawText(at, text);
  }
  // Live cursor readout next to the cursor.
  if (!readout_.isEmpty() && cursor_.x() >= 0) {
    QFont f = font();
    p.setFont(f);
    const QPointF at = cursor_ + QPointF(14, 22);
    const QRectF box = QFontMetricsF(f).boundingRect(readout_).translated(at).adjusted(-3, -2, 3, 2);
    p.fillRect(box, QColor(255, 255, 220, 230));
    p.setPen(QColor(60, 60, 60));
    p.drawRect(box);
    p.setPen(Qt::black);
    p.drawText(at, readout_);
  }
}

void EcgCanvas::mouseMoveEvent(QMouseEvent* e) {
  cursor_ = e->position();
  readout_ = readoutAt(cursor_);
  if (dragging_ && caliper_) {
    caliper_->second = widgetToGridMm(cursor_);
    Q_EMIT caliperChanged(caliperText());
  }
  Q_EMIT readoutChanged(readout_);
  update();
}

void EcgCanvas::mousePressEvent(QMouseEvent* e) {
  if (e->button() == Qt::LeftButton && mode_ != CaliperMode::None) {
    const QPointF mm = widgetToGridMm(e->position());
    caliper_ = std::make_pair(mm, mm);
    dragging_ = true;
    update();
  } else if (e->button() == Qt::RightButton) {
    clearCaliper();
    Q_EMIT caliperChanged(QString());
  }
}

void EcgCanvas::mouseReleaseEvent(QMouseEvent* e) {
  if (dragging_ && caliper_) {
    caliper_->second = widgetToGridMm(e->position());
    Q_EMIT caliperChanged(caliperText());
  }
  dragging_ = false;
  update();
}

void EcgCanvas::leaveEvent(QEvent*) {
  cursor_ = QPointF(-1, -1);
  readout_.clear();
  update();
}

// -------------------------------------------------------------------- view ----

namespace {
class RulerWidget : public QWidget {
 public:
  RulerWidget(double pxPerMm, QWidget* parent) : QWidget(parent), k_(pxPerMm) {
    setMinimumSize(static_cast<int>(100 * k_) + 40, 60);
  }
  void paintEvent(QPaintEvent*) override {
    QPainter p(this);
    p.fillRect(rect(), Qt::white);
    p.setPen(QPen(Qt::black, 1));
    const double x0 = 20, y = 35;
    p.drawLine(QPointF(x0, y), QPointF(x0 + 100 * k_, y));
    for (int mm = 0; mm <= 100; ++mm) {
      const double len = (mm % 10 == 0) ? 14 : (mm % 5 == 0 ? 9 : 5);
      p.drawLine(QPointF(x0 + mm * k_, y), QPointF(x0 + mm * k_, y - len));
      if (mm % 10 == 0) p.drawText(QPointF(x0 + mm * k_ - 6, y + 16), QString::number(mm / 10));
    }
  }
  double k_;
};
}  // namespace

EcgView::EcgView(QWidget* parent) : QWidget(parent) {
  loadSettings();
  QPushButton* calib = createControls();
  buildLayout(calib);
  connectControls(calib);
  syncControls();
  rebuild();
}

void EcgView::loadSettings() {
  QSettings s;
  calibration_ = s.value(QStringLiteral("ecg/screenCalibration"), 1.0).toDouble();
  if (!(calibration_ > 0.2 && calibration_ < 5)) calibration_ = 1.0;
  spec_.params.speedMmPerS = s.value(QStringLiteral("ecg/speed"), 25.0).toDouble();
  spec_.params.gainMmPerMv = s.value(QStringLiteral("ecg/gain"), 10.0).toDouble();
  spec_.params.layout = vm::layoutFromString(s.value(QStringLiteral("ecg/layout"), QStringLiteral("3x4+R")).toString().toStdString())
                            .value_or(vm::EcgLayoutKind::Grid3x4Rhythm);
  spec_.params.order = s.value(QStringLiteral("ecg/cabrera"), false).toBool() ? vm::LeadOrder::Cabrera : vm::LeadOrder::Standard;
  if (spec_.params.speedMmPerS != 12.5 && spec_.params.speedMmPerS != 25 && spec_.params.speedMmPerS != 50) spec_.params.speedMmPerS = 25;
  if (spec_.params.gainMmPerMv != 5 && spec_.params.gainMmPerMv != 10 && spec_.params.gainMmPerMv != 20) spec_.params.gainMmPerMv = 10;
  shown_ = {spec_.params.speedMmPerS, spec_.params.gainMmPerMv, spec_.params.layout, spec_.params.order};
}

QPushButton* EcgView::createControls() {
  speedBox_ = new QComboBox(this);
  speedBox_->setObjectName(QStringLiteral("speedBox"));
  for (double v : {12.5, 25.0, 50.0}) speedBox_->addItem(QStringLiteral("%1 mm/s").arg(v), v);
  gainBox_ = new QComboBox(this);
  gainBox_->setObjectName(QStringLiteral("gainBox"));
  for (double v : {5.0, 10.0, 20.0}) gainBox_->addItem(QStringLiteral("%1 mm/mV").arg(v), v);
  layoutBox_ = new QComboBox(this);
  layoutBox_->setObjectName(QStringLiteral("layoutBox"));
  layoutBox_->addItem(QStringLiteral("3x4"), static_cast<int>(vm::EcgLayoutKind::Grid3x4));
  layoutBox_->addItem(QStringLiteral("3x4 + rhythm II"), static_cast<int>(vm::EcgLayoutKind::Grid3x4Rhythm));
  layoutBox_->addItem(QStringLiteral("6x2"), static_cast<int>(vm::EcgLayoutKind::Grid6x2));
  layoutBox_->addItem(QStringLiteral("12x1"), static_cast<int>(vm::EcgLayoutKind::Grid12x1));
  cabreraBox_ = new QCheckBox(QStringLiteral("Cabrera"), this);
  baselineBox_ = new QCheckBox(QStringLiteral("Baseline"), this);
  baselineBox_->setToolTip(QStringLiteral("Zero-phase baseline-wander removal (0.5 Hz high-pass), display only"));
  lowpassBox_ = new QComboBox(this);
  lowpassBox_->setToolTip(QStringLiteral("Zero-phase low-pass, display only"));
  for (int v : {0, 40, 100, 150}) lowpassBox_->addItem(v ? QStringLiteral("LP %1 Hz").arg(v) : QStringLiteral("LP off"), v);
  notchBox_ = new QComboBox(this);
  notchBox_->setToolTip(QStringLiteral("Zero-phase mains notch, display only"));
  for (int v : {0, 50, 60}) notchBox_->addItem(v ? QStringLiteral("Notch %1 Hz").arg(v) : QStringLiteral("Notch off"), v);
  caliperBox_ = new QComboBox(this);
  caliperBox_->addItem(QStringLiteral("Time caliper"), static_cast<int>(CaliperMode::Time));
  caliperBox_->addItem(QStringLiteral("Amplitude caliper"), static_cast<int>(CaliperMode::Amplitude));
  caliperBox_->addItem(QStringLiteral("No caliper"), static_cast<int>(CaliperMode::None));
  startBox_ = new QDoubleSpinBox(this);
  startBox_->setObjectName(QStringLiteral("startBox"));
  startBox_->setDecimals(1);
  startBox_->setSingleStep(2.5);
  startBox_->setSuffix(QStringLiteral(" s"));
  startBox_->setToolTip(QStringLiteral("Start of the 10 s page in long records (PageUp/PageDown)"));
  auto* calib = new QPushButton(QStringLiteral("Ruler…"), this);
  calib->setToolTip(QStringLiteral("Calibrate screen millimetres with a physical ruler"));
  return calib;
}

// Two rows (display: speed, gain, layout, page; tools: filters, calipers, ruler), so that the ECG tab
// does not force the window wider than a laptop screen.
QVBoxLayout* EcgView::buildToolbar(QPushButton* calib) {
  auto* rows = new QVBoxLayout;
  rows->setSpacing(0);
  auto* top = new QHBoxLayout;
  auto* tools = new QHBoxLayout;
  for (auto* r : {top, tools}) {
    r->setContentsMargins(4, 2, 4, 2);
    rows->addLayout(r);
  }
  auto addLabel = [&](QHBoxLayout* row, const QString& t) { row->addWidget(new QLabel(t, this)); };

  addLabel(top, QStringLiteral("Speed"));
  top->addWidget(speedBox_);
  addLabel(top, QStringLiteral("Gain"));
  top->addWidget(gainBox_);
  addLabel(top, QStringLiteral("Layout"));
  top->addWidget(layoutBox_);
  top->addWidget(cabreraBox_);
  addLabel(top, QStringLiteral("Start"));
  top->addWidget(startBox_);
  top->addStretch(1);
  addLabel(tools, QStringLiteral("Display filters:"));
  tools->addWidget(baselineBox_);
  tools->addWidget(lowpassBox_);
  tools->addWidget(notchBox_);
  tools->addSpacing(12);
  tools->addWidget(caliperBox_);
  tools->addWidget(calib);
  tools->addStretch(1);
  return rows;
}

void EcgView::buildLayout(QPushButton* calib) {
  QVBoxLayout* top = buildToolbar(calib);

  canvas_ = new EcgCanvas;
  scroll_ = new QScrollArea(this);
  scroll_->setWidget(canvas_);
  scroll_->setWidgetResizable(false);
  scroll_->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
  scroll_->setBackgroundRole(QPalette::Dark);
  readout_ = new QLabel(this);
  readout_->setObjectName(QStringLiteral("ecgReadout"));
  readout_->setMinimumHeight(20);

  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(0, 0, 0, 0);
  v->setSpacing(2);
  v->addLayout(top);
  v->addWidget(scroll_, 1);
  v->addWidget(readout_);
}

void EcgView::applyControlChange() {
  if (syncing_) return;
  spec_.params.speedMmPerS = speedBox_->currentData().toDouble();
  spec_.params.gainMmPerMv = gainBox_->currentData().toDouble();
  spec_.params.layout = static_cast<vm::EcgLayoutKind>(layoutBox_->currentData().toInt());
  spec_.params.order = cabreraBox_->isChecked() ? vm::LeadOrder::Cabrera : vm::LeadOrder::Standard;
  DisplayFilterSettings f;
  f.baseline = baselineBox_->isChecked();
  f.lowpassHz = lowpassBox_->currentData().toInt();
  f.notchHz = notchBox_->currentData().toInt();
  const bool filtersChanged = f.baseline != filters_.baseline || f.lowpassHz != filters_.lowpassHz || f.notchHz != filters_.notchHz;
  filters_ = f;
  if (filtersChanged && record_) filtered_ = applyDisplayFilters(*record_, filters_);
  rebuild();
}

void EcgView::connectControls(QPushButton* calib) {
  for (QComboBox* b : {speedBox_, gainBox_, layoutBox_, lowpassBox_, notchBox_})
    connect(b, QOverload<int>::of(&QComboBox::currentIndexChanged), this, [this] { applyControlChange(); });
  connect(cabreraBox_, &QCheckBox::toggled, this, [this] { applyControlChange(); });
  connect(startBox_, QOverload<double>::of(&QDoubleSpinBox::valueChanged), this, [this](double v) {
    if (!syncing_) setStartTime(v);
  });
  connect(baselineBox_, &QCheckBox::toggled, this, [this] { applyControlChange(); });
  connect(caliperBox_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
          [this] { canvas_->setCaliperMode(static_cast<CaliperMode>(caliperBox_->currentData().toInt())); });
  connect(calib, &QPushButton::clicked, this, &EcgView::calibrateScreen);
  connect(canvas_, &EcgCanvas::readoutChanged, this, [this](const QString& t) {
    readout_->setText(t.isEmpty() ? QString() : QStringLiteral("Cursor: ") + t);
    Q_EMIT readoutChanged(t);
  });
  connect(canvas_, &EcgCanvas::caliperChanged, this, [this](const QString& t) {
    if (!t.isEmpty()) readout_->setText(QStringLiteral("Caliper: ") + t);
  });
}

void EcgView::syncControls() {
  syncing_ = true;
  speedBox_->setCurrentIndex(speedBox_->findData(spec_.params.speedMmPerS));
  gainBox_->setCurrentIndex(gainBox_->findData(spec_.params.gainMmPerMv));
  layoutBox_->setCurrentIndex(layoutBox_->findData(static_cast<int>(spec_.params.layout)));
  cabreraBox_->setChecked(spec_.params.order == vm::LeadOrder::Cabrera);
  baselineBox_->setChecked(filters_.baseline);
  lowpassBox_->setCurrentIndex(std::max(0, lowpassBox_->findData(filters_.lowpassHz)));
  notchBox_->setCurrentIndex(std::max(0, notchBox_->findData(filters_.notchHz)));
  const double maxStart = std::max(0.0, spec_.params.durationS - 10.0);
  startBox_->setRange(0.0, maxStart);
  startBox_->setEnabled(maxStart > 0.0);
  startBox_->setValue(spec_.params.startS);
  syncing_ = false;
}

void EcgView::rebuild() {
  spec_.record = record_ ? &filtered_ : nullptr;
  spec_.quality = quality();
  spec_.displayFilterText = filters_.text();
  prepareEcgSpec(spec_);
  spec_.params.startS = std::clamp(spec_.params.startS, 0.0, std::max(0.0, spec_.params.durationS - 10.0));
  canvas_->setSpec(spec_);
  canvas_->setPxPerMm(screenPxPerMm());
  // Only what changed since the last rebuild is saved (see Shown).
  QSettings s;
  if (spec_.params.speedMmPerS != shown_.speed) s.setValue(QStringLiteral("ecg/speed"), spec_.params.speedMmPerS);
  if (spec_.params.gainMmPerMv != shown_.gain) s.setValue(QStringLiteral("ecg/gain"), spec_.params.gainMmPerMv);
  if (spec_.params.layout != shown_.layout)
    s.setValue(QStringLiteral("ecg/layout"), QString::fromLatin1(vm::toString(spec_.params.layout)));
  if (spec_.params.order != shown_.order) s.setValue(QStringLiteral("ecg/cabrera"), spec_.params.order == vm::LeadOrder::Cabrera);
  shown_ = {spec_.params.speedMmPerS, spec_.params.gainMmPerMv, spec_.params.layout, spec_.params.order};
  Q_EMIT settingsChanged();
}

void EcgView::setRecord(const EcgRecord& record) {
  record_ = record;
  quality_ = signal::assessEcgQuality(*record_);
  filtered_ = applyDisplayFilters(*record_, filters_);
  spec_.params.startS = 0.0;
  canvas_->clearCaliper();
  rebuild();
  syncControls();
}

void EcgView::setStartTime(double seconds) {
  spec_.params.startS = seconds;
  rebuild();
  syncControls();
}

void EcgView::keyPressEvent(QKeyEvent* e) {
  if (e->key() == Qt::Key_PageDown) setStartTime(spec_.params.startS + 10.0);
  else if (e->key() == Qt::Key_PageUp) setStartTime(spec_.params.startS - 10.0);
  else QWidget::keyPressEvent(e);
}

void EcgView::setSpeed(double v) { spec_.params.speedMmPerS = v; syncControls(); rebuild(); }
void EcgView::setGain(double v) { spec_.params.gainMmPerMv = v; syncControls(); rebuild(); }
void EcgView::setLayoutKind(vm::EcgLayoutKind k) { spec_.params.layout = k; syncControls(); rebuild(); }
void EcgView::setLeadOrder(vm::LeadOrder o) { spec_.params.order = o; syncControls(); rebuild(); }
void EcgView::setLayoutKindForSession(vm::EcgLayoutKind k) {
  spec_.params.layout = k;
  shown_.layout = k;  // not a change to save
  syncControls();
  rebuild();
}

void EcgView::setDisplayFilters(const DisplayFilterSettings& f) {
  filters_ = f;
  if (record_) filtered_ = applyDisplayFilters(*record_, filters_);
  syncControls();
  rebuild();
}

double EcgView::screenPxPerMm() const {
  if (override_ > 0) return override_;
  const QScreen* sc = screen() ? screen() : QGuiApplication::primaryScreen();
  double dpi = sc ? sc->physicalDotsPerInch() : 96.0;
  if (!(dpi > 30 && dpi < 1000)) dpi = 96.0;  // virtual displays report nonsense sizes
  return dpi / 25.4 * calibration_;
}

void EcgView::setCalibrationFactor(double f) {
  if (!(f > 0.2 && f < 5)) return;
  calibration_ = f;
  QSettings().setValue(QStringLiteral("ecg/screenCalibration"), f);
  canvas_->setPxPerMm(screenPxPerMm());
}

void EcgView::setPxPerMmOverride(double k) {
  override_ = k;
  canvas_->setPxPerMm(screenPxPerMm());
}

void EcgView::calibrateScreen() {
  QDialog dlg(this);
  dlg.setWindowTitle(QStringLiteral("Screen ruler calibration"));
  auto* lay = new QVBoxLayout(&dlg);
  lay->addWidget(new QLabel(QStringLiteral("Measure the bar below with a physical ruler (it should be 100 mm = 10 cm)."), &dlg));
  lay->addWidget(new RulerWidget(screenPxPerMm(), &dlg));
  auto* spin = new QDoubleSpinBox(&dlg);
  spin->setRange(20, 500);
  spin->setDecimals(1);
  spin->setSuffix(QStringLiteral(" mm measured"));
  spin->setValue(100.0);
  lay->addWidget(spin);
  auto* bb = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel | QDialogButtonBox::Reset, &dlg);
  lay->addWidget(bb);
  connect(bb, &QDialogButtonBox::accepted, &dlg, &QDialog::accept);
  connect(bb, &QDialogButtonBox::rejected, &dlg, &QDialog::reject);
  connect(bb->button(QDialogButtonBox::Reset), &QPushButton::clicked, &dlg, [&] {
    setCalibrationFactor(1.0);
    dlg.reject();
  });
  if (dlg.exec() == QDialog::Accepted && spin->value() > 0) setCalibrationFactor(calibration_ * 100.0 / spin->value());
}

bool EcgView::exportPdf(const QString& path, QString* error) const { return exportEcgPdf(spec_, path, error); }
bool EcgView::exportPng(const QString& path, double k) const { return exportEcgPng(spec_, path, k); }

void EcgView::exportPdfDialog() {
  const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export ECG as PDF"), QString(), QStringLiteral("PDF (*.pdf)"));
  if (path.isEmpty()) return;
  QString err;
  if (!exportPdf(path, &err)) QMessageBox::warning(this, QStringLiteral("Export failed"), err);
}

void EcgView::exportPngDialog() {
  const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export ECG as PNG"), QString(), QStringLiteral("PNG (*.png)"));
  if (path.isEmpty()) return;
  if (!exportPng(path)) QMessageBox::warning(this, QStringLiteral("Export failed"), QStringLiteral("Cannot write ") + path);
}

}  // namespace e2e::ui
