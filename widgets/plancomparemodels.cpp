#include "plancomparemodels.h"

#include "displayformat.h"
#include "document.h"

#include <QFont>

#include <algorithm>
#include <cmath>

namespace qs {
namespace {
std::optional<double> sqnrOf(const TensorResultPtr& r)
{
    if (!r || !r->spec || !r->analysis) return std::nullopt;
    return r->analysis->sums.sqnrDb();
}
QString formatOf(const TensorResultPtr& r)
{
    return r ? r->formatName() : display::notAvailable();
}
} // namespace

PlanTotals planTotals(const Document& doc, int plan)
{
    PlanTotals t;
    ErrorSums sums;
    bool any = false;
    t.tensors = doc.tensorCount();
    for (int row = 0; row < doc.tensorCount(); ++row) {
        const TensorInfo& info = doc.tensor(row);
        const auto r = doc.resultOf(plan, row);
        t.params += info.numel();
        t.bytesBefore += info.byteSize;
        t.bytesAfter += r ? r->bytesAfter : info.byteSize;
        if (r) ++t.computed;
        if (r && r->spec && r->analysis) {
            sums.merge(r->analysis->sums);
            any = true;
        }
    }
    if (any) t.sqnrDb = sums.sqnrDb();
    return t;
}

PlanTotalsModel::PlanTotalsModel(Document* doc, QObject* parent)
    : QAbstractTableModel(parent), m_doc(doc)
{
    refresh();
}

void PlanTotalsModel::refresh()
{
    beginResetModel();
    m_totals.clear();
    for (int p = 0; p < m_doc->planCount(); ++p)
        m_totals.push_back(planTotals(*m_doc, p));
    endResetModel();
}

int PlanTotalsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_totals.size());
}

int PlanTotalsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PlanTotalsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    const PlanTotals& t = m_totals[static_cast<std::size_t>(index.row())];
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::Alignment(
            (index.column() == PlanColumn ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter));
    if (role == Qt::FontRole && index.row() == m_doc->activePlan()) {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role == Qt::ToolTipRole && t.computed < t.tensors)
        return tr("%1 of %2 tensors computed so far").arg(t.computed).arg(t.tensors);
    if (role != Qt::DisplayRole) return {};
    switch (index.column()) {
    case PlanColumn:
        return m_doc->planName(index.row()) +
               (index.row() == m_doc->activePlan() ? tr(" (active)") : QString());
    case SizeColumn:
        return display::bytes(t.bytesAfter);
    case BitsColumn:
        return t.params ? display::fixed(double(t.bytesAfter) * 8.0 / double(t.params), 2)
                        : display::notAvailable();
    case CompressionColumn:
        return t.bytesAfter ? QStringLiteral("%1\u00d7").arg(
                                  display::fixed(double(t.bytesBefore) / double(t.bytesAfter), 2))
                            : display::notAvailable();
    case SqnrColumn:
        return t.sqnrDb ? display::decibels(*t.sqnrDb) : display::notAvailable();
    }
    return {};
}

QVariant PlanTotalsModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal) return {};
    if (role == Qt::ToolTipRole && section == SqnrColumn)
        return tr("Pooled over every quantized tensor: 10\u00b7log10(\u03a3w\u00b2 / \u03a3e\u00b2). "
                  "Large tensors weigh more.");
    if (role != Qt::DisplayRole) return {};
    switch (section) {
    case PlanColumn:
        return tr("Plan");
    case SizeColumn:
        return tr("Size");
    case BitsColumn:
        return tr("Bits/weight");
    case CompressionColumn:
        return tr("Compression");
    case SqnrColumn:
        return tr("SQNR (dB)");
    }
    return {};
}

PlanDiffModel::PlanDiffModel(Document* doc, QObject* parent)
    : QAbstractTableModel(parent), m_doc(doc)
{
}

void PlanDiffModel::setPlans(int a, int b)
{
    m_a = a;
    m_b = b;
    refresh();
}

void PlanDiffModel::refresh()
{
    beginResetModel();
    m_rows.clear();
    if (m_a < m_doc->planCount() && m_b < m_doc->planCount())
        for (int row = 0; row < m_doc->tensorCount(); ++row) {
            const auto ra = m_doc->resultOf(m_a, row), rb = m_doc->resultOf(m_b, row);
            if (!ra || !rb || sameSpec(ra->spec, rb->spec)) continue; // treated alike
            const auto a = sqnrOf(ra), b = sqnrOf(rb);
            const double inf = std::numeric_limits<double>::infinity();
            // A kept or exact side has no finite SQNR: it is the better one.
            const double delta = (b ? *b : inf) - (a ? *a : inf);
            m_rows.push_back({row, a, b, std::isnan(delta) ? 0.0 : delta});
        }
    std::stable_sort(m_rows.begin(), m_rows.end(), [](const Row& x, const Row& y) {
        return std::abs(x.delta) > std::abs(y.delta);
    });
    endResetModel();
}

int PlanDiffModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int PlanDiffModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PlanDiffModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid)) return {};
    const Row& r = m_rows[static_cast<std::size_t>(index.row())];
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::Alignment(
            (index.column() >= SqnrA ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
    if (role != Qt::DisplayRole) return {};
    const auto db = [](const std::optional<double>& v) {
        return v ? display::decibels(*v) : QStringLiteral("\u2014");
    };
    switch (index.column()) {
    case NameColumn:
        return QString::fromStdString(m_doc->tensor(r.row).name);
    case FormatA:
        return formatOf(m_doc->resultOf(m_a, r.row));
    case FormatB:
        return formatOf(m_doc->resultOf(m_b, r.row));
    case SqnrA:
        return db(r.a);
    case SqnrB:
        return db(r.b);
    case DeltaColumn:
        return std::isinf(r.delta) ? (r.delta > 0 ? QStringLiteral("+\u221e")
                                                  : QStringLiteral("\u2212\u221e"))
                                   : display::signedDecibels(r.delta);
    }
    return {};
}

QVariant PlanDiffModel::headerData(int section, Qt::Orientation o, int role) const
{
    if (o != Qt::Horizontal || role != Qt::DisplayRole) return {};
    const QString a = m_a < m_doc->planCount() ? m_doc->planName(m_a) : QString();
    const QString b = m_b < m_doc->planCount() ? m_doc->planName(m_b) : QString();
    switch (section) {
    case NameColumn:
        return tr("Tensor");
    case FormatA:
        return tr("%1 format").arg(a);
    case FormatB:
        return tr("%1 format").arg(b);
    case SqnrA:
        return tr("%1 SQNR").arg(a);
    case SqnrB:
        return tr("%1 SQNR").arg(b);
    case DeltaColumn:
        return tr("\u0394 (%1 \u2212 %2)").arg(b, a);
    }
    return {};
}

} // namespace qs
