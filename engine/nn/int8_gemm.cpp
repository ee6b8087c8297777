#include "nn/int8_gemm.h"

#include <algorithm>
#include <cmath>

#if defined(__SSE4_1__)
#include <smmintrin.h>
#endif

namespace qs::nn {
namespace {
#if defined(__SSE4_1__)
__m128i load4(const std::int32_t* p)
{
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
#endif
} // namespace

ActivationGrid activationGrid(Range r)
{
    // The same arithmetic as fakeQuantize, so both paths put a value on the same level.
    const float lo = std::min(r.lo, 0.0f), hi = std::max(r.hi, 0.0f);
    if (hi - lo <= 0) return {0.0f, 0};
    const float scale = (hi - lo) / 255.0f;
    return {scale, static_cast<std::int32_t>(std::round(-128.0f - lo / scale))};
}

void quantizeActivations(const float* x, std::int64_t count, ActivationGrid g, std::int8_t* q)
{
    if (g.scale == 0) {
        std::fill(q, q + count, static_cast<std::int8_t>(0));
        return;
    }
    const float zero = static_cast<float>(g.zero);
    for (std::int64_t i = 0; i < count; ++i)
        q[i] = static_cast<std::int8_t>(
            std::clamp(std::round(x[i] / g.scale) + zero, -128.0f, 127.0f));
}

Int8Weights quantizeWeightsInt8(const float* w, std::int64_t k, std::int64_t n)
{
    Int8Weights r;
    r.k = k;
    r.n = n;
    r.kPadded = (k + 15) / 16 * 16;
    r.q.assign(static_cast<std::size_t>(n * r.kPadded), 0);
    r.scale.assign(static_cast<std::size_t>(n), 0.0f);
    r.sums.assign(static_cast<std::size_t>(n), 0);
    for (std::int64_t c = 0; c < n; ++c) {
        float top = 0;
        for (std::int64_t j = 0; j < k; ++j)
            top = std::max(top, std::abs(w[j * n + c]));
        if (top == 0) continue;
        const float s = top / 127.0f;
        r.scale[c] = s;
        std::int32_t sum = 0;
        for (std::int64_t j = 0; j < k; ++j) {
            const auto q =
                static_cast<std::int8_t>(std::clamp(std::round(w[j * n + c] / s), -127.0f, 127.0f));
            r.q[c * r.kPadded + j] = q;
            sum += q;
        }
        r.sums[c] = sum;
    }
    return r;
}

void gemmInt8Reference(const std::int8_t* x, std::int64_t rows, const Int8Weights& w,
                       std::int32_t zero, std::int32_t* acc)
{
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < w.n; ++c) {
            std::int32_t s = 0;
            for (std::int64_t j = 0; j < w.k; ++j)
                s += (std::int32_t(x[r * w.kPadded + j]) - zero) * w.q[c * w.kPadded + j];
            acc[r * w.n + c] = s;
        }
}

void gemmInt8(const std::int8_t* x, std::int64_t rows, const Int8Weights& w, std::int32_t zero,
              std::int32_t* acc)
{
#if defined(__SSE4_1__)
    // Sixteen int8 pairs per step: widened to int16, multiplied and summed in pairs to int32
    // by pmaddwd (|sum of a pair| <= 2 * 128 * 127, far inside int32). Four channels share each
    // load of x, and the zero point comes off afterwards as zero * sum(w), which keeps the
    // inner loop free of it.
    const std::int64_t kp = w.kPadded;
    const auto load = [](const std::int8_t* p) {
        return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    };
    const auto dot = [](__m128i sum, __m128i xlo, __m128i xhi, __m128i wv) {
        sum = _mm_add_epi32(sum, _mm_madd_epi16(xlo, _mm_cvtepi8_epi16(wv)));
        return _mm_add_epi32(sum, _mm_madd_epi16(xhi, _mm_cvtepi8_epi16(_mm_srli_si128(wv, 8))));
    };
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int8_t* xr = x + r * kp;
        std::int32_t* out = acc + r * w.n;
        std::int64_t c = 0;
        for (; c + 4 <= w.n; c += 4) {
            const std::int8_t* wc = w.q.data() + c * kp;
            __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
            for (std::int64_t j = 0; j < kp; j += 16) {
                const __m128i xv = load(xr + j);
                const __m128i xlo = _mm_cvtepi8_epi16(xv),
                              xhi = _mm_cvtepi8_epi16(_mm_srli_si128(xv, 8));
                s0 = dot(s0, xlo, xhi, load(wc + j));
                s1 = dot(s1, xlo, xhi, load(wc + kp + j));
                s2 = dot(s2, xlo, xhi, load(wc + 2 * kp + j));
                s3 = dot(s3, xlo, xhi, load(wc + 3 * kp + j));
            }
            const __m128i sums = _mm_hadd_epi32(_mm_hadd_epi32(s0, s1), _mm_hadd_epi32(s2, s3));
            const __m128i zs = _mm_mullo_epi32(_mm_set1_epi32(zero), load4(w.sums.data() + c));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c), _mm_sub_epi32(sums, zs));
        }
        for (; c < w.n; ++c) {
            const std::int8_t* wc = w.q.data() + c * kp;
            __m128i sum = _mm_setzero_si128();
            for (std::int64_t j = 0; j < kp; j += 16) {
                const __m128i xv = load(xr + j);
                sum = dot(sum, _mm_cvtepi8_epi16(xv), _mm_cvtepi8_epi16(_mm_srli_si128(xv, 8)),
                          load(wc + j));
            }
            sum = _mm_hadd_epi32(sum, sum);
            sum = _mm_hadd_epi32(sum, sum);
            out[c] = _mm_cvtsi128_si32(sum) - zero * w.sums[c];
        }
    }
#else
    gemmInt8Reference(x, rows, w, zero, acc);
#endif
}

} // namespace qs::nn
