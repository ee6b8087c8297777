#include "layerbrowser.h"

#include "layertablemodel.h"
#include "layertreemodel.h"
#include "precisiondelegate.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QRegularExpression>
#include <QSortFilterProxyModel>
#include <QTreeView>
#include <QVBoxLayout>

#include <set>

namespace qs {

LayerBrowser::LayerBrowser(LayerTableModel* model, QWidget* parent)
    : QWidget(parent), m_model(model), m_tree(new LayerTreeModel(model, this)),
      m_filter(new QLineEdit(this)), m_regex(new QCheckBox(tr("Rege&x"), this)),
      m_group(new QCheckBox(tr("Group by &block"), this)),
      m_proxy(new QSortFilterProxyModel(this)), m_view(new QTreeView(this)),
      m_empty(new QLabel(this))
{
    m_filter->setObjectName(QStringLiteral("layerFilter"));
    m_filter->setPlaceholderText(tr("Filter layers by name\u2026"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Layer filter"));
    m_regex->setObjectName(QStringLiteral("regexToggle"));
    m_regex->setToolTip(tr("Read the filter as a regular expression, e.g. "
                           "<code>layers\\.(1|2)\\..*_proj</code>"));
    m_group->setObjectName(QStringLiteral("groupToggle"));
    m_group->setToolTip(tr("Show tensors under their block (model.layers.N, blk.N, …) with "
                           "the block's totals"));
    m_group->setChecked(true);

    m_proxy->setObjectName(QStringLiteral("layerProxy"));
    m_proxy->setSourceModel(m_tree);
    m_proxy->setSortRole(LayerTableModel::SortRole);
    m_proxy->setFilterKeyColumn(LayerTableModel::NameColumn);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    // A block stays while one of its tensors matches; a matching block shows all of them.
    m_proxy->setRecursiveFilteringEnabled(true);
    m_proxy->setAutoAcceptChildRows(true);
    connect(m_filter, &QLineEdit::textChanged, this, &LayerBrowser::applyFilter);
    connect(m_regex, &QCheckBox::toggled, this, &LayerBrowser::applyFilter);
    connect(m_group, &QCheckBox::toggled, this, &LayerBrowser::setGrouped);

    m_view->setObjectName(QStringLiteral("layerTable"));
    m_view->setAccessibleName(tr("Layers"));
    m_view->setModel(m_proxy);
    m_view->setItemDelegate(new PrecisionDelegate(LayerTableModel::FormatColumn,
                                                  LayerTableModel::GranularityColumn,
                                                  LayerTableModel::CalibrationColumn, m_view));
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::SelectedClicked |
                            QAbstractItemView::EditKeyPressed);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // file order until a header is clicked
    m_view->setAlternatingRowColors(true);
    m_view->setUniformRowHeights(true); // no per-row size hints: thousands of rows stay fast
    m_view->setWordWrap(false);
    m_view->setAllColumnsShowFocus(true);
    // Tensor names share long prefixes ("model.layers.17.") and differ at the end.
    m_view->setTextElideMode(Qt::ElideMiddle);
    m_view->header()->setHighlightSections(false);
    m_view->header()->setStretchLastSection(false);
    m_view->header()->setSectionResizeMode(QHeaderView::Interactive);
    applyColumnWidths();

    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &LayerBrowser::onCurrentChanged);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { emit selectionChanged(selectedRows()); });
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &LayerBrowser::onCurrentChanged);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &LayerBrowser::onCurrentChanged);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &LayerBrowser::updateEmptyState);
    connect(m_proxy, &QAbstractItemModel::layoutChanged, this, &LayerBrowser::updateEmptyState);
    connect(m_proxy, &QAbstractItemModel::rowsInserted, this, &LayerBrowser::updateEmptyState);
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, &LayerBrowser::updateEmptyState);

    m_empty->setObjectName(QStringLiteral("layerEmptyState"));
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);

    auto* filterRow = new QHBoxLayout;
    filterRow->setContentsMargins(0, 0, 0, 0);
    filterRow->addWidget(m_filter, 1);
    filterRow->addWidget(m_regex);
    filterRow->addWidget(m_group);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addLayout(filterRow);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_empty);
    updateEmptyState();
}

void LayerBrowser::applyFilter()
{
    const QString text = m_filter->text();
    if (!m_regex->isChecked()) {
        m_filter->setStyleSheet({});
        m_filter->setToolTip({});
        m_proxy->setFilterFixedString(text);
    } else {
        const QRegularExpression re(text, QRegularExpression::CaseInsensitiveOption);
        if (!re.isValid()) {
            // Keep the last valid filter and say what is wrong where the person is typing.
            m_filter->setStyleSheet(QStringLiteral("QLineEdit { border: 1px solid #c0392b; }"));
            m_filter->setToolTip(tr("Not a valid regular expression: %1").arg(re.errorString()));
            return;
        }
        m_filter->setStyleSheet({});
        m_filter->setToolTip({});
        m_proxy->setFilterRegularExpression(re);
    }
    if (m_group->isChecked() && !text.isEmpty()) m_view->expandAll();
    updateEmptyState();
}

