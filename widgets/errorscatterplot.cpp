#include "errorscatterplot.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <QToolTip>

#include <qcustomplot.h>

#include <cmath>

namespace qs {
namespace {
constexpr int kHitPixels = 6;
constexpr std::uint8_t kOutlier = kLargeError | kExtremeValue;

QString reasonText(std::uint8_t reasons)
{
    QStringList why;
    if (reasons & kLargeError) why << ErrorScatterPlot::tr("among the largest |error|");
    if (reasons & kExtremeValue) why << ErrorScatterPlot::tr("an extreme value");
    return why.join(QStringLiteral(", "));
}

// The element's multi-index, "[3, 17]", from its row-major index.
QString indexText(std::int64_t index, const Shape& shape)
{
    QStringList parts;
    for (std::size_t a = shape.size(); a-- > 0;) {
        parts.prepend(QString::number(shape[a] > 0 ? index % shape[a] : 0));
        index = shape[a] > 0 ? index / shape[a] : 0;
    }
    return QStringLiteral("[%1]").arg(parts.join(QStringLiteral(", ")));
}
} // namespace

ErrorScatterPlot::ErrorScatterPlot(QWidget* parent)
    : PlotWidget(parent), m_sample(plot()->addGraph()), m_outliers(plot()->addGraph()),
      m_clipLegend(nullptr)
{
    setObjectName(QStringLiteral("errorScatterPlot"));
    setPlaceholderText(tr("Select a layer to see its error against the original values."));
    QCustomPlot* p = plot();
    histogramstyle::styleAxes(p, tr("original value"), tr("error (original − dequantized)"));
    p->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    p->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    p->legend->setWrap(2);

    QColor dot = histogramstyle::originalColor();
    dot.setAlpha(110); // dense regions darken instead of turning into one blot
    m_sample->setLineStyle(QCPGraph::lsNone);
    m_sample->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, dot, dot, 3));
    m_sample->setPen(QPen(dot));
    m_outliers->setLineStyle(QCPGraph::lsNone);
    const QColor red = histogramstyle::errorColor();
    m_outliers->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(red, 1.5), QColor(255, 255, 255, 160), 7));
    m_outliers->setPen(QPen(red));
    m_outliers->setName(tr("largest |error| and |value|"));

    p->setMouseTracking(true);
    connect(p, &QCustomPlot::mouseMove, this, &ErrorScatterPlot::onHover);
    rebuild();
}

void ErrorScatterPlot::setViews(const TensorViewsPtr& views, const QString& pendingName)
{
    m_views = views;
    if (!views && !pendingName.isEmpty()) {
        setTitle(QString());
        showMessage(tr("Computing the error scatter of %1…").arg(pendingName));
        return;
    }
    rebuild();
}

QString ErrorScatterPlot::exportName() const
{
    return m_views ? QString::fromStdString(m_views->name) + QStringLiteral("-error-scatter")
                   : QStringLiteral("error-scatter");
}

void ErrorScatterPlot::resetView()
{
    plot()->xAxis->setRange(m_xLow, m_xHigh);
    plot()->yAxis->setRange(-m_yLimit, m_yLimit);
}

void ErrorScatterPlot::rebuild()
{
    QCustomPlot* p = plot();
    p->clearItems();
    m_sample->data()->clear();
    m_outliers->data()->clear();
    if (m_clipLegend) {
        p->removeGraph(m_clipLegend);
        m_clipLegend = nullptr;
    }
    if (!m_views) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    const QString name = QString::fromStdString(m_views->name);
    if (m_views->points.empty()) {
        setTitle(QString());
        showMessage(m_views->finiteCount == 0 && shapeNumel(m_views->shape) > 0
                        ? tr("%1 has no finite values to plot.").arg(name)
                        : tr("%1 has no elements to plot.").arg(name));
        return;
    }

    QVector<double> sx, sy, ox, oy;
    double maxError = 0.0;
    for (const ScatterPoint& pt : m_views->points) {
        const bool outlier = pt.reasons & kOutlier;
        (outlier ? ox : sx) << static_cast<double>(pt.value);
        (outlier ? oy : sy) << static_cast<double>(pt.error);
        maxError = std::max(maxError, std::fabs(static_cast<double>(pt.error)));
    }
    // The points come in element order; QCPGraph sorts them by value itself.
    m_sample->setData(sx, sy, false);
    m_outliers->setData(ox, oy, false);
    m_sample->setName(tr("%1 sampled values").arg(display::count(m_views->sampled)));

    double lo = m_views->minValue, hi = m_views->maxValue;
    if (m_views->clipLow && m_views->clipHigh) {
        histogramstyle::addMarker(p, *m_views->clipLow, tr("clip"));
        histogramstyle::addMarker(p, *m_views->clipHigh, tr("clip"));
        lo = std::min(lo, static_cast<double>(*m_views->clipLow));
        hi = std::max(hi, static_cast<double>(*m_views->clipHigh));
        m_clipLegend = p->addGraph();
        m_clipLegend->setName(tr("clipping range"));
        m_clipLegend->setPen(QPen(histogramstyle::markerColor(), 1.2, Qt::DashLine));
    }
    const double pad = hi > lo ? (hi - lo) * 0.04 : std::max(std::fabs(lo), 1.0) * 0.5;
    m_xLow = lo - pad;
    m_xHigh = hi + pad;
    m_yLimit = maxError > 0.0 ? maxError * 1.1 : 1.0;

    const qint64 total = m_views->finiteCount;
    // Two lines: tensor names are long, and the panel may be narrow.
    QString title = tr("%1 (%2)\nerror against value, %3 of %4 values")
                        .arg(name, QString::fromStdString(m_views->spec),
                             display::count(m_views->sampled), display::count(total));
    if (maxError == 0.0) title += tr(" (no error)");
    setTitle(title);
    resetView();
    showPlot();
}

QPoint ErrorScatterPlot::pixelOf(const ScatterPoint& pt) const
{
    return QPoint(qRound(plot()->xAxis->coordToPixel(pt.value)),
                  qRound(plot()->yAxis->coordToPixel(pt.error)));
}

const ScatterPoint* ErrorScatterPlot::pointAt(const QPoint& pos) const
{
    if (!m_views || !isShowingPlot() || !plot()->axisRect()->rect().contains(pos)) return nullptr;
    const ScatterPoint* best = nullptr;
    int bestDistance = kHitPixels * kHitPixels + 1;
    bool bestOutlier = false;
    for (const ScatterPoint& pt : m_views->points) {
        const QPoint d = pixelOf(pt) - pos;
        const int dist = d.x() * d.x() + d.y() * d.y();
        const bool outlier = pt.reasons & kOutlier;
        // Outliers are drawn on top, so they win a tie with the dots beneath them.
        if (dist < bestDistance || (dist == bestDistance && outlier && !bestOutlier)) {
            best = &pt;
            bestDistance = dist;
            bestOutlier = outlier;
        }
    }
    return best;
}

QString ErrorScatterPlot::toolTipAt(const QPoint& pos) const
{
    const ScatterPoint* pt = pointAt(pos);
    if (!pt) return {};
    QStringList lines{tr("element %1").arg(indexText(pt->index, m_views->shape)),
                      tr("value: %1").arg(display::scientific(pt->value)),
                      tr("error: %1").arg(display::scientific(pt->error))};
    if (const QString why = reasonText(pt->reasons); !why.isEmpty()) lines << why;
    return lines.join(QLatin1Char('\n'));
}

void ErrorScatterPlot::onHover(QMouseEvent* event)
{
    const QString text = toolTipAt(event->position().toPoint());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

} // namespace qs
