// bitsandbytes NF4 (4-bit NormalFloat, QLoRA): absmax blocks and the 16 NF4 levels.
#pragma once

#include <cstdint>

namespace qs {

inline constexpr int kNf4DefaultBlockSize = 64;

// The 16 levels, code 0 = -1.0 ... code 7 = 0.0 ... code 15 = 1.0 (exact float32 values).
float nf4Level(int code);
// The 15 decision points of bitsandbytes' dQuantizeNF4 (csrc/kernels.cu), low to high: the
// midpoint of two neighbouring levels, computed exactly and rounded to float32 (bitsandbytes
// writes them as the decimal midpoints with an f suffix; the tests check every one).
float nf4Threshold(int i);

// Element encoding of y = x * (1 / absmax), bitsandbytes' rule: code = number of decision points
// t with y > t, so a y equal to a decision point takes the LOWER code.
//
// Where this differs from "the nearest level": nine of the fifteen exact midpoints are not float32
// numbers; bitsandbytes rounds them to float32, and for six of them (between codes 0|1, 1|2,
// 3|4, 4|5, 12|13 and 14|15) the rounding goes up, so the float32 y equal to that decision point
// lies above the true midpoint, is strictly nearer the upper level, and still takes the lower
// code. These six inputs are the only float32 values where bitsandbytes' rule and the nearest-level
// rule disagree; we follow bitsandbytes. (Nowhere else do ties occur: a float32 y can only sit
// exactly on a midpoint that is itself a float32 number, and there both rules pick the lower code.)
//
// NaN -> code 7 (level 0.0), the project-wide code for a NaN weight. bitsandbytes' CUDA tree
// would give code 0 (every comparison with NaN is false), i.e. -absmax, which we do not copy.
std::uint8_t nf4EncodeRef(float y);
// Fast path, identical to nf4EncodeRef element by element.
void nf4Encode(const float* y, std::int64_t n, std::uint8_t* codes);

// One block of n values (bitsandbytes uses 64; any n >= 0 works, so a short last block is fine):
// - absmax = the largest |x| over the block's non-NaN values, in float32 (as bitsandbytes' fmaxf
//   reduction, which skips NaN); an infinite value makes it Inf.
// - codes[i] = nf4EncodeRef(x[i] * (1.0f / absmax)), the reciprocal rounded to float32 first,
//   as bitsandbytes computes it.
// Consequences, all without special cases:
// - absmax = 0 (an all-zero or all-NaN block): 1/absmax = Inf and 0 * Inf = NaN, so every code is
//   7 (level 0.0) and absmax is stored as 0. (bitsandbytes' CUDA kernel sends the NaN to code 0
//   instead, which dequantizes to -0.0, and stores -FLT_MAX for an all-NaN block.)
// - An infinite absmax: 1/absmax = 0, every code is 7 and the block dequantizes to NaN
//   (0 * Inf). bitsandbytes does the same for the finite values; its +-Inf values themselves
//   (Inf * 0 = NaN) get code 0 and dequantize to -Inf.
// - A subnormal absmax whose reciprocal overflows sends every non-zero value to code 0 or 15,
//   i.e. to -absmax or +absmax, as in bitsandbytes.
// nf4QuantizeBlock is the fast path, identical to the reference.
float nf4Absmax(const float* x, std::int64_t n);
void nf4QuantizeBlockRef(const float* x, std::int64_t n, float& absmax, std::uint8_t* codes);
void nf4QuantizeBlock(const float* x, std::int64_t n, float& absmax, std::uint8_t* codes);
// y[i] = nf4Level(codes[i] & 15) * absmax in float32.
void nf4DequantizeBlock(const std::uint8_t* codes, std::int64_t n, float absmax, float* y);

// n consecutive values as ceil(n / blockSize) blocks (blockSize > 0; the last one possibly short):
// absmax[b] and codes[blockSize b ...] per block.
void nf4Quantize(const float* x, std::int64_t n, std::int64_t blockSize, float* absmax,
                 std::uint8_t* codes);
void nf4Dequantize(const std::uint8_t* codes, std::int64_t n, std::int64_t blockSize,
                   const float* absmax, float* y);

} // namespace qs
