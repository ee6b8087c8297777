// Confusion matrix of one evaluation as a 10x10 heatmap: true class down, predicted class
// across, the count printed in every non-empty cell.
#pragma once

#include "evaluatejob.h"
#include "plotwidget.h"

class QCPColorMap;

namespace qs {

class AccuracyConfusionPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit AccuracyConfusionPlot(QWidget* parent = nullptr);

    void setRow(const EvaluateResultsPtr& results, const EvaluateRow* row); // null row: empty
    const std::vector<int>& counts() const { return m_counts; } // truth * 10 + predicted
    QCPColorMap* colorMap() const { return m_map; }

protected:
    QString exportName() const override { return QStringLiteral("confusion"); }

private:
    QCPColorMap* m_map;
    std::vector<int> m_counts;
};

} // namespace qs
