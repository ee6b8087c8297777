#include "heatmapplot.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolTip>

#include <qcustomplot.h>

#include <cmath>

namespace qs {
namespace {

bool isError(HeatmapPlot::Quantity q)
{
    using Q = HeatmapPlot::Quantity;
    return q == Q::MeanAbsError || q == Q::MaxAbsError || q == Q::MeanError;
}

bool isSigned(HeatmapPlot::Quantity q)
{
    using Q = HeatmapPlot::Quantity;
    return q == Q::MeanValue || q == Q::MeanError;
}

// Perceptually ordered gradients: viridis for weights, inferno for errors, so the two never
// look alike; signed quantities diverge around zero. NaN cells (nothing finite) stay empty.
QCPColorGradient gradientFor(HeatmapPlot::Quantity q)
{
    QCPColorGradient g;
    if (isSigned(q)) {
        g.loadPreset(QCPColorGradient::gpPolar);
    } else if (isError(q)) {
        g.setColorStops({{0.0, QColor(0, 0, 4)},
                         {0.25, QColor(87, 16, 110)},
                         {0.5, QColor(188, 55, 84)},
                         {0.75, QColor(249, 142, 9)},
                         {1.0, QColor(252, 255, 164)}});
    } else {
        g.setColorStops({{0.0, QColor(68, 1, 84)},
                         {0.25, QColor(59, 82, 139)},
                         {0.5, QColor(33, 145, 140)},
                         {0.75, QColor(94, 201, 98)},
                         {1.0, QColor(253, 231, 37)}});
    }
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

QString rangeText(std::int64_t first, std::int64_t end)
{
    return end - first == 1 ? QString::number(first)
                            : QStringLiteral("%1–%2").arg(first).arg(end - 1);
}

QString dims(std::int64_t rows, std::int64_t cols)
{
    return QStringLiteral("%1×%2").arg(rows).arg(cols);
}

} // namespace

HeatmapPlot::HeatmapPlot(QWidget* parent)
    : PlotWidget(parent), m_quantityBox(new QComboBox), m_log(new QCheckBox(tr("Log colours"))),
      m_map(new QCPColorMap(plot()->xAxis, plot()->yAxis)), m_scale(new QCPColorScale(plot()))
{
    setObjectName(QStringLiteral("heatmapPlot"));
    setPlaceholderText(tr("Select a layer to see its weights and error as a heatmap."));
    QCustomPlot* p = plot();
    histogramstyle::styleAxes(p, QString(), QString());
    for (QCPAxis* a : {p->xAxis, p->yAxis})
        a->grid()->setVisible(false); // a grid over the cells only hides them
    p->yAxis->setRangeReversed(true); // row 0 on top, as a matrix is written
    p->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    p->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    p->legend->setVisible(false); // the colour scale is the legend
    p->plotLayout()->addElement(1, 1, m_scale);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setBarWidth(12);
    m_map->setColorScale(m_scale);
    m_map->setInterpolate(false); // each cell is one summary, not a sample of a smooth field
    // The colour scale's axis rect lines up with the plot's.
    auto* margins = new QCPMarginGroup(p);
    p->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    p->setMouseTracking(true);
    connect(p, &QCustomPlot::mouseMove, this, &HeatmapPlot::onHover);

    for (Quantity q : {Quantity::MeanAbsValue, Quantity::MeanValue, Quantity::MeanAbsError,
                       Quantity::MaxAbsError, Quantity::MeanError})
        m_quantityBox->addItem(quantityName(q), QVariant::fromValue(q));
    m_quantityBox->setToolTip(tr("What each cell shows about the elements it covers"));
    m_log->setToolTip(tr("Logarithmic colour scale: errors often span several decades"));
    controlsLayout()->insertWidget(0, new QLabel(tr("Show:")));
    controlsLayout()->insertWidget(1, m_quantityBox);
    controlsLayout()->insertWidget(2, m_log);
    connect(m_quantityBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setQuantity(m_quantityBox->itemData(i).value<Quantity>()); });
    connect(m_log, &QCheckBox::toggled, this, [this] { rebuild(); });
    rebuild();
}

QString HeatmapPlot::quantityName(Quantity q)
{
    switch (q) {
    case Quantity::MeanAbsValue:
        return tr("mean |w|");
    case Quantity::MeanValue:
        return tr("mean w");
    case Quantity::MeanAbsError:
        return tr("mean |error|");
    case Quantity::MaxAbsError:
        return tr("max |error|");
    case Quantity::MeanError:
        return tr("mean error");
    }
    return {};
}

void HeatmapPlot::setViews(const TensorViewsPtr& views, const QString& pendingName)
{
    m_views = views;
    if (!views && !pendingName.isEmpty()) {
        setTitle(QString());
        showMessage(tr("Computing the heatmap of %1…").arg(pendingName));
        return;
    }
    rebuild();
}

void HeatmapPlot::setQuantity(Quantity q)
{
    if (q == m_quantity) return;
    m_quantity = q;
    m_quantityBox->setCurrentIndex(m_quantityBox->findData(QVariant::fromValue(q)));
    rebuild();
    emit quantityChanged(q);
}

void HeatmapPlot::setLogScale(bool on)
{
    m_log->setChecked(on);
}

bool HeatmapPlot::logScale() const
{
    return m_log->isChecked();
}

const std::vector<float>& HeatmapPlot::values(Quantity q) const
{
    const Heatmap& h = *m_views->heatmap;
    switch (q) {
    case Quantity::MeanValue:
        return h.meanValue;
    case Quantity::MeanAbsError:
        return h.meanAbsError;
    case Quantity::MaxAbsError:
        return h.maxAbsError;
    case Quantity::MeanError:
        return h.meanError;
    case Quantity::MeanAbsValue:
        break;
    }
    return h.meanAbsValue;
}

QString HeatmapPlot::exportName() const
{
    if (!m_views) return QStringLiteral("heatmap");
    return QString::fromStdString(m_views->name) +
           (isError(m_quantity) ? QStringLiteral("-error-heatmap") : QStringLiteral("-heatmap"));
}

void HeatmapPlot::resetView()
{
    if (!m_views || !m_views->heatmap) return;
    const Heatmap& h = *m_views->heatmap;
    plot()->xAxis->setRange(-0.5, static_cast<double>(h.cols) - 0.5);
    plot()->yAxis->setRange(-0.5, static_cast<double>(h.rows) - 0.5);
}

void HeatmapPlot::rebuild()
{
    m_log->setEnabled(!isSigned(m_quantity));
    m_logApplied = false;
    if (!m_views) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    const QString name = QString::fromStdString(m_views->name);
    if (!m_views->heatmap) {
        setTitle(QString());
        const QString shape = QString::fromStdString(shapeToString(m_views->shape));
        showMessage(shapeNumel(m_views->shape) == 0
                        ? tr("%1 %2 has no elements to show.").arg(name, shape)
                        : tr("%1 %2 is not a matrix: a heatmap needs two or more dimensions. "
                             "The error scatter shows its values.")
                              .arg(name, shape));
        return;
    }
    const Heatmap& h = *m_views->heatmap;
    const std::vector<float>& v = values(m_quantity);
    float lo = 0.0f, hi = 0.0f, minPositive = 0.0f;
    for (float x : v) {
        if (std::isnan(x)) continue;
        lo = std::min(lo, x);
        hi = std::max(hi, x);
        if (x > 0.0f && (minPositive == 0.0f || x < minPositive)) minPositive = x;
    }

    // Cell centres in matrix coordinates, so the axes count real rows and columns.
    const double cw = static_cast<double>(h.cols) / h.gridCols;
    const double rh = static_cast<double>(h.rows) / h.gridRows;
    QCPColorMapData* data = m_map->data();
    data->setSize(h.gridCols, h.gridRows);
    data->setRange(QCPRange(cw / 2 - 0.5, static_cast<double>(h.cols) - cw / 2 - 0.5),
                   QCPRange(rh / 2 - 0.5, static_cast<double>(h.rows) - rh / 2 - 0.5));
    m_logApplied = logScale() && !isSigned(m_quantity) && hi > 0.0f && minPositive < hi;
    for (int r = 0; r < h.gridRows; ++r)
        for (int c = 0; c < h.gridCols; ++c) {
            float x = v[h.cell(r, c)];
            // Zero has no place on a log scale: such cells take the lowest colour.
            if (m_logApplied && x < minPositive) x = minPositive;
            data->setCell(c, r, static_cast<double>(x));
        }

    m_map->setGradient(gradientFor(m_quantity));
    const auto type = m_logApplied ? QCPAxis::stLogarithmic : QCPAxis::stLinear;
    m_scale->setDataScaleType(type);
    m_scale->axis()->setTicker(m_logApplied ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                            : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_scale->axis()->setNumberFormat(QStringLiteral("gb"));
    m_scale->axis()->setNumberPrecision(2);
    if (m_logApplied) {
        m_map->setDataRange(QCPRange(minPositive, hi));
    } else if (isSigned(m_quantity)) {
        const double a = std::max({std::fabs(lo), std::fabs(hi), 1e-30f});
        m_map->setDataRange(QCPRange(-a, a)); // white is zero
    } else {
        m_map->setDataRange(QCPRange(0.0, hi > 0.0f ? hi : 1.0));
    }
    m_scale->axis()->setLabel(quantityName(m_quantity));

    const int rank = static_cast<int>(m_views->shape.size());
    plot()->yAxis->setLabel(h.channelAxis == rank - 1 && rank > 1 ? tr("output channel (last axis)")
                                                                  : tr("output channel"));
    plot()->xAxis->setLabel(rank > 2 ? tr("input (other axes flattened)") : tr("input"));
    const QString cellText = h.exact() ? tr("%1 per element").arg(quantityName(m_quantity))
                                       : tr("%1 per cell").arg(quantityName(m_quantity));
    const QString sizeText =
        h.exact() ? dims(h.rows, h.cols)
                  : tr("%1 shown as %2").arg(dims(h.rows, h.cols), dims(h.gridRows, h.gridCols));
    // Two lines: tensor names are long, and the panel may be narrow.
    QString title =
        tr("%1 (%2)\n%3, %4").arg(name, QString::fromStdString(m_views->spec), sizeText, cellText);
    if (isError(m_quantity) && !(hi > 0.0f) && !(lo < 0.0f)) title += tr(" (no error)");
    setTitle(title);
    resetView();
    showPlot();
}

QPoint HeatmapPlot::cellAt(const QPoint& pos) const
{
    if (!isShowingPlot() || !m_views || !m_views->heatmap ||
        !plot()->axisRect()->rect().contains(pos))
        return {-1, -1};
    const Heatmap& h = *m_views->heatmap;
    const double col = std::floor(plot()->xAxis->pixelToCoord(pos.x()) + 0.5);
    const double row = std::floor(plot()->yAxis->pixelToCoord(pos.y()) + 0.5);
    if (col < 0 || row < 0 || col >= static_cast<double>(h.cols) ||
        row >= static_cast<double>(h.rows))
        return {-1, -1};
    return {h.cellCol(static_cast<std::int64_t>(col)), h.cellRow(static_cast<std::int64_t>(row))};
}

QString HeatmapPlot::toolTipAt(const QPoint& pos) const
{
    const QPoint cell = cellAt(pos);
    if (cell.x() < 0) return {};
    const Heatmap& h = *m_views->heatmap;
    const int r = cell.y(), c = cell.x();
    const std::size_t i = h.cell(r, c);
    const auto rowEnd = r + 1 < h.gridRows ? h.rowStart(r + 1) : h.rows;
    const auto colEnd = c + 1 < h.gridCols ? h.colStart(c + 1) : h.cols;
    QStringList lines{tr("rows %1, columns %2")
                          .arg(rangeText(h.rowStart(r), rowEnd), rangeText(h.colStart(c), colEnd))};
    if (h.counts[i] == 0) {
        lines << tr("no finite value");
    } else {
        lines << tr("%1 finite values").arg(display::count(h.counts[i]));
        for (Quantity q : {Quantity::MeanAbsValue, Quantity::MeanValue, Quantity::MeanAbsError,
                           Quantity::MaxAbsError})
            lines << QStringLiteral("%1: %2").arg(quantityName(q),
                                                  display::scientific(values(q)[i]));
    }
    return lines.join(QLatin1Char('\n'));
}

void HeatmapPlot::onHover(QMouseEvent* event)
{
    const QString text = toolTipAt(event->position().toPoint());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

} // namespace qs
