// Echo cine viewer: a VTK image view embedded in a Qt 6 QOpenGLWidget (no VTK Qt module),
// play/pause at the acquired frame rate x 0.25..2, step, loop, scrub, fps/view labels with
// their source, and a calibrated distance measurement (ultrasound regions).
#pragma once

#include <QElapsedTimer>
#include <QImage>
#include <QOpenGLWidget>
#include <QPointF>
#include <QWidget>
#include <memory>
#include <optional>

#include "common/types.h"
#include "viewmodel/cine_model.h"
#include "viewmodel/us_measure.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;
class QTimer;
class QToolButton;

namespace e2e::ui {

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

  // Widget pixel <-> image pixel (column, row), for the current fit.
  QPointF widgetToImage(const QPointF& w) const;
  QPointF imageToWidget(const QPointF& img) const;
  // Image rectangle in widget pixels.
  QRectF imageRectInWidget() const;

  void setOverlay(std::optional<std::pair<QPointF, QPointF>> lineImagePx, const QString& text);
  void setCornerText(const QString& topLeft, const QString& topRight);
  int vtkRenderCount() const { return renders_; }

 Q_SIGNALS:
  void pressed(QPointF imagePx);
  void dragged(QPointF imagePx);
  void released(QPointF imagePx);

 protected:
  void initializeGL() override;
  void resizeGL(int w, int h) override;
  void paintGL() override;
  void mousePressEvent(QMouseEvent*) override;
  void mouseMoveEvent(QMouseEvent*) override;
  void mouseReleaseEvent(QMouseEvent*) override;

 private:
  struct Vtk;
  void uploadFrame();
  void fitCamera();
  std::unique_ptr<Vtk> vtk_;
  std::shared_ptr<const EchoFrames> frames_;
  int frame_ = 0;
  bool dirty_ = true;
  int renders_ = 0;
  std::optional<std::pair<QPointF, QPointF>> line_;
  QString overlayText_, cornerLeft_, cornerRight_;
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

  // Measurement between two image pixels (column, row): result and overlay.
  vm::DistanceResult measure(const QPointF& a, const QPointF& b);
  QString measurementText() const { return measureText_; }

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
  void keyPressEvent(QKeyEvent* e) override;  // Space play/pause, Left/Right step, Home/End

 private:
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
  QSlider* slider_ = nullptr;
  QLabel *frameLabel_ = nullptr, *infoLabel_ = nullptr, *measureLabel_ = nullptr;
  std::optional<QPointF> measureStart_;
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
