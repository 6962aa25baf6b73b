#include "training/ModelImportDialog.h"

#include <QCheckBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "jobs/JobRunner.h"
#include "viewmodel/training_protocol.h"

namespace e2e::ui {

namespace {

QString str(const vm::JsonValue& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? QString::fromStdString(it->get<std::string>()) : QString();
}

bool flag(const vm::JsonValue& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_boolean() && it->get<bool>();
}

QString shortHash(const QString& h) { return h.size() > 12 ? h.left(12) + QStringLiteral("…") : h; }

// What PATH looks like from the file system alone (the tool decides on import): a hint for the
// user and whether an EchoPrime encoder may go with it (an OTiS checkpoint or an official run).
struct PathHint {
  QString text;
  bool echoPrime = false;
};

PathHint hintFor(const QString& path) {
  if (path.trimmed().isEmpty())
    return {ModelImportDialog::tr("Choose a run folder, a bundle folder or a checkpoint file (.pth / .pt / .ckpt)."), false};
  const QFileInfo fi(path);
  if (!fi.exists()) return {ModelImportDialog::tr("Not found: %1").arg(path), false};
  if (fi.isDir()) {
    const QDir d(path);
    if (d.exists(QStringLiteral("bundle.json"))) return {ModelImportDialog::tr("A model bundle folder (bundle.json)."), false};
    if (d.exists(QStringLiteral("checkpoints")) || d.exists(QStringLiteral("ecg_multimodal.ckpt")))
      return {ModelImportDialog::tr("An official Echo2ECG run folder (checkpoints/, config.yaml)."), true};
    return {ModelImportDialog::tr("A folder with neither bundle.json nor checkpoints/: the import will say what is "
                                  "missing."),
            false};
  }
  const QString name = fi.fileName().toLower(), suffix = fi.suffix().toLower();
  if (name.contains(QStringLiteral("echo_prime")) || name.contains(QStringLiteral("echoprime")))
    return {ModelImportDialog::tr("EchoPrime's video encoder."), false};
  if (suffix == QStringLiteral("pth") || suffix == QStringLiteral("ckpt"))
    return {ModelImportDialog::tr("A checkpoint (OTiS; its content is checked on import)."), true};
  if (suffix == QStringLiteral("pt"))
    return {ModelImportDialog::tr("A PyTorch checkpoint (OTiS or EchoPrime; its content is checked on import)."), true};
  return {ModelImportDialog::tr("Not a .pth / .pt / .ckpt file: the import will say whether it can be used."), false};
}

}  // namespace

ModelImportDialog::ModelImportDialog(const QString& dbPath, QWidget* parent) : QDialog(parent), dbPath_(dbPath) {
  setObjectName(QStringLiteral("ModelImportDialog"));
  setWindowTitle(tr("Import model weights"));
  job_ = new CliJob(this);
  job_->setChannels(CliJob::Channels::Separate);
  job_->setStopTimeout(5000);  // closed while running: SIGTERM (the tool cleans up), then kill
  connect(job_, &CliJob::stdoutLine, this, &ModelImportDialog::onStdoutLine);
  connect(job_, &CliJob::stderrLine, this, [this](const QString& l) { stderrLines_ << l; });
  connect(job_, &CliJob::finished, this, &ModelImportDialog::onFinished);
  buildUi();
  updateInputs();
  updateButtons();
  resize(720, 520);
}

ModelImportDialog::~ModelImportDialog() = default;

QWidget* ModelImportDialog::buildInputs() {
  auto* w = new QWidget;
  auto* form = new QFormLayout(w);
  path_ = new QLineEdit;
  path_->setObjectName(QStringLiteral("modelImportPath"));
  path_->setPlaceholderText(tr("run folder, bundle folder, .pth / .pt / .ckpt"));
  folderBrowse_ = new QPushButton(tr("Folder…"));
  folderBrowse_->setToolTip(tr("An official Echo2ECG run folder (checkpoints/ + config.yaml) or a model bundle "
                               "folder (bundle.json)"));
  fileBrowse_ = new QPushButton(tr("File…"));
  fileBrowse_->setToolTip(tr("An OTiS checkpoint (.pth) or EchoPrime's echo_prime_encoder.pt"));
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_, 1);
  pathRow->addWidget(folderBrowse_);
  pathRow->addWidget(fileBrowse_);
  kindHint_ = new QLabel;
  kindHint_->setWordWrap(true);
  echoprime_ = new QLineEdit;
  echoprime_->setObjectName(QStringLiteral("modelImportEchoPrime"));
  echoprime_->setPlaceholderText(tr("optional: echo_prime_encoder.pt for the echo side"));
  echoprimeBrowse_ = new QPushButton(tr("Browse…"));
  auto* epRow = new QHBoxLayout;
  epRow->addWidget(echoprime_, 1);
  epRow->addWidget(echoprimeBrowse_);
  activate_ = new QCheckBox(tr("Make it the active version"));
  activate_->setToolTip(tr("Use the imported version for new predictions of its model"));
  dbLabel_ = new QLabel(dbPath_.isEmpty() ? tr("no database") : dbPath_);
  dbLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow(tr("Weights"), pathRow);
  form->addRow(QString(), kindHint_);
  form->addRow(tr("EchoPrime encoder"), epRow);
  form->addRow(QString(), activate_);
  form->addRow(tr("Database"), dbLabel_);
  connect(path_, &QLineEdit::textChanged, this, &ModelImportDialog::updateInputs);
  connect(folderBrowse_, &QPushButton::clicked, this, &ModelImportDialog::chooseFolder);
  connect(fileBrowse_, &QPushButton::clicked, this, &ModelImportDialog::chooseFile);
  connect(echoprimeBrowse_, &QPushButton::clicked, this, &ModelImportDialog::chooseEchoPrime);
  return w;
}

