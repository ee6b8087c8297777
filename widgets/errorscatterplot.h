// Scatter of quantization error against the original value for a sample of one tensor's
// elements, with the outliers (largest error, largest magnitude) always drawn and highlighted.
#pragma once

#include "plotwidget.h"
#include "tensorviewjob.h"

class QCPGraph;
class QMouseEvent;

namespace qs {

class ErrorScatterPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit ErrorScatterPlot(QWidget* parent = nullptr);

    // Null views show the empty state, or that pendingName is still being computed.
    void setViews(const TensorViewsPtr& views, const QString& pendingName = {});
    TensorViewsPtr views() const { return m_views; }

    // The uniform sample (small dots) and the outliers drawn over it.
    QCPGraph* sampleGraph() const { return m_sample; }
    QCPGraph* outlierGraph() const { return m_outliers; }
    // Where a scatter point is drawn, in plot() pixels.
    QPoint pixelOf(const ScatterPoint& p) const;
    // The point nearest to pos within a few pixels (outliers first), or null.
    const ScatterPoint* pointAt(const QPoint& pos) const;
    QString toolTipAt(const QPoint& pos) const;

protected:
    QString exportName() const override;
    void resetView() override;

private:
    void rebuild();
    void onHover(QMouseEvent* event);

    TensorViewsPtr m_views;
    QCPGraph* m_sample;
    QCPGraph* m_outliers;
    QCPGraph* m_clipLegend;
    double m_xLow = -1, m_xHigh = 1, m_yLimit = 1;
};

} // namespace qs
