// What a clinician reads on the AI panels: the prediction panel names the model actually used
// (id, version, bundled / trained here / imported) with a synthetic-trained marker, titles its
// tasks as probabilities with class ranges and marks the predicted class; the retrieval cards say
// their labels in words, never "()" for a missing ID, mark synthetic-cohort studies, and lay out
// in the default ~330 px dock with their buttons visible.
#include <gtest/gtest.h>

#include <QCheckBox>
#include <QGroupBox>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTextDocument>
#include <filesystem>
#include <fstream>

#include "ai/PredictionPanel.h"
#include "ai/RetrievalPanel.h"
#include "cohort_fixture.h"
#include "db/database.h"
#include "jobs/import/importer.h"
#include "panels_test_util.h"
#include "pipeline/embedding_model.h"
#include "viewmodel/prediction_view.h"

using namespace e2e;
using e2e::ui::PredictionPanel;
using e2e::ui::RetrievalPanel;

namespace {

QString plain(const QString& richText) {
  QTextDocument doc;
  doc.setHtml(richText);
  return doc.toPlainText().replace(QChar::Nbsp, QLatin1Char(' '));
}

// One DICOM ECG imported into a temp database, and a bundled-models folder of our own.
struct PredDb {
  QTemporaryDir tmp;
  QString dbPath;
  std::int64_t ecgId = 0;
  PredDb() {
    dbPath = tmp.filePath(QStringLiteral("studies.db"));
    const std::string path = tmp.filePath(QStringLiteral("test_ecg.dcm")).toStdString();
    test::copyFile(test::dataDir() + "/ecg_dicom/jap1968_dcm-waveform/test_ecg.dcm", path);
    db::Database d(dbPath.toStdString());
    importer::ImportOptions o;
    o.paths = {path};
    EXPECT_EQ(importer::runImport(d, o).added, 1);
    const auto rows = d.listInstances();
    if (!rows.empty()) ecgId = rows.front().id;
  }
  void predict(const std::string& model, const std::string& version, const std::string& task,
               std::map<std::string, double> p) {
    db::Database d(dbPath.toStdString());
    db::PredictionRow r;
    r.instanceRowId = ecgId;
    r.modelId = model;
    r.modelVersion = version;
    r.weightsHash = "feedfacefeedfacefeedface";
    r.task = task;
    r.probabilities = std::move(p);
    d.addPrediction(r);
  }
  void registerModel(const std::string& model, const std::string& version, const std::string& card) {
    db::Database d(dbPath.toStdString());
    db::ModelRow m;
    m.modelId = model;
    m.version = version;
    m.weightsHash = "feedfacefeedfacefeedface";
    m.cardJson = card;
    d.registerModel(m);
  }
};

}  // namespace

TEST(PanelTexts, PredictionNamesTheTrainedModelMarksArgmaxAndSynthetic) {
  test::app();
  PredDb f;
  ASSERT_GT(f.ecgId, 0);
  f.registerModel("echo2ecg-lvef", "3", R"({"task":"lvef","base_dir":"","data":{"synthetic":true}})");
  f.predict("echo2ecg-lvef", "3", "lvef", {{"<40", 0.093}, {"40-49", 0.1}, {">=50", 0.807}});
  f.predict("echo2ecg-lvef", "3", "shd", {{"no_shd", 0.8}, {"shd", 0.2}});
  PredictionPanel panel;
  panel.resize(330, 620);
  panel.show();
  panel.setDatabasePath(f.dbPath);
  panel.setInstance(f.ecgId);

  // Titles say what the bars are; class names carry their ranges.
  QStringList titles;
  for (auto* b : panel.findChildren<QGroupBox*>()) titles << b->title();
  EXPECT_TRUE(titles.contains(QStringLiteral("LVEF class \u2014 probability"))) << titles.join(QLatin1Char('|')).toStdString();
  EXPECT_TRUE(titles.contains(QStringLiteral("Structural heart disease \u2014 probability")));
  EXPECT_EQ(plain(panel.classLabel(QStringLiteral("<40"))->text()).trimmed(), QStringLiteral("LVEF < 40 %"));
  EXPECT_EQ(plain(panel.classLabel(QStringLiteral("40-49"))->text()).trimmed(), QStringLiteral("LVEF 40\u201349 %"));
  // The predicted class: bold, marked; the others not.
  EXPECT_EQ(panel.predictedClass(QStringLiteral("lvef")), QStringLiteral(">=50"));
  const QString best = panel.classLabel(QStringLiteral(">=50"))->text();
  EXPECT_TRUE(best.contains(QStringLiteral("<b>"))) << best.toStdString();
  EXPECT_TRUE(plain(best).contains(QStringLiteral("\u25B6 LVEF \u2265 50 % (predicted)"))) << plain(best).toStdString();
  EXPECT_FALSE(panel.classLabel(QStringLiteral("<40"))->text().contains(QStringLiteral("<b>")));
  EXPECT_FALSE(plain(panel.classLabel(QStringLiteral("40-49"))->text()).contains(QStringLiteral("predicted")));
  EXPECT_EQ(panel.bar(QStringLiteral(">=50"))->text(), QStringLiteral("80.7 %"));
  EXPECT_EQ(panel.predictedClass(QStringLiteral("shd")), QStringLiteral("no_shd"));
  EXPECT_EQ(panel.bar(QStringLiteral("no_shd"))->text(), QStringLiteral("80.0 %"));
  EXPECT_TRUE(plain(panel.classLabel(QStringLiteral("no_shd"))->text()).contains(QStringLiteral("(predicted)")));
  // The banner names the model in use, not "Bundled models..."; the synthetic marker is shown.
  const QString banner = panel.banner()->text();
  EXPECT_TRUE(banner.contains(QStringLiteral("echo2ecg-lvef v3 (trained here)"))) << banner.toStdString();
  EXPECT_FALSE(banner.contains(QStringLiteral("Bundled models"))) << banner.toStdString();
  EXPECT_TRUE(panel.syntheticMarker()->isVisible());
  EXPECT_EQ(panel.syntheticMarker()->text(), QStringLiteral("Synthetic-trained \u2014 not for clinical use"));
  test::saveShot(&panel, QStringLiteral("prediction_panel_330.png"));
}

