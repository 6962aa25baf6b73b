// Helpers of the gui_panels tests: temp dirs, screenshots, event-loop waits.
#pragma once

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QWidget>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>

#include "gui_test_util.h"

namespace e2e::test {

inline std::string dataDir() {
  const char* env = std::getenv("E2E_DATA_DIR");
  return env && *env ? env : E2E_DATA_DIR;
}

// Spins the event loop until pred() holds (a generous safety limit, not a timing assertion).
// Returns the number of event-loop iterations, or -1 if the limit was reached.
inline int spinUntil(const std::function<bool()>& pred, int limitMs = 120000) {
  QElapsedTimer t;
  t.start();
  int n = 0;
  while (!pred()) {
    if (t.elapsed() > limitMs) return -1;
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
    ++n;
  }
  return n;
}

// docs/screenshots when E2E_UPDATE_SCREENSHOTS=1, else a temp folder.
inline QString screenshotPath(const QString& name) {
  QString dir;
  if (qEnvironmentVariable("E2E_UPDATE_SCREENSHOTS") == QStringLiteral("1")) dir = QStringLiteral(E2E_SCREENSHOT_DIR);
  else dir = QDir::tempPath() + QStringLiteral("/e2e-gui-panels-screens");
  QDir().mkpath(dir);
  return QDir(dir).filePath(name);
}

inline bool saveShot(QWidget* w, const QString& name) {
  QCoreApplication::processEvents();
  return w->grab().toImage().save(screenshotPath(name), "PNG");
}

inline void copyFile(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(std::filesystem::path(to).parent_path());
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace e2e::test
