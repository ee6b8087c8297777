#include "modelplots.h"

#include "document.h"
#include "errorsizeplot.h"
#include "sizebreakdownchart.h"

namespace qs {

ModelPlots::ModelPlots(Document* document, ErrorSizePlot* errorSize, SizeBreakdownChart* sizes,
                       QObject* parent)
    : QObject(parent), m_document(document), m_errorSize(errorSize), m_sizes(sizes)
{
    m_timer.setSingleShot(true);
    m_timer.setInterval(100); // a few redraws a second while a model is being computed
    connect(&m_timer, &QTimer::timeout, this, &ModelPlots::update);
    const auto schedule = [this] {
        if (!m_timer.isActive()) m_timer.start();
    };
    connect(document, &Document::resultChanged, this, schedule);
    connect(document, &Document::modelOpened, this, schedule);
    connect(document, &Document::activePlanChanged, this, schedule);
    update();
}

void ModelPlots::update()
{
    QVector<TensorResultPtr> results;
    QVector<LayerSizeRow> rows;
    for (int row = 0; row < m_document->tensorCount(); ++row) {
        const TensorInfo& t = m_document->tensor(row);
        const TensorResultPtr r = m_document->result(row);
        results << r;
        // Float tensors only: the chart's FP32 and FP16 bars assume 4 and 2 bytes a value.
        if (isQuantizable(t.dtype))
            rows << LayerSizeRow{QString::fromStdString(t.name), t.numel(),
                                 r ? r->bytesAfter : t.byteSize};
    }
    m_errorSize->setResults(results);
    m_sizes->setRows(rows);
}

} // namespace qs
