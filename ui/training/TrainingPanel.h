// The training panel: configures an `echo2ecg train` job (task, cohort, hyper-parameters,
// device), runs it as a child process (docs/training-protocol.md) in a run directory, and shows
// its progress live (progress bar, ETA, loss and validation curves, log), the split check, and
// the result (ROC curves, confusion matrix). Cancel = SIGTERM (checkpoint, resumable), Resume =
// same run dir with --resume; an unfinished run is remembered in QSettings across restarts.
// The state lives in the Qt-free e2e::vm::TrainingRun; this widget only drives and shows it.
#pragma once
#include <QProcessEnvironment>
#include <QString>
#include <QWidget>
#include <map>

#include "training/TrainingCharts.h"
#include "viewmodel/training_run.h"

class QCheckBox;
class QComboBox;
class QGroupBox;
class QHBoxLayout;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QLineSeries;
class QChart;
class QChartView;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QValueAxis;

namespace e2e::ui {

class CliJob;

class TrainingPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TrainingPanel(QWidget* parent = nullptr);
  ~TrainingPanel() override;

  void setDatabasePath(const QString& path);
  QString databasePath() const { return dbPath_; }
  // The program started as `PROGRAM train ...`; default: `echo2ecg` next to this executable.
  void setTrainerProgram(const QString& program);
  QString trainerProgram() const;
  static QString defaultTrainerProgram();
  // Where new run dirs go; default: <database dir>/runs.
  void setRunsRoot(const QString& dir) { runsRoot_ = dir; }
  QString runsRoot() const;
  // Extra environment for the child process (tests).
  void setProcessEnvironment(const QProcessEnvironment& env);

  e2e::vm::TrainingConfig config() const;  // from the form (db path and run dir included)
  void setConfig(const e2e::vm::TrainingConfig& c);
  const e2e::vm::TrainingRun& run() const { return run_; }
  e2e::vm::RunState state() const { return run_.state(); }
  QString runDir() const { return runDir_; }
  bool isProcessRunning() const;

  // Widgets the tests look at.
  QLineSeries* stepLossSeries() const { return stepLoss_; }
  QLineSeries* trainLossSeries() const { return trainLoss_; }
  QLineSeries* valLossSeries() const { return valLoss_; }
  QLineSeries* valMetricSeries(const QString& metric) const;
  QList<QLineSeries*> rocSeries() const { return rocCurves_; }
  QTableWidget* confusionTable() const { return confusion_; }
  // The legends under the charts (full series names; the ROC one also lists classes without a curve).
  QLabel* lossLegend() const { return lossLegend_; }
  QLabel* metricLegend() const { return metricLegend_; }
  QLabel* rocLegend() const { return rocLegend_; }
  // The reliability diagram (issue 23): bins before / after temperature scaling of the last result.
  const charts::ReliabilityChart& reliability() const { return reliability_; }
  QValueAxis* lossYAxis() const { return lossY_; }
  QValueAxis* lossXAxis() const { return lossX_; }
  QTableWidget* splitTable() const { return splitTable_; }
  QLabel* statusLabel() const { return status_; }
  QLabel* etaLabel() const { return eta_; }
  QProgressBar* progressBar() const { return progress_; }
  QPlainTextEdit* logView() const { return log_; }
  QLabel* cohortLabel() const { return cohort_; }
  QPushButton* startButton() const { return startBtn_; }
  QPushButton* cancelButton() const { return cancelBtn_; }
  QPushButton* resumeButton() const { return resumeBtn_; }

  // Settings keys of the remembered unfinished run.
  static QString settingsGroup() { return QStringLiteral("training/unfinished"); }

 public Q_SLOTS:
  bool checkSplit();     // --dry-run
  bool startTraining();  // new run dir
  bool cancelTraining(); // SIGTERM
  bool resumeTraining(); // --resume in the same run dir
  // Restores the last unfinished run from QSettings (state Cancelled, resumable); false if none.
  bool restoreUnfinishedRun();
  void refreshCohort();  // counts studies/patients matching the cohort filter

 Q_SIGNALS:
  void stateChanged(int state);  // e2e::vm::RunState
  void modelRegistered(const QString& modelId, const QString& version);
  void runFinished(int state);

 private:
  // Construction helpers (called once, in this order, by the constructor).
  void setupJob();
  QWidget* buildFormPanel();  // left: the job (task, cohort, hyper-parameters, buttons)
  QGroupBox* buildTaskGroup();
  QGroupBox* buildCohortGroup();
  QGroupBox* buildHyperParameterGroup();
  QHBoxLayout* buildRunButtons();
  QWidget* buildProgressPanel();  // right: progress, charts, results, log
  QWidget* buildChartsWidget();
  void buildCharts();
  QGroupBox* buildConfusionGroup();
  void connectSignals();

  bool launch(bool resume, bool dryRun);
  void onJobFinished();  // the child ended, or could not be started
  void applyLine(const QByteArray& line);
  void refreshCurves();
  void showSplit();
  void showResult();
  void updateState();
  void appendLog(const QString& s);
  void rememberRun();
  void forgetRun();
  void onTaskChanged();

  e2e::vm::TrainingRun run_;
  QString dbPath_, program_, runsRoot_, runDir_;
  CliJob* job_ = nullptr;  // runs `PROGRAM train ...`: the protocol on stdout, a log on stderr
  std::size_t warningsShown_ = 0;
  e2e::vm::RunState lastState_ = e2e::vm::RunState::Idle;
  e2e::vm::TrainingConfig runConfig_;  // of the current run

  // form
  QComboBox *task_ = nullptr, *method_ = nullptr, *device_ = nullptr, *labelKey_ = nullptr;
  QLineEdit *filter_ = nullptr, *extra_ = nullptr, *baseModel_ = nullptr, *programEdit_ = nullptr;
  QSpinBox *epochs_ = nullptr, *batch_ = nullptr, *seed_ = nullptr;
  QDoubleSpinBox *lr_ = nullptr, *wd_ = nullptr;
  QLabel* cohort_ = nullptr;
  QTableWidget* splitTable_ = nullptr;
  QPushButton *checkBtn_ = nullptr, *startBtn_ = nullptr, *cancelBtn_ = nullptr, *resumeBtn_ = nullptr;
  // progress
  QLabel *status_ = nullptr, *eta_ = nullptr, *metrics_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QPlainTextEdit* log_ = nullptr;
  // charts
  QChart *lossChart_ = nullptr, *metricChart_ = nullptr, *rocChart_ = nullptr;
  QValueAxis *lossX_ = nullptr, *lossY_ = nullptr, *metricX_ = nullptr, *metricY_ = nullptr;
  QLineSeries *stepLoss_ = nullptr, *trainLoss_ = nullptr, *valLoss_ = nullptr;
  std::map<QString, QLineSeries*> metricSeries_;
  QList<QLineSeries*> rocCurves_;
  QLineSeries* rocChance_ = nullptr;
  QLabel *lossLegend_ = nullptr, *metricLegend_ = nullptr, *rocLegend_ = nullptr;
  charts::ReliabilityChart reliability_;
  QTableWidget* confusion_ = nullptr;
};

}  // namespace e2e::ui
