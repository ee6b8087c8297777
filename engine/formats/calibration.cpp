#include "formats/calibration.h"

#include "core/simd.h"
#include "formats/half.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace qs {
namespace {

// Values quantized at once: enough to amortise the kernel call, small enough for the stack.
constexpr std::int64_t kBlock = 512;

constexpr int kMseSteps = 80; // shrink factors 1.00, 0.99, ..., 0.21

constexpr double kHqqP = 0.7;
constexpr double kHqqBeta = 10.0;
constexpr double kHqqKappa = 1.01;
constexpr int kHqqIters = 20;

struct Range
{
    float mn = std::numeric_limits<float>::infinity();
    float mx = -std::numeric_limits<float>::infinity();
    bool any() const { return mn <= mx; }
};

Range rangeOf(const float* x, std::int64_t n)
{
    Range r;
    // Finite values only, as the tensor quantizer takes them: NaN and +-Inf do not enter any
    // scale (Inf saturates to the largest code).
    constexpr float inf = std::numeric_limits<float>::infinity();
    for (std::int64_t i = 0; i < n; ++i) {
        const float v = std::fabs(x[i]) < inf ? x[i] : r.mn;
        r.mn = v < r.mn ? v : r.mn;
        r.mx = (std::fabs(x[i]) < inf && x[i] > r.mx) ? x[i] : r.mx;
    }
    return r;
}

ScaleParams rangeParams(float mn, float mx, int qmax, bool affine, bool fp16Scale)
{
    return affine ? affineParams(mn, mx, qmax, fp16Scale)
                  : symmetricParams(std::max(std::fabs(mn), std::fabs(mx)), qmax, fp16Scale);
}

// The squared error, or, once the running sum reaches `limit`, that partial sum: the sums only
// grow (rounding is monotone), so the full error could not be below `limit` either.
double squaredErrorUpTo(const float* x, std::int64_t n, const ScaleParams& p, int qmax, bool affine,
                        double limit)
{
    // Explicit vectors: the compiler may not reorder a double sum on its own. A float times a
    // float is exact in double, so only the (fixed-order) sums round.
    using simd::v2d, simd::v4f;
    alignas(16) float q[kBlock];
    const float s = p.scale, z = zeroValue(p);
    v2d acc0 = {0, 0}, acc1 = {0, 0};
    double tailSum = 0;
    for (std::int64_t k = 0; k < n; k += kBlock) {
        const std::int64_t m = std::min(kBlock, n - k);
        const float* xb = x + k;
        if (!affine)
            quantizeSymmetricF(xb, m, p, qmax, q);
        else if (p.floatZero)
            quantizeAffineFloatZeroF(xb, m, p, qmax, q);
        else
            quantizeAffineF(xb, m, p, qmax, q);
        std::int64_t i = 0;
        for (; i + 4 <= m; i += 4) {
            v4f e = simd::load(xb + i) - (simd::load(q + i) - z) * s;
            e = e - e == 0.0f ? e : 0.0f; // NaN or Inf input
            const v2d lo = simd::lowToDouble(e), hi = simd::highToDouble(e);
            acc0 += lo * lo;
            acc1 += hi * hi;
        }
        for (; i < m; ++i) {
            float e = xb[i] - (q[i] - z) * s;
            e = e - e == 0.0f ? e : 0.0f;
            tailSum += static_cast<double>(e) * static_cast<double>(e);
        }
        const double sum = ((acc0[0] + acc1[0]) + (acc0[1] + acc1[1])) + tailSum;
        if (sum >= limit || k + kBlock >= n) return sum;
    }
    return 0.0;
}

// The group's non-NaN values, for selection.
std::vector<float> finiteCopy(const float* x, std::int64_t n)
{
    std::vector<float> v;
    v.reserve(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i)
        if (std::isfinite(x[i])) v.push_back(x[i]); // as min-max: NaN and Inf take no part
    return v;
}

ScaleParams percentileCandidate(double pct, const float* x, std::int64_t n, int qmax, bool affine,
                                bool fp16Scale)
{
    std::vector<float> v = finiteCopy(x, n);
    if (v.empty()) return rangeParams(0.0f, 0.0f, qmax, affine, fp16Scale);
    const auto m = static_cast<std::int64_t>(v.size());
    if (!affine) {
        for (float& a : v)
            a = std::fabs(a);
        const auto amax = static_cast<float>(percentileLinear(v.data(), m, pct));
        return symmetricParams(amax, qmax, fp16Scale);
    }
    const auto hi = static_cast<float>(percentileLinear(v.data(), m, pct));
    const auto lo = static_cast<float>(percentileLinear(v.data(), m, 100.0 - pct));
    return affineParams(lo, hi, qmax, fp16Scale);
}

ScaleParams mseCandidate(const float* x, std::int64_t n, int qmax, bool affine, bool fp16Scale)
{
    const Range r = rangeOf(x, n);
    if (!r.any()) return rangeParams(0.0f, 0.0f, qmax, affine, fp16Scale);
    ScaleParams best = rangeParams(r.mn, r.mx, qmax, affine, fp16Scale), last = best;
    double bestErr = groupSquaredError(x, n, best, qmax, affine);
    for (int k = 1; k < kMseSteps; ++k) {
        const double f = 1.0 - k / 100.0;
        const auto mn = static_cast<float>(static_cast<double>(r.mn) * f);
        const auto mx = static_cast<float>(static_cast<double>(r.mx) * f);
        const ScaleParams p = rangeParams(mn, mx, qmax, affine, fp16Scale);
        if (p == last) continue; // fp16 scales repeat across neighbouring factors
        last = p;
        const double err = squaredErrorUpTo(x, n, p, qmax, affine, bestErr);
        if (err < bestErr) bestErr = err, best = p;
    }
    return best;
}

// HQQ's generalised soft threshold: the proximal operator of |t|^p with weight 1/beta.
float shrinkLp(float t, float beta)
{
    const float a = std::fabs(t);
    const float r = a - std::pow(a, static_cast<float>(kHqqP - 1.0)) / beta;
    return r > 0.0f ? std::copysign(r, t) : 0.0f;
}

} // namespace

