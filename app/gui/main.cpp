// Echo2ECG Workstation GUI.
//   echo2ecg-gui [files...] [--db FILE] [--screenshot DIR] [--layout 3x4|3x4+R|6x2|12x1] [--grid RxC]
//   echo2ecg-gui --export-pdf OUT.pdf [--paper A4|Letter] [--layout L] [--gain MM] [--printout-dcm OUTDIR] FILE
//   echo2ecg-gui --printout-dcm OUTDIR [--paper A4|Letter] [--layout L] FILE
// --db FILE: the study database of this run. --screenshot DIR: opens the given files, saves PNGs
// of each main screen into DIR (the main window on the tab of what was opened) and exits.
// --export-pdf: the ECG printout of FILE at exact scale (25 mm/s, 10 mm/mV, landscape A4 or
// Letter), written without showing a window (runs offscreen when no Qt platform is set); the
// page of File > Print (ui/ecg/EcgPrintout.h). `echo2ecg report` runs this.
// --printout-dcm OUTDIR: that printout also as a DICOM Encapsulated PDF in OUTDIR, in the ECG's
// study (net/results_pdf.h; a DICOM ECG is referenced as its source instance).
// Files that cannot be opened are listed once, after the window appears (one non-modal message;
// on stderr too), never one dialog each.
// Every option and file given here applies to this run only: none is written to the settings
// (not the ECG layout, not the recent databases or files); what the user then changes in the
// window is saved as usual.
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>
#include <QStatusBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <variant>

#include "blas_reexec.h"
#include "ai/PredictionPanel.h"
#include "app/MainWindow.h"
#include "app/ShortcutsDialog.h"
#include "app/ui_setup.h"
#include "common/build_info.h"
#include "ecg/EcgPainter.h"
#include "ecg/EcgPrintout.h"
#include "ecg/PrintDialog.h"
#include "ecg/EcgView.h"
#include "echo/EchoView.h"
#include "io/reader.h"
#include "net/results_pdf.h"

