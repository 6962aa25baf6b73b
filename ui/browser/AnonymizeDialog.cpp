#include "browser/AnonymizeDialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <stdexcept>

namespace e2e::ui {

AnonymizeDialog::AnonymizeDialog(const QStringList& paths, QWidget* parent) : QDialog(parent), paths_(paths) {
  setObjectName(QStringLiteral("anonymizeDialog"));
  setWindowTitle(QStringLiteral("Export anonymised"));
  folder_ = new QLineEdit(this);
  folder_->setObjectName(QStringLiteral("anonymizeFolder"));
  auto* browse = new QPushButton(QStringLiteral("Browse…"), this);
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString d = QFileDialog::getExistingDirectory(this, QStringLiteral("Folder for the anonymised objects"), folder_->text());
    if (!d.isEmpty()) folder_->setText(d);
  });
  auto* folderRow = new QHBoxLayout;
  folderRow->addWidget(folder_, 1);
  folderRow->addWidget(browse);
  shift_ = new QCheckBox(QStringLiteral("Shift all dates by"), this);
  shift_->setObjectName(QStringLiteral("anonymizeShift"));
  shift_->setToolTip(QStringLiteral("Every date moves by the same number of days, so intervals between studies stay "
                                    "exact (PS3.15 Modified Dates Option). Off: dates are emptied or removed."));
  days_ = new QSpinBox(this);
  days_->setObjectName(QStringLiteral("anonymizeDays"));
  days_->setRange(-io::kMaxDateShiftDays, io::kMaxDateShiftDays);
  days_->setValue(-365);
  days_->setSuffix(QStringLiteral(" days"));
  days_->setEnabled(false);
  connect(shift_, &QCheckBox::toggled, days_, &QWidget::setEnabled);
  auto* shiftRow = new QHBoxLayout;
  shiftRow->addWidget(shift_);
  shiftRow->addWidget(days_);
  shiftRow->addStretch(1);
  auto* form = new QFormLayout;
  form->addRow(QStringLiteral("Output folder"), folderRow);
  form->addRow(QStringLiteral("Dates"), shiftRow);
  result_ = new QLabel(QStringLiteral("%1 object(s). Patient name and ID become a pseudonym (ANON^n); identifying "
                                      "attributes are removed and every UID is replaced (PS3.15 Basic Profile). "
                                      "Only DICOM objects can be exported.")
                           .arg(paths.size()),
                       this);
  result_->setObjectName(QStringLiteral("anonymizeResult"));
  result_->setWordWrap(true);
  auto* bb = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  auto* go = bb->addButton(QStringLiteral("Export"), QDialogButtonBox::AcceptRole);
  connect(bb, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(go, &QPushButton::clicked, this, [this] {
    if (outputFolder().isEmpty()) {
      QMessageBox::warning(this, windowTitle(), QStringLiteral("Choose an output folder first."));
      return;
    }
    try {
      const io::AnonymizeReport r = run();
      QMessageBox::information(this, windowTitle(), reportText(r));
      if (r.errors.empty()) accept();
    } catch (const std::exception& e) {
      QMessageBox::warning(this, windowTitle(), QString::fromStdString(e.what()));
    }
  });
  auto* lay = new QVBoxLayout(this);
  lay->addLayout(form);
  lay->addWidget(result_);
  lay->addWidget(bb);
}

QString AnonymizeDialog::outputFolder() const { return folder_->text().trimmed(); }
void AnonymizeDialog::setOutputFolder(const QString& dir) { folder_->setText(dir); }

std::optional<int> AnonymizeDialog::shiftDays() const {
  return shift_->isChecked() ? std::optional<int>(days_->value()) : std::nullopt;
}

void AnonymizeDialog::setShiftDays(std::optional<int> days) {
  shift_->setChecked(days.has_value());
  if (days) days_->setValue(*days);
}

io::AnonymizeReport AnonymizeDialog::run() {
  io::AnonymizeOptions opt;
  opt.outDir = outputFolder().toStdString();
  opt.shiftDays = shiftDays();
  std::vector<std::string> files;
  for (const QString& p : paths_) files.push_back(p.toStdString());
  QApplication::setOverrideCursor(Qt::WaitCursor);
  io::AnonymizeReport r;
  try {
    r = io::anonymizeFiles(files, opt);
  } catch (...) {
    QApplication::restoreOverrideCursor();
    throw;
  }
  QApplication::restoreOverrideCursor();
  result_->setText(reportText(r));
  return r;
}

QString AnonymizeDialog::reportText(const io::AnonymizeReport& r) {
  QString s = QStringLiteral("%1 written, %2 warning(s), %3 not exported.").arg(r.written.size()).arg(r.warnings.size()).arg(r.errors.size());
  for (const auto& w : r.warnings) s += QStringLiteral("\nWarning: ") + QString::fromStdString(w);
  for (const auto& e : r.errors) s += QStringLiteral("\n") + QString::fromStdString(e);
  return s;
}

}  // namespace e2e::ui
