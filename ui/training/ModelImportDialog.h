// Models > Import…: published weights (an official Echo2ECG run folder, an OTiS checkpoint, EchoPrime's
// encoder, a model bundle folder) as a registered model version of the current database. The work
// runs out of the GUI process: `echo2ecg models import PATH [--echoprime FILE] [--activate] --json
// --db DB` as a child process (CliJob); its JSON lines (status / done / error) drive the dialog.
// The dialog itself runs no SQL and no model code.
#pragma once

#include <QByteArray>
#include <QDialog>
#include <QList>
#include <QString>
#include <QStringList>

class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace e2e::ui {

class CliJob;

class ModelImportDialog : public QDialog {
  Q_OBJECT
 public:
  // The `done` event of the last import.
  struct Source {
    QString file, sha256;
  };
  struct Result {
    QString kind, modelId, version, role, bundleDir, weightsHash;
    bool alreadyImported = false, activated = false;
    QList<Source> sources;
  };
  enum class State { Idle, Running, Done, Failed, Cancelled };

  explicit ModelImportDialog(const QString& dbPath, QWidget* parent = nullptr);
  ~ModelImportDialog() override;

  QString databasePath() const { return dbPath_; }
  // Overrides the CLI (tests); "" = echo2ecgPath().
  void setCliProgram(const QString& p) { cli_ = p; }

  // What to import: a folder (run or bundle) or a file (.pth / .pt / .ckpt); the EchoPrime encoder
  // (only for an OTiS checkpoint or an official run); whether the version becomes the active one.
  void setSourcePath(const QString& path);
  QString sourcePath() const;
  void setEchoPrimePath(const QString& path);
  QString echoPrimePath() const;
  void setActivate(bool on);

  // The arguments of the `echo2ecg` run for the current inputs.
  QStringList commandArguments() const;

  State state() const { return state_; }
  bool isRunning() const;
  const Result& result() const { return result_; }
  // The message of the error event (or why the tool could not run / was cancelled).
  QString errorMessage() const { return error_; }
  QStringList statusLines() const { return statusLines_; }

  // Widgets (tests, screenshots).
  QLineEdit* pathEdit() const { return path_; }
  QLineEdit* echoPrimeEdit() const { return echoprime_; }
  QPushButton* echoPrimeBrowseButton() const { return echoprimeBrowse_; }
  QCheckBox* activateCheck() const { return activate_; }
  QLabel* kindLabel() const { return kindHint_; }
  QPushButton* importButton() const { return import_; }
  QPushButton* cancelButton() const { return cancel_; }
  QPushButton* closeButton() const { return close_; }
  QProgressBar* busyIndicator() const { return busy_; }
  QPlainTextEdit* statusView() const { return status_; }
  QLabel* resultLabel() const { return resultLabel_; }
  CliJob* job() const { return job_; }

 public Q_SLOTS:
  // Starts the import; false (and the reason in the dialog) when nothing is chosen, the database
  // is unknown or a job is already running.
  bool startImport();
  // Stops the running import (the tool removes its partial bundle; nothing is registered).
  void cancelImport();
  void chooseFolder();
  void chooseFile();
  void chooseEchoPrime();

 Q_SIGNALS:
  // Once per import, after the dialog shows the outcome. ok: the version is registered (new or
  // already imported).
  void importFinished(bool ok, const QString& modelId, const QString& version);
  void logMessage(const QString& text);

 protected:
  void reject() override;  // Esc / close: cancels a running import first

 private:
  void buildUi();
  QWidget* buildInputs();
  void updateInputs();
  void updateButtons();
  void onStdoutLine(const QByteArray& line);
  void onFinished(bool ok, const QString& message);
  void showResult();
  void showError(const QString& message);
  QString nextStepText() const;

  QString dbPath_, cli_, error_;
  QStringList statusLines_, stderrLines_;
  Result result_;
  State state_ = State::Idle;
  bool gotDone_ = false, gotError_ = false, cancelled_ = false;
  CliJob* job_ = nullptr;
  QLineEdit *path_ = nullptr, *echoprime_ = nullptr;
  QPushButton *folderBrowse_ = nullptr, *fileBrowse_ = nullptr, *echoprimeBrowse_ = nullptr;
  QCheckBox* activate_ = nullptr;
  QLabel *kindHint_ = nullptr, *dbLabel_ = nullptr, *resultLabel_ = nullptr;
  QPushButton *import_ = nullptr, *cancel_ = nullptr, *close_ = nullptr;
  QProgressBar* busy_ = nullptr;
  QPlainTextEdit* status_ = nullptr;
};

}  // namespace e2e::ui
