// Edits a layer's format or granularity in place with a combo box that commits on choice.
#pragma once

#include <QStyledItemDelegate>

namespace qs {

class PrecisionDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    // formatColumn and granularityColumn are columns of the model the view shows.
    PrecisionDelegate(int formatColumn, int granularityColumn, QObject* parent = nullptr);

    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                          const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model,
                      const QModelIndex& index) const override;
    void updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const override;

private:
    int m_formatColumn, m_granularityColumn;
};

} // namespace qs
