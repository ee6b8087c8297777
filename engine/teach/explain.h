// The number explorer: one real value seen through each element format, bit by bit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qs {

// The range the integer rows quantize against, as a user types it. lo == -hi (hi > 0) selects
// the symmetric signed formats (int8, int4, s = hi / qmax); any other range the unsigned affine
// ones (uint8, uint4) with PyTorch's MinMax rule, which widens the range to contain 0.
struct ExplainRange
{
    double lo = -1.0;
    double hi = 1.0;

    bool symmetric() const { return lo == -hi; }
};

// Throws qs::Error naming the range unless lo < hi, both finite and float32-representable
// without overflow.
void checkExplainRange(const ExplainRange& range);

// One contiguous group of bits of a stored code, most significant first.
struct BitField
{
    enum class Kind { Sign, Exponent, Mantissa, Integer };
    Kind kind;
    int width;
};

// How an integer row maps values to codes (all in float32, as the engine's kernels do):
// unrounded = x * (1 / scale) + zeroPoint, code = clamp(round half even(unrounded), qmin, qmax),
// decoded = (code - zeroPoint) * scale.
struct IntegerMapping
{
    bool affine = false;
    double rangeLo = 0.0, rangeHi = 0.0; // the range the scale was computed from (after widening)
    double scale = 0.0;
    int zeroPoint = 0;
    int qmin = 0, qmax = 0;
    double unrounded = 0.0;
};

struct ExplainedFormat
{
    std::string name;   // the registry name: fp32, fp16, bf16, fp8_e4m3, fp8_e5m2, int8, uint8 ...
    std::string family; // "float" or "int-symmetric" / "int-affine"
    std::string bits;   // the stored bits, fields separated by spaces: "0 01110 1100000011"
    std::vector<BitField> fields;
    // Floating formats: the stored bits as an unsigned integer. Integer formats: the code itself
    // (signed for the symmetric formats, 0 .. 2^b - 1 for the affine ones).
    std::int64_t code = 0;
    double decoded = 0.0;
    double absError = 0.0; // |decoded - value|, against the value as typed (a double)
    double relError = 0.0; // absError / |value|; 0 when both are 0, Inf when only value is
    // The representable values next to `decoded` on either side (so value lies between them);
    // nullopt beyond the largest finite value and for NaN. Infinities are not neighbours.
    std::optional<double> below, above;
    // |value| beyond the largest finite value (floats: it was rounded or clamped to it, or became
    // Inf), or more than half a step outside the codes' span (integers: the code was clamped).
    bool outOfRange = false;
    std::optional<IntegerMapping> mapping; // integer rows only
};

struct Explanation
{
    double value = 0.0;
    ExplainRange range;
    std::vector<ExplainedFormat> formats;
};

// `value` as a float32 weight (round to nearest even; the engine's formats all take float32
// input) cast directly, without any scale, to fp32, fp16, bf16, fp8_e4m3, fp8_e5m2 and fp4_e2m1,
// and quantized to the 8- and 4-bit integers against `range`. Each row uses the project's own
// codec, so it shows exactly what a quantized tensor would store:
// - fp16, bf16: IEEE-style, overflow becomes +-Inf, NaN stays NaN.
// - fp8_e4m3, fp8_e5m2, fp4_e2m1: OCP's saturating conversion (the one minifloat.h and mxfp4.h
//   implement): finite values beyond the largest finite value and +-Inf become +-max. E4M3FN has
//   no infinity, so saturation is its only sensible overflow; E5M2 saturates by the same rule.
// - integers: symmetricParams(hi, qmax) / affineParams(lo, hi, 2^b - 1) and the reference
//   quantizers of int_quant.h.
// Throws qs::Error for an invalid range (checkExplainRange).
Explanation explainValue(double value, const ExplainRange& range = {});

} // namespace qs
