// Run-time dispatch of the fast ggml paths. The kernels (ggml_fast_*.inc) are compiled three
// times from the same source, inside a namespace per instruction set: the build's baseline
// (x86-64-v2, 4 lanes), AVX2 (8 lanes) and AVX-512 (16 lanes). The wider sets are enabled with
// target pragmas only here, so the rest of the engine stays runnable on any x86-64-v2 CPU. FMA
// is never used: the engine compiles with -ffp-contract=off, which these pragmas keep.
#include "formats/ggml_fast.h"

#include "core/error.h"
#include "formats/half.h"
#include "formats/half_bulk.h"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

namespace qs {
namespace {

using Quantize = void (*)(const float*, std::int64_t, std::byte*);
using Decode = void (*)(const std::byte*, std::int64_t, float*);

constexpr int kTypes = 10; // Q4_0 ... Q6_K, consecutive in DType

// One instruction set's kernels, indexed by DType - DType::Q4_0.
struct Kernels
{
    Quantize quantize[kTypes];
    Decode decode[kTypes];
};

int typeIndex(DType t)
{
    const int i = static_cast<int>(t) - static_cast<int>(DType::Q4_0);
    return i >= 0 && i < kTypes ? i : -1;
}

} // namespace
} // namespace qs

// The kernels' table for the instruction set compiled in the enclosing namespace; DType order
// is Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K.
#define QS_GGML_TABLE                                                                              \
    const Kernels kernels = {                                                                      \
        {quantizeSym<4, 18>, quantizeAffine<4, 20>, quantizeSym<5, 22>, quantizeAffine<5, 24>,     \
         quantizeQ8_0, quantizeQ2K, quantizeQ3K, quantizeQ4K, quantizeQ5K, quantizeQ6K},           \
        {decodeBlocks<decodeQ4_0, 18, 32>, decodeBlocks<decodeQ4_1, 20, 32>,                       \
         decodeBlocks<decodeQ5_0, 22, 32>, decodeBlocks<decodeQ5_1, 24, 32>,                       \
         decodeBlocks<decodeQ8_0, 34, 32>, decodeBlocks<decodeQ2_K, 84, 256>,                      \
         decodeBlocks<decodeQ3_K, 110, 256>, decodeBlocks<decodeQ4_K, 144, 256>,                   \
         decodeBlocks<decodeQ5_K, 176, 256>, decodeBlocks<decodeQ6_K, 210, 256>}};

// The vector arguments of inlined helpers trigger ABI notes, and GCC 12 warns about the
// deliberately undefined pass-through operand inside its own AVX-512 intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace qs::ggml_sse42 {
using qs::Kernels;
#define QS_GGML_W 4
#define QS_GGML_NB 2
// The kernels build on each other in this order.
// clang-format off
#include "formats/ggml_fast_lanes.inc"
#include "formats/ggml_fast_search.inc"
#include "formats/ggml_fast_kquant.inc"
#include "formats/ggml_fast_q32.inc"
#include "formats/ggml_fast_decode.inc"
// clang-format on
#undef QS_GGML_W
#undef QS_GGML_NB
QS_GGML_TABLE
} // namespace qs::ggml_sse42

// GCC takes target pragmas; clang applies the same target attribute to every function.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,bmi,bmi2,f16c,lzcnt,popcnt"))),           \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,bmi,bmi2,f16c,lzcnt,popcnt")
#endif
namespace qs::ggml_avx2 {
using qs::Kernels;
#define QS_GGML_W 8
#define QS_GGML_NB 2
// The kernels build on each other in this order.
// clang-format off
#include "formats/ggml_fast_lanes.inc"
#include "formats/ggml_fast_search.inc"
#include "formats/ggml_fast_kquant.inc"
#include "formats/ggml_fast_q32.inc"
#include "formats/ggml_fast_decode.inc"
// clang-format on
#undef QS_GGML_W
#undef QS_GGML_NB
QS_GGML_TABLE
} // namespace qs::ggml_avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(                                                                      \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx2,bmi,bmi2,f16c,lzcnt,popcnt"))), \
    apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,bmi,bmi2,f16c,lzcnt,popcnt")
