// The layers of the model: a tree grouped by block (or a flat list), a name or regex filter,
// sorting by any column, in-place precision editing and multi-selection.
#pragma once

#include <QVector>
#include <QWidget>

class QCheckBox;
class QLabel;
class QLineEdit;
class QModelIndex;
class QSortFilterProxyModel;
class QTreeView;

namespace qs {

class LayerTableModel;
class LayerTreeModel;

class LayerBrowser : public QWidget
{
    Q_OBJECT
public:
    explicit LayerBrowser(LayerTableModel* model, QWidget* parent = nullptr);

    QTreeView* view() const { return m_view; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    LayerTreeModel* tree() const { return m_tree; }
    QLineEdit* filterEdit() const { return m_filter; }
    QCheckBox* regexToggle() const { return m_regex; }
    QCheckBox* groupToggle() const { return m_group; }

    // Tensor rows (of the table model) under a view index: one, or a whole block's.
    std::vector<int> sourceRowsAt(const QModelIndex& proxyIndex) const;
    QModelIndex proxyIndexOf(int sourceRow, int column = 0) const;
    int currentRow() const; // the current tensor's row, -1 for none or a block row
    // Every selected tensor, a selected block standing for all of its tensors; sorted.
    QVector<int> selectedRows() const;
    void selectFirstRow();
    // Makes a row of the source model current (clearing a filter that hides it) and shows it.
    void selectSourceRow(int sourceRow);
    void setGrouped(bool grouped);
    bool isGrouped() const;

signals:
    void currentRowChanged(int sourceRow); // -1 when no tensor row is current
    void selectionChanged(const QVector<int>& sourceRows);

private:
    void onCurrentChanged();
    void applyFilter();
    void applyColumnWidths();
    void updateEmptyState();

    LayerTableModel* m_model;
    LayerTreeModel* m_tree;
    QLineEdit* m_filter;
    QCheckBox* m_regex;
    QCheckBox* m_group;
    QSortFilterProxyModel* m_proxy;
    QTreeView* m_view;
    QLabel* m_empty;
    int m_lastRow = -1;
};

} // namespace qs
