#include "ai/PredictionPanel.h"

#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include "db/database.h"
#include "jobs/JobRunner.h"

namespace e2e::ui {

namespace {
const char* kLvefClasses[3] = {"<40", "40-49", ">=50"};

QProgressBar* makeBar(QWidget* parent, const QString& name, const QString& color) {
  auto* b = new QProgressBar(parent);
  b->setObjectName(name);
  b->setRange(0, 1000);
  b->setValue(0);
  b->setTextVisible(true);
  b->setFormat(QStringLiteral("–"));
  b->setAlignment(Qt::AlignCenter);
  b->setMinimumHeight(20);
  b->setStyleSheet(QStringLiteral("QProgressBar{border:1px solid #999;border-radius:3px;background:#f4f4f4;}"
                                  "QProgressBar::chunk{background:%1;}")
                       .arg(color));
  return b;
}

void setProb(QProgressBar* b, double p) {
  p = std::clamp(p, 0.0, 1.0);
  b->setValue(static_cast<int>(std::lround(p * 1000)));
  b->setFormat(QStringLiteral("%1 %").arg(p * 100.0, 0, 'f', 1));
}
}  // namespace

const char* PredictionPanel::bannerText() {
  return "Bundled models are trained on SYNTHETIC data \u2014 not for clinical use";
}

PredictionPanel::PredictionPanel(QWidget* parent) : QWidget(parent) {
  banner_ = new QLabel(QString::fromUtf8(bannerText()), this);
  banner_->setObjectName(QStringLiteral("syntheticBanner"));
  banner_->setWordWrap(true);
  banner_->setAlignment(Qt::AlignCenter);
  banner_->setStyleSheet(QStringLiteral("background:#fff3cd;color:#7a4b00;border:1px solid #e0b040;padding:4px;font-weight:bold;"));
  title_ = new QLabel(QStringLiteral("No ECG selected"), this);
  title_->setWordWrap(true);
  auto* lvefBox = new QGroupBox(QStringLiteral("LVEF class (%)"), this);
  auto* lf = new QFormLayout(lvefBox);
  const QString colors[3] = {QStringLiteral("#d9534f"), QStringLiteral("#f0ad4e"), QStringLiteral("#5cb85c")};
  for (int i = 0; i < 3; ++i) {
    lvef_[i] = makeBar(lvefBox, QStringLiteral("lvef_%1").arg(i), colors[i]);
    lf->addRow(QString::fromLatin1(kLvefClasses[i]), lvef_[i]);
  }
  auto* shdBox = new QGroupBox(QStringLiteral("Structural heart disease"), this);
  auto* sf = new QFormLayout(shdBox);
  shd_ = makeBar(shdBox, QStringLiteral("shd"), QStringLiteral("#5b8def"));
  sf->addRow(QStringLiteral("SHD"), shd_);
  model_ = new QLabel(this);
  model_->setWordWrap(true);
  model_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  predict_ = new QPushButton(QStringLiteral("Predict"), this);
  predict_->setEnabled(false);
  auto* v = new QVBoxLayout(this);
  v->addWidget(banner_);
  v->addWidget(title_);
  v->addWidget(lvefBox);
  v->addWidget(shdBox);
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
  for (int i = 0; i < 3; ++i)
    if (cls == QString::fromLatin1(kLvefClasses[i])) return lvef_[i];
  return cls == QStringLiteral("shd") ? shd_ : nullptr;
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

void PredictionPanel::refresh() {
  for (auto* b : lvef_) b->setValue(0), b->setFormat(QStringLiteral("–"));
  shd_->setValue(0);
  shd_->setFormat(QStringLiteral("–"));
  model_->clear();
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
                        .arg(QString::fromStdString(inst->patientName).replace(QLatin1Char('^'), QLatin1Char(' ')).trimmed().toHtmlEscaped(),
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
    if (lvef)
      for (int i = 0; i < 3; ++i) {
        auto it = lvef->probabilities.find(kLvefClasses[i]);
        if (it != lvef->probabilities.end()) setProb(lvef_[i], it->second);
      }
    if (shd) {
      // Binary task: the positive class ("1", "shd", "yes", "true"), else 1 - the negative one.
      double p = -1;
      for (const char* k : {"1", "shd", "yes", "true", "positive"})
        if (auto it = shd->probabilities.find(k); it != shd->probabilities.end()) p = it->second;
      if (p < 0)
        for (const char* k : {"no_shd", "0", "no", "false", "negative"})
          if (auto it = shd->probabilities.find(k); it != shd->probabilities.end()) p = 1.0 - it->second;
      if (p < 0 && shd->probabilities.size() == 1) p = shd->probabilities.begin()->second;
      if (p >= 0) setProb(shd_, p);
    }
    QStringList models;
    for (const auto* p : {lvef, shd}) {
      if (!p) continue;
      const QString line = QStringLiteral("%1 v%2 (weights %3) — %4")
                               .arg(QString::fromStdString(p->modelId), QString::fromStdString(p->modelVersion),
                                    QString::fromStdString(p->weightsHash).left(12), QString::fromStdString(p->createdAt));
      if (!models.contains(line)) models << line;
    }
    model_->setText(models.isEmpty() ? QString() : QStringLiteral("Model: ") + models.join(QStringLiteral("\n")));
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
