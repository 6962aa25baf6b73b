// Echo cine viewer: a VTK image view embedded in a Qt 6 QOpenGLWidget (no VTK Qt module),
// play/pause at the acquired frame rate x 0.25..2, step, loop, scrub, fps/view labels with
// their source, calibrated measurements from the ultrasound regions (distance, area by trace,
// angle; EchoMeasureOverlay.h), window/level (right-drag), zoom at the cursor (wheel) and pan
// (middle-drag); the left button does what the cell's tool selects (D distance, A area,
// G angle, W window/level, P pan; Esc cancels the measurement being drawn, Delete removes the
// last one). Each cell is titled with the
// patient, the study date and the view/file.
#pragma once

#include <QElapsedTimer>
#include <QImage>
#include <QOpenGLWidget>
#include <QPointF>
#include <QWidget>
#include <memory>
#include <optional>

#include "common/types.h"
#include "echo/EchoMeasureOverlay.h"
#include "viewmodel/cine_model.h"
#include "viewmodel/image_view_model.h"
#include "viewmodel/us_measure.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QTimer;
class QToolButton;

namespace e2e::ui {

// What the left button does in an echo cell (right-drag is always window/level, middle-drag
// always pan, the wheel always zooms at the cursor). Measure is the distance.
enum class EchoMouseMode { Measure, WindowLevel, Pan, Area, Angle };

// "DOE, Jane   2023-10-22   A4C   echo_A4C.dcm": the title of an echo cell (patient, study date,
// view, file).
QString echoCellTitle(const EchoInfo& info);

// The OpenGL surface: renders one frame with VTK (vtkImageActor, parallel camera fitted to the
// image, row 0 on top) and paints the measurement overlay with QPainter.
class EchoGLWidget : public QOpenGLWidget {
  Q_OBJECT
 public:
  explicit EchoGLWidget(QWidget* parent = nullptr);
  ~EchoGLWidget() override;

  void setFrames(std::shared_ptr<const EchoFrames> frames);
  void showFrame(int index);
  int shownFrame() const { return frame_; }
  bool hasImage() const { return frames_ && frames_->frames > 0; }

  // Zoom, pan and window/level of the shown image (kept across frames and resizes).
  const vm::ImageViewModel& imageView() const { return view_; }
  void zoomAt(double factor, const QPointF& widgetPos);
  void panBy(const QPointF& widgetDelta);
  void setWindowLevel(double window, double level);
  void resetImageView();  // fit, centred, window/level of the stored values
  void setMouseMode(EchoMouseMode m) { mode_ = m; }
  EchoMouseMode mouseMode() const { return mode_; }

  // Widget pixel <-> image pixel (column, row), for the current zoom and pan.
  QPointF widgetToImage(const QPointF& w) const;
  QPointF imageToWidget(const QPointF& img) const;
  // Image rectangle in widget pixels.
  QRectF imageRectInWidget() const;

  // The measurements painted over the image (owned by the EchoView).
  void setMeasureTool(const EchoMeasureTool* tool) { tool_ = tool; }
  void setCornerText(const QString& topLeft, const QString& topRight);
  int vtkRenderCount() const { return renders_; }

 Q_SIGNALS:
  void pressed(QPointF imagePx);
  void dragged(QPointF imagePx);
  void released(QPointF imagePx);
  void doubleClicked(QPointF imagePx);  // left double-click with a measuring tool
  void hovered(QPointF imagePx);        // moved with no button, with a measuring tool
  void imageViewChanged();  // zoom, pan or window/level changed

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;
  void mouseDoubleClickEvent(QMouseEvent*) override;
  void wheelEvent(QWheelEvent*) override;
  void resizeEvent(QResizeEvent*) override;

 private:
  enum class Drag { None, Measure, WindowLevel, Pan };
  struct Vtk;
  void uploadFrame();
  void fitCamera();
  void paintOverlay(QPainter& p);
  std::unique_ptr<Vtk> vtk_;
  std::shared_ptr<const EchoFrames> frames_;
  int frame_ = 0;
  bool dirty_ = true;
  int renders_ = 0;
  const EchoMeasureTool* tool_ = nullptr;
  QString cornerLeft_, cornerRight_;
  vm::ImageViewModel view_;
  EchoMouseMode mode_ = EchoMouseMode::Measure;
  Drag drag_ = Drag::None;
  QPointF lastPos_;
};

class EchoView : public QWidget {
  Q_OBJECT
 public:
  explicit EchoView(QWidget* parent = nullptr);

