// The per-tensor analysis: quantize, dequantize, every metric and histogram in one pass.
#pragma once

#include "analysis/metrics.h"
#include "analysis/tensor_quantizer.h"

namespace qs {

struct TensorAnalysis
{
    ErrorSums sums;
    Histogram original, dequantized, error; // original and dequantized share bins
    float minValue = 0, maxValue = 0;       // of the finite values
    // NaN and infinite originals: counted here, left out of every metric and histogram.
    std::int64_t nanCount = 0, infCount = 0;
    // Scale groups, and how many of them calibration changed from min-max.
    std::int64_t scaleGroups = 0, calibratedGroups = 0;
    // For one shared scale (per-tensor granularity): the representable range, for plots.
    std::optional<float> clipLow, clipHigh;
    std::optional<float> scale; // the tensor's scale when there is exactly one
};

TensorAnalysis analyzeTensor(TensorQuantizer& quantizer, const Control& control, int bins = 256);

// Writes the dequantized values (the values the quantized model computes with) in the
// tensor's memory order into out, which holds numel floats.
void dequantizeTensor(TensorQuantizer& quantizer, float* out, const Control& control);

} // namespace qs
