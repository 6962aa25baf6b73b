#include "app/AboutDialog.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QLabel>
#include <QVBoxLayout>
#include <QtGlobal>

#include "common/build_info.h"
#include "db/database.h"
#include "jobs/JobRunner.h"

namespace e2e::ui {

namespace {
QString q(const char* s) { return QString::fromUtf8(s); }
QString orUnknown(const char* s) { return s && *s ? q(s) : QStringLiteral("unknown"); }
}  // namespace

AboutDialog::AboutDialog(QWidget* parent, const QString& cli) : QDialog(parent) {
  setWindowTitle(QStringLiteral("About Echo2ECG Workstation"));
  buildLines_ << QStringLiteral("Echo2ECG Workstation %1").arg(q(build::projectVersion()))
              << QStringLiteral("Git revision: %1 (%2 build)").arg(q(build::gitRevision()), q(build::buildType()));
  QString qt = orUnknown(build::qtVersion());
  if (qt != q(qVersion())) qt += QStringLiteral(" (running %1)").arg(q(qVersion()));
  buildLines_ << QStringLiteral("Qt: %1").arg(qt) << QStringLiteral("VTK: %1").arg(orUnknown(build::vtkVersion()))
              << QStringLiteral("DCMTK: %1").arg(orUnknown(build::dcmtkVersion()))
              << QStringLiteral("SQLite: %1").arg(q(db::Database::sqliteVersion()));
  modelLines_ << QStringLiteral("libtorch: checking (echo2ecg --version)…") << QStringLiteral("CUDA: checking…");

  label_ = new QLabel(this);
  label_->setObjectName(QStringLiteral("aboutText"));
  label_->setTextFormat(Qt::PlainText);
  label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* v = new QVBoxLayout(this);
  v->addWidget(label_);
  v->addWidget(buttons);
  refresh();

  // The model jobs run in the echo2ecg CLI: ask it what libtorch it has and whether CUDA is usable.
  job_ = new CliJob(this);
  job_->setChannels(CliJob::Channels::Merged);
  job_->setProcessEnvironment(QProcessEnvironment::systemEnvironment());
  connect(job_, &CliJob::finished, this, &AboutDialog::onCliFinished);
  job_->start({QStringLiteral("--version")}, cli);  // a tool that is not found reports through finished()
}

AboutDialog::~AboutDialog() = default;  // CliJob's destructor stops a child still running

QString AboutDialog::text() const { return label_->text(); }

void AboutDialog::onCliFinished(bool ok, const QString& message) {
  modelLines_.clear();
  if (ok) {
    for (const QString& l : job_->output().split(QLatin1Char('\n'))) {
      const QString t = l.trimmed();
      if (t.startsWith(QStringLiteral("libtorch:")) || t.startsWith(QStringLiteral("CUDA:"))) modelLines_ << t;
    }
    if (modelLines_.isEmpty()) modelLines_ << QStringLiteral("libtorch/CUDA: unknown (echo2ecg --version did not say)");
  } else {
    modelLines_ << QStringLiteral("libtorch/CUDA: model jobs not available (%1)").arg(message);
  }
  known_ = true;
  refresh();
  Q_EMIT modelInfoChanged();
}

void AboutDialog::refresh() {
  QStringList all = buildLines_;
  all << modelLines_ << QString()
      << QStringLiteral("Open-source cardiology workstation: 12-lead ECG and echo viewing, Echo2ECG models.")
      << QStringLiteral("Not for primary diagnosis without clinical validation.");
  label_->setText(all.join(QLatin1Char('\n')));
}

}  // namespace e2e::ui
