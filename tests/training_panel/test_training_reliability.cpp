// The reliability diagram of the training panel (issue 23) as it is drawn: before a run it is empty
// and says there is no calibration yet; after a run whose done event carries the job's
// "calibration" object (the fake trainer with FAKE_TRAIN_CALIBRATION=1) it plots exactly the
// non-empty bins, before and after temperature scaling, each point painted in its series' colour
// where the axes put it, with the temperature and the ECE before -> after in the legend.
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QLabel>
#include <QLineSeries>
#include <QPlainTextEdit>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QValueAxis>
#include <cmath>
#include <cstdlib>

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

QChartView* chartView(const e2e::ui::charts::ReliabilityChart& c) { return c.widget->findChild<QChartView*>(); }

// Pixels within `radius` of the point (x, y) of `series` on the grabbed chart view whose colour is
// the series' colour (within a tolerance for antialiasing).
int seriesPixelsAt(QChartView* view, const QImage& img, QLineSeries* series, QPointF xy, int radius = 4) {
  const QPointF scenePos = view->chart()->mapToScene(view->chart()->mapToPosition(xy, series));
  const QPoint at = view->mapFromScene(scenePos);
  const QColor want = series->color();
  int n = 0;
  for (int y = at.y() - radius; y <= at.y() + radius; ++y)
    for (int x = at.x() - radius; x <= at.x() + radius; ++x) {
      if (x < 0 || y < 0 || x >= img.width() || y >= img.height()) continue;
      const QColor c = img.pixelColor(x, y);
      n += std::abs(c.red() - want.red()) < 40 && std::abs(c.green() - want.green()) < 40 &&
           std::abs(c.blue() - want.blue()) < 40;
    }
  return n;
}

const QList<QPointF> kBefore{{0.37, 0.2}, {0.63, 0.45}, {0.97, 0.7}};
const QList<QPointF> kAfter{{0.35, 0.33}, {0.55, 0.5}, {0.83, 0.83}};  // the empty 4th bin is not drawn

}  // namespace

TEST(TrainingReliability, DiagramDrawsTheCalibrationBinsOfTheRun) {
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
  env.insert(QStringLiteral("FAKE_TRAIN_SPE"), QStringLiteral("2"));
  env.insert(QStringLiteral("FAKE_TRAIN_CALIBRATION"), QStringLiteral("1"));
  p.setProcessEnvironment(env);
  auto c = p.config();
  c.epochs = 2;
  c.task = "lvef";
  c.labelKey = "lvef_class";
  p.setConfig(c);
  p.resize(1200, 800);
  p.show();
  QApplication::processEvents();

  const auto& rel = p.reliability();
  ASSERT_TRUE(rel.widget && rel.before && rel.after && rel.diagonal && rel.legend);
  QChartView* view = chartView(rel);
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(rel.widget->objectName(), QStringLiteral("reliabilityChart"));
  // Before any run: the diagonal only, and why there is nothing else.
  EXPECT_EQ(rel.before->count(), 0);
  EXPECT_EQ(rel.after->count(), 0);
  EXPECT_EQ(rel.diagonal->count(), 2);
  EXPECT_TRUE(plain(rel.legend->text()).contains(QStringLiteral("No calibration yet"))) << plain(rel.legend->text()).toStdString();
  const QImage empty = view->grab().toImage();
  ASSERT_FALSE(empty.isNull());
  for (const QPointF& pt : kBefore) EXPECT_EQ(seriesPixelsAt(view, empty, rel.before, pt), 0) << pt.x();

  ASSERT_TRUE(p.startTraining());
  ASSERT_TRUE(e2e::test::waitUntil([&] {
    const auto s = p.state();
    return !p.isProcessRunning() && s != RunState::Running && s != RunState::Checking && s != RunState::Cancelling;
  }));
  ASSERT_EQ(p.state(), RunState::Done) << p.logView()->toPlainText().toStdString();
  QApplication::processEvents();

  // The series hold exactly the non-empty bins (mean confidence, accuracy).
  ASSERT_EQ(rel.before->points().size(), kBefore.size());
  ASSERT_EQ(rel.after->points().size(), kAfter.size()) << "the empty bin is left out";
  for (int i = 0; i < kBefore.size(); ++i) {
    EXPECT_NEAR(rel.before->at(i).x(), kBefore[i].x(), 1e-9);
    EXPECT_NEAR(rel.before->at(i).y(), kBefore[i].y(), 1e-9);
  }
  for (int i = 0; i < kAfter.size(); ++i) {
    EXPECT_NEAR(rel.after->at(i).x(), kAfter[i].x(), 1e-9);
    EXPECT_NEAR(rel.after->at(i).y(), kAfter[i].y(), 1e-9);
  }
  EXPECT_EQ(rel.x->min(), 0.0);
  EXPECT_EQ(rel.x->max(), 1.0);
  EXPECT_EQ(rel.y->min(), 0.0);
  EXPECT_EQ(rel.y->max(), 1.0);
  // The legend names the three curves, the temperature and the ECE before -> after.
  const QString legend = plain(rel.legend->text());
  for (const char* n : {"perfect calibration", "before (uncalibrated)", "after temperature scaling"})
    EXPECT_TRUE(legend.contains(QString::fromLatin1(n))) << legend.toStdString();
  EXPECT_TRUE(legend.contains(QStringLiteral("Temperature 1.80")) && legend.contains(QStringLiteral("n 20")) &&
              legend.contains(QStringLiteral("0.210 \u2192 0.040")))
      << legend.toStdString();
  EXPECT_FALSE(legend.contains(QStringLiteral("No calibration"))) << legend.toStdString();

  // Drawn: each bin's marker in its series' colour where the axes place it (not before the run).
  ASSERT_NE(rel.before->color(), rel.after->color());
  const QImage drawn = view->grab().toImage();
  if (const char* keep = std::getenv("E2E_RELIABILITY_SHOT")) rel.widget->grab().save(QString::fromLocal8Bit(keep));
  for (const QPointF& pt : kBefore) EXPECT_GT(seriesPixelsAt(view, drawn, rel.before, pt), 6) << "before " << pt.x();
  for (const QPointF& pt : kAfter) EXPECT_GT(seriesPixelsAt(view, drawn, rel.after, pt), 6) << "after " << pt.x();
  // Where no bin lies (confidence 0.15, accuracy 0.9) neither colour is drawn.
  EXPECT_EQ(seriesPixelsAt(view, drawn, rel.before, {0.15, 0.9}), 0);
  EXPECT_EQ(seriesPixelsAt(view, drawn, rel.after, {0.15, 0.9}), 0);
}
