#include "accuracyconfusion.h"

#include "histogramstyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {
constexpr int kClasses = 10;

QSharedPointer<QCPAxisTickerText> classTicker()
{
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int c = 0; c < kClasses; ++c)
        ticker->addTick(c, fashionClassName(c));
    return ticker;
}
} // namespace

AccuracyConfusionPlot::AccuracyConfusionPlot(QWidget* parent)
    : PlotWidget(parent), m_map(new QCPColorMap(plot()->xAxis, plot()->yAxis))
{
    setObjectName(QStringLiteral("accuracyConfusion"));
    setPlaceholderText(tr("Select a row to see its confusion matrix."));
    QCustomPlot* p = plot();
    histogramstyle::styleAxes(p, tr("predicted"), tr("true class"));
    for (QCPAxis* a : {p->xAxis, p->yAxis}) {
        a->grid()->setVisible(false);
        a->setTicker(classTicker());
        a->setSubTicks(false);
        a->setRange(-0.5, kClasses - 0.5);
    }
    p->xAxis->setTickLabelRotation(-40); // leftwards: "Ankle boot" stays inside
    p->yAxis->setRangeReversed(true);    // class 0 on top, as a matrix is written
    p->legend->setVisible(false);
    p->setInteractions({});
    m_map->setInterpolate(false);
    m_map->data()->setSize(kClasses, kClasses);
    m_map->data()->setRange(QCPRange(0, kClasses - 1), QCPRange(0, kClasses - 1));
    QCPColorGradient gradient(QCPColorGradient::gpPolar);
    gradient.clearColorStops();
    gradient.setColorStopAt(0.0, QColor(250, 250, 252));
    gradient.setColorStopAt(1.0, QColor(30, 80, 170));
    m_map->setGradient(gradient);
    showPlaceholder();
}

void AccuracyConfusionPlot::setRow(const EvaluateResultsPtr& results, const EvaluateRow* row)
{
    QCustomPlot* p = plot();
    p->clearItems();
    m_counts.clear();
    if (!results || !row) {
        setTitle(QString());
        showPlaceholder();
        return;
    }
    m_counts = confusionCounts(*results, *row);
    // Scaled by the largest off-diagonal count too would hide the diagonal; a square root
    // keeps the few confusions visible next to hundreds of correct answers.
    const int most = std::max(1, *std::max_element(m_counts.begin(), m_counts.end()));
    for (int t = 0; t < kClasses; ++t)
        for (int c = 0; c < kClasses; ++c) {
            const int n = m_counts[static_cast<std::size_t>(t * kClasses + c)];
            m_map->data()->setCell(c, t, std::sqrt(double(n) / most));
            if (n == 0) continue;
            auto* text = new QCPItemText(p);
            text->position->setCoords(c, t);
            text->setText(QString::number(n));
            text->setFont(QFont(font().family(), 8));
            text->setColor(std::sqrt(double(n) / most) > 0.55 ? Qt::white : Qt::black);
        }
    m_map->setDataRange(QCPRange(0.0, 1.0));
    setTitle(tr("Confusion matrix — %1").arg(row->label));
    showPlot();
}

} // namespace qs
