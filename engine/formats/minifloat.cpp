#include "formats/minifloat.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr MinifloatSpec kE4M3{3, 7, 0x7E, 448.0f};
constexpr MinifloatSpec kE5M2{2, 15, 0x7B, 57344.0f};

// Magnitude code plus sign bit of y, from y's float32 bits, without branches so that the loops
// vectorise. Normal results: rounding the float32 mantissa to M bits (adding half an output ulp
// minus one, plus the kept LSB, is round-to-nearest-even) and rebiasing the exponent; a carry out
// of the mantissa correctly bumps the exponent. Subnormal results: adding a power of two whose ulp
// is the format's subnormal spacing makes the FPU round the value there, ties to even, and the
// low bits of the sum are the code. Saturation and NaN are selects on |y|'s bits, which order like
// the magnitudes.
template <int M, int Bias, std::uint32_t MaxCode, std::uint32_t MaxBits>
inline std::uint32_t encodeFast(std::uint32_t b)
{
    constexpr int kShift = 23 - M;
    constexpr std::int32_t kMinNormal = (127 + 1 - Bias) << 23;
    constexpr float kSubMagic = std::bit_cast<float>(std::uint32_t(127 + 23 + 1 - Bias - M) << 23);
    const std::uint32_t a = b & 0x7fffffffu;
    const std::uint32_t normal =
        ((a + ((1u << (kShift - 1)) - 1u) + ((a >> kShift) & 1u)) >> kShift) -
        (std::uint32_t(127 - Bias) << M);
    const std::uint32_t sub = std::bit_cast<std::uint32_t>(std::bit_cast<float>(a) + kSubMagic) -
                              std::bit_cast<std::uint32_t>(kSubMagic);
    // 31 bits: signed compares are exact, and vectorise on SSE (unsigned ones do not).
    const auto absBits = static_cast<std::int32_t>(a);
    std::uint32_t code = absBits < kMinNormal ? sub : normal;
    code = absBits >= static_cast<std::int32_t>(MaxBits) ? MaxCode : code;
    code = absBits > 0x7f800000 ? 0x7fu : code;
    return code | ((b >> 24) & 0x80u);
}

constexpr std::uint32_t kE4M3MaxBits = std::bit_cast<std::uint32_t>(448.0f);
constexpr std::uint32_t kE5M2MaxBits = std::bit_cast<std::uint32_t>(57344.0f);

inline std::uint32_t encodeE4M3(float y)
{
    return encodeFast<3, 7, 0x7E, kE4M3MaxBits>(std::bit_cast<std::uint32_t>(y));
}
inline std::uint32_t encodeE5M2(float y)
{
    return encodeFast<2, 15, 0x7B, kE5M2MaxBits>(std::bit_cast<std::uint32_t>(y));
}

// Decoding by moving the exponent/mantissa fields into float32 position and rebiasing; the
// subnormal codes are small integers times the subnormal spacing (exact in float32).
inline float decodeE4M3(std::uint32_t c)
{
    const std::uint32_t mag = c & 0x7fu;
    std::uint32_t bits = (mag << 20) + (120u << 23);
    const float sub = static_cast<float>(static_cast<std::int32_t>(mag)) * 0x1p-9f;
    bits = mag < 8u ? std::bit_cast<std::uint32_t>(sub) : bits;
    bits = mag == 0x7fu ? 0x7fc00000u : bits;
    return std::bit_cast<float>(bits | ((c & 0x80u) << 24));
}

inline float decodeE5M2(std::uint32_t c)
{
    const std::uint32_t mag = c & 0x7fu;
    std::uint32_t bits = (mag << 21) + (112u << 23);
    const float sub = static_cast<float>(static_cast<std::int32_t>(mag)) * 0x1p-16f;
    bits = mag < 4u ? std::bit_cast<std::uint32_t>(sub) : bits;
    bits = mag >= 0x7cu ? (mag == 0x7cu ? 0x7f800000u : 0x7fc00000u) : bits;
    return std::bit_cast<float>(bits | ((c & 0x80u) << 24));
}

} // namespace

