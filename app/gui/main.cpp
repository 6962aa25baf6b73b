// Echo2ECG Workstation GUI.
//   echo2ecg-gui [files...] [--screenshot DIR] [--layout 3x4|3x4+R|6x2|12x1] [--grid RxC]
// --screenshot DIR: opens the given files, saves PNGs of each main screen into DIR and exits.
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include <cstdio>

#include "EcgView.h"
#include "EchoView.h"
#include "MainWindow.h"
#include "ui_setup.h"

int main(int argc, char** argv) {
  e2e::ui::setDefaultSurfaceFormat();
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Echo2ECG"));
  QApplication::setApplicationName(QStringLiteral("Echo2ECG Workstation"));
  QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Echo2ECG cardiology workstation"));
  parser.addHelpOption();
  parser.addVersionOption();
  QCommandLineOption shot(QStringLiteral("screenshot"), QStringLiteral("Save PNGs of the main screens to DIR and exit."),
                          QStringLiteral("DIR"));
  QCommandLineOption layout(QStringLiteral("layout"), QStringLiteral("ECG layout: 3x4, 3x4+R, 6x2, 12x1."), QStringLiteral("L"));
  QCommandLineOption grid(QStringLiteral("grid"), QStringLiteral("Echo grid: 1x1, 1x2, 2x2."), QStringLiteral("RxC"));
  parser.addOption(shot);
  parser.addOption(layout);
  parser.addOption(grid);
  parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("DICOM ECG, WFDB .hea or DICOM echo files to open."));
  parser.process(app);

  e2e::ui::MainWindow w;
  if (parser.isSet(layout))
    if (auto k = e2e::vm::layoutFromString(parser.value(layout).toStdString())) w.ecgView()->setLayoutKind(*k);
  if (parser.isSet(grid)) {
    const auto parts = parser.value(grid).split(QLatin1Char('x'));
    if (parts.size() == 2) w.echoGrid()->setGrid(parts[0].toInt(), parts[1].toInt());
  }
  int failures = 0;
  for (const QString& f : parser.positionalArguments())
    if (!w.openPath(f, !parser.isSet(shot))) ++failures;
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
