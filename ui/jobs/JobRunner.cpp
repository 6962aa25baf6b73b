#include "jobs/JobRunner.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

#include <cmath>
#include <limits>

#include "viewmodel/training_protocol.h"

namespace e2e::ui {

QString echo2ecgPath() {
  const QString configured = QSettings().value(QStringLiteral("tools/echo2ecg")).toString();
  if (!configured.isEmpty() && QFileInfo(configured).isExecutable()) return configured;
  const QString env = qEnvironmentVariable("E2E_CLI");
  if (!env.isEmpty() && QFileInfo(env).isExecutable()) return env;
  const QString beside = echo2ecgPathNextTo(QCoreApplication::applicationDirPath());
  if (!beside.isEmpty()) return beside;
  return QStandardPaths::findExecutable(QStringLiteral("echo2ecg"));
}

QString echo2ecgPathNextTo(const QString& appDir) {
  if (appDir.isEmpty()) return QString();
  const QDir dir(appDir);
  // Installed: the same bin folder. Build tree: <build>/app/gui -> <build>/app/cli.
  for (const QString& rel : {QStringLiteral("echo2ecg"), QStringLiteral("../cli/echo2ecg"),
                             QStringLiteral("../app/cli/echo2ecg")}) {
    const QFileInfo fi(dir.absoluteFilePath(rel));
    if (fi.isFile() && fi.isExecutable()) return fi.canonicalFilePath();
  }
  return QString();
}

namespace {
// A whole number that fits an int, else 0 (what QJsonValue::toInt() gave).
int intMember(const vm::JsonValue& o, const char* key) {
  const auto it = o.find(key);
  if (it == o.end() || !it->is_number()) return 0;
  const double v = it->get<double>();
  if (!(v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max())) return 0;
  return v == std::trunc(v) ? static_cast<int>(v) : 0;
}
}  // namespace

bool parseJobProgress(const QString& line, JobProgress* out) {
  if (!line.startsWith(QLatin1Char('{'))) return false;
  vm::JsonValue o;
  if (!vm::parseJson(line.toStdString(), o) || !o.is_object()) return false;
  const auto ev = o.find("event");
  if (ev == o.end() || !ev->is_string() || ev->get<std::string>() != "progress") return false;
  if (out) {
    const auto stage = o.find("stage");
    out->stage = stage != o.end() && stage->is_string() ? QString::fromStdString(stage->get<std::string>()) : QString();
    out->done = intMember(o, "done");
    out->total = intMember(o, "total");
  }
  return true;
}

CliJob::CliJob(QObject* parent) : QObject(parent) {}

CliJob::~CliJob() {
  if (proc_ && proc_->state() != QProcess::NotRunning) {
    proc_->disconnect(this);
    if (stopTimeoutMs_ > 0) {
      proc_->terminate();
      if (proc_->waitForFinished(stopTimeoutMs_)) return;
    }
    proc_->kill();
    proc_->waitForFinished(3000);
  }
}

bool CliJob::isRunning() const { return proc_ && proc_->state() != QProcess::NotRunning; }

void CliJob::cancel() {
  if (isRunning()) proc_->terminate();
}

void CliJob::takeLine(QProcess::ProcessChannel ch, const QByteArray& raw) {
  const QString text = QString::fromUtf8(raw).trimmed();
  if (channels_ == Channels::Separate) {
    if (ch == QProcess::StandardOutput) Q_EMIT stdoutLine(raw);
    else if (!raw.isEmpty()) Q_EMIT stderrLine(QString::fromUtf8(raw));
  }
  if (text.isEmpty()) return;
  lastLine_ = text;
  if (lastLine_.startsWith(QStringLiteral("error: "))) errorLines_ << lastLine_.mid(7);
  Q_EMIT line(lastLine_);
}

// Reads what the channel has, emits its complete lines; flush: also the last unterminated one.
void CliJob::readChannel(QProcess::ProcessChannel ch, bool flush) {
  if (!proc_) return;
  QByteArray& buf = ch == QProcess::StandardOutput ? outBuf_ : errBuf_;
  const QByteArray chunk = ch == QProcess::StandardOutput ? proc_->readAllStandardOutput() : proc_->readAllStandardError();
  output_ += chunk;
  buf += chunk;
  qsizetype nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const QByteArray l = buf.left(nl);
    buf.remove(0, nl + 1);
    takeLine(ch, l);
  }
  if (flush && !buf.isEmpty()) {
    const QByteArray l = buf;
    buf.clear();
    takeLine(ch, l);
  }
}

bool CliJob::start(const QStringList& args, const QString& program) {
  if (isRunning()) return false;
  const QString exe = program.isEmpty() ? echo2ecgPath() : program;
  output_.clear();
  outBuf_.clear();
  errBuf_.clear();
  lastLine_.clear();
  errorLines_.clear();
  errorString_.clear();
  exitCode_ = -1;
  crashed_ = false;
  failedToStart_ = false;
  reported_ = false;
  if (exe.isEmpty()) {
    Q_EMIT finished(false, QStringLiteral("The echo2ecg command-line tool was not found (install it next to the "
                                          "workstation, set $E2E_CLI or the tools/echo2ecg setting)."));
    return false;
  }
  if (proc_) proc_->deleteLater();
  proc_ = new QProcess(this);
  proc_->setProcessChannelMode(channels_ == Channels::Merged ? QProcess::MergedChannels : QProcess::SeparateChannels);
  proc_->setProcessEnvironment(env_);
  if (!workDir_.isEmpty()) proc_->setWorkingDirectory(workDir_);
  connect(proc_, &QProcess::readyReadStandardOutput, this, [this] { readChannel(QProcess::StandardOutput, false); });
  connect(proc_, &QProcess::readyReadStandardError, this, [this] { readChannel(QProcess::StandardError, false); });
  connect(proc_, &QProcess::errorOccurred, this, [this, exe](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart && !reported_) {
      reported_ = true;
      failedToStart_ = true;
      errorString_ = proc_ ? proc_->errorString() : QString();
      Q_EMIT finished(false, QStringLiteral("Cannot start %1: %2").arg(exe, errorString_));
    }
  });
  connect(proc_, &QProcess::finished, this, [this, args](int code, QProcess::ExitStatus st) {
    if (reported_) return;
    reported_ = true;
    // Everything the child wrote is delivered before the end is reported.
    readChannel(QProcess::StandardOutput, true);
    readChannel(QProcess::StandardError, true);
    crashed_ = st == QProcess::CrashExit;
    exitCode_ = crashed_ ? -1 : code;
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