namespace {

// A headless run (--export-pdf) needs no display: use the offscreen platform unless one is set.
void preferOffscreenForExport(int argc, char** argv) {
  if (qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) return;
  for (int i = 1; i < argc; ++i)
    if (std::strncmp(argv[i], "--export-pdf", 12) == 0 || std::strncmp(argv[i], "--printout-dcm", 14) == 0) {
      qputenv("QT_QPA_PLATFORM", "offscreen");
      return;
    }
}

// The printout PDF as a DICOM Encapsulated PDF in outDir, in the study of the ECG it shows.
int writePrintoutDicom(const QString& pdf, const QString& file, const e2e::EcgRecord& record, const QString& outDir) {
  try {
    e2e::net::PdfDocumentRequest req;
    if (record.format == e2e::SourceFormat::DicomEcg) {
      req.source = e2e::net::SrSourceStudy::fromDicomFile(file.toStdString());
    } else {
      // Not a DICOM object: the patient and the study UID the reader derived, no instance reference.
      req.source = e2e::net::SrSourceStudy::fromIdentity(record.identity);
      req.source.seriesUid.clear();
      req.source.sopClassUid.clear();
      req.source.sopInstanceUid.clear();
    }
    req.pdfPath = pdf.toStdString();
    req.outDir = outDir.toStdString();
    std::printf("%s\n", e2e::net::writeEncapsulatedPdf(req).c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg-gui: cannot write the DICOM printout in %s: %s\n", qPrintable(outDir), e.what());
    return 1;
  }
}

// --export-pdf OUT FILE: the ECG printout of FILE on fixed paper (ui/ecg/EcgPrintout.h: the page
// File > Print and Export PDF… make); --printout-dcm DIR also (or only) as DICOM. Returns the
// exit code.
int exportPdf(QString out, const QStringList& files, const QString& paperName, const QString& layoutName,
              const QString& gainText, const QString& dcmDir) {
  if (files.size() != 1) {
    std::fprintf(stderr, "echo2ecg-gui: --export-pdf needs exactly one ECG file (got %d)\n", static_cast<int>(files.size()));
    return 2;
  }
  e2e::ui::EcgPrintOptions opt;
  if (!e2e::ui::paperFromString(paperName, opt.paper)) {
    std::fprintf(stderr, "echo2ecg-gui: unknown paper '%s' (A4, Letter)\n", qPrintable(paperName));
    return 2;
  }
  if (!layoutName.isEmpty()) {
    const auto k = e2e::vm::layoutFromString(layoutName.toStdString());
    if (!k) {
      std::fprintf(stderr, "echo2ecg-gui: unknown ECG layout '%s' (3x4, 3x4+R, 6x2, 12x1)\n", qPrintable(layoutName));
      return 2;
    }
    opt.layout = *k;
  }
  opt.gainMmPerMv = gainText.toDouble();
  if (opt.gainMmPerMv != 5.0 && opt.gainMmPerMv != 10.0 && opt.gainMmPerMv != 20.0) {
    std::fprintf(stderr, "echo2ecg-gui: --gain must be 5, 10 or 20 (mm/mV), got '%s'\n", qPrintable(gainText));
    return 2;
  }
  e2e::EcgRecord record;
  try {
    e2e::LoadedObject obj = e2e::readAny(files.front().toStdString());
    auto* rec = std::get_if<e2e::EcgRecord>(&obj);
    if (!rec) throw std::runtime_error("it is an echo loop, not an ECG");
    record = std::move(*rec);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo2ecg-gui: cannot read %s: %s\n", qPrintable(files.front()), e.what());
    return 1;
  }
  e2e::ui::EcgPaintSpec view;
  view.record = &record;
  e2e::ui::prepareEcgSpec(view);
  const e2e::ui::EcgPrintout printout = e2e::ui::makeEcgPrintout(view, opt);
  QTemporaryDir tmp;
  if (out.isEmpty()) out = tmp.filePath(QStringLiteral("printout.pdf"));  // --printout-dcm only
  QString err;
  if (!e2e::ui::writeEcgPrintoutPdf(printout, out, &err)) {
    std::fprintf(stderr, "echo2ecg-gui: cannot write %s: %s\n", qPrintable(out), qPrintable(err));
    return 1;
  }
  const auto geo = e2e::ui::ecgPageGeometry(printout.spec);
  std::printf("%s (%s, %.1f x %.1f mm)\n", qPrintable(QFileInfo(out).absoluteFilePath()),
              qPrintable(e2e::ui::ecgPrintoutDescription(printout)), geo.pageMm.width(), geo.pageMm.height());
  return dcmDir.isEmpty() ? 0 : writePrintoutDicom(out, files.front(), record, dcmDir);
}

// Opens the command-line files; returns "file: reason" for each that could not be opened.
QStringList openFiles(e2e::ui::MainWindow& w, const QStringList& files) {
  QStringList failures;
  for (const QString& f : files)
    if (!w.openPath(f, /*interactive=*/false, /*remember=*/false)) {
      QString why = w.statusBar()->currentMessage();
      if (why.startsWith(QStringLiteral("Cannot open: "))) why = why.mid(13);
      if (why.isEmpty()) why = QStringLiteral("not an ECG or echo file");
      failures << (why.contains(f) ? why : QStringLiteral("%1: %2").arg(f, why));  // readers name the file
    }
  return failures;
}

// One non-modal message listing every file that could not be opened.
void showOpenFailures(e2e::ui::MainWindow& w, const QStringList& failures) {
  auto* box = new QMessageBox(QMessageBox::Warning, QStringLiteral("Cannot open files"),
                              QStringLiteral("%1 of the files given on the command line could not be opened.").arg(failures.size()),
                              QMessageBox::Ok, &w);
  box->setInformativeText(failures.join(QStringLiteral("\n")));
  box->setModal(false);
  box->setWindowModality(Qt::NonModal);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setObjectName(QStringLiteral("openFailures"));
  box->show();
}

// The prediction panel, File > Print's options dialog and Help > Keyboard shortcuts, as opened now.
QStringList saveReadingScreens(e2e::ui::MainWindow& w, const QString& dir) {
  QStringList saved;
  auto save = [&](QWidget* widget, const QString& name) {
    const QString p = QDir(dir).filePath(name);
    if (widget && widget->grab().toImage().save(p, "PNG")) saved << p;
  };
  save(w.predictionPanel(), QStringLiteral("prediction_panel.png"));
  if (w.ecgView()->hasRecord()) {
    e2e::ui::EcgPrintDialog print(e2e::ui::EcgPrintDialog::Purpose::Print, *w.ecgView(), &w);
    print.adjustSize();
    save(&print, QStringLiteral("print_dialog.png"));
  }
  e2e::ui::ShortcutsDialog keys(w, &w);
  save(&keys, QStringLiteral("keyboard_shortcuts.png"));
  return saved;
}

// --screenshot: the screens, then the main window again on the tab of what was opened
// (saveScreenshots leaves the echo tab in its main_window.png).
void takeScreenshots(QApplication& app, e2e::ui::MainWindow& w, const QString& dir, int failures) {
  QWidget* tab = w.tabs()->currentWidget();
  QStringList saved = w.saveScreenshots(dir);
  saved << saveReadingScreens(w, dir);
  w.tabs()->setCurrentWidget(tab);
  QApplication::processEvents();
  const QString main = QDir(dir).filePath(QStringLiteral("main_window.png"));
  if (w.grab().toImage().save(main, "PNG") && !saved.contains(main)) saved << main;
  for (const QString& s : saved) std::printf("%s\n", qPrintable(s));
  std::fflush(stdout);
  app.exit(saved.size() >= 4 && failures == 0 ? 0 : 1);
}

// The command-line options of echo2ecg-gui.
struct CliOptions {
  QCommandLineOption shot{QStringLiteral("screenshot"), QStringLiteral("Save PNGs of the main screens to DIR and exit."),
                          QStringLiteral("DIR")};
  QCommandLineOption layout{QStringLiteral("layout"), QStringLiteral("ECG layout: 3x4, 3x4+R, 6x2, 12x1."), QStringLiteral("L")};
  QCommandLineOption grid{QStringLiteral("grid"), QStringLiteral("Echo grid: 1x1, 1x2, 2x2."), QStringLiteral("RxC")};
  QCommandLineOption db{QStringLiteral("db"),
                        QStringLiteral("Study database of this run (not added to the recent databases; a file this "
                                       "user may not write is opened read-only)."),
                        QStringLiteral("FILE")};
  QCommandLineOption pdf{QStringLiteral("export-pdf"),
                         QStringLiteral("Write the ECG printout of FILE (exact scale) to OUT.pdf and exit; no window."),
                         QStringLiteral("OUT.pdf")};
  QCommandLineOption paper{QStringLiteral("paper"), QStringLiteral("Paper of the printout: A4 (default) or Letter."),
                           QStringLiteral("PAPER"), QStringLiteral("A4")};
  QCommandLineOption gain{QStringLiteral("gain"), QStringLiteral("Gain of the printout: 5, 10 (default) or 20 mm/mV."),
                          QStringLiteral("MM"), QStringLiteral("10")};
  QCommandLineOption dcm{QStringLiteral("printout-dcm"),
                         QStringLiteral("Also write the ECG printout of FILE as a DICOM Encapsulated PDF into OUTDIR "
                                        "(in the ECG's study) and exit; no window."),
                         QStringLiteral("OUTDIR")};
};

}  // namespace

int main(int argc, char** argv) {
  e2e::app::reexecWithBetterBlasKernels(argv);
  preferOffscreenForExport(argc, argv);
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
  const CliOptions o;
  for (const QCommandLineOption* opt : {&o.shot, &o.layout, &o.grid, &o.db, &o.pdf, &o.paper, &o.gain, &o.dcm}) parser.addOption(*opt);
  parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("DICOM ECG, WFDB .hea or DICOM echo files to open."));
  parser.process(app);

