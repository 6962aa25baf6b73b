// Prediction panel: the stored model predictions of one ECG instance, per task a titled group
// ("LVEF class — probability") with one probability bar per class named with its range
// ("LVEF < 40 %"), the predicted (argmax) class marked (bold, "▶", "predicted"); a banner naming
// the model actually used (id, version, source: bundled / trained here / imported) with a
// "Synthetic-trained — not for clinical use" marker whenever that model was trained on synthetic
// data; the weights; and a Predict button (runs `echo2ecg predict`). Texts: vm/prediction_view.
// Issue 23: under each task a status line with the ECG's signal quality and the OOD flag
// (vm::predictionTrust): an out-of-distribution prediction is shown greyed (disabled bars, no
// "predicted" mark) with the reason; a declined one (signal not usable) shows the reason only.
#pragma once

#include <QString>
#include <QWidget>
#include <cstdint>
#include <map>
#include <vector>

class QLabel;
class QProgressBar;
class QPushButton;

namespace e2e::db {
class Database;
struct PredictionRow;
}  // namespace e2e::db

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

  // Bars by class key: "<40", "40-49", ">=50" (task lvef), "no_shd" and "shd" (task shd).
  QProgressBar* bar(const QString& cls) const;
  // The class name beside a bar ("LVEF < 40 %"); the predicted class's is bold and marked.
  QLabel* classLabel(const QString& cls) const;
  // The trust line under a task's bars ("Out of distribution …", "Declined: …", quality).
  QLabel* taskStatus(const QString& task) const;
  // True when the task's bars are greyed (out of distribution) / hidden (declined).
  bool taskGreyed(const QString& task) const;
  bool taskDeclined(const QString& task) const;
  // The predicted (argmax) class key of a task ("lvef", "shd"); "" when none is stored.
  QString predictedClass(const QString& task) const;
  // Visible whenever a shown prediction's model was trained on synthetic data.
  QLabel* syntheticMarker() const { return synthetic_; }
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
  void clearBars();
  void showTask(const QString& task, const std::map<std::string, double>& probabilities, bool markPredicted = true);
  void showTrust(const QString& task, const db::PredictionRow& row);
  void setTaskLook(const QString& task, bool greyed, bool hidden);
  void showModels(db::Database& d, const std::vector<const db::PredictionRow*>& rows);
  QString dbPath_;
  QString cli_;
  std::int64_t instance_ = 0;
  QLabel* banner_ = nullptr;
  QLabel* title_ = nullptr;
  QLabel* model_ = nullptr;
  QLabel* message_ = nullptr;
  QLabel* synthetic_ = nullptr;
  struct ClassRow {
    QString task, key, name;
    QLabel* label = nullptr;
    QProgressBar* bar = nullptr;
  };
  std::vector<ClassRow> rows_;
  std::map<QString, QString> predicted_;  // task -> argmax class key
  std::map<QString, QLabel*> status_;     // task -> trust line
  std::map<QString, int> look_;           // task -> 0 normal, 1 greyed, 2 declined
  QPushButton* predict_ = nullptr;
  CliJob* job_ = nullptr;
};

}  // namespace e2e::ui
