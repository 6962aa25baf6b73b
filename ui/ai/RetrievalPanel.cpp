#include "ai/RetrievalPanel.h"

#include <QCheckBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>
#include <algorithm>

#include "common/person_name.h"
#include "db/database.h"
#include "echo/EchoView.h"
#include "io/dicom_echo.h"
#include "jobs/JobRunner.h"
#include "pipeline/embedding_model.h"
#include "retrieval/study_search.h"
#include "viewmodel/prediction_view.h"

namespace e2e::ui {

namespace {
constexpr int kThumbFrames = 24;
constexpr int kThumbSize = 96;

QImage toImage(const EchoFrames& f, int i) {
  const int bpl = f.cols * f.channels;
  QImage img(f.frame(i), f.cols, f.rows, bpl, f.channels == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8);
  return img.scaled(kThumbSize, kThumbSize, Qt::KeepAspectRatio, Qt::SmoothTransformation).copy();
}

// The card's text: rank and similarity, patient, date and labels in words, views; every missing
// value is "—" (never empty parentheses). Short lines so the card lays out in a narrow dock.
QString cardText(const RetrievalResult& r) {
  std::map<std::string, std::string> labels;
  for (auto it = r.labels.begin(); it != r.labels.end(); ++it) labels[it.key().toStdString()] = it.value().toStdString();
  QStringList facts;
  facts << QString::fromStdString(vm::dicomDateText(r.studyDate.toStdString())).toHtmlEscaped();
  for (const auto& l : vm::studyLabelTexts(labels)) facts << QStringLiteral("<b>%1</b>").arg(QString::fromStdString(l).toHtmlEscaped());
  const QString views = r.views.join(QStringLiteral(", "));
  return QStringLiteral("<b>#%1</b> · similarity <b>%2</b> <span style='color:#666'>(cosine,&nbsp;1&nbsp;=&nbsp;most&nbsp;alike)</span><br>"
                        "%3%4<br>%5<br>Views: %6")
      .arg(r.rank)
      .arg(QString::fromStdString(vm::similarityText(r.similarity)))
      .arg(QString::fromStdString(vm::patientText(r.patientName.toStdString(), r.patientId.toStdString()))
               .toHtmlEscaped()
               .replace(QStringLiteral("(ID "), QStringLiteral("(ID&nbsp;")),
           r.synthetic ? QStringLiteral(" <i style='color:#7a4b00'>(synthetic&nbsp;cohort)</i>") : QString(),
           facts.join(QStringLiteral(" · ")), views.isEmpty() ? QString::fromUtf8(vm::kMissingText) : views.toHtmlEscaped());
}
}  // namespace

// ---------------------------------------------------------------------------------------------

ResultCard::ResultCard(const RetrievalResult& r, QWidget* parent) : QFrame(parent), r_(r) {
  setFrameShape(QFrame::StyledPanel);
  setObjectName(QStringLiteral("resultCard%1").arg(r.rank));
  // Never squashed in a short dock (the list scrolls instead).
  setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Minimum);
  setMinimumHeight(kThumbSize + 40);
  thumb_ = new QLabel(this);
  thumb_->setFixedSize(kThumbSize, kThumbSize);
  thumb_->setAlignment(Qt::AlignCenter);
  thumb_->setStyleSheet(QStringLiteral("background:black;color:#aaa;"));
  thumb_->setText(r.usPaths.isEmpty() ? QStringLiteral("no loop") : QStringLiteral("…"));
  text_ = new QLabel(this);
  text_->setWordWrap(true);
  text_->setTextFormat(Qt::RichText);
  // Never wider than the dock: the text wraps at its lines' separators, the buttons stay visible.
  QSizePolicy sp = text_->sizePolicy();  // keeps the word wrap's height-for-width
  sp.setHorizontalPolicy(QSizePolicy::Ignored);
  text_->setSizePolicy(sp);
  text_->setMinimumWidth(60);
  text_->setText(cardText(r));
  text_->setToolTip(QString::fromStdString(vm::similarityMeaning()));
  open_ = new QPushButton(QStringLiteral("Open"), this);
  open_->setEnabled(!r.usPaths.isEmpty());
  open_->setToolTip(QStringLiteral("Show the study's loops in the echo viewer"));
  compare_ = new QCheckBox(QStringLiteral("Compare"), this);
  compare_->setEnabled(!r.usPaths.isEmpty());
  compare_->setToolTip(QStringLiteral("Check two results, then Compare, to see them side by side"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(open_);
  buttons->addWidget(compare_);
  buttons->addStretch(1);
  auto* g = new QGridLayout(this);
  g->setContentsMargins(4, 4, 4, 4);
  g->setHorizontalSpacing(6);
  g->addWidget(thumb_, 0, 0, Qt::AlignTop);
  g->addWidget(text_, 0, 1);
  g->addLayout(buttons, 1, 0, 1, 2);
  g->setColumnStretch(1, 1);
  connect(open_, &QPushButton::clicked, this, [this] { Q_EMIT openRequested(r_.rank); });
  connect(compare_, &QCheckBox::toggled, this, &ResultCard::compareToggled);
  loadThumbnail();
}

// The looping thumbnail: the first frames of the study's first loop that decodes, off the GUI thread.
void ResultCard::loadThumbnail() {
  timer_ = new QTimer(this);
  connect(timer_, &QTimer::timeout, this, [this] {
    if (frames_.isEmpty()) return;
    cur_ = (cur_ + 1) % static_cast<int>(frames_.size());
    thumb_->setPixmap(frames_[cur_]);
  });
  if (r_.usPaths.isEmpty()) return;
  watcher_ = new QFutureWatcher<Thumb>(this);
  connect(watcher_, &QFutureWatcher<Thumb>::finished, this, [this] {
    const Thumb t = watcher_->result();
    loaded_ = true;
    if (!t.error.isEmpty() || t.frames.isEmpty()) {
      thumb_->setText(QStringLiteral("no preview"));
      thumb_->setToolTip(t.error);
      return;
    }
    for (const QImage& img : t.frames) frames_.push_back(QPixmap::fromImage(img));
    cur_ = 0;
    thumb_->setPixmap(frames_.front());
    if (frames_.size() > 1) timer_->start(static_cast<int>(std::clamp(1000.0 / (t.fps > 0 ? t.fps : 25.0), 15.0, 500.0)));
  });
  // The first of the study's loops that decodes (a study can hold loops this build cannot read).
  std::vector<std::string> paths;
  for (const QString& p : r_.usPaths) paths.push_back(p.toStdString());
  watcher_->setFuture(QtConcurrent::run([paths]() -> Thumb {
    Thumb t;
    for (const std::string& path : paths) {
      try {
        const EchoInfo info = readDicomEchoInfo(path);
        t.fps = info.fps;
        const EchoFrames f = readDicomEchoFrames(path, 0, std::min(kThumbFrames, std::max(1, info.frames)));
        for (int i = 0; i < f.frames; ++i) t.frames.push_back(toImage(f, i));
        t.error.clear();
        return t;
      } catch (const std::exception& e) {
        if (!t.error.isEmpty()) t.error += QLatin1Char('\n');
        t.error += QString::fromStdString(e.what());
      }
    }
    return t;
  }));
}

ResultCard::~ResultCard() {
  if (watcher_) {
    watcher_->disconnect(this);
    watcher_->waitForFinished();
  }
}

// ---------------------------------------------------------------------------------------------

namespace {
// The query ECG's out-of-distribution line (issue 23), hidden until a search.
QLabel* makeQueryOodLabel(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setObjectName(QStringLiteral("queryOod"));
  l->setWordWrap(true);
  l->setVisible(false);
  return l;
}
}  // namespace

RetrievalPanel::RetrievalPanel(QWidget* parent) : QWidget(parent) {
  title_ = new QLabel(QStringLiteral("No ECG selected"), this);
  title_->setWordWrap(true);
  samePatient_ = new QCheckBox(QStringLiteral("Include same patient"), this);
  k_ = new QSpinBox(this);
  k_->setRange(1, 50);
  k_->setValue(topK_);
  k_->setPrefix(QStringLiteral("top "));
  compare_ = new QPushButton(QStringLiteral("Compare"), this);
  compare_->setToolTip(QStringLiteral("Show the two checked studies side by side"));
  compare_->setEnabled(false);
  embed_ = new QPushButton(QStringLiteral("Embed now"), this);
  embed_->setVisible(false);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  model_ = new QLabel(this);
  model_->setObjectName(QStringLiteral("retrievalModel"));
  model_->setWordWrap(true);
  model_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  model_->setToolTip(QStringLiteral("The embedding model (id, version, weights) the results come from"));
  model_->setVisible(false);
  synthetic_ = new QLabel(this);
  synthetic_->setObjectName(QStringLiteral("retrievalSyntheticMarker"));
  synthetic_->setWordWrap(true);
  synthetic_->setAlignment(Qt::AlignCenter);
  synthetic_->setStyleSheet(QStringLiteral("background:#fff3cd;color:#7a4b00;border:1px solid #e0b040;padding:3px;font-weight:bold;"));
  synthetic_->setVisible(false);
  queryOod_ = makeQueryOodLabel(this);
  auto* holder = new QWidget;
  list_ = new QVBoxLayout(holder);
  list_->setContentsMargins(0, 0, 0, 0);
  list_->addStretch(1);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // cards fit the dock's width
  scroll->setWidget(holder);
  auto* top = new QHBoxLayout;
  top->addWidget(samePatient_);
  top->addWidget(k_);
  top->addStretch(1);
  top->addWidget(compare_);
  auto* v = new QVBoxLayout(this);
  v->addWidget(synthetic_);
  v->addWidget(title_);
  v->addWidget(model_);
  v->addWidget(queryOod_);
  v->addLayout(top);
  v->addWidget(message_);
  v->addWidget(embed_);
  v->addWidget(scroll, 1);
  job_ = new CliJob(this);
  connect(samePatient_, &QCheckBox::toggled, this, [this] { search(); });
  connect(k_, qOverload<int>(&QSpinBox::valueChanged), this, [this](int k) {
    topK_ = k;
    search();
  });
  connect(compare_, &QPushButton::clicked, this, &RetrievalPanel::compareSelected);
  connect(embed_, &QPushButton::clicked, this, &RetrievalPanel::embedNow);
  connect(job_, &CliJob::line, this, [this](const QString& l) {
    JobProgress p;
    if (parseJobProgress(l, &p)) {
      showMessage(QStringLiteral("Running echo2ecg embed… %1 %2/%3")
                      .arg(p.stage == QStringLiteral("ecg") ? QStringLiteral("ECG") : QStringLiteral("echo loops"))
                      .arg(p.done)
                      .arg(p.total));
      return;
    }
    if (!l.startsWith(QLatin1Char('{'))) Q_EMIT logMessage(l);
  });
  connect(job_, &CliJob::finished, this, [this](bool ok, const QString& msg) {
    embed_->setEnabled(true);
    Q_EMIT logMessage(msg);
    refresh();
    if (job_->finishedWithProblems())  // the embeddings of everything else are stored: keep the results
      showMessage(message_->text() + QStringLiteral("\n") + msg + QStringLiteral(". Everything else is embedded."));
    else if (!ok) showMessage(msg, true);
  });
}

RetrievalPanel::~RetrievalPanel() = default;

void RetrievalPanel::setDatabasePath(const QString& path) {
  dbPath_ = path;
  instance_ = 0;
  refresh();
}

void RetrievalPanel::setInstance(std::int64_t id) {
  instance_ = id;
  search();
}

void RetrievalPanel::setTopK(int k) { k_->setValue(k); }

void RetrievalPanel::refresh() {
  if (index_) index_->invalidate();
  outdatedStudies_ = 0;
  search();
}

void RetrievalPanel::showMessage(const QString& text, bool error) {
  message_->setText(text);
  message_->setStyleSheet(error ? QStringLiteral("color:#b00020;") : QString());
}

void RetrievalPanel::clearCards() {
  for (auto* c : cards_) {
    list_->removeWidget(c);
    c->deleteLater();
  }
  cards_.clear();
  results_.clear();
  updateCompareButton();
}

namespace {
QString personName(const std::string& dicomName) {
  return QString::fromStdString(formatPersonName(dicomName));  // "FAMILY, Given", as everywhere
}

RetrievalResult toResult(const retrieval::StudyHit& h) {
  RetrievalResult r;
  r.rank = h.rank;
  r.studyRowId = h.studyRowId;
  r.patientRowId = h.patientRowId;
  r.similarity = h.similarity;
  r.studyDate = QString::fromStdString(h.studyDate);
  r.description = QString::fromStdString(h.description);
  r.patientName = personName(h.patientName);
  r.patientId = QString::fromStdString(h.patientId);
  for (const auto& [k, v] : h.labels) r.labels.insert(QString::fromStdString(k), QString::fromStdString(v));
  for (const auto& p : h.usPaths) r.usPaths << QString::fromStdString(p);
  for (const auto& v : h.views) r.views << QString::fromStdString(v);
  return r;
}
}  // namespace

void RetrievalPanel::search() {
  clearCards();
  showMessage(QString());
  embed_->setVisible(false);
  keyText_.clear();
  modelText_.clear();
  model_->clear();
  model_->setVisible(false);
  synthetic_->setVisible(false);
  queryOod_->setVisible(false);
  missingStudies_ = 0;
  undecodableStudies_ = 0;
  if (instance_ <= 0 || dbPath_.isEmpty()) {
    title_->setText(QStringLiteral("No ECG selected"));
    return;
  }
  try {
    db::Database d(dbPath_.toStdString(), db::Database::Mode::ReadOnly);
    const auto det = d.details(instance_);
    if (!det) {
      title_->setText(QStringLiteral("Instance %1 not found").arg(instance_));
      return;
    }
    title_->setText(QStringLiteral("Echo studies similar to the ECG of <b>%1</b>")
                        .arg(QString::fromStdString(vm::patientText(personName(det->patient.name).toStdString(),
                                                                    det->patient.patientId)).toHtmlEscaped()));
    // The model: the ACTIVE registered echo2ecg-pretrain version when there is one (the rule of
    // `echo2ecg retrieve`), else the newest model this ECG has a vector of.
    const auto model = retrieval::chooseSearchModel(d, "", instance_, true);
    if (!model) {
      showMessage(d.embeddingKeysOfInstance(instance_).empty()
                      ? QStringLiteral("No embedding for this ECG yet. Compute the embeddings of the database "
                                       "(ECGs and echo studies) to search similar echo studies.")
                      : QStringLiteral("No echo study embeddings of this ECG's model yet. Compute them to search."));
      offerEmbed();
      return;
    }
    showModel(*model);
    const auto query = retrieval::storedEcgVector(d, *model, instance_);
    if (!index_) index_ = std::make_unique<retrieval::StudyIndex>();
    retrieval::StudySearchResult result;
    if (query) result = retrieval::searchSimilarStudies(d, *index_, *model, *query, {instance_, topK_, samePatient_->isChecked()});
    else result.coverage = pipeline::embeddingCoverage(d, *model);
    missingStudies_ = model->active ? result.coverage.missingStudies() : 0;
    undecodableStudies_ = model->active ? result.coverage.undecodableStudies : 0;
    outdatedStudies_ = static_cast<int>(result.outdatedSearched);
    for (const auto& note : result.notes) Q_EMIT logMessage(QStringLiteral("Retrieval: ") + QString::fromStdString(note));
    if (!query || result.searched == 0) {
      showMissing(*model, !query, result.coverage);
      return;
    }
    keyText_ = QStringLiteral("%1 · weights %2 · %3")
                   .arg(QString::fromStdString(model->ecgKey()), QString::fromStdString(model->weightsHash).left(12),
                        QString::fromStdString(model->preprocVersion));
    for (const auto& h : result.hits) results_.push_back(toResult(h));
    markSyntheticStudies(d);
    showCards();
    showQueryOod(d);
    showMessage(resultText(result.searched));
  } catch (const std::exception& e) {
    showMessage(QString::fromStdString(e.what()), true);
    Q_EMIT logMessage(QStringLiteral("Retrieval: ") + QString::fromStdString(e.what()));
  }
}

// Issue 23: the query ECG's OOD flag, from its latest stored prediction (the panel runs no model);
// an out-of-distribution query greys its result cards.
void RetrievalPanel::showQueryOod(db::Database& d) {
  const db::PredictionRow* latest = nullptr;
  const auto preds = d.predictionsFor(instance_);
  for (const auto& p : preds)
    if (!latest || p.id > latest->id) latest = &p;
  queryOod_->setVisible(true);
  queryOod_->setProperty("ood", latest ? QString::fromStdString(latest->ood) : QStringLiteral("unknown"));
  if (!latest) {
    queryOod_->setText(QStringLiteral("Query ECG OOD: not scored yet \u2014 run Predict to score it against the model's "
                                      "training data"));
    queryOod_->setStyleSheet(QStringLiteral("color:#7a4b00;"));
    return;
  }
  QString text = QString::fromStdString(latest->declined() ? "Query ECG declined: " + latest->qualityReason
                                                            : vm::queryOodText(latest->ood, latest->oodScore));
  text += QStringLiteral(" (%1 v%2)").arg(QString::fromStdString(latest->modelId), QString::fromStdString(latest->modelVersion));
  queryOod_->setText(text);
  const bool out = latest->ood == "out" || latest->declined();
  queryOod_->setStyleSheet(out ? QStringLiteral("color:#555;background:#e9e9e9;padding:3px;font-weight:bold;")
                               : QStringLiteral("color:#1d3557;"));
  if (out)
    for (auto* c : cards_) c->setEnabled(false);
}

void RetrievalPanel::offerEmbed() {
  embed_->setVisible(true);
  embed_->setEnabled(!job_->isRunning());
}

void RetrievalPanel::showModel(const pipeline::EmbeddingModel& m) {
  modelText_ = QStringLiteral("%1 v%2").arg(QString::fromStdString(m.modelId), QString::fromStdString(m.version));
  model_->setText(QStringLiteral("Model: <b>%1</b>%2 · weights %3")
                      .arg(modelText_.toHtmlEscaped(), m.active ? QStringLiteral(" (active)") : QString(),
                           QString::fromStdString(m.weightsHash).left(12)));
  model_->setVisible(true);
  showProvenance(m);
}

// The not-for-clinical-use marker of the embedding model: synthetic-trained when its bundle (or
// registry card) says so.
void RetrievalPanel::showProvenance(const pipeline::EmbeddingModel& m) {
  std::optional<bool> synthetic;
  try {
    db::Database d(dbPath_.toStdString(), db::Database::Mode::ReadOnly);
    std::optional<std::string> card;
    for (const auto& row : d.listModels())
      if (row.modelId == m.modelId && row.version == m.version) card = row.cardJson;
    const std::string models = pipeline::findModelsDir();
    if (card) synthetic = vm::modelProvenance(m.modelId, m.version, card, vm::bundleSynthetic(models)).synthetic;
    else if (!m.dir.empty()) synthetic = vm::bundleSynthetic(m.dir);
    else synthetic = vm::bundleSyntheticFor(models, m.modelId, m.version);  // the bundled models' vectors
  } catch (const std::exception& e) {
    Q_EMIT logMessage(QStringLiteral("Retrieval: ") + QString::fromStdString(e.what()));
  }
  synthetic_->setText(synthetic.value_or(false) ? QString::fromUtf8(vm::kSyntheticMarker)
                      : synthetic ? QStringLiteral("Not clinically validated \u2014 not for clinical use")
                                  : QStringLiteral("Training data unknown \u2014 not for clinical use"));
  synthetic_->setVisible(true);
}

// Studies of the synthetic cohort (studies.synthetic, set on import of core/synth data) are marked.
void RetrievalPanel::markSyntheticStudies(db::Database& d) {
  for (auto& r : results_) {
    db::Filter f;
    f.studyRowId = r.studyRowId;
    for (const auto& st : d.listStudies(f)) r.synthetic = r.synthetic || st.synthetic;
  }
}

// The active version lacks the ECG's or the studies' vectors: nothing is searched, and vectors of
// other versions are never mixed in.
void RetrievalPanel::showMissing(const pipeline::EmbeddingModel& m, bool queryMissing,
                                 const pipeline::EmbeddingCoverage& cov) {
  QStringList what;
  if (queryMissing) what << QStringLiteral("this ECG");
  if (cov.missingStudies() > 0) what << QStringLiteral("%1 of %2 echo studies").arg(cov.missingStudies()).arg(cov.echoStudies);
  showMessage(QStringLiteral("Missing embeddings of %1%2: %3. Embeddings of other versions are never mixed in; re-embed "
                             "the database (Embed now, or activating the version in the model registry) to search.")
                  .arg(modelText_, m.active ? QStringLiteral(" (the active version)") : QString(),
                       what.join(QStringLiteral(" and "))));
  offerEmbed();
}

void RetrievalPanel::showCards() {
  for (const auto& r : results_) {
    auto* card = new ResultCard(r, this);
    connect(card, &ResultCard::openRequested, this, &RetrievalPanel::openResult);
    connect(card, &ResultCard::compareToggled, this, &RetrievalPanel::updateCompareButton);
    list_->insertWidget(list_->count() - 1, card);
    cards_.push_back(card);
  }
}

// "3 of 40 studies · KEY", then what was not searched or is outdated (offering Embed now where it helps).
QString RetrievalPanel::resultText(std::size_t searched) {
  QString msg = results_.empty() ? QStringLiteral("No other echo study found.")
                                 : QStringLiteral("%1 of %2 studies · %3").arg(results_.size()).arg(searched).arg(keyText_);
  if (missingStudies_ > 0) {
    // Only studies with embeddings of this version are searched; say how many are left out.
    msg += QStringLiteral("\n%1 echo stud%2 without embeddings of %3 not searched")
               .arg(missingStudies_)
               .arg(missingStudies_ == 1 ? QStringLiteral("y") : QStringLiteral("ies"))
               .arg(modelText_);
    // Studies none of whose loops decodes in this build stay missing whatever is re-embedded.
    if (undecodableStudies_ > 0)
      msg += QStringLiteral(" (%1 with no loop this build can decode; the log names the files)").arg(undecodableStudies_);
    if (missingStudies_ > undecodableStudies_) {
      msg += QStringLiteral(": re-embed (Embed now).");
      offerEmbed();
    } else {
      msg += QLatin1Char('.');
    }
  }
  if (outdatedStudies_ > 0) {
    // Loops imported into or deleted from a study after it was embedded: its vector is searched as
    // it was made; re-embedding re-makes it from the loops it has now.
    msg += QStringLiteral("\n%1 echo stud%2 had loops imported or deleted since embedded: searched with the "
                          "old embedding; re-embed (Embed now).")
               .arg(outdatedStudies_)
               .arg(outdatedStudies_ == 1 ? QStringLiteral("y") : QStringLiteral("ies"));
    offerEmbed();
  }
  return msg;
}

void RetrievalPanel::updateCompareButton() {
  int n = 0;
  for (auto* c : cards_) n += c->compareBox()->isChecked() ? 1 : 0;
  compare_->setEnabled(n == 2);
}

const RetrievalResult* RetrievalPanel::byRank(int rank) const {
  for (const auto& r : results_)
    if (r.rank == rank) return &r;
  return nullptr;
}

namespace {
void clearGrid(EchoGrid* g) {
  for (int i = 0; i < 4; ++i)
    if (auto* v = g->view(i)) v->clear();
}
}  // namespace

bool RetrievalPanel::openResult(int rank) {
  const RetrievalResult* r = byRank(rank);
  if (!r || !grid_ || r->usPaths.isEmpty()) return false;
  grid_->setGrid(2, 2);
  clearGrid(grid_);
  int opened = 0;
  for (const QString& p : r->usPaths) {
    if (opened == 4) break;
    try {
      grid_->openFile(p);
      ++opened;
    } catch (const std::exception& e) {
      Q_EMIT logMessage(QStringLiteral("Cannot open %1: %2").arg(p, QString::fromStdString(e.what())));
    }
  }
  Q_EMIT logMessage(QStringLiteral("Opened %1 loop(s) of study #%2 (%3)").arg(opened).arg(rank).arg(r->patientId));
  Q_EMIT echoGridShown();
  return opened > 0;
}

bool RetrievalPanel::compareSelected() {
  std::vector<int> ranks;
  for (auto* c : cards_)
    if (c->compareBox()->isChecked()) ranks.push_back(c->result().rank);
  if (ranks.size() != 2) {
    showMessage(QStringLiteral("Check exactly two results to compare."));
    return false;
  }
  return compareResults(ranks[0], ranks[1]);
}

bool RetrievalPanel::compareResults(int a, int b) {
  const RetrievalResult* ra = byRank(a);
  const RetrievalResult* rb = byRank(b);
  if (!ra || !rb || !grid_ || ra->usPaths.isEmpty() || rb->usPaths.isEmpty()) return false;
  grid_->setGrid(1, 2);
  clearGrid(grid_);
  int opened = 0;
  for (const auto* r : {ra, rb}) {
    try {
      grid_->openFile(r->usPaths.front());
      ++opened;
    } catch (const std::exception& e) {
      Q_EMIT logMessage(QStringLiteral("Cannot open %1: %2").arg(r->usPaths.front(), QString::fromStdString(e.what())));
    }
  }
  Q_EMIT echoGridShown();
  return opened == 2;
}

void RetrievalPanel::embedNow() {
  if (job_->isRunning() || dbPath_.isEmpty()) return;
  embed_->setEnabled(false);
  showMessage(QStringLiteral("Running echo2ecg embed… (this can take a while)"));
  // The database's embedding model (the active echo2ecg-pretrain version, else the bundled one).
  job_->start({QStringLiteral("embed"), QStringLiteral("--db"), dbPath_, QStringLiteral("--json-progress")}, cli_);
}

}  // namespace e2e::ui