std::uint32_t minifloatEncodeMagnitudeRef(const MinifloatSpec& f, float a)
{
    if (!(a < f.maxValue)) return f.maxCode;
    if (a == 0.0f) return 0; // frexp's exponent of 0 names no binade
    const int emin = 1 - f.bias;
    int e = 0;
    std::frexp(a, &e); // a = m * 2^e, m in [0.5, 1): a lies in the binade of 2^(e-1)
    // Subnormals share the smallest normal binade's quantum 2^(emin - mbits).
    const int binade = std::max(e - 1, emin);
    // Scaling by a power of two is exact in double, so nearbyint rounds the exact quotient (to
    // even in the default rounding mode). q may reach 2^(mbits+1), which is the next binade's
    // first code: the formula below lands on it.
    const double q = std::nearbyint(std::ldexp(static_cast<double>(a), f.mbits - binade));
    return (static_cast<std::uint32_t>(binade - emin) << f.mbits) + static_cast<std::uint32_t>(q);
}

double minifloatDecodeMagnitude(const MinifloatSpec& f, std::uint32_t code)
{
    const std::uint32_t field = code >> f.mbits;
    const std::uint32_t mant = code & ((1u << f.mbits) - 1u);
    if (field == 0) return std::ldexp(static_cast<double>(mant), 1 - f.bias - f.mbits);
    return std::ldexp(static_cast<double>((1u << f.mbits) | mant),
                      static_cast<int>(field) - f.bias - f.mbits);
}

const MinifloatSpec& fp8Spec(Fp8Kind kind)
{
    return kind == Fp8Kind::E4M3 ? kE4M3 : kE5M2;
}

float fp8Max(Fp8Kind kind)
{
    return fp8Spec(kind).maxValue;
}

float fp8Scale(Fp8Kind kind, float amax)
{
    const float s = amax / fp8Max(kind);
    return amax > 0.0f && std::isfinite(amax) && s > 0.0f ? s : 1.0f;
}

std::uint8_t fp8EncodeRef(Fp8Kind kind, float y)
{
    const std::uint32_t sign = std::signbit(y) ? 0x80u : 0u;
    if (std::isnan(y)) return static_cast<std::uint8_t>(sign | 0x7fu);
    return static_cast<std::uint8_t>(sign |
                                     minifloatEncodeMagnitudeRef(fp8Spec(kind), std::fabs(y)));
}

float fp8Decode(Fp8Kind kind, std::uint8_t code)
{
    const float sign = (code & 0x80u) ? -1.0f : 1.0f;
    const std::uint32_t mag = code & 0x7fu;
    const bool e5m2 = kind == Fp8Kind::E5M2;
    if ((!e5m2 && mag == 0x7fu) || (e5m2 && mag > 0x7cu))
        return std::copysign(std::numeric_limits<float>::quiet_NaN(), sign);
    if (e5m2 && mag == 0x7cu) return sign * std::numeric_limits<float>::infinity();
    return sign * static_cast<float>(minifloatDecodeMagnitude(fp8Spec(kind), mag));
}

void fp8Quantize(Fp8Kind kind, const float* x, std::int64_t n, float s, std::uint8_t* codes)
{
    // Two loops rather than a select inside one, so each vectorises with constant masks.
    if (kind == Fp8Kind::E4M3) {
        for (std::int64_t i = 0; i < n; ++i)
            codes[i] = static_cast<std::uint8_t>(encodeE4M3(x[i] / s));
    } else {
        for (std::int64_t i = 0; i < n; ++i)
            codes[i] = static_cast<std::uint8_t>(encodeE5M2(x[i] / s));
    }
}

void fp8Dequantize(Fp8Kind kind, const std::uint8_t* codes, std::int64_t n, float s, float* y)
{
    if (kind == Fp8Kind::E4M3) {
        for (std::int64_t i = 0; i < n; ++i)
            y[i] = decodeE4M3(codes[i]) * s;
    } else {
        for (std::int64_t i = 0; i < n; ++i)
            y[i] = decodeE5M2(codes[i]) * s;
    }
}

} // namespace qs