std::optional<Calibration> Calibration::parse(std::string_view text)
{
    Calibration c;
    if (text == "minmax") return c;
    if (text == "mse") return c.method = Method::Mse, c;
    if (text == "hqq") return c.method = Method::Hqq, c;
    constexpr std::string_view kPct = "percentile";
    if (text.substr(0, kPct.size()) != kPct) return std::nullopt;
    c.method = Method::Percentile;
    text.remove_prefix(kPct.size());
    if (text.empty()) return c;
    if (text.front() != ':' || text.size() == 1) return std::nullopt;
    text.remove_prefix(1);
    double p = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    if (!(p >= 50.0 && p <= 100.0)) return std::nullopt; // also refuses NaN
    c.percentile = p;
    return c;
}

std::string Calibration::toString() const
{
    switch (method) {
    case Method::MinMax:
        return "minmax";
    case Method::Mse:
        return "mse";
    case Method::Hqq:
        return "hqq";
    case Method::Percentile:
        break;
    }
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, percentile); // shortest round trip
    return "percentile:" + std::string(buf, res.ptr);
}

bool Calibration::appliesTo(bool affine) const
{
    return method != Method::MinMax && (affine || method != Method::Hqq);
}

ScaleParams minMaxParams(const float* x, std::int64_t n, int qmax, bool affine, bool fp16Scale)
{
    const Range r = rangeOf(x, n);
    return r.any() ? rangeParams(r.mn, r.mx, qmax, affine, fp16Scale)
                   : rangeParams(0.0f, 0.0f, qmax, affine, fp16Scale);
}

double groupSquaredError(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                         bool affine)
{
    return squaredErrorUpTo(x, n, p, qmax, affine, std::numeric_limits<double>::infinity());
}

double percentileLinear(float* v, std::int64_t n, double p)
{
    const double h = static_cast<double>(n - 1) * (p / 100.0);
    if (h >= static_cast<double>(n - 1)) return *std::max_element(v, v + n);
    const double lo = std::floor(h);
    const auto i = static_cast<std::int64_t>(lo);
    std::nth_element(v, v + i, v + n);
    const double a = v[i];
    const double b = *std::min_element(v + i + 1, v + n); // the next order statistic
    const double g = h - lo;
    const double d = b - a;
    return g < 0.5 ? a + d * g : b - d * (1.0 - g);
}

