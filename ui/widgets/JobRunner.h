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

 Q_SIGNALS:
  void line(const QString& text);
  // ok: exit code 0. message: a one-line explanation (last error line on failure).
  void finished(bool ok, const QString& message);

 private:
  QProcess* proc_ = nullptr;
  QString output_;
  QString lastLine_;
  bool reported_ = false;
};

}  // namespace e2e::ui
