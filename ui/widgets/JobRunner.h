// Running the `echo2ecg` command-line tool (torch work: embed, predict, train...) as a child
// process from the GUI, so that no model code lives in the workstation process.
#pragma once

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace e2e::ui {

// Where the echo2ecg CLI is: QSettings "tools/echo2ecg", else $E2E_CLI, else next to the GUI
// executable (or ../cli/ in a build tree), else on PATH. "" when not found.
QString echo2ecgPath();

// A progress line of `echo2ecg embed --json-progress`:
// {"event":"progress","stage":"ecg"|"echo","done":N,"total":M}. False for any other line.
struct JobProgress {
  QString stage;
  int done = 0, total = 0;
};
bool parseJobProgress(const QString& line, JobProgress* out);

// One child process at a time; output lines are forwarded, the end reported once.
class CliJob : public QObject {
  Q_OBJECT
 public:
  explicit CliJob(QObject* parent = nullptr);
  ~CliJob() override;
  // Starts `program args` (program "" = echo2ecgPath()). Returns false (and emits finished
  // with an explanation) if the tool cannot be found or started.
  bool start(const QStringList& args, const QString& program = QString());
  bool isRunning() const;
  void cancel();
  QString output() const { return output_; }
  // The exit code of the last run (-1: not finished normally). 3 is the tool's "finished, but some
  // inputs could not be used" (e.g. a loop that cannot be decoded): the rest of the work is stored.
  int exitCode() const { return exitCode_; }
  bool finishedWithProblems() const { return exitCode_ == 3; }
  // The "error: ..." lines of the last run (what could not be used).
  QStringList errorLines() const { return errorLines_; }

 Q_SIGNALS:
  void line(const QString& text);
  // ok: exit code 0. message: a one-line explanation with the exit code on failure (the last output
  // line; for exit code 3 how many inputs could not be used, and the first of them).
  void finished(bool ok, const QString& message);

 private:
  QProcess* proc_ = nullptr;
  QString output_;
  QString lastLine_;
  QStringList errorLines_;
  int exitCode_ = -1;
  bool reported_ = false;
};

}  // namespace e2e::ui
