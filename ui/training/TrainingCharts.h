// The training panel's charts (QtCharts) and confusion matrix, thin over the Qt-free
// e2e::vm chart_ticks / training_result_view: "nice" axis ticks (1, 2, 2.5, 5 x 10^k), legends as
// wrapped labels under each chart (full series names, never truncated), and a confusion matrix that
// fills its area with counts and row percentages.
#pragma once

#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QStyledItemDelegate>
#include <string>
#include <vector>

#include "viewmodel/chart_ticks.h"
#include "viewmodel/prediction_view.h"
#include "viewmodel/training_run.h"

class QChart;
class QLabel;
class QLineSeries;
class QTableWidget;
class QValueAxis;
class QWidget;

namespace e2e::ui::charts {

// A chart with a bottom and a left value axis; its own legend is hidden (see chartWithLegend).
QChart* makeChart(const QString& title, QValueAxis*& x, QValueAxis*& y, const QString& xTitle, const QString& yTitle);
QLineSeries* addSeries(QChart* c, QValueAxis* x, QValueAxis* y, const QString& name);
QList<QPointF> points(const std::vector<e2e::vm::CurvePoint>& v);

// Range, tick interval and label format of `axis` from nice ticks.
void applyTicks(QValueAxis* axis, const e2e::vm::AxisTicks& t);
// x: whole epochs from 0 to at least xMinSpan; y: [0, 1] when unitY, else the data's range.
void fitAxes(QValueAxis* x, QValueAxis* y, const QList<QLineSeries*>& series, double xMinSpan, bool unitY);

// The chart's view with a legend label under it (`legend` is set to that label).
QWidget* chartWithLegend(QChart* c, QLabel*& legend);
// The legend: a colour swatch and the full name of each named series (names are rich text), then
// `notes` (plain text, e.g. classes without a ROC curve), wrapped to the chart's width.
void updateLegend(QLabel* legend, const QList<QLineSeries*>& series, const QStringList& notes = {});

// Paints a confusion-matrix cell as its count (DisplayRole) over its row percentage (Qt::UserRole),
// the font scaled to the cell.
class ConfusionDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

 protected:
  void initStyleOption(QStyleOptionViewItem* option, const QModelIndex& index) const override;
};

// Fills the table: headers = class names, cells = counts (text) with the row percentage
// (Qt::UserRole, "53 %") and a tooltip; the diagonal shaded; rows and columns stretch to the area.
void fillConfusion(QTableWidget* table, const std::vector<std::string>& classes,
                   const std::vector<std::vector<double>>& confusion);

// Reliability diagram (issue 23): per confidence bin, the mean confidence (x) against the accuracy
// (y) on the validation split, before and after temperature scaling, with the diagonal of perfect
// calibration; the legend names the temperature and the ECE before -> after.
struct ReliabilityChart {
  QChart* chart = nullptr;
  QValueAxis *x = nullptr, *y = nullptr;
  QLineSeries *diagonal = nullptr, *before = nullptr, *after = nullptr;
  QLabel* legend = nullptr;
  QWidget* widget = nullptr;  // the chart's view with its legend
};
ReliabilityChart makeReliabilityChart();
// Replaces the bins; a view that is not present empties the chart and says why in the legend.
void showReliability(ReliabilityChart& c, const e2e::vm::ReliabilityView& v);

}  // namespace e2e::ui::charts
