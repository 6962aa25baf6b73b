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
#include <vector>

#include "app/ui_setup.h"
#include "common/types.h"

namespace e2e::test {

// needDisplay: the test uses OpenGL (VTK) and needs an X display (run under xvfb-run).
inline bool haveDisplay() {
  const char* d = std::getenv("DISPLAY");
  return d && *d;
}

// Whether an X client can connect to $DISPLAY now, tried up to `tries` times 0.5 s apart. A shared
// Xvfb under a loaded parallel run once refused one connection (CI: "could not connect to display
// :100" and QApplication aborted) while the tests before and after it connected; a retry rides that
// out. libxcb is loaded at run time (Qt's xcb plugin uses the same library), so tests need no link.
inline bool displayAccepts(int tries = 20) {
  void* lib = ::dlopen("libxcb.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return true;  // cannot probe: let Qt try and report
  using Connect = void* (*)(const char*, int*);
  using HasError = int (*)(void*);
  using Disconnect = void (*)(void*);
  auto connect = reinterpret_cast<Connect>(::dlsym(lib, "xcb_connect"));
  auto hasError = reinterpret_cast<HasError>(::dlsym(lib, "xcb_connection_has_error"));
  auto disconnect = reinterpret_cast<Disconnect>(::dlsym(lib, "xcb_disconnect"));
  bool ok = !connect || !hasError || !disconnect;
  for (int i = 0; !ok && i < tries; ++i) {
    if (i > 0) ::usleep(500 * 1000);
    void* c = connect(nullptr, nullptr);
    ok = c && hasError(c) == 0;
    if (c) disconnect(c);
    if (!ok) std::fprintf(stderr, "e2e gui test: X display %s refused a connection (try %d)\n", std::getenv("DISPLAY"), i + 1);
  }
  ::dlclose(lib);
  return ok;
}

inline QApplication* app(bool needDisplay = false) {
  if (!qApp) {
    if (!needDisplay && !std::getenv("QT_QPA_PLATFORM") && !haveDisplay()) qputenv("QT_QPA_PLATFORM", "offscreen");
    // xcb: make sure the display takes connections before QApplication, which aborts if it cannot.
    if (!std::getenv("QT_QPA_PLATFORM") && haveDisplay()) (void)displayAccepts();
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
