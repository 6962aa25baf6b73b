#include "training/TrainingPanel.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "db/database.h"
#include "jobs/JobRunner.h"
#include "training/TrainingCharts.h"
#include "viewmodel/training_result_view.h"

namespace e2e::ui {

using e2e::vm::RunState;

namespace {

QString q(const std::string& s) { return QString::fromStdString(s); }

using charts::addSeries;
using charts::fitAxes;
using charts::makeChart;
using charts::points;

}  // namespace

TrainingPanel::TrainingPanel(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("TrainingPanel"));
  setupJob();
  QWidget* formScroll = buildFormPanel();   // left: the job
  QWidget* right = buildProgressPanel();    // right: progress and results

  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(formScroll);
  split->addWidget(right);
  split->setStretchFactor(1, 1);
  auto* top = new QVBoxLayout(this);
  top->setContentsMargins(2, 2, 2, 2);
  top->addWidget(split);

  connectSignals();
  onTaskChanged();
  updateState();
}

void TrainingPanel::setupJob() {
  job_ = new CliJob(this);
  job_->setChannels(CliJob::Channels::Separate);
  job_->setProcessEnvironment(QProcessEnvironment::systemEnvironment());
  job_->setStopTimeout(10000);  // on destruction: SIGTERM (checkpoint), then kill after 10 s
  connect(job_, &CliJob::stdoutLine, this, &TrainingPanel::applyLine);
  connect(job_, &CliJob::stderrLine, this, &TrainingPanel::appendLog);
  connect(job_, &CliJob::finished, this, [this] { onJobFinished(); });
}

QGroupBox* TrainingPanel::buildTaskGroup() {
  auto* taskBox = new QGroupBox(tr("Task"));
  auto* tf = new QFormLayout(taskBox);
  task_ = new QComboBox;
  task_->addItem(tr("Contrastive pretraining (ECG \u2194 echo)"), QStringLiteral("pretrain"));
  task_->addItem(tr("LVEF class (<40, 40\u201349, \u226550 %)"), QStringLiteral("lvef"));
  task_->addItem(tr("Structural heart disease (SHD)"), QStringLiteral("shd"));
  task_->addItem(tr("Echo video encoder (report measurements)"), QStringLiteral("echo-pretrain"));
  task_->addItem(tr("ECG-only self-supervised encoder (baseline)"), QStringLiteral("ecg-pretrain"));
  task_->setCurrentIndex(1);
  method_ = new QComboBox;
  method_->addItem(tr("Linear head (frozen encoder)"), QStringLiteral("linear"));
  method_->addItem(tr("kNN (k = 5, no training)"), QStringLiteral("knn"));
  method_->addItem(tr("Full fine-tuning"), QStringLiteral("full"));
  baseModel_ = new QLineEdit;
  baseModel_->setPlaceholderText(tr("MODEL_ID:VERSION (default: active pretrained)"));
  tf->addRow(tr("Task"), task_);
  tf->addRow(tr("Method"), method_);
  tf->addRow(tr("Base model"), baseModel_);
  return taskBox;
}

QGroupBox* TrainingPanel::buildCohortGroup() {
  auto* cohortBox = new QGroupBox(tr("Cohort"));
  auto* cf = new QFormLayout(cohortBox);
  filter_ = new QLineEdit;
  filter_->setPlaceholderText(tr("patient name or ID contains..."));
  labelKey_ = new QComboBox;
  labelKey_->setEditable(true);
  labelKey_->addItems({QString(), QStringLiteral("lvef_class"), QStringLiteral("shd"), QStringLiteral("lvef_percent")});
  cohort_ = new QLabel(tr("no database"));
  checkBtn_ = new QPushButton(tr("Check split"));
  checkBtn_->setToolTip(tr("Runs the job with --dry-run and shows the patient split"));
  splitTable_ = new QTableWidget(3, 2);
  splitTable_->setVerticalHeaderLabels({tr("train"), tr("val"), tr("test")});
  splitTable_->setHorizontalHeaderLabels({tr("patients"), tr("class counts")});
  splitTable_->horizontalHeader()->setStretchLastSection(true);
  splitTable_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  splitTable_->setMaximumHeight(110);
  cf->addRow(tr("Filter"), filter_);
  cf->addRow(tr("Label present"), labelKey_);
  cf->addRow(tr("Matches"), cohort_);
  cf->addRow(checkBtn_);
  cf->addRow(splitTable_);
  return cohortBox;
}

