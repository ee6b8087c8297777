// Keeps the model-wide plots that read plain values (error against size, size by block) in
// step with the document: results stream in per tensor, so updates are coalesced.
#pragma once

#include <QObject>
#include <QTimer>

namespace qs {

class Document;
class ErrorSizePlot;
class SizeBreakdownChart;

class ModelPlots : public QObject
{
    Q_OBJECT
public:
    ModelPlots(Document* document, ErrorSizePlot* errorSize, SizeBreakdownChart* sizes,
               QObject* parent = nullptr);

private:
    void update();

    Document* m_document;
    ErrorSizePlot* m_errorSize;
    SizeBreakdownChart* m_sizes;
    QTimer m_timer;
};

} // namespace qs
