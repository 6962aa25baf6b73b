// Retrieval panel: for one ECG instance, the top-k most similar echo studies by cosine
// similarity of the stored embeddings (retrieval::searchSimilarStudies, the search `echo2ecg
// retrieve` runs, in-process over stored vectors; no torch),
// shown as cards with a small looping thumbnail, rank, similarity, study labels, date and
// views. Same-patient studies are excluded unless asked. "Open" loads a study's loops into
// the echo grid (2x2); "Compare" shows two selected results side by side (1x2). Without
// embeddings it offers "Embed now" (runs `echo2ecg embed`).
// One embedding model only: the active registered echo2ecg-pretrain version when there is one (as
// `echo2ecg retrieve`), whose ECG vector is compared with ONLY its study vectors (same version,
// weights hash, preprocessing); studies without them are counted as missing, never filled in with
// another version's vectors. Without a registered version: the newest stored key of the ECG.
// The panel names the model version its results come from (modelLabel()).
#pragma once

#include <QFrame>
#include <QFutureWatcher>
#include <QImage>
#include <QMap>
#include <QStringList>
#include <QVector>
#include <QWidget>
#include <cstdint>
#include <map>
#include <memory>

class QCheckBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTimer;
class QVBoxLayout;

#include "pipeline/embedding_model.h"

namespace e2e::retrieval {
class StudyIndex;
}
namespace e2e::db {
class Database;
}

namespace e2e::ui {

class CliJob;
class EchoGrid;

struct RetrievalResult {
  int rank = 0;
  std::int64_t studyRowId = 0, patientRowId = 0;
  float similarity = 0.f;
  QString studyDate, description, patientName, patientId;
  QStringList views;                 // view label of each US loop
  QStringList usPaths;               // files of the study's US instances
  QMap<QString, QString> labels;     // study labels, then patient labels not set on the study
  bool synthetic = false;            // a study of the synthetic cohort (studies.synthetic)
};

// One result: thumbnail loop (QLabel + QTimer, decoded off the GUI thread) and text.
class ResultCard : public QFrame {
  Q_OBJECT
 public:
  ResultCard(const RetrievalResult& r, QWidget* parent = nullptr);
  // Waits for the background thumbnail decode: it must never outlive the card (nor the process).
  ~ResultCard() override;
  const RetrievalResult& result() const { return r_; }
  QCheckBox* compareBox() const { return compare_; }
  QPushButton* openButton() const { return open_; }
  QLabel* textLabel() const { return text_; }
  int thumbnailFrames() const { return static_cast<int>(frames_.size()); }
  int currentFrame() const { return cur_; }
  bool thumbnailLoaded() const { return loaded_; }
  QLabel* thumbnailLabel() const { return thumb_; }

 Q_SIGNALS:
  void openRequested(int rank);
  void compareToggled();

 private:
  void loadThumbnail();
  struct Thumb {
    QVector<QImage> frames;
    double fps = 25;
    QString error;
  };
  RetrievalResult r_;
  QLabel* thumb_ = nullptr;
  QLabel* text_ = nullptr;
  QPushButton* open_ = nullptr;
  QCheckBox* compare_ = nullptr;
  QTimer* timer_ = nullptr;
  QVector<QPixmap> frames_;
  int cur_ = 0;
  bool loaded_ = false;
  QFutureWatcher<Thumb>* watcher_ = nullptr;
};

class RetrievalPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RetrievalPanel(QWidget* parent = nullptr);
  ~RetrievalPanel() override;

  void setDatabasePath(const QString& path);
  QString databasePath() const { return dbPath_; }
  void setInstance(std::int64_t ecgInstanceRowId);
  std::int64_t instance() const { return instance_; }
  void setEchoGrid(EchoGrid* grid) { grid_ = grid; }
  void setTopK(int k);
  void setCliProgram(const QString& p) { cli_ = p; }

  const std::vector<RetrievalResult>& results() const { return results_; }
  std::vector<ResultCard*> cards() const { return cards_; }
  QCheckBox* includeSamePatientBox() const { return samePatient_; }
  QPushButton* compareButton() const { return compare_; }
  QPushButton* embedButton() const { return embed_; }
  QLabel* messageLabel() const { return message_; }
  QString embeddingKeyText() const { return keyText_; }
  QLabel* modelLabel() const { return model_; }
  // "Synthetic-trained — not for clinical use" (or why else not for clinical use), shown with results.
  QLabel* syntheticMarker() const { return synthetic_; }
  // The query ECG's out-of-distribution flag (issue 23), from its latest stored prediction.
  QLabel* queryOodLabel() const { return queryOod_; }
  // "echo2ecg-pretrain v2": the model version of the results (or of the missing embeddings).
  QString modelText() const { return modelText_; }
  // Echo studies without embeddings of the active registered model (0 otherwise).
  std::int64_t missingStudies() const { return missingStudies_; }
  // Of those, the studies none of whose loops decoded when embed last tried (re-embedding cannot help).
  std::int64_t undecodableStudies() const { return undecodableStudies_; }
  // study vectors searched although their study's loops changed since they were made
  int outdatedStudies() const { return outdatedStudies_; }

 public Q_SLOTS:
  void refresh();                 // recompute (rebuilds the cached index)
  bool openResult(int rank);      // loads the study's loops (up to 4) into the echo grid, 2x2
  bool compareSelected();         // the two checked results side by side, 1x2
  bool compareResults(int rankA, int rankB);
  void embedNow();

 Q_SIGNALS:
  void echoGridShown();
  void logMessage(const QString& text);

 private:
  void search();
  void offerEmbed();
  void showModel(const pipeline::EmbeddingModel& m);
  void showProvenance(const pipeline::EmbeddingModel& m);
  void markSyntheticStudies(db::Database& d);
  void showMissing(const pipeline::EmbeddingModel& m, bool queryMissing, const pipeline::EmbeddingCoverage& cov);
  void showCards();
  void showQueryOod(db::Database& d);
  QString resultText(std::size_t searched);
  void clearCards();
  void showMessage(const QString& text, bool error = false);
  void updateCompareButton();
  const RetrievalResult* byRank(int rank) const;

  QString dbPath_, cli_, keyText_, modelText_;
  std::int64_t missingStudies_ = 0;
  std::int64_t undecodableStudies_ = 0;  // of the missing ones: no loop decoded when embed last tried
  std::int64_t instance_ = 0;
  int topK_ = 5;
  EchoGrid* grid_ = nullptr;
  QCheckBox* samePatient_ = nullptr;
  QSpinBox* k_ = nullptr;
  QLabel* title_ = nullptr;
  QLabel* message_ = nullptr;
  QLabel* model_ = nullptr;
  QLabel* synthetic_ = nullptr;
  QLabel* queryOod_ = nullptr;
  QPushButton* embed_ = nullptr;
  QPushButton* compare_ = nullptr;
  QVBoxLayout* list_ = nullptr;
  std::vector<ResultCard*> cards_;
  std::vector<RetrievalResult> results_;
  CliJob* job_ = nullptr;
  int outdatedStudies_ = 0;  // study vectors made from other loops than the study has now
  // The index of the study vectors of the last model searched, kept until refresh().
  std::unique_ptr<retrieval::StudyIndex> index_;
};

}  // namespace e2e::ui
