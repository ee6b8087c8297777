// The selected layer's plots: its weight histogram and its error histogram, side by side.
#pragma once

#include <QWidget>

class QSplitter;

namespace qs {

class Document;
class ErrorHistogramPlot;
class HistogramPlot;

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
    QSplitter* splitter() const { return m_splitter; }

private:
    void refresh();

    Document* m_document;
    HistogramPlot* m_histogram;
    ErrorHistogramPlot* m_error;
    QSplitter* m_splitter;
    int m_row = -1;
};

} // namespace qs
