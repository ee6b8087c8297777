#include "layertablemodel.h"

#include "displayformat.h"
#include "document.h"
#include "precisionchoices.h"

#include <QGuiApplication>
#include <QPalette>

#include <cmath>
#include <limits>

namespace qs {
namespace {
bool isNumeric(int column)
{
    switch (column) {
    case LayerTableModel::ParamsColumn:
    case LayerTableModel::BytesBeforeColumn:
    case LayerTableModel::BytesAfterColumn:
    case LayerTableModel::BitsColumn:
    case LayerTableModel::SqnrColumn:
    case LayerTableModel::MseColumn:
        return true;
    default:
        return false;
    }
}

// A quantized tensor whose error is exactly zero (e.g. fp16 of fp16 data) has no finite SQNR.
bool isExact(const TensorAnalysis& a)
{
    return a.sums.count > 0 && a.sums.sumE2 == 0.0;
}

QString metricsToolTip(const TensorResult& r)
{
    const TensorAnalysis& a = *r.analysis;
    QStringList lines{
        QStringLiteral("<b>%1</b> (%2)")
            .arg(r.formatName().toHtmlEscaped(), r.granularityName().toHtmlEscaped())};
    const auto sqnr = a.sums.sqnrDb();
    lines << QStringLiteral("SQNR: %1")
                 .arg(sqnr ? display::decibels(*sqnr) + QStringLiteral(" dB")
                           : QStringLiteral("\u221e (exact)"));
    lines << QStringLiteral("MSE: %1").arg(display::scientific(a.sums.mse()));
    lines << QStringLiteral("RMSE: %1").arg(display::scientific(a.sums.rmse()));
    lines << QStringLiteral("Max |error|: %1").arg(display::scientific(a.sums.maxAbsError));
    if (const auto cos = a.sums.cosine())
        lines << QStringLiteral("Cosine similarity: %1").arg(display::fixed(*cos, 6));
    if (const auto ros = a.sums.rmseOverScale())
        lines << QStringLiteral("RMSE / scale: %1 (0.289 is ideal rounding)")
                     .arg(display::fixed(*ros, 3));
    lines << QStringLiteral("Weights range: [%1, %2]")
                 .arg(display::scientific(a.minValue), display::scientific(a.maxValue));
    return lines.join(QStringLiteral("<br>"));
}
} // namespace

LayerTableModel::LayerTableModel(Document* document, QObject* parent)
    : QAbstractTableModel(parent), m_document(document)
{
    connect(document, &Document::modelAboutToChange, this, &LayerTableModel::beginReset);
    connect(document, &Document::modelOpened, this, &LayerTableModel::endReset);
    connect(document, &Document::resultChanged, this, &LayerTableModel::rowChanged);
    connect(document, &Document::precisionChanged, this, &LayerTableModel::rowChanged);
}

void LayerTableModel::beginReset()
{
    if (m_resetting) return;
    m_resetting = true;
    beginResetModel();
}

void LayerTableModel::endReset()
{
    // modelOpened without a preceding modelAboutToChange still invalidates every row.
    if (!m_resetting) beginResetModel();
    m_resetting = false;
    endResetModel();
}

void LayerTableModel::rowChanged(int row)
{
    if (m_resetting || row < 0 || row >= rowCount()) return;
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int LayerTableModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : m_document->tensorCount();
}

int LayerTableModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString LayerTableModel::formatName(int row) const
{
    const auto p = m_document->precision(row);
    return p ? QString::fromStdString(p->format) : choices::keepName();
}

std::optional<Granularity> LayerTableModel::granularity(int row) const
{
    const auto p = m_document->precision(row);
    if (!p || !choices::hasGranularity(QString::fromStdString(p->format))) return std::nullopt;
    // Without a granularity anywhere in the plan the engine quantizes per tensor.
    return p->granularity.value_or(Granularity{});
}

bool LayerTableModel::isPending(int row) const
{
    const TensorResultPtr r = m_document->result(row);
    if (!r) return false; // nothing shown yet, so nothing is out of date
    if (r->formatName() != formatName(row)) return true;
    const auto g = granularity(row);
    return g && r->granularityName() != choices::granularityName(*g);
}

bool LayerTableModel::isEditable(int row, int column) const
{
    if (!isQuantizable(m_document->tensor(row).dtype)) return false;
    if (column == FormatColumn) return true;
    return column == GranularityColumn && granularity(row).has_value();
}

QVariant LayerTableModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::ParentIsInvalid)) return {};
    const int row = index.row(), column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayText(row, column);
    case Qt::EditRole:
        if (column == FormatColumn) return formatName(row);
        if (column == GranularityColumn) {
            const auto g = granularity(row);
            return g ? choices::granularityName(*g) : QString();
        }
        return displayText(row, column);
    case SortRole:
        return sortValue(row, column);
    case Qt::ToolTipRole:
        return toolTip(row, column);
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(
            Qt::Alignment((isNumeric(column) ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
    case Qt::ForegroundRole:
        // Grey marks what is not current: metrics of an older precision, and fixed rows.
        if ((column >= BytesAfterColumn && isPending(row)) ||
            ((column == FormatColumn || column == GranularityColumn) && !isEditable(row, column)))
            return QGuiApplication::palette().color(QPalette::Disabled, QPalette::Text);
        return {};
    default:
        return {};
    }
}

QVariant LayerTableModel::displayText(int row, int column) const
{
    const TensorInfo& t = m_document->tensor(row);
    const TensorResultPtr r = m_document->result(row);
    const bool quantized = r && r->spec && r->analysis;
    switch (column) {
    case NameColumn:
        return QString::fromStdString(t.name);
    case ShapeColumn:
        return QString::fromStdString(shapeToString(t.shape));
    case DTypeColumn:
        return t.storedType.empty() ? QString::fromUtf8(dtypeName(t.dtype).data())
                                    : QString::fromStdString(t.storedType);
    case ParamsColumn:
        return display::count(t.numel());
    case FormatColumn:
        return formatName(row);
    case GranularityColumn: {
        const auto g = granularity(row);
        return g ? choices::granularityName(*g) : display::notAvailable();
    }
    case BytesBeforeColumn:
        return display::bytes(t.byteSize);
    case BytesAfterColumn:
        return r ? display::bytes(r->bytesAfter) : display::notAvailable();
    case BitsColumn:
        return r ? display::fixed(r->bitsPerWeight, 2) : display::notAvailable();
    case SqnrColumn: {
        if (r && !r->error.empty()) return tr("failed"); // the tooltip says why
        if (!quantized) return display::notAvailable();
        if (const auto db = r->analysis->sums.sqnrDb()) return display::decibels(*db);
        return isExact(*r->analysis) ? QStringLiteral("\u221e") : display::notAvailable();
    }
    case MseColumn:
        return quantized ? display::scientific(r->analysis->sums.mse()) : display::notAvailable();
    default:
        return {};
    }
}

QVariant LayerTableModel::sortValue(int row, int column) const
{
    const TensorInfo& t = m_document->tensor(row);
    const TensorResultPtr r = m_document->result(row);
    const bool quantized = r && r->spec && r->analysis;
    switch (column) {
    case NameColumn:
        return QString::fromStdString(t.name);
    case ShapeColumn:
    case ParamsColumn:
        return static_cast<qlonglong>(t.numel());
    case DTypeColumn:
        return QString::fromUtf8(dtypeName(t.dtype).data());
    case FormatColumn:
        return formatName(row);
    case GranularityColumn: {
        // Finer granularity first: channel, then groups by size, then tensor.
        const auto g = granularity(row);
        if (!g) return {};
        switch (g->kind) {
        case Granularity::Kind::Channel:
            return qlonglong{0};
        case Granularity::Kind::Group:
            return static_cast<qlonglong>(g->groupSize);
        case Granularity::Kind::Tensor:
            return std::numeric_limits<qlonglong>::max();
        }
        return {};
    }
    case BytesBeforeColumn:
        return static_cast<qulonglong>(t.byteSize);
    case BytesAfterColumn:
        return r ? QVariant(static_cast<qulonglong>(r->bytesAfter)) : QVariant();
    case BitsColumn:
        return r ? QVariant(r->bitsPerWeight) : QVariant();
    case SqnrColumn: {
        if (!quantized) return {};
        if (const auto db = r->analysis->sums.sqnrDb()) return *db;
        return isExact(*r->analysis) ? QVariant(std::numeric_limits<double>::infinity())
                                     : QVariant();
    }
    case MseColumn:
        return quantized ? QVariant(r->analysis->sums.mse()) : QVariant();
    default:
        return {};
    }
}

QVariant LayerTableModel::toolTip(int row, int column) const
{
    const TensorInfo& t = m_document->tensor(row);
    const TensorResultPtr r = m_document->result(row);
    if (r && !r->error.empty() && column >= BytesAfterColumn)
        return tr("Could not be quantized: %1").arg(QString::fromStdString(r->error));
    switch (column) {
    case NameColumn:
    case ShapeColumn:
    case DTypeColumn:
        return QStringLiteral("<b>%1</b><br>%2 %3, output-channel axis %4")
            .arg(QString::fromStdString(t.name).toHtmlEscaped(),
                 QString::fromStdString(shapeToString(t.shape)),
                 displayText(row, DTypeColumn).toString())
            .arg(t.channelAxis);
    case ParamsColumn:
        return tr("%1 parameters").arg(display::count(t.numel()));
    case FormatColumn: {
        if (!isQuantizable(t.dtype)) return tr("Not a floating-point tensor: kept as stored");
        return choices::formatDescription(formatName(row)) + tr("\nDouble-click to change.");
    }
    case GranularityColumn:
        return isEditable(row, column) ? tr("Values sharing one scale. Double-click to change.")
                                       : tr("Only integer formats have scales.");
    case BytesBeforeColumn:
        return display::exactBytes(t.byteSize);
    case BytesAfterColumn:
        return r ? QVariant(display::exactBytes(r->bytesAfter)) : QVariant();
    case SqnrColumn:
    case MseColumn:
        return r && r->spec && r->analysis ? QVariant(metricsToolTip(*r)) : QVariant();
    default:
        return {};
    }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return {};
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::Alignment(
            (isNumeric(section) ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
    if (role == Qt::DisplayRole) {
        switch (section) {
        case NameColumn:
            return tr("Name");
        case ShapeColumn:
            return tr("Shape");
        case DTypeColumn:
            return tr("DType");
        case ParamsColumn:
            return tr("Params");
        case FormatColumn:
            return tr("Format");
        case GranularityColumn:
            return tr("Granularity");
        case BytesBeforeColumn:
            return tr("Bytes before");
        case BytesAfterColumn:
            return tr("Bytes after");
        case BitsColumn:
            return tr("Bits/weight");
        case SqnrColumn:
            return tr("SQNR (dB)");
        case MseColumn:
            return tr("MSE");
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case DTypeColumn:
            return tr("Element type as stored in the file");
        case FormatColumn:
            return tr("Number format the tensor is quantized to");
        case GranularityColumn:
            return tr("How many values share one scale: tensor, channel or group:N");
        case BytesBeforeColumn:
            return tr("Size as stored in the file");
        case BytesAfterColumn:
            return tr("Size once quantized, including scales and zero points");
        case BitsColumn:
            return tr("Bits per parameter once quantized, including scales");
        case SqnrColumn:
            return tr(
                "Signal-to-quantization-noise ratio: 10\u00b7log10(\u03a3w\u00b2 / \u03a3e\u00b2)");
        case MseColumn:
            return tr("Mean squared error between original and dequantized weights");
        default:
            return {};
        }
    }
    return {};
}

Qt::ItemFlags LayerTableModel::flags(const QModelIndex& index) const
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::ParentIsInvalid))
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
    if (isEditable(index.row(), index.column())) f |= Qt::ItemIsEditable;
    return f;
}

