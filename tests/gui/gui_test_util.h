// Shared helpers of the GUI tests: a QApplication for gtest, synthetic records, pixel runs.
#pragma once

#include <QApplication>
#include <QColor>
#include <QImage>
#include <QSettings>
#include <QStandardPaths>
#include <QDir>

#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "app/ui_setup.h"
#include "common/types.h"

namespace e2e::test {

// needDisplay: the test uses OpenGL (VTK) and needs an X display (run under xvfb-run).
inline bool haveDisplay() {
  const char* d = std::getenv("DISPLAY");
  return d && *d;
}

// Holds one X connection open while QApplication connects. An X server with no client left resets
// itself (unless started with -noreset), and a client that connects during the reset is refused:
// under a parallel run that was "could not connect to display" in a test between two that passed.
// The held connection is made with retries (20, 0.5 s apart, each refusal logged), so a server that
// is resetting or busy is waited for, then kept from resetting until Qt is connected. libxcb is
// loaded at run time (Qt's xcb plugin uses the same library), so tests need no extra link.
class DisplayHold {
 public:
  DisplayHold() {
    lib_ = ::dlopen("libxcb.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib_) return;
    using Connect = void* (*)(const char*, int*);
    using HasError = int (*)(void*);
    auto connect = reinterpret_cast<Connect>(::dlsym(lib_, "xcb_connect"));
    auto hasError = reinterpret_cast<HasError>(::dlsym(lib_, "xcb_connection_has_error"));
    disconnect_ = reinterpret_cast<Disconnect>(::dlsym(lib_, "xcb_disconnect"));
    if (!connect || !hasError || !disconnect_) return;
    for (int i = 0; i < 20; ++i) {
      if (i > 0) ::usleep(500 * 1000);
      conn_ = connect(nullptr, nullptr);
      if (conn_ && hasError(conn_) == 0) return;
      if (conn_) disconnect_(conn_);
      conn_ = nullptr;
      std::fprintf(stderr, "e2e gui test: X display %s refused a connection (try %d)\n", std::getenv("DISPLAY"), i + 1);
    }
  }
  ~DisplayHold() {
    if (conn_) disconnect_(conn_);
    if (lib_) ::dlclose(lib_);
  }
  DisplayHold(const DisplayHold&) = delete;
  DisplayHold& operator=(const DisplayHold&) = delete;

 private:
  using Disconnect = void (*)(void*);
  void* lib_ = nullptr;
  void* conn_ = nullptr;
  Disconnect disconnect_ = nullptr;
};

inline QApplication* app(bool needDisplay = false) {
  if (!qApp) {
    if (!needDisplay && !std::getenv("QT_QPA_PLATFORM") && !haveDisplay()) qputenv("QT_QPA_PLATFORM", "offscreen");
    // xcb: QApplication aborts if it cannot connect; hold a connection (made with retries) meanwhile.
    std::unique_ptr<DisplayHold> hold;
    if (!std::getenv("QT_QPA_PLATFORM") && haveDisplay()) hold = std::make_unique<DisplayHold>();
    e2e::ui::setDefaultSurfaceFormat();
    static int argc = 1;
    static char name[] = "e2e_gui_test";
    static char* argv[] = {name, nullptr};
    auto* a = new QApplication(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Echo2ECG-tests"));
    QApplication::setApplicationName(QStringLiteral("gui-tests"));
    // Settings go to the test process's own XDG_CONFIG_HOME (tests/test_main.cpp), never the user's.
    (void)a;
  }
  return static_cast<QApplication*>(qApp);
}

// A 12-lead record, 10 s at 500 Hz, every lead `value` mV (flat), unless a generator is given.
template <typename F>
EcgRecord makeRecord(F gen, double fs = 500.0, double seconds = 10.0) {
  EcgRecord r;
  r.identity.patientName = "DOE^JANE";
  r.identity.patientId = "T-1";
  r.format = SourceFormat::Wfdb;
  EcgGroup g;
  g.label = "RHYTHM";
  g.samplingHz = fs;
  g.numSamples = static_cast<std::size_t>(fs * seconds);
  for (const auto& lead : standardLeads()) {
    EcgChannel c;
    c.label = lead;
    c.unit = "mV";
    c.samples.resize(g.numSamples);
    for (std::size_t i = 0; i < g.numSamples; ++i) c.samples[i] = static_cast<float>(gen(lead, i / fs));
    g.channels.push_back(c);
  }
  r.groups.push_back(g);
  return r;
}

inline EcgRecord flatRecord(double mv = 0.0) {
  return makeRecord([mv](const std::string&, double) { return mv; });
}

// Centres of runs of pixels matching `pred` along a row (horizontal) or column.
template <typename P>
std::vector<double> runCentres(const QImage& img, bool horizontal, int fixed, int from, int to, P pred) {
  std::vector<double> out;
  int start = -1;
  for (int i = from; i <= to + 1; ++i) {
    bool hit = false;
    if (i <= to) {
      const QColor c = horizontal ? img.pixelColor(i, fixed) : img.pixelColor(fixed, i);
      hit = pred(c);
    }
    if (hit && start < 0) start = i;
    if (!hit && start >= 0) {
      out.push_back((start + i - 1) / 2.0);
      start = -1;
    }
  }
  return out;
}

inline bool isDark(const QColor& c) { return c.red() < 100 && c.green() < 100 && c.blue() < 100; }

}  // namespace e2e::test
