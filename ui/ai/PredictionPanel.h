// Prediction panel: the stored model predictions of one ECG instance (LVEF class
// probabilities, SHD probability) as bars with percentages, the model id/version/weights,
// a permanent "synthetic data" banner and a Predict button (runs `echo2ecg predict`).
#pragma once

#include <QString>
#include <QWidget>
#include <cstdint>

class QLabel;
class QProgressBar;
class QPushButton;

namespace e2e::ui {

class CliJob;

class PredictionPanel : public QWidget {
  Q_OBJECT
 public:
  static const char* bannerText();
  explicit PredictionPanel(QWidget* parent = nullptr);

  void setDatabasePath(const QString& path);
  QString databasePath() const { return dbPath_; }
  // The ECG instance (DB row id); 0 = none.
  void setInstance(std::int64_t instanceRowId);
  // Looks the instance up by SOP Instance UID (else by file path). Returns the row id or 0.
  std::int64_t setInstanceByUid(const QString& sopInstanceUid, const QString& path = QString());
  std::int64_t instance() const { return instance_; }
  // The instance row id of a file in the database at dbPath: by SOP Instance UID, else by
  // path. 0 if not found (or no database).
  static std::int64_t findInstance(const QString& dbPath, const QString& sopInstanceUid, const QString& path);

  // Bars: "<40", "40-49", ">=50" (task lvef) and "shd".
  QProgressBar* bar(const QString& cls) const;
  QLabel* modelLabel() const { return model_; }
  QLabel* banner() const { return banner_; }
  QLabel* messageLabel() const { return message_; }
  QPushButton* predictButton() const { return predict_; }
  // Overrides the CLI (tests); "" = echo2ecgPath().
  void setCliProgram(const QString& p) { cli_ = p; }

 public Q_SLOTS:
  void refresh();
  void predict();

 Q_SIGNALS:
  void logMessage(const QString& text);

 private:
  void showMessage(const QString& text, bool error = false);
  QString dbPath_;
  QString cli_;
  std::int64_t instance_ = 0;
  QLabel* banner_ = nullptr;
  QLabel* title_ = nullptr;
  QLabel* model_ = nullptr;
  QLabel* message_ = nullptr;
  QProgressBar* lvef_[3] = {nullptr, nullptr, nullptr};
  QProgressBar* shd_ = nullptr;
  QPushButton* predict_ = nullptr;
  CliJob* job_ = nullptr;
};

}  // namespace e2e::ui
