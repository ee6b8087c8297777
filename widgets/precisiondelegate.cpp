#include "precisiondelegate.h"

#include "granularityvalidator.h"
#include "precisionchoices.h"

#include <QComboBox>
#include <QLineEdit>
#include <QTimer>

namespace qs {

PrecisionDelegate::PrecisionDelegate(int formatColumn, int granularityColumn, int calibrationColumn,
                                     QObject* parent)
    : QStyledItemDelegate(parent), m_formatColumn(formatColumn),
      m_granularityColumn(granularityColumn), m_calibrationColumn(calibrationColumn)
{
}

bool PrecisionDelegate::isPrecisionColumn(int column) const
{
    return column == m_formatColumn || column == m_granularityColumn ||
           column == m_calibrationColumn;
}

QWidget* PrecisionDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                                         const QModelIndex& index) const
{
    if (!isPrecisionColumn(index.column()))
        return QStyledItemDelegate::createEditor(parent, option, index);
    auto* combo = new QComboBox(parent);
    combo->setFrame(false);
    if (index.column() == m_formatColumn) {
        const QStringList names = choices::formatNames();
        for (int i = 0; i < names.size(); ++i) {
            combo->addItem(names[i]);
            combo->setItemData(i, choices::formatDescription(names[i]), Qt::ToolTipRole);
        }
    } else if (index.column() == m_calibrationColumn) {
        const QString format = index.siblingAtColumn(m_formatColumn).data(Qt::EditRole).toString();
        QStringList names = choices::calibrationChoices(format);
        // A percentile from a loaded plan that is not a preset stays choosable.
        if (const QString current = index.data(Qt::EditRole).toString();
            !current.isEmpty() && !names.contains(current))
            names << current;
        for (int i = 0; i < names.size(); ++i) {
            combo->addItem(names[i]);
            combo->setItemData(i, choices::calibrationDescription(names[i]), Qt::ToolTipRole);
        }
    } else {
        combo->addItems(choices::granularityPresets());
        combo->setEditable(true);
        combo->setInsertPolicy(QComboBox::NoInsert);
        combo->setValidator(new GranularityValidator(combo));
        combo->lineEdit()->setPlaceholderText(tr("group:N"));
    }
    // Choosing an entry is the whole edit: commit and recompute at once, no extra Enter.
    connect(combo, &QComboBox::activated, this, [this, combo] {
        auto* self = const_cast<PrecisionDelegate*>(this);
        emit self->commitData(combo);
        emit self->closeEditor(combo);
    });
    // One double-click should show the choices, not an idle combo box waiting for a click.
    if (!combo->isEditable()) QTimer::singleShot(0, combo, [combo] { combo->showPopup(); });
    return combo;
}

void PrecisionDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const
{
    auto* combo = qobject_cast<QComboBox*>(editor);
    if (!combo) return QStyledItemDelegate::setEditorData(editor, index);
    const QString text = index.data(Qt::EditRole).toString();
    const int i = combo->findText(text);
    if (i >= 0)
        combo->setCurrentIndex(i);
    else if (combo->isEditable())
        combo->setEditText(text);
}

void PrecisionDelegate::setModelData(QWidget* editor, QAbstractItemModel* model,
                                     const QModelIndex& index) const
{
    auto* combo = qobject_cast<QComboBox*>(editor);
    if (!combo) return QStyledItemDelegate::setModelData(editor, model, index);
    const QString text = combo->currentText().trimmed();
    if (index.column() == m_granularityColumn && !choices::parseGranularity(text))
        return; // half-typed text ("group:") leaves the row as it was
    if (text != index.data(Qt::EditRole).toString()) model->setData(index, text, Qt::EditRole);
}

void PrecisionDelegate::updateEditorGeometry(QWidget* editor, const QStyleOptionViewItem& option,
                                             const QModelIndex& index) const
{
    Q_UNUSED(index);
    editor->setGeometry(option.rect);
}

} // namespace qs
