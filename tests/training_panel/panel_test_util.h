// Shared set-up of the training panel tests: an offscreen QApplication with throw-away settings,
// a temporary database with a small labelled cohort, and waiting helpers.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <QApplication>
#include <QDir>
#include <QSettings>
#include <QTest>
#include <filesystem>
#include <string>

#include "db/database.h"

namespace e2e::test {

inline QApplication* panelApp() {
  if (!qApp) {
    if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "e2e_training_panel_test";
    static char* argv[] = {name, nullptr};
    new QApplication(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Echo2ECG-tests"));
    QApplication::setApplicationName(QStringLiteral("training-panel-tests"));
    // Settings go to the test process's own XDG_CONFIG_HOME (tests/test_main.cpp), never the user's.
  }
  return static_cast<QApplication*>(qApp);
}

// A database with `patients` patients, one study each, labelled lvef_class/shd/lvef_percent.
inline void makeCohort(const std::string& dbPath, int patients) {
  db::Database d(dbPath);
  for (int i = 0; i < patients; ++i) {
    Identity id;
    id.patientId = "P" + std::to_string(100 + i);
    id.patientName = "TEST^PATIENT" + std::to_string(i);
    id.studyUid = "1.2.826.0.1.3680043.99." + std::to_string(i + 1);
    id.accessionNumber = "ACC" + std::to_string(i);
    id.studyDate = "20240101";
    const auto s = d.findOrCreateStudy(d.findOrCreatePatient(id), id);
    const int ef = 30 + (i * 7) % 40;
    d.setStudyLabel(s, "lvef_percent", std::to_string(ef), "test");
    d.setStudyLabel(s, "lvef_class", ef < 40 ? "0" : ef < 50 ? "1" : "2", "test");
    d.setStudyLabel(s, "shd", i % 3 == 0 ? "1" : "0", "test");
  }
}

template <typename F>
bool waitUntil(F pred, int timeoutMs = 60000) {
  return QTest::qWaitFor(pred, timeoutMs);
}

}  // namespace e2e::test