void LayerBrowser::updateEmptyState()
{
    if (m_model->rowCount() == 0)
        m_empty->setText(tr("Open a model (File \u2192 Open, or drop a file here) to see its "
                            "layers."));
    else if (m_proxy->rowCount() == 0)
        m_empty->setText(tr("No layer matches \u201c%1\u201d.").arg(m_filter->text()));
    m_empty->setVisible(m_proxy->rowCount() == 0);
}

void LayerBrowser::setGrouped(bool grouped)
{
    if (grouped == isGrouped()) {
        if (m_group->isChecked() != grouped) m_group->setChecked(grouped);
        return;
    }
    const int row = currentRow();
    m_group->setChecked(grouped);
    if (grouped)
        m_proxy->setSourceModel(m_tree);
    else
        m_proxy->setSourceModel(m_model);
    if (row >= 0) selectSourceRow(row);
}

bool LayerBrowser::isGrouped() const
{
    return m_proxy->sourceModel() == m_tree;
}

std::vector<int> LayerBrowser::sourceRowsAt(const QModelIndex& proxyIndex) const
{
    if (!proxyIndex.isValid()) return {};
    const QModelIndex inner = m_proxy->mapToSource(proxyIndex);
    if (isGrouped()) return m_tree->sourceRowsOf(inner);
    return {inner.row()};
}

QModelIndex LayerBrowser::proxyIndexOf(int sourceRow, int column) const
{
    if (sourceRow < 0 || sourceRow >= m_model->rowCount()) return {};
    QModelIndex inner = m_model->index(sourceRow, column);
    if (isGrouped()) inner = m_tree->mapFromSource(inner);
    return m_proxy->mapFromSource(inner);
}

int LayerBrowser::currentRow() const
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    if (!current.isValid()) return -1;
    if (isGrouped() && m_tree->isGroup(m_proxy->mapToSource(current))) return -1;
    const auto rows = sourceRowsAt(current);
    return rows.empty() ? -1 : rows.front();
}

QVector<int> LayerBrowser::selectedRows() const
{
    std::set<int> rows;
    for (const QModelIndex& i : m_view->selectionModel()->selectedRows())
        for (int r : sourceRowsAt(i))
            rows.insert(r);
    return QVector<int>(rows.begin(), rows.end());
}

void LayerBrowser::selectFirstRow()
{
    if (m_proxy->rowCount() == 0) return;
    const QModelIndex first = m_proxy->index(0, LayerTableModel::NameColumn);
    m_view->selectionModel()->setCurrentIndex(
        first, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_view->scrollToTop();
}

void LayerBrowser::selectSourceRow(int sourceRow)
{
    QModelIndex index = proxyIndexOf(sourceRow);
    if (sourceRow >= 0 && !index.isValid()) { // hidden by the filter, which must not hide it
        m_filter->clear();
        index = proxyIndexOf(sourceRow);
    }
    if (!index.isValid()) return;
    m_view->selectionModel()->setCurrentIndex(
        index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
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

namespace qs {

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
    QHeaderView* h = m_view->header();
    h->setMinimumSectionSize(fm.horizontalAdvance(QStringLiteral("MSE")) + 18);
    const struct
    {
        int column;
        const char* sample;
    } widths[] = {
        // The tree's indentation comes on top of the name.
        {LayerTableModel::NameColumn, "model.layers.17.mlp.down_proj.weight____"},
        {LayerTableModel::LockColumn, "Lock_"},
        {LayerTableModel::ShapeColumn, "[4096, 11008]"},
        {LayerTableModel::DTypeColumn, "BF16"},
        {LayerTableModel::ParamsColumn, "45,088,768"},
        {LayerTableModel::FormatColumn, "uint8 \u25be"},
        {LayerTableModel::GranularityColumn, "group:128"},
        {LayerTableModel::CalibrationColumn, "percentile:99.9"},
        {LayerTableModel::BytesBeforeColumn, "999.9 MiB"},
        {LayerTableModel::BytesAfterColumn, "999.9 MiB"},
        {LayerTableModel::BitsColumn, "32.00"},
        {LayerTableModel::SqnrColumn, "100.0"},
        {LayerTableModel::VsIdealColumn, "\u221210.0"},
        {LayerTableModel::MseColumn, "1.23e-05"},
    };
    for (const auto& w : widths)
        h->resizeSection(w.column, width(QString::fromUtf8(w.sample), w.column));
}

} // namespace qs