bool LayerTableModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role != Qt::EditRole || !index.isValid() ||
        !checkIndex(index, CheckIndexOption::ParentIsInvalid))
        return false;
    const int row = index.row();
    if (!isEditable(row, index.column())) return false;
    const QString text = value.toString().trimmed();
    const auto current = m_document->precision(row);
    Precision next;
    if (index.column() == FormatColumn) {
        if (!choices::isKnownFormat(text)) return false;
        next.format = text.toStdString();
        if (choices::hasGranularity(text)) {
            // Keep the granularity the row had; a row that was kept takes the plan default's.
            const auto& def = m_document->plan().defaultPrecision;
            next.granularity = current && current->granularity ? current->granularity
                               : def && def->granularity
                                   ? def->granularity
                                   : Granularity{Granularity::Kind::Channel, 0};
        }
    } else {
        const auto g = choices::parseGranularity(text);
        if (!g || !current) return false;
        next = Precision{current->format, g};
    }
    const bool scaled = choices::hasGranularity(QString::fromStdString(next.format));
    const bool unchanged = current ? current->format == next.format &&
                                         (!scaled || current->granularity == next.granularity)
                                   : next.format == "keep";
    if (unchanged) return true;          // nothing to recompute
    m_document->setPrecision(row, next); // emits precisionChanged, which refreshes the row
    return true;
}

} // namespace qs
