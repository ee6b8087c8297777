// Int8 affine quantization of activations: ranges from calibration data (min/max, percentile,
// or TensorRT's entropy method) or from each batch, and the quantize-dequantize step.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace qs::nn {

enum class CalibrationMethod { MinMax, Percentile, Entropy };

struct Range
{
    float lo = 0, hi = 0;
};

// Collects one layer's activations over the calibration batches and turns them into a range.
class RangeCalibrator
{
public:
    void add(std::span<const float> values);
    // MinMax: the observed extremes. Percentile: the (100 - p)th and pth percentiles. Entropy:
    // TensorRT's threshold T over |x| (a 2048-bin histogram whose zero bin takes the count of
    // the next; the bin count i in [128, 2048] whose quantization Q of the first i bins into
    // 128 levels, or 256 when nothing was negative, outliers folded into the last, has the
    // least KL(P || Q)); the range is [-T, T], or [0, T] when nothing was negative.
    Range range(CalibrationMethod method, double percentile = 99.99) const;

private:
    std::vector<float> m_values; // a reservoir would bound memory; calibration sets are small
};

// The threshold of TensorRT's entropy calibration from a histogram of |x| with bins of width
// binWidth (exposed for tests).
double entropyThreshold(const std::vector<double>& histogram, double binWidth,
                        int quantizedBins = 128);

// Rounds values to the 256 levels of an int8 affine grid over [lo, hi] (widened to hold 0,
// which must be exact) and back, in place.
void fakeQuantize(std::span<float> values, Range r);

} // namespace qs::nn