std::optional<ScaleParams> hqqParams(const float* x, std::int64_t n, int qmax, bool fp16Scale,
                                     int* iterations)
{
    if (iterations) *iterations = 0;
    const Range r = rangeOf(x, n);
    if (!r.any() || !std::isfinite(r.mn) || !std::isfinite(r.mx) || !(r.mx > r.mn))
        return std::nullopt;
    float s = (r.mx - r.mn) / static_cast<float>(qmax);
    if (fp16Scale) s = roundToF16(std::min(s, kF16Max));
    if (!(s > 0.0f) || !std::isfinite(s) || !std::isfinite(1.0f / s)) return std::nullopt;
    ScaleParams p = floatZeroParams(s, -r.mn * (1.0f / s));
    if (!std::isfinite(p.zero)) return std::nullopt;

    double beta = kHqqBeta;
    ScaleParams best = p;
    double bestErr = std::numeric_limits<double>::infinity();
    float q[kBlock];
    for (int it = 0; it < kHqqIters; ++it) {
        const auto b = static_cast<float>(beta);
        // shrink(t) is non-zero only for |t| > beta^(-1 / (2 - p)), so below that pow() need
        // not run; the margin keeps the cut where max(., 0) yields 0 anyway.
        const auto cut = static_cast<float>(0.999 * std::pow(beta, -1.0 / (2.0 - kHqqP)));
        const float inv = p.inv, z = p.zero;
        double absSum = 0, zeroSum = 0;
        std::int64_t count = 0;
        for (std::int64_t k = 0; k < n; k += kBlock) {
            const std::int64_t m = std::min(kBlock, n - k);
            quantizeAffineFloatZeroF(x + k, m, p, qmax, q);
            for (std::int64_t i = 0; i < m; ++i) {
                const float v = x[k + i];
                if (std::isnan(v)) continue;
                const float t = v - (q[i] - z) * s;
                const float e = std::fabs(t) > cut ? shrinkLp(t, b) : 0.0f;
                absSum += std::fabs(t);
                zeroSum += q[i] - (v - e) * inv;
                ++count;
            }
        }
        if (iterations) *iterations = it + 1;
        const double err = absSum / static_cast<double>(count);
        if (!(err < bestErr)) break;
        bestErr = err;
        best = p;
        p = floatZeroParams(s, static_cast<float>(zeroSum / static_cast<double>(count)));
        if (!std::isfinite(p.zero)) break;
        beta *= kHqqKappa;
    }
    return best;
}

ScaleParams candidateParams(const Calibration& c, const float* x, std::int64_t n, int qmax,
                            bool affine, bool fp16Scale)
{
    switch (c.method) {
    case Calibration::Method::Percentile:
        return percentileCandidate(c.percentile, x, n, qmax, affine, fp16Scale);
    case Calibration::Method::Mse:
        return mseCandidate(x, n, qmax, affine, fp16Scale);
    case Calibration::Method::Hqq:
        if (affine)
            if (auto p = hqqParams(x, n, qmax, fp16Scale)) return *p;
        break;
    case Calibration::Method::MinMax:
        break;
    }
    return minMaxParams(x, n, qmax, affine, fp16Scale);
}

CalibratedGroup calibrateGroup(const Calibration& c, const float* x, std::int64_t n, int qmax,
                               bool affine, bool fp16Scale)
{
    const ScaleParams base = minMaxParams(x, n, qmax, affine, fp16Scale);
    if (!c.appliesTo(affine)) return {base, false};
    const ScaleParams cand = candidateParams(c, x, n, qmax, affine, fp16Scale);
    if (cand == base) return {base, false};
    const double errBase = groupSquaredError(x, n, base, qmax, affine);
    const double errCand = squaredErrorUpTo(x, n, cand, qmax, affine, errBase);
    if (errCand < errBase) return {cand, true};
    return {base, false};
}

} // namespace qs
