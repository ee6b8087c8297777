#include "histogramplot.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <QCheckBox>
#include <QHBoxLayout>

#include <qcustomplot.h>

namespace qs {

namespace style = histogramstyle;

namespace {
QString formatLabel(const TensorResult& r)
{
    const QString g = r.granularityName();
    return r.spec && r.spec->format->scaled() && !g.isEmpty()
               ? r.formatName() + QStringLiteral(", ") + g
               : r.formatName();
}
} // namespace

HistogramPlot::HistogramPlot(QWidget* parent)
    : PlotWidget(parent), m_log(new QCheckBox(tr("Log scale"), this))
{
    setObjectName(QStringLiteral("histogramPlot"));
    m_log->setObjectName(QStringLiteral("logScale"));
    // Outliers and the tails that clipping cuts are only a few counts high: invisible on a
    // linear axis next to the central peak.
    m_log->setToolTip(tr("Logarithmic count axis, to see the tails and outliers"));
    controlsLayout()->addWidget(m_log);
    setPlaceholderText(tr("Select a layer to see its weight histogram."));
    connect(m_log, &QCheckBox::toggled, this, &HistogramPlot::rebuild);
    style::styleAxes(plot(), tr("weight value"), tr("count"));
    rebuild();
}

void HistogramPlot::setResult(const TensorResultPtr& result, const QString& pendingName)
{
    m_result = result;
    rebuild();
    if (!result && !pendingName.isEmpty()) {
        setTitle(QString());
        showMessage(tr("Quantizing %1\u2026").arg(pendingName));
    }
}

void HistogramPlot::setLogScale(bool on)
{
    m_log->setChecked(on);
}

bool HistogramPlot::logScale() const
{
    return m_log->isChecked();
}

QString HistogramPlot::exportName() const
{
    return m_result ? QString::fromStdString(m_result->name) + QStringLiteral("-weights")
                    : QStringLiteral("weights");
}

void HistogramPlot::resetView()
{
    plot()->xAxis->setRange(m_xLow, m_xHigh);
    style::applyCountAxis(plot()->yAxis, logScale(), m_yMax);
}

void HistogramPlot::rebuild()
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
    setTitle(tr("Weights \u2014 %1").arg(name));
    if (!m_result->analysis) {
        showMessage(tr("%1 is not a floating-point tensor: its values are kept as stored and "
                       "not quantized.")
                        .arg(name));
        return;
    }
    const TensorAnalysis& a = *m_result->analysis;
    const bool log = logScale();

    QCPGraph* original = p->addGraph();
    original->setName(tr("original"));
    style::styleGraph(original, style::originalColor(), true);
    style::setData(original, a.original, log);
    m_yMax = style::maxCount(a.original);

    if (m_result->spec) {
        QCPGraph* dequantized = p->addGraph();
        dequantized->setName(tr("dequantized (%1)").arg(formatLabel(*m_result)));
        style::styleGraph(dequantized, style::dequantizedColor(), false);
        style::setData(dequantized, a.dequantized, log);
        m_yMax = std::max(m_yMax, style::maxCount(a.dequantized));
    } else {
        original->setName(tr("original (kept as stored)"));
    }

    m_xLow = a.original.lo;
    m_xHigh = a.original.hi;
    if (a.clipLow && a.clipHigh) {
        style::addMarker(p, *a.clipLow, tr("clip"));
        style::addMarker(p, *a.clipHigh, tr("clip"));
        style::addMarkerLegend(
            p, tr("clip range [%1, %2]")
                   .arg(display::scientific(*a.clipLow), display::scientific(*a.clipHigh)));
        m_xLow = std::min(m_xLow, static_cast<double>(*a.clipLow));
        m_xHigh = std::max(m_xHigh, static_cast<double>(*a.clipHigh));
    }
    // A little room on both sides so edge bins and clip lines are not drawn on the frame.
    const double margin = std::max(1e-12, (m_xHigh - m_xLow) * 0.03);
    m_xLow -= margin;
    m_xHigh += margin;
    resetView();
    showPlot();
}

} // namespace qs
