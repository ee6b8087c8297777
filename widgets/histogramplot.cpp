#include "histogramplot.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <qcustomplot.h>

namespace qs {

namespace style = histogramstyle;

namespace {
QString formatLabel(const TensorResult& r)
{
    const QString g = r.granularityName();
    return r.spec && r.spec->format->takesGranularity() && !g.isEmpty()
               ? r.formatName() + QStringLiteral(", ") + g
               : r.formatName();
}
} // namespace

HistogramPlot::HistogramPlot(QWidget* parent)
    // Outliers and the tails that clipping cuts are only a few counts high: invisible on a
    // linear axis next to the central peak.
    : ResultPlot(QStringLiteral("weights"),
                 tr("Logarithmic count axis, to see the tails and outliers"), parent)
{
    setObjectName(QStringLiteral("histogramPlot"));
    setPlaceholderText(tr("Select a layer to see its weight histogram."));
    style::styleAxes(plot(), tr("weight value"), tr("count"));
    rebuild();
}

void HistogramPlot::rebuild()
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
    setTitle(tr("Weights \u2014 %1").arg(name));
    if (!r->error.empty()) {
        showMessage(
            tr("%1 could not be quantized: %2").arg(name, QString::fromStdString(r->error)));
        return;
    }
    if (!r->analysis) {
        showMessage(tr("%1 is not a floating-point tensor: its values are kept as stored and "
                       "not quantized.")
                        .arg(name));
        return;
    }
    const TensorAnalysis& a = *r->analysis;
    const bool log = logScale();

    QCPGraph* original = p->addGraph();
    original->setName(tr("original"));
    style::styleGraph(original, style::originalColor(), true);
    style::setData(original, a.original, log);
    double yMax = style::maxCount(a.original);

    if (r->spec) {
        QCPGraph* dequantized = p->addGraph();
        dequantized->setName(tr("dequantized (%1)").arg(formatLabel(*r)));
        style::styleGraph(dequantized, style::dequantizedColor(), false);
        style::setData(dequantized, a.dequantized, log);
        yMax = std::max(yMax, style::maxCount(a.dequantized));
    } else {
        original->setName(tr("original (kept as stored)"));
    }

    double xLow = a.original.lo, xHigh = a.original.hi;
    // With one scale for the whole tensor the representable values form a grid: drawn when its
    // lines stay apart (up to 4-bit grids); finer grids are only described, or they would grey
    // out the plot.
    constexpr int kMaxGridLines = 64;
    if (a.scale && a.clipLow && a.clipHigh && *a.scale > 0) {
        const double step = *a.scale;
        const long levels = std::lround((*a.clipHigh - *a.clipLow) / step) + 1;
        if (levels >= 2 && levels <= kMaxGridLines) {
            const QPen gridPen(QColor(0xc0, 0x7a, 0x2c, 110), 0, Qt::SolidLine);
            for (long k = 0; k < levels; ++k) {
                auto* line = new QCPItemStraightLine(p);
                const double x = *a.clipLow + static_cast<double>(k) * step;
                line->point1->setCoords(x, 0);
                line->point2->setCoords(x, 1);
                line->setPen(gridPen);
                line->setSelectable(false);
            }
        }
        p->setToolTip(tr("%n representable values, %1 apart", nullptr, int(levels))
                          .arg(display::scientific(step)));
        QCPGraph* legend = p->addGraph(); // a legend entry only: it has no data
        legend->setName(levels <= kMaxGridLines
                            ? tr("%n quantization levels", nullptr, int(levels))
                            : tr("%n levels, %1 apart", nullptr, int(levels))
                                  .arg(display::scientific(step)));
        legend->setPen(QPen(QColor(0xc0, 0x7a, 0x2c), 1.0));
    } else {
        p->setToolTip(QString());
    }
    if (a.clipLow && a.clipHigh) {
        style::addMarker(p, *a.clipLow, tr("clip"));
        style::addMarker(p, *a.clipHigh, tr("clip"));
        style::addMarkerLegend(
            p, tr("clip range [%1, %2]")
                   .arg(display::scientific(*a.clipLow), display::scientific(*a.clipHigh)));
        xLow = std::min(xLow, static_cast<double>(*a.clipLow));
        xHigh = std::max(xHigh, static_cast<double>(*a.clipHigh));
    }
    // A little room on both sides so edge bins and clip lines are not drawn on the frame.
    const double margin = std::max(1e-12, (xHigh - xLow) * 0.03);
    setViewRange(xLow - margin, xHigh + margin, yMax);
    resetView();
    showPlot();
}

} // namespace qs
