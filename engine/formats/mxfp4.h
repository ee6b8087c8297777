// FP4 E2M1 elements and the OCP MXFP4 block codec (OCP Microscaling Formats v1.0).
#pragma once

#include "formats/minifloat.h"

#include <cstdint>

namespace qs {

// FP4 E2M1: sign (bit 3), 2 exponent bits (bias 1), 1 mantissa bit; magnitudes 0, 0.5, 1, 1.5,
// 2, 3, 4, 6 (codes 0..7). No Inf, no NaN. Codes are one per byte, 0..15.
const MinifloatSpec& fp4e2m1Spec();

// y rounded to the nearest E2M1 value, ties to the even code (in values: 0.25 -> 0, 0.75 -> 1,
// 2.5 -> 2, 5 -> 4), saturating at +-6 (also +-Inf); zero keeps its sign (-0 -> 0x8). NaN -> 0
// (+0): the format has no NaN, and 0 is the project-wide code for a NaN weight.
std::uint8_t fp4e2m1EncodeRef(float y);
float fp4e2m1Decode(std::uint8_t code);
// Fast path, identical to fp4e2m1EncodeRef element by element.
void fp4e2m1Encode(const float* y, std::int64_t n, std::uint8_t* codes);

inline constexpr int kMxfp4BlockSize = 32;

// E8M0 scale byte b: 2^(b - 127) (b = 0 is 2^-127, a float32 subnormal); 0xFF is NaN.
float e8m0Value(std::uint8_t b);

// Shared scale of a block whose largest finite |x| is amax: X = 2^(floor(log2(amax)) - 2), 2 being
// E2M1's largest exponent. The exponent is clamped to E8M0's range [-127, 127]: below, it is
// raised to -127 (as OCP's reference code does; elements then round against that scale), and
// above cannot happen for a finite float32 amax (at most 127 - 2). amax = 0 gives -127, byte 0x00.
// An infinite amax gives the NaN byte 0xFF; the block codecs below never pass one.
std::uint8_t mxfp4ScaleByte(float amax);

// One block of n <= 32 consecutive values (the last block of a row may be shorter; its scale
// comes from its own n values). Semantics:
// - amax is the largest |x| over the block's finite values: NaN and +-Inf do not enter it, so a
//   stray non-finite weight does not wipe out its 31 neighbours.
// - codes[i] = fp4e2m1EncodeRef(x[i] / X): the division is exact (X is a power of two); values
//   of magnitude up to 8X round to at most 6 (saturation), +-Inf become +-6, NaN becomes +0.
// - An all-zero (or all non-finite) block stores byte 0x00 and zero codes.
// mxfp4QuantizeBlock is the fast path, identical to the reference.
void mxfp4QuantizeBlockRef(const float* x, std::int64_t n, std::uint8_t& scaleE8M0,
                           std::uint8_t* codes);
void mxfp4QuantizeBlock(const float* x, std::int64_t n, std::uint8_t& scaleE8M0,
                        std::uint8_t* codes);
// y[i] = fp4e2m1Decode(codes[i]) * e8m0Value(scaleE8M0), exact in float32; a NaN scale byte makes
// the whole block NaN.
void mxfp4DequantizeBlock(const std::uint8_t* codes, std::int64_t n, std::uint8_t scaleE8M0,
                          float* y);

// A row of n values as ceil(n / 32) consecutive blocks (the last one possibly partial):
// scales[b] and codes[32 b ...] per block.
void mxfp4Quantize(const float* x, std::int64_t n, std::uint8_t* scales, std::uint8_t* codes);
void mxfp4Dequantize(const std::uint8_t* codes, std::int64_t n, const std::uint8_t* scales,
                     float* y);

} // namespace qs