QGroupBox* TrainingPanel::buildHyperParameterGroup() {
  auto* hpBox = new QGroupBox(tr("Hyper-parameters"));
  auto* hf = new QFormLayout(hpBox);
  epochs_ = new QSpinBox;
  epochs_->setRange(1, 10000);
  epochs_->setValue(10);
  batch_ = new QSpinBox;
  batch_->setRange(1, 8192);
  batch_->setValue(64);
  batch_->setToolTip(tr("Reference recipe: 256 on a GPU; 64 keeps CPU memory modest"));
  lr_ = new QDoubleSpinBox;
  lr_->setDecimals(6);
  lr_->setRange(1e-6, 1.0);
  lr_->setSingleStep(1e-4);
  lr_->setValue(5e-4);
  wd_ = new QDoubleSpinBox;
  wd_->setDecimals(9);
  wd_->setRange(0, 1.0);
  wd_->setSingleStep(1e-7);
  wd_->setValue(1e-7);
  seed_ = new QSpinBox;
  seed_->setRange(0, 1 << 30);
  seed_->setValue(0);
  device_ = new QComboBox;
  device_->addItem(tr("Auto"), QStringLiteral("auto"));
  device_->addItem(tr("CPU"), QStringLiteral("cpu"));
  device_->addItem(tr("CUDA"), QStringLiteral("cuda"));
  hf->addRow(tr("Epochs"), epochs_);
  hf->addRow(tr("Batch size"), batch_);
  hf->addRow(tr("Learning rate"), lr_);
  hf->addRow(tr("Weight decay"), wd_);
  hf->addRow(tr("Seed"), seed_);
  hf->addRow(tr("Device"), device_);
  extra_ = new QLineEdit;
  extra_->setPlaceholderText(tr("extra arguments, e.g. --ecg-depth 1"));
  hf->addRow(tr("Advanced"), extra_);
  programEdit_ = new QLineEdit(defaultTrainerProgram());
  programEdit_->setPlaceholderText(tr("echo2ecg not found: give its path"));
  programEdit_->setToolTip(tr("The echo2ecg executable that runs the job"));
  hf->addRow(tr("Trainer"), programEdit_);
  return hpBox;
}

QHBoxLayout* TrainingPanel::buildRunButtons() {
  auto* buttons = new QHBoxLayout;
  startBtn_ = new QPushButton(tr("Start"));
  cancelBtn_ = new QPushButton(tr("Cancel"));
  resumeBtn_ = new QPushButton(tr("Resume"));
  buttons->addWidget(startBtn_);
  buttons->addWidget(cancelBtn_);
  buttons->addWidget(resumeBtn_);
  return buttons;
}

QWidget* TrainingPanel::buildFormPanel() {
  auto* form = new QWidget;
  auto* fl = new QVBoxLayout(form);
  fl->addWidget(buildTaskGroup());
  fl->addWidget(buildCohortGroup());
  fl->addWidget(buildHyperParameterGroup());
  fl->addLayout(buildRunButtons());
  fl->addStretch(1);

  auto* formScroll = new QScrollArea;
  formScroll->setWidget(form);
  formScroll->setWidgetResizable(true);
  formScroll->setMinimumWidth(330);
  return formScroll;
}

void TrainingPanel::buildCharts() {
  lossChart_ = makeChart(tr("Loss"), lossX_, lossY_, tr("epoch"), tr("loss"));
  stepLoss_ = addSeries(lossChart_, lossX_, lossY_, tr("train (per step)"));
  trainLoss_ = addSeries(lossChart_, lossX_, lossY_, tr("train (epoch)"));
  valLoss_ = addSeries(lossChart_, lossX_, lossY_, tr("validation"));
  stepLoss_->setOpacity(0.55);
  metricChart_ = makeChart(tr("Validation metrics"), metricX_, metricY_, tr("epoch"), QString());
  QValueAxis *rx = nullptr, *ry = nullptr;
  rocChart_ = makeChart(tr("ROC (test split)"), rx, ry, tr("false positive rate"), tr("true positive rate"));
  auto* diag = rocChance_ = addSeries(rocChart_, rx, ry, tr("chance"));
  diag->append(0, 0);
  diag->append(1, 1);
  QPen dp(Qt::gray);
  dp.setStyle(Qt::DashLine);
  diag->setPen(dp);
}

