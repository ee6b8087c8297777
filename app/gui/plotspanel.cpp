#include "plotspanel.h"

#include "document.h"
#include "errorhistogramplot.h"
#include "histogramplot.h"

#include <QSplitter>
#include <QVBoxLayout>

namespace qs {

PlotsPanel::PlotsPanel(Document* document, QWidget* parent)
    : QWidget(parent), m_document(document), m_histogram(new HistogramPlot),
      m_error(new ErrorHistogramPlot), m_splitter(new QSplitter(Qt::Horizontal, this))
{
    m_splitter->setObjectName(QStringLiteral("plotsSplitter"));
    m_splitter->addWidget(m_histogram);
    m_splitter->addWidget(m_error);
    m_splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    connect(document, &Document::resultChanged, this, [this](int row) {
        if (row == m_row) refresh();
    });
    connect(document, &Document::modelAboutToChange, this, [this] { showRow(-1); });
}

void PlotsPanel::showRow(int row)
{
    m_row = row >= 0 && row < m_document->tensorCount() ? row : -1;
    refresh();
}

void PlotsPanel::refresh()
{
    // Without a model, "select a layer" would point at an empty table.
    const bool hasModel = m_document->tensorCount() > 0;
    m_histogram->setPlaceholderText(hasModel
                                        ? tr("Select a layer to see its weight histogram.")
                                        : tr("Open a model with File \u203a Open\u2026 or drop a "
                                             "model file on this window."));
    m_error->setPlaceholderText(hasModel ? tr("Select a layer to see its quantization error.")
                                         : tr("No model is open."));
    const TensorResultPtr r = m_row >= 0 ? m_document->result(m_row) : nullptr;
    const QString pending =
        m_row >= 0 ? QString::fromStdString(m_document->tensor(m_row).name) : QString();
    m_histogram->setResult(r, pending);
    m_error->setResult(r, pending);
}

} // namespace qs
