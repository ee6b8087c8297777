// Integer inference for Dense and Conv2D: int8 activations (per-tensor scale and zero point)
// times int8 weights (per-output-channel scales) accumulated in int32, then rescaled to float.
#pragma once

#include "nn/act_quant.h"
#include "nn/tensor.h"

#include <cstdint>
#include <vector>

namespace qs::nn {

// The int8 grid fakeQuantize uses for a range: x = (q - zero) * scale, q in [-128, 127].
struct ActivationGrid
{
    float scale = 1;
    std::int32_t zero = 0;
};
ActivationGrid activationGrid(Range r);

// Rounds count values onto the grid, as fakeQuantize does before it dequantizes.
void quantizeActivations(const float* x, std::int64_t count, ActivationGrid g, std::int8_t* q);

// A [k, n] kernel (Keras layout: output channels last) as symmetric int8 per output channel:
// scale[c] = max|w[:, c]| / 127, stored transposed (channel-major) with rows padded to a
// multiple of 16 with zeros, so the dot products run in whole SIMD registers.
struct Int8Weights
{
    std::int64_t k = 0, kPadded = 0, n = 0;
    std::vector<std::int8_t> q;     // [n, kPadded]
    std::vector<float> scale;       // [n]
    std::vector<std::int32_t> sums; // [n]: sum over k of q, for the activation zero point
};
Int8Weights quantizeWeightsInt8(const float* w, std::int64_t k, std::int64_t n);

// acc[r, c] = sum_j (x[r, j] - zero) * w.q[c, j] for rows of x that are w.kPadded long (the
// padding may hold anything: its weights are zero). Uses SSE4.1 (pmaddwd) when compiled for it.
void gemmInt8(const std::int8_t* x, std::int64_t rows, const Int8Weights& w, std::int32_t zero,
              std::int32_t* acc);
// The scalar definition the fast path is tested against.
void gemmInt8Reference(const std::int8_t* x, std::int64_t rows, const Int8Weights& w,
                       std::int32_t zero, std::int32_t* acc);

} // namespace qs::nn
