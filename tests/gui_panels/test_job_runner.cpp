// CliJob, the workstation's one child-process runner (a /bin/sh script stands in for echo2ecg):
// merged and separate channels, lines split across writes, the last unterminated line, exit
// codes, crash, cancel, a program that cannot start, environment and working directory; and
// parseJobProgress on the `echo2ecg embed --json-progress` lines.
#include <gtest/gtest.h>

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>

#include "jobs/JobRunner.h"
#include "panels_test_util.h"

using namespace e2e;
using e2e::ui::CliJob;

namespace {

struct JobRun {
  QStringList lines, out, err;
  bool done = false, ok = false;
  QString message;
};

// Runs `sh -c script` to the end and records every signal.
JobRun runScript(CliJob& job, const QString& script) {
  JobRun r;
  QObject::connect(&job, &CliJob::line, &job, [&](const QString& l) { r.lines << l; });
  QObject::connect(&job, &CliJob::stdoutLine, &job, [&](const QByteArray& l) { r.out << QString::fromUtf8(l); });
  QObject::connect(&job, &CliJob::stderrLine, &job, [&](const QString& l) { r.err << l; });
  QObject::connect(&job, &CliJob::finished, &job, [&](bool ok, const QString& msg) {
    r.done = true;
    r.ok = ok;
    r.message = msg;
  });
  EXPECT_TRUE(job.start({QStringLiteral("-c"), script}, QStringLiteral("/bin/sh")));
  EXPECT_GE(test::spinUntil([&] { return r.done; }), 0);
  job.disconnect(&job);
  return r;
}

}  // namespace

TEST(JobRunner, ParsesEmbedProgressLines) {
  ui::JobProgress p;
  ASSERT_TRUE(ui::parseJobProgress(QStringLiteral(R"({"event":"progress","stage":"ecg","done":3,"total":10})"), &p));
  EXPECT_EQ(p.stage, QStringLiteral("ecg"));
  EXPECT_EQ(p.done, 3);
  EXPECT_EQ(p.total, 10);
  EXPECT_TRUE(ui::parseJobProgress(QStringLiteral(R"({"event":"progress","stage":"echo","done":1,"total":2})"), nullptr));
  // Members of the wrong type read as empty / 0, like QJsonValue did.
  ASSERT_TRUE(ui::parseJobProgress(QStringLiteral(R"({"event":"progress","stage":7,"done":2.5,"total":"x"})"), &p));
  EXPECT_TRUE(p.stage.isEmpty());
  EXPECT_EQ(p.done, 0);
  EXPECT_EQ(p.total, 0);
  EXPECT_FALSE(ui::parseJobProgress(QStringLiteral(R"({"event":"step","epoch":0})"), &p));
  EXPECT_FALSE(ui::parseJobProgress(QStringLiteral(R"({"event":"progress","done":)"), &p));
  EXPECT_FALSE(ui::parseJobProgress(QStringLiteral("embedding 3/10"), &p));
  EXPECT_FALSE(ui::parseJobProgress(QStringLiteral("[1,2]"), &p));
}

TEST(JobRunner, MergedLinesExitCodesAndErrors) {
  test::app();
  CliJob job;
  // Exit 3 = finished, some inputs could not be used; a line written in two pieces stays one line.
  JobRun r = runScript(job, QStringLiteral("printf 'one\\n  two  \\n'; printf 'error: loop 7' >&2; sleep 0.1; "
                                        "printf ' unreadable\\n' >&2; printf 'th'; sleep 0.1; printf 'ree'; exit 3"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.lines, (QStringList{QStringLiteral("one"), QStringLiteral("two"),
                                  QStringLiteral("error: loop 7 unreadable"), QStringLiteral("three")}));
  EXPECT_TRUE(r.out.isEmpty());  // merged: no per-channel signals
  EXPECT_TRUE(r.err.isEmpty());
  EXPECT_EQ(job.exitCode(), 3);
  EXPECT_TRUE(job.finishedWithProblems());
  EXPECT_FALSE(job.crashed());
  EXPECT_EQ(job.errorLines(), QStringList{QStringLiteral("loop 7 unreadable")});
  EXPECT_TRUE(r.message.contains(QStringLiteral("1 input(s) could not be used; first: loop 7 unreadable")))
      << r.message.toStdString();
  EXPECT_TRUE(job.output().contains(QStringLiteral("three")));

  r = runScript(job, QStringLiteral("echo fine"));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(job.exitCode(), 0);
  EXPECT_TRUE(job.errorLines().isEmpty());  // reset by start()

  r = runScript(job, QStringLiteral("echo last words; exit 5"));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(job.exitCode(), 5);
  EXPECT_TRUE(r.message.contains(QStringLiteral("(exit 5): last words"))) << r.message.toStdString();
}

TEST(JobRunner, SeparateChannelsEnvironmentAndWorkingDirectory) {
  test::app();
  QTemporaryDir dir;
  ASSERT_TRUE(dir.isValid());
  CliJob job;
  job.setChannels(CliJob::Channels::Separate);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("E2E_JOB_TEST"), QStringLiteral("from-env"));
  job.setProcessEnvironment(env);
  job.setWorkingDirectory(dir.path());
  const JobRun r = runScript(job, QStringLiteral("echo \"$E2E_JOB_TEST\"; echo; echo log line >&2; pwd; printf '{\"a\":1}'"));
  EXPECT_TRUE(r.ok);
  ASSERT_EQ(r.out.size(), 4) << r.out.join(QLatin1Char('|')).toStdString();
  EXPECT_EQ(r.out[0], QStringLiteral("from-env"));
  EXPECT_EQ(r.out[1], QString());  // stdout lines come as written, empty ones included
  EXPECT_EQ(QDir(r.out[2]).canonicalPath(), QDir(dir.path()).canonicalPath());
  EXPECT_EQ(r.out[3], QStringLiteral("{\"a\":1}"));  // the last line has no '\n'
  EXPECT_EQ(r.err, QStringList{QStringLiteral("log line")});
  EXPECT_TRUE(r.lines.contains(QStringLiteral("log line")));
  EXPECT_TRUE(r.lines.contains(QStringLiteral("from-env")));
}

