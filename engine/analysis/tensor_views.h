// Pictures of one quantized tensor beyond its histograms: a downsampled heatmap of the weight
// matrix and of its error, and a sample of (value, error) pairs, computed in one streaming pass.
#pragma once

#include "analysis/tensor_quantizer.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qs {

struct TensorViewOptions
{
    int maxRows = 256, maxCols = 256;  // heatmap grid bound; smaller matrices are shown exactly
    std::int64_t samplePoints = 20000; // uniform sample of the finite values
    int largestErrors = 256;           // the values with the largest |error|, always shown
    int extremeValues = 64;            // the values with the largest |value|, always shown
    std::uint64_t seed = 0;            // which values the uniform sample picks
};

// The tensor viewed as a matrix: rows are the output channels (the size of
// TensorInfo::channelAxis: axis 0 for PyTorch layouts, the last axis for Keras kernels), columns
// the remaining axes flattened in memory order (a conv weight [out, in, kh, kw] has in*kh*kw
// columns). Cell (r, c) of the grid summarises the elements of matrix rows
// [rowStart(r), rowStart(r + 1)) and columns [colStart(c), colStart(c + 1)); NaN and infinite
// originals are left out, as in the analysis. A cell without a finite value holds NaN.
struct Heatmap
{
    std::int64_t rows = 0, cols = 0;
    int channelAxis = 0;
    int gridRows = 0, gridCols = 0;
    // Row-major gridRows x gridCols. The error is original - dequantized (the analysis' sign).
    std::vector<float> meanAbsValue, meanValue, meanAbsError, meanError, maxAbsError;
    std::vector<std::int64_t> counts; // finite elements per cell

    bool exact() const { return gridRows == rows && gridCols == cols; }
    std::size_t cell(int r, int c) const
    {
        return static_cast<std::size_t>(r) * static_cast<std::size_t>(gridCols) +
               static_cast<std::size_t>(c);
    }
    // Cell i of n over a length: elements [ceil(i*len/n), ceil((i+1)*len/n)), so every cell
    // covers at least one element and the sizes differ by at most one.
    static std::int64_t start(int i, int n, std::int64_t len)
    {
        return (static_cast<std::int64_t>(i) * len + n - 1) / n;
    }
    std::int64_t rowStart(int r) const { return start(r, gridRows, rows); }
    std::int64_t colStart(int c) const { return start(c, gridCols, cols); }
    int cellRow(std::int64_t row) const { return static_cast<int>(row * gridRows / rows); }
    int cellCol(std::int64_t col) const { return static_cast<int>(col * gridCols / cols); }
};

// Why a scatter point is shown (a point may have several reasons).
enum ScatterReason : std::uint8_t {
    kSampled = 1,      // in the uniform sample
    kLargeError = 2,   // among the largest |error|
    kExtremeValue = 4, // among the largest |value|, or the smallest or largest value
};

struct ScatterPoint
{
    float value = 0;        // original
    float error = 0;        // original - dequantized
    std::int64_t index = 0; // row-major (C order) element index
    std::uint8_t reasons = 0;
};

struct TensorViews
{
    std::string name;
    Shape shape;
    std::string spec; // "int4 group:32", "fp32" for a kept tensor
    // Null for tensors with fewer than two dimensions or no elements: there is no matrix.
    std::optional<Heatmap> heatmap;
    // Sorted by index; NaN and infinite originals are never included.
    std::vector<ScatterPoint> points;
    std::int64_t finiteCount = 0, nanCount = 0, infCount = 0;
    std::int64_t sampled = 0;         // points with kSampled: min(samplePoints, finiteCount)
    float minValue = 0, maxValue = 0; // of the finite values
    // For one shared integer scale: the representable range (as TensorAnalysis).
    std::optional<float> clipLow, clipHigh;
};

// One pass of the quantizer over the tensor (after its scale pass): each chunk is dequantized,
// folded into the heatmap cells and offered to the samples, then dropped, so memory stays at
// the grid plus the samples. Work units run on control's executor in small batches whose
// partial results merge in unit order: the result does not depend on the thread count.
// The uniform sample keeps the values whose hash of (seed, index) is smallest, a uniform
// sample without replacement that is the same however the tensor is cut into chunks.
// Throws qs::Error for options out of range, qs::Cancelled when control says so.
TensorViews computeTensorViews(TensorQuantizer& quantizer, const TensorInfo& info,
                               const Control& control, const TensorViewOptions& options = {});

} // namespace qs
