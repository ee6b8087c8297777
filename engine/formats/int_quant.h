// Integer quantization: scale/zero-point rules and the code kernels (reference and fast).
#pragma once

#include <cstdint>

namespace qs {

// Parameters of one scale group. `scale` is the value dequantization multiplies by (already
// rounded to fp16 when the granularity stores fp16 scales); `inv` is 1.0f / scale, or 0 when
// the stored scale is 0 so that every code becomes 0 (resp. the zero point).
// Affine groups normally carry an integer `zeroPoint`. HQQ calibration instead finds a real
// zero point, stored as fp16: then `floatZero` is set, `zero` holds it and `zeroPoint` is 0.
// Only the *FloatZero kernels and dequantizeCode/zeroValue read `zero`.
struct ScaleParams
{
    float scale = 1.0f;
    float inv = 1.0f;
    int zeroPoint = 0;
    float zero = 0.0f;
    bool floatZero = false;

    bool operator==(const ScaleParams&) const = default;
};

// s = amax / qmax in float32; s = 1 when amax = 0 or s or 1/s is not finite.
ScaleParams symmetricParams(float amax, int qmax, bool fp16Scale);
// PyTorch MinMax observer: mn = min(min, 0), mx = max(max, 0), s = max((mx - mn)/qmax, 2^-23),
// zp = clamp(-nearbyint(mn / s), 0, qmax).
ScaleParams affineParams(float minValue, float maxValue, int qmax, bool fp16Scale);
// A real zero point: `scale` as given (already in its stored form), `zero` rounded to fp16
// (saturating to +-Inf as fp16 does; callers check zeroValue() is finite).
ScaleParams floatZeroParams(float scale, float zero);

// Reference: one value at a time, exactly as the README states the semantics.
int quantizeSymmetricRef(float x, const ScaleParams& p, int qmax);
int quantizeAffineRef(float x, const ScaleParams& p, int qmax);
// The zero point as the float dequantization subtracts.
inline float zeroValue(const ScaleParams& p)
{
    return p.floatZero ? p.zero : static_cast<float>(p.zeroPoint);
}
inline float dequantizeCode(int q, const ScaleParams& p)
{
    if (p.floatZero) return (static_cast<float>(q) - p.zero) * p.scale;
    return static_cast<float>(q - p.zeroPoint) * p.scale;
}
// Affine codes with a real zero point: q = clamp(nearbyint(x * inv + zero), 0, qmax) in float32
// (product rounded, then the sum), ties to even; x = NaN is treated as 0, a NaN y (Inf * 0) gives
// code 0. Dequantized (q - zero) * s.
int quantizeAffineFloatZeroRef(float x, const ScaleParams& p, int qmax);

// Fast paths, written to auto-vectorise; tested bit-identical to the references. Codes are
// returned as floats holding small integers (the analysis works on those) or as bytes.
void quantizeSymmetricF(const float* x, std::int64_t n, const ScaleParams& p, int qmax, float* q);
void quantizeAffineF(const float* x, std::int64_t n, const ScaleParams& p, int qmax, float* q);
void quantizeSymmetric(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                       std::int8_t* q);
void quantizeAffine(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                    std::uint8_t* q);
void dequantizeSymmetric(const std::int8_t* q, std::int64_t n, const ScaleParams& p, float* y);
void dequantizeAffine(const std::uint8_t* q, std::int64_t n, const ScaleParams& p, float* y);
void quantizeAffineFloatZeroF(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                              float* q);
void quantizeAffineFloatZero(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                             std::uint8_t* q);
void dequantizeAffineFloatZero(const std::uint8_t* q, std::int64_t n, const ScaleParams& p,
                               float* y);

} // namespace qs
