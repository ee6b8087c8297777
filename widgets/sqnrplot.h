// Bar chart of every quantized layer's SQNR, with the ideal SQNR per bit width as reference.
#pragma once

#include "plotwidget.h"

#include <QMap>
#include <QPoint>
#include <QTimer>
#include <QVector>

class QCPBars;
class QCheckBox;
class QMouseEvent;

namespace qs {

class Document;

class SqnrPlot : public PlotWidget
{
    Q_OBJECT
public:
    explicit SqnrPlot(Document* document, QWidget* parent = nullptr);

    // What the chart shows now (it lags the document by at most one update interval): the
    // document row of each bar in model order, its SQNR, and the reference lines by bit width.
    QVector<int> shownRows() const { return m_rows; }
    QVector<double> shownSqnr() const { return m_sqnr; }
    QMap<int, double> referenceLines() const { return m_references; }
    int currentRow() const { return m_currentRow; }

    // The document row of the bar under a point of plot() (the whole column above and below
    // a bar counts, so thin bars are easy to hit); -1 when there is none.
    int rowAt(const QPoint& pos) const;
    // Where the bar of a document row stands in plot() coordinates (for tests and tooltips).
    QPoint barCenter(int row) const;
    QString toolTipAt(const QPoint& pos) const;
    // Bars by SQNR, lowest first (the layers that lose most), instead of model order.
    QCheckBox* sortedBox() const { return m_sortedBox; }

public slots:
    void setCurrentRow(int row); // highlights that layer's bar, if it has one

signals:
    void rowClicked(int row);

protected:
    QString exportName() const override;
    void resetView() override;

private:
    void scheduleUpdate();
    void rebuild();
    void updateHighlight();
    void onRelease(QMouseEvent* event);
    void onHover(QMouseEvent* event);

    Document* m_document;
    QCheckBox* m_sortedBox;
    QTimer m_updateTimer; // one redraw per burst of results, not one per tensor
    QCPBars* m_selected = nullptr;
    QVector<int> m_rows;
    QVector<double> m_sqnr;
    QMap<int, double> m_references; // bits -> ideal uniform SQNR in dB
    int m_currentRow = -1;
    double m_yLow = 0, m_yHigh = 1;
    QPoint m_pressPos;
};

} // namespace qs
