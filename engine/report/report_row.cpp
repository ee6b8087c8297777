#include "report/report_row.h"

#include "formats/ideal_sqnr.h"

#include <algorithm>
#include <cmath>

namespace qs {
namespace {

std::optional<double> finite(std::optional<double> v)
{
    return v && std::isfinite(*v) ? v : std::nullopt;
}

nlohmann::ordered_json value(const std::optional<double>& v)
{
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

template <typename T> nlohmann::ordered_json value(const std::optional<T>& v)
{
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

} // namespace

ReportRow reportRow(const TensorOutcome& o)
{
    ReportRow r;
    r.name = o.name;
    r.dtype = o.storedType;
    r.format = formatName(o);
    r.channelAxis = o.channelAxis;
    r.params = o.params;
    r.bytesBefore = o.bytesBefore;
    r.bytesAfter = o.bytesAfter;
    r.bitsPerWeight = std::isfinite(o.bitsPerWeight) ? o.bitsPerWeight : 0.0;
    r.error = o.error;
    if (o.spec) {
        r.granularity = o.spec->granularity.toString();
        if (o.spec->format->integer()) {
            r.calibration = o.spec->calibration.toString();
            r.rounding = roundingName(o.spec->rounding);
        }
    }
    // A kept tensor may carry an analysis (its histogram) but has no quantization error to
    // report: its metrics stay null, as the README promises.
    if (!o.spec || !o.analysis) return r;
    const TensorAnalysis& a = *o.analysis;
    const ErrorSums& s = a.sums;
    r.nanCount = a.nanCount;
    r.infCount = a.infCount;
    r.calibratedGroups = a.calibratedGroups;
    r.scaleGroups = a.scaleGroups;
    if (s.count == 0) return r; // no finite value (an empty tensor): no error to speak of
    r.mse = finite(s.mse());
    r.rmse = finite(s.rmse());
    r.sqnrDb = finite(s.sqnrDb());
    r.maxAbsError = finite(s.maxAbsError);
    r.cosine = finite(s.cosine());
    r.rmseOverScale = finite(s.rmseOverScale());
    if (o.spec->format->integer()) {
        const int bits = o.spec->format->bits;
        r.hasIdeal = true;
        r.idealUniformDb = finite(idealSqnrDb(bits, IdealQuantizer::Uniform));
        r.idealLloydMaxDb = finite(idealSqnrDb(bits, IdealQuantizer::LloydMax));
    }
    return r;
}

nlohmann::ordered_json toJson(const ReportRow& r)
{
    nlohmann::ordered_json j = {{"name", r.name},
                                {"dtype", r.dtype},
                                {"format", r.format},
                                {"granularity", value(r.granularity)},
                                {"calibration", value(r.calibration)},
                                {"rounding", value(r.rounding)},
                                {"channel_axis", r.channelAxis},
                                {"params", r.params},
                                {"bytes_before", r.bytesBefore},
                                {"bytes_after", r.bytesAfter},
                                {"bits_per_weight", r.bitsPerWeight},
                                {"mse", value(r.mse)},
                                {"rmse", value(r.rmse)},
                                {"sqnr_db", value(r.sqnrDb)},
                                {"max_abs_error", value(r.maxAbsError)},
                                {"cosine", value(r.cosine)},
                                {"rmse_over_scale", value(r.rmseOverScale)},
                                {"nan_count", value(r.nanCount)},
                                {"inf_count", value(r.infCount)},
                                {"calibrated_groups", value(r.calibratedGroups)},
                                {"scale_groups", value(r.scaleGroups)}};
    j["ideal_sqnr_db"] = r.hasIdeal
                             ? nlohmann::ordered_json{{"uniform", value(r.idealUniformDb)},
                                                      {"lloyd_max", value(r.idealLloydMaxDb)}}
                             : nlohmann::ordered_json(nullptr);
    if (!r.error.empty()) j["error"] = r.error;
    return j;
}

double ReportTotals::bitsPerWeight() const
{
    return params ? static_cast<double>(bytesAfter) * 8.0 / static_cast<double>(params) : 0.0;
}

double ReportTotals::compression() const
{
    return bytesAfter ? static_cast<double>(bytesBefore) / static_cast<double>(bytesAfter) : 0.0;
}

std::optional<double> ReportTotals::sqnrDb() const
{
    if (!(noise > 0.0) || !(signal > 0.0)) return std::nullopt;
    return finite(10.0 * std::log10(signal / noise));
}

ReportTotals reportTotals(std::span<const TensorOutcome> outcomes)
{
    ReportTotals t;
    for (const auto& o : outcomes) {
        t.params += o.params;
        t.bytesBefore += o.bytesBefore;
        t.bytesAfter += o.bytesAfter;
        // Integer, fp8 and undecodable tensors keep their bytes in every yardstick.
        const bool isFloat = o.quantizable;
        const auto n = static_cast<std::uint64_t>(std::max<std::int64_t>(o.params, 0));
        t.bytesFp32 += isFloat ? n * 4 : o.bytesBefore;
        t.bytesFp16 += isFloat ? n * 2 : o.bytesBefore;
        if (o.spec && o.analysis) {
            t.signal += o.analysis->sums.sumW2;
            t.noise += o.analysis->sums.sumE2;
        }
    }
    return t;
}

} // namespace qs
