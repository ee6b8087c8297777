#include "nn/act_quant.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs::nn {

void RangeCalibrator::add(std::span<const float> values)
{
    m_values.insert(m_values.end(), values.begin(), values.end());
}

double entropyThreshold(const std::vector<double>& hist, double binWidth, int quantizedBins)
{
    const int bins = static_cast<int>(hist.size());
    if (bins <= quantizedBins) return bins * binWidth;
    double bestKl = std::numeric_limits<double>::infinity();
    int best = bins;
    std::vector<double> p, q;
    for (int i = quantizedBins; i <= bins; ++i) {
        // P: the first i bins, with everything beyond them clipped into the last one.
        p.assign(hist.begin(), hist.begin() + i);
        for (int j = i; j < bins; ++j)
            p[i - 1] += hist[j];
        // Q: the first i bins merged into quantizedBins levels, each level's count spread
        // evenly over the bins of it that were non-empty.
        q.assign(static_cast<std::size_t>(i), 0.0);
        const double per = double(i) / quantizedBins;
        for (int k = 0; k < quantizedBins; ++k) {
            const int start = static_cast<int>(std::floor(k * per));
            const int end = k == quantizedBins - 1 ? i : static_cast<int>(std::floor((k + 1) * per));
            double sum = 0;
            int nonzero = 0;
            for (int j = start; j < end; ++j) {
                sum += hist[j];
                nonzero += hist[j] != 0;
            }
            for (int j = start; j < end; ++j)
                if (hist[j] != 0) q[j] = sum / nonzero;
        }
        double pSum = 0, qSum = 0;
        for (int j = 0; j < i; ++j) {
            pSum += p[j];
            qSum += q[j];
        }
        if (pSum <= 0 || qSum <= 0) continue;
        double kl = 0;
        for (int j = 0; j < i; ++j) {
            if (p[j] == 0) continue;
            // A bin P has and Q lacks (only the clipped last bin can be one) costs as if Q
            // held a tiny count there rather than making the divergence infinite.
            const double qj = q[j] > 0 ? q[j] / qSum : 1e-12;
            kl += (p[j] / pSum) * std::log((p[j] / pSum) / qj);
        }
        if (kl < bestKl) {
            bestKl = kl;
            best = i;
        }
    }
    return (best + 0.5) * binWidth;
}

Range RangeCalibrator::range(CalibrationMethod method, double percentile) const
{
    if (m_values.empty()) return {};
    const auto [mn, mx] = std::minmax_element(m_values.begin(), m_values.end());
    if (method == CalibrationMethod::MinMax) return {*mn, *mx};
    if (method == CalibrationMethod::Percentile) {
        std::vector<float> v = m_values;
        const auto at = [&](double q) {
            const auto k = static_cast<std::size_t>(std::clamp(q / 100.0, 0.0, 1.0) * double(v.size() - 1));
            std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
            return v[k];
        };
        return {at(100.0 - percentile), at(percentile)};
    }
    constexpr int kBins = 2048;
    const double top = std::max(std::abs(double(*mn)), std::abs(double(*mx)));
    if (top == 0) return {};
    std::vector<double> hist(kBins, 0.0);
    const double width = top / kBins;
    for (const float x : m_values)
        hist[std::min<std::size_t>(kBins - 1, static_cast<std::size_t>(std::abs(double(x)) / width))] += 1;
    // Like TensorRT (pytorch-quantization's _compute_amax_entropy), the first bin's count is
    // replaced by the second's: after a ReLU most values are exact zeros, and that spike would
    // dominate P, so the search would pick the threshold that reproduces bin 0 best (the
    // smallest, 128 bins) and clip most of the range. Non-negative values use the 256 levels
    // of the unsigned grid, as fakeQuantize does over [0, T].
    hist[0] = hist[1];
    const bool nonNegative = *mn >= 0;
    const float t = static_cast<float>(entropyThreshold(hist, width, nonNegative ? 256 : 128));
    return {*mn < 0 ? -t : 0.0f, t};
}

void fakeQuantize(std::span<float> values, Range r)
{
    const float lo = std::min(r.lo, 0.0f), hi = std::max(r.hi, 0.0f);
    if (hi - lo <= 0) {
        std::fill(values.begin(), values.end(), 0.0f);
        return;
    }
    const float scale = (hi - lo) / 255.0f;
    // The zero point is an integer, so 0 is a grid point (padding and ReLU zeros stay exact).
    const float zero = std::round(-128.0f - lo / scale);
    for (float& v : values) {
        const float q = std::clamp(std::round(v / scale) + zero, -128.0f, 127.0f);
        v = (q - zero) * scale;
    }
}

} // namespace qs::nn
