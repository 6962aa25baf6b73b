#include "training/TrainingCharts.h"

#include <QChart>
#include <QChartView>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QTableWidget>
#include <QValueAxis>
#include <QVBoxLayout>
#include <algorithm>

#include "viewmodel/training_result_view.h"

namespace e2e::ui::charts {

QChart* makeChart(const QString& title, QValueAxis*& x, QValueAxis*& y, const QString& xTitle, const QString& yTitle) {
  auto* c = new QChart;
  c->setTitle(title);
  c->setMargins(QMargins(4, 4, 4, 4));
  c->legend()->setVisible(false);  // a label under the chart instead: it wraps, never truncates
  x = new QValueAxis;
  y = new QValueAxis;
  x->setTitleText(xTitle);
  y->setTitleText(yTitle);
  c->addAxis(x, Qt::AlignBottom);
  c->addAxis(y, Qt::AlignLeft);
  applyTicks(x, vm::niceTicks(0, 1, 5));
  applyTicks(y, vm::niceTicks(0, 1, 5));
  return c;
}

QLineSeries* addSeries(QChart* c, QValueAxis* x, QValueAxis* y, const QString& name) {
  auto* s = new QLineSeries;
  s->setName(name);
  c->addSeries(s);
  s->attachAxis(x);
  s->attachAxis(y);
  return s;
}

QList<QPointF> points(const std::vector<e2e::vm::CurvePoint>& v) {
  QList<QPointF> out;
  out.reserve(static_cast<qsizetype>(v.size()));
  for (const auto& p : v) out.append(QPointF(p.x, p.y));
  return out;
}

void applyTicks(QValueAxis* axis, const e2e::vm::AxisTicks& t) {
  axis->setRange(t.min, t.max);
  axis->setTickType(QValueAxis::TicksDynamic);
  axis->setTickAnchor(t.min);
  axis->setTickInterval(t.step);
  axis->setMinorTickCount(0);
  axis->setLabelFormat(QString::fromStdString(t.labelFormat()));
}

void fitAxes(QValueAxis* x, QValueAxis* y, const QList<QLineSeries*>& series, double xMinSpan, bool unitY) {
  double x1 = xMinSpan, y0 = 1e300, y1 = -1e300;
  for (auto* s : series)
    for (const auto& p : s->points()) {
      x1 = std::max(x1, p.x());
      y0 = std::min(y0, p.y());
      y1 = std::max(y1, p.y());
    }
  applyTicks(x, vm::niceTicks(0, x1, 6, 1));
  if (unitY || y0 > y1) {
    applyTicks(y, vm::niceTicks(0, 1, 5));
    return;
  }
  applyTicks(y, vm::niceTicks(std::max(0.0, y0), y1, 5));
}

QWidget* chartWithLegend(QChart* c, QLabel*& legend) {
  auto* w = new QWidget;
  auto* v = new QVBoxLayout(w);
  v->setContentsMargins(0, 0, 0, 0);
  v->setSpacing(0);
  auto* view = new QChartView(c);
  view->setRenderHint(QPainter::Antialiasing);
  view->setMinimumSize(260, 200);
  legend = new QLabel;
  legend->setObjectName(QStringLiteral("chartLegend"));
  legend->setTextFormat(Qt::RichText);
  legend->setWordWrap(true);
  legend->setContentsMargins(8, 0, 8, 4);
  v->addWidget(view, 1);
  v->addWidget(legend);
  return w;
}

void updateLegend(QLabel* legend, const QList<QLineSeries*>& series, const QStringList& notes) {
  QStringList parts;
  for (auto* s : series) {
    if (s->name().isEmpty()) continue;
    // Non-breaking inside an entry: lines break only between entries.
    parts << QStringLiteral("<span style='color:%1'>&#9632;</span>&nbsp;%2")
                 .arg(s->color().name(), s->name().replace(QLatin1Char(' '), QStringLiteral("&nbsp;")));
  }
  QString text = parts.join(QStringLiteral(" &nbsp; "));
  for (const QString& n : notes) text += QStringLiteral("<br><span style='color:#666'>%1</span>").arg(n.toHtmlEscaped());
  legend->setText(text);
}

void ConfusionDelegate::initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const {
  QStyledItemDelegate::initStyleOption(option, index);
  const QString pct = index.data(Qt::UserRole).toString();
  if (!pct.isEmpty()) option->text += QChar::LineSeparator + pct;
  const int px = std::clamp(option->rect.height() / 4, 10, 26);
  option->font.setPixelSize(px);
  option->displayAlignment = Qt::AlignCenter;
}

void fillConfusion(QTableWidget* table, const std::vector<std::string>& classes,
                   const std::vector<std::vector<double>>& confusion) {
  const int n = static_cast<int>(confusion.size());
  const auto pct = vm::rowPercentages(confusion);
  table->clear();
  table->setRowCount(n);
  table->setColumnCount(n);
  QStringList hdr;
  for (int k = 0; k < n; ++k)
    hdr << (k < static_cast<int>(classes.size()) ? QString::fromStdString(classes[k]) : QString::number(k));
  table->setHorizontalHeaderLabels(hdr);
  table->setVerticalHeaderLabels(hdr);
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n && c < static_cast<int>(confusion[r].size()); ++c) {
      auto* it = new QTableWidgetItem(QString::number(confusion[r][c], 'g', 6));
      const QString p = QString::fromStdString(vm::percentText(pct[r][c]));
      it->setData(Qt::UserRole, p);
      it->setTextAlignment(Qt::AlignCenter);
      it->setToolTip(QStringLiteral("true %1, predicted %2: %3 (%4 of the true %1)").arg(hdr[r], hdr[c], it->text(), p));
      if (r == c) it->setBackground(QColor(200, 235, 200));
      table->setItem(r, c, it);
    }
  // Scaled to its area: every row and column shares the table's size.
  table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  table->verticalHeader()->setSectionResizeMode(QHeaderView::Stretch);
}

