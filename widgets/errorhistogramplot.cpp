#include "errorhistogramplot.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <QCheckBox>
#include <QHBoxLayout>

#include <qcustomplot.h>

namespace qs {

namespace style = histogramstyle;

ErrorHistogramPlot::ErrorHistogramPlot(QWidget* parent)
    : PlotWidget(parent), m_log(new QCheckBox(tr("Log scale"), this))
{
    setObjectName(QStringLiteral("errorHistogramPlot"));
    m_log->setObjectName(QStringLiteral("logScale"));
    m_log->setToolTip(tr("Logarithmic count axis, to see rare large errors"));
    controlsLayout()->addWidget(m_log);
    setPlaceholderText(tr("Select a layer to see its quantization error."));
    connect(m_log, &QCheckBox::toggled, this, &ErrorHistogramPlot::rebuild);
    style::styleAxes(plot(), tr("error (dequantized \u2212 original)"), tr("count"));
    rebuild();
}

void ErrorHistogramPlot::setResult(const TensorResultPtr& result, const QString& pendingName)
{
    m_result = result;
    rebuild();
    if (!result && !pendingName.isEmpty()) {
        setTitle(QString());
        showMessage(tr("Quantizing %1\u2026").arg(pendingName));
    }
}

QString ErrorHistogramPlot::exportName() const
{
    return m_result ? QString::fromStdString(m_result->name) + QStringLiteral("-error")
                    : QStringLiteral("error");
}

void ErrorHistogramPlot::resetView()
{
    plot()->xAxis->setRange(m_xLow, m_xHigh);
    style::applyCountAxis(plot()->yAxis, m_log->isChecked(), m_yMax);
}

void ErrorHistogramPlot::rebuild()
{
    QCustomPlot* p = plot();
    p->clearGraphs();
    p->clearItems();
    if (!m_result) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    const QString name = QString::fromStdString(m_result->name);
    setTitle(tr("Error \u2014 %1").arg(name));
    if (!m_result->analysis) {
        showMessage(tr("%1 is not a floating-point tensor: it is not quantized.").arg(name));
        return;
    }
    if (!m_result->spec) {
        showMessage(
            tr("%1 is kept at its stored precision: there is no quantization error.").arg(name));
        return;
    }
    const TensorAnalysis& a = *m_result->analysis;
    if (a.sums.sumE2 == 0.0) {
        showMessage(tr("%1 represents every value of %2 exactly: the error is zero.")
                        .arg(m_result->formatName(), name));
        return;
    }

    QCPGraph* error = p->addGraph();
    error->setName(
        tr("RMSE %1, max |e| %2")
            .arg(display::scientific(a.sums.rmse()), display::scientific(a.sums.maxAbsError)));
    style::styleGraph(error, style::errorColor(), true);
    style::setData(error, a.error, m_log->isChecked());
    m_yMax = style::maxCount(a.error);

    const double extent =
        std::max({std::abs(a.error.lo), std::abs(a.error.hi), a.sums.maxAbsError});
    m_xLow = -extent;
    m_xHigh = extent;
    // Round-to-nearest keeps every unclipped value within half a step of the original.
    if (a.scale && *a.scale > 0) {
        const double half = *a.scale / 2.0;
        style::addMarker(p, -half, tr("\u2212s/2"));
        style::addMarker(p, half, tr("+s/2"));
        style::addMarkerLegend(
            p, tr("\u00b1 half a step (s = %1)").arg(display::scientific(*a.scale)));
        m_xLow = std::min(m_xLow, -half);
        m_xHigh = std::max(m_xHigh, half);
    }
    const double margin = std::max(1e-15, (m_xHigh - m_xLow) * 0.04);
    m_xLow -= margin;
    m_xHigh += margin;
    resetView();
    showPlot();
}

} // namespace qs
