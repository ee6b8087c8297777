#include "accuracyplots.h"

#include "histogramstyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {

// Long row labels ("A · static") read better under the bars than in a legend.
QSharedPointer<QCPAxisTickerText> textTicker(const QStringList& labels)
{
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int i = 0; i < labels.size(); ++i)
        ticker->addTick(i + 1, labels[i]);
    return ticker;
}

QCPBars* addBars(QCustomPlot* p, const QString& name, const QColor& color, double width)
{
    auto* bars = new QCPBars(p->xAxis, p->yAxis);
    bars->setName(name);
    bars->setWidth(width);
    bars->setPen(QPen(color.darker(130)));
    bars->setBrush(color);
    return bars;
}

double accuracyOf(const EvaluateRow& row)
{
    return row.isFloat ? row.result.referenceAccuracy : row.result.accuracy;
}

} // namespace

AccuracyBarChart::AccuracyBarChart(QWidget* parent) : PlotWidget(parent)
{
    setObjectName(QStringLiteral("accuracyBarChart"));
    setPlaceholderText(tr("Evaluate to compare the accuracy of the plans."));
    histogramstyle::styleAxes(plot(), QString(), tr("% of the images"));
    plot()->xAxis->grid()->setVisible(false);
    plot()->xAxis->setTickLabelRotation(-30); // leftwards: the last label stays inside
    showPlaceholder();
}

void AccuracyBarChart::setResults(const EvaluateResultsPtr& results)
{
    QCustomPlot* p = plot();
    p->clearPlottables();
    m_count = results ? static_cast<int>(results->rows.size()) : 0;
    if (m_count == 0) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    // Side by side: accuracy left of each tick, agreement right of it.
    constexpr double kWidth = 0.38;
    QCPBars* accuracy = addBars(p, tr("accuracy"), QColor(60, 110, 200), kWidth);
    QCPBars* agreement = addBars(p, tr("agreement with FP32"), QColor(230, 150, 60), kWidth);
    QStringList labels;
    double low = 100.0;
    for (int i = 0; i < m_count; ++i) {
        const EvaluateRow& row = results->rows[static_cast<std::size_t>(i)];
        const double acc = 100.0 * accuracyOf(row);
        const double agree = 100.0 * (row.isFloat ? 1.0 : row.result.agreement);
        accuracy->addData(i + 1 - kWidth / 2, acc);
        agreement->addData(i + 1 + kWidth / 2, agree);
        low = std::min({low, acc, agree});
        labels << row.label;
    }
    p->xAxis->setTicker(textTicker(labels));
    p->xAxis->setRange(0.4, m_count + 0.6);
    // Differences of a fraction of a percent matter: start the axis near the lowest bar.
    p->yAxis->setRange(std::max(0.0, std::floor(low / 5.0) * 5.0 - 5.0), 100.5);
    p->legend->setVisible(true);
    setTitle(tr("Accuracy and agreement (%1 test images)")
                 .arg(results->test ? results->test->count : 0));
    showPlot();
}

AccuracyBitsPlot::AccuracyBitsPlot(QWidget* parent) : PlotWidget(parent)
{
    setObjectName(QStringLiteral("accuracyBitsPlot"));
    setPlaceholderText(tr("Compute the curve to see how accuracy falls as weights lose bits "
                          "(per-channel integers, weight-only)."));
    histogramstyle::styleAxes(plot(), tr("weight bits (per-channel int)"), tr("accuracy (%)"));
    plot()->xAxis->setRangeReversed(true); // read left to right as bits are taken away
    showPlaceholder();
}

void AccuracyBitsPlot::setComputing(bool computing)
{
    if (computing)
        showMessage(tr("Computing accuracy for int8 … int2 …"));
    else if (m_count == 0)
        showPlaceholder();
}

void AccuracyBitsPlot::setResults(const EvaluateResultsPtr& results)
{
    QCustomPlot* p = plot();
    p->clearGraphs();
    p->clearItems();
    m_count = results ? static_cast<int>(results->rows.size()) : 0;
    if (m_count == 0) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    QCPGraph* curve = p->addGraph();
    curve->setName(tr("quantized"));
    curve->setPen(QPen(QColor(60, 110, 200), 2));
    curve->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 7));
    QCPGraph* reference = p->addGraph();
    reference->setName(tr("FP32"));
    reference->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    double low = 100.0;
    int lowBits = 8, highBits = 2;
    for (const EvaluateRow& row : results->rows) {
        curve->addData(row.bits, 100.0 * row.result.accuracy);
        low = std::min(low, 100.0 * row.result.accuracy);
        lowBits = std::min(lowBits, row.bits);
        highBits = std::max(highBits, row.bits);
    }
    const double floatAccuracy = 100.0 * results->rows.front().result.referenceAccuracy;
    reference->addData(lowBits - 0.5, floatAccuracy);
    reference->addData(highBits + 0.5, floatAccuracy);
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1.0);
    p->xAxis->setTicker(ticker);
    p->xAxis->setRange(lowBits - 0.5, highBits + 0.5);
    p->yAxis->setRange(std::max(0.0, std::floor(low / 10.0) * 10.0), 100.0);
    p->legend->setVisible(true);
    setTitle(tr("Accuracy against weight bits"));
    showPlot();
}

AccuracyLayerPlot::AccuracyLayerPlot(QWidget* parent) : PlotWidget(parent)
{
    setObjectName(QStringLiteral("accuracyLayerPlot"));
    setPlaceholderText(tr("Select a row to see the output SQNR of each layer."));
    histogramstyle::styleAxes(plot(), QString(), tr("output SQNR (dB)"));
    plot()->xAxis->grid()->setVisible(false);
    plot()->xAxis->setTickLabelRotation(-30); // leftwards: the last label stays inside
    showPlaceholder();
}

void AccuracyLayerPlot::setRow(const EvaluateRow* row)
{
    QCustomPlot* p = plot();
    p->clearPlottables();
    m_count = 0;
    if (!row) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    if (row->isFloat) {
        showMessage(tr("The float model is the reference: its layers have no quantization error. "
                       "Select a quantized row."));
        return;
    }
    QCPBars* bars = addBars(p, tr("SQNR"), QColor(60, 150, 90), 0.7);
    QStringList labels;
    double high = 0.0;
    for (const nn::LayerReport& layer : row->result.layers) {
        // An unchanged output (Flatten of an exact input, ...) has infinite SQNR: no bar.
        if (!std::isfinite(layer.outputSqnrDb)) continue;
        labels << QString::fromStdString(layer.name);
        bars->addData(labels.size(), layer.outputSqnrDb);
        high = std::max(high, layer.outputSqnrDb);
    }
    m_count = static_cast<int>(labels.size());
    if (m_count == 0) {
        showMessage(tr("No layer output changed under %1.").arg(row->label));
        return;
    }
    p->xAxis->setTicker(textTicker(labels));
    p->xAxis->setRange(0.4, m_count + 0.6);
    p->yAxis->setRange(0.0, high * 1.1 + 1.0);
    p->legend->setVisible(false);
    setTitle(tr("Output SQNR per layer — %1").arg(row->label));
    showPlot();
}

} // namespace qs
