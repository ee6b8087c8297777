// Bar chart of the whole model's size as stored and under the current plan.
#pragma once

#include "plotwidget.h"

#include <QTimer>

class QCPBars;

namespace qs {

class Document;

class SizeChart : public PlotWidget
{
    Q_OBJECT
public:
    explicit SizeChart(Document* document, QWidget* parent = nullptr);

    // The totals the chart shows now (they lag the document by at most one update interval).
    quint64 shownBytesBefore() const { return m_before; }
    quint64 shownBytesAfter() const { return m_after; }
    QString shownSaving() const { return m_saving; } // "−74%", the label on the planned bar

protected:
    QString exportName() const override;
    void resetView() override;

private:
    void scheduleUpdate();
    void rebuild();

    Document* m_document;
    QTimer m_updateTimer; // one redraw per burst of results, not one per tensor
    QCPBars* m_kept;
    QCPBars* m_quantized;
    quint64 m_before = 0, m_after = 0;
    QString m_saving;
    double m_yMax = 1;
};

} // namespace qs
