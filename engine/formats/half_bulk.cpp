#include "formats/half_bulk.h"

#include "formats/half.h"

#include <cpuid.h>
#include <immintrin.h>

namespace qs {
namespace {

// Compiled for F16C only; called only after the run-time check. _MM_FROUND_TO_NEAREST_INT
// rounds to nearest even; MXCSR is left at its default (no flush to zero), so subnormal halves
// are produced exactly as the scalar code produces them.
__attribute__((target("avx,f16c"))) void f16cConvert(const float* x, std::int64_t n,
                                                     std::uint16_t* h)
{
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m128i r = _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), r);
    }
    for (; i < n; ++i)
        h[i] = f32ToF16(x[i]);
}

// CPUID leaf 1: ECX bit 29 F16C, bit 28 AVX, bit 27 OSXSAVE; XGETBV must show the OS saving
// the YMM registers. (Asked directly: not every compiler's __builtin_cpu_supports knows f16c.)
bool detectF16c()
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
    constexpr unsigned kF16cBit = 1u << 29, kAvxBit = 1u << 28, kOsxsaveBit = 1u << 27;
    if ((c & (kF16cBit | kAvxBit | kOsxsaveBit)) != (kF16cBit | kAvxBit | kOsxsaveBit))
        return false;
    unsigned lo = 0, hi = 0;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0x6u) == 0x6u; // XMM and YMM state enabled
}

const bool kF16c = detectF16c();

// The portable loop's integer rounding, eight lanes at a time: twice the width the baseline
// x86-64-v2 build vectorises it to. Called only after the run-time check.
__attribute__((target("avx2"))) __m256i bf16Lanes(__m256i b)
{
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i rounded = _mm256_srli_epi32(
        _mm256_add_epi32(_mm256_add_epi32(b, _mm256_set1_epi32(0x7fff)),
                         _mm256_and_si256(_mm256_srli_epi32(b, 16), one)),
        16);
    const __m256i nan = _mm256_or_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x40));
    const __m256i isNan = _mm256_cmpgt_epi32(_mm256_and_si256(b, _mm256_set1_epi32(0x7fffffff)),
                                             _mm256_set1_epi32(0x7f800000));
    return _mm256_blendv_epi8(rounded, nan, isNan);
}

__attribute__((target("avx2"))) void bf16Avx2(const float* x, std::int64_t n, std::uint16_t* h)
{
    std::int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i lo = bf16Lanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
        const __m256i hi =
            bf16Lanes(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i + 8)));
        // Every lane holds at most 0xffff, so the saturating pack is exact; it interleaves the
        // 128-bit halves, which the permute puts back in order.
        const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xd8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(h + i), packed);
    }
    if (i < n) f32ToBf16BulkPortable(x + i, n - i, h + i);
}

const bool kAvx2 = __builtin_cpu_supports("avx2");

} // namespace

bool f16cAvailable()
{
    return kF16c;
}

void f32ToF16BulkPortable(const float* x, std::int64_t n, std::uint16_t* h)
{
    for (std::int64_t i = 0; i < n; ++i)
        h[i] = f32ToF16(x[i]);
}

void f32ToF16Bulk(const float* x, std::int64_t n, std::uint16_t* h)
{
    if (kF16c)
        f16cConvert(x, n, h);
    else
        f32ToF16BulkPortable(x, n, h);
}

void f32ToBf16BulkPortable(const float* x, std::int64_t n, std::uint16_t* h)
{
    // f32ToBf16 written as selects, so that the loop vectorises.
    for (std::int64_t i = 0; i < n; ++i) {
        std::uint32_t b;
        __builtin_memcpy(&b, x + i, 4);
        const std::uint32_t rounded = (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
        const std::uint32_t nan = (b >> 16) | 0x40u;
        // A signed comparison (the magnitude fits in 31 bits): SSE has no unsigned one.
        const bool isNan = static_cast<std::int32_t>(b & 0x7fffffffu) > 0x7f800000;
        h[i] = static_cast<std::uint16_t>(isNan ? nan : rounded);
    }
}

void f32ToBf16Bulk(const float* x, std::int64_t n, std::uint16_t* h)
{
    if (kAvx2)
        bf16Avx2(x, n, h);
    else
        f32ToBf16BulkPortable(x, n, h);
}

} // namespace qs
