// Calibration of the integer formats: choosing one scale group's range (and zero point).
#pragma once

#include "formats/int_quant.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qs {

// How a scale group's parameters are chosen (`--calibration`):
//   minmax          the group's min/max (symmetricParams / affineParams, the default)
//   percentile:P    the range clipped to percentiles, 50 <= P <= 100 (`percentile` alone means
//                   99.9): amax = pct(|x|, P) for symmetric formats, [pct(x, 100 - P),
//                   pct(x, P)] for affine ones; pct is percentileLinear below
//   mse             the shrink factor f_k = 1 - k / 100, k = 0..79, of the min-max range with the
//                   lowest squared error: amax * f_k, resp. [min * f_k, max * f_k], each product
//                   taken in double and rounded to float
//   hqq             affine formats only: half-quadratic optimisation of a real zero point (see
//                   hqqParams); symmetric formats keep min-max and report the group unchanged
struct Calibration
{
    enum class Method { MinMax, Percentile, Mse, Hqq };
    Method method = Method::MinMax;
    double percentile = 99.9;

    static std::optional<Calibration> parse(std::string_view text);
    std::string toString() const;
    // False when the method cannot change any group of this kind (hqq on symmetric formats).
    bool appliesTo(bool affine) const;
    bool operator==(const Calibration&) const = default;
};

struct CalibratedGroup
{
    ScaleParams params;
    bool changed = false; // params differ from min-max's (because they lower the error)
};

// The group's parameters under `c`. Every method's candidate is kept only when its squared
// error over the group's finite values (groupSquaredError) is strictly below min-max's, so no
// method is ever worse than minmax on a group. Extra memory: a copy of the group for
// percentile, O(1) otherwise.
CalibratedGroup calibrateGroup(const Calibration& c, const float* x, std::int64_t n, int qmax,
                               bool affine, bool fp16Scale);

// The building blocks, exposed for tests and tools.

// Min-max parameters exactly as the tensor quantizer computes them: the range of the finite
// values, (0, 0) when there is none.
ScaleParams minMaxParams(const float* x, std::int64_t n, int qmax, bool affine, bool fp16Scale);
// The method's own choice, before the comparison with min-max (minmax: min-max's params; hqq
// on a symmetric format or a group it cannot handle: min-max's params).
ScaleParams candidateParams(const Calibration& c, const float* x, std::int64_t n, int qmax,
                            bool affine, bool fp16Scale);
// Sum over the finite x of (x - dequantize(quantize(x)))^2 in double, with the engine's fast
// kernels (float-zero kernels when p.floatZero); NaN and +-Inf values are left out because
// every range choice gets them equally wrong.
double groupSquaredError(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                         bool affine);

// NumPy's default percentile (method "linear", Hyndman & Fan type 7) of v[0..n) in double:
// h = (n - 1) * (p / 100), a = v_(floor h), b = v_(floor h + 1) (order statistics), g = h - floor
// h, result a + (b - a) * g when g < 0.5, else b - (b - a) * (1 - g); v_(n-1) when h >= n - 1.
// Reorders v (nth_element). n must be > 0 and v free of NaN.
double percentileLinear(float* v, std::int64_t n, double p);

// HQQ (Badri & Shaji, 2023; mobiusml/hqq optimize_weights_proximal_legacy) for an affine
// group, with lp_norm 0.7, beta 10, kappa 1.01 and at most 20 iterations. The scale is fixed
// from the group's own min and max (0 need not be inside): s = (max - min) / qmax, stored as
// fp16 when fp16Scale. Starting from zero = -min / s, each iteration quantizes with the current
// fp16 zero z: q = clamp(nearbyint(x / s + z), 0, qmax), r = (q - z) * s, e = shrink(x - r),
// z' = mean(q - (x - e) / s) rounded to fp16, beta *= kappa; shrink(t) = sign(t) *
// max(|t| - |t|^(p - 1) / beta, 0). The loop stops at the first iteration whose mean |x - r|
// is not below the best so far, and the best z is kept. nullopt when the group has no finite
// range (constant, empty, NaN-only or containing Inf) or the zero point overflows fp16.
// `iterations`, when given, receives the number of iterations run.
std::optional<ScaleParams> hqqParams(const float* x, std::int64_t n, int qmax, bool fp16Scale,
                                     int* iterations = nullptr);

} // namespace qs
