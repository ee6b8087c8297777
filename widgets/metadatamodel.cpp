#include "metadatamodel.h"

#include "document.h"

namespace qs {

namespace {
// Long values (a tokenizer's merges, a model_config JSON) would make rows metres wide: the
// table shows the start, the tooltip the whole text (itself capped).
constexpr qsizetype kShownChars = 200;
constexpr qsizetype kTooltipChars = 4000;
} // namespace

MetadataModel::MetadataModel(Document* document, QObject* parent)
    : QAbstractTableModel(parent), m_document(document)
{
    connect(document, &Document::modelAboutToChange, this, [this] {
        beginResetModel();
        m_rows.clear();
        endResetModel();
    });
    connect(document, &Document::modelOpened, this, &MetadataModel::reload);
    reload();
}

void MetadataModel::reload()
{
    beginResetModel();
    m_rows.clear();
    if (const Model* model = m_document->model()) {
        m_rows.emplace_back("file format", model->format);
        for (const auto& [key, value] : model->metadata)
            m_rows.emplace_back(key, value);
    }
    endResetModel();
}

int MetadataModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int MetadataModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant MetadataModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto& [key, value] = m_rows[static_cast<std::size_t>(index.row())];
    const QString text = QString::fromStdString(index.column() == KeyColumn ? key : value);
    switch (role) {
    case Qt::DisplayRole:
        return text.size() > kShownChars ? text.left(kShownChars) + QStringLiteral("\u2026") : text;
    case Qt::ToolTipRole:
        return text.size() > kTooltipChars ? text.left(kTooltipChars) + QStringLiteral("\u2026")
                                           : text;
    default:
        return {};
    }
}

QVariant MetadataModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    return section == KeyColumn ? tr("Key") : tr("Value");
}

} // namespace qs