QGroupBox* TrainingPanel::buildConfusionGroup() {
  auto* cmBox = new QGroupBox(tr("Confusion matrix (test; rows: true, columns: predicted)"));
  auto* cml = new QVBoxLayout(cmBox);
  confusion_ = new QTableWidget(0, 0);
  confusion_->setObjectName(QStringLiteral("confusionMatrix"));
  confusion_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  confusion_->setItemDelegate(new charts::ConfusionDelegate(confusion_));
  confusion_->setMinimumSize(200, 140);
  metrics_ = new QLabel;
  metrics_->setWordWrap(true);
  cml->addWidget(confusion_, 1);
  cml->addWidget(metrics_);
  return cmBox;
}

QWidget* TrainingPanel::buildChartsWidget() {
  buildCharts();
  auto* charts = new QGridLayout;
  charts->addWidget(charts::chartWithLegend(lossChart_, lossLegend_), 0, 0);
  charts->addWidget(charts::chartWithLegend(metricChart_, metricLegend_), 0, 1);
  charts->addWidget(charts::chartWithLegend(rocChart_, rocLegend_), 1, 0);
  charts->addWidget(buildConfusionGroup(), 1, 1);
  reliability_ = charts::makeReliabilityChart();
  charts->addWidget(reliability_.widget, 2, 0);
  charts::updateLegend(lossLegend_, {stepLoss_, trainLoss_, valLoss_});
  charts::updateLegend(rocLegend_, {rocChance_});
  auto* chartsW = new QWidget;
  chartsW->setLayout(charts);
  return chartsW;
}

QWidget* TrainingPanel::buildProgressPanel() {
  auto* right = new QWidget;
  auto* rl = new QVBoxLayout(right);
  status_ = new QLabel(tr("Ready"));
  status_->setObjectName(QStringLiteral("trainingStatus"));
  status_->setWordWrap(true);
  QFont bf = status_->font();
  bf.setBold(true);
  status_->setFont(bf);
  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setFormat(QStringLiteral("%p%"));
  eta_ = new QLabel(tr("ETA --"));
  auto* pl = new QHBoxLayout;
  pl->addWidget(progress_, 1);
  pl->addWidget(eta_);
  rl->addWidget(status_);
  rl->addLayout(pl);

  QWidget* chartsW = buildChartsWidget();

  log_ = new QPlainTextEdit;
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(5000);
  log_->setPlaceholderText(tr("Job log"));
  auto* vs = new QSplitter(Qt::Vertical);
  vs->addWidget(chartsW);
  vs->addWidget(log_);
  vs->setStretchFactor(0, 4);
  vs->setStretchFactor(1, 1);
  rl->addWidget(vs, 1);
  return right;
}

void TrainingPanel::connectSignals() {
  connect(task_, &QComboBox::currentIndexChanged, this, [this] { onTaskChanged(); });
  connect(filter_, &QLineEdit::editingFinished, this, &TrainingPanel::refreshCohort);
  connect(labelKey_, &QComboBox::currentTextChanged, this, [this] { refreshCohort(); });
  connect(checkBtn_, &QPushButton::clicked, this, &TrainingPanel::checkSplit);
  connect(startBtn_, &QPushButton::clicked, this, &TrainingPanel::startTraining);
  connect(cancelBtn_, &QPushButton::clicked, this, &TrainingPanel::cancelTraining);
  connect(resumeBtn_, &QPushButton::clicked, this, &TrainingPanel::resumeTraining);
}

TrainingPanel::~TrainingPanel() {
  // Never leave an orphan job behind: ask it to checkpoint, then make sure it is gone (CliJob's
  // destructor, with the stop timeout set above), while this panel is still whole.
  job_->disconnect(this);
  delete job_;
}

void TrainingPanel::setProcessEnvironment(const QProcessEnvironment& env) { job_->setProcessEnvironment(env); }

QString TrainingPanel::defaultTrainerProgram() { return echo2ecgPath(); }

void TrainingPanel::setTrainerProgram(const QString& program) { programEdit_->setText(program); }

