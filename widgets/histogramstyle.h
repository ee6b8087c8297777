// Shared look and data mapping of the histogram plots: colours, step graphs, log axes.
#pragma once

#include "analysis/metrics.h"

#include <QColor>
#include <QString>

class QCPAxis;
class QCPGraph;
class QCustomPlot;

namespace qs::histogramstyle {

QColor originalColor();
QColor dequantizedColor();
QColor errorColor();
QColor markerColor();

// A step graph of bin counts at the bin centres. On a log axis empty bins are drawn just
// below the visible range, since log(0) has no place on it.
void setData(QCPGraph* graph, const Histogram& h, bool logScale);
void styleGraph(QCPGraph* graph, const QColor& color, bool filled);
// Linear from 0, or logarithmic from just under 1, up to the largest count shown.
void applyCountAxis(QCPAxis* axis, bool logScale, double maxCount);
// A vertical dashed line at x with a short label at the top of the plot.
void addMarker(QCustomPlot* plot, double x, const QString& label);
// A legend entry for the markers (items have none of their own).
void addMarkerLegend(QCustomPlot* plot, const QString& name);
// Common axis fonts, grids and margins.
void styleAxes(QCustomPlot* plot, const QString& xLabel, const QString& yLabel);
double maxCount(const Histogram& h);

} // namespace qs::histogramstyle
