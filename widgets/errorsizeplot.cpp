#include "errorsizeplot.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMap>
#include <QToolTip>

#include <qcustomplot.h>

#include <cmath>

namespace qs {
namespace {
constexpr int kHitPixels = 8;
constexpr int kClickSlop = 4; // pixels a click may move and still pick a point

// A fixed colour per format in order of first appearance, so a mixed plan's formats can be
// told apart.
QColor paletteColor(int i)
{
    static const QColor colors[] = {
        QColor(60, 110, 200), QColor(60, 150, 90),  QColor(210, 130, 40), QColor(150, 90, 190),
        QColor(200, 70, 70),  QColor(40, 160, 170), QColor(170, 150, 30), QColor(120, 120, 120)};
    return colors[i % 8];
}

QString formatLabel(const TensorResult& r)
{
    const QString g = r.granularityName();
    return g.isEmpty() || !r.spec->format->takesGranularity()
               ? r.formatName()
               : QStringLiteral("%1 %2").arg(r.formatName(), g);
}

void setLog(QCPAxis* axis, bool log)
{
    axis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log) {
        axis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
        axis->setNumberFormat(QStringLiteral("eb"));
        axis->setNumberPrecision(0);
    } else {
        axis->setTicker(QSharedPointer<QCPAxisTicker>::create());
        axis->setNumberFormat(QStringLiteral("g"));
        axis->setNumberPrecision(6);
    }
}
} // namespace

ErrorSizePlot::ErrorSizePlot(QWidget* parent)
    : PlotWidget(parent), m_xBox(new QComboBox), m_yBox(new QComboBox)
{
    setObjectName(QStringLiteral("errorSizePlot"));
    setPlaceholderText(tr("Quantize a model to see error against size for each layer."));
    QCustomPlot* p = plot();
    histogramstyle::styleAxes(p, QString(), QString());
    p->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    p->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    p->legend->setWrap(3);
    p->setMouseTracking(true);
    connect(p, &QCustomPlot::mousePress, this,
            [this](QMouseEvent* e) { m_pressPos = e->position().toPoint(); });
    connect(p, &QCustomPlot::mouseRelease, this, &ErrorSizePlot::onRelease);
    connect(p, &QCustomPlot::mouseMove, this, &ErrorSizePlot::onHover);

    m_xBox->addItem(tr("bits per weight"), QVariant::fromValue(XMeasure::BitsPerWeight));
    m_xBox->addItem(tr("size (bytes)"), QVariant::fromValue(XMeasure::Bytes));
    m_yBox->addItem(tr("SQNR (dB)"), QVariant::fromValue(YMeasure::Sqnr));
    m_yBox->addItem(tr("MSE"), QVariant::fromValue(YMeasure::Mse));
    controlsLayout()->insertWidget(0, new QLabel(tr("x:")));
    controlsLayout()->insertWidget(1, m_xBox);
    controlsLayout()->insertWidget(2, new QLabel(tr("y:")));
    controlsLayout()->insertWidget(3, m_yBox);
    connect(m_xBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setXMeasure(m_xBox->itemData(i).value<XMeasure>()); });
    connect(m_yBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setYMeasure(m_yBox->itemData(i).value<YMeasure>()); });
    rebuild();
}

void ErrorSizePlot::setResults(const QVector<TensorResultPtr>& results)
{
    m_results = results;
    rebuild();
}

void ErrorSizePlot::setXMeasure(XMeasure m)
{
    m_x = m;
    m_xBox->setCurrentIndex(m_xBox->findData(QVariant::fromValue(m)));
    rebuild();
}

void ErrorSizePlot::setYMeasure(YMeasure m)
{
    m_y = m;
    m_yBox->setCurrentIndex(m_yBox->findData(QVariant::fromValue(m)));
    rebuild();
}

QVector<int> ErrorSizePlot::shownRows() const
{
    QVector<int> rows;
    for (const Point& pt : m_points)
        rows << pt.row;
    return rows;
}

QString ErrorSizePlot::exportName() const
{
    return QStringLiteral("error-vs-size");
}

void ErrorSizePlot::resetView()
{
    QCustomPlot* p = plot();
    p->rescaleAxes();
    // Room around the outermost points, in the axis' own scale.
    for (QCPAxis* a : {p->xAxis, p->yAxis}) {
        const QCPRange r = a->range();
        if (a->scaleType() == QCPAxis::stLogarithmic)
            a->setRange(r.lower / 1.6, r.upper * 1.6);
        else {
            const double pad = r.size() > 0 ? r.size() * 0.08 : std::max(std::fabs(r.lower), 1.0);
            a->setRange(r.lower - pad, r.upper + pad);
        }
    }
}