QString TrainingPanel::trainerProgram() const {
  const QString p = programEdit_->text().trimmed();
  return p.isEmpty() ? defaultTrainerProgram() : p;
}

void TrainingPanel::setDatabasePath(const QString& path) {
  // Absolute: the job runs with the run dir as its working directory.
  dbPath_ = path.isEmpty() ? path : QFileInfo(path).absoluteFilePath();
  refreshCohort();
}

QString TrainingPanel::runsRoot() const {
  if (!runsRoot_.isEmpty()) return runsRoot_;
  if (dbPath_.isEmpty()) return QDir::temp().filePath(QStringLiteral("echo2ecg-runs"));
  return QFileInfo(dbPath_).absoluteDir().filePath(QStringLiteral("runs"));
}

bool TrainingPanel::isProcessRunning() const { return job_->isRunning(); }

void TrainingPanel::onTaskChanged() {
  const QString task = task_->currentData().toString();
  method_->setEnabled(!e2e::vm::isEncoderTask(task.toStdString()));
  labelKey_->setCurrentText(q(e2e::vm::labelKeyForTask(task.toStdString())));
  refreshCohort();
}

e2e::vm::TrainingConfig TrainingPanel::config() const {
  e2e::vm::TrainingConfig c;
  c.db = dbPath_.toStdString();
  c.task = task_->currentData().toString().toStdString();
  c.method = method_->currentData().toString().toStdString();
  c.runDir = runDir_.toStdString();
  c.epochs = epochs_->value();
  c.batchSize = batch_->value();
  c.seed = seed_->value();
  c.lr = lr_->value();
  c.weightDecay = wd_->value();
  c.device = device_->currentData().toString().toStdString();
  c.baseModel = baseModel_->text().trimmed().toStdString();
  c.filterText = filter_->text().trimmed().toStdString();
  c.labelKey = labelKey_->currentText().trimmed().toStdString();
  for (const auto& x : QProcess::splitCommand(extra_->text())) c.extraArgs.push_back(x.toStdString());
  return c;
}

void TrainingPanel::setConfig(const e2e::vm::TrainingConfig& c) {
  if (!c.db.empty()) dbPath_ = q(c.db);
  if (int i = task_->findData(q(c.task)); i >= 0) task_->setCurrentIndex(i);
  if (int i = method_->findData(q(c.method)); i >= 0) method_->setCurrentIndex(i);
  if (int i = device_->findData(q(c.device)); i >= 0) device_->setCurrentIndex(i);
  epochs_->setValue(c.epochs);
  batch_->setValue(c.batchSize);
  seed_->setValue(c.seed);
  lr_->setValue(c.lr);
  wd_->setValue(c.weightDecay);
  baseModel_->setText(q(c.baseModel));
  filter_->setText(q(c.filterText));
  labelKey_->setCurrentText(q(c.labelKey));
  QStringList extra;
  for (const auto& x : c.extraArgs) extra << q(x);
  extra_->setText(extra.join(QLatin1Char(' ')));
  if (!c.runDir.empty()) runDir_ = q(c.runDir);
  refreshCohort();
}

void TrainingPanel::refreshCohort() {
  if (dbPath_.isEmpty() || !QFileInfo::exists(dbPath_)) {
    cohort_->setText(tr("no database"));
    return;
  }
  try {
    e2e::db::Database db(dbPath_.toStdString(), e2e::db::Database::Mode::ReadOnly);
    e2e::db::Filter f;
    f.text = filter_->text().trimmed().toStdString();
    f.labelKey = labelKey_->currentText().trimmed().toStdString();
    const auto studies = db.listStudies(f).size();
    const auto patients = db.listPatients(f).size();
    cohort_->setText(tr("%1 patient(s), %2 stud(ies)").arg(patients).arg(studies));
  } catch (const std::exception& e) {
    cohort_->setText(tr("database error: %1").arg(QString::fromUtf8(e.what())));
  }
}

bool TrainingPanel::checkSplit() {
  if (isProcessRunning() || !run_.check()) return false;
  splitTable_->clearContents();
  return launch(false, true);
}

