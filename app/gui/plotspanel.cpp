#include "plotspanel.h"

#include "document.h"
#include "errorhistogramplot.h"
#include "errorscatterplot.h"
#include "heatmapplot.h"
#include "histogramplot.h"
#include "tensorviewjob.h"

#include <QSplitter>
#include <QTabWidget>
#include <QThreadPool>
#include <QVBoxLayout>

namespace qs {

PlotsPanel::PlotsPanel(Document* document, QWidget* parent)
    : QWidget(parent), m_document(document), m_histogram(new HistogramPlot),
      m_error(new ErrorHistogramPlot), m_scatter(new ErrorScatterPlot),
      m_heatmap(new HeatmapPlot), m_tabs(new QTabWidget),
      m_splitter(new QSplitter(Qt::Horizontal, this)),
      m_viewJob(new TensorViewJob(QThreadPool::globalInstance(), this))
{
    m_tabs->setObjectName(QStringLiteral("errorTabs"));
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_error, tr("Error histogram"));
    m_tabs->addTab(m_scatter, tr("Error vs value"));
    m_tabs->addTab(m_heatmap, tr("Heatmap"));
    m_tabs->setTabToolTip(1, tr("Does the error come from outliers or from the bulk? Each "
                                "weight's error against its value, for a sample that always "
                                "includes the largest errors"));
    m_tabs->setTabToolTip(2, tr("The weight matrix and its error, downsampled: shows "
                                "per-channel and per-group structure"));
    m_splitter->setObjectName(QStringLiteral("plotsSplitter"));
    m_splitter->addWidget(m_histogram);
    m_splitter->addWidget(m_tabs);
    m_splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_splitter);

    connect(document, &Document::resultChanged, this, [this](int row) {
        if (row == m_row) refresh();
    });
    connect(document, &Document::modelAboutToChange, this, [this] {
        m_viewJob->cancel();
        showRow(-1);
    });
    connect(m_tabs, &QTabWidget::currentChanged, this, &PlotsPanel::requestViews);
    connect(m_viewJob, &TensorViewJob::resultReady, this,
            [this](quint64, int index, const TensorViewsPtr& views) {
                if (index != m_row) return;
                m_scatter->setViews(views);
                m_heatmap->setViews(views);
            });
    connect(m_viewJob, &TensorViewJob::failed, this,
            [this](quint64, int index, const QString& message) {
                if (index != m_row) return;
                m_scatter->setPlaceholderText(message);
                m_heatmap->setPlaceholderText(message);
                m_scatter->setViews(nullptr);
                m_heatmap->setViews(nullptr);
            });
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
    const QString noLayer = hasModel ? tr("Select a layer to see its quantization error.")
                                     : tr("No model is open.");
    for (PlotWidget* p : std::initializer_list<PlotWidget*>{m_error, m_scatter, m_heatmap})
        p->setPlaceholderText(noLayer);
    const TensorResultPtr r = m_row >= 0 ? m_document->result(m_row) : nullptr;
    const QString pending =
        m_row >= 0 ? QString::fromStdString(m_document->tensor(m_row).name) : QString();
    m_histogram->setResult(r, pending);
    m_error->setResult(r, pending);
    requestViews();
}

void PlotsPanel::requestViews()
{
    if (m_tabs->currentWidget() == m_error) return;
    const TensorResultPtr r = m_row >= 0 ? m_document->result(m_row) : nullptr;
    if (r && r == m_viewsFor) return; // already shown (or on its way)
    m_viewsFor = r;
    if (!r || !isQuantizable(m_document->tensor(m_row).dtype) || !r->error.empty()) {
        m_viewJob->cancel();
        m_scatter->setViews(nullptr);
        m_heatmap->setViews(nullptr);
        if (r && !r->error.empty()) {
            m_scatter->setPlaceholderText(QString::fromStdString(r->error));
            m_heatmap->setPlaceholderText(QString::fromStdString(r->error));
            m_scatter->setViews(nullptr);
            m_heatmap->setViews(nullptr);
        }
        return;
    }
    const QString name = QString::fromStdString(r->name);
    m_scatter->setViews(nullptr, name);
    m_heatmap->setViews(nullptr, name);
    m_viewJob->start(m_document->sharedModel(), m_row, r->spec);
}

} // namespace qs