  if (parser.isSet(o.pdf) || parser.isSet(o.dcm))
    return exportPdf(parser.value(o.pdf), parser.positionalArguments(), parser.value(o.paper), parser.value(o.layout),
                     parser.value(o.gain), parser.value(o.dcm));

  int failures = 0;
  QString db;
  if (parser.isSet(o.db)) {
    // The window opens $E2E_DB at start, for this run only (never remembered); child processes
    // (model jobs) inherit it.
    db = QFileInfo(parser.value(o.db)).absoluteFilePath();
    qputenv("E2E_DB", db.toUtf8());
  }
  e2e::ui::MainWindow w;
  if (!db.isEmpty() && w.databasePath() != db) {
    std::fprintf(stderr, "echo2ecg-gui: cannot open database %s (see the log)\n", qPrintable(db));
    ++failures;
  }
  if (parser.isSet(o.layout)) {
    if (auto k = e2e::vm::layoutFromString(parser.value(o.layout).toStdString())) {
      w.ecgView()->setLayoutKindForSession(*k);
    } else {
      std::fprintf(stderr, "echo2ecg-gui: unknown ECG layout '%s' (3x4, 3x4+R, 6x2, 12x1)\n", qPrintable(parser.value(o.layout)));
      ++failures;
    }
  }
  if (parser.isSet(o.grid)) {
    const auto parts = parser.value(o.grid).split(QLatin1Char('x'));
    if (parts.size() == 2) w.echoGrid()->setGrid(parts[0].toInt(), parts[1].toInt());  // never saved
  }
  const QStringList openFailures = openFiles(w, parser.positionalArguments());
  for (const QString& f : openFailures) std::fprintf(stderr, "echo2ecg-gui: cannot open %s\n", qPrintable(f));
  failures += static_cast<int>(openFailures.size());
  w.show();
  if (parser.isSet(o.shot)) {
    const QString dir = parser.value(o.shot);
    QTimer::singleShot(500, &w, [&] { takeScreenshots(app, w, dir, failures); });
  } else if (!openFailures.isEmpty()) {
    QTimer::singleShot(0, &w, [&w, openFailures] { showOpenFailures(w, openFailures); });
  }
  return app.exec();
}
