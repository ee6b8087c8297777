#include "plancompare.h"

#include "displayformat.h"
#include "document.h"
#include "plancomparemodels.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace qs {
namespace {
const QColor kColorA(0x3b, 0x75, 0xaf);
const QColor kColorB(0xef, 0x8a, 0x3c);
} // namespace

PlanCompareBars::PlanCompareBars(Document* doc, QWidget* parent) : PlotWidget(parent), m_doc(doc)
{
    setPlaceholderText(tr("Add a second plan with + above the table to compare plans."));
    plot()->xAxis->setLabel(tr("tensor (model order)"));
    plot()->yAxis->setLabel(tr("SQNR (dB)"));
    plot()->legend->setVisible(true);
    connect(plot(), &QCustomPlot::mouseRelease, this, [this](QMouseEvent* e) {
        const int row = rowAt(e->position().toPoint());
        if (e->button() == Qt::LeftButton && row >= 0) emit rowClicked(row);
    });
    showPlaceholder();
}

QString PlanCompareBars::exportName() const
{
    return QStringLiteral("plan-comparison");
}

void PlanCompareBars::setPlans(int a, int b)
{
    m_a = a;
    m_b = b;
    rebuild();
}

void PlanCompareBars::rebuild()
{
    QCustomPlot* p = plot();
    p->clearPlottables();
    m_rows.clear();
    if (m_a == m_b || m_a >= m_doc->planCount() || m_b >= m_doc->planCount()) {
        showPlaceholder();
        return;
    }
    auto* group = new QCPBarsGroup(p);
    QVector<double> keys, va, vb;
    for (int row = 0; row < m_doc->tensorCount(); ++row) {
        const auto ra = m_doc->resultOf(m_a, row), rb = m_doc->resultOf(m_b, row);
        const auto sa = ra && ra->spec && ra->analysis ? ra->analysis->sums.sqnrDb() : std::nullopt;
        const auto sb = rb && rb->spec && rb->analysis ? rb->analysis->sums.sqnrDb() : std::nullopt;
        if (!sa && !sb) continue;
        keys << m_rows.size();
        m_rows << row;
        va << sa.value_or(0.0);
        vb << sb.value_or(0.0);
    }
    if (m_rows.isEmpty()) {
        showMessage(tr("No quantized tensor yet."));
        return;
    }
    const int plans[2] = {m_a, m_b};
    const QVector<double>* values[2] = {&va, &vb};
    const QColor colors[2] = {kColorA, kColorB};
    for (int i = 0; i < 2; ++i) {
        auto* bars = new QCPBars(p->xAxis, p->yAxis);
        bars->setName(tr("plan %1").arg(m_doc->planName(plans[i])));
        bars->setWidth(0.4);
        bars->setPen(Qt::NoPen);
        bars->setBrush(colors[i]);
        bars->setBarsGroup(group);
        bars->setData(keys, *values[i], true);
    }
    p->xAxis->setRange(-0.8, m_rows.size() - 0.2);
    p->yAxis->rescale();
    p->yAxis->setRangeLower(0);
    p->yAxis->setRangeUpper(p->yAxis->range().upper * 1.08);
    setTitle(tr("SQNR per tensor: plan %1 vs plan %2")
                 .arg(m_doc->planName(m_a), m_doc->planName(m_b)));
    showPlot();
}

int PlanCompareBars::rowAt(const QPoint& pos) const
{
    if (m_rows.isEmpty() || !isShowingPlot() || !plot()->axisRect()->rect().contains(pos))
        return -1;
    const int i = static_cast<int>(std::lround(plot()->xAxis->pixelToCoord(pos.x())));
    return i >= 0 && i < m_rows.size() ? m_rows[i] : -1;
}

QPoint PlanCompareBars::pixelOf(int row) const
{
    const auto i = m_rows.indexOf(row);
    if (i < 0) return {-1, -1};
    const double y = plot()->yAxis->range().lower + plot()->yAxis->range().size() * 0.1;
    return QPoint(int(plot()->xAxis->coordToPixel(double(i))), int(plot()->yAxis->coordToPixel(y)));
}