TEST(JobRunner, CrashCancelAndFailedStart) {
  test::app();
  CliJob job;
  JobRun r = runScript(job, QStringLiteral("kill -SEGV $$"));
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(job.crashed());
  EXPECT_EQ(job.exitCode(), -1);
  EXPECT_FALSE(job.failedToStart());

  // Cancel = SIGTERM: a job that traps it ends normally with its own exit code.
  bool done = false;
  QObject::connect(&job, &CliJob::finished, &job, [&] { done = true; });
  ASSERT_TRUE(job.start({QStringLiteral("-c"), QStringLiteral("trap 'echo stopping; exit 130' TERM; "
                                                              "echo ready; while :; do sleep 0.05; done")},
                        QStringLiteral("/bin/sh")));
  bool ready = false;
  QObject::connect(&job, &CliJob::line, &job, [&](const QString& l) { ready = ready || l == QStringLiteral("ready"); });
  ASSERT_GE(test::spinUntil([&] { return ready; }), 0);
  EXPECT_TRUE(job.isRunning());
  EXPECT_FALSE(job.start({QStringLiteral("-c"), QStringLiteral("true")}, QStringLiteral("/bin/sh")));  // one at a time
  job.cancel();
  ASSERT_GE(test::spinUntil([&] { return done; }), 0);
  EXPECT_FALSE(job.isRunning());
  EXPECT_FALSE(job.crashed());
  EXPECT_EQ(job.exitCode(), 130);
  job.disconnect(&job);

  r = JobRun{};
  QObject::connect(&job, &CliJob::finished, &job, [&](bool ok, const QString& msg) {
    r.done = true;
    r.ok = ok;
    r.message = msg;
  });
  QTemporaryDir dir;
  const QString missing = QDir(dir.path()).filePath(QStringLiteral("no-such-program"));
  ASSERT_TRUE(job.start({QStringLiteral("train")}, missing));
  ASSERT_GE(test::spinUntil([&] { return r.done; }), 0);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(job.failedToStart());
  EXPECT_FALSE(job.errorString().isEmpty());
  EXPECT_TRUE(r.message.startsWith(QStringLiteral("Cannot start"))) << r.message.toStdString();
}

TEST(JobRunner, DestructionStopsTheChildGracefully) {
  test::app();
  QTemporaryDir dir;
  const QString marker = QDir(dir.path()).filePath(QStringLiteral("checkpoint"));
  {
    CliJob job;
    job.setStopTimeout(5000);
    bool ready = false;
    QObject::connect(&job, &CliJob::line, &job, [&](const QString& l) { ready = ready || l == QStringLiteral("ready"); });
    ASSERT_TRUE(job.start({QStringLiteral("-c"), QStringLiteral("trap 'touch \"%1\"; exit 130' TERM; echo ready; "
                                                                "while :; do sleep 0.05; done").arg(marker)},
                          QStringLiteral("/bin/sh")));
    ASSERT_GE(test::spinUntil([&] { return ready; }), 0);
  }  // SIGTERM first: the child writes its "checkpoint" before it is gone
  EXPECT_TRUE(QFileInfo::exists(marker));
}