TEST(PanelTexts, PredictionBannerForBundledAndImportedModels) {
  test::app();
  PredDb f;
  ASSERT_GT(f.ecgId, 0);
  // Our own "bundled models" folder, real-data weights: no synthetic marker for the bundled head.
  const QString models = f.tmp.filePath(QStringLiteral("models"));
  std::filesystem::create_directories(models.toStdString());
  std::ofstream(models.toStdString() + "/bundle.json") << R"({"model_id":"echo2ecg","synthetic_training_data":false})";
  qputenv("E2E_MODELS_DIR", models.toUtf8());
  ASSERT_EQ(pipeline::findModelsDir(), models.toStdString());
  f.predict("echo2ecg-lvef-bundled", "7", "lvef", {{"<40", 0.6}, {"40-49", 0.3}, {">=50", 0.1}});
  PredictionPanel panel;
  panel.show();
  panel.setDatabasePath(f.dbPath);
  panel.setInstance(f.ecgId);
  EXPECT_TRUE(panel.banner()->text().contains(QStringLiteral("echo2ecg-lvef-bundled v7 (bundled)"))) << panel.banner()->text().toStdString();
  EXPECT_FALSE(panel.syntheticMarker()->isVisible());
  EXPECT_TRUE(panel.banner()->text().contains(QStringLiteral("not for clinical use")));
  EXPECT_EQ(panel.predictedClass(QStringLiteral("lvef")), QStringLiteral("<40"));
  // The bundle says synthetic: the marker appears.
  std::ofstream(models.toStdString() + "/bundle.json", std::ios::trunc) << R"({"model_id":"echo2ecg","synthetic_training_data":true})";
  panel.refresh();
  EXPECT_TRUE(panel.syntheticMarker()->isVisible());
  // An imported model (published weights, not synthetic) used for the newest LVEF prediction.
  f.registerModel("echo2ecg-lvef", "2", R"({"task":"import","import":{"kind":"bundle"},"data":{"synthetic":false}})");
  f.predict("echo2ecg-lvef", "2", "lvef", {{"<40", 0.2}, {"40-49", 0.5}, {">=50", 0.3}});
  panel.refresh();
  EXPECT_TRUE(panel.banner()->text().contains(QStringLiteral("echo2ecg-lvef v2 (imported)"))) << panel.banner()->text().toStdString();
  EXPECT_FALSE(panel.syntheticMarker()->isVisible());
  EXPECT_EQ(panel.predictedClass(QStringLiteral("lvef")), QStringLiteral("40-49"));
  qunsetenv("E2E_MODELS_DIR");
}

