#include "accuracytablemodel.h"

#include <QColor>

#include <cmath>

namespace qs {

AccuracyTableModel::AccuracyTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void AccuracyTableModel::setResults(const EvaluateResultsPtr& results)
{
    beginResetModel();
    m_results = results;
    endResetModel();
}

const EvaluateRow* AccuracyTableModel::rowAt(int row) const
{
    if (!m_results || row < 0 || row >= static_cast<int>(m_results->rows.size())) return nullptr;
    return &m_results->rows[static_cast<std::size_t>(row)];
}

int AccuracyTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() || !m_results ? 0 : static_cast<int>(m_results->rows.size());
}

int AccuracyTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant AccuracyTableModel::data(const QModelIndex& index, int role) const
{
    const EvaluateRow* row = rowAt(index.row());
    if (!row || index.column() < 0 || index.column() >= ColumnCount) return {};
    const nn::EvaluateResult& r = row->result;
    // The float row is the reference itself: its agreement and KL say nothing.
    const double accuracy = row->isFloat ? r.referenceAccuracy : r.accuracy;
    if (role == SortRole) {
        switch (index.column()) {
        case Accuracy:
            return accuracy;
        case Agreement:
            return row->isFloat ? 1.0 : r.agreement;
        case Kl:
            return row->isFloat ? 0.0 : r.kl;
        default:
            return data(index, Qt::DisplayRole);
        }
    }
    if (role == Qt::TextAlignmentRole && index.column() >= Accuracy)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && index.column() == Agreement)
        return tr("Share of the images where this model predicts what the float model does");
    if (role == Qt::ToolTipRole && index.column() == Kl)
        return tr("Mean KL(float softmax || quantized softmax), in nats");
    if (role == Qt::ForegroundRole && row->isFloat && index.column() > Accuracy)
        return QColor(Qt::gray);
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
    case Setting:
        return row->isFloat ? row->label : (row->plan.isEmpty() ? row->label : row->plan);
    case Mode:
        return row->isFloat ? tr("float") : activationModeName(row->mode);
    case Accuracy:
        return QStringLiteral("%1 %").arg(100.0 * accuracy, 0, 'f', 2);
    case Agreement:
        return row->isFloat ? QStringLiteral("—")
                            : QStringLiteral("%1 %").arg(100.0 * r.agreement, 0, 'f', 2);
    case Kl:
        // NaN: not measured (a QAT row's FP32 outputs are not kept).
        return row->isFloat || std::isnan(r.kl) ? QStringLiteral("—")
                                                : QString::number(r.kl, 'g', 3);
    default:
        return {};
    }
}

QVariant AccuracyTableModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
    case Setting:
        return tr("Plan");
    case Mode:
        return tr("Activations");
    case Accuracy:
        return tr("Accuracy");
    case Agreement:
        return tr("Agreement");
    case Kl:
        return tr("KL");
    default:
        return {};
    }
}

} // namespace qs
