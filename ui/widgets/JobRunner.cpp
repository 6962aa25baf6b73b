#include "JobRunner.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>
#include <QStandardPaths>

namespace e2e::ui {

QString echo2ecgPath() {
  const QString configured = QSettings().value(QStringLiteral("tools/echo2ecg")).toString();
  if (!configured.isEmpty() && QFileInfo(configured).isExecutable()) return configured;
  const QString env = qEnvironmentVariable("E2E_CLI");
  if (!env.isEmpty() && QFileInfo(env).isExecutable()) return env;
  const QDir appDir(QCoreApplication::applicationDirPath());
  for (const QString& rel : {QStringLiteral("echo2ecg"), QStringLiteral("../cli/echo2ecg"),
                             QStringLiteral("../app/cli/echo2ecg")}) {
    const QString p = appDir.absoluteFilePath(rel);
    if (QFileInfo(p).isExecutable() && QFileInfo(p).isFile()) return QFileInfo(p).canonicalFilePath();
  }
  return QStandardPaths::findExecutable(QStringLiteral("echo2ecg"));
}

bool parseJobProgress(const QString& line, JobProgress* out) {
  if (!line.startsWith(QLatin1Char('{'))) return false;
  const QJsonDocument d = QJsonDocument::fromJson(line.toUtf8());
  if (!d.isObject()) return false;
  const QJsonObject o = d.object();
  if (o.value(QStringLiteral("event")).toString() != QStringLiteral("progress")) return false;
  if (out) {
    out->stage = o.value(QStringLiteral("stage")).toString();
    out->done = o.value(QStringLiteral("done")).toInt();
    out->total = o.value(QStringLiteral("total")).toInt();
  }
  return true;
}

CliJob::CliJob(QObject* parent) : QObject(parent) {}

CliJob::~CliJob() {
  if (proc_ && proc_->state() != QProcess::NotRunning) {
    proc_->disconnect(this);
    proc_->kill();
    proc_->waitForFinished(3000);
  }
}

bool CliJob::isRunning() const { return proc_ && proc_->state() != QProcess::NotRunning; }

void CliJob::cancel() {
  if (isRunning()) proc_->terminate();
}

bool CliJob::start(const QStringList& args, const QString& program) {
  if (isRunning()) return false;
  const QString exe = program.isEmpty() ? echo2ecgPath() : program;
  output_.clear();
  lastLine_.clear();
  errorLines_.clear();
  exitCode_ = -1;
  reported_ = false;
  if (exe.isEmpty()) {
    Q_EMIT finished(false, QStringLiteral("The echo2ecg command-line tool was not found (install it next to the "
                                          "workstation, set $E2E_CLI or the tools/echo2ecg setting)."));
    return false;
  }
  if (proc_) proc_->deleteLater();
  proc_ = new QProcess(this);
  proc_->setProcessChannelMode(QProcess::MergedChannels);
  connect(proc_, &QProcess::readyRead, this, [this, p = proc_] {
    const QString chunk = QString::fromUtf8(p->readAll());
    output_ += chunk;
    for (const QString& l : chunk.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
      lastLine_ = l.trimmed();
      if (lastLine_.startsWith(QStringLiteral("error: "))) errorLines_ << lastLine_.mid(7);
      Q_EMIT line(lastLine_);
    }
  });
  connect(proc_, &QProcess::errorOccurred, this, [this, exe](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart && !reported_) {
      reported_ = true;
      Q_EMIT finished(false, QStringLiteral("Cannot start %1").arg(exe));
    }
  });
  connect(proc_, &QProcess::finished, this, [this, exe, args](int code, QProcess::ExitStatus st) {
    if (reported_) return;
    reported_ = true;
    exitCode_ = st == QProcess::NormalExit ? code : -1;
    const bool ok = exitCode_ == 0;
    QString msg;
    if (ok) msg = QStringLiteral("echo2ecg %1: done").arg(args.value(0));
    else if (exitCode_ == 3)
      msg = errorLines_.isEmpty()
                ? QStringLiteral("echo2ecg %1 finished with errors (exit 3)%2")
                      .arg(args.value(0), lastLine_.isEmpty() ? QString() : QStringLiteral(": ") + lastLine_)
                : QStringLiteral("echo2ecg %1 finished with errors (exit 3): %2 input(s) could not be used; first: %3")
                      .arg(args.value(0))
                      .arg(errorLines_.size())
                      .arg(errorLines_.front());
    else
      msg = QStringLiteral("echo2ecg %1 failed (exit %2)%3")
                .arg(args.value(0))
                .arg(code)
                .arg(lastLine_.isEmpty() ? QString() : QStringLiteral(": ") + lastLine_);
    Q_EMIT finished(ok, msg);
  });
  proc_->start(exe, args);
  return true;
}

}  // namespace e2e::ui
