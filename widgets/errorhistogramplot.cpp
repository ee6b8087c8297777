#include "errorhistogramplot.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <qcustomplot.h>

namespace qs {

namespace style = histogramstyle;

ErrorHistogramPlot::ErrorHistogramPlot(QWidget* parent)
    : ResultPlot(QStringLiteral("error"), tr("Logarithmic count axis, to see rare large errors"),
                 parent)
{
    setObjectName(QStringLiteral("errorHistogramPlot"));
    setPlaceholderText(tr("Select a layer to see its quantization error."));
    // The engine measures e = w - w^ (original minus dequantized), as in the MSE and SQNR.
    style::styleAxes(plot(), tr("error (original \u2212 dequantized)"), tr("count"));
    rebuild();
}

void ErrorHistogramPlot::rebuild()
{
    QCustomPlot* p = plot();
    p->clearGraphs();
    p->clearItems();
    const TensorResultPtr r = result();
    if (!r) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    const QString name = QString::fromStdString(r->name);
    setTitle(tr("Error \u2014 %1").arg(name));
    if (!r->error.empty()) {
        showMessage(
            tr("%1 could not be quantized: %2").arg(name, QString::fromStdString(r->error)));
        return;
    }
    if (!r->analysis) {
        showMessage(tr("%1 is not a floating-point tensor: it is not quantized.").arg(name));
        return;
    }
    if (!r->spec) {
        showMessage(
            tr("%1 is kept at its stored precision: there is no quantization error.").arg(name));
        return;
    }
    const TensorAnalysis& a = *r->analysis;
    if (a.sums.sumE2 == 0.0) {
        showMessage(tr("%1 represents every value of %2 exactly: the error is zero.")
                        .arg(r->formatName(), name));
        return;
    }

    QCPGraph* error = p->addGraph();
    error->setName(
        tr("RMSE %1, max |e| %2")
            .arg(display::scientific(a.sums.rmse()), display::scientific(a.sums.maxAbsError)));
    style::styleGraph(error, style::errorColor(), true);
    style::setData(error, a.error, logScale());
    const double yMax = style::maxCount(a.error);

    const double extent =
        std::max({std::abs(a.error.lo), std::abs(a.error.hi), a.sums.maxAbsError});
    double xLow = -extent, xHigh = extent;
    // Round-to-nearest keeps every unclipped value within half a step of the original.
    if (a.scale && *a.scale > 0) {
        const double half = *a.scale / 2.0;
        style::addMarker(p, -half, tr("\u2212s/2"));
        style::addMarker(p, half, tr("+s/2"));
        style::addMarkerLegend(
            p, tr("\u00b1 half a step (s = %1)").arg(display::scientific(*a.scale)));
        xLow = std::min(xLow, -half);
        xHigh = std::max(xHigh, half);
    }
    const double margin = std::max(1e-15, (xHigh - xLow) * 0.04);
    setViewRange(xLow - margin, xHigh + margin, yMax);
    resetView();
    showPlot();
}

} // namespace qs
