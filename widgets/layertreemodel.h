// The layer table grouped by model structure: tensors that share a block prefix
// ("model.layers.7", "blk.7", "features.3") sit under one row that shows the block's totals.
// A proxy over LayerTableModel, so editing a tensor row edits the same plan entry.
#pragma once

#include <QAbstractProxyModel>
#include <QString>

#include <vector>

namespace qs {

class LayerTableModel;

// The block a tensor belongs to: its name up to and including the first all-digit component
// ("model.layers.7.mlp.up_proj.weight" → "model.layers.7"), or empty.
QString blockOf(const QString& tensorName);

class LayerTreeModel : public QAbstractProxyModel
{
    Q_OBJECT
public:
    explicit LayerTreeModel(LayerTableModel* source, QObject* parent = nullptr);

    // Rows of the table model under a proxy index: one for a tensor, all of a block's.
    std::vector<int> sourceRowsOf(const QModelIndex& proxyIndex) const;
    bool isGroup(const QModelIndex& proxyIndex) const;
    int groupCount() const { return m_groupCount; }

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    bool hasChildren(const QModelIndex& parent = {}) const override;
    QModelIndex mapToSource(const QModelIndex& proxyIndex) const override;
    QModelIndex mapFromSource(const QModelIndex& sourceIndex) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QModelIndex sibling(int row, int column, const QModelIndex& idx) const override;

private:
    struct Top
    {
        QString block;         // empty for a tensor that belongs to no block
        std::vector<int> rows; // source rows: one for a lone tensor
    };
    struct Place
    {
        int top = -1;
        int child = -1; // -1: the tensor is itself a top-level row
    };
    void rebuild();
    void onSourceDataChanged(const QModelIndex& tl, const QModelIndex& br,
                             const QList<int>& roles);
    QVariant groupData(const Top& top, int column, int role) const;

    LayerTableModel* m_table;
    std::vector<Top> m_top;
    std::vector<Place> m_place; // per source row
    int m_groupCount = 0;
};

} // namespace qs
