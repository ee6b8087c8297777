#include "sqnrplot.h"

#include "displayformat.h"
#include "document.h"
#include "histogramstyle.h"
#include "resultnotes.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QToolTip>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {
constexpr double kBarWidth = 0.8;
constexpr int kClickSlop = 4;     // pixels a click may move and still pick a bar
constexpr int kLineHitPixels = 4; // how close to a reference line a hover names it

// One colour per integer bit width, so that layers of a mixed plan can be told apart and
// matched with their reference line; everything without a reference is grey (bits 0).
QColor colorForBits(int bits)
{
    switch (bits) {
    case 8:
        return QColor(60, 150, 90);
    case 7:
        return QColor(110, 160, 60);
    case 6:
        return QColor(170, 150, 30);
    case 5:
        return QColor(210, 130, 40);
    case 4:
        return QColor(60, 110, 200);
    case 3:
        return QColor(150, 90, 190);
    case 2:
        return QColor(200, 70, 70);
    default:
        return QColor(170, 175, 185);
    }
}

QString groupName(int bits)
{
    return bits > 0 ? SqnrPlot::tr("%1-bit int").arg(bits) : SqnrPlot::tr("other formats");
}
} // namespace

SqnrPlot::SqnrPlot(Document* document, QWidget* parent)
    : PlotWidget(parent), m_document(document), m_sortedBox(new QCheckBox(tr("Sorted")))
{
    m_sortedBox->setObjectName(QStringLiteral("sqnrSorted"));
    m_sortedBox->setToolTip(tr("Order the bars by SQNR, lowest first, instead of model order"));
    controlsLayout()->addStretch(1);
    controlsLayout()->addWidget(m_sortedBox);
    connect(m_sortedBox, &QCheckBox::toggled, this, [this](bool sorted) {
        plot()->xAxis->setLabel(sorted ? tr("layer (lowest SQNR first)")
                                       : tr("layer (model order)"));
        rebuild();
    });
    setObjectName(QStringLiteral("sqnrPlot"));
    setPlaceholderText(tr("Open a model to see the SQNR of its layers."));
    QCustomPlot* p = plot();
    histogramstyle::styleAxes(p, tr("layer (model order)"), tr("SQNR (dB)"));
    p->xAxis->grid()->setVisible(false);
    auto ticker = QSharedPointer<QCPAxisTickerFixed>::create();
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples); // whole layer numbers only
    p->xAxis->setTicker(ticker);
    p->xAxis->setSubTicks(false);
    p->setMouseTracking(true);
    // The chart lives in a narrow side panel: two legend entries per row, not one long row.
    p->legend->setWrap(2);
    // The reference lines cross the bars: they must be drawn over them, not hidden behind.
    p->addLayer(QStringLiteral("references"), p->layer(QStringLiteral("main")),
                QCustomPlot::limAbove);

    connect(p, &QCustomPlot::mousePress, this,
            [this](QMouseEvent* e) { m_pressPos = e->position().toPoint(); });
    connect(p, &QCustomPlot::mouseRelease, this, &SqnrPlot::onRelease);
    connect(p, &QCustomPlot::mouseMove, this, &SqnrPlot::onHover);

    m_updateTimer.setSingleShot(true);
    m_updateTimer.setInterval(60);
    connect(&m_updateTimer, &QTimer::timeout, this, &SqnrPlot::rebuild);
    connect(document, &Document::resultChanged, this, &SqnrPlot::scheduleUpdate);
    connect(document, &Document::busyChanged, this, &SqnrPlot::scheduleUpdate);
    connect(document, &Document::modelOpened, this, [this] {
        m_currentRow = -1;
        rebuild();
    });
    rebuild();
}

void SqnrPlot::scheduleUpdate()
{
    if (!m_updateTimer.isActive()) m_updateTimer.start();
}

QString SqnrPlot::exportName() const
{
    return QFileInfo(m_document->path()).completeBaseName() + QStringLiteral("-sqnr");
}

void SqnrPlot::resetView()
{
    plot()->xAxis->setRange(1.0 - kBarWidth, static_cast<double>(m_rows.size()) + kBarWidth);
    plot()->yAxis->setRange(m_yLow, m_yHigh);
}

