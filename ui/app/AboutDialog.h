// Help > About: the version and git revision of this build and the versions of Qt, VTK, DCMTK and
// SQLite (core/common/build_info.h), plus what only the model jobs know: the workstation does not
// link libtorch, so it runs `echo2ecg --version` through CliJob and shows its libtorch and CUDA
// lines ("model jobs not available" when the CLI cannot be started or fails). Non-modal.
#pragma once

#include <QDialog>
#include <QString>
#include <QStringList>

class QLabel;

namespace e2e::ui {

class CliJob;

class AboutDialog : public QDialog {
  Q_OBJECT
 public:
  // cli: the echo2ecg to ask ("" = echo2ecgPath()). The question starts at once.
  explicit AboutDialog(QWidget* parent = nullptr, const QString& cli = QString());
  ~AboutDialog() override;

  // Everything the dialog shows, as plain text (one fact per line).
  QString text() const;
  // `echo2ecg --version` has answered (or could not be run).
  bool modelInfoKnown() const { return known_; }

 Q_SIGNALS:
  void modelInfoChanged();

 private:
  void onCliFinished(bool ok, const QString& message);
  void refresh();

  QLabel* label_ = nullptr;
  CliJob* job_ = nullptr;
  QStringList buildLines_;  // this executable's own facts
  QStringList modelLines_;  // from `echo2ecg --version`, or why there are none
  bool known_ = false;
};

}  // namespace e2e::ui
