// Small floating-point element formats: OCP FP8 (E4M3FN, E5M2) codecs and the generic minifloat
// reference rounding that FP8 and FP4 E2M1 (mxfp4.h) share.
#pragma once

#include <cstdint>

namespace qs {

// A sign-magnitude minifloat without the sign: `mbits` mantissa bits, exponent bias `bias`,
// subnormals when the exponent field is 0, and `maxCode` the magnitude code of the largest finite
// value `maxValue`. Codes of finite magnitudes increase with the value.
struct MinifloatSpec
{
    int mbits;
    int bias;
    std::uint32_t maxCode;
    float maxValue;
};

// Reference rounding of a magnitude (|y|, not NaN) to the nearest representable value, ties to
// the even code, saturating at maxValue (also for +Inf). Written from the definition with
// frexp/nearbyint; the fast paths are bit manipulations tested identical to it.
std::uint32_t minifloatEncodeMagnitudeRef(const MinifloatSpec& f, float a);
// The finite value of a magnitude code (code <= maxCode), exactly.
double minifloatDecodeMagnitude(const MinifloatSpec& f, std::uint32_t code);

// OCP 8-bit floating point (OFP8, v1.0):
// - E4M3: E4M3FN, bias 7, no infinities, S.1111.111 is NaN, largest finite 448, smallest
//   subnormal 2^-9.
// - E5M2: bias 15, IEEE-like: exponent field 31 is Inf (mantissa 0) or NaN, largest finite
//   57344, smallest subnormal 2^-16.
// Bit 7 of a code is the sign.
enum class Fp8Kind { E4M3, E5M2 };

float fp8Max(Fp8Kind kind);
const MinifloatSpec& fp8Spec(Fp8Kind kind);

// Per-tensor/channel/group scale s = amax / max in float32, where amax is the largest |x| of the
// group (the caller's choice which values enter it; finite values are the sensible choice).
// s = 1 when amax is 0, negative, NaN or infinite, or when amax / max underflows to 0 (amax below
// about 2^-141): there is no usable scale then, and s = 1 keeps every code defined (values that
// small all round to +-0).
float fp8Scale(Fp8Kind kind, float amax);

// Element encoding of y = x / s (the division is the caller's, or fp8Quantize's), OCP's
// saturating conversion: round to nearest, ties to the even code; finite values beyond the
// largest finite value and +-Inf become +-max (0x7E/0xFE for E4M3, 0x7B/0xFB for E5M2); NaN stays
// NaN, keeping its sign bit: 0x7F/0xFF for both formats (for E5M2 that is the NaN with all
// mantissa bits set). Zero and values that round to zero keep their sign (0x00 / 0x80).
std::uint8_t fp8EncodeRef(Fp8Kind kind, float y);
// Reference quantization of one value: fp8EncodeRef(kind, x / s), a true float32 division.
inline std::uint8_t fp8QuantizeRef(Fp8Kind kind, float x, float s)
{
    return fp8EncodeRef(kind, x / s);
}
// The value of any of the 256 codes; NaN codes give a quiet NaN carrying the code's sign, the
// E5M2 infinities +-Inf.
float fp8Decode(Fp8Kind kind, std::uint8_t code);

// Fast paths (auto-vectorised), bit-identical to the references above:
// codes[i] = fp8EncodeRef(kind, x[i] / s) and y[i] = fp8Decode(kind, codes[i]) * s (float32).
void fp8Quantize(Fp8Kind kind, const float* x, std::int64_t n, float s, std::uint8_t* codes);
void fp8Dequantize(Fp8Kind kind, const std::uint8_t* codes, std::int64_t n, float s, float* y);

} // namespace qs
