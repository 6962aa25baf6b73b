// The training panel's charts as a clinician reads them: full legend names (never "valida..."),
// nice axis ticks (1, 2, 2.5, 5 x 10^k), ROC curves only for classes with positives and
// negatives in the test split (the others named), and a confusion matrix that fills its area with
// counts and row percentages. Driven by the fake trainer.
#include <QApplication>
#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QProcessEnvironment>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QValueAxis>
#include <algorithm>
#include <cmath>

#include "panel_test_util.h"
#include "training/TrainingPanel.h"

using e2e::ui::TrainingPanel;
using e2e::vm::RunState;

namespace {

QString plain(const QString& richText) {
  QTextDocument doc;
  doc.setHtml(richText);
  return doc.toPlainText().replace(QChar::Nbsp, QLatin1Char(' '));
}

bool isNice(double step) {
  const double p = std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (std::fabs(step - m * p) < 1e-9 * p) return true;
  return false;
}

void expectNiceAxis(QValueAxis* a, const char* what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(a->tickType(), QValueAxis::TicksDynamic);
  EXPECT_TRUE(isNice(a->tickInterval())) << a->tickInterval();
  EXPECT_NEAR(a->min() / a->tickInterval(), std::round(a->min() / a->tickInterval()), 1e-6) << "starts on a tick";
  EXPECT_NEAR(a->max() / a->tickInterval(), std::round(a->max() / a->tickInterval()), 1e-6) << "ends on a tick";
  EXPECT_DOUBLE_EQ(a->tickAnchor(), a->min());
}

}  // namespace

TEST(TrainingCharts, LegendsTicksRocAndConfusionReadable) {
  e2e::test::panelApp();
  QTemporaryDir tmp;
  const QString db = tmp.filePath(QStringLiteral("studies.db"));
  e2e::test::makeCohort(db.toStdString(), 20);
  QSettings().remove(TrainingPanel::settingsGroup());
  TrainingPanel p;
  p.setTrainerProgram(QStringLiteral(E2E_FAKE_TRAINER));
  p.setDatabasePath(db);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert(QStringLiteral("FAKE_TRAIN_STEP_MS"), QStringLiteral("1"));
  env.insert(QStringLiteral("FAKE_TRAIN_SPE"), QStringLiteral("4"));
  env.insert(QStringLiteral("FAKE_TRAIN_EMPTY_CLASS"), QStringLiteral("1"));  // no 40-49 in the test split
  p.setProcessEnvironment(env);
  auto c = p.config();
  c.epochs = 5;
  c.task = "lvef";
  c.labelKey = "lvef_class";
  p.setConfig(c);
  p.resize(1200, 800);  // the panel's docked size in the main window is about this
  p.show();
  ASSERT_TRUE(p.startTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] {
    const auto s = p.state();
    return !p.isProcessRunning() && s != RunState::Running && s != RunState::Checking && s != RunState::Cancelling;
  }));
  ASSERT_EQ(p.state(), RunState::Done) << p.logView()->toPlainText().toStdString();
  QApplication::processEvents();

  // Legends: every series' full name, and the label tall enough for its wrapped lines.
  const QString loss = plain(p.lossLegend()->text());
  for (const char* n : {"train (per step)", "train (epoch)", "validation"})
    EXPECT_TRUE(loss.contains(QString::fromLatin1(n))) << loss.toStdString();
  const QString metric = plain(p.metricLegend()->text());
  for (const char* n : {"accuracy", "balanced_accuracy", "auroc"})
    EXPECT_TRUE(metric.contains(QString::fromLatin1(n))) << metric.toStdString();
  for (QLabel* l : {p.lossLegend(), p.metricLegend(), p.rocLegend()}) {
    EXPECT_TRUE(l->isVisible());
    EXPECT_GE(l->height(), l->heightForWidth(l->width())) << plain(l->text()).toStdString();
  }

  // Nice ticks on the loss axes (the fake losses span about 0.2 .. 1.2).
  expectNiceAxis(p.lossYAxis(), "loss y");
  expectNiceAxis(p.lossXAxis(), "loss x (epochs)");
  EXPECT_GE(p.lossXAxis()->tickInterval(), 1.0) << "whole epochs";
  double lo = 1e300, hi = -1e300;
  for (QLineSeries* s : {p.stepLossSeries(), p.trainLossSeries(), p.valLossSeries()})
    for (const QPointF& pt : s->points()) lo = std::min(lo, pt.y()), hi = std::max(hi, pt.y());
  ASSERT_LT(lo, hi);
  EXPECT_LE(p.lossYAxis()->min(), lo) << "every point inside the axis";
  EXPECT_GE(p.lossYAxis()->max(), hi);
  EXPECT_LE((p.lossYAxis()->max() - p.lossYAxis()->min()) / p.lossYAxis()->tickInterval(), 5.0 + 1e-9);

  // ROC: <40 and >=50 have positives and negatives; 40-49 has none in the test split.
  ASSERT_EQ(p.rocSeries().size(), 2);
  EXPECT_EQ(p.rocSeries()[0]->name(), QStringLiteral("&lt;40"));
  EXPECT_EQ(p.rocSeries()[1]->name(), QStringLiteral("&gt;=50"));
  const QString roc = plain(p.rocLegend()->text());
  EXPECT_TRUE(roc.contains(QStringLiteral("<40"))) << roc.toStdString();
  EXPECT_TRUE(roc.contains(QStringLiteral("40-49: not defined: no positives in test split"))) << roc.toStdString();
  EXPECT_TRUE(p.logView()->toPlainText().contains(QStringLiteral("not defined: no positives in test split")));

  // Confusion matrix: counts, row percentages, and the table's area shared by its cells.
  auto* t = p.confusionTable();
  ASSERT_EQ(t->rowCount(), 3);
  EXPECT_EQ(t->item(0, 0)->text(), QStringLiteral("4"));
  EXPECT_EQ(t->item(0, 0)->data(Qt::UserRole).toString(), QStringLiteral("80 %"));
  EXPECT_EQ(t->item(2, 2)->data(Qt::UserRole).toString(), QStringLiteral("89 %"));
  EXPECT_EQ(t->item(1, 1)->data(Qt::UserRole).toString(), QStringLiteral("\u2014")) << "no sample of that class";
  EXPECT_TRUE(t->item(0, 1)->toolTip().contains(QStringLiteral("20 %")));
  EXPECT_EQ(t->horizontalHeader()->sectionResizeMode(0), QHeaderView::Stretch);
  int w = 0, h = 0;
  for (int k = 0; k < 3; ++k) w += t->columnWidth(k), h += t->rowHeight(k);
  EXPECT_GE(w, t->viewport()->width() - 3) << "columns fill the area";
  EXPECT_GE(h, t->viewport()->height() - 3) << "rows fill the area";

  if (const char* keep = std::getenv("E2E_PANEL_CHARTS_SHOT")) p.grab().save(QString::fromLocal8Bit(keep));
}
