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

void f32ToBf16Bulk(const float* x, std::int64_t n, std::uint16_t* h)
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

} // namespace qs
