// Edits a layer's format, granularity or calibration in place with a combo box that commits on
// choice.
#pragma once

#include <QStyledItemDelegate>

namespace qs {

class PrecisionDelegate : public QStyledItemDelegate
{
    Q_OBJECT
public:
    // Columns of the model the view shows; the calibration choices depend on the row's format.
    PrecisionDelegate(int formatColumn, int granularityColumn, int calibrationColumn,
                      QObject* parent = nullptr);

    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                          const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model,
                      const QModelIndex& index) const override;
    void updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                              const QModelIndex& index) const override;

private:
    bool isPrecisionColumn(int column) const;

    int m_formatColumn, m_granularityColumn, m_calibrationColumn;
};

} // namespace qs