bool TrainingPanel::startTraining() {
  if (isProcessRunning()) return false;
  if (dbPath_.isEmpty()) {
    appendLog(tr("No database: open or import studies first."));
    return false;
  }
  const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"));
  const QString base = QDir(runsRoot()).filePath(q(e2e::vm::runDirName(task_->currentData().toString().toStdString(),
                                                                        stamp.toStdString())));
  QString dir = base;
  for (int k = 2; QFileInfo::exists(dir); ++k) dir = base + QStringLiteral("-%1").arg(k);
  if (!run_.start()) return false;
  runDir_ = dir;
  QDir().mkpath(runsRoot());
  log_->clear();
  warningsShown_ = 0;
  for (auto* s : rocCurves_) {
    rocChart_->removeSeries(s);
    delete s;
  }
  rocCurves_.clear();
  charts::updateLegend(rocLegend_, {rocChance_});
  confusion_->clear();
  confusion_->setRowCount(0);
  confusion_->setColumnCount(0);
  charts::showReliability(reliability_, vm::ReliabilityView{});
  metrics_->clear();
  refreshCurves();
  return launch(false, false);
}

bool TrainingPanel::resumeTraining() {
  if (isProcessRunning() || runDir_.isEmpty() || !run_.resume()) return false;
  warningsShown_ = run_.warnings().size();
  refreshCurves();
  return launch(true, false);
}

bool TrainingPanel::cancelTraining() {
  if (!isProcessRunning() || !run_.cancel()) return false;
  appendLog(tr("Cancelling: asking the job to write a checkpoint..."));
  job_->cancel();  // SIGTERM: the job checkpoints and exits 130
  updateState();
  return true;
}

bool TrainingPanel::launch(bool resume, bool dryRun) {
  e2e::vm::TrainingConfig c = config();
  if (dryRun) {
    // The dry run needs a run dir argument but must not touch a real one.
    c.runDir = QDir(runsRoot()).filePath(QStringLiteral("split-check")).toStdString();
  } else if (resume) {
    c = runConfig_.db.empty() ? c : runConfig_;
    c.runDir = runDir_.toStdString();
  } else {
    c.runDir = runDir_.toStdString();
  }
  // Refused before anything starts: no trainer, or a database the job could not write.
  const QString program = trainerProgram();
  QString refused;
  if (program.isEmpty()) {
    refused = tr("cannot start the trainer: the echo2ecg command-line tool was not found (set the Trainer "
                 "field, $E2E_CLI or the tools/echo2ecg setting)");
  } else if (!dbPath_.isEmpty() && QFileInfo::exists(dbPath_)) {
    const auto access = e2e::db::Database::writeAccess(dbPath_.toStdString());
    if (!access.writable)
      refused = tr("DB is read-only: %1 (%2); training needs a database it can write").arg(dbPath_, q(access.reason));
  }
  if (!refused.isEmpty()) {
    appendLog(refused);
    run_.failedToStart(refused.toStdString());
    updateState();
    Q_EMIT runFinished(static_cast<int>(run_.state()));
    return false;
  }
  if (!dryRun) runConfig_ = c;
  QStringList args;
  for (const auto& a : e2e::vm::trainArguments(c, resume, dryRun)) args << q(a);

  if (!dryRun) QDir().mkpath(runDir_);
  job_->setWorkingDirectory(dryRun ? QString() : runDir_);
  appendLog(QStringLiteral("$ %1 %2").arg(program, args.join(QLatin1Char(' '))));
  if (!dryRun) rememberRun();
  job_->start(args, program);
  updateState();
  return true;
}

void TrainingPanel::applyLine(const QByteArray& line) {
  if (line.trimmed().isEmpty()) return;
  const bool ok = run_.applyLine(line.toStdString());
  while (warningsShown_ < run_.warnings().size()) appendLog(QStringLiteral("warning: ") + q(run_.warnings()[warningsShown_++]));
  if (!ok) return;
  const auto r = e2e::vm::parseProgressLine(line.toStdString());
  using K = e2e::vm::EventKind;
  switch (r.event.kind) {
    case K::Start:
      showSplit();
      if (r.event.resumed) appendLog(tr("Resumed at epoch %1").arg(r.event.startEpoch + 1));
      break;
    case K::Epoch:
    case K::Step: refreshCurves(); break;
    case K::Checkpoint:
      appendLog(tr("Checkpoint after epoch %1: %2").arg(r.event.epoch + 1).arg(q(r.event.path)));
      rememberRun();
      break;
    case K::Done: showResult(); break;
    case K::Cancelled: appendLog(tr("Cancelled; checkpoint %1").arg(q(r.event.path))); break;
    case K::Error: appendLog(tr("Job error: %1").arg(q(r.event.message))); break;
  }
  updateState();
}

