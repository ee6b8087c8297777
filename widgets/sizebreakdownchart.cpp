#include "sizebreakdownchart.h"

#include "displayformat.h"
#include "histogramstyle.h"

#include <QRegularExpression>

#include <qcustomplot.h>

#include <array>
#include <cmath>

namespace qs {
namespace {
constexpr int kMaxTickLabels = 20; // beyond this, every k-th group is labelled
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
const QString kOther = QStringLiteral("other");

struct Unit
{
    double divisor;
    QString name;
};

Unit unitFor(double bytes)
{
    static const std::array<QString, 4> names{QStringLiteral("B"), QStringLiteral("KiB"),
                                              QStringLiteral("MiB"), QStringLiteral("GiB")};
    double divisor = 1;
    std::size_t i = 0;
    while (bytes / divisor >= 1024.0 && i + 1 < names.size()) {
        divisor *= 1024.0;
        ++i;
    }
    return {divisor, names[i]};
}

const std::array<QColor, 3>& variantColors()
{
    static const std::array<QColor, 3> colors{QColor(175, 180, 190), QColor(60, 110, 200),
                                              QColor(60, 150, 90)};
    return colors;
}

void styleBars(QCPBars* bars, const QColor& color, double width)
{
    bars->setWidth(width);
    bars->setPen(QPen(color.darker(130)));
    bars->setBrush(color);
}

void styleRect(QCPAxisRect* rect)
{
    const QPen grid(QColor(225, 225, 225), 0, Qt::SolidLine);
    for (QCPAxis* a : rect->axes()) {
        a->grid()->setPen(grid);
        a->setBasePen(QPen(QColor(120, 120, 120)));
        a->setTickPen(QPen(QColor(120, 120, 120)));
        a->setSubTickPen(QPen(QColor(160, 160, 160)));
    }
    rect->axis(QCPAxis::atBottom)->grid()->setVisible(false);
    rect->axis(QCPAxis::atBottom)->setSubTicks(false);
}

// The trailing number of a group name, for ordering layer 2 before layer 10.
std::pair<QString, qint64> sortKey(const QString& group)
{
    const auto dot = group.lastIndexOf(QLatin1Char('.'));
    if (dot < 0) return {QString(), group.toLongLong()};
    return {group.left(dot), group.mid(dot + 1).toLongLong()};
}
} // namespace

SizeBreakdownChart::SizeBreakdownChart(QWidget* parent)
    : PlotWidget(parent), m_totalRect(new QCPAxisRect(plot()))
{
    setObjectName(QStringLiteral("sizeBreakdownChart"));
    setPlaceholderText(tr("Open a model to see its size by layer."));
    QCustomPlot* p = plot();
    QCPAxisRect* main = p->axisRect();
    // Both panels share one row under the title: the groups wide, the totals narrow.
    p->plotLayout()->take(main);
    auto* row = new QCPLayoutGrid;
    p->plotLayout()->addElement(1, 0, row);
    row->addElement(0, 0, main);
    row->addElement(0, 1, m_totalRect);
    row->setColumnStretchFactor(0, 4.0);
    row->setColumnStretchFactor(1, 1.0);
    m_totalRect->setMinimumSize(170, 0); // three labelled bars stay readable in a narrow panel
    auto* margins = new QCPMarginGroup(p);
    main->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    m_totalRect->setMarginGroup(QCP::msTop | QCP::msBottom, margins);
    styleRect(main);
    styleRect(m_totalRect);
    main->setRangeDrag(Qt::Horizontal); // many groups: pan and zoom along them
    main->setRangeZoom(Qt::Horizontal);
    m_totalRect->setRangeDrag(Qt::Orientations());
    m_totalRect->setRangeZoom(Qt::Orientations());

    const auto& colors = variantColors();
    m_fp32 = new QCPBars(main->axis(QCPAxis::atBottom), main->axis(QCPAxis::atLeft));
    m_fp16 = new QCPBars(main->axis(QCPAxis::atBottom), main->axis(QCPAxis::atLeft));
    m_plan = new QCPBars(main->axis(QCPAxis::atBottom), main->axis(QCPAxis::atLeft));
    m_fp32->setName(tr("FP32"));
    m_fp16->setName(tr("FP16"));
    m_plan->setName(tr("plan"));
    auto* group = new QCPBarsGroup(p);
    for (auto [bars, i] : {std::pair{m_fp32, 0}, {m_fp16, 1}, {m_plan, 2}}) {
        styleBars(bars, colors[static_cast<std::size_t>(i)], 0.27);
        bars->setBarsGroup(group);
    }
    group->setSpacing(0);

    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const QStringList names{tr("FP32"), tr("FP16"), tr("plan")};
    for (int i = 0; i < 3; ++i) {
        ticker->addTick(i + 1, names[i]);
        m_totalBars[i] =
            new QCPBars(m_totalRect->axis(QCPAxis::atBottom), m_totalRect->axis(QCPAxis::atLeft));
        styleBars(m_totalBars[i], colors[static_cast<std::size_t>(i)], 0.7);
        m_totalBars[i]->removeFromLegend(); // the group bars already name the colours
    }
    m_totalRect->axis(QCPAxis::atBottom)->setTicker(ticker);
    // Items have no legend entry of their own; an empty graph names the marker lines.
    m_markerLegend = p->addGraph();
    m_markerLegend->setName(tr("memory sizes near the totals"));
    m_markerLegend->setPen(QPen(histogramstyle::markerColor(), 1.2, Qt::DashLine));
    m_totalRect->axis(QCPAxis::atBottom)->setLabel(tr("whole model"));
    rebuild();
}

QVector<int> SizeBreakdownChart::memorySizesGiB()
{
    return {8, 16, 24, 48, 80};
}

QString SizeBreakdownChart::groupOf(const QString& tensorName)
{
    static const QRegularExpression digits(QStringLiteral("^[0-9]+$"));
    const QStringList parts = tensorName.split(QLatin1Char('.'));
    for (qsizetype i = 0; i < parts.size(); ++i)
        if (digits.match(parts[i]).hasMatch())
            return QStringList(parts.mid(0, i + 1)).join(QLatin1Char('.'));
    return kOther;
}

void SizeBreakdownChart::setRows(const QVector<LayerSizeRow>& rows)
{
    m_rows = rows;
    rebuild();
}

QString SizeBreakdownChart::exportName() const
{
    return QStringLiteral("size-by-layer");
}

void SizeBreakdownChart::resetView()
{
    plot()->xAxis->setRange(0.3, static_cast<double>(m_groups.size()) + 0.7);
    plot()->yAxis->setRange(0, m_groupsMax);
    m_totalRect->axis(QCPAxis::atBottom)->setRange(0.3, 3.7);
    m_totalRect->axis(QCPAxis::atLeft)->setRange(0, m_totalMax);
}

void SizeBreakdownChart::rebuild()
{
    QCustomPlot* p = plot();
    p->clearItems();
    m_groups.clear();
    m_markers.clear();
    m_total = {tr("total"), 0, 0};
    if (m_rows.isEmpty()) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    QMap<QString, Group> byName;
    for (const LayerSizeRow& r : std::as_const(m_rows)) {
        Group& g = byName[groupOf(r.name)];
        g.name = groupOf(r.name);
        g.params += r.params;
        g.bytesPlan += r.bytesPlan;
        m_total.params += r.params;
        m_total.bytesPlan += r.bytesPlan;
    }
    for (const Group& g : std::as_const(byName))
        if (g.name != kOther) m_groups << g;
    std::sort(m_groups.begin(), m_groups.end(),
              [](const Group& a, const Group& b) { return sortKey(a.name) < sortKey(b.name); });
    if (byName.contains(kOther)) m_groups << byName.value(kOther);

    // Numbered groups with one prefix are labelled by number alone, the prefix named once.
    QString prefix;
    bool onePrefix = true;
    for (const Group& g : std::as_const(m_groups)) {
        if (g.name == kOther) continue;
        const QString pre = sortKey(g.name).first;
        if (prefix.isEmpty()) prefix = pre;
        onePrefix = onePrefix && pre == prefix;
    }
    onePrefix = onePrefix && !prefix.isEmpty();

    quint64 groupMax = 0;
    for (const Group& g : std::as_const(m_groups))
        groupMax = std::max({groupMax, g.bytesFp32(), g.bytesPlan});
    const Unit gu = unitFor(static_cast<double>(groupMax));
    QVector<double> keys, fp32, fp16, plan;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    const int step = (static_cast<int>(m_groups.size()) + kMaxTickLabels - 1) / kMaxTickLabels;
    for (int i = 0; i < m_groups.size(); ++i) {
        const Group& g = m_groups[i];
        keys << i + 1;
        fp32 << static_cast<double>(g.bytesFp32()) / gu.divisor;
        fp16 << static_cast<double>(g.bytesFp16()) / gu.divisor;
        plan << static_cast<double>(g.bytesPlan) / gu.divisor;
        // Every step-th group is labelled, and "other"; not the one beside it when thinned.
        const bool beforeOther = i + 1 < m_groups.size() && m_groups[i + 1].name == kOther;
        if (g.name != kOther && (i % step != 0 || (step > 1 && beforeOther))) continue;
        const bool numberOnly = onePrefix && g.name != kOther;
        ticker->addTick(i + 1,
                        numberOnly ? g.name.mid(g.name.lastIndexOf(QLatin1Char('.')) + 1) : g.name);
    }
    m_fp32->setData(keys, fp32, true);
    m_fp16->setData(keys, fp16, true);
    m_plan->setData(keys, plan, true);
    p->xAxis->setTicker(ticker);
    p->xAxis->setTickLabelRotation(onePrefix ? 0 : -40);
    p->xAxis->setLabel(onePrefix ? tr("layer (%1.N)").arg(prefix) : tr("layer group"));
    p->yAxis->setLabel(tr("size (%1)").arg(gu.name));
    m_groupsMax = static_cast<double>(groupMax) / gu.divisor * 1.08;

    // Totals, and the memory sizes near them: the next size up from each total and any
    // between them, none far beyond the data.
    const std::array<quint64, 3> totals{m_total.bytesFp32(), m_total.bytesFp16(),
                                        m_total.bytesPlan};
    const double hi = static_cast<double>(*std::max_element(totals.begin(), totals.end()));
    const double lo = static_cast<double>(*std::min_element(totals.begin(), totals.end()));
    double top = hi;
    for (int gib : memorySizesGiB()) {
        const double bytes = gib * kGiB;
        if (bytes <= 2.0 * hi && bytes >= 0.5 * lo) {
            m_markers << gib;
            top = std::max(top, bytes);
        }
    }
    const Unit tu = unitFor(top);
    QCPAxis* tx = m_totalRect->axis(QCPAxis::atBottom);
    QCPAxis* ty = m_totalRect->axis(QCPAxis::atLeft);
    ty->setLabel(tr("size (%1)").arg(tu.name));
    for (int i = 0; i < 3; ++i) {
        const double v = static_cast<double>(totals[static_cast<std::size_t>(i)]) / tu.divisor;
        m_totalBars[i]->setData({static_cast<double>(i + 1)}, {v}, true);
        auto* text = new QCPItemText(p);
        text->setClipAxisRect(m_totalRect);
        text->position->setAxes(tx, ty);
        text->position->setAxisRect(m_totalRect);
        text->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        text->position->setCoords(i + 1, v);
        text->setText(display::bytes(totals[static_cast<std::size_t>(i)]));
        text->setPadding(QMargins(1, 1, 1, 3));
        QFont small = font();
        small.setPointSize(std::max(7, small.pointSize() - 1));
        text->setFont(small);
    }
    for (int gib : std::as_const(m_markers)) {
        const double y = gib * kGiB / tu.divisor;
        auto* line = new QCPItemStraightLine(p);
        line->setClipAxisRect(m_totalRect);
        for (QCPItemPosition* pos : {line->point1, line->point2})
            pos->setAxes(tx, ty);
        line->setPen(QPen(histogramstyle::markerColor(), 1.2, Qt::DashLine));
        line->point1->setCoords(0, y);
        line->point2->setCoords(1, y);
        auto* label = new QCPItemText(p);
        label->setClipAxisRect(m_totalRect);
        // At the right edge, away from the labels of the FP32 and FP16 bars.
        label->position->setTypeX(QCPItemPosition::ptAxisRectRatio);
        label->position->setAxisRect(m_totalRect);
        label->position->setTypeY(QCPItemPosition::ptPlotCoords);
        label->position->setAxes(tx, ty);
        label->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
        label->position->setCoords(0.99, y);
        label->setText(tr("%1 GiB").arg(gib));
        label->setColor(histogramstyle::markerColor());
        label->setPadding(QMargins(1, 0, 1, 1));
    }
    m_totalMax = top / tu.divisor * 1.15; // room for the labels above the bars
    if (m_markers.isEmpty())
        m_markerLegend->removeFromLegend();
    else
        m_markerLegend->addToLegend();

    setTitle(tr("Size by layer: plan %1, FP16 %2")
                 .arg(display::bytes(m_total.bytesPlan), display::bytes(m_total.bytesFp16())));
    resetView();
    showPlot();
}

} // namespace qs
