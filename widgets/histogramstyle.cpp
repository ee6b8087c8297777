#include "histogramstyle.h"

#include <qcustomplot.h>

#include <algorithm>

namespace qs::histogramstyle {
namespace {
constexpr double kLogFloor = 0.5; // where empty bins go on a log axis (below 1)
constexpr double kLogLower = 0.8; // lower end of a log count axis
} // namespace

QColor originalColor()
{
    return QColor(31, 119, 180);
}
QColor dequantizedColor()
{
    return QColor(230, 110, 20);
}
QColor errorColor()
{
    return QColor(200, 50, 60);
}
QColor markerColor()
{
    return QColor(90, 90, 90);
}

void setData(QCPGraph* graph, const Histogram& h, bool logScale)
{
    const int n = static_cast<int>(h.counts.size());
    QVector<double> keys(n), values(n);
    const double w = h.binWidth();
    for (int i = 0; i < n; ++i) {
        keys[i] = h.lo + (i + 0.5) * w;
        const auto c = static_cast<double>(h.counts[static_cast<std::size_t>(i)]);
        values[i] = (logScale && c == 0.0) ? kLogFloor : c;
    }
    graph->setData(keys, values, true);
}

void styleGraph(QCPGraph* graph, const QColor& color, bool filled)
{
    graph->setLineStyle(QCPGraph::lsStepCenter);
    graph->setPen(QPen(color, filled ? 1.0 : 1.4));
    if (filled) {
        QColor fill = color;
        fill.setAlpha(70);
        graph->setBrush(fill);
    } else {
        graph->setBrush(Qt::NoBrush);
    }
}

void applyCountAxis(QCPAxis* axis, bool logScale, double maxCount)
{
    if (logScale) {
        axis->setScaleType(QCPAxis::stLogarithmic);
        auto ticker = QSharedPointer<QCPAxisTickerLog>::create();
        ticker->setLogBase(10);
        ticker->setSubTickCount(8);
        axis->setTicker(ticker);
        axis->setNumberFormat(QStringLiteral("eb")); // 10^k, written as a power
        axis->setNumberPrecision(0);
        axis->setRange(kLogLower, std::max(10.0, maxCount * 2.0));
    } else {
        axis->setScaleType(QCPAxis::stLinear);
        axis->setTicker(QSharedPointer<QCPAxisTicker>::create());
        axis->setNumberFormat(QStringLiteral("gb"));
        axis->setNumberPrecision(6);
        axis->setRange(0, std::max(1.0, maxCount * 1.08));
    }
}

void addMarker(QCustomPlot* plot, double x, const QString& label)
{
    auto* line = new QCPItemStraightLine(plot);
    line->setPen(QPen(markerColor(), 1.2, Qt::DashLine));
    line->point1->setCoords(x, 0);
    line->point2->setCoords(x, 1);
    if (label.isEmpty()) return;
    auto* text = new QCPItemText(plot);
    text->setPositionAlignment(Qt::AlignHCenter | Qt::AlignTop);
    text->position->setTypeX(QCPItemPosition::ptPlotCoords);
    text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(x, 0.01);
    text->setText(label);
    text->setColor(markerColor());
    text->setBrush(QColor(255, 255, 255, 200));
    text->setPadding(QMargins(2, 0, 2, 0));
}

void addMarkerLegend(QCustomPlot* plot, const QString& name)
{
    QCPGraph* g = plot->addGraph();
    g->setName(name);
    g->setPen(QPen(markerColor(), 1.2, Qt::DashLine));
}

void styleAxes(QCustomPlot* plot, const QString& xLabel, const QString& yLabel)
{
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(yLabel);
    const QPen grid(QColor(225, 225, 225), 0, Qt::SolidLine);
    for (QCPAxis* a : {plot->xAxis, plot->yAxis}) {
        a->grid()->setPen(grid);
        a->grid()->setSubGridVisible(false);
        a->setBasePen(QPen(QColor(120, 120, 120)));
        a->setTickPen(QPen(QColor(120, 120, 120)));
        a->setSubTickPen(QPen(QColor(160, 160, 160)));
    }
}

double maxCount(const Histogram& h)
{
    const auto it = std::max_element(h.counts.begin(), h.counts.end());
    return it == h.counts.end() ? 0.0 : static_cast<double>(*it);
}

} // namespace qs::histogramstyle