void TrainingPanel::onJobFinished() {
  if (job_->failedToStart()) {
    // Not a crash: the program could not be executed (missing, not executable, ...).
    const QString why = tr("cannot start %1: %2").arg(trainerProgram(), job_->errorString());
    appendLog(tr("Cannot start %1: %2").arg(trainerProgram(), job_->errorString()));
    run_.failedToStart(why.toStdString());
    forgetRun();
    updateState();
    Q_EMIT runFinished(static_cast<int>(run_.state()));
    return;
  }
  // CliJob has delivered every stdout line (the last one even without '\n') and stderr line.
  const bool wasDry = run_.state() == RunState::Checking;
  run_.finished(job_->exitCode(), job_->crashed());
  appendLog(job_->crashed() ? tr("Job crashed.") : tr("Job exited with code %1.").arg(job_->exitCode()));
  const RunState s = run_.state();
  if (s == RunState::Done) {
    forgetRun();
    if (run_.hasDone()) Q_EMIT modelRegistered(q(run_.doneEvent().modelId), q(run_.doneEvent().version));
  } else if (!wasDry && run_.resumable()) {
    rememberRun();
  } else if (!wasDry) {
    forgetRun();
  }
  updateState();
  Q_EMIT runFinished(static_cast<int>(s));
}

void TrainingPanel::refreshCurves() {
  const int spe = run_.startEvent().stepsPerEpoch;
  // x in epochs for all curves (per-step losses at fractional epochs).
  QList<QPointF> sp;
  for (const auto& p : run_.stepLoss()) sp.append(QPointF(spe > 0 ? p.x / spe : p.x, p.y));
  stepLoss_->replace(sp);
  trainLoss_->replace(points(run_.trainLoss()));
  valLoss_->replace(points(run_.valLoss()));
  for (const auto& [name, pts] : run_.valMetrics()) {
    const QString n = q(name);
    auto it = metricSeries_.find(n);
    if (it == metricSeries_.end()) it = metricSeries_.emplace(n, addSeries(metricChart_, metricX_, metricY_, n)).first;
    it->second->replace(points(pts));
  }
  for (auto& [name, s] : metricSeries_)
    if (!run_.valMetrics().count(name.toStdString())) s->clear();
  const double epochs = std::max(1, run_.startEvent().totalEpochs > 0 ? run_.startEvent().totalEpochs : epochs_->value());
  fitAxes(lossX_, lossY_, {stepLoss_, trainLoss_, valLoss_}, epochs, false);
  QList<QLineSeries*> ms;
  for (auto& kv : metricSeries_) ms << kv.second;
  fitAxes(metricX_, metricY_, ms, epochs, true);
  charts::updateLegend(lossLegend_, {stepLoss_, trainLoss_, valLoss_});
  charts::updateLegend(metricLegend_, ms);
}

void TrainingPanel::showSplit() {
  const auto& st = run_.startEvent();
  const char* names[] = {"train", "val", "test"};
  for (int r = 0; r < 3; ++r) {
    auto it = st.split.find(names[r]);
    QString counts, patients;
    if (it != st.split.end()) {
      patients = QString::number(it->second.patients);
      QStringList parts;
      for (std::size_t c = 0; c < it->second.classCounts.size(); ++c)
        parts << (c < st.classes.size() ? q(st.classes[c]) + QStringLiteral(": ") : QString()) +
                     QString::number(it->second.classCounts[c]);
      counts = parts.join(QStringLiteral(", "));
    }
    splitTable_->setItem(r, 0, new QTableWidgetItem(patients));
    splitTable_->setItem(r, 1, new QTableWidgetItem(counts));
  }
  if (st.synthetic) appendLog(tr("Note: the cohort contains SYNTHETIC data."));
}