  // Shows a loop. Frames are shared (EchoGrid may show the same loop twice).
  void setLoop(const EchoInfo& info, std::shared_ptr<const EchoFrames> frames);
  // Reads a DICOM echo with the readers of core/io. Throws ReadError.
  void openFile(const QString& path);
  void clear();
  bool hasLoop() const { return frames_ != nullptr; }
  const EchoInfo& info() const { return info_; }
  const EchoFrames* frames() const { return frames_.get(); }

  int currentFrame() const { return frame_; }
  bool isPlaying() const { return playing_; }
  const vm::CineModel& cine() const { return cine_; }
  QString fpsText() const;
  QString viewText() const;
  EchoGLWidget* glWidget() const { return gl_; }

  QString titleText() const;  // echoCellTitle(info()), "" without a loop
  const vm::ImageViewModel& imageView() const { return gl_->imageView(); }
  void setMouseMode(EchoMouseMode m);
  EchoMouseMode mouseMode() const { return gl_->mouseMode(); }
  void resetImageView() { gl_->resetImageView(); }

  // Measurement between two image pixels (column, row): result and overlay.
  vm::DistanceResult measure(const QPointF& a, const QPointF& b);
  // Area of the closed trace through image pixels, angle at `vertex`: added like a drawn one.
  const EchoMeasurement& measureArea(const std::vector<QPointF>& trace);
  const EchoMeasurement& measureAngle(const QPointF& a, const QPointF& vertex, const QPointF& b);
  // The last finished measurement's value ("2.50 cm", "12.34 cm²", "90.0°") or refusal
  // ("no area: <reason>"); empty when there is none.
  QString measurementText() const { return measureText_; }
  const std::vector<EchoMeasurement>& measurements() const { return tool_.measurements(); }
  bool isDrawingMeasurement() const { return tool_.drawing(); }
  bool cancelMeasurement();        // Esc
  bool deleteLastMeasurement();    // Delete / Backspace
  void clearMeasurements();

 public Q_SLOTS:
  void play();
  void pause();
  void togglePlay();
  void setFrame(int i);
  void step(int delta);
  void setSpeed(double s);
  void setLoopPlayback(bool on);

 Q_SIGNALS:
  void frameChanged(int frame);
  void playingChanged(bool playing);
  void measurementChanged(const QString& text);

 protected:
  // Space play/pause, Left/Right step, Home/End; D/A/G/W/P tools, Esc, Delete/Backspace.
  void keyPressEvent(QKeyEvent* e) override;

 private:
  void connectControls();  // the controls' and the GL surface's signals (constructor)
  void connectMeasuring();  // the GL surface's mouse signals to the measuring tool
  void measurementsChanged(bool finished);  // repaint; show the last one when `finished`
  void tick();
  void updateLabels();

  EchoInfo info_;
  std::shared_ptr<const EchoFrames> frames_;
  vm::CineModel cine_;
  int frame_ = 0;
  bool playing_ = false;
  int playStartFrame_ = 0;
  QElapsedTimer clock_;
  QTimer* timer_ = nullptr;
  EchoGLWidget* gl_ = nullptr;
  QToolButton *playBtn_ = nullptr, *prevBtn_ = nullptr, *nextBtn_ = nullptr;
  QCheckBox* loopBox_ = nullptr;
  QComboBox* speedBox_ = nullptr;
  QComboBox* toolBox_ = nullptr;
  QToolButton *resetBtn_ = nullptr, *clearBtn_ = nullptr;
  QSlider* slider_ = nullptr;
  QLabel *frameLabel_ = nullptr, *infoLabel_ = nullptr, *measureLabel_ = nullptr;
  EchoMeasureTool tool_;
  QString measureText_;
};

// 1x1, 1x2 or 2x2 grid of EchoViews.
class EchoGrid : public QWidget {
  Q_OBJECT
 public:
  explicit EchoGrid(QWidget* parent = nullptr);
  void setGrid(int rows, int cols);
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int viewCount() const { return rows_ * cols_; }
  EchoView* view(int i) const;
  // Puts a loop in the first empty cell (or replaces the oldest), returns the cell index.
  int addLoop(const EchoInfo& info, std::shared_ptr<const EchoFrames> frames);
  int openFile(const QString& path);  // throws ReadError

 public Q_SLOTS:
  void playAll();
  void pauseAll();

 private:
  void relayout();
  QWidget* area_ = nullptr;
  std::vector<EchoView*> views_;
  int rows_ = 1, cols_ = 1;
  int next_ = 0;
};

}  // namespace e2e::ui
