// Error against size, one point per quantized tensor: where each layer sits on the
// rate-distortion trade-off, linked with the layer selection both ways.
#pragma once

#include "plotwidget.h"
#include "tensorresult.h"

#include <QPoint>
#include <QVector>

class QCPGraph;
class QComboBox;
class QMouseEvent;

namespace qs {

class ErrorSizePlot : public PlotWidget
{
    Q_OBJECT
public:
    enum class XMeasure { BitsPerWeight, Bytes };
    enum class YMeasure { Sqnr, Mse };
    Q_ENUM(XMeasure)
    Q_ENUM(YMeasure)

    explicit ErrorSizePlot(QWidget* parent = nullptr);

    // The latest result of every tensor (null entries: not computed yet). Each quantized tensor
    // with metrics becomes a point; its row is TensorResult::index.
    void setResults(const QVector<TensorResultPtr>& results);

    // Defaults: bits per weight against SQNR, the classic ~6 dB per bit picture.
    void setXMeasure(XMeasure m);
    void setYMeasure(YMeasure m);
    XMeasure xMeasure() const { return m_x; }
    YMeasure yMeasure() const { return m_y; }

    QVector<int> shownRows() const; // rows with a point, in row order
    int selectedRow() const { return m_selected; }
    QCPGraph* selectionGraph() const { return m_selection; }
    // Where a row's point is drawn in plot() pixels; (-1, -1) when it has none.
    QPoint pointCenter(int row) const;
    int rowAt(const QPoint& pos) const; // the nearest point within a few pixels, or -1
    QString toolTipAt(const QPoint& pos) const;

public slots:
    void setSelectedRow(int row); // highlights that tensor's point, if it has one

signals:
    void layerClicked(int row);

protected:
    QString exportName() const override;
    void resetView() override;

private:
    struct Point
    {
        int row;
        double x, y;
        TensorResultPtr result;
    };
    void rebuild();
    void updateSelection();
    void onRelease(QMouseEvent* event);
    void onHover(QMouseEvent* event);

    QVector<TensorResultPtr> m_results;
    QVector<Point> m_points;
    XMeasure m_x = XMeasure::BitsPerWeight;
    YMeasure m_y = YMeasure::Sqnr;
    QComboBox* m_xBox;
    QComboBox* m_yBox;
    QCPGraph* m_selection = nullptr;
    int m_selected = -1;
    QPoint m_pressPos;
};

} // namespace qs