void ErrorSizePlot::rebuild()
{
    QCustomPlot* p = plot();
    p->clearGraphs();
    m_selection = nullptr;
    m_points.clear();
    // Points by format, in order of first appearance.
    QMap<QString, int> formatIndex;
    QVector<QPair<QVector<double>, QVector<double>>> byFormat;
    QStringList formatNames;
    for (const TensorResultPtr& r : std::as_const(m_results)) {
        if (!r || !r->spec || !r->analysis || !r->error.empty()) continue;
        const double x =
            m_x == XMeasure::BitsPerWeight ? r->bitsPerWeight : static_cast<double>(r->bytesAfter);
        double y = r->analysis->sums.mse();
        if (m_y == YMeasure::Sqnr) {
            const auto db = r->analysis->sums.sqnrDb();
            if (!db) continue; // exact: no finite SQNR to place
            y = *db;
        }
        // Log axes cannot show zero: exact tensors in MSE, empty ones in bytes.
        if (!std::isfinite(y) || (m_y == YMeasure::Mse && !(y > 0)) || !(x > 0)) continue;
        m_points.push_back({r->index, x, y, r});
        const QString f = formatLabel(*r);
        if (!formatIndex.contains(f)) {
            formatIndex.insert(f, static_cast<int>(byFormat.size()));
            byFormat.push_back({});
            formatNames << f;
        }
        auto& series = byFormat[formatIndex.value(f)];
        series.first << x;
        series.second << y;
    }
    std::sort(m_points.begin(), m_points.end(),
              [](const Point& a, const Point& b) { return a.row < b.row; });
    if (m_points.isEmpty()) {
        setTitle(QString());
        if (m_results.isEmpty())
            showPlaceholder();
        else
            showMessage(tr("No quantized layer has a finite %1 yet.")
                            .arg(m_y == YMeasure::Sqnr ? tr("SQNR") : tr("error")));
        return;
    }
    for (int i = 0; i < byFormat.size(); ++i) {
        QCPGraph* g = p->addGraph();
        g->setName(formatNames[i]);
        g->setLineStyle(QCPGraph::lsNone);
        const QColor c = paletteColor(i);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, c.darker(130), c, 8));
        g->setPen(QPen(c));
        g->setData(byFormat[i].first, byFormat[i].second);
    }
    m_selection = p->addGraph();
    m_selection->setLineStyle(QCPGraph::lsNone);
    m_selection->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(QColor(20, 20, 20), 2.2), Qt::NoBrush, 15));
    m_selection->removeFromLegend();
    updateSelection();

    const bool bytes = m_x == XMeasure::Bytes;
    setLog(p->xAxis, bytes);
    setLog(p->yAxis, m_y == YMeasure::Mse);
    p->xAxis->setLabel(bytes ? tr("size after quantization (bytes)") : tr("bits per weight"));
    p->yAxis->setLabel(m_y == YMeasure::Sqnr ? tr("SQNR (dB), higher is better")
                                             : tr("MSE, lower is better"));
    setTitle(m_points.size() == 1 ? tr("Error against size, 1 layer")
                                  : tr("Error against size, %1 layers").arg(m_points.size()));
    resetView();
    showPlot();
}

void ErrorSizePlot::setSelectedRow(int row)
{
    m_selected = row;
    updateSelection();
    if (isShowingPlot()) plot()->replot();
}

void ErrorSizePlot::updateSelection()
{
    if (!m_selection) return;
    m_selection->data()->clear();
    for (const Point& pt : std::as_const(m_points))
        if (pt.row == m_selected) m_selection->setData({pt.x}, {pt.y});
}

QPoint ErrorSizePlot::pointCenter(int row) const
{
    for (const Point& pt : m_points)
        if (pt.row == row)
            return QPoint(qRound(plot()->xAxis->coordToPixel(pt.x)),
                          qRound(plot()->yAxis->coordToPixel(pt.y)));
    return {-1, -1};
}

int ErrorSizePlot::rowAt(const QPoint& pos) const
{
    if (!isShowingPlot() || !plot()->axisRect()->rect().contains(pos)) return -1;
    int best = -1, bestDistance = kHitPixels * kHitPixels + 1;
    for (const Point& pt : m_points) {
        const QPoint d = pointCenter(pt.row) - pos;
        const int dist = d.x() * d.x() + d.y() * d.y();
        if (dist < bestDistance) {
            best = pt.row;
            bestDistance = dist;
        }
    }
    return best;
}

QString ErrorSizePlot::toolTipAt(const QPoint& pos) const
{
    const int row = rowAt(pos);
    if (row < 0) return {};
    const auto it = std::find_if(m_points.begin(), m_points.end(),
                                 [row](const Point& pt) { return pt.row == row; });
    const TensorResult& r = *it->result;
    QStringList lines{
        QStringLiteral("<b>%1</b>").arg(QString::fromStdString(r.name).toHtmlEscaped()),
        formatLabel(r).toHtmlEscaped(),
        tr("%1 bits per weight, %2")
            .arg(display::fixed(r.bitsPerWeight, 2), display::bytes(r.bytesAfter))};
    if (const auto db = r.analysis->sums.sqnrDb())
        lines << tr("SQNR: %1 dB").arg(display::decibels(*db));
    lines << tr("MSE: %1").arg(display::scientific(r.analysis->sums.mse()));
    lines << tr("Click to select this layer.");
    return QStringLiteral("<p style='white-space:nowrap'>%1</p>")
        .arg(lines.join(QStringLiteral("<br>")));
}

void ErrorSizePlot::onRelease(QMouseEvent* event)
{
    const QPoint pos = event->position().toPoint();
    // A drag pans the view; only a click in place picks a layer.
    if (event->button() != Qt::LeftButton || (pos - m_pressPos).manhattanLength() > kClickSlop)
        return;
    const int row = rowAt(pos);
    if (row < 0) return;
    setSelectedRow(row);
    emit layerClicked(row);
}

void ErrorSizePlot::onHover(QMouseEvent* event)
{
    const QString text = toolTipAt(event->position().toPoint());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

} // namespace qs