ReliabilityChart makeReliabilityChart() {
  ReliabilityChart c;
  c.chart = makeChart(QStringLiteral("Reliability (validation split)"), c.x, c.y, QStringLiteral("confidence"),
                      QStringLiteral("accuracy"));
  c.diagonal = addSeries(c.chart, c.x, c.y, QStringLiteral("perfect calibration"));
  c.diagonal->append(0, 0);
  c.diagonal->append(1, 1);
  QPen dp(Qt::gray);
  dp.setStyle(Qt::DashLine);
  c.diagonal->setPen(dp);
  c.before = addSeries(c.chart, c.x, c.y, QStringLiteral("before (uncalibrated)"));
  c.after = addSeries(c.chart, c.x, c.y, QStringLiteral("after temperature scaling"));
  c.before->setPointsVisible(true);
  c.after->setPointsVisible(true);
  c.x->setRange(0, 1);
  c.y->setRange(0, 1);
  c.widget = chartWithLegend(c.chart, c.legend);
  c.widget->setObjectName(QStringLiteral("reliabilityChart"));
  updateLegend(c.legend, {c.diagonal, c.before, c.after},
               {QStringLiteral("No calibration yet (a head's training fits it on the validation split).")});
  return c;
}

void showReliability(ReliabilityChart& c, const e2e::vm::ReliabilityView& v) {
  c.before->clear();
  c.after->clear();
  if (!v.present) {
    updateLegend(c.legend, {c.diagonal, c.before, c.after}, {QStringLiteral("No calibration in this result.")});
    return;
  }
  for (const auto& p : v.before) c.before->append(p.confidence, p.accuracy);
  for (const auto& p : v.after) c.after->append(p.confidence, p.accuracy);
  updateLegend(c.legend, {c.diagonal, c.before, c.after}, {QString::fromStdString(v.caption)});
}

}  // namespace e2e::ui::charts
