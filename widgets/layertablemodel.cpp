#include "layertablemodel.h"

#include "displayformat.h"
#include "document.h"
#include "precisionchoices.h"
#include "resultnotes.h"

#include <QApplication>
#include <QPalette>
#include <QStyle>

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
    case LayerTableModel::VsIdealColumn:
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

// Equal in everything the format uses (a precision inherits a granularity even for fp16).
bool samePrecision(const Precision& a, const Precision& b)
{
    if (a.format != b.format) return false;
    const QString format = QString::fromStdString(a.format);
    if (choices::hasGranularity(format) && a.granularity != b.granularity) return false;
    return !choices::hasCalibration(format) ||
           (a.calibration == b.calibration && a.rounding == b.rounding);
}

QString capitalized(QString text)
{
    if (!text.isEmpty()) text[0] = text[0].toUpper();
    return text;
}

// Rich-text tooltips wrap at a narrow width; these lines read better whole.
QString unwrapped(const QString& html)
{
    return QStringLiteral("<p style='white-space:nowrap'>%1</p>").arg(html);
}

QString metricsToolTip(const TensorResult& r)
{
    const TensorAnalysis& a = *r.analysis;
    QString how = r.granularityName();
    if (r.spec && r.spec->format->integer())
        how += QStringLiteral(", ") + choices::calibrationName(r.spec->calibration);
    QStringList lines{
        QStringLiteral("<b>%1</b> (%2)").arg(r.formatName().toHtmlEscaped(), how.toHtmlEscaped())};
    if (notes::hasNonFinite(r))
        lines << QStringLiteral("<b>\u26a0 %1</b>").arg(notes::nonFiniteWarning(r).toHtmlEscaped());
    const auto sqnr = a.sums.sqnrDb();
    lines << QStringLiteral("SQNR: %1")
                 .arg(sqnr ? display::decibels(*sqnr) + QStringLiteral(" dB")
                           : QStringLiteral("\u221e (exact)"));
    if (const QString ideal = notes::idealComparison(r); !ideal.isEmpty())
        lines << capitalized(ideal).toHtmlEscaped();
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
    return unwrapped(lines.join(QStringLiteral("<br>")));
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

std::optional<Calibration> LayerTableModel::calibration(int row) const
{
    const auto p = m_document->precision(row);
    if (!p || !choices::hasCalibration(QString::fromStdString(p->format))) return std::nullopt;
    if (p->calibration) return p->calibration;
    // Inherited from the plan's default like the granularity; min-max when nothing says.
    const auto& def = m_document->plan().defaultPrecision;
    return def && def->calibration ? *def->calibration : Calibration{};
}

bool LayerTableModel::isPending(int row) const
{
    const TensorResultPtr r = m_document->result(row);
    if (!r) return false; // nothing shown yet, so nothing is out of date
    if (r->formatName() != formatName(row)) return true;
    const auto g = granularity(row);
    if (g && r->granularityName() != choices::granularityName(*g)) return true;
    const auto c = calibration(row);
    return c && r->spec && r->spec->calibration != *c;
}

bool LayerTableModel::isEditable(int row, int column) const
{
    if (!isQuantizable(m_document->tensor(row).dtype)) return false;
    switch (column) {
    case FormatColumn:
        return true;
    case GranularityColumn:
        return granularity(row).has_value();
    case CalibrationColumn:
        return calibration(row).has_value();
    default:
        return false;
    }
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
        if (column == CalibrationColumn) {
            const auto c = calibration(row);
            return c ? choices::calibrationName(*c) : QString();
        }
        return displayText(row, column);
    case SortRole:
        return sortValue(row, column);
    case Qt::ToolTipRole:
        return toolTip(row, column);
    case Qt::CheckStateRole:
        if (column != LockColumn || !isQuantizable(m_document->tensor(row).dtype)) return {};
        return m_document->isLocked(row) ? Qt::Checked : Qt::Unchecked;
    case Qt::DecorationRole: {
        // Non-finite weights are rare and easy to miss in a metric: flag the layer by name.
        const TensorResultPtr r = m_document->result(row);
        if (column == NameColumn && r && notes::hasNonFinite(*r))
            return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
        return {};
    }
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(
            Qt::Alignment((isNumeric(column) ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
    case Qt::ForegroundRole:
        // Grey marks what is not current: metrics of an older precision, and fixed rows.
        if ((column >= BytesAfterColumn && isPending(row)) ||
            ((column == FormatColumn || column == GranularityColumn ||
              column == CalibrationColumn) &&
             !isEditable(row, column)))
            return QApplication::palette().color(QPalette::Disabled, QPalette::Text);
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
    case CalibrationColumn: {
        const auto c = calibration(row);
        return c ? choices::calibrationName(*c) : display::notAvailable();
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
    case VsIdealColumn: {
        const auto d = r && r->error.empty() ? notes::vsIdealDb(*r) : std::nullopt;
        return d ? display::signedDecibels(*d) : display::notAvailable();
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
    case CalibrationColumn: {
        const auto c = calibration(row);
        return c ? QVariant(choices::calibrationName(*c)) : QVariant();
    }
    case LockColumn:
        return m_document->isLocked(row) ? 1 : 0;
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
    case VsIdealColumn: {
        const auto d = r ? notes::vsIdealDb(*r) : std::nullopt;
        return d ? QVariant(*d) : QVariant();
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
    case DTypeColumn: {
        QString text = QStringLiteral("<b>%1</b><br>%2 %3, output-channel axis %4")
                           .arg(QString::fromStdString(t.name).toHtmlEscaped(),
                                QString::fromStdString(shapeToString(t.shape)),
                                displayText(row, DTypeColumn).toString())
                           .arg(t.channelAxis);
        if (r && notes::hasNonFinite(*r))
            text += QStringLiteral("<br><b>\u26a0 %1</b>")
                        .arg(notes::nonFiniteWarning(*r).toHtmlEscaped());
        return unwrapped(text);
    }
    case ParamsColumn:
        return tr("%1 parameters").arg(display::count(t.numel()));
    case LockColumn:
        return m_document->isLocked(row)
                   ? tr("Locked: automatic allocation keeps this layer's precision")
                   : tr("Lock this layer so automatic allocation keeps its precision");
    case FormatColumn: {
        if (!isQuantizable(t.dtype)) return tr("Not a floating-point tensor: kept as stored");
        return choices::formatDescription(formatName(row)) + tr("\nDouble-click to change.");
    }
    case GranularityColumn:
        return isEditable(row, column) ? tr("Values sharing one scale. Double-click to change.")
                                       : tr("Only integer formats have scales.");
    case CalibrationColumn:
        return calibrationToolTip(row);
    case BytesBeforeColumn:
        return display::exactBytes(t.byteSize);
    case BytesAfterColumn:
        return r ? QVariant(display::exactBytes(r->bytesAfter)) : QVariant();
    case SqnrColumn:
    case VsIdealColumn:
    case MseColumn:
        return r && r->spec && r->analysis ? QVariant(metricsToolTip(*r)) : QVariant();
    default:
        return {};
    }
}

QVariant LayerTableModel::calibrationToolTip(int row) const
{
    const auto c = calibration(row);
    if (!c || !isEditable(row, CalibrationColumn))
        return tr("Only integer formats are calibrated.");
    QStringList lines{choices::calibrationDescription(choices::calibrationName(*c))};
    // How much the method did, once the result for this very calibration is in.
    const TensorResultPtr r = m_document->result(row);
    if (c->method != Calibration::Method::MinMax && r && r->analysis && r->spec && !isPending(row))
        lines << tr("groups changed: %1 of %2")
                     .arg(display::count(r->analysis->calibratedGroups),
                          display::count(r->analysis->scaleGroups));
    lines << tr("Double-click to change.");
    return lines.join(QLatin1Char('\n'));
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
        case LockColumn:
            return tr("Lock");
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
        case CalibrationColumn:
            return tr("Calibration");
        case BytesBeforeColumn:
            return tr("Bytes before");
        case BytesAfterColumn:
            return tr("Bytes after");
        case BitsColumn:
            return tr("Bits/weight");
        case SqnrColumn:
            return tr("SQNR (dB)");
        case VsIdealColumn:
            return tr("vs ideal");
        case MseColumn:
            return tr("MSE");
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case LockColumn:
            return tr("Locked layers keep their precision when a plan is allocated "
                      "automatically (Ctrl+L toggles the selection)");
        case DTypeColumn:
            return tr("Element type as stored in the file");
        case FormatColumn:
            return tr("Number format the tensor is quantized to");
        case GranularityColumn:
            return tr("How many values share one scale: tensor, channel or group:N");
        case CalibrationColumn:
            return tr("How each scale group's range is chosen (integer formats). A group keeps "
                      "min-max unless the method lowers its squared error.");
        case BytesBeforeColumn:
            return tr("Size as stored in the file");
        case BytesAfterColumn:
            return tr("Size once quantized, including scales and zero points");
        case BitsColumn:
            return tr("Bits per parameter once quantized, including scales");
        case SqnrColumn:
            return tr(
                "Signal-to-quantization-noise ratio: 10\u00b7log10(\u03a3w\u00b2 / \u03a3e\u00b2). "
                "Right-click for what it means.");
        case VsIdealColumn:
            return tr("SQNR minus that of the best uniform quantizer with as many bits on a "
                      "Gaussian, in dB (integer formats). Right-click for what it means.");
        case MseColumn:
            return tr("Mean squared error between original and dequantized weights. Right-click "
                      "for what it means.");
        default:
            return {};
        }
    }
    return {};
}

std::optional<Precision> LayerTableModel::editedPrecision(int row, int column,
                                                          const QString& text) const
{
    const auto current = m_document->precision(row);
    switch (column) {
    case FormatColumn: {
        if (!choices::isKnownFormat(text)) return std::nullopt;
        Precision next{text.toStdString()};
        if (choices::hasGranularity(text)) {
            // Keep the granularity the row had; a row that was kept takes the plan default's.
            const auto& def = m_document->plan().defaultPrecision;
            next.granularity = current && current->granularity ? current->granularity
                               : def && def->granularity
                                   ? def->granularity
                                   : Granularity{Granularity::Kind::Channel, 0};
        }
        if (current && choices::hasCalibration(text)) {
            // An integer format keeps the row's own calibration and rounding where they apply.
            next.rounding = current->rounding;
            if (current->calibration &&
                choices::parseCalibration(choices::calibrationName(*current->calibration), text))
                next.calibration = current->calibration;
        }
        return next;
    }
    case GranularityColumn: {
        const auto g = choices::parseGranularity(text);
        if (!g || !current) return std::nullopt;
        Precision next = *current;
        next.granularity = g;
        return next;
    }
    case CalibrationColumn: {
        if (!current) return std::nullopt;
        const auto c = choices::parseCalibration(text, QString::fromStdString(current->format));
        if (!c) return std::nullopt;
        Precision next = *current;
        // The shown (possibly inherited) calibration is kept as it is: no entry for a no-op.
        next.calibration = c == calibration(row) ? current->calibration : c;
        return next;
    }
    default:
        return std::nullopt;
    }
}

Qt::ItemFlags LayerTableModel::flags(const QModelIndex& index) const
{
    if (!index.isValid() || !checkIndex(index, CheckIndexOption::ParentIsInvalid))
        return Qt::NoItemFlags;
    Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
    if (isEditable(index.row(), index.column())) f |= Qt::ItemIsEditable;
    if (index.column() == LockColumn && isQuantizable(m_document->tensor(index.row()).dtype))
        f |= Qt::ItemIsUserCheckable;
    return f;
}

bool LayerTableModel::setData(const QModelIndex& index, const QVariant& value, int role)
{
    if (role == Qt::CheckStateRole && index.isValid() && index.column() == LockColumn &&
        checkIndex(index, CheckIndexOption::ParentIsInvalid) &&
        (flags(index) & Qt::ItemIsUserCheckable)) {
        const bool locked = value.value<Qt::CheckState>() == Qt::Checked;
        if (locked != m_document->isLocked(index.row()))
            m_document->setLocked({index.row()}, locked);
        return true;
    }
    if (role != Qt::EditRole || !index.isValid() ||
        !checkIndex(index, CheckIndexOption::ParentIsInvalid))
        return false;
    const int row = index.row();
    if (!isEditable(row, index.column())) return false;
    const auto next = editedPrecision(row, index.column(), value.toString().trimmed());
    if (!next) return false;
    const auto current = m_document->precision(row);
    const bool unchanged = current ? samePrecision(*current, *next) : next->format == "keep";
    if (unchanged) return true;           // nothing to recompute
    m_document->setPrecision(row, *next); // emits precisionChanged, which refreshes the row
    return true;
}

} // namespace qs
