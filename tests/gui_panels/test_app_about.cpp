// Where the workstation finds the echo2ecg CLI (beside an installed GUI, ../cli in a build tree),
// how a CLI that cannot be started is reported ("Cannot start PROGRAM: reason", not a crash), and
// Help > About (build facts, and libtorch/CUDA as `echo2ecg --version` reports them).
#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QTemporaryDir>

#include "app/AboutDialog.h"
#include "common/build_info.h"
#include "jobs/JobRunner.h"
#include "panels_test_util.h"

using namespace e2e;

namespace {
// An executable shell script at `path` (folders created).
void makeExecutable(const QString& path) {
  QDir().mkpath(QFileInfo(path).absolutePath());
  QFile f(path);
  ASSERT_TRUE(f.open(QIODevice::WriteOnly));
  f.write("#!/bin/sh\nexit 0\n");
  f.close();
  ASSERT_TRUE(f.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner |
                               QFileDevice::ReadGroup | QFileDevice::ExeGroup | QFileDevice::ReadOther | QFileDevice::ExeOther));
}
}  // namespace

TEST(Echo2ecgPath, FoundInTheBuildTreeAndBesideAnInstalledGui) {
  test::app();
  QTemporaryDir tmp;
  // Build tree: <build>/app/gui/echo2ecg-gui runs <build>/app/cli/echo2ecg.
  const QString build = tmp.filePath(QStringLiteral("build"));
  QDir().mkpath(build + QStringLiteral("/app/gui"));
  EXPECT_TRUE(ui::echo2ecgPathNextTo(build + QStringLiteral("/app/gui")).isEmpty()) << "nothing built yet";
  makeExecutable(build + QStringLiteral("/app/cli/echo2ecg"));
  EXPECT_EQ(ui::echo2ecgPathNextTo(build + QStringLiteral("/app/gui")),
            QFileInfo(build + QStringLiteral("/app/cli/echo2ecg")).canonicalFilePath());
  // Installed: the same bin folder.
  const QString bin = tmp.filePath(QStringLiteral("prefix/bin"));
  makeExecutable(bin + QStringLiteral("/echo2ecg"));
  EXPECT_EQ(ui::echo2ecgPathNextTo(bin), QFileInfo(bin + QStringLiteral("/echo2ecg")).canonicalFilePath());
  // A file that is not executable is not a CLI.
  const QString other = tmp.filePath(QStringLiteral("other/bin"));
  QDir().mkpath(other);
  QFile plain(other + QStringLiteral("/echo2ecg"));
  ASSERT_TRUE(plain.open(QIODevice::WriteOnly));
  plain.close();
  ASSERT_TRUE(plain.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner));
  EXPECT_TRUE(ui::echo2ecgPathNextTo(other).isEmpty());
}

TEST(CliJobStart, AProgramThatCannotStartIsReportedWithTheReason) {
  test::app();
  QTemporaryDir tmp;
  const QString missing = tmp.filePath(QStringLiteral("no-such-echo2ecg"));
  ui::CliJob job;
  bool done = false, ok = true;
  QString message;
  QObject::connect(&job, &ui::CliJob::finished, &job, [&](bool o, const QString& m) {
    done = true;
    ok = o;
    message = m;
  });
  ASSERT_TRUE(job.start({QStringLiteral("--version")}, missing));
  ASSERT_GE(test::spinUntil([&] { return done; }), 0);
  EXPECT_FALSE(ok);
  EXPECT_TRUE(job.failedToStart());
  EXPECT_FALSE(job.crashed());
  EXPECT_EQ(message, QStringLiteral("Cannot start %1: %2").arg(missing, job.errorString()));
  EXPECT_FALSE(job.errorString().isEmpty());
}

TEST(AboutDialog, ShowsTheBuildAndWhatTheCliReports) {
  test::app();
  ui::AboutDialog about(nullptr, QStringLiteral(E2E_CLI_PATH));  // constructed, never exec()'d
  const QString before = about.text();
  EXPECT_TRUE(before.contains(QStringLiteral("Echo2ECG Workstation %1").arg(QString::fromUtf8(build::projectVersion()))))
      << before.toStdString();
  EXPECT_TRUE(before.contains(QStringLiteral("Git revision: %1").arg(QString::fromUtf8(build::gitRevision()))));
  for (const char* field : {"Qt: 6.", "VTK: 9.", "DCMTK: 3.", "SQLite: 3."})
    EXPECT_TRUE(before.contains(QString::fromLatin1(field))) << field << " missing in:\n" << before.toStdString();
  ASSERT_GE(test::spinUntil([&] { return about.modelInfoKnown(); }), 0);
  const QString after = about.text();
  // The CLI's own lines, whatever this build has (libtorch or not, CUDA or not).
  EXPECT_TRUE(after.contains(QStringLiteral("\nlibtorch: "))) << after.toStdString();
  EXPECT_TRUE(after.contains(QStringLiteral("\nCUDA: "))) << after.toStdString();
  EXPECT_FALSE(after.contains(QStringLiteral("checking"))) << after.toStdString();
  EXPECT_FALSE(after.contains(QStringLiteral("not available"))) << after.toStdString();
}

TEST(AboutDialog, SaysModelJobsAreNotAvailableWhenTheCliCannotStart) {
  test::app();
  QTemporaryDir tmp;
  const QString missing = tmp.filePath(QStringLiteral("no-such-echo2ecg"));
  ui::AboutDialog about(nullptr, missing);
  ASSERT_GE(test::spinUntil([&] { return about.modelInfoKnown(); }), 0);
  const QString text = about.text();
  EXPECT_TRUE(text.contains(QStringLiteral("model jobs not available"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("Cannot start ") + missing)) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("Qt: 6."))) << text.toStdString();  // its own facts stay
}
