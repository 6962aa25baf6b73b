// echo2ecg-gui's command line (issue 20): --export-pdf writes the printout of a real ECG on A4 or
// Letter without a window (offscreen); bad files are reported together, once, and never block
// the run; --screenshot shows the tab of what was opened.
#include <gtest/gtest.h>

#include <QFile>
#include <QFileInfo>
#include <QDir>
#include <QImage>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <algorithm>

#include "ecg/EcgPainter.h"
#include "gui_test_util.h"
#include "io/reader.h"
#include "test_util.h"

using namespace e2e;

namespace {
struct GuiRun {
  int rc = -1;
  QString out, err;
};

GuiRun runGui(const QStringList& args, bool offscreen) {
  QProcess p;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  if (offscreen) {
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.remove(QStringLiteral("DISPLAY"));
  }
  p.setProcessEnvironment(env);
  p.start(QStringLiteral(E2E_GUI_PATH), args);
  GuiRun r;
  if (!p.waitForStarted(30000) || !p.waitForFinished(180000)) {
    p.kill();
    p.waitForFinished();
    return r;
  }
  r.rc = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
  r.out = QString::fromUtf8(p.readAllStandardOutput());
  r.err = QString::fromUtf8(p.readAllStandardError());
  return r;
}

QString e07500() { return QString::fromStdString(test::dataFile("ecg_wfdb/torch_ecg_cinc2021/E07500.hea").string()); }

// The page sizes (points) of a PDF's /MediaBox entries, each as (short side, long side).
std::vector<std::pair<double, double>> mediaBoxes(const QString& pdf) {
  QFile f(pdf);
  std::vector<std::pair<double, double>> out;
  if (!f.open(QIODevice::ReadOnly)) return out;
  const QString text = QString::fromLatin1(f.readAll());
  static const QRegularExpression re(QStringLiteral(R"(/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\])"));
  for (auto it = re.globalMatch(text); it.hasNext();) {
    const auto m = it.next();
    const double w = m.captured(3).toDouble() - m.captured(1).toDouble(), h = m.captured(4).toDouble() - m.captured(2).toDouble();
    out.emplace_back(std::min(w, h), std::max(w, h));
  }
  return out;
}

// Share of pixels in the ECG paper's pink (minor grid) in an image.
double pinkShare(const QImage& img) {
  const QColor pink = ui::ecgMinorGridColor();
  long hits = 0, n = 0;
  for (int y = 0; y < img.height(); y += 2)
    for (int x = 0; x < img.width(); x += 2, ++n) {
      const QColor c = img.pixelColor(x, y);
      hits += std::abs(c.red() - pink.red()) < 12 && std::abs(c.green() - pink.green()) < 12 && std::abs(c.blue() - pink.blue()) < 12;
    }
  return n ? static_cast<double>(hits) / static_cast<double>(n) : 0.0;
}
}  // namespace

TEST(GuiExportPdf, A4AndLetterOffscreenWithoutAWindow) {
  if (!QFileInfo::exists(e07500())) GTEST_SKIP() << "no E07500";
  QTemporaryDir tmp;
  const QString a4 = tmp.filePath(QStringLiteral("e07500_a4.pdf")), letter = tmp.filePath(QStringLiteral("e07500_letter.pdf"));
  GuiRun r = runGui({QStringLiteral("--export-pdf"), a4, e07500()}, true);
  ASSERT_EQ(r.rc, 0) << r.out.toStdString() << r.err.toStdString();
  EXPECT_TRUE(r.out.contains(QStringLiteral("A4 landscape"))) << r.out.toStdString();
  QFile f(a4);
  ASSERT_TRUE(f.open(QIODevice::ReadOnly));
  EXPECT_TRUE(f.read(5) == "%PDF-");
  auto boxes = mediaBoxes(a4);
  ASSERT_FALSE(boxes.empty());
  for (const auto& [s, l] : boxes) {
    EXPECT_NEAR(s, 595.0, 1.0);  // 210 mm
    EXPECT_NEAR(l, 842.0, 1.0);  // 297 mm
  }

  r = runGui({QStringLiteral("--export-pdf"), letter, QStringLiteral("--paper"), QStringLiteral("Letter"), e07500()}, true);
  ASSERT_EQ(r.rc, 0) << r.err.toStdString();
  boxes = mediaBoxes(letter);
  ASSERT_FALSE(boxes.empty());
  for (const auto& [s, l] : boxes) {
    EXPECT_NEAR(s, 612.0, 1.0);
    EXPECT_NEAR(l, 792.0, 1.0);
  }
}

