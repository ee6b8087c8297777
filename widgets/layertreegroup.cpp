// LayerTreeModel: what a block's row shows, the totals of its tensors.
#include "displayformat.h"
#include "document.h"
#include "layertablemodel.h"
#include "layertreemodel.h"

#include <QFont>

namespace qs {
namespace {

struct Totals
{
    qint64 params = 0;
    quint64 before = 0, after = 0;
    ErrorSums sums;
    bool measured = false; // at least one tensor has metrics
    bool complete = true;  // every tensor has a result
    QString format;        // shared by every tensor, or "mixed"
};

Totals totalsOf(const Document& doc, const std::vector<int>& rows)
{
    Totals t;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const int row = rows[i];
        const TensorInfo& info = doc.tensor(row);
        t.params += info.numel();
        t.before += info.byteSize;
        const auto r = doc.result(row);
        t.after += r ? r->bytesAfter : info.byteSize;
        t.complete = t.complete && r;
        if (r && r->spec && r->analysis) {
            t.sums.merge(r->analysis->sums);
            t.measured = true;
        }
        const auto p = doc.precision(row);
        const QString f = p ? QString::fromStdString(p->format) : QStringLiteral("keep");
        if (i == 0)
            t.format = f;
        else if (t.format != f)
            t.format = LayerTreeModel::tr("mixed");
    }
    return t;
}

} // namespace

QVariant LayerTreeModel::groupData(const Top& top, int column, int role) const
{
    const Document& doc = *m_table->document();
    if (role == Qt::FontRole) {
        QFont f;
        f.setBold(true);
        return f;
    }
    if (role == Qt::TextAlignmentRole)
        return column == LayerTableModel::NameColumn || column == LayerTableModel::FormatColumn
                   ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                   : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && column == LayerTableModel::NameColumn)
        return tr("%1: %n tensors. The numbers on this row are the block's totals; SQNR and "
                  "MSE pool the squared errors of its quantized tensors.",
                  nullptr, static_cast<int>(top.rows.size()))
            .arg(top.block);
    if (role != Qt::DisplayRole && role != LayerTableModel::SortRole) return {};
    const Totals t = totalsOf(doc, top.rows);
    const bool sort = role == LayerTableModel::SortRole;
    switch (column) {
    case LayerTableModel::NameColumn:
        return sort ? QVariant(top.block)
                    : QVariant(tr("%1  (%n tensors)", nullptr, static_cast<int>(top.rows.size()))
                                   .arg(top.block));
    case LayerTableModel::FormatColumn:
        return t.format;
    case LayerTableModel::ParamsColumn:
        return sort ? QVariant(t.params) : QVariant(display::count(t.params));
    case LayerTableModel::BytesBeforeColumn:
        return sort ? QVariant(t.before) : QVariant(display::bytes(t.before));
    case LayerTableModel::BytesAfterColumn:
        if (!t.complete) return sort ? QVariant() : QVariant(display::notAvailable());
        return sort ? QVariant(t.after) : QVariant(display::bytes(t.after));
    case LayerTableModel::BitsColumn: {
        if (!t.complete || t.params == 0) return sort ? QVariant() : QVariant(display::notAvailable());
        const double bits = static_cast<double>(t.after) * 8.0 / static_cast<double>(t.params);
        return sort ? QVariant(bits) : QVariant(display::fixed(bits, 2));
    }
    case LayerTableModel::SqnrColumn: {
        const auto db = t.measured ? t.sums.sqnrDb() : std::nullopt;
        if (!db) return sort ? QVariant() : QVariant(display::notAvailable());
        return sort ? QVariant(*db) : QVariant(display::decibels(*db));
    }
    case LayerTableModel::MseColumn:
        if (!t.measured) return sort ? QVariant() : QVariant(display::notAvailable());
        return sort ? QVariant(t.sums.mse()) : QVariant(display::scientific(t.sums.mse()));
    default:
        return {};
    }
}

} // namespace qs