PlanComparison::PlanComparison(Document* doc, QWidget* parent)
    : QWidget(parent), m_doc(doc), m_comboA(new QComboBox(this)), m_comboB(new QComboBox(this)),
      m_totals(new PlanTotalsModel(doc, this)), m_diff(new PlanDiffModel(doc, this)),
      m_totalsView(new QTableView(this)), m_diffView(new QTableView(this)),
      m_bars(new PlanCompareBars(doc, this))
{
    setObjectName(QStringLiteral("planComparison"));
    m_comboA->setObjectName(QStringLiteral("comparePlanA"));
    m_comboB->setObjectName(QStringLiteral("comparePlanB"));
    m_comboA->setAccessibleName(tr("First plan"));
    m_comboB->setAccessibleName(tr("Second plan"));
    for (QTableView* v : {m_totalsView, m_diffView}) {
        v->verticalHeader()->hide();
        v->setSelectionBehavior(QAbstractItemView::SelectRows);
        v->setEditTriggers(QAbstractItemView::NoEditTriggers);
        v->setWordWrap(false);
        v->horizontalHeader()->setStretchLastSection(true);
    }
    m_totalsView->setObjectName(QStringLiteral("planTotals"));
    m_totalsView->setModel(m_totals);
    m_diffView->setObjectName(QStringLiteral("planDiff"));
    m_diffView->setModel(m_diff);
    m_diffView->setTextElideMode(Qt::ElideMiddle);
    m_diffView->setToolTip(tr("Tensors the two plans quantize differently, the largest SQNR "
                              "difference first. Click to select the layer."));

    auto* pick = new QHBoxLayout;
    pick->addWidget(new QLabel(tr("Compare"), this));
    pick->addWidget(m_comboA);
    pick->addWidget(new QLabel(tr("with"), this));
    pick->addWidget(m_comboB);
    pick->addStretch(1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_totalsView);
    split->addWidget(m_bars);
    split->addWidget(m_diffView);
    split->setSizes({120, 220, 160});
    m_totalsView->setMinimumHeight(m_totalsView->fontMetrics().height() * 5);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(pick);
    layout->addWidget(split, 1);

    m_timer.setSingleShot(true);
    m_timer.setInterval(250); // results stream in per tensor; redraw a few times a second
    connect(&m_timer, &QTimer::timeout, this, &PlanComparison::refresh);
    connect(doc, &Document::planResultChanged, this, &PlanComparison::scheduleRefresh);
    connect(doc, &Document::plansChanged, this, &PlanComparison::fillCombos);
    connect(doc, &Document::activePlanChanged, this, &PlanComparison::scheduleRefresh);
    connect(doc, &Document::modelOpened, this, &PlanComparison::scheduleRefresh);
    for (QComboBox* c : {m_comboA, m_comboB})
        connect(c, &QComboBox::activated, this, &PlanComparison::refresh);
    connect(m_bars, &PlanCompareBars::rowClicked, this, &PlanComparison::rowClicked);
    connect(m_diffView, &QTableView::clicked, this, [this](const QModelIndex& i) {
        if (i.isValid()) emit rowClicked(m_diff->sourceRow(i.row()));
    });
    fillCombos();
}

void PlanComparison::fillCombos()
{
    const int a = m_comboA->currentIndex(), b = m_comboB->currentIndex();
    for (QComboBox* c : {m_comboA, m_comboB}) {
        c->clear();
        for (int i = 0; i < m_doc->planCount(); ++i)
            c->addItem(m_doc->planName(i));
    }
    const int n = m_doc->planCount();
    // The first two plans unless the person picked others that still exist; a new plan is
    // usually the one to compare, so B follows the last one added.
    m_comboA->setCurrentIndex(a >= 0 && a < n ? a : 0);
    m_comboB->setCurrentIndex(n > 1 ? (b > 0 && b < n - 1 ? b : n - 1) : 0);
    refresh();
}

void PlanComparison::scheduleRefresh()
{
    if (!m_timer.isActive()) m_timer.start();
}

void PlanComparison::refresh()
{
    const int a = std::max(0, m_comboA->currentIndex()), b = std::max(0, m_comboB->currentIndex());
    m_totals->refresh();
    m_diff->setPlans(a, b);
    m_bars->setPlans(a, b);
}

} // namespace qs