// --printout-dcm: the same printout as a DICOM Encapsulated PDF in the record's study.
TEST(GuiExportPdf, PrintoutAsDicomEncapsulatedPdf) {
  if (!QFileInfo::exists(e07500())) GTEST_SKIP() << "no E07500";
  QTemporaryDir tmp;
  const QString pdf = tmp.filePath(QStringLiteral("p.pdf")), dir = tmp.filePath(QStringLiteral("dcm"));
  ASSERT_TRUE(QDir().mkpath(dir));
  const GuiRun r = runGui({QStringLiteral("--export-pdf"), pdf, QStringLiteral("--printout-dcm"), dir, e07500()}, true);
  ASSERT_EQ(r.rc, 0) << r.out.toStdString() << r.err.toStdString();
  const QStringList files = QDir(dir).entryList({QStringLiteral("*.dcm")}, QDir::Files);
  ASSERT_EQ(files.size(), 1) << r.out.toStdString();
  EXPECT_TRUE(r.out.contains(files.front())) << r.out.toStdString();
  EXPECT_EQ(readSopClassUid(QDir(dir).filePath(files.front()).toStdString()), "1.2.840.10008.5.1.4.1.1.104.1");
  EXPECT_TRUE(QFileInfo::exists(pdf));
  // A folder that does not exist: a clear failure.
  const GuiRun bad = runGui({QStringLiteral("--printout-dcm"), tmp.filePath(QStringLiteral("nope")), e07500()}, true);
  EXPECT_EQ(bad.rc, 1);
  EXPECT_TRUE(bad.err.contains(QStringLiteral("cannot write the DICOM printout"))) << bad.err.toStdString();
}

TEST(GuiExportPdf, BadRequestsFailWithAMessage) {
  QTemporaryDir tmp;
  const QString out = tmp.filePath(QStringLiteral("x.pdf"));
  GuiRun r = runGui({QStringLiteral("--export-pdf"), out, QStringLiteral("--paper"), QStringLiteral("A3"), e07500()}, true);
  EXPECT_EQ(r.rc, 2);
  EXPECT_TRUE(r.err.contains(QStringLiteral("unknown paper 'A3'"))) << r.err.toStdString();
  r = runGui({QStringLiteral("--export-pdf"), out, tmp.filePath(QStringLiteral("missing.hea"))}, true);
  EXPECT_EQ(r.rc, 1);
  EXPECT_TRUE(r.err.contains(QStringLiteral("cannot read"))) << r.err.toStdString();
  EXPECT_FALSE(QFileInfo::exists(out));
  const QString echo = QString::fromStdString(test::dataFile("us_dicom/godcm_barre/US-MONO2-8-8x-execho.dcm").string());
  if (QFileInfo::exists(echo)) {
    r = runGui({QStringLiteral("--export-pdf"), out, echo}, true);
    EXPECT_EQ(r.rc, 1);
    EXPECT_TRUE(r.err.contains(QStringLiteral("not an ECG"))) << r.err.toStdString();
  }
}

// Two bad files and one ECG: both failures are reported in one run that still finishes its
// screenshots (no modal dialog waits for a click), and the main window shows the ECG tab.
TEST(GuiCommandLine, BadFilesReportedTogetherAndEcgTabShown) {
  if (!test::haveDisplay()) GTEST_SKIP() << "needs an X display (run under xvfb-run)";
  if (!QFileInfo::exists(e07500())) GTEST_SKIP() << "no E07500";
  QTemporaryDir tmp;
  const QString bad1 = tmp.filePath(QStringLiteral("garbage.dcm")), bad2 = tmp.filePath(QStringLiteral("missing.hea"));
  {
    QFile f(bad1);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(300, 'x'));
  }
  const QString shots = tmp.filePath(QStringLiteral("shots"));
  const GuiRun r = runGui({QStringLiteral("--db"), tmp.filePath(QStringLiteral("s.db")), QStringLiteral("--screenshot"), shots,
                           bad1, e07500(), bad2},
                          false);
  EXPECT_EQ(r.rc, 1) << "failures make the run fail: " << r.err.toStdString();
  EXPECT_TRUE(r.err.contains(QStringLiteral("cannot open ") + bad1)) << r.err.toStdString();
  EXPECT_TRUE(r.err.contains(QStringLiteral("cannot open ") + bad2)) << r.err.toStdString();
  const QImage main(tmp.filePath(QStringLiteral("shots/main_window.png")));
  ASSERT_FALSE(main.isNull()) << r.out.toStdString();
  const QImage echoGrid(tmp.filePath(QStringLiteral("shots/echo_grid.png")));
  ASSERT_FALSE(echoGrid.isNull());
  EXPECT_GT(pinkShare(main), 0.05) << "the main window shows the ECG paper";
  EXPECT_LT(pinkShare(echoGrid), 0.01);
}
