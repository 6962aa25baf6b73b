// The model registry: every registered model version of the database (Database::listModels)
// with its key metrics, the selected version's card, and Activate (Database::setActiveModel).
#pragma once
#include <QString>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace e2e::ui {

class ModelRegistryView : public QWidget {
  Q_OBJECT
 public:
  enum Column { ColModel, ColVersion, ColParent, ColHash, ColCreated, ColActive, ColMetrics, ColCount };
  explicit ModelRegistryView(QWidget* parent = nullptr);

  void setDatabasePath(const QString& path);
  QString databasePath() const { return dbPath_; }
  QTableWidget* table() const { return table_; }
  QPlainTextEdit* cardView() const { return card_; }
  QPushButton* activateButton() const { return activate_; }
  int rowOf(const QString& modelId, const QString& version) const;  // -1 if absent
  bool selectVersion(const QString& modelId, const QString& version);

 public Q_SLOTS:
  void refresh();
  bool activateSelected();

 Q_SIGNALS:
  void activated(const QString& modelId, const QString& version);

 private:
  void showCard();
  QString dbPath_;
  QTableWidget* table_ = nullptr;
  QPlainTextEdit* card_ = nullptr;
  QPushButton *activate_ = nullptr, *refresh_ = nullptr;
  QLabel* info_ = nullptr;
  QStringList cards_;
};

}  // namespace e2e::ui