void TrainingPanel::showResult() {
  const auto& d = run_.doneEvent();
  for (auto* s : rocCurves_) {
    rocChart_->removeSeries(s);
    delete s;
  }
  rocCurves_.clear();
  QValueAxis* rx = qobject_cast<QValueAxis*>(rocChart_->axes(Qt::Horizontal).value(0));
  QValueAxis* ry = qobject_cast<QValueAxis*>(rocChart_->axes(Qt::Vertical).value(0));
  const auto& classes = d.classes.empty() ? run_.startEvent().classes : d.classes;
  // A ROC curve only where the test split has positives and negatives of the class.
  std::vector<std::string> curveClasses;
  for (const auto& c : d.roc) curveClasses.push_back(c.cls);
  std::vector<int> testCounts;
  if (auto t = run_.startEvent().split.find("test"); t != run_.startEvent().split.end()) testCounts = t->second.classCounts;
  const auto avail = vm::rocClasses(curveClasses, classes, d.confusion, testCounts);
  QStringList notes;
  for (std::size_t i = 0; i < d.roc.size(); ++i) {
    const auto& c = d.roc[i];
    if (!avail[i].defined) {
      notes << QStringLiteral("%1: %2").arg(c.cls.empty() ? tr("ROC") : q(c.cls), q(avail[i].reason));
      continue;
    }
    // Legend labels are rich text: "<40" must be escaped.
    QString name = c.cls.empty() ? tr("ROC") : q(c.cls).toHtmlEscaped();
    auto auc = d.testMetrics.find("auroc");
    if (c.cls.empty() && auc != d.testMetrics.end()) name += QStringLiteral(" (AUC %1)").arg(auc->second, 0, 'f', 3);
    auto* s = addSeries(rocChart_, rx, ry, name);
    for (std::size_t k = 0; k < c.fpr.size(); ++k) s->append(c.fpr[k], c.tpr[k]);
    rocCurves_ << s;
  }
  for (const QString& n : notes) appendLog(tr("ROC of %1").arg(n));
  charts::updateLegend(rocLegend_, QList<QLineSeries*>{rocChance_} + rocCurves_, notes);
  charts::fillConfusion(confusion_, classes, d.confusion);
  charts::showReliability(reliability_, vm::reliabilityView(d.calibrationJson));
  QStringList ms;
  for (const auto& [k, v] : d.testMetrics) {
    QString s = QStringLiteral("%1 %2").arg(q(k)).arg(v, 0, 'f', 3);
    if (auto ci = d.testIntervals.find(k); ci != d.testIntervals.end())
      s += QStringLiteral(" [%1, %2]").arg(ci->second.first, 0, 'f', 3).arg(ci->second.second, 0, 'f', 3);
    ms << s;
  }
  metrics_->setText(tr("Test: %1\nModel %2 v%3 (weights %4)")
                        .arg(ms.join(QStringLiteral(", ")), q(d.modelId), q(d.version), q(d.weightsHash.substr(0, 12))));
  appendLog(tr("Registered model %1 version %2").arg(q(d.modelId), q(d.version)));
}

void TrainingPanel::updateState() {
  const RunState s = run_.state();
  const bool busy = isProcessRunning() || s == RunState::Running || s == RunState::Checking || s == RunState::Cancelling;
  startBtn_->setEnabled(!busy);
  checkBtn_->setEnabled(!busy);
  cancelBtn_->setEnabled(busy && s != RunState::Cancelling);
  resumeBtn_->setEnabled(!busy && run_.resumable() && !runDir_.isEmpty());
  progress_->setValue(static_cast<int>(std::lround(run_.progress() * 1000)));
  eta_->setText(tr("ETA %1").arg(q(e2e::vm::TrainingRun::formatDuration(run_.etaSeconds()))));
  QString text = q(run_.statusText());
  if (s == RunState::Failed) text += tr(" \u2014 the viewer is unaffected; see the log.");
  status_->setText(text);
  QPalette pal = status_->palette();
  pal.setColor(QPalette::WindowText, s == RunState::Failed      ? QColor(180, 0, 0)
                                     : s == RunState::Cancelled ? QColor(160, 100, 0)
                                     : s == RunState::Done      ? QColor(0, 120, 0)
                                                                : palette().color(QPalette::WindowText));
  status_->setPalette(pal);
  if (s != lastState_) {
    lastState_ = s;
    Q_EMIT stateChanged(static_cast<int>(s));
  }
}

void TrainingPanel::appendLog(const QString& s) { log_->appendPlainText(s); }

