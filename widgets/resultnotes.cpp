#include "resultnotes.h"

#include "displayformat.h"
#include "formats/ideal_sqnr.h"

#include <QCoreApplication>

#include <cmath>

namespace qs::notes {
namespace {
QString tr(const char* text)
{
    return QCoreApplication::translate("qs::notes", text);
}
} // namespace

std::optional<int> idealBits(const TensorResult& r)
{
    if (!r.spec || !r.spec->format || !r.spec->format->integer()) return std::nullopt;
    return r.spec->format->bits;
}

double idealUniformDb(int bits)
{
    return idealSqnrDb(bits, IdealQuantizer::Uniform);
}

double idealLloydMaxDb(int bits)
{
    return idealSqnrDb(bits, IdealQuantizer::LloydMax);
}

std::optional<double> vsIdealDb(const TensorResult& r)
{
    const auto bits = idealBits(r);
    if (!bits || !r.analysis || !r.error.empty()) return std::nullopt;
    const auto measured = r.analysis->sums.sqnrDb();
    const double ideal = idealUniformDb(*bits);
    if (!measured || !std::isfinite(*measured) || !std::isfinite(ideal)) return std::nullopt;
    return *measured - ideal;
}

QString idealComparison(const TensorResult& r)
{
    const auto bits = idealBits(r);
    if (!bits) return {};
    QString text = tr("ideal for a Gaussian at %1 bits: uniform %2 dB, Lloyd-Max %3 dB")
                       .arg(*bits)
                       .arg(display::fixed(idealUniformDb(*bits), 2),
                            display::fixed(idealLloydMaxDb(*bits), 2));
    if (const auto d = vsIdealDb(r)) {
        const QString magnitude = display::decibels(std::abs(*d));
        if (magnitude == display::decibels(0.0))
            text += tr("; this layer matches the ideal uniform quantizer");
        else
            text += (*d < 0 ? tr("; this layer is %1 dB below") : tr("; this layer is %1 dB above"))
                        .arg(magnitude);
    }
    return text;
}

bool hasNonFinite(const TensorResult& r)
{
    return r.analysis && (r.analysis->nanCount > 0 || r.analysis->infCount > 0);
}

QString nonFiniteWarning(const TensorResult& r)
{
    if (!hasNonFinite(r)) return {};
    const std::int64_t nan = r.analysis->nanCount, inf = r.analysis->infCount;
    const QString nanText = display::count(nan), infText = display::count(inf);
    QString what;
    if (nan > 0 && inf > 0)
        what = tr("%1 NaN and %2 infinite values").arg(nanText, infText);
    else if (nan > 0)
        what = (nan == 1 ? tr("%1 NaN value") : tr("%1 NaN values")).arg(nanText);
    else
        what = (inf == 1 ? tr("%1 infinite value") : tr("%1 infinite values")).arg(infText);
    return tr("%1: left out of the metrics").arg(what);
}

} // namespace qs::notes
