#include "formats/nf4.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>

namespace qs {
namespace {

constexpr std::array<float, 16> kLevels{
    -1.0f,
    -0.6961928009986877f,
    -0.5250730514526367f,
    -0.39491748809814453f,
    -0.28444138169288635f,
    -0.18477343022823334f,
    -0.09105003625154495f,
    0.0f,
    0.07958029955625534f,
    0.16093020141124725f,
    0.24611230194568634f,
    0.33791524171829224f,
    0.44070982933044434f,
    0.5626170039176941f,
    0.7229568362236023f,
    1.0f,
};

// The sum of two float32 levels is exact in double, so this is the true midpoint rounded once to
// float32, which is what bitsandbytes' decimal literals denote.
constexpr std::array<float, 15> makeThresholds()
{
    std::array<float, 15> t{};
    for (std::size_t i = 0; i < t.size(); ++i)
        t[i] = static_cast<float>((static_cast<double>(kLevels[i]) + kLevels[i + 1]) * 0.5);
    return t;
}
constexpr std::array<float, 15> kThresholds = makeThresholds();

// Counting the decision points below y gives the same code as bitsandbytes' tree (both use
// y > t), without branches, so block loops vectorise. NaN passes none and is sent to code 7.
inline std::uint32_t encodeCount(float y)
{
    std::uint32_t c = 0;
    for (const float t : kThresholds)
        c += static_cast<std::uint32_t>(y > t);
    return y == y ? c : 7u;
}

// Non-negative floats order like their bits, so an integer max (which vectorises) finds the
// largest |x|; NaN bits (> 0x7f800000) are filtered out, Inf (== 0x7f800000) stays.
inline float absmaxFast(const float* x, std::int64_t n)
{
    std::int32_t m = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        const auto a = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(x[i]) & 0x7fffffffu);
        const std::int32_t v = a <= 0x7f800000 ? a : 0;
        m = v > m ? v : m;
    }
    return std::bit_cast<float>(m);
}

inline void quantizeBlockFast(const float* x, std::int64_t n, float& absmax, std::uint8_t* codes)
{
    absmax = absmaxFast(x, n);
    const float inv = 1.0f / absmax;
    for (std::int64_t i = 0; i < n; ++i)
        codes[i] = static_cast<std::uint8_t>(encodeCount(x[i] * inv));
}

inline void dequantizeBlockFast(const std::uint8_t* codes, std::int64_t n, float absmax, float* y)
{
    for (std::int64_t i = 0; i < n; ++i)
        y[i] = kLevels[codes[i] & 15u] * absmax;
}

} // namespace

float nf4Level(int code)
{
    return kLevels[static_cast<std::size_t>(code & 15)];
}

float nf4Threshold(int i)
{
    return kThresholds[static_cast<std::size_t>(i)];
}

std::uint8_t nf4EncodeRef(float y)
{
    if (std::isnan(y)) return 7;
    // bitsandbytes' decision tree as a binary descent: each step asks whether y lies above the
    // decision point in the middle of the remaining codes.
    int code = 0;
    for (int step = 8; step > 0; step /= 2)
        if (y > kThresholds[static_cast<std::size_t>(code + step - 1)]) code += step;
    return static_cast<std::uint8_t>(code);
}

void nf4Encode(const float* y, std::int64_t n, std::uint8_t* codes)
{
    for (std::int64_t i = 0; i < n; ++i)
        codes[i] = static_cast<std::uint8_t>(encodeCount(y[i]));
}

float nf4Absmax(const float* x, std::int64_t n)
{
    float m = 0.0f;
    for (std::int64_t i = 0; i < n; ++i)
        if (!std::isnan(x[i])) m = std::max(m, std::fabs(x[i]));
    return m;
}

void nf4QuantizeBlockRef(const float* x, std::int64_t n, float& absmax, std::uint8_t* codes)
{
    absmax = nf4Absmax(x, n);
    const float inv = 1.0f / absmax;
    for (std::int64_t i = 0; i < n; ++i)
        codes[i] = nf4EncodeRef(x[i] * inv);
}

void nf4QuantizeBlock(const float* x, std::int64_t n, float& absmax, std::uint8_t* codes)
{
    quantizeBlockFast(x, n, absmax, codes);
}

void nf4DequantizeBlock(const std::uint8_t* codes, std::int64_t n, float absmax, float* y)
{
    dequantizeBlockFast(codes, n, absmax, y);
}

void nf4Quantize(const float* x, std::int64_t n, std::int64_t blockSize, float* absmax,
                 std::uint8_t* codes)
{
    for (std::int64_t start = 0, b = 0; start < n; start += blockSize, ++b)
        quantizeBlockFast(x + start, std::min(blockSize, n - start), absmax[b], codes + start);
}

void nf4Dequantize(const std::uint8_t* codes, std::int64_t n, std::int64_t blockSize,
                   const float* absmax, float* y)
{
    for (std::int64_t start = 0, b = 0; start < n; start += blockSize, ++b)
        dequantizeBlockFast(codes + start, std::min(blockSize, n - start), absmax[b], y + start);
}

} // namespace qs
