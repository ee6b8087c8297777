// Small QCustomPlot helpers the lessons share: labelled bar charts with readable fonts.
#pragma once

#include <QString>
#include <QStringList>
#include <QVector>

class QCPBars;
class QCustomPlot;

namespace qs {

QCustomPlot* newLessonPlot(const QString& title);
// Replaces the plot's bars with one bar per label, the value printed above each bar.
QCPBars* setBars(QCustomPlot* plot, const QStringList& labels, const QVector<double>& values,
                 const QString& yLabel, int decimals);

} // namespace qs
