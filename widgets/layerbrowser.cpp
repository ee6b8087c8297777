#include "layerbrowser.h"

#include "layertablemodel.h"
#include "precisiondelegate.h"

#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

namespace qs {

LayerBrowser::LayerBrowser(LayerTableModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_filter(new QLineEdit(this)),
      m_proxy(new QSortFilterProxyModel(this)), m_view(new QTableView(this))
{
    m_filter->setObjectName(QStringLiteral("layerFilter"));
    m_filter->setPlaceholderText(tr("Filter layers by name\u2026"));
    m_filter->setClearButtonEnabled(true);

    m_proxy->setObjectName(QStringLiteral("layerProxy"));
    m_proxy->setSourceModel(model);
    m_proxy->setSortRole(LayerTableModel::SortRole);
    m_proxy->setFilterKeyColumn(LayerTableModel::NameColumn);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    connect(m_filter, &QLineEdit::textChanged, m_proxy,
            &QSortFilterProxyModel::setFilterFixedString);

    m_view->setObjectName(QStringLiteral("layerTable"));
    m_view->setModel(m_proxy);
    m_view->setItemDelegate(new PrecisionDelegate(LayerTableModel::FormatColumn,
                                                  LayerTableModel::GranularityColumn,
                                                  LayerTableModel::CalibrationColumn, m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked |
                            QAbstractItemView::EditKeyPressed);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // file order until a header is clicked
    m_view->setAlternatingRowColors(true);
    m_view->setWordWrap(false);
    // Tensor names share long prefixes ("model.layers.17.") and differ at the end.
    m_view->setTextElideMode(Qt::ElideMiddle);
    m_view->verticalHeader()->hide();
    m_view->verticalHeader()->setDefaultSectionSize(m_view->fontMetrics().height() + 8);
    m_view->horizontalHeader()->setHighlightSections(false);
    m_view->horizontalHeader()->setStretchLastSection(false);
    // Every column, the name included, keeps a width that fits typical content; a narrow
    // window scrolls the table sideways rather than squeezing names to a few letters.
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    applyColumnWidths();

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &LayerBrowser::onCurrentChanged);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &LayerBrowser::onCurrentChanged);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &LayerBrowser::onCurrentChanged);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_filter);
    layout->addWidget(m_view, 1);
}

void LayerBrowser::applyColumnWidths()
{
    // Widths from typical content rather than resize-to-contents, which measures every row
    // and so would stall on models with thousands of tensors.
    const QFontMetrics fm = m_view->fontMetrics();
    auto width = [&](const QString& sample, int column) {
        const QString header = m_model->headerData(column, Qt::Horizontal).toString();
        const int pad = 18; // cell margins plus the sort indicator
        return std::max(fm.horizontalAdvance(sample), fm.horizontalAdvance(header)) + pad;
    };
    QHeaderView* h = m_view->horizontalHeader();
    h->setMinimumSectionSize(fm.horizontalAdvance(QStringLiteral("MSE")) + 18);
    h->resizeSection(
        LayerTableModel::NameColumn,
        width(QStringLiteral("model.layers.17.mlp.down_proj.weight"), LayerTableModel::NameColumn));
    h->resizeSection(LayerTableModel::ShapeColumn,
                     width(QStringLiteral("[4096, 11008]"), LayerTableModel::ShapeColumn));
    h->resizeSection(LayerTableModel::DTypeColumn,
                     width(QStringLiteral("BF16"), LayerTableModel::DTypeColumn));
    h->resizeSection(LayerTableModel::ParamsColumn,
                     width(QStringLiteral("45,088,768"), LayerTableModel::ParamsColumn));
    h->resizeSection(LayerTableModel::FormatColumn,
                     width(QStringLiteral("uint8 \u25be"), LayerTableModel::FormatColumn));
    h->resizeSection(LayerTableModel::GranularityColumn,
                     width(QStringLiteral("group:128"), LayerTableModel::GranularityColumn));
    h->resizeSection(LayerTableModel::CalibrationColumn,
                     width(QStringLiteral("percentile:99.9"), LayerTableModel::CalibrationColumn));
    h->resizeSection(LayerTableModel::BytesBeforeColumn,
                     width(QStringLiteral("999.9 MiB"), LayerTableModel::BytesBeforeColumn));
    h->resizeSection(LayerTableModel::BytesAfterColumn,
                     width(QStringLiteral("999.9 MiB"), LayerTableModel::BytesAfterColumn));
    h->resizeSection(LayerTableModel::BitsColumn,
                     width(QStringLiteral("32.00"), LayerTableModel::BitsColumn));
    h->resizeSection(LayerTableModel::SqnrColumn,
                     width(QStringLiteral("100.0"), LayerTableModel::SqnrColumn));
    h->resizeSection(LayerTableModel::VsIdealColumn,
                     width(QStringLiteral("\u221210.0"), LayerTableModel::VsIdealColumn));
    h->resizeSection(LayerTableModel::MseColumn,
                     width(QStringLiteral("1.23e-05"), LayerTableModel::MseColumn));
}

int LayerBrowser::currentRow() const
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    return current.isValid() ? m_proxy->mapToSource(current).row() : -1;
}

void LayerBrowser::selectFirstRow()
{
    if (m_proxy->rowCount() == 0) return;
    m_view->selectRow(0);
    m_view->setCurrentIndex(m_proxy->index(0, LayerTableModel::NameColumn));
    m_view->scrollToTop();
}

void LayerBrowser::selectSourceRow(int sourceRow)
{
    if (sourceRow < 0 || sourceRow >= m_model->rowCount()) return;
    QModelIndex index = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    if (!index.isValid()) { // hidden by the name filter, which must not hide the choice
        m_filter->clear();
        index = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    }
    m_view->selectRow(index.row());
    m_view->setCurrentIndex(index);
    m_view->scrollTo(index);
}

void LayerBrowser::onCurrentChanged()
{
    const int row = currentRow();
    if (row == m_lastRow) return;
    m_lastRow = row;
    emit currentRowChanged(row);
}

} // namespace qs
