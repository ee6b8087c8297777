#include "formats/stochastic.h"

#include <algorithm>
#include <cmath>

namespace qs {
namespace {

// Reference: y + u >= floor(y) + 1 decided in double, where frac(y) + u is exact whenever the
// comparison could go either way (frac >= 2^-25 then, so both fit in 53 bits).
int stochasticRef(float x, float inv, float lo, float hi, std::uint32_t m)
{
    if (std::isnan(x)) return 0;
    float y = x * inv;
    if (std::isnan(y)) return 0; // Inf * 0 when the stored scale is 0
    y = std::clamp(y, lo, hi);
    const float f = std::floor(y);
    const double u = static_cast<double>(m) * 0x1p-24;
    const bool up = static_cast<double>(y - f) + u >= 1.0;
    return static_cast<int>(f) + (up ? 1 : 0);
}

// Fast element: frac(y) + m / 2^24 >= 1  <=>  frac(y) * 2^24 >= 2^24 - m, where both sides are
// exact floats (scaling by a power of two, and an integer below 2^25).
inline float stochasticFast(float x, float inv, float lo, float hi, std::uint32_t m)
{
    float y = x * inv;
    y = y == y ? y : 0.0f; // NaN input, or Inf * 0
    y = y < lo ? lo : y;
    y = y > hi ? hi : y;
    const float f = std::floor(y);
    const float need = static_cast<float>(static_cast<std::int32_t>(0x1000000u - m));
    return (y - f) * 0x1p24f >= need ? f + 1.0f : f;
}

// Hashes for a block first, so that the float loop is free of 64-bit multiplies.
constexpr std::int64_t kBlock = 256;

template <typename Out, typename Conv>
void stochasticRun(const float* x, std::int64_t n, float inv, float lo, float hi, float offset,
                   std::uint64_t seed, std::int64_t first, Out* q, Conv conv)
{
    std::uint32_t m[kBlock];
    for (std::int64_t k = 0; k < n; k += kBlock) {
        const std::int64_t len = std::min(kBlock, n - k);
        for (std::int64_t i = 0; i < len; ++i)
            m[i] = stochasticBits(seed, first + k + i);
        for (std::int64_t i = 0; i < len; ++i)
            q[k + i] = conv(offset + stochasticFast(x[k + i], inv, lo, hi, m[i]));
    }
}

float asFloat(float v)
{
    return v;
}

} // namespace

int quantizeSymmetricStochasticRef(float x, const ScaleParams& p, int qmax, std::uint64_t seed,
                                   std::int64_t index)
{
    const auto hi = static_cast<float>(qmax);
    return stochasticRef(x, p.inv, -hi, hi, stochasticBits(seed, index));
}

int quantizeAffineStochasticRef(float x, const ScaleParams& p, int qmax, std::uint64_t seed,
                                std::int64_t index)
{
    const auto zp = static_cast<float>(p.zeroPoint);
    return p.zeroPoint +
           stochasticRef(x, p.inv, -zp, static_cast<float>(qmax) - zp, stochasticBits(seed, index));
}

void quantizeSymmetricStochasticF(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                                  std::uint64_t seed, std::int64_t first, float* q)
{
    const auto hi = static_cast<float>(qmax);
    stochasticRun(x, n, p.inv, -hi, hi, 0.0f, seed, first, q, asFloat);
}

void quantizeAffineStochasticF(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                               std::uint64_t seed, std::int64_t first, float* q)
{
    const auto zp = static_cast<float>(p.zeroPoint);
    stochasticRun(x, n, p.inv, -zp, static_cast<float>(qmax) - zp, zp, seed, first, q, asFloat);
}

void quantizeSymmetricStochastic(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                                 std::uint64_t seed, std::int64_t first, std::int8_t* q)
{
    const auto hi = static_cast<float>(qmax);
    stochasticRun(x, n, p.inv, -hi, hi, 0.0f, seed, first, q,
                  [](float v) { return static_cast<std::int8_t>(static_cast<int>(v)); });
}

void quantizeAffineStochastic(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                              std::uint64_t seed, std::int64_t first, std::uint8_t* q)
{
    const auto zp = static_cast<float>(p.zeroPoint);
    stochasticRun(x, n, p.inv, -zp, static_cast<float>(qmax) - zp, zp, seed, first, q,
                  [](float v) { return static_cast<std::uint8_t>(static_cast<int>(v)); });
}

} // namespace qs
