#include "formats/ggml_quantize.h"

#include "core/error.h"
#include "formats/ggml_fast.h"
#include "formats/half.h"

#include <cmath>
#include <cstring>
#include <string>

// The 32-value block formats. ggml computes the block scale in fp32 and quantizes with that
// unrounded scale; only the stored copy is rounded to fp16. Its conversions to integer codes
// truncate after adding 0.5 (or 8.5, 16.5), except q8_0 which uses roundf.
namespace qs {
namespace {

constexpr int kQK = 32;

void putF16(std::byte* p, float v)
{
    const std::uint16_t h = f32ToF16(v);
    std::memcpy(p, &h, 2);
}

// ggml's C cast of a float to a code: truncation toward zero. Finite inputs always land inside
// (-128, 256); NaN (from NaN or infinite inputs, where C leaves the cast undefined) gives 0, as
// x86's truncating conversion does once narrowed to a byte.
int truncToCode(float v)
{
    return v > -128.0f && v < 256.0f ? static_cast<int>(v) : 0;
}

// The sign-carrying extreme: the first value with the largest magnitude.
float signedMax(const float* x)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK; ++j) {
        const float v = x[j];
        if (amax < std::fabs(v)) {
            amax = std::fabs(v);
            max = v;
        }
    }
    return max;
}

void minMax(const float* x, float& mn, float& mx)
{
    mn = x[0];
    mx = x[0];
    for (int j = 1; j < kQK; ++j) {
        mn = x[j] < mn ? x[j] : mn;
        mx = x[j] > mx ? x[j] : mx;
    }
}

void q8_0(const float* x, std::byte* out)
{
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j)
        amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putF16(out, d);
    for (int j = 0; j < kQK; ++j) {
        const auto q = static_cast<std::int8_t>(truncToCode(std::round(x[j] * id)));
        std::memcpy(out + 2 + j, &q, 1);
    }
}

void q4_0(const float* x, std::byte* out)
{
    const float d = signedMax(x) / -8.0f; // -0.0 for an all-zero block, as ggml stores it
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putF16(out, d);
    for (int j = 0; j < kQK / 2; ++j) {
        const int a = std::min<int>(15, static_cast<std::int8_t>(truncToCode(x[j] * id + 8.5f)));
        const int b =
            std::min<int>(15, static_cast<std::int8_t>(truncToCode(x[kQK / 2 + j] * id + 8.5f)));
        out[2 + j] = static_cast<std::byte>(a | (b << 4));
    }
}

void q4_1(const float* x, std::byte* out)
{
    float mn, mx;
    minMax(x, mn, mx);
    const float d = (mx - mn) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putF16(out, d);
    putF16(out + 2, mn);
    for (int j = 0; j < kQK / 2; ++j) {
        const int a =
            std::min<int>(15, static_cast<std::int8_t>(truncToCode((x[j] - mn) * id + 0.5f)));
        const int b = std::min<int>(
            15, static_cast<std::int8_t>(truncToCode((x[kQK / 2 + j] - mn) * id + 0.5f)));
        out[4 + j] = static_cast<std::byte>(a | (b << 4));
    }
}

// q5_0/q5_1 share the layout: 4 low bits in nibbles, the fifth bits in a 32-bit mask.
void pack5(const int* lo, const int* hi, std::byte* qh, std::byte* qs)
{
    std::uint32_t h = 0;
    for (int j = 0; j < kQK / 2; ++j) {
        qs[j] = static_cast<std::byte>((lo[j] & 0x0f) | ((hi[j] & 0x0f) << 4));
        h |= static_cast<std::uint32_t>((lo[j] & 0x10) >> 4) << j;
        h |= static_cast<std::uint32_t>((hi[j] & 0x10) >> 4) << (j + kQK / 2);
    }
    const std::uint8_t b[4] = {static_cast<std::uint8_t>(h), static_cast<std::uint8_t>(h >> 8),
                               static_cast<std::uint8_t>(h >> 16),
                               static_cast<std::uint8_t>(h >> 24)};
    std::memcpy(qh, b, 4);
}

void q5_0(const float* x, std::byte* out)
{
    const float d = signedMax(x) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putF16(out, d);
    int lo[kQK / 2], hi[kQK / 2];
    for (int j = 0; j < kQK / 2; ++j) {
        lo[j] = std::min<int>(31, static_cast<std::int8_t>(truncToCode(x[j] * id + 16.5f)));
        hi[j] =
            std::min<int>(31, static_cast<std::int8_t>(truncToCode(x[kQK / 2 + j] * id + 16.5f)));
    }
    pack5(lo, hi, out + 2, out + 6);
}

void q5_1(const float* x, std::byte* out)
{
    float mn, mx;
    minMax(x, mn, mx);
    const float d = (mx - mn) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    putF16(out, d);
    putF16(out + 2, mn);
    int lo[kQK / 2], hi[kQK / 2];
    for (int j = 0; j < kQK / 2; ++j) {
        lo[j] = static_cast<std::uint8_t>(truncToCode((x[j] - mn) * id + 0.5f));
        hi[j] = static_cast<std::uint8_t>(truncToCode((x[kQK / 2 + j] - mn) * id + 0.5f));
    }
    pack5(lo, hi, out + 4, out + 8);
}

using BlockFn = void (*)(const float*, std::byte*);

BlockFn blockFn(DType t)
{
    switch (t) {
    case DType::Q8_0:
        return q8_0;
    case DType::Q4_0:
        return q4_0;
    case DType::Q4_1:
        return q4_1;
    case DType::Q5_0:
        return q5_0;
    case DType::Q5_1:
        return q5_1;
    case DType::Q2_K:
        return ggml_detail::quantizeBlockQ2K;
    case DType::Q3_K:
        return ggml_detail::quantizeBlockQ3K;
    case DType::Q4_K:
        return ggml_detail::quantizeBlockQ4K;
    case DType::Q5_K:
        return ggml_detail::quantizeBlockQ5K;
    case DType::Q6_K:
        return ggml_detail::quantizeBlockQ6K;
    default:
        return nullptr;
    }
}

// The reference block encoder for a row of n values; throws for other types or a partial block.
BlockFn checkedBlockFn(DType type, std::int64_t n)
{
    const BlockFn fn = blockFn(type);
    if (!fn) throw Error("no ggml quantizer for type " + std::string(dtypeName(type)));
    const std::int64_t qk = dtypeBlockSize(type);
    if (n < 0 || n % qk != 0)
        throw Error("row length " + std::to_string(n) + " is not a multiple of " +
                    std::string(dtypeName(type)) + "'s block of " + std::to_string(qk));
    return fn;
}

} // namespace

bool canQuantizeGgml(DType t)
{
    return blockFn(t) != nullptr;
}

void quantizeRowGgmlRef(DType type, const float* x, std::int64_t n, std::byte* out)
{
    const BlockFn fn = checkedBlockFn(type, n);
    const std::int64_t qk = dtypeBlockSize(type);
    const auto bytes = static_cast<std::int64_t>(dtypeBlockBytes(type));
    for (std::int64_t b = 0; b < n / qk; ++b)
        fn(x + b * qk, out + b * bytes);
}

void quantizeRowGgml(DType type, const float* x, std::int64_t n, std::byte* out)
{
    checkedBlockFn(type, n);
    if (!ggml_detail::quantizeBlocksFast(type, x, n / dtypeBlockSize(type), out))
        quantizeRowGgmlRef(type, x, n, out);
}

} // namespace qs
