// Echo2ECG Workstation GUI.
//   echo2ecg-gui [files...] [--db FILE] [--screenshot DIR] [--layout 3x4|3x4+R|6x2|12x1] [--grid RxC]
// --db FILE: the study database of this run. --screenshot DIR: opens the given files, saves PNGs
// of each main screen into DIR and exits.
// Every option and file given here applies to this run only: none is written to the settings
// (not the ECG layout, not the recent databases or files); what the user then changes in the
// window is saved as usual.
#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTimer>

#include <cstdio>

#include "app/MainWindow.h"
#include "app/ui_setup.h"
#include "common/build_info.h"
#include "ecg/EcgView.h"
#include "echo/EchoView.h"

int main(int argc, char** argv) {
  e2e::ui::setDefaultSurfaceFormat();
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Echo2ECG"));
  QApplication::setApplicationName(QStringLiteral("Echo2ECG Workstation"));
  QApplication::setApplicationVersion(QStringLiteral("%1 (git %2, %3)")
                                          .arg(QString::fromUtf8(e2e::build::projectVersion()),
                                               QString::fromUtf8(e2e::build::gitRevision()),
                                               QString::fromUtf8(e2e::build::buildType())));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Echo2ECG cardiology workstation"));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption shot(QStringLiteral("screenshot"), QStringLiteral("Save PNGs of the main screens to DIR and exit."),
                          QStringLiteral("DIR"));
  QCommandLineOption layout(QStringLiteral("layout"), QStringLiteral("ECG layout: 3x4, 3x4+R, 6x2, 12x1."), QStringLiteral("L"));
  QCommandLineOption grid(QStringLiteral("grid"), QStringLiteral("Echo grid: 1x1, 1x2, 2x2."), QStringLiteral("RxC"));
  QCommandLineOption dbOpt(QStringLiteral("db"),
                           QStringLiteral("Study database of this run (not added to the recent databases; a file this "
                                          "user may not write is opened read-only)."),
                           QStringLiteral("FILE"));
  parser.addOption(shot);
  parser.addOption(layout);
  parser.addOption(grid);
  parser.addOption(dbOpt);
  parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("DICOM ECG, WFDB .hea or DICOM echo files to open."));
  parser.process(app);

  int failures = 0;
  QString db;
  if (parser.isSet(dbOpt)) {
    // The window opens $E2E_DB at start, for this run only (never remembered); child processes
    // (model jobs) inherit it.
    db = QFileInfo(parser.value(dbOpt)).absoluteFilePath();
    qputenv("E2E_DB", db.toUtf8());
  }
  e2e::ui::MainWindow w;
  if (!db.isEmpty() && w.databasePath() != db) {
    std::fprintf(stderr, "echo2ecg-gui: cannot open database %s (see the log)\n", qPrintable(db));
    ++failures;
  }
  if (parser.isSet(layout)) {
    if (auto k = e2e::vm::layoutFromString(parser.value(layout).toStdString())) {
      w.ecgView()->setLayoutKindForSession(*k);
    } else {
      std::fprintf(stderr, "echo2ecg-gui: unknown ECG layout '%s' (3x4, 3x4+R, 6x2, 12x1)\n", qPrintable(parser.value(layout)));
      ++failures;
    }
  }
  if (parser.isSet(grid)) {
    const auto parts = parser.value(grid).split(QLatin1Char('x'));
    if (parts.size() == 2) w.echoGrid()->setGrid(parts[0].toInt(), parts[1].toInt());  // never saved
  }
  for (const QString& f : parser.positionalArguments())
    if (!w.openPath(f, !parser.isSet(shot), /*remember=*/false)) ++failures;
  w.show();
  if (parser.isSet(shot)) {
    const QString dir = parser.value(shot);
    QTimer::singleShot(500, &w, [&] {
      const QStringList saved = w.saveScreenshots(dir);
      for (const QString& s : saved) std::printf("%s\n", qPrintable(s));
      app.exit(saved.size() >= 4 && failures == 0 ? 0 : 1);
    });
  }
  return app.exec();
}
