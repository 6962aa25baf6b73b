// Process-wide setup of the widgets: the OpenGL surface format VTK needs (3.2 core or newer).
#pragma once

#include <QSurfaceFormat>

namespace e2e::ui {

// Call before constructing QApplication.
inline void setDefaultSurfaceFormat() {
  QSurfaceFormat f;
  f.setRenderableType(QSurfaceFormat::OpenGL);
  f.setVersion(3, 2);
  f.setProfile(QSurfaceFormat::CoreProfile);
  f.setDepthBufferSize(24);
  f.setStencilBufferSize(8);
  f.setSamples(0);
  f.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
  QSurfaceFormat::setDefaultFormat(f);
}

}  // namespace e2e::ui