TEST(PanelTexts, RetrievalCardsInWordsAndInANarrowDock) {
  test::app();
  QTemporaryDir tmp;
  const QString dbPath = tmp.filePath(QStringLiteral("studies.db"));
  test::generateAndImport(tmp.path().toStdString(), dbPath.toStdString(), test::smallCohort(3, 21, 8, 2));
  std::vector<std::int64_t> study, ecg;
  {
    db::Database d(dbPath.toStdString());
    for (const auto& st : d.listStudies()) {
      EXPECT_TRUE(st.synthetic) << "core/synth studies are flagged on import";
      study.push_back(st.id);
      db::Filter fi;
      fi.studyRowId = st.id;
      fi.modality = "ECG";
      const auto e = d.listInstances(fi);
      ecg.push_back(e.empty() ? 0 : e.front().id);
    }
    ASSERT_EQ(study.size(), 3u);
    auto put = [&](std::optional<std::int64_t> inst, std::optional<std::int64_t> st, const char* model, std::vector<float> v) {
      db::EmbeddingKey k;
      k.instanceRowId = inst;
      k.studyRowId = st;
      k.modelId = model;
      k.weightsHash = "w1";
      k.preprocVersion = pipeline::kPreprocVersion;
      d.putEmbedding(k, v);
    };
    put(ecg[0], std::nullopt, "echo2ecg:1.0.0/ecg-aligned", {1, 0, 0});
    for (std::size_t i = 0; i < 3; ++i)
      put(std::nullopt, study[i], "echo2ecg:1.0.0/echo-study-aligned", {1.f, 0.2f * static_cast<float>(i), 0});
  }
  // The vectors' model is the bundled one (no registry): its bundle.json says synthetic.
  const QString models = tmp.filePath(QStringLiteral("models"));
  std::filesystem::create_directories(models.toStdString());
  std::ofstream(models.toStdString() + "/bundle.json")
      << R"({"model_id":"echo2ecg","version":"1.0.0","synthetic_training_data":true})";
  qputenv("E2E_MODELS_DIR", models.toUtf8());
  RetrievalPanel panel;
  panel.resize(330, 700);  // the default dock width
  panel.show();
  panel.setDatabasePath(dbPath);
  panel.setInstance(ecg[0]);
  ASSERT_EQ(panel.cards().size(), 2u) << panel.messageLabel()->text().toStdString();
  qunsetenv("E2E_MODELS_DIR");
  EXPECT_TRUE(panel.syntheticMarker()->isVisible());
  EXPECT_EQ(panel.syntheticMarker()->text(), QStringLiteral("Synthetic-trained \u2014 not for clinical use"));
  QCoreApplication::processEvents();
  for (auto* card : panel.cards()) {
    const QString text = plain(card->textLabel()->text());
    EXPECT_TRUE(text.contains(QStringLiteral("(synthetic cohort)"))) << text.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("LVEF "))) << text.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("SHD: "))) << text.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("similarity"))) << text.toStdString();
    EXPECT_FALSE(text.contains(QStringLiteral("lvef_percent"))) << text.toStdString();
    EXPECT_FALSE(text.contains(QStringLiteral("()"))) << text.toStdString();
    // Laid out inside the dock: the card is no wider than the panel, its buttons fully inside it,
    // and the text label tall enough for its wrapped text.
    EXPECT_LE(card->width(), panel.width());
    for (QWidget* w : {static_cast<QWidget*>(card->openButton()), static_cast<QWidget*>(card->compareBox())}) {
      EXPECT_TRUE(w->isVisible());
      const QRect r(w->mapTo(card, QPoint(0, 0)), w->size());
      EXPECT_TRUE(card->rect().contains(r)) << r.x() << "," << r.y() << " " << r.width() << "x" << r.height();
      EXPECT_GE(w->width(), w->sizeHint().width()) << "not clipped";
    }
    EXPECT_GE(card->textLabel()->height(), card->textLabel()->heightForWidth(card->textLabel()->width()));
  }
  test::saveShot(&panel, QStringLiteral("retrieval_panel_330.png"));

  // A study without patient ID: "—", never empty parentheses.
  ui::RetrievalResult r;
  r.rank = 4;
  r.similarity = 0.5f;
  r.patientName = QStringLiteral("Anonymized");
  r.labels.insert(QStringLiteral("lvef_percent"), QStringLiteral("66.7"));
  r.labels.insert(QStringLiteral("lvef_class"), QStringLiteral("2"));
  r.labels.insert(QStringLiteral("shd"), QStringLiteral("0"));
  ui::ResultCard card(r);
  const QString text = plain(card.textLabel()->text());
  EXPECT_FALSE(text.contains(QStringLiteral("()"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("Anonymized (ID \u2014)"))) << text.toStdString();
  EXPECT_TRUE(text.contains(QStringLiteral("LVEF 66.7 % \u00b7 LVEF \u2265 50 % \u00b7 SHD: no"))) << text.toStdString();
  EXPECT_FALSE(text.contains(QStringLiteral("(synthetic cohort)")));
  EXPECT_FALSE(card.openButton()->isEnabled()) << "no loop to open";
}
