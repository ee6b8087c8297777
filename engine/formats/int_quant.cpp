#include "formats/int_quant.h"

#include "formats/half.h"
#include "formats/int_kernel.h"

#include <algorithm>
#include <cmath>

namespace qs {
namespace {

float storeScale(float s, bool fp16Scale)
{
    return fp16Scale ? roundToF16(std::min(s, kF16Max)) : s;
}

ScaleParams withInverse(float scale, int zeroPoint)
{
    return {scale, scale == 0.0f ? 0.0f : 1.0f / scale, zeroPoint};
}

using kernel::clampCode;
using kernel::roundMagic;

} // namespace

ScaleParams symmetricParams(float amax, int qmax, bool fp16Scale)
{
    float s = amax / static_cast<float>(qmax);
    if (amax == 0.0f || !std::isfinite(s) || !std::isfinite(1.0f / s)) s = 1.0f;
    return withInverse(storeScale(s, fp16Scale), 0);
}

ScaleParams affineParams(float minValue, float maxValue, int qmax, bool fp16Scale)
{
    const float mn = std::min(minValue, 0.0f);
    const float mx = std::max(maxValue, 0.0f);
    float s = std::max((mx - mn) / static_cast<float>(qmax), 0x1p-23f);
    if (!std::isfinite(s)) s = 1.0f;
    s = storeScale(s, fp16Scale);
    if (s == 0.0f) return withInverse(0.0f, 0);
    const float z = std::nearbyint(clampCode(0.0f - mn / s, 0.0f, static_cast<float>(qmax)));
    return withInverse(s, static_cast<int>(z));
}

ScaleParams floatZeroParams(float scale, float zero)
{
    ScaleParams p = withInverse(scale, 0);
    p.zero = roundToF16(zero);
    p.floatZero = true;
    return p;
}

int quantizeSymmetricRef(float x, const ScaleParams& p, int qmax)
{
    if (std::isnan(x)) return 0;
    const float r = std::nearbyint(x * p.inv);
    const float q = std::clamp(r, -static_cast<float>(qmax), static_cast<float>(qmax));
    return static_cast<int>(q);
}

int quantizeAffineRef(float x, const ScaleParams& p, int qmax)
{
    if (std::isnan(x)) return p.zeroPoint;
    // zp + nearbyint(x/s) in float is exact while in range; clamping first avoids overflow.
    const float r = std::nearbyint(x * p.inv);
    const float q = std::clamp(static_cast<float>(p.zeroPoint) + std::clamp(r, -1024.0f, 1024.0f),
                               0.0f, static_cast<float>(qmax));
    return static_cast<int>(q);
}

int quantizeAffineFloatZeroRef(float x, const ScaleParams& p, int qmax)
{
    if (std::isnan(x)) x = 0.0f;
    const float y = x * p.inv + p.zero;
    if (std::isnan(y)) return 0; // Inf * 0 when the stored scale is 0: dequantizes to 0 anyway
    return static_cast<int>(std::clamp(std::nearbyint(y), 0.0f, static_cast<float>(qmax)));
}

void quantizeSymmetricF(const float* x, std::int64_t n, const ScaleParams& p, int qmax, float* q)
{
    const float inv = p.inv, hi = static_cast<float>(qmax);
    for (std::int64_t i = 0; i < n; ++i)
        q[i] = roundMagic(clampCode(x[i] * inv, -hi, hi));
}

void quantizeAffineF(const float* x, std::int64_t n, const ScaleParams& p, int qmax, float* q)
{
    // clamp(zp + round(y), 0, qmax) == zp + round(clamp(y, -zp, qmax - zp)): the bounds are
    // integers and rounding is monotone.
    const float inv = p.inv, zp = static_cast<float>(p.zeroPoint);
    const float lo = -zp, hi = static_cast<float>(qmax) - zp;
    for (std::int64_t i = 0; i < n; ++i)
        q[i] = zp + roundMagic(clampCode(x[i] * inv, lo, hi));
}

void quantizeSymmetric(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                       std::int8_t* q)
{
    const float inv = p.inv, hi = static_cast<float>(qmax);
    for (std::int64_t i = 0; i < n; ++i)
        q[i] =
            static_cast<std::int8_t>(static_cast<int>(roundMagic(clampCode(x[i] * inv, -hi, hi))));
}

void quantizeAffine(const float* x, std::int64_t n, const ScaleParams& p, int qmax, std::uint8_t* q)
{
    const float inv = p.inv, zp = static_cast<float>(p.zeroPoint);
    const float lo = -zp, hi = static_cast<float>(qmax) - zp;
    for (std::int64_t i = 0; i < n; ++i)
        q[i] = static_cast<std::uint8_t>(
            static_cast<int>(zp + roundMagic(clampCode(x[i] * inv, lo, hi))));
}

void dequantizeSymmetric(const std::int8_t* q, std::int64_t n, const ScaleParams& p, float* y)
{
    const float s = p.scale;
    for (std::int64_t i = 0; i < n; ++i)
        y[i] = static_cast<float>(q[i]) * s;
}

void dequantizeAffine(const std::uint8_t* q, std::int64_t n, const ScaleParams& p, float* y)
{
    const float s = p.scale;
    const int zp = p.zeroPoint;
    for (std::int64_t i = 0; i < n; ++i)
        y[i] = static_cast<float>(static_cast<int>(q[i]) - zp) * s;
}

// The bounds 0 and qmax are integers, so clamping before rounding gives the reference's
// clamp(nearbyint(y)), and the clamped y is small enough for roundMagic.
void quantizeAffineFloatZeroF(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                              float* q)
{
    const float inv = p.inv, z = p.zero, hi = static_cast<float>(qmax);
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = x[i] == x[i] ? x[i] : 0.0f;
        q[i] = roundMagic(clampCode(v * inv + z, 0.0f, hi));
    }
}

void quantizeAffineFloatZero(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                             std::uint8_t* q)
{
    const float inv = p.inv, z = p.zero, hi = static_cast<float>(qmax);
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = x[i] == x[i] ? x[i] : 0.0f;
        q[i] = static_cast<std::uint8_t>(
            static_cast<int>(roundMagic(clampCode(v * inv + z, 0.0f, hi))));
    }
}

void dequantizeAffineFloatZero(const std::uint8_t* q, std::int64_t n, const ScaleParams& p,
                               float* y)
{
    const float s = p.scale, z = p.zero;
    for (std::int64_t i = 0; i < n; ++i)
        y[i] = (static_cast<float>(q[i]) - z) * s;
}

} // namespace qs
