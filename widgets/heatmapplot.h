// Heatmap of one tensor viewed as a matrix (output channels x inputs): its weights or its
// quantization error, downsampled to a grid of cells, with a colour scale.
#pragma once

#include "plotwidget.h"
#include "tensorviewjob.h"

class QCheckBox;
class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QMouseEvent;

namespace qs {

class HeatmapPlot : public PlotWidget
{
    Q_OBJECT
public:
    // What each cell shows; the error is original - dequantized.
    enum class Quantity { MeanAbsValue, MeanValue, MeanAbsError, MaxAbsError, MeanError };
    Q_ENUM(Quantity)

    explicit HeatmapPlot(QWidget* parent = nullptr);

    // Null views show the empty state, or that pendingName is still being computed.
    void setViews(const TensorViewsPtr& views, const QString& pendingName = {});
    TensorViewsPtr views() const { return m_views; }

    void setQuantity(Quantity q);
    Quantity quantity() const { return m_quantity; }
    static QString quantityName(Quantity q); // "mean |w|"
    // A logarithmic colour scale, for the non-negative quantities (errors span decades);
    // ignored for signed ones and when nothing is above zero.
    void setLogScale(bool on);
    bool logScale() const;
    bool isLogScaleApplied() const { return m_logApplied; }

    QCPColorMap* colorMap() const { return m_map; }
    QCPColorScale* colorScale() const { return m_scale; }
    // The grid cell (column, row) under a point of plot(), or (-1, -1).
    QPoint cellAt(const QPoint& pos) const;
    QString toolTipAt(const QPoint& pos) const;

signals:
    void quantityChanged(qs::HeatmapPlot::Quantity quantity);

protected:
    QString exportName() const override;
    void resetView() override;

private:
    void rebuild();
    void onHover(QMouseEvent* event);
    const std::vector<float>& values(Quantity q) const;

    TensorViewsPtr m_views;
    Quantity m_quantity = Quantity::MeanAbsValue;
    QComboBox* m_quantityBox;
    QCheckBox* m_log;
    QCPColorMap* m_map;
    QCPColorScale* m_scale;
    bool m_logApplied = false;
};

} // namespace qs