#endif
namespace qs::ggml_avx512 {
using qs::Kernels;
#define QS_GGML_W 16
#define QS_GGML_NB 4
// The kernels build on each other in this order.
// clang-format off
#include "formats/ggml_fast_lanes.inc"
#include "formats/ggml_fast_search.inc"
#include "formats/ggml_fast_kquant.inc"
#include "formats/ggml_fast_q32.inc"
#include "formats/ggml_fast_decode.inc"
// clang-format on
#undef QS_GGML_W
#undef QS_GGML_NB
QS_GGML_TABLE
} // namespace qs::ggml_avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#pragma GCC diagnostic pop

namespace qs {
namespace {

const Kernels* kernelsFor(GgmlSimd level)
{
    switch (level) {
    case GgmlSimd::Avx512:
        return &ggml_avx512::kernels;
    case GgmlSimd::Avx2:
        return &ggml_avx2::kernels;
    case GgmlSimd::Sse42:
        break;
    }
    return &ggml_sse42::kernels;
}

std::atomic<const Kernels*> g_kernels{nullptr};
std::atomic<GgmlSimd> g_level{GgmlSimd::Sse42};

const Kernels& active()
{
    const Kernels* k = g_kernels.load(std::memory_order_acquire);
    if (!k) {
        const GgmlSimd best = ggmlSimdBest();
        g_level.store(best, std::memory_order_relaxed);
        k = kernelsFor(best);
        g_kernels.store(k, std::memory_order_release);
    }
    return *k;
}

} // namespace

const char* ggmlSimdName(GgmlSimd level)
{
    switch (level) {
    case GgmlSimd::Avx512:
        return "avx512";
    case GgmlSimd::Avx2:
        return "avx2";
    case GgmlSimd::Sse42:
        break;
    }
    return "sse4.2";
}

namespace {
bool lzcntAvailable()
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 5)) != 0; // ABM/LZCNT
}
} // namespace

bool ggmlSimdSupported(GgmlSimd level)
{
    __builtin_cpu_init();
    switch (level) {
    case GgmlSimd::Avx512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
               ggmlSimdSupported(GgmlSimd::Avx2);
    case GgmlSimd::Avx2:
        // Everything the AVX2 target pragma below enables, since the compiler may use any of it.
        // F16C and LZCNT are read from CPUID: not every compiler's __builtin_cpu_supports
        // knows them.
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
               __builtin_cpu_supports("bmi2") && f16cAvailable() && lzcntAvailable() &&
               __builtin_cpu_supports("popcnt");
    case GgmlSimd::Sse42:
        break;
    }
    return true;
}

GgmlSimd ggmlSimdBest()
{
    for (GgmlSimd l : {GgmlSimd::Avx512, GgmlSimd::Avx2})
        if (ggmlSimdSupported(l)) return l;
    return GgmlSimd::Sse42;
}

GgmlSimd ggmlSimdLevel()
{
    active();
    return g_level.load(std::memory_order_relaxed);
}

void setGgmlSimdLevel(GgmlSimd level)
{
    if (!ggmlSimdSupported(level))
        throw Error(std::string("this CPU does not support ") + ggmlSimdName(level));
    g_level.store(level, std::memory_order_relaxed);
    g_kernels.store(kernelsFor(level), std::memory_order_release);
}

namespace ggml_detail {

bool quantizeBlocksFast(DType t, const float* x, std::int64_t blocks, std::byte* out)
{
    const int i = typeIndex(t);
    if (i < 0) return false;
    active().quantize[i](x, blocks, out);
    return true;
}

bool decodeBlocksFast(DType t, const std::byte* src, std::int64_t blocks, float* out)
{
    const int i = typeIndex(t);
    if (i < 0) return false;
    active().decode[i](src, blocks, out);
    return true;
}

} // namespace ggml_detail
} // namespace qs