void ModelImportDialog::buildUi() {
  status_ = new QPlainTextEdit;
  status_->setObjectName(QStringLiteral("modelImportStatus"));
  status_->setReadOnly(true);
  status_->setMaximumBlockCount(2000);
  status_->setPlaceholderText(tr("What the import does"));
  busy_ = new QProgressBar;
  busy_->setObjectName(QStringLiteral("modelImportBusy"));
  busy_->setRange(0, 0);  // busy indicator: the tool reports steps, not fractions
  busy_->setVisible(false);
  resultLabel_ = new QLabel;
  resultLabel_->setObjectName(QStringLiteral("modelImportResult"));
  resultLabel_->setWordWrap(true);
  resultLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  resultLabel_->setTextFormat(Qt::PlainText);
  import_ = new QPushButton(tr("Import"));
  import_->setDefault(true);
  cancel_ = new QPushButton(tr("Cancel"));
  cancel_->setToolTip(tr("Stop the import (nothing is registered)"));
  close_ = new QPushButton(tr("Close"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(busy_, 1);
  buttons->addStretch();
  buttons->addWidget(import_);
  buttons->addWidget(cancel_);
  buttons->addWidget(close_);
  auto* l = new QVBoxLayout(this);
  l->addWidget(buildInputs());
  l->addWidget(status_, 1);
  l->addWidget(resultLabel_);
  l->addLayout(buttons);
  connect(import_, &QPushButton::clicked, this, &ModelImportDialog::startImport);
  connect(cancel_, &QPushButton::clicked, this, &ModelImportDialog::cancelImport);
  connect(close_, &QPushButton::clicked, this, &ModelImportDialog::reject);
}

void ModelImportDialog::setSourcePath(const QString& path) { path_->setText(path); }
QString ModelImportDialog::sourcePath() const { return path_->text().trimmed(); }
void ModelImportDialog::setEchoPrimePath(const QString& path) { echoprime_->setText(path); }
QString ModelImportDialog::echoPrimePath() const { return echoprime_->isEnabled() ? echoprime_->text().trimmed() : QString(); }
void ModelImportDialog::setActivate(bool on) { activate_->setChecked(on); }
bool ModelImportDialog::isRunning() const { return job_->isRunning(); }

void ModelImportDialog::updateInputs() {
  const PathHint h = hintFor(sourcePath());
  kindHint_->setText(h.text);
  const bool editable = !isRunning();
  echoprime_->setEnabled(h.echoPrime && editable);
  echoprimeBrowse_->setEnabled(h.echoPrime && editable);
  echoprime_->setToolTip(h.echoPrime ? tr("EchoPrime's video encoder as the echo side (an OTiS checkpoint or a "
                                          "run without its echo checkpoint needs it)")
                                     : tr("Only for an OTiS checkpoint or an official Echo2ECG run"));
}

void ModelImportDialog::updateButtons() {
  const bool running = isRunning();
  import_->setEnabled(!running && !sourcePath().isEmpty());
  cancel_->setEnabled(running);
  busy_->setVisible(running);
  for (QWidget* w : {static_cast<QWidget*>(path_), static_cast<QWidget*>(folderBrowse_),
                     static_cast<QWidget*>(fileBrowse_), static_cast<QWidget*>(activate_)})
    w->setEnabled(!running);
  updateInputs();
}

void ModelImportDialog::chooseFolder() {
  const QString d = QFileDialog::getExistingDirectory(this, tr("Run folder or model bundle folder"), sourcePath());
  if (!d.isEmpty()) setSourcePath(d);
  updateButtons();
}

void ModelImportDialog::chooseFile() {
  const QString f = QFileDialog::getOpenFileName(this, tr("Checkpoint"), sourcePath(),
                                                 tr("Checkpoints (*.pth *.pt *.ckpt);;All files (*)"));
  if (!f.isEmpty()) setSourcePath(f);
  updateButtons();
}

void ModelImportDialog::chooseEchoPrime() {
  const QString f = QFileDialog::getOpenFileName(this, tr("EchoPrime encoder"), echoprime_->text(),
                                                 tr("EchoPrime encoder (*.pt *.pth);;All files (*)"));
  if (!f.isEmpty()) setEchoPrimePath(f);
}

QStringList ModelImportDialog::commandArguments() const {
  QStringList a{QStringLiteral("models"), QStringLiteral("import"), sourcePath()};
  if (!echoPrimePath().isEmpty()) a << QStringLiteral("--echoprime") << echoPrimePath();
  if (activate_->isChecked()) a << QStringLiteral("--activate");
  a << QStringLiteral("--json") << QStringLiteral("--db") << dbPath_;
  return a;
}

bool ModelImportDialog::startImport() {
  if (isRunning()) return false;
  result_ = Result();
  error_.clear();
  statusLines_.clear();
  stderrLines_.clear();
  gotDone_ = gotError_ = cancelled_ = false;
  status_->clear();
  resultLabel_->clear();
  resultLabel_->setStyleSheet(QString());
  if (sourcePath().isEmpty()) {
    showError(tr("Choose the weights to import: a run folder, a bundle folder or a checkpoint file."));
    return false;
  }
  if (dbPath_.isEmpty()) {
    showError(tr("No study database is open: open or create one first (File > Open database…)."));
    return false;
  }
  state_ = State::Running;
  status_->appendPlainText(tr("Importing %1 into %2…").arg(sourcePath(), dbPath_));
  const bool started = job_->start(commandArguments(), cli_);
  updateButtons();
  return started;  // a tool that cannot be found or started is reported through finished()
}

void ModelImportDialog::cancelImport() {
  if (!isRunning()) return;
  cancelled_ = true;
  cancel_->setEnabled(false);
  status_->appendPlainText(tr("Cancelling…"));
  job_->cancel();
}

void ModelImportDialog::reject() {
  if (isRunning()) cancelImport();
  QDialog::reject();
}

void ModelImportDialog::onStdoutLine(const QByteArray& line) {
  if (line.trimmed().isEmpty()) return;
  vm::JsonValue o;
  if (!vm::parseJson(line.toStdString(), o) || !o.is_object()) {
    status_->appendPlainText(QString::fromUtf8(line));  // not the protocol: shown as it is
    return;
  }
  const QString ev = str(o, "event");
  if (ev == QStringLiteral("status")) {
    statusLines_ << str(o, "message");
    status_->appendPlainText(statusLines_.back());
  } else if (ev == QStringLiteral("error")) {
    gotError_ = true;
    error_ = str(o, "message");
  } else if (ev == QStringLiteral("done")) {
    gotDone_ = true;
    result_.kind = str(o, "kind");
    result_.modelId = str(o, "model_id");
    result_.version = str(o, "version");
    result_.role = str(o, "role");
    result_.bundleDir = str(o, "bundle_dir");
    result_.weightsHash = str(o, "weights_hash");
    result_.alreadyImported = flag(o, "already_imported");
    result_.activated = flag(o, "activated");
    if (const auto s = o.find("sources"); s != o.end() && s->is_array())
      for (const auto& e : *s)
        if (e.is_object()) result_.sources.push_back({str(e, "file"), str(e, "sha256")});
  }
}

void ModelImportDialog::onFinished(bool ok, const QString& message) {
  if (ok && gotDone_) {
    state_ = State::Done;
    showResult();
  } else if (cancelled_) {
    state_ = State::Cancelled;
    error_ = tr("Import cancelled; nothing was registered.");
    showError(error_);
  } else if (gotError_) {
    showError(error_);
  } else if (job_->failedToStart()) {
    showError(tr("The echo2ecg tool could not be started: %1").arg(job_->errorString()));
  } else {
    // No error event (a usage error, a crash): the tool's own last words.
    const QString detail = stderrLines_.isEmpty() ? message : stderrLines_.back();
    showError(ok ? tr("The tool ended without a result: %1").arg(detail) : detail);
  }
  updateButtons();
  const bool success = state_ == State::Done;
  Q_EMIT logMessage(success ? tr("Model import: %1 %2 (%3)")
                                  .arg(result_.modelId, result_.version,
                                       result_.alreadyImported ? tr("already imported") : tr("new version"))
                            : tr("Model import failed: %1").arg(error_));
  Q_EMIT importFinished(success, result_.modelId, result_.version);
}

void ModelImportDialog::showError(const QString& message) {
  if (state_ != State::Cancelled) state_ = State::Failed;
  error_ = message;
  status_->appendPlainText(tr("Error: %1").arg(message));
  resultLabel_->setStyleSheet(QStringLiteral("color: #b00020;"));
  QString text = state_ == State::Cancelled ? message : tr("Import failed: %1").arg(message);
  if (message.contains(QStringLiteral("--echoprime")) && hintFor(sourcePath()).echoPrime && echoprime_->text().trimmed().isEmpty())
    text += QLatin1Char('\n') + tr("Choose EchoPrime's encoder in the \"EchoPrime encoder\" field and import again.");
  resultLabel_->setText(text);
}

QString ModelImportDialog::nextStepText() const {
  const QString ref = result_.modelId + QLatin1Char(':') + result_.version;
  if (result_.role == QStringLiteral("ecg-encoder"))
    return tr("An ECG encoder (the echo side is untrained): pretrain Echo2ECG from it in the Training panel "
              "(task \"Contrastive pretraining\", base model %1).")
        .arg(ref);
  if (result_.role == QStringLiteral("video-encoder"))
    return tr("A video encoder: pretrain Echo2ECG with it as the echo side in the Training panel "
              "(command line: echo2ecg train --task pretrain --video-model %1).")
        .arg(ref);
  if (!result_.activated)
    return tr("To use it, activate it in Models > Model registry (an embedding model re-embeds the database).");
  return tr("It is the active version: new predictions use it; activating it in Models > Model registry "
            "computes its embeddings for retrieval.");
}

void ModelImportDialog::showResult() {
  QStringList lines;
  lines << (result_.alreadyImported
                ? tr("Already imported: %1 version %2 (%3) holds these same source files; nothing changed.")
                : tr("Imported as a new version: %1 version %2 (%3)."))
               .arg(result_.modelId, result_.version, result_.kind);
  lines << tr("Active: %1    Weights: %2").arg(result_.activated ? tr("yes") : tr("no"), shortHash(result_.weightsHash));
  if (!result_.bundleDir.isEmpty()) lines << tr("Bundle: %1").arg(result_.bundleDir);
  lines << tr("Sources:");
  for (const auto& s : result_.sources)
    lines << QStringLiteral("  %1  (SHA-256 %2)").arg(QFileInfo(s.file).fileName(), shortHash(s.sha256));
  lines << nextStepText();
  resultLabel_->setStyleSheet(QString());
  resultLabel_->setText(lines.join(QLatin1Char('\n')));
  QStringList tips;
  for (const auto& s : result_.sources) tips << s.file + QStringLiteral("\n  ") + s.sha256;
  resultLabel_->setToolTip(tips.join(QLatin1Char('\n')));
  status_->appendPlainText(lines.front());
}

}  // namespace e2e::ui
