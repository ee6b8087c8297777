#include "formats/mxfp4.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr MinifloatSpec kE2M1{1, 1, 7, 6.0f};

// E2M1 magnitude as the number of decision points that |y| passes. The points are the midpoints
// between neighbouring values; at a midpoint the comparison is >= when the upper neighbour has
// the even code and > when the lower one has. NaN passes none and is forced to +0.
inline std::uint32_t encodeE2M1(float y)
{
    const float a = std::fabs(y);
    const std::uint32_t mag = static_cast<std::uint32_t>(a > 0.25f) + (a >= 0.75f) + (a > 1.25f) +
                              (a >= 1.75f) + (a > 2.5f) + (a >= 3.5f) + (a > 5.0f);
    const std::uint32_t sign = (std::bit_cast<std::uint32_t>(y) >> 28) & 8u;
    return y == y ? (mag | sign) : 0u;
}

inline float decodeE2M1(std::uint32_t c)
{
    const std::uint32_t mag = c & 7u;
    // Codes >= 2 are normal: exponent and mantissa fields moved into float32 position, rebiased
    // from 1 to 127. Codes 0 and 1 are 0 and 0.5.
    std::uint32_t bits = (mag << 22) + (126u << 23);
    const float sub = static_cast<float>(static_cast<std::int32_t>(mag)) * 0.5f;
    bits = mag < 2u ? std::bit_cast<std::uint32_t>(sub) : bits;
    return std::bit_cast<float>(bits | ((c & 8u) << 28));
}

// The largest finite |x| as float32 bits: non-negative floats order like their bits, so an
// integer max (which vectorises, unlike a float max without fast-math) finds it, and NaN and
// Inf, whose bits are >= 0x7f800000, are filtered out first.
inline std::uint32_t finiteAmaxBits(const float* x, std::int64_t n)
{
    std::int32_t m = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const auto a = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(x[i]) & 0x7fffffffu);
        const std::int32_t v = a < 0x7f800000 ? a : 0;
        m = v > m ? v : m;
    }
    return static_cast<std::uint32_t>(m);
}

inline void quantizeBlockFast(const float* x, std::int64_t n, std::uint8_t& scale,
                              std::uint8_t* codes)
{
    // floor(log2(amax)) - 2 + 127 is amax's exponent field minus 2; subnormal and zero amax
    // (field 0) and field 1 clamp to byte 0.
    const std::uint32_t field = finiteAmaxBits(x, n) >> 23;
    const std::uint32_t b = field >= 2u ? field - 2u : 0u;
    scale = static_cast<std::uint8_t>(b);
    // 1 / X = 2^(127 - b) is a normal float for b in [0, 252], and x * (1 / X) equals x / X.
    const float inv = std::bit_cast<float>((254u - b) << 23);
    for (std::int64_t i = 0; i < n; ++i)
        codes[i] = static_cast<std::uint8_t>(encodeE2M1(x[i] * inv));
}

inline void dequantizeBlockFast(const std::uint8_t* codes, std::int64_t n, std::uint8_t scale,
                                float* y)
{
    const float X = e8m0Value(scale);
    for (std::int64_t i = 0; i < n; ++i)
        y[i] = decodeE2M1(codes[i]) * X;
}

} // namespace

const MinifloatSpec& fp4e2m1Spec()
{
    return kE2M1;
}

std::uint8_t fp4e2m1EncodeRef(float y)
{
    if (std::isnan(y)) return 0;
    const std::uint32_t sign = std::signbit(y) ? 8u : 0u;
    return static_cast<std::uint8_t>(sign | minifloatEncodeMagnitudeRef(kE2M1, std::fabs(y)));
}

float fp4e2m1Decode(std::uint8_t code)
{
    const double v = minifloatDecodeMagnitude(kE2M1, code & 7u);
    return static_cast<float>((code & 8u) ? -v : v);
}

void fp4e2m1Encode(const float* y, std::int64_t n, std::uint8_t* codes)
{
    for (std::int64_t i = 0; i < n; ++i)
        codes[i] = static_cast<std::uint8_t>(encodeE2M1(y[i]));
}

float e8m0Value(std::uint8_t b)
{
    if (b == 0xff) return std::numeric_limits<float>::quiet_NaN();
    if (b == 0) return 0x1p-127f;
    return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 23);
}

std::uint8_t mxfp4ScaleByte(float amax)
{
    if (!(amax > 0.0f)) return 0;
    if (std::isinf(amax)) return 0xff;
    int e = 0;
    std::frexp(amax, &e); // amax in [2^(e-1), 2^e): floor(log2(amax)) = e - 1
    const int shared = std::clamp(e - 1 - 2, -127, 127);
    return static_cast<std::uint8_t>(shared + 127);
}

void mxfp4QuantizeBlockRef(const float* x, std::int64_t n, std::uint8_t& scaleE8M0,
                           std::uint8_t* codes)
{
    float amax = 0.0f;
    for (std::int64_t i = 0; i < n; ++i)
        if (std::isfinite(x[i])) amax = std::max(amax, std::fabs(x[i]));
    scaleE8M0 = mxfp4ScaleByte(amax);
    const float X = e8m0Value(scaleE8M0);
    for (std::int64_t i = 0; i < n; ++i)
        codes[i] = fp4e2m1EncodeRef(x[i] / X);
}

void mxfp4QuantizeBlock(const float* x, std::int64_t n, std::uint8_t& scaleE8M0,
                        std::uint8_t* codes)
{
    quantizeBlockFast(x, n, scaleE8M0, codes);
}

void mxfp4DequantizeBlock(const std::uint8_t* codes, std::int64_t n, std::uint8_t scaleE8M0,
                          float* y)
{
    dequantizeBlockFast(codes, n, scaleE8M0, y);
}

void mxfp4Quantize(const float* x, std::int64_t n, std::uint8_t* scales, std::uint8_t* codes)
{
    const std::int64_t full = n / kMxfp4BlockSize;
    // A constant block length lets the inner loops unroll and vectorise without tails.
    for (std::int64_t b = 0; b < full; ++b)
        quantizeBlockFast(x + b * kMxfp4BlockSize, kMxfp4BlockSize, scales[b],
                          codes + b * kMxfp4BlockSize);
    if (n > full * kMxfp4BlockSize)
        quantizeBlockFast(x + full * kMxfp4BlockSize, n - full * kMxfp4BlockSize, scales[full],
                          codes + full * kMxfp4BlockSize);
}

void mxfp4Dequantize(const std::uint8_t* codes, std::int64_t n, const std::uint8_t* scales,
                     float* y)
{
    const std::int64_t blocks = (n + kMxfp4BlockSize - 1) / kMxfp4BlockSize;
    for (std::int64_t b = 0; b < blocks; ++b) {
        const std::int64_t start = b * kMxfp4BlockSize;
        dequantizeBlockFast(codes + start, std::min<std::int64_t>(kMxfp4BlockSize, n - start),
                            scales[b], y + start);
    }
}

} // namespace qs
