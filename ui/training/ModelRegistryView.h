// The model registry: every registered model version of the database (Database::listModels)
// with its key metrics, the selected version's card, and Activate (Database::setActiveModel).
// Activating an embedding model (a version with a bundle directory, e.g. echo2ecg-pretrain) starts
// the re-embedding job right away: `echo2ecg embed --model ID:VERSION --json-progress` as a child
// process (CliJob), with a progress bar and Cancel. Retrieval never mixes versions, so until the
// job has finished the retrieval panel reports the new version's embeddings as missing.
#pragma once
#include <QString>
#include <QWidget>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTableWidget;

namespace e2e::ui {

class CliJob;
class ModelImportDialog;

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
  QPushButton* cancelButton() const { return cancel_; }
  QPushButton* importButton() const { return import_; }
  QProgressBar* embedProgress() const { return progress_; }
  QLabel* infoLabel() const { return info_; }
  CliJob* embedJob() const { return job_; }
  bool isEmbedding() const;
  QString embeddingModel() const { return embedding_; }  // "ID:VERSION" of the running / last job
  int rowOf(const QString& modelId, const QString& version) const;  // -1 if absent
  bool selectVersion(const QString& modelId, const QString& version);
  // Overrides the CLI (tests); "" = echo2ecgPath().
  void setCliProgram(const QString& p) { cli_ = p; }
  // Whether activating an embedding model starts the re-embedding job (default true).
  void setEmbedOnActivate(bool on) { embedOnActivate_ = on; }
  // Whether this registered version is an embedding model (its card names a bundle directory).
  bool isEmbeddingModel(const QString& modelId, const QString& version) const;

 public Q_SLOTS:
  void refresh();
  bool activateSelected();
  // Runs `echo2ecg embed --db DB --model ID:VERSION --json-progress`. False if a job is running or
  // the tool cannot be started (embeddingFinished(false, ...) then says why).
  bool startEmbedding(const QString& modelId, const QString& version);
  void cancelEmbedding();
  // Import… (ModelImportDialog on this database, non-modal); the table refreshes after an import.
  ModelImportDialog* openImportDialog();

 Q_SIGNALS:
  void activated(const QString& modelId, const QString& version);
  void embeddingStarted(const QString& modelId, const QString& version);
  void embeddingFinished(bool ok, const QString& modelId, const QString& version, const QString& message);
  void logMessage(const QString& text);

 private:
  void showCard();
  void updateButtons();
  QString dbPath_, cli_, embedding_;
  QTableWidget* table_ = nullptr;
  QPlainTextEdit* card_ = nullptr;
  QPushButton *activate_ = nullptr, *refresh_ = nullptr, *cancel_ = nullptr, *import_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* info_ = nullptr;
  QStringList cards_;
  CliJob* job_ = nullptr;
  bool embedOnActivate_ = true;
  bool cancelled_ = false;
};

}  // namespace e2e::ui
