// Error metrics and histograms of one tensor, as plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace qs {

struct Histogram
{
    double lo = 0.0, hi = 0.0;         // bin i covers [lo + i*w, lo + (i+1)*w), w = (hi-lo)/bins
    std::vector<std::uint64_t> counts; // values outside [lo, hi] are counted in the edge bins
    double binWidth() const
    {
        return counts.empty() ? 0.0 : (hi - lo) / static_cast<double>(counts.size());
    }
    std::uint64_t total() const;
    // The bin of a value, with exactly the float arithmetic the analysis uses.
    std::size_t binOf(float v) const;
};

// Streaming sums (double) from which every metric follows.
struct ErrorSums
{
    std::uint64_t count = 0;
    double sumW2 = 0, sumE2 = 0, sumD2 = 0, sumWD = 0, sumScaledE2 = 0;
    double maxAbsError = 0;
    bool scaled = false; // sumScaledE2 is meaningful (integer formats)

    void merge(const ErrorSums& o);
    double mse() const;
    double rmse() const;
    std::optional<double> sqnrDb() const; // null when the error is zero (or nothing measured)
    std::optional<double> cosine() const; // null when a vector is all zero
    std::optional<double> rmseOverScale() const; // ~0.289 for ideal uniform rounding
};

} // namespace qs