void SqnrPlot::rebuild()
{
    m_updateTimer.stop();
    QCustomPlot* p = plot();
    p->clearItems();
    p->clearPlottables();
    m_selected = nullptr;
    m_rows.clear();
    m_sqnr.clear();
    m_references.clear();
    if (m_document->tensorCount() == 0) {
        setTitle(QString());
        showPlaceholder();
        return;
    }

    // Bars grouped by bit width (0: formats without a reference), keys being bar positions.
    QMap<int, QPair<QVector<double>, QVector<double>>> groups;
    int quantized = 0;
    struct Bar
    {
        int row;
        double db;
        int bits;
    };
    QVector<Bar> bars;
    for (int row = 0; row < m_document->tensorCount(); ++row) {
        const TensorResultPtr r = m_document->result(row);
        if (!r || !r->spec || !r->analysis || !r->error.empty()) continue;
        ++quantized;
        const auto db = r->analysis->sums.sqnrDb();
        if (!db || !std::isfinite(*db)) continue; // exact: no bar could be tall enough
        bars.push_back({row, *db, notes::idealBits(*r).value_or(0)});
    }
    if (m_sortedBox->isChecked())
        std::stable_sort(bars.begin(), bars.end(),
                         [](const Bar& a, const Bar& b) { return a.db < b.db; });
    for (const Bar& b : bars) {
        m_rows << b.row;
        m_sqnr << b.db;
        groups[b.bits].first << static_cast<double>(m_rows.size());
        groups[b.bits].second << b.db;
        if (b.bits > 0 && !m_references.contains(b.bits))
            m_references[b.bits] = notes::idealUniformDb(b.bits);
    }
    if (m_rows.isEmpty()) {
        setTitle(QString());
        showMessage(quantized > 0
                        ? tr("Every quantized layer is exact: there is no finite SQNR to plot.")
                        : tr("No layer is quantized yet."));
        return;
    }

    // Widest bit width first in the legend, formats without a reference last.
    for (auto it = groups.end(); it != groups.begin();) {
        --it;
        if (it.key() == 0) continue;
        auto* bars = new QCPBars(p->xAxis, p->yAxis);
        bars->setName(groupName(it.key()));
        bars->setWidth(kBarWidth);
        bars->setPen(QPen(colorForBits(it.key()).darker(130)));
        bars->setBrush(colorForBits(it.key()));
        bars->setData(it.value().first, it.value().second, true);
    }
    if (groups.contains(0)) {
        auto* bars = new QCPBars(p->xAxis, p->yAxis);
        bars->setName(groupName(0));
        bars->setWidth(kBarWidth);
        bars->setPen(QPen(colorForBits(0).darker(130)));
        bars->setBrush(colorForBits(0));
        bars->setData(groups[0].first, groups[0].second, true);
    }
    m_selected = new QCPBars(p->xAxis, p->yAxis);
    m_selected->setWidth(kBarWidth);
    m_selected->setPen(QPen(QColor(30, 30, 30), 2.0));
    m_selected->setBrush(QColor(30, 30, 30, 90));
    m_selected->removeFromLegend();
    updateHighlight();

    for (auto it = m_references.cbegin(); it != m_references.cend(); ++it) {
        const QColor color = colorForBits(it.key()).darker(200);
        auto* line = new QCPItemStraightLine(p);
        line->setLayer(QStringLiteral("references"));
        line->setPen(QPen(color, 1.6, Qt::DashLine));
        line->point1->setCoords(0, it.value());
        line->point2->setCoords(1, it.value());
        auto* label = new QCPItemText(p);
        label->setLayer(QStringLiteral("references"));
        label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        label->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
        label->position->setTypeY(QCPItemPosition::ptPlotCoords);
        label->position->setCoords(0.99, it.value());
        label->setText(tr("ideal %1-bit: %2 dB").arg(it.key()).arg(display::decibels(it.value())));
        label->setColor(color);
        label->setBrush(QColor(255, 255, 255, 200));
        label->setPadding(QMargins(2, 0, 2, 1));
    }
    if (!m_references.isEmpty()) {
        QCPGraph* legend = p->addGraph();
        legend->setName(tr("ideal uniform (Gaussian)"));
        const QColor color = m_references.size() == 1
                                 ? colorForBits(m_references.firstKey()).darker(200)
                                 : histogramstyle::markerColor();
        legend->setPen(QPen(color, 1.6, Qt::DashLine));
    }

    double lo = 0, hi = 1;
    for (double v : std::as_const(m_sqnr)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    for (double v : std::as_const(m_references))
        hi = std::max(hi, v);
    m_yLow = lo < 0 ? lo * 1.1 : 0.0;
    m_yHigh = hi * 1.1; // room for the reference labels above the lines

    setTitle(tr("SQNR per layer"));
    resetView();
    showPlot();
}

void SqnrPlot::setCurrentRow(int row)
{
    m_currentRow = row;
    updateHighlight();
    if (isShowingPlot()) plot()->replot();
}

void SqnrPlot::updateHighlight()
{
    if (!m_selected) return;
    const auto i = m_rows.indexOf(m_currentRow);
    if (i < 0)
        m_selected->data()->clear();
    else
        m_selected->setData({static_cast<double>(i + 1)}, {m_sqnr[i]}, true);
}

int SqnrPlot::rowAt(const QPoint& pos) const
{
    if (!isShowingPlot() || m_rows.isEmpty() || !plot()->axisRect()->rect().contains(pos))
        return -1;
    const double x = plot()->xAxis->pixelToCoord(pos.x());
    const double nearest = std::round(x);
    const auto i = static_cast<qsizetype>(nearest) - 1;
    if (i < 0 || i >= m_rows.size() || std::abs(x - nearest) > kBarWidth / 2) return -1;
    return m_rows[i];
}

QPoint SqnrPlot::barCenter(int row) const
{
    const auto i = m_rows.indexOf(row);
    if (i < 0) return {-1, -1};
    return QPoint(qRound(plot()->xAxis->coordToPixel(static_cast<double>(i + 1))),
                  qRound(plot()->yAxis->coordToPixel(m_sqnr[i] / 2)));
}

QString SqnrPlot::toolTipAt(const QPoint& pos) const
{
    if (const int row = rowAt(pos); row >= 0) {
        const TensorResultPtr r = m_document->result(row);
        if (!r || !r->analysis) return {};
        QStringList lines{
            QStringLiteral("<b>%1</b>").arg(QString::fromStdString(r->name).toHtmlEscaped()),
            QStringLiteral("%1 (%2)").arg(r->formatName(), r->granularityName())};
        const auto i = m_rows.indexOf(row);
        lines << tr("SQNR: %1 dB").arg(display::decibels(m_sqnr[i]));
        if (const QString ideal = notes::idealComparison(*r); !ideal.isEmpty())
            lines << ideal.toHtmlEscaped();
        if (notes::hasNonFinite(*r))
            lines << QStringLiteral("\u26a0 %1").arg(notes::nonFiniteWarning(*r).toHtmlEscaped());
        lines << tr("Click to select this layer.");
        // Rich-text tooltips wrap at a narrow width; these lines read better whole.
        return QStringLiteral("<p style='white-space:nowrap'>%1</p>")
            .arg(lines.join(QStringLiteral("<br>")));
    }
    for (auto it = m_references.cbegin(); it != m_references.cend(); ++it)
        if (std::abs(plot()->yAxis->coordToPixel(it.value()) - pos.y()) <= kLineHitPixels)
            return tr("Ideal uniform quantizer with %1 bits on a Gaussian: %2 dB")
                .arg(it.key())
                .arg(display::fixed(it.value(), 2));
    return {};
}

void SqnrPlot::onRelease(QMouseEvent* event)
{
    const QPoint pos = event->position().toPoint();
    // A drag pans the axis; only a click in place picks a layer.
    if (event->button() != Qt::LeftButton || (pos - m_pressPos).manhattanLength() > kClickSlop)
        return;
    const int row = rowAt(pos);
    if (row < 0) return;
    setCurrentRow(row);
    emit rowClicked(row);
}

void SqnrPlot::onHover(QMouseEvent* event)
{
    const QString text = toolTipAt(event->position().toPoint());
    if (text.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), text, plot());
}

} // namespace qs
