// Running the `echo2ecg` command-line tool (torch work: embed, predict, train...) as a child
// process from the GUI, so that no model code lives in the workstation process. CliJob is the one
// child-process runner of the workstation.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

namespace e2e::ui {

// Where the echo2ecg CLI is: QSettings "tools/echo2ecg", else $E2E_CLI, else
// echo2ecgPathNextTo(the GUI executable's folder), else on PATH. "" when not found. The one
// lookup of every model job, the training panel's trainer and Help > About.
QString echo2ecgPath();
// The echo2ecg executable beside a GUI installed in `appDir` (same bin folder) or in a build tree
// (appDir = <build>/app/gui: <build>/app/cli/echo2ecg); "" when neither exists.
QString echo2ecgPathNextTo(const QString& appDir);

// A progress line of `echo2ecg embed --json-progress`:
// {"event":"progress","stage":"ecg"|"echo","done":N,"total":M}. False for any other line.
// The JSON is read by core's parser (e2e::vm::parseJson), like the training protocol's lines.
struct JobProgress {
  QString stage;
  int done = 0, total = 0;
};
bool parseJobProgress(const QString& line, JobProgress* out);

// One child process at a time; output lines are forwarded, the end reported once.
class CliJob : public QObject {
  Q_OBJECT
 public:
  // Merged: stdout and stderr are one stream (every line through line()). Separate: stdout lines
  // also go to stdoutLine() and stderr lines to stderrLine() (e.g. a JSON protocol on stdout).
  enum class Channels { Merged, Separate };

  explicit CliJob(QObject* parent = nullptr);
  // A running child is stopped (see setStopTimeout) and waited for; no signal is emitted then.
  ~CliJob() override;

  // Settings for the next start().
  void setChannels(Channels c) { channels_ = c; }
  void setProcessEnvironment(const QProcessEnvironment& env) { env_ = env; }  // default: inherited
  void setWorkingDirectory(const QString& dir) { workDir_ = dir; }            // "" = this process's
  // On destruction: 0 (default) kills the child at once; > 0 first asks it to stop (SIGTERM, so that
  // it can checkpoint) and waits up to this many ms before killing it.
  void setStopTimeout(int ms) { stopTimeoutMs_ = ms; }

  // Starts `program args` (program "" = echo2ecgPath()). Returns false (and emits finished
  // with an explanation) if the tool cannot be found or is already running; a program that
  // cannot be executed is reported through finished() with failedToStart() true and the message
  // "Cannot start PROGRAM: reason" (QProcess::errorString()).
  bool start(const QStringList& args, const QString& program = QString());
  bool isRunning() const;
  // Asks the child to stop (SIGTERM); it ends through finished() as usual.
  void cancel();
  QString output() const { return QString::fromUtf8(output_); }  // everything read, both channels
  // The exit code of the last run (-1: not finished normally). 3 is the tool's "finished, but some
  // inputs could not be used" (e.g. a loop that cannot be decoded): the rest of the work is stored.
  int exitCode() const { return exitCode_; }
  bool finishedWithProblems() const { return exitCode_ == 3; }
  // The last run ended by a signal / crash (exitCode() is -1 then).
  bool crashed() const { return crashed_; }
  // The last run's program could not be started; errorString() says why.
  bool failedToStart() const { return failedToStart_; }
  QString errorString() const { return errorString_; }
  // The "error: ..." lines of the last run (what could not be used).
  QStringList errorLines() const { return errorLines_; }

 Q_SIGNALS:
  // Every non-empty output line, trimmed (both channels).
  void line(const QString& text);
  // Channels::Separate only: each stdout line as written (without the '\n'; a last line without
  // one is delivered before finished()), and each non-empty stderr line.
  void stdoutLine(const QByteArray& text);
  void stderrLine(const QString& text);
  // ok: exit code 0. message: a one-line explanation with the exit code on failure (the last output
  // line; for exit code 3 how many inputs could not be used, and the first of them). All output
  // lines have been emitted before.
  void finished(bool ok, const QString& message);

 private:
  void readChannel(QProcess::ProcessChannel ch, bool flush);
  void takeLine(QProcess::ProcessChannel ch, const QByteArray& raw);

  QProcess* proc_ = nullptr;
  Channels channels_ = Channels::Merged;
  QProcessEnvironment env_;
  QString workDir_;
  int stopTimeoutMs_ = 0;
  QByteArray outBuf_, errBuf_;  // unterminated line of each channel
  QByteArray output_;
  QString lastLine_;
  QStringList errorLines_;
  QString errorString_;
  int exitCode_ = -1;
  bool crashed_ = false, failedToStart_ = false;
  bool reported_ = false;
};

}  // namespace e2e::ui
