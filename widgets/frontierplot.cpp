#include "frontierplot.h"

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
constexpr int kHitPixels = 8;
constexpr int kClickSlop = 4; // pixels a click may move and still pick a point

const QColor kFrontierColor(40, 100, 190);
const QColor kMixColor(200, 110, 30);
const QColor kChosenColor(200, 40, 60);

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

FrontierPlot::FrontierPlot(QWidget* parent)
    : PlotWidget(parent), m_xBox(new QComboBox), m_logBox(new QCheckBox(tr("log distortion")))
{
    setObjectName(QStringLiteral("frontierPlot"));
    setPlaceholderText(
        tr("Compute the candidate costs to see the best distortion for every size."));
    QCustomPlot* p = plot();
    histogramstyle::styleAxes(p, QString(), QString());
    p->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    p->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    p->setMouseTracking(true);
    connect(p, &QCustomPlot::mousePress, this,
            [this](QMouseEvent* e) { m_pressPos = e->position().toPoint(); });
    connect(p, &QCustomPlot::mouseRelease, this, &FrontierPlot::onRelease);
    connect(p, &QCustomPlot::mouseMove, this, &FrontierPlot::onHover);

    m_xBox->setObjectName(QStringLiteral("frontierX"));
    m_xBox->addItem(tr("bits per weight"), QVariant::fromValue(XMeasure::BitsPerWeight));
    m_xBox->addItem(tr("size (bytes)"), QVariant::fromValue(XMeasure::Bytes));
    m_logBox->setObjectName(QStringLiteral("frontierLogY"));
    m_logBox->setChecked(m_logY);
    controlsLayout()->insertWidget(0, new QLabel(tr("x:")));
    controlsLayout()->insertWidget(1, m_xBox);
    controlsLayout()->insertWidget(2, m_logBox);
    connect(m_xBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setXMeasure(m_xBox->itemData(i).value<XMeasure>()); });
    connect(m_logBox, &QCheckBox::toggled, this, &FrontierPlot::setLogY);
    rebuild();
}

void FrontierPlot::setData(const FrontierPlotData& data)
{
    m_data = data;
    rebuild();
}

void FrontierPlot::setChosen(const std::optional<FrontierPlotData::Point>& chosen)
{
    m_chosen = chosen;
    updateChosen();
    if (isShowingPlot()) plot()->replot();
}

void FrontierPlot::setXMeasure(XMeasure m)
{
    if (m_x == m) return;
    m_x = m;
    m_xBox->setCurrentIndex(m_xBox->findData(QVariant::fromValue(m)));
    rebuild();
}

void FrontierPlot::setLogY(bool log)
{
    if (m_logY == log) return;
    m_logY = log;
    m_logBox->setChecked(log);
    rebuild();
}

QString FrontierPlot::notesText() const
{
    return m_data.notes.join(QLatin1Char('\n'));
}

double FrontierPlot::xOf(quint64 bytes) const
{
    if (m_x == XMeasure::Bytes) return static_cast<double>(bytes);
    return m_data.params > 0 ? 8.0 * static_cast<double>(bytes) / m_data.params : 0.0;
}

QString FrontierPlot::exportName() const
{
    return QStringLiteral("allocation-frontier");
}

void FrontierPlot::resetView()
{
    QCustomPlot* p = plot();
    p->rescaleAxes();
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

void FrontierPlot::rebuild()
{
    QCustomPlot* p = plot();
    p->clearGraphs();
    p->clearItems();
    m_chosenGraph = nullptr;
    if (m_data.vertices.isEmpty()) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    QVector<double> xs, ys;
    for (const auto& v : std::as_const(m_data.vertices))
        if (drawable(v.distortion)) {
            xs << xOf(v.bytes);
            ys << v.distortion;
        }
    QCPGraph* line = p->addGraph();
    line->setName(tr("optimal allocation (frontier)"));
    line->setPen(QPen(kFrontierColor, 1.8));
    // A large model has a vertex per hull step of every tensor: smaller markers keep the line
    // readable, and clicks still find the nearest one.
    const double marker = xs.size() > 150 ? 3 : 6;
    line->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kFrontierColor, 1.4), Qt::white, marker));
    line->setData(xs, ys, true);

    if (!m_data.mixes.isEmpty()) {
        QCPGraph* mixes = p->addGraph();
        mixes->setName(tr("llama.cpp mixes"));
        mixes->setLineStyle(QCPGraph::lsNone);
        mixes->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond,
                                               QPen(kMixColor.darker(130)), kMixColor, 11));
        for (const auto& m : std::as_const(m_data.mixes)) {
            if (!drawable(m.point.distortion)) continue;
            const double x = xOf(m.point.bytes);
            mixes->addData(x, m.point.distortion);
            auto* text = new QCPItemText(p);
            text->setText(m.label);
            text->setColor(kMixColor.darker(150));
            text->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
            text->position->setCoords(x, m.point.distortion);
            text->setPadding(QMargins(7, 0, 0, 5));
        }
    }

    m_chosenGraph = p->addGraph();
    m_chosenGraph->setName(tr("chosen budget"));
    m_chosenGraph->setLineStyle(QCPGraph::lsNone);
    m_chosenGraph->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssStar, QPen(kChosenColor, 2.4), Qt::NoBrush, 17));
    updateChosen();

    const bool bytes = m_x == XMeasure::Bytes;
    p->xAxis->setLabel(bytes ? tr("size of the budgeted tensors (bytes)") : tr("bits per weight"));
    p->yAxis->setLabel(tr("total distortion (%1)")
                           .arg(m_data.measure.isEmpty() ? QStringLiteral("mse") : m_data.measure));
    if (!m_data.notes.isEmpty()) {
        // A frontier falls from top left to bottom right: the top right corner stays free.
        auto* notes = new QCPItemText(p);
        notes->setText(notesText());
        notes->setColor(palette().color(QPalette::PlaceholderText));
        notes->setFont(QFont(font().family(), std::max(7, font().pointSize() - 1)));
        notes->setTextAlignment(Qt::AlignRight);
        notes->setPositionAlignment(Qt::AlignRight | Qt::AlignTop);
        notes->position->setType(QCPItemPosition::ptAxisRectRatio);
        notes->position->setCoords(0.99, 0.02);
        notes->setClipToAxisRect(true);
    }
    setLog(p->xAxis, false);
    setLog(p->yAxis, m_logY);
    setTitle(tr("Least distortion for each size, %n vertices", nullptr,
                static_cast<int>(m_data.vertices.size())));
    resetView();
    showPlot();
}

