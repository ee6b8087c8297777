// The selected layer's plots: its weight histogram beside a tab of error views (error
// histogram, error against value, heatmaps of the weights and of the error).
#pragma once

#include "tensorresult.h"

#include <QWidget>

class QSplitter;
class QTabWidget;

namespace qs {

class Document;
class ErrorHistogramPlot;
class ErrorScatterPlot;
class HeatmapPlot;
class HistogramPlot;
class TensorViewJob;

class PlotsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit PlotsPanel(Document* document, QWidget* parent = nullptr);

    // Shows a row of the document (-1: none); follows its result as it is recomputed.
    void showRow(int row);
    int row() const { return m_row; }

    HistogramPlot* histogram() const { return m_histogram; }
    ErrorHistogramPlot* errorHistogram() const { return m_error; }
    ErrorScatterPlot* errorScatter() const { return m_scatter; }
    HeatmapPlot* heatmap() const { return m_heatmap; }
    QTabWidget* errorTabs() const { return m_tabs; }
    QSplitter* splitter() const { return m_splitter; }

private:
    void refresh();
    // The scatter and heatmap cost a pass over the tensor: computed only while one is shown.
    void requestViews();

    Document* m_document;
    HistogramPlot* m_histogram;
    ErrorHistogramPlot* m_error;
    ErrorScatterPlot* m_scatter;
    HeatmapPlot* m_heatmap;
    QTabWidget* m_tabs;
    QSplitter* m_splitter;
    TensorViewJob* m_viewJob;
    int m_row = -1;
    TensorResultPtr m_viewsFor; // the result the shown views were computed for
};

} // namespace qs
