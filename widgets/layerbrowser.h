// The layer table with its name filter: sorting, in-place precision editing and selection.
#pragma once

#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace qs {

class LayerTableModel;

class LayerBrowser : public QWidget
{
    Q_OBJECT
public:
    explicit LayerBrowser(LayerTableModel* model, QWidget* parent = nullptr);

    QTableView* view() const { return m_view; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    QLineEdit* filterEdit() const { return m_filter; }
    int currentRow() const; // row of the source model, -1 when nothing is selected
    void selectFirstRow();
    // Makes a row of the source model current (clearing a filter that hides it) and shows it.
    void selectSourceRow(int sourceRow);

signals:
    void currentRowChanged(int sourceRow); // -1 when the selection becomes empty

private:
    void onCurrentChanged();
    void applyColumnWidths();

    LayerTableModel* m_model;
    QLineEdit* m_filter;
    QSortFilterProxyModel* m_proxy;
    QTableView* m_view;
    int m_lastRow = -1;
};

} // namespace qs
