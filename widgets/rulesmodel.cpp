#include "rulesmodel.h"

#include "core/error.h"
#include "document.h"
#include "precisionchoices.h"

#include <QApplication>
#include <QPalette>

namespace qs {

RulesModel::RulesModel(const Document* document, QObject* parent)
    : QAbstractTableModel(parent), m_document(document)
{
}

void RulesModel::setRules(std::vector<PlanRule> rules)
{
    beginResetModel();
    m_rules = std::move(rules);
    recount();
    endResetModel();
}

void RulesModel::addRule(const PlanRule& rule)
{
    const int row = rowCount();
    beginInsertRows({}, row, row);
    m_rules.push_back(rule);
    recount();
    endInsertRows();
    emit rulesEdited();
}

void RulesModel::removeRule(int row)
{
    if (row < 0 || row >= rowCount()) return;
    beginRemoveRows({}, row, row);
    m_rules.erase(m_rules.begin() + row);
    recount();
    endRemoveRows();
    emit rulesEdited();
}

void RulesModel::moveRule(int from, int to)
{
    if (from < 0 || from >= rowCount() || to < 0 || to >= rowCount() || from == to) return;
    // Qt's destination is the row the item goes before, in the order before the move.
    beginMoveRows({}, from, from, {}, to > from ? to + 1 : to);
    const PlanRule r = m_rules[from];
    m_rules.erase(m_rules.begin() + from);
    m_rules.insert(m_rules.begin() + to, r);
    recount();
    endMoveRows();
    emit rulesEdited();
}

void RulesModel::recount()
{
    // Which rule decides each tensor is the plan's own logic, so ask a plan holding these rules
    // (with the document's entries, which win over any rule).
    m_counts.assign(m_rules.size(), 0);
    m_errors.assign(m_rules.size(), QString());
    m_problem.clear();
    for (std::size_t i = 0; i < m_rules.size(); ++i) {
        Plan single;
        single.rules = {m_rules[i]};
        try {
            single.compileRules("rule");
        } catch (const Error& e) {
            QString what = QString::fromUtf8(e.what());
            what.remove(QStringLiteral("rule: rule 1: "));
            m_errors[i] = what;
            if (m_problem.isEmpty()) m_problem = tr("Rule %1: %2").arg(i + 1).arg(what);
        }
    }
    if (!m_problem.isEmpty() || !m_document->model()) return;
    Plan plan = m_document->plan();
    plan.rules = m_rules;
    plan.compileRules("rules");
    std::string origin;
    for (int row = 0; row < m_document->tensorCount(); ++row) {
        plan.precisionFor(m_document->tensor(row), &origin);
        if (origin.rfind("rule ", 0) == 0) {
            const std::size_t n = std::stoul(origin.substr(5));
            if (n >= 1 && n <= m_counts.size()) ++m_counts[n - 1];
        }
    }
}

int RulesModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rules.size());
}

int RulesModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RulesModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const PlanRule& r = m_rules[index.row()];
    const QString format = QString::fromStdString(r.precision.format);
    if (role == Qt::DisplayRole || role == Qt::EditRole) {
        switch (index.column()) {
        case MatchColumn:
            return QString::fromStdString(r.match);
        case FormatColumn:
            return format;
        case GranularityColumn:
            return r.precision.granularity ? choices::granularityName(*r.precision.granularity)
                                           : QString();
        case CalibrationColumn:
            return r.precision.calibration ? choices::calibrationName(*r.precision.calibration)
                                           : QString();
        case CountColumn:
            return m_errors[index.row()].isEmpty() ? QVariant(m_counts[index.row()]) : QVariant();
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == MatchColumn && !m_errors[index.row()].isEmpty())
            return m_errors[index.row()];
        if (index.column() == CountColumn)
            return tr("Tensors this rule decides: it is the first rule matching them and they "
                      "have no precision of their own");
        if (index.column() == GranularityColumn && r.precision.granularity == std::nullopt)
            return tr("Empty: the plan default's granularity");
    }
    if (role == Qt::ForegroundRole && index.column() == MatchColumn &&
        !m_errors[index.row()].isEmpty())
        return QColor(0xc0, 0x39, 0x2b);
    return {};
}

QVariant RulesModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole) return {};
    if (orientation == Qt::Vertical) return section + 1; // rules apply in this order
    switch (section) {
    case MatchColumn:
        return tr("Tensor name matches (regex)");
    case FormatColumn:
        return tr("Format");
    case GranularityColumn:
        return tr("Granularity");
    case CalibrationColumn:
        return tr("Calibration");
    case CountColumn:
        return tr("Tensors");
    }
    return {};
}

Qt::ItemFlags RulesModel::flags(const QModelIndex& index) const
{
    if (!index.isValid()) return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
    const QString format = QString::fromStdString(m_rules[index.row()].precision.format);
    const bool applies = index.column() == MatchColumn || index.column() == FormatColumn ||
                         (index.column() == GranularityColumn && choices::hasGranularity(format)) ||
                         (index.column() == CalibrationColumn && choices::hasCalibration(format));
    if (applies) f |= Qt::ItemIsEditable;
    return f;
}

bool RulesModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role != Qt::EditRole || !index.isValid() || index.row() >= rowCount()) return false;
    PlanRule& r = m_rules[index.row()];
    const QString text = value.toString().trimmed();
    switch (index.column()) {
    case MatchColumn:
        if (text.isEmpty()) return false;
        r.match = text.toStdString();
        break;
    case FormatColumn:
        if (!choices::isKnownFormat(text)) return false;
        r.precision.format = text.toStdString();
        if (!choices::hasGranularity(text)) r.precision.granularity.reset();
        if (!choices::hasCalibration(text)) r.precision.calibration.reset();
        break;
    case GranularityColumn:
        if (text.isEmpty()) {
            r.precision.granularity.reset();
        } else {
            const auto g = choices::parseGranularity(text);
            if (!g) return false;
            r.precision.granularity = g;
        }
        break;
    case CalibrationColumn: {
        if (text.isEmpty()) {
            r.precision.calibration.reset();
            break;
        }
        const auto c = choices::parseCalibration(text, QString::fromStdString(r.precision.format));
        if (!c) return false;
        r.precision.calibration = c;
        break;
    }
    default:
        return false;
    }
    recount();
    emit dataChanged(index.siblingAtColumn(0), index.siblingAtColumn(ColumnCount - 1));
    // Counts of the other rules may change too.
    emit dataChanged(this->index(0, CountColumn), this->index(rowCount() - 1, CountColumn));
    emit rulesEdited();
    return true;
}

} // namespace qs
