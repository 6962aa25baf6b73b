// Study tree > Export anonymised…: the chosen objects through core/io/anonymize (PS3.15 Basic
// Profile, as `echo2ecg export --anonymize`) into a folder, optionally with every date moved by
// a fixed number of days (intervals kept) instead of emptied.
#pragma once

#include <QDialog>
#include <QStringList>

#include "io/anonymize.h"

class QCheckBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace e2e::ui {

class AnonymizeDialog : public QDialog {
  Q_OBJECT
 public:
  AnonymizeDialog(const QStringList& paths, QWidget* parent = nullptr);

  QString outputFolder() const;
  void setOutputFolder(const QString& dir);
  // Date shift in days; none when the option is off (the default).
  std::optional<int> shiftDays() const;
  void setShiftDays(std::optional<int> days);
  // Runs the export with the dialog's settings (the user pressed Export); the report's text is
  // shown in the dialog and returned. Throws std::runtime_error for a bad folder.
  io::AnonymizeReport run();
  static QString reportText(const io::AnonymizeReport& r);

 private:
  QStringList paths_;
  QLineEdit* folder_ = nullptr;
  QCheckBox* shift_ = nullptr;
  QSpinBox* days_ = nullptr;
  QLabel* result_ = nullptr;
};

}  // namespace e2e::ui
