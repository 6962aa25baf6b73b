#include "ai/PredictionPanel.h"

#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include <QGridLayout>
#include <cmath>

#include "common/person_name.h"
#include "db/database.h"
#include "jobs/JobRunner.h"
#include "pipeline/embedding_model.h"
#include "viewmodel/prediction_view.h"

namespace e2e::ui {

namespace {
QString u8(const std::string& s) { return QString::fromStdString(s); }

// The bar's fill: its class colour, or grey when the prediction is out of distribution (a style
// sheet colour would otherwise win over the disabled look).
void setBarColor(QProgressBar* b, const QString& color) {
  b->setStyleSheet(QStringLiteral("QProgressBar{border:1px solid #999;border-radius:3px;background:#f4f4f4;}"
                                  "QProgressBar::chunk{background:%1;}")
                       .arg(color));
}

QProgressBar* makeBar(QWidget* parent, const QString& name, const QString& color) {
  auto* b = new QProgressBar(parent);
  b->setObjectName(name);
  b->setRange(0, 1000);
  b->setValue(0);
  b->setTextVisible(true);
  b->setFormat(QStringLiteral("–"));
  b->setAlignment(Qt::AlignCenter);
  b->setMinimumHeight(20);
  b->setToolTip(QStringLiteral("Probability of this class"));
  b->setProperty("chunkColor", color);
  setBarColor(b, color);
  return b;
}

void setProb(QProgressBar* b, double p) {
  p = std::clamp(p, 0.0, 1.0);
  b->setValue(static_cast<int>(std::lround(p * 1000)));
  b->setFormat(u8(vm::probabilityText(p)));
}

// The class name beside its bar; the predicted class bold with a marker.
QString classText(const QString& name, bool predicted) {
  return predicted ? QStringLiteral("\u25B6 <b>%1</b> <small>(predicted)</small>").arg(name.toHtmlEscaped())
                   : QStringLiteral("&nbsp;&nbsp;&nbsp;%1").arg(name.toHtmlEscaped());
}

const char* kWarnStyle = "background:#fff3cd;color:#7a4b00;border:1px solid #e0b040;padding:4px;font-weight:bold;";
const char* kInfoStyle = "background:#eef3fb;color:#1d3557;border:1px solid #9fb7dd;padding:4px;";
}  // namespace

const char* PredictionPanel::bannerText() {
  return "Not for clinical use \u2014 the bundled models are trained on SYNTHETIC data";
}

PredictionPanel::PredictionPanel(QWidget* parent) : QWidget(parent) {
  banner_ = new QLabel(QString::fromUtf8(bannerText()), this);
  banner_->setObjectName(QStringLiteral("syntheticBanner"));
  banner_->setWordWrap(true);
  banner_->setTextFormat(Qt::PlainText);
  banner_->setAlignment(Qt::AlignCenter);
  banner_->setStyleSheet(QString::fromLatin1(kWarnStyle));
  synthetic_ = new QLabel(QString::fromUtf8(vm::kSyntheticMarker), this);
  synthetic_->setObjectName(QStringLiteral("syntheticMarker"));
  synthetic_->setAlignment(Qt::AlignCenter);
  synthetic_->setWordWrap(true);
  synthetic_->setStyleSheet(QStringLiteral("background:#f8d7da;color:#842029;border:1px solid #d9534f;padding:3px;font-weight:bold;"));
  synthetic_->setVisible(false);
  title_ = new QLabel(QStringLiteral("No ECG selected"), this);
  title_->setWordWrap(true);
  auto* v = new QVBoxLayout(this);
  v->addWidget(banner_);
  v->addWidget(synthetic_);
  v->addWidget(title_);
  const QString colors[] = {QStringLiteral("#d9534f"), QStringLiteral("#f0ad4e"), QStringLiteral("#5cb85c"),
                            QStringLiteral("#9aa5b1"), QStringLiteral("#5b8def")};
  int colorIndex = 0;
  for (const char* task : {"lvef", "shd"}) {
    auto* box = new QGroupBox(u8(vm::taskTitle(task)), this);
    box->setObjectName(QStringLiteral("%1Box").arg(QLatin1String(task)));
    auto* grid = new QGridLayout(box);
    grid->setColumnStretch(1, 1);
    int i = 0;
    for (const auto& c : vm::taskClasses(task)) {
      ClassRow r{QLatin1String(task), u8(c.key), u8(c.name), new QLabel(box), nullptr};
      r.label->setTextFormat(Qt::RichText);
      r.label->setText(classText(r.name, false));
      // Object names: "lvef_0".."lvef_2"; the SHD bars "no_shd" and "shd".
      const QString objName = r.task == QStringLiteral("lvef") ? QStringLiteral("lvef_%1").arg(i) : r.key;
      r.bar = makeBar(box, objName, colors[colorIndex++ % 5]);
      grid->addWidget(r.label, i, 0);
      grid->addWidget(r.bar, i, 1);
      rows_.push_back(r);
      ++i;
    }
    auto* status = new QLabel(box);
    status->setObjectName(QStringLiteral("%1Status").arg(QLatin1String(task)));
    status->setWordWrap(true);
    status->setTextFormat(Qt::PlainText);
    grid->addWidget(status, i, 0, 1, 2);
    status_[QLatin1String(task)] = status;
  }
  for (auto* box : findChildren<QGroupBox*>()) v->addWidget(box);
  model_ = new QLabel(this);
  model_->setWordWrap(true);
  model_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  predict_ = new QPushButton(QStringLiteral("Predict"), this);
  predict_->setEnabled(false);
  v->addWidget(model_);
  v->addWidget(message_);
  v->addWidget(predict_);
  v->addStretch(1);
  job_ = new CliJob(this);
  connect(predict_, &QPushButton::clicked, this, &PredictionPanel::predict);
  connect(job_, &CliJob::line, this, &PredictionPanel::logMessage);
  connect(job_, &CliJob::finished, this, [this](bool ok, const QString& msg) {
    predict_->setEnabled(instance_ > 0);
    Q_EMIT logMessage(msg);
    refresh();
    if (!ok) showMessage(msg, true);
    else showMessage(QStringLiteral("Prediction updated."));
  });
}

QProgressBar* PredictionPanel::bar(const QString& cls) const {
  for (const auto& r : rows_)
    if (r.key == cls) return r.bar;
  return nullptr;
}

QLabel* PredictionPanel::classLabel(const QString& cls) const {
  for (const auto& r : rows_)
    if (r.key == cls) return r.label;
  return nullptr;
}

QLabel* PredictionPanel::taskStatus(const QString& task) const {
  auto it = status_.find(task);
  return it == status_.end() ? nullptr : it->second;
}

bool PredictionPanel::taskGreyed(const QString& task) const {
  auto it = look_.find(task);
  return it != look_.end() && it->second == 1;
}

bool PredictionPanel::taskDeclined(const QString& task) const {
  auto it = look_.find(task);
  return it != look_.end() && it->second == 2;
}

// Greyed: the bars disabled and drawn grey; hidden: no bars at all (declined).
void PredictionPanel::setTaskLook(const QString& task, bool greyed, bool hidden) {
  look_[task] = hidden ? 2 : (greyed ? 1 : 0);
  for (auto& r : rows_) {
    if (r.task != task) continue;
    r.bar->setVisible(!hidden);
    r.label->setVisible(!hidden);
    r.bar->setEnabled(!greyed);
    r.bar->setProperty("greyed", greyed);
    setBarColor(r.bar, greyed ? QStringLiteral("#c8c8c8") : r.bar->property("chunkColor").toString());
    r.bar->setToolTip(greyed ? QStringLiteral("Out of distribution: not a confident probability")
                             : QStringLiteral("Probability of this class"));
    if (greyed && r.bar->format() != QStringLiteral("–")) r.bar->setFormat(QStringLiteral("(%1)").arg(r.bar->format()));
  }
}

// The quality and OOD line of a task; greyed bars for an out-of-distribution prediction.
void PredictionPanel::showTrust(const QString& task, const db::PredictionRow& row) {
  vm::PredictionFlags f{row.probabilities, row.calibratedProbabilities, row.qualityScore, row.qualityUsable,
                        row.qualityReason, row.oodScore, row.ood};
  const auto v = vm::predictionTrust(f);
  if (v.showBars) showTask(task, v.shown, v.markPredicted);
  setTaskLook(task, v.greyed, !v.showBars);
  auto* st = status_[task];
  st->setText(u8(v.status + "\n" + v.quality + (v.calibrated ? " \u2014 calibrated probabilities" : "")));
  const char* style = v.state == vm::TrustState::InDistribution ? "color:#1d3557;"
                      : v.state == vm::TrustState::Unknown    ? "color:#7a4b00;"
                                                              : "color:#555;background:#e9e9e9;padding:3px;";
  st->setStyleSheet(QString::fromLatin1(style));
}

QString PredictionPanel::predictedClass(const QString& task) const {
  auto it = predicted_.find(task);
  return it == predicted_.end() ? QString() : it->second;
}

void PredictionPanel::setDatabasePath(const QString& path) {
  dbPath_ = path;
  instance_ = 0;
  refresh();
}

void PredictionPanel::setInstance(std::int64_t id) {
  instance_ = id;
  refresh();
}

std::int64_t PredictionPanel::findInstance(const QString& dbPath, const QString& uid, const QString& path) {
  if (dbPath.isEmpty() || !QFileInfo::exists(dbPath)) return 0;
  db::Database d(dbPath.toStdString(), db::Database::Mode::ReadOnly);
  if (!uid.isEmpty())
    if (auto r = d.instanceByUid(uid.toStdString())) return r->id;
  if (!path.isEmpty()) {
    const QString abs = QFileInfo(path).absoluteFilePath();
    db::Filter f;
    f.text = QFileInfo(path).fileName().toStdString();
    for (const auto& r : d.listInstances(f))
      if (QFileInfo(QString::fromStdString(r.path)).absoluteFilePath() == abs) return r.id;
  }
  return 0;
}

std::int64_t PredictionPanel::setInstanceByUid(const QString& uid, const QString& path) {
  std::int64_t id = 0;
  try {
    id = findInstance(dbPath_, uid, path);
  } catch (const std::exception& e) {
    Q_EMIT logMessage(QStringLiteral("Prediction panel: ") + QString::fromStdString(e.what()));
  }
  setInstance(id);
  if (!id) showMessage(QStringLiteral("This ECG is not in the study database (import it to predict)."));
  return id;
}

void PredictionPanel::showMessage(const QString& text, bool error) {
  message_->setText(text);
  message_->setStyleSheet(error ? QStringLiteral("color:#b00020;") : QString());
}

void PredictionPanel::clearBars() {
  for (auto& [task, st] : status_) {
    st->clear();
    setTaskLook(task, false, false);
  }
  for (auto& r : rows_) {
    r.bar->setValue(0);
    r.bar->setFormat(QStringLiteral("–"));
    r.label->setText(classText(r.name, false));
  }
  predicted_.clear();
}

// One task's bars from its stored probabilities, the argmax class marked.
void PredictionPanel::showTask(const QString& task, const std::map<std::string, double>& probs, bool markPredicted) {
  std::map<std::string, double> p = probs;
  if (task == QStringLiteral("shd"))  // a binary task stored with one class, or other key names
    if (auto pos = vm::shdProbability(probs)) p = {{"shd", *pos}, {"no_shd", 1.0 - *pos}};
  std::vector<ClassRow*> rows;
  std::vector<double> values;
  for (auto& r : rows_) {
    if (r.task != task) continue;
    auto it = p.find(r.key.toStdString());
    rows.push_back(&r);
    values.push_back(it == p.end() ? std::nan("") : it->second);
    if (it != p.end()) setProb(r.bar, it->second);
  }
  const int best = vm::argmax(values);
  if (best < 0 || !markPredicted) return;
  rows[static_cast<std::size_t>(best)]->label->setText(classText(rows[static_cast<std::size_t>(best)]->name, true));
  predicted_[task] = rows[static_cast<std::size_t>(best)]->key;
}

// The banner names the model(s) of the shown predictions: id, version, source, and whether they
// were trained on synthetic data; the model label adds the weights and the time.
void PredictionPanel::showModels(db::Database& d, const std::vector<const db::PredictionRow*>& preds) {
  const auto registry = d.listModels();
  const std::optional<bool> bundled = vm::bundleSynthetic(pipeline::findModelsDir());
  QStringList names, details;
  bool synthetic = false, unknown = false;
  for (const auto* p : preds) {
    std::optional<std::string> card;
    for (const auto& m : registry)
      if (m.modelId == p->modelId && m.version == p->modelVersion) card = m.cardJson;
    const auto prov = vm::modelProvenance(p->modelId, p->modelVersion, card, bundled);
    const QString name = u8(prov.describe());
    if (!names.contains(name)) names << name;
    synthetic = synthetic || prov.synthetic.value_or(false);
    unknown = unknown || !prov.synthetic.has_value();
    const QString line = QStringLiteral("%1 v%2 (weights %3) — %4")
                             .arg(u8(p->modelId), u8(p->modelVersion), u8(p->weightsHash).left(12), u8(p->createdAt));
    if (!details.contains(line)) details << line;
  }
  model_->setText(details.isEmpty() ? QString() : QStringLiteral("Model: ") + details.join(QStringLiteral("\n")));
  synthetic_->setVisible(synthetic);
  if (names.isEmpty()) {
    banner_->setText(QString::fromUtf8(bannerText()));
    banner_->setStyleSheet(QString::fromLatin1(kWarnStyle));
    return;
  }
  QString text = QStringLiteral("Model used: ") + names.join(QStringLiteral("; "));
  if (!synthetic)
    text += unknown ? QStringLiteral("\nTraining data unknown — not for clinical use")
                    : QStringLiteral("\nNot clinically validated — not for clinical use");
  banner_->setText(text);
  banner_->setStyleSheet(QString::fromLatin1(synthetic || unknown ? kWarnStyle : kInfoStyle));
}

void PredictionPanel::refresh() {
  clearBars();
  model_->clear();
  synthetic_->setVisible(false);
  banner_->setText(QString::fromUtf8(bannerText()));
  banner_->setStyleSheet(QString::fromLatin1(kWarnStyle));
  showMessage(QString());
  predict_->setEnabled(instance_ > 0 && !job_->isRunning());
  if (instance_ <= 0) {
    title_->setText(QStringLiteral("No ECG selected"));
    return;
  }
  try {
    db::Database d(dbPath_.toStdString(), db::Database::Mode::ReadOnly);
    const auto inst = d.instanceById(instance_);
    if (!inst) {
      title_->setText(QStringLiteral("Instance %1 not found").arg(instance_));
      return;
    }
    title_->setText(QStringLiteral("<b>%1</b> (%2) — %3, %4")
                        .arg(QString::fromStdString(formatPersonName(inst->patientName)).toHtmlEscaped(),
                             QString::fromStdString(inst->patientId).toHtmlEscaped(),
                             QString::fromStdString(inst->studyDate), QFileInfo(QString::fromStdString(inst->path)).fileName().toHtmlEscaped()));
    // The latest prediction of each task (highest row id).
    const db::PredictionRow* lvef = nullptr;
    const db::PredictionRow* shd = nullptr;
    const auto preds = d.predictionsFor(instance_);
    for (const auto& p : preds) {
      if (p.task == "lvef" && (!lvef || p.id > lvef->id)) lvef = &p;
      if (p.task == "shd" && (!shd || p.id > shd->id)) shd = &p;
    }
    std::vector<const db::PredictionRow*> shown;
    if (lvef) showTrust(QStringLiteral("lvef"), *lvef), shown.push_back(lvef);
    if (shd) showTrust(QStringLiteral("shd"), *shd), shown.push_back(shd);
    showModels(d, shown);
    if (!lvef && !shd) showMessage(QStringLiteral("No predictions stored for this ECG yet — press Predict."));
  } catch (const std::exception& e) {
    showMessage(QString::fromStdString(e.what()), true);
    Q_EMIT logMessage(QStringLiteral("Prediction panel: ") + QString::fromStdString(e.what()));
  }
}

void PredictionPanel::predict() {
  if (instance_ <= 0 || job_->isRunning()) return;
  predict_->setEnabled(false);
  showMessage(QStringLiteral("Running echo2ecg predict…"));
  job_->start({QStringLiteral("predict"), QStringLiteral("--db"), dbPath_, QString::number(instance_)}, cli_);
}

}  // namespace e2e::ui
