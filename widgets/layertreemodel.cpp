#include "layertreemodel.h"

#include "displayformat.h"
#include "document.h"
#include "layertablemodel.h"

#include <QFont>
#include <QHash>

namespace qs {

QString blockOf(const QString& tensorName)
{
    // Separators of PyTorch/GGUF names (".") and of Keras/TensorFlow ones ("/").
    qsizetype start = 0;
    while (start < tensorName.size()) {
        qsizetype end = start;
        while (end < tensorName.size() && tensorName[end] != u'.' && tensorName[end] != u'/')
            ++end;
        bool digits = end > start;
        for (qsizetype i = start; digits && i < end; ++i)
            digits = tensorName[i].isDigit();
        // A number as the very first component is not a block ("0.weight" in nn.Sequential
        // is, but then every tensor would be its own block's only member or the whole model).
        if (digits && end < tensorName.size()) return tensorName.left(end);
        start = end + 1;
    }
    return {};
}

LayerTreeModel::LayerTreeModel(LayerTableModel* source, QObject* parent)
    : QAbstractProxyModel(parent), m_table(source)
{
    QAbstractProxyModel::setSourceModel(source);
    connect(source, &QAbstractItemModel::modelAboutToBeReset, this,
            &LayerTreeModel::beginResetModel);
    connect(source, &QAbstractItemModel::modelReset, this, [this] {
        rebuild();
        endResetModel();
    });
    connect(source, &QAbstractItemModel::dataChanged, this, &LayerTreeModel::onSourceDataChanged);
    connect(source, &QAbstractItemModel::headerDataChanged, this,
            &QAbstractItemModel::headerDataChanged);
    rebuild();
}

void LayerTreeModel::rebuild()
{
    m_top.clear();
    m_place.assign(static_cast<std::size_t>(m_table->rowCount()), Place{});
    m_groupCount = 0;
    // Blocks keep the position of their first tensor; a block of one tensor is no group.
    QHash<QString, int> counts;
    std::vector<QString> blocks(m_place.size());
    const Document* doc = m_table->document();
    for (int row = 0; row < m_table->rowCount(); ++row) {
        blocks[row] = blockOf(QString::fromStdString(doc->tensor(row).name));
        if (!blocks[row].isEmpty()) ++counts[blocks[row]];
    }
    QHash<QString, int> topOfBlock;
    for (int row = 0; row < m_table->rowCount(); ++row) {
        const QString& b = blocks[row];
        if (b.isEmpty() || counts.value(b) < 2) {
            m_place[row] = {static_cast<int>(m_top.size()), -1};
            m_top.push_back({QString(), {row}});
            continue;
        }
        auto it = topOfBlock.find(b);
        if (it == topOfBlock.end()) {
            it = topOfBlock.insert(b, static_cast<int>(m_top.size()));
            m_top.push_back({b, {}});
            ++m_groupCount;
        }
        Top& top = m_top[static_cast<std::size_t>(*it)];
        m_place[row] = {*it, static_cast<int>(top.rows.size())};
        top.rows.push_back(row);
    }
}

bool LayerTreeModel::isGroup(const QModelIndex& proxyIndex) const
{
    return proxyIndex.isValid() && proxyIndex.internalId() == 0 &&
           !m_top[static_cast<std::size_t>(proxyIndex.row())].block.isEmpty();
}

std::vector<int> LayerTreeModel::sourceRowsOf(const QModelIndex& proxyIndex) const
{
    if (!proxyIndex.isValid()) return {};
    if (proxyIndex.internalId() == 0) return m_top[static_cast<std::size_t>(proxyIndex.row())].rows;
    const Top& top = m_top[static_cast<std::size_t>(proxyIndex.internalId() - 1)];
    return {top.rows[static_cast<std::size_t>(proxyIndex.row())]};
}

QModelIndex LayerTreeModel::index(int row, int column, const QModelIndex& parent) const
{
    if (row < 0 || column < 0 || column >= columnCount(parent) || row >= rowCount(parent))
        return {};
    // internalId 0 marks a top-level row; a child carries its parent's position + 1.
    return createIndex(row, column, parent.isValid() ? quintptr(parent.row()) + 1 : quintptr(0));
}

QModelIndex LayerTreeModel::parent(const QModelIndex& child) const
{
    if (!child.isValid() || child.internalId() == 0) return {};
    return createIndex(static_cast<int>(child.internalId() - 1), 0, quintptr(0));
}

QModelIndex LayerTreeModel::sibling(int row, int column, const QModelIndex& idx) const
{
    return index(row, column, parent(idx));
}

int LayerTreeModel::rowCount(const QModelIndex& parent) const
{
    if (!parent.isValid()) return static_cast<int>(m_top.size());
    if (parent.internalId() != 0 || parent.column() != 0) return 0;
    const Top& top = m_top[static_cast<std::size_t>(parent.row())];
    return top.block.isEmpty() ? 0 : static_cast<int>(top.rows.size());
}

int LayerTreeModel::columnCount(const QModelIndex&) const
{
    return LayerTableModel::ColumnCount;
}

bool LayerTreeModel::hasChildren(const QModelIndex& parent) const
{
    return rowCount(parent) > 0;
}

QModelIndex LayerTreeModel::mapToSource(const QModelIndex& proxyIndex) const
{
    if (!proxyIndex.isValid() || isGroup(proxyIndex)) return {};
    return m_table->index(sourceRowsOf(proxyIndex).front(), proxyIndex.column());
}

QModelIndex LayerTreeModel::mapFromSource(const QModelIndex& sourceIndex) const
{
    if (!sourceIndex.isValid() || sourceIndex.row() >= static_cast<int>(m_place.size())) return {};
    const Place& p = m_place[static_cast<std::size_t>(sourceIndex.row())];
    if (p.child < 0) return createIndex(p.top, sourceIndex.column(), quintptr(0));
    return createIndex(p.child, sourceIndex.column(), quintptr(p.top) + 1);
}

void LayerTreeModel::onSourceDataChanged(const QModelIndex& tl, const QModelIndex& br,
                                         const QList<int>& roles)
{
    if (!tl.isValid() || !br.isValid()) return;
    for (int row = tl.row(); row <= br.row() && row < static_cast<int>(m_place.size()); ++row) {
        const QModelIndex first = mapFromSource(m_table->index(row, tl.column()));
        emit dataChanged(first, first.siblingAtColumn(br.column()), roles);
        // The block's totals follow its tensors.
        if (const Place& p = m_place[static_cast<std::size_t>(row)]; p.child >= 0) {
            const QModelIndex group = createIndex(p.top, 0, quintptr(0));
            emit dataChanged(group, group.siblingAtColumn(LayerTableModel::ColumnCount - 1));
        }
    }
}

Qt::ItemFlags LayerTreeModel::flags(const QModelIndex& index) const
{
    if (isGroup(index)) return Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    return QAbstractProxyModel::flags(index);
}

QVariant LayerTreeModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid()) return {};
    if (isGroup(index))
        return groupData(m_top[static_cast<std::size_t>(index.row())], index.column(), role);
    return QAbstractProxyModel::data(index, role);
}

} // namespace qs
