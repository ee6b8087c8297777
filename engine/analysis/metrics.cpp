#include "analysis/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace qs {

std::uint64_t Histogram::total() const
{
    return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
}

void ErrorSums::merge(const ErrorSums& o)
{
    count += o.count;
    sumW2 += o.sumW2;
    sumE2 += o.sumE2;
    sumD2 += o.sumD2;
    sumWD += o.sumWD;
    sumScaledE2 += o.sumScaledE2;
    maxAbsError = std::max(maxAbsError, o.maxAbsError);
    scaled = scaled || o.scaled;
}

std::size_t Histogram::binOf(float v) const
{
    const auto l = static_cast<float>(lo);
    const auto scale = static_cast<float>(static_cast<double>(counts.size()) / (hi - lo));
    const auto top = static_cast<float>(counts.size() - 1);
    float t = (v - l) * scale;
    t = t < top ? t : top;
    t = 0.0f < t ? t : 0.0f;
    return static_cast<std::size_t>(t);
}

double ErrorSums::mse() const
{
    return count ? sumE2 / static_cast<double>(count) : 0.0;
}
double ErrorSums::rmse() const
{
    return std::sqrt(mse());
}

std::optional<double> ErrorSums::sqnrDb() const
{
    if (count == 0 || !(sumE2 > 0.0)) return std::nullopt;
    return 10.0 * std::log10(sumW2 / sumE2);
}

std::optional<double> ErrorSums::cosine() const
{
    if (!(sumW2 > 0.0) || !(sumD2 > 0.0)) return std::nullopt;
    return sumWD / std::sqrt(sumW2 * sumD2);
}

std::optional<double> ErrorSums::rmseOverScale() const
{
    if (!scaled || count == 0) return std::nullopt;
    return std::sqrt(sumScaledE2 / static_cast<double>(count));
}

} // namespace qs
