// Stochastic rounding for the integer formats: seeded, and a pure function of each value's
// logical index, so results do not depend on threads or on how a tensor is cut into chunks.
#pragma once

#include "formats/int_quant.h"

#include <cstdint>

namespace qs {

// The i-th output (i >= 1) of SplitMix64 (Steele, Lea & Flood 2014; Vigna's splitmix64.c)
// started from state `seed`, computed directly: mix(seed + i * 0x9e3779b97f4a7c15).
inline std::uint64_t splitMix64(std::uint64_t seed, std::uint64_t i)
{
    std::uint64_t z = seed + i * 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

// The random integer m in [0, 2^24) of the value with logical index `index`: the top 24 bits
// of SplitMix64's output number index + 1. u = m * 2^-24 is uniform on [0, 1).
inline std::uint32_t stochasticBits(std::uint64_t seed, std::int64_t index)
{
    return static_cast<std::uint32_t>(splitMix64(seed, static_cast<std::uint64_t>(index) + 1) >>
                                      40);
}

// Semantics, exactly: y = clamp(x * inv, lo, hi) in float32 (symmetric: lo = -qmax, hi = qmax;
// affine with integer zero point zp: lo = -zp, hi = qmax - zp), code = floor(y + u) as a real
// number (so the code is floor(y) or ceil(y), ceil(y) with probability floor(frac(y) * 2^24) /
// 2^24), plus zp for affine. NaN gives code 0 (the zero point for affine). Clamping before the
// rounding gives the same codes as clamping after it, because the bounds are integers.
int quantizeSymmetricStochasticRef(float x, const ScaleParams& p, int qmax, std::uint64_t seed,
                                   std::int64_t index);
int quantizeAffineStochasticRef(float x, const ScaleParams& p, int qmax, std::uint64_t seed,
                                std::int64_t index);

// Fast paths over x[0..n), whose first value has logical index `first`; bit-identical to the
// references.
void quantizeSymmetricStochasticF(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                                  std::uint64_t seed, std::int64_t first, float* q);
void quantizeAffineStochasticF(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                               std::uint64_t seed, std::int64_t first, float* q);
void quantizeSymmetricStochastic(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                                 std::uint64_t seed, std::int64_t first, std::int8_t* q);
void quantizeAffineStochastic(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                              std::uint64_t seed, std::int64_t first, std::uint8_t* q);

} // namespace qs