void TrainingPanel::rememberRun() {
  QSettings st;
  st.beginGroup(settingsGroup());
  st.setValue(QStringLiteral("runDir"), runDir_);
  st.setValue(QStringLiteral("db"), q(runConfig_.db));
  st.setValue(QStringLiteral("task"), q(runConfig_.task));
  st.setValue(QStringLiteral("method"), q(runConfig_.method));
  st.setValue(QStringLiteral("epochs"), runConfig_.epochs);
  st.setValue(QStringLiteral("batchSize"), runConfig_.batchSize);
  st.setValue(QStringLiteral("seed"), runConfig_.seed);
  st.setValue(QStringLiteral("lr"), runConfig_.lr);
  st.setValue(QStringLiteral("weightDecay"), runConfig_.weightDecay);
  st.setValue(QStringLiteral("device"), q(runConfig_.device));
  st.setValue(QStringLiteral("baseModel"), q(runConfig_.baseModel));
  st.setValue(QStringLiteral("filterText"), q(runConfig_.filterText));
  st.setValue(QStringLiteral("labelKey"), q(runConfig_.labelKey));
  st.setValue(QStringLiteral("program"), trainerProgram());
  QStringList extra;
  for (const auto& x : runConfig_.extraArgs) extra << q(x);
  st.setValue(QStringLiteral("extraArgs"), extra);
  st.setValue(QStringLiteral("checkpointEpoch"), run_.lastCheckpointEpoch());
  st.endGroup();
  st.sync();
}

void TrainingPanel::forgetRun() {
  QSettings st;
  st.remove(settingsGroup());
  st.sync();
}

bool TrainingPanel::restoreUnfinishedRun() {
  if (isProcessRunning()) return false;
  QSettings st;
  st.beginGroup(settingsGroup());
  const QString dir = st.value(QStringLiteral("runDir")).toString();
  if (dir.isEmpty()) return false;
  const QString ckpt = QDir(dir).filePath(QStringLiteral("last.ckpt"));
  if (!QFileInfo::exists(ckpt)) {
    st.endGroup();
    forgetRun();
    return false;
  }
  e2e::vm::TrainingConfig c;
  c.db = st.value(QStringLiteral("db")).toString().toStdString();
  c.task = st.value(QStringLiteral("task")).toString().toStdString();
  c.method = st.value(QStringLiteral("method")).toString().toStdString();
  c.epochs = st.value(QStringLiteral("epochs"), 10).toInt();
  c.batchSize = st.value(QStringLiteral("batchSize"), 64).toInt();
  c.seed = st.value(QStringLiteral("seed"), 0).toInt();
  c.lr = st.value(QStringLiteral("lr"), 5e-4).toDouble();
  c.weightDecay = st.value(QStringLiteral("weightDecay"), 1e-7).toDouble();
  c.device = st.value(QStringLiteral("device"), QStringLiteral("auto")).toString().toStdString();
  c.baseModel = st.value(QStringLiteral("baseModel")).toString().toStdString();
  c.filterText = st.value(QStringLiteral("filterText")).toString().toStdString();
  c.labelKey = st.value(QStringLiteral("labelKey")).toString().toStdString();
  for (const auto& x : st.value(QStringLiteral("extraArgs")).toStringList()) c.extraArgs.push_back(x.toStdString());
  c.runDir = dir.toStdString();
  const QString program = st.value(QStringLiteral("program")).toString();
  const int epoch = st.value(QStringLiteral("checkpointEpoch"), -1).toInt();
  st.endGroup();
  if (!run_.restoreCancelled(epoch, ckpt.toStdString())) return false;
  setConfig(c);
  runConfig_ = c;
  runDir_ = dir;
  // A remembered trainer that is gone (e.g. an older default path) gives way to the current default.
  if (!program.isEmpty() && QFileInfo(program).isExecutable()) programEdit_->setText(program);
  appendLog(tr("Unfinished run found: %1 \u2014 press Resume to continue it.").arg(dir));
  refreshCurves();
  updateState();
  return true;
}

QLineSeries* TrainingPanel::valMetricSeries(const QString& metric) const {
  auto it = metricSeries_.find(metric);
  return it == metricSeries_.end() ? nullptr : it->second;
}

}  // namespace e2e::ui
