#include "allocsolutionmodel.h"

#include "displayformat.h"

#include <QBrush>
#include <QPalette>

namespace qs {

AllocSolutionModel::AllocSolutionModel(QObject* parent) : QAbstractTableModel(parent) {}

void AllocSolutionModel::setRows(const QVector<AllocSolutionRow>& rows)
{
    beginResetModel();
    m_rows = rows;
    endResetModel();
}

int AllocSolutionModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int AllocSolutionModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AllocSolutionModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const AllocSolutionRow& r = m_rows[index.row()];
    const int column = index.column();
    if (role == Qt::DisplayRole) {
        switch (column) {
        case TensorColumn:
            return r.tensor;
        case FormatColumn:
            return r.format;
        case RoleColumn:
            return r.role;
        case SizeColumn:
            return display::bytes(r.bytes);
        case DistortionColumn:
            return display::scientific(r.distortion);
        case WhyColumn:
            return r.explanation;
        default:
            return {};
        }
    }
    if (role == SortRole) {
        switch (column) {
        case SizeColumn:
            return QVariant::fromValue(r.bytes);
        case DistortionColumn:
            return r.distortion;
        default:
            return data(index, Qt::DisplayRole);
        }
    }
    if (role == Qt::ToolTipRole) {
        // The explanation is the point of the table; it is long, so every cell offers it.
        QString tip = QStringLiteral("<b>%1</b><br>%2")
                          .arg(r.tensor.toHtmlEscaped(), r.explanation.toHtmlEscaped());
        if (column == SizeColumn) tip += QStringLiteral("<br>") + display::exactBytes(r.bytes);
        return tip;
    }
    if (role == Qt::TextAlignmentRole && (column == SizeColumn || column == DistortionColumn))
        return QVariant::fromValue(Qt::Alignment(Qt::AlignRight | Qt::AlignVCenter));
    if (role == Qt::ForegroundRole && r.role != QLatin1String("free") && column != TensorColumn)
        return QPalette().brush(QPalette::PlaceholderText); // not the allocation's choice
    return {};
}

QVariant AllocSolutionModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case TensorColumn:
        return tr("Tensor");
    case FormatColumn:
        return tr("Format");
    case RoleColumn:
        return tr("Role");
    case SizeColumn:
        return tr("Size");
    case DistortionColumn:
        return tr("Distortion");
    case WhyColumn:
        return tr("Why");
    default:
        return {};
    }
}

} // namespace qs
