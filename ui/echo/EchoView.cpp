#include "echo/EchoView.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QResizeEvent>
#include <QWheelEvent>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QOpenGLPaintDevice>
#include <QPainter>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>

#include <vtkCamera.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageProperty.h>
#include <vtkNew.h>
#include <vtkOpenGLState.h>
#include <vtkPointData.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/person_name.h"
#include "io/dicom_echo.h"

namespace e2e::ui {

QString echoCellTitle(const EchoInfo& info) {
  const auto& id = info.identity;
  QString who = QString::fromStdString(formatPersonName(id.patientName));  // "FAMILY, Given", as everywhere
  if (who.isEmpty()) who = QStringLiteral("(no name)");
  // DA is YYYYMMDD; old ACR-NEMA files write YYYY.MM.DD: shown as YYYY-MM-DD, anything else as stored.
  QString date = QString::fromStdString(id.studyDate).trimmed();
  QString digits = date;
  digits.remove(QLatin1Char('.'));
  if (date.isEmpty()) date = QStringLiteral("(no date)");
  else if (digits.size() == 8 && digits.toLongLong() > 0) date = digits.left(4) + QLatin1Char('-') + digits.mid(4, 2) + QLatin1Char('-') + digits.mid(6, 2);
  const QString view = info.viewLabel.empty() ? QStringLiteral("view ?") : QString::fromStdString(info.viewLabel);
  const QString file = QString::fromStdString(info.sourcePath).section(QLatin1Char('/'), -1);
  return QStringList{who, date, view, file}.join(QStringLiteral("   "));
}

// ------------------------------------------------------------- GL widget ----

struct EchoGLWidget::Vtk {
  vtkNew<vtkGenericOpenGLRenderWindow> window;
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkImageActor> actor;
  vtkSmartPointer<vtkImageData> image;
  bool initialised = false;
  int cols = 0, rows = 0, channels = 0;
};

EchoGLWidget::EchoGLWidget(QWidget* parent) : QOpenGLWidget(parent), vtk_(std::make_unique<Vtk>()) {
  setMinimumSize(160, 120);
  setMouseTracking(true);  // the dashed line to the next point of an area or angle
  auto& v = *vtk_;
  v.window->SetOwnContext(false);
  v.window->SetFrameBlitModeToBlitToCurrent();
  v.window->SetReadyForRendering(false);
  v.window->SetForceMaximumHardwareLineWidth(1);
  v.window->SetMultiSamples(0);
  v.window->AddRenderer(v.renderer);
  v.renderer->SetBackground(0, 0, 0);
  v.renderer->SetBackgroundAlpha(1.0);
  v.renderer->AddActor(v.actor);
  v.actor->InterpolateOn();
  v.actor->GetProperty()->SetColorWindow(255.0);
  v.actor->GetProperty()->SetColorLevel(127.5);
  v.actor->VisibilityOff();
  v.renderer->GetActiveCamera()->ParallelProjectionOn();
}

EchoGLWidget::~EchoGLWidget() {
  if (vtk_ && vtk_->initialised && context()) {
    makeCurrent();
    vtk_->window->SetReadyForRendering(true);
    vtk_->window->Finalize();
    doneCurrent();
  }
}

void EchoGLWidget::setFrames(std::shared_ptr<const EchoFrames> frames) {
  frames_ = std::move(frames);
  frame_ = 0;
  dirty_ = true;
  view_.setImageSize(hasImage() ? frames_->cols : 0, hasImage() ? frames_->rows : 0);
  update();
}

void EchoGLWidget::showFrame(int index) {
  if (!hasImage()) return;
  frame_ = std::clamp(index, 0, frames_->frames - 1);
  dirty_ = true;
  update();
}

void EchoGLWidget::setCornerText(const QString& l, const QString& r) {
  cornerLeft_ = l;
  cornerRight_ = r;
  update();
}

void EchoGLWidget::uploadFrame() {
  auto& v = *vtk_;
  if (!hasImage()) {
    v.actor->VisibilityOff();
    return;
  }
  const int cols = frames_->cols, rows = frames_->rows, ch = frames_->channels;
  if (!v.image || v.cols != cols || v.rows != rows || v.channels != ch) {
    v.image = vtkSmartPointer<vtkImageData>::New();
    v.image->SetDimensions(cols, rows, 1);
    v.image->SetSpacing(1, 1, 1);
    v.image->SetOrigin(0, 0, 0);
    v.image->AllocateScalars(VTK_UNSIGNED_CHAR, ch);
    v.cols = cols;
    v.rows = rows;
    v.channels = ch;
    v.actor->SetInputData(v.image);
  }
  // VTK's y axis points up: copy rows flipped so that DICOM row 0 is at the top.
  auto* dst = static_cast<std::uint8_t*>(v.image->GetScalarPointer());
  const std::uint8_t* src = frames_->frame(frame_);
  const std::size_t rowBytes = static_cast<std::size_t>(cols) * ch;
  for (int r = 0; r < rows; ++r)
    std::memcpy(dst + static_cast<std::size_t>(rows - 1 - r) * rowBytes, src + static_cast<std::size_t>(r) * rowBytes, rowBytes);
  v.image->Modified();
  v.actor->VisibilityOn();
}

// The camera shows view_: its centre image point at the widget centre, view_.scale() widget px
// per image px. VTK's y axis points up and the rows were uploaded flipped.
void EchoGLWidget::fitCamera() {
  auto& v = *vtk_;
  if (!v.image) return;
  const double h = std::max(1, height());
  auto* cam = v.renderer->GetActiveCamera();
  const double cx = view_.centre().x, cy = (v.rows - 1) - view_.centre().y;
  cam->SetFocalPoint(cx, cy, 0);
  cam->SetPosition(cx, cy, 1000);
  cam->SetViewUp(0, 1, 0);
  cam->SetParallelScale(h / view_.scale() / 2.0);
  v.renderer->ResetCameraClippingRange();
  v.actor->GetProperty()->SetColorWindow(view_.window());
  v.actor->GetProperty()->SetColorLevel(view_.level());
}

QPointF EchoGLWidget::widgetToImage(const QPointF& p) const {
  if (!hasImage()) return {};
  const auto i = view_.viewportToImage(p.x(), p.y());
  return QPointF(i.x, i.y);
}

QPointF EchoGLWidget::imageToWidget(const QPointF& img) const {
  if (!hasImage()) return {};
  const auto w = view_.imageToViewport(img.x(), img.y());
  return QPointF(w.x, w.y);
}

void EchoGLWidget::zoomAt(double factor, const QPointF& at) {
  if (!hasImage()) return;
  view_.zoomAt(factor, at.x(), at.y());
  update();
  Q_EMIT imageViewChanged();
}

void EchoGLWidget::panBy(const QPointF& d) {
  if (!hasImage()) return;
  view_.panBy(d.x(), d.y());
  update();
  Q_EMIT imageViewChanged();
}

void EchoGLWidget::setWindowLevel(double window, double level) {
  view_.setWindowLevel(window, level);
  update();
  Q_EMIT imageViewChanged();
}

void EchoGLWidget::resetImageView() {
  view_.resetView();
  view_.resetWindowLevel();
  update();
  Q_EMIT imageViewChanged();
}

void EchoGLWidget::resizeEvent(QResizeEvent* e) {
  view_.setViewportSize(std::max(1, e->size().width()), std::max(1, e->size().height()));
  QOpenGLWidget::resizeEvent(e);
}

QRectF EchoGLWidget::imageRectInWidget() const {
  if (!hasImage()) return {};
  return QRectF(imageToWidget(QPointF(-0.5, -0.5)), imageToWidget(QPointF(frames_->cols - 0.5, frames_->rows - 0.5)));
}

void EchoGLWidget::initializeGL() {
  auto& v = *vtk_;
  v.window->SetIsCurrent(true);
  v.window->SetSupportsOpenGL(true);
  v.window->SetReadyForRendering(true);
  v.window->SetMapped(1);
  v.window->OpenGLInitContext();
  v.window->SetReadyForRendering(false);
  v.initialised = true;
}

void EchoGLWidget::resizeGL(int, int) { dirty_ = true; }

void EchoGLWidget::paintGL() {
  auto& v = *vtk_;
  if (dirty_) {
    uploadFrame();
    dirty_ = false;
  }
  const qreal dpr = devicePixelRatioF();
  fitCamera();
  v.window->SetIsCurrent(true);
  v.window->SetReadyForRendering(true);
  v.window->SetSize(static_cast<int>(width() * dpr), static_cast<int>(height() * dpr));
  v.window->GetState()->Reset();
  v.window->GetState()->Push();
  v.window->Render();
  v.window->GetState()->Pop();
  v.window->SetReadyForRendering(false);
  ++renders_;

  // Overlay with QPainter on top of the VTK image: VTK may leave its own framebuffer bound.
  if (auto* ctx = QOpenGLContext::currentContext()) {
    ctx->functions()->glBindFramebuffer(GL_FRAMEBUFFER, defaultFramebufferObject());
    ctx->functions()->glViewport(0, 0, static_cast<int>(width() * dpr), static_cast<int>(height() * dpr));
  }
  // Paint through a QOpenGLPaintDevice rather than the widget: QWidget::grab()/render()
  // redirect widget painters, which would send the overlay elsewhere.
  QOpenGLPaintDevice device(QSize(static_cast<int>(width() * dpr), static_cast<int>(height() * dpr)));
  device.setDevicePixelRatio(dpr);
  QPainter p(&device);
  paintOverlay(p);
  p.end();
}

namespace {
// Text on a translucent dark backing, so that it stays readable over burned-in vendor text.
void backedText(QPainter& p, const QRectF& box, int align, const QString& text, const QColor& colour) {
  if (text.isEmpty()) return;
  const QFontMetricsF fm(p.font());
  const QString shown = fm.elidedText(text, Qt::ElideRight, box.width());
  QRectF r = fm.boundingRect(box, align, shown);
  p.fillRect(r.adjusted(-4, -2, 4, 2), QColor(0, 0, 0, 170));
  p.setPen(colour);
  p.drawText(box, align, shown);
}
}  // namespace

void EchoGLWidget::paintOverlay(QPainter& p) {
  p.setRenderHint(QPainter::Antialiasing, true);
  QFont f = font();
  f.setPointSizeF(9);
  f.setBold(true);
  p.setFont(f);
  const QColor yellow(255, 230, 90);
  const double rightW = QFontMetricsF(f).horizontalAdvance(cornerRight_) + 12;
  backedText(p, QRectF(6, 4, std::max(10.0, width() - 18 - rightW), 20), Qt::AlignLeft | Qt::AlignTop, cornerLeft_, yellow);
  backedText(p, QRectF(6, 4, width() - 12, 20), Qt::AlignRight | Qt::AlignTop, cornerRight_, yellow);
  if (hasImage() && (!view_.isDefaultWindowLevel() || !view_.isDefaultView()))
    backedText(p, QRectF(6, height() - 22, width() - 12, 18), Qt::AlignLeft | Qt::AlignBottom,
               QStringLiteral("W %1  L %2   zoom %3x").arg(view_.window(), 0, 'f', 0).arg(view_.level(), 0, 'f', 0)
                   .arg(view_.zoom(), 0, 'f', 2), yellow);
  if (tool_ && hasImage()) paintMeasurements(p, *tool_, [this](QPointF q) { return imageToWidget(q); }, f,
                                                QRectF(4, 26, width() - 8, height() - 52));  // clear of the corner texts
}

void EchoGLWidget::mousePressEvent(QMouseEvent* e) {
  if (!hasImage() || drag_ != Drag::None) return;
  lastPos_ = e->position();
  if (e->button() == Qt::RightButton) drag_ = Drag::WindowLevel;
  else if (e->button() == Qt::MiddleButton) drag_ = Drag::Pan;
  else if (e->button() == Qt::LeftButton)
    drag_ = mode_ == EchoMouseMode::Pan ? Drag::Pan : mode_ == EchoMouseMode::WindowLevel ? Drag::WindowLevel : Drag::Measure;
  if (drag_ == Drag::Measure) Q_EMIT pressed(widgetToImage(e->position()));
}

void EchoGLWidget::mouseMoveEvent(QMouseEvent* e) {
  const bool measuring = mode_ != EchoMouseMode::Pan && mode_ != EchoMouseMode::WindowLevel;
  if (hasImage() && drag_ == Drag::None && measuring && e->buttons() == Qt::NoButton)
    Q_EMIT hovered(widgetToImage(e->position()));
  if (!hasImage() || drag_ == Drag::None) return;
  const QPointF d = e->position() - lastPos_;
  lastPos_ = e->position();
  if (drag_ == Drag::Measure) Q_EMIT dragged(widgetToImage(e->position()));
  else if (drag_ == Drag::Pan) panBy(d);
  else setWindowLevel(view_.window() + d.x(), view_.level() + d.y());
}

void EchoGLWidget::mouseReleaseEvent(QMouseEvent* e) {
  if (drag_ == Drag::None) return;
  const Drag was = drag_;
  drag_ = Drag::None;
  if (was == Drag::Measure && hasImage()) Q_EMIT released(widgetToImage(e->position()));
}

void EchoGLWidget::mouseDoubleClickEvent(QMouseEvent* e) {
  // Not a second press: with a measuring tool it closes a trace; other buttons and tools act
  // as on a press.
  const bool measuring = mode_ != EchoMouseMode::Pan && mode_ != EchoMouseMode::WindowLevel;
  if (!hasImage() || e->button() != Qt::LeftButton || !measuring) return mousePressEvent(e);
  drag_ = Drag::None;
  Q_EMIT doubleClicked(widgetToImage(e->position()));
}

void EchoGLWidget::wheelEvent(QWheelEvent* e) {
  if (!hasImage() || e->angleDelta().y() == 0) return QOpenGLWidget::wheelEvent(e);
  zoomAt(vm::ImageViewModel::wheelFactor(e->angleDelta().y()), e->position());
  e->accept();
}

// ------------------------------------------------------------------ view ----

namespace {
// The left button's tools: distance, area, angle (D, A, G), window/level (W), pan (P).
QComboBox* makeToolBox(QWidget* parent) {
  auto* box = new QComboBox(parent);
  box->setObjectName(QStringLiteral("echoTool"));
  box->addItem(QStringLiteral("Distance (D)"), static_cast<int>(EchoMouseMode::Measure));
  box->addItem(QStringLiteral("Area (A)"), static_cast<int>(EchoMouseMode::Area));
  box->addItem(QStringLiteral("Angle (G)"), static_cast<int>(EchoMouseMode::Angle));
  box->addItem(QStringLiteral("Window/level"), static_cast<int>(EchoMouseMode::WindowLevel));
  box->addItem(QStringLiteral("Pan"), static_cast<int>(EchoMouseMode::Pan));
  box->setToolTip(QStringLiteral(
      "Left button: D distance (drag), A area (click vertices, then double-click or click the first point;\n"
      "or drag a freehand trace), G angle (click a point, the vertex, a point), W window/level, P pan.\n"
      "Esc cancels the measurement being drawn, Delete removes the last one.\n"
      "Right-drag: window/level. Middle-drag: pan. Wheel: zoom at the cursor."));
  return box;
}
}  // namespace

EchoView::EchoView(QWidget* parent) : QWidget(parent) {
  gl_ = new EchoGLWidget(this);
  gl_->setFocusPolicy(Qt::NoFocus);
  setFocusPolicy(Qt::StrongFocus);
  timer_ = new QTimer(this);
  timer_->setTimerType(Qt::PreciseTimer);
  connect(timer_, &QTimer::timeout, this, &EchoView::tick);

  auto mkBtn = [this](const QString& text, const QString& tip) {
    auto* b = new QToolButton(this);
    b->setText(text);
    b->setToolTip(tip);
    b->setAutoRaise(true);
    return b;
  };
  prevBtn_ = mkBtn(QStringLiteral("◀|"), QStringLiteral("Previous frame"));
  playBtn_ = mkBtn(QStringLiteral("▶"), QStringLiteral("Play / pause"));
  nextBtn_ = mkBtn(QStringLiteral("|▶"), QStringLiteral("Next frame"));
  loopBox_ = new QCheckBox(QStringLiteral("Loop"), this);
  loopBox_->setChecked(true);
  speedBox_ = new QComboBox(this);
  for (double s : {0.25, 0.5, 1.0, 1.5, 2.0}) speedBox_->addItem(QStringLiteral("%1x").arg(s), s);
  speedBox_->setCurrentIndex(2);
  slider_ = new QSlider(Qt::Horizontal, this);
  slider_->setRange(0, 0);
  toolBox_ = makeToolBox(this);
  resetBtn_ = mkBtn(QStringLiteral("Reset"), QStringLiteral("Reset zoom, pan and window/level"));
  resetBtn_->setObjectName(QStringLiteral("echoResetView"));
  clearBtn_ = mkBtn(QStringLiteral("Clear"), QStringLiteral("Delete all measurements of this cell (Delete: the last one)"));
  clearBtn_->setObjectName(QStringLiteral("echoClearMeasurements"));
  gl_->setMeasureTool(&tool_);
  frameLabel_ = new QLabel(QStringLiteral("—"), this);
  frameLabel_->setMinimumWidth(60);
  infoLabel_ = new QLabel(this);
  measureLabel_ = new QLabel(this);
  measureLabel_->setObjectName(QStringLiteral("measureLabel"));

  auto* controls = new QHBoxLayout;
  controls->setContentsMargins(2, 0, 2, 0);
  controls->addWidget(prevBtn_);
  controls->addWidget(playBtn_);
  controls->addWidget(nextBtn_);
  controls->addWidget(slider_, 1);
  controls->addWidget(frameLabel_);
  controls->addWidget(speedBox_);
  controls->addWidget(loopBox_);
  controls->addWidget(toolBox_);
  controls->addWidget(clearBtn_);
  controls->addWidget(resetBtn_);
  auto* info = new QHBoxLayout;
  info->setContentsMargins(4, 0, 4, 0);
  info->setSpacing(16);
  infoLabel_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  info->addWidget(infoLabel_, 1);
  measureLabel_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  measureLabel_->setContentsMargins(4, 0, 4, 0);
  measureLabel_->hide();
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(1, 1, 1, 1);
  v->setSpacing(1);
  v->addWidget(gl_, 1);
  v->addLayout(controls);
  v->addLayout(info);
  v->addWidget(measureLabel_);
  connectControls();
  updateLabels();
}

void EchoView::connectControls() {
  connect(playBtn_, &QToolButton::clicked, this, &EchoView::togglePlay);
  connect(prevBtn_, &QToolButton::clicked, this, [this] { pause(); step(-1); });
  connect(nextBtn_, &QToolButton::clicked, this, [this] { pause(); step(1); });
  connect(loopBox_, &QCheckBox::toggled, this, &EchoView::setLoopPlayback);
  connect(speedBox_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
          [this] { setSpeed(speedBox_->currentData().toDouble()); });
  connect(slider_, &QSlider::sliderMoved, this, [this](int i) { pause(); setFrame(i); });
  connect(slider_, &QSlider::valueChanged, this, [this](int i) {
    if (i != frame_) setFrame(i);
  });
  connect(toolBox_, QOverload<int>::of(&QComboBox::currentIndexChanged), this,
          [this] { setMouseMode(static_cast<EchoMouseMode>(toolBox_->currentData().toInt())); });
  connect(resetBtn_, &QToolButton::clicked, this, [this] { gl_->resetImageView(); });
  connect(clearBtn_, &QToolButton::clicked, this, &EchoView::clearMeasurements);
  connectMeasuring();
}

void EchoView::connectMeasuring() {
  // Closing and freehand distances are set in widget pixels, whatever the zoom.
  auto imagePx = [this](double widgetPx) { return widgetPx / std::max(1e-9, gl_->imageView().scale()); };
  connect(gl_, &EchoGLWidget::pressed, this, [this, imagePx](QPointF p) { measurementsChanged(tool_.press(p, imagePx(8))); });
  connect(gl_, &EchoGLWidget::dragged, this, [this, imagePx](QPointF p) { measurementsChanged(tool_.drag(p, imagePx(3))); });
  connect(gl_, &EchoGLWidget::released, this, [this](QPointF p) { measurementsChanged(tool_.release(p)); });
  connect(gl_, &EchoGLWidget::doubleClicked, this, [this](QPointF p) { measurementsChanged(tool_.doubleClick(p)); });
  connect(gl_, &EchoGLWidget::hovered, this, [this](QPointF p) {
    if (!tool_.drawing()) return;
    tool_.hover(p);
    gl_->update();
  });
}

void EchoView::openFile(const QString& path) {
  EchoInfo info = readDicomEchoInfo(path.toStdString());
  auto frames = std::make_shared<EchoFrames>(readDicomEchoFrames(path.toStdString()));
  setLoop(info, frames);
}

void EchoView::setLoop(const EchoInfo& info, std::shared_ptr<const EchoFrames> frames) {
  pause();
  info_ = info;
  frames_ = std::move(frames);
  const int n = frames_ ? frames_->frames : 0;
  if (info_.frames != n) info_.frames = n;
  const double speed = cine_.speed();
  const bool loop = cine_.loop();
  cine_ = vm::CineModel(n, info_.fps, info_.frameTimesMs);
  cine_.setSpeed(speed);
  cine_.setLoop(loop);
  frame_ = 0;
  tool_.setRegions(info_.regions);
  tool_.clear();
  measureText_.clear();
  measureLabel_->clear();
  measureLabel_->hide();
  slider_->blockSignals(true);
  slider_->setRange(0, std::max(0, n - 1));
  slider_->setValue(0);
  slider_->blockSignals(false);
  gl_->setFrames(frames_);
  gl_->resetImageView();
  updateLabels();
}

void EchoView::setMouseMode(EchoMouseMode m) {
  gl_->setMouseMode(m);
  tool_.setKind(m == EchoMouseMode::Area ? EchoMeasureKind::Area
                : m == EchoMouseMode::Angle ? EchoMeasureKind::Angle : EchoMeasureKind::Distance);
  gl_->update();
  const int idx = toolBox_->findData(static_cast<int>(m));
  if (idx >= 0 && idx != toolBox_->currentIndex()) toolBox_->setCurrentIndex(idx);
}

QString EchoView::titleText() const { return frames_ ? echoCellTitle(info_) : QString(); }

void EchoView::clear() {
  pause();
  info_ = EchoInfo{};
  frames_.reset();
  cine_ = vm::CineModel();
  frame_ = 0;
  tool_.setRegions({});
  clearMeasurements();
  gl_->setFrames(nullptr);
  slider_->setRange(0, 0);
  updateLabels();
}

QString EchoView::fpsText() const {
  if (!frames_) return QString();
  QString s = QString::fromStdString(vm::fpsText(cine_.fps(), info_.fps > 0 ? info_.fpsSource : FrameRateSource::Default));
  if (cine_.usesFrameTimeVector()) s += QStringLiteral(", per-frame times");
  return s;
}

QString EchoView::viewText() const {
  if (!frames_) return QString();
  if (info_.viewLabel.empty()) return QStringLiteral("View: unknown");
  return QStringLiteral("View: %1 (%2)").arg(QString::fromStdString(info_.viewLabel), QString::fromLatin1(toString(info_.viewSource)));
}

void EchoView::updateLabels() {
  const int n = frames_ ? frames_->frames : 0;
  frameLabel_->setText(n ? QStringLiteral("%1/%2").arg(frame_ + 1).arg(n) : QStringLiteral("—"));
  playBtn_->setText(playing_ ? QStringLiteral("❚❚") : QStringLiteral("▶"));
  if (!frames_) {
    infoLabel_->setText(QStringLiteral("No loop"));
    gl_->setCornerText(QString(), QString());
    return;
  }
  const QString file = QString::fromStdString(info_.sourcePath);
  infoLabel_->setText(QStringLiteral("%1   %2   %3x%4").arg(fpsText(), viewText()).arg(frames_->cols).arg(frames_->rows));
  infoLabel_->setToolTip(file);
  gl_->setToolTip(titleText() + QStringLiteral("\n") + file);
  const double t = cine_.frameStartMs(frame_);
  gl_->setCornerText(titleText(), QStringLiteral("%1/%2  %3 ms").arg(frame_ + 1).arg(n).arg(t, 0, 'f', 0));
}

void EchoView::play() {
  if (!frames_ || frames_->frames < 2 || playing_) return;
  if (!cine_.loop() && frame_ >= frames_->frames - 1) frame_ = 0;
  playing_ = true;
  playStartFrame_ = frame_;
  clock_.start();
  timer_->start(std::max(4, static_cast<int>(cine_.intervalMs(frame_) / 2.0)));
  updateLabels();
  Q_EMIT playingChanged(true);
}

void EchoView::pause() {
  if (!playing_) return;
  playing_ = false;
  timer_->stop();
  updateLabels();
  Q_EMIT playingChanged(false);
}

void EchoView::togglePlay() { playing_ ? pause() : play(); }

void EchoView::keyPressEvent(QKeyEvent* e) {
  const bool letter = e->key() >= Qt::Key_A && e->key() <= Qt::Key_Z;
  if (letter && (e->modifiers() & (Qt::ControlModifier | Qt::AltModifier | Qt::MetaModifier)))
    return QWidget::keyPressEvent(e);  // Ctrl+D etc. belong to the window
  switch (e->key()) {
    case Qt::Key_Space: togglePlay(); break;
    case Qt::Key_Left: pause(); step(-1); break;
    case Qt::Key_Right: pause(); step(1); break;
    case Qt::Key_Home: pause(); setFrame(0); break;
    case Qt::Key_End: pause(); if (frames_) setFrame(frames_->frames - 1); break;
    case Qt::Key_D: setMouseMode(EchoMouseMode::Measure); break;
    case Qt::Key_A: setMouseMode(EchoMouseMode::Area); break;
    case Qt::Key_G: setMouseMode(EchoMouseMode::Angle); break;
    case Qt::Key_W: setMouseMode(EchoMouseMode::WindowLevel); break;
    case Qt::Key_P: setMouseMode(EchoMouseMode::Pan); break;
    case Qt::Key_Escape: if (!cancelMeasurement()) QWidget::keyPressEvent(e); break;
    case Qt::Key_Delete:
    case Qt::Key_Backspace: deleteLastMeasurement(); break;
    default: QWidget::keyPressEvent(e);
  }
}

void EchoView::tick() {
  if (!playing_) return;
  const double elapsed = static_cast<double>(clock_.nsecsElapsed()) / 1e6;
  const int f = cine_.frameAt(elapsed, playStartFrame_);
  if (f != frame_) setFrame(f);
  if (cine_.finishedAt(elapsed, playStartFrame_)) pause();
}

void EchoView::setFrame(int i) {
  if (!frames_) return;
  i = std::clamp(i, 0, frames_->frames - 1);
  if (i == frame_ && gl_->shownFrame() == i) return;
  frame_ = i;
  gl_->showFrame(i);
  slider_->blockSignals(true);
  slider_->setValue(i);
  slider_->blockSignals(false);
  updateLabels();
  Q_EMIT frameChanged(i);
}

void EchoView::step(int delta) { setFrame(cine_.step(frame_, delta)); }

void EchoView::setSpeed(double s) {
  const bool was = playing_;
  pause();
  cine_.setSpeed(s);
  const int idx = speedBox_->findData(cine_.speed());
  if (idx >= 0 && idx != speedBox_->currentIndex()) {
    speedBox_->blockSignals(true);
    speedBox_->setCurrentIndex(idx);
    speedBox_->blockSignals(false);
  }
  if (was) play();
}

void EchoView::setLoopPlayback(bool on) {
  cine_.setLoop(on);
  if (loopBox_->isChecked() != on) loopBox_->setChecked(on);
}

vm::DistanceResult EchoView::measure(const QPointF& a, const QPointF& b) {
  tool_.cancel();
  tool_.add(EchoMeasureKind::Distance, {a, b});
  measurementsChanged(true);
  return vm::regionDistanceCm(info_.regions, a.x(), a.y(), b.x(), b.y());
}

const EchoMeasurement& EchoView::measureArea(const std::vector<QPointF>& trace) {
  tool_.cancel();
  tool_.add(EchoMeasureKind::Area, trace);
  measurementsChanged(true);
  return tool_.measurements().back();
}

const EchoMeasurement& EchoView::measureAngle(const QPointF& a, const QPointF& vertex, const QPointF& b) {
  tool_.cancel();
  tool_.add(EchoMeasureKind::Angle, {a, vertex, b});
  measurementsChanged(true);
  return tool_.measurements().back();
}

bool EchoView::cancelMeasurement() {
  const bool had = tool_.cancel();
  if (had) measurementsChanged(false);
  return had;
}

bool EchoView::deleteLastMeasurement() {
  const bool had = tool_.removeLast();
  if (had) measurementsChanged(true);
  return had;
}

void EchoView::clearMeasurements() {
  tool_.clear();
  measurementsChanged(true);
}

void EchoView::measurementsChanged(bool finished) {
  gl_->update();
  if (!finished) return;
  const auto& all = tool_.measurements();
  if (all.empty()) {
    measureText_.clear();
    measureLabel_->clear();
    measureLabel_->hide();
  } else {
    measureText_ = all.back().ok ? all.back().valueText : all.back().statusText;
    measureLabel_->setText(all.back().statusText);
    measureLabel_->show();
  }
  Q_EMIT measurementChanged(measureText_);
}

// ------------------------------------------------------------------ grid ----

EchoGrid::EchoGrid(QWidget* parent) : QWidget(parent) {
  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(4, 2, 4, 2);
  bar->addWidget(new QLabel(QStringLiteral("Grid"), this));
  for (auto [r, c] : {std::pair{1, 1}, std::pair{1, 2}, std::pair{2, 2}}) {
    auto* b = new QToolButton(this);
    b->setText(QStringLiteral("%1x%2").arg(r).arg(c));
    b->setObjectName(QStringLiteral("grid%1x%2").arg(r).arg(c));
    connect(b, &QToolButton::clicked, this, [this, r = r, c = c] { setGrid(r, c); });
    bar->addWidget(b);
  }
  auto* playAllBtn = new QToolButton(this);
  playAllBtn->setText(QStringLiteral("▶ all"));
  connect(playAllBtn, &QToolButton::clicked, this, &EchoGrid::playAll);
  auto* pauseAllBtn = new QToolButton(this);
  pauseAllBtn->setText(QStringLiteral("❚❚ all"));
  connect(pauseAllBtn, &QToolButton::clicked, this, &EchoGrid::pauseAll);
  bar->addSpacing(12);
  bar->addWidget(playAllBtn);
  bar->addWidget(pauseAllBtn);
  bar->addStretch(1);
  area_ = new QWidget(this);
  new QGridLayout(area_);
  area_->layout()->setContentsMargins(0, 0, 0, 0);
  auto* v = new QVBoxLayout(this);
  v->setContentsMargins(0, 0, 0, 0);
  v->addLayout(bar);
  v->addWidget(area_, 1);
  for (int i = 0; i < 4; ++i) {
    auto* view = new EchoView(area_);
    view->setObjectName(QStringLiteral("echoView%1").arg(i));
    views_.push_back(view);
  }
  relayout();
}

EchoView* EchoGrid::view(int i) const {
  return (i >= 0 && i < static_cast<int>(views_.size())) ? views_[static_cast<std::size_t>(i)] : nullptr;
}

void EchoGrid::setGrid(int rows, int cols) {
  rows_ = std::clamp(rows, 1, 2);
  cols_ = std::clamp(cols, 1, 2);
  relayout();
}

void EchoGrid::relayout() {
  auto* g = static_cast<QGridLayout*>(area_->layout());
  for (auto* v : views_) g->removeWidget(v);
  for (int i = 0; i < static_cast<int>(views_.size()); ++i) {
    auto* v = views_[static_cast<std::size_t>(i)];
    if (i < viewCount()) {
      g->addWidget(v, i / cols_, i % cols_);
      v->show();
    } else {
      v->pause();
      v->hide();
    }
  }
  for (int r = 0; r < 2; ++r) g->setRowStretch(r, r < rows_ ? 1 : 0);
  for (int c = 0; c < 2; ++c) g->setColumnStretch(c, c < cols_ ? 1 : 0);
}

int EchoGrid::addLoop(const EchoInfo& info, std::shared_ptr<const EchoFrames> frames) {
  int idx = -1;
  for (int i = 0; i < viewCount(); ++i)
    if (!view(i)->hasLoop()) { idx = i; break; }
  if (idx < 0) idx = (next_++) % viewCount();
  view(idx)->setLoop(info, std::move(frames));
  return idx;
}

int EchoGrid::openFile(const QString& path) {
  EchoInfo info = readDicomEchoInfo(path.toStdString());
  auto frames = std::make_shared<EchoFrames>(readDicomEchoFrames(path.toStdString()));
  return addLoop(info, frames);
}

void EchoGrid::playAll() {
  for (int i = 0; i < viewCount(); ++i) view(i)->play();
}

void EchoGrid::pauseAll() {
  for (auto* v : views_) v->pause();
}

}  // namespace e2e::ui