void FrontierPlot::updateChosen()
{
    if (!m_chosenGraph) return;
    m_chosenGraph->data()->clear();
    if (m_chosen && drawable(m_chosen->distortion))
        m_chosenGraph->addData(xOf(m_chosen->bytes), m_chosen->distortion);
}

QPoint FrontierPlot::toPixels(double x, double y) const
{
    return QPoint(qRound(plot()->xAxis->coordToPixel(x)), qRound(plot()->yAxis->coordToPixel(y)));
}

QPoint FrontierPlot::vertexCenter(int k) const
{
    if (k < 0 || k >= m_data.vertices.size() || !isShowingPlot()) return {-1, -1};
    const auto& v = m_data.vertices[k];
    if (!drawable(v.distortion)) return {-1, -1};
    return toPixels(xOf(v.bytes), v.distortion);
}

QPoint FrontierPlot::mixCenter(int i) const
{
    if (i < 0 || i >= m_data.mixes.size() || !isShowingPlot()) return {-1, -1};
    const auto& m = m_data.mixes[i];
    if (!drawable(m.point.distortion)) return {-1, -1};
    return toPixels(xOf(m.point.bytes), m.point.distortion);
}

int FrontierPlot::vertexAt(const QPoint& pos) const
{
    if (!isShowingPlot() || !plot()->axisRect()->rect().contains(pos)) return -1;
    int best = -1, bestDistance = kHitPixels * kHitPixels + 1;
    for (int k = 0; k < m_data.vertices.size(); ++k) {
        if (!drawable(m_data.vertices[k].distortion)) continue;
        const QPoint d = vertexCenter(k) - pos;
        const int dist = d.x() * d.x() + d.y() * d.y();
        if (dist < bestDistance) {
            best = k;
            bestDistance = dist;
        }
    }
    return best;
}

QString FrontierPlot::pointText(const FrontierPlotData::Point& p) const
{
    return tr("%1 (%2), %3 bits per weight<br>distortion %4")
        .arg(display::bytes(p.bytes), display::exactBytes(p.bytes),
             display::fixed(m_data.params > 0 ? 8.0 * double(p.bytes) / m_data.params : 0.0, 3),
             display::scientific(p.distortion));
}

QString FrontierPlot::toolTipAt(const QPoint& pos) const
{
    if (!isShowingPlot()) return {};
    QStringList lines;
    for (int i = 0; i < m_data.mixes.size() && lines.isEmpty(); ++i) {
        const QPoint d = mixCenter(i) - pos;
        if (mixCenter(i).x() < 0 || d.x() * d.x() + d.y() * d.y() > kHitPixels * kHitPixels)
            continue;
        const auto& m = m_data.mixes[i];
        lines << QStringLiteral("<b>%1</b>").arg(m.label.toHtmlEscaped()) << pointText(m.point);
        if (m.optimalDistortion && m.point.distortion > 0)
            lines << tr("optimal allocation at this size: %1 (%2% less)")
                         .arg(display::scientific(*m.optimalDistortion),
                              display::fixed(
                                  100.0 * (1.0 - *m.optimalDistortion / m.point.distortion), 1));
    }
    if (lines.isEmpty()) {
        const int k = vertexAt(pos);
        if (k < 0) return {};
        lines << tr("<b>Frontier vertex %1 of %2</b>").arg(k + 1).arg(m_data.vertices.size())
              << pointText(m_data.vertices[k]) << tr("Click to use this size as the budget.");
    }
    return QStringLiteral("<p style='white-space:nowrap'>%1</p>")
        .arg(lines.join(QStringLiteral("<br>")));
}

void FrontierPlot::onRelease(QMouseEvent* event)
{
    const QPoint pos = event->position().toPoint();
    // A drag pans the view; only a click in place picks a vertex.
    if (event->button() != Qt::LeftButton || (pos - m_pressPos).manhattanLength() > kClickSlop)
        return;
    const int k = vertexAt(pos);
    if (k >= 0) emit pointClicked(k);
}

void FrontierPlot::onHover(QMouseEvent* event)
{
    const QString text = toolTipAt(event->position().toPoint());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

} // namespace qs
