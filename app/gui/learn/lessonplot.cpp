#include "learn/lessonplot.h"

#include <qcustomplot.h>

#include <algorithm>

namespace qs {

QCustomPlot* newLessonPlot(const QString& title)
{
    auto* plot = new QCustomPlot;
    plot->setMinimumSize(280, 220);
    plot->plotLayout()->insertRow(0);
    QFont font = plot->font(); // the application's font, not QCustomPlot's serif default
    font.setPointSize(10);
    font.setBold(true);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title, font));
    return plot;
}

QCPBars* setBars(QCustomPlot* plot, const QStringList& labels, const QVector<double>& values,
                 const QString& yLabel, int decimals)
{
    plot->clearPlottables();
    plot->clearItems();
    auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
    bars->setBrush(QColor(70, 130, 180));
    bars->setPen(Qt::NoPen);
    bars->setWidth(0.6);
    QVector<double> keys;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (int i = 0; i < labels.size(); ++i) {
        keys << i + 1;
        ticker->addTick(i + 1, labels[i]);
    }
    bars->setData(keys, values);
    plot->xAxis->setTicker(ticker);
    plot->xAxis->setRange(0.4, labels.size() + 0.6);
    plot->yAxis->setLabel(yLabel);
    const double top = values.isEmpty() ? 1.0 : *std::max_element(values.begin(), values.end());
    const double bottom =
        std::min(0.0, values.isEmpty() ? 0.0 : *std::min_element(values.begin(), values.end()));
    // Headroom for the value labels printed above the bars.
    plot->yAxis->setRange(bottom, top > 0 ? top * 1.18 : 1.0);
    for (int i = 0; i < values.size(); ++i) {
        auto* label = new QCPItemText(plot);
        label->position->setCoords(keys[i], values[i]);
        label->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
        label->setText(QString::number(values[i], 'f', decimals));
    }
    plot->replot();
    return bars;
}

} // namespace qs
