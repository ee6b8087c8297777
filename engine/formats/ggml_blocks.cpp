#include "formats/ggml_blocks.h"

#include "core/error.h"
#include "formats/ggml_fast.h"
#include "formats/half.h"

#include <cstring>
#include <string>

// Semantics follow ggml's reference dequantize_row_* (ggml-quants.c) operation for operation:
// integer codes are converted to float and combined in the same order, so with FMA contraction
// off (the engine's flags) every value matches ggml's bit for bit. Each block is first copied
// into a local byte array, so unaligned file data is never accessed through a cast pointer.

namespace qs {
namespace {

using u8 = std::uint8_t;

float half(const u8* p)
{
    std::uint16_t h;
    std::memcpy(&h, p, 2);
    return f16ToF32(h);
}

// q4_0: fp16 d, 16 bytes of nibbles; low nibbles are elements 0..15, high ones 16..31.
void q4_0(const u8* b, float* y)
{
    const float d = half(b);
    const u8* qs = b + 2;
    for (int j = 0; j < 16; ++j) {
        const int x0 = (qs[j] & 0x0F) - 8;
        const int x1 = (qs[j] >> 4) - 8;
        y[j] = static_cast<float>(x0) * d;
        y[j + 16] = static_cast<float>(x1) * d;
    }
}

// q4_1: fp16 d, fp16 m, 16 bytes of nibbles.
void q4_1(const u8* b, float* y)
{
    const float d = half(b), m = half(b + 2);
    const u8* qs = b + 4;
    for (int j = 0; j < 16; ++j) {
        const int x0 = qs[j] & 0x0F;
        const int x1 = qs[j] >> 4;
        y[j] = static_cast<float>(x0) * d + m;
        y[j + 16] = static_cast<float>(x1) * d + m;
    }
}

// The fifth bits of q5_0/q5_1: a little-endian 32-bit mask, bit j for element j.
std::uint32_t le32(const u8* p)
{
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

// q5_0: fp16 d, 4 bytes of high bits, 16 bytes of nibbles.
void q5_0(const u8* b, float* y)
{
    const float d = half(b);
    const std::uint32_t qh = le32(b + 2);
    const u8* qs = b + 6;
    for (int j = 0; j < 16; ++j) {
        const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
        const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
        const int x0 = ((qs[j] & 0x0F) | h0) - 16;
        const int x1 = ((qs[j] >> 4) | h1) - 16;
        y[j] = static_cast<float>(x0) * d;
        y[j + 16] = static_cast<float>(x1) * d;
    }
}

// q5_1: fp16 d, fp16 m, 4 bytes of high bits, 16 bytes of nibbles.
void q5_1(const u8* b, float* y)
{
    const float d = half(b), m = half(b + 2);
    const std::uint32_t qh = le32(b + 4);
    const u8* qs = b + 8;
    for (int j = 0; j < 16; ++j) {
        const int h0 = static_cast<int>(((qh >> j) << 4) & 0x10);
        const int h1 = static_cast<int>((qh >> (j + 12)) & 0x10);
        const int x0 = (qs[j] & 0x0F) | h0;
        const int x1 = (qs[j] >> 4) | h1;
        y[j] = static_cast<float>(x0) * d + m;
        y[j + 16] = static_cast<float>(x1) * d + m;
    }
}

// q8_0: fp16 d, 32 signed bytes.
void q8_0(const u8* b, float* y)
{
    const float d = half(b);
    for (int j = 0; j < 32; ++j)
        y[j] = static_cast<float>(static_cast<std::int8_t>(b[2 + j])) * d;
}

// q2_K: 16 bytes of 4-bit scale/min pairs, 64 bytes of 2-bit codes, fp16 d, fp16 dmin.
void q2_K(const u8* b, float* y)
{
    const u8* scales = b;
    const u8* q = b + 16;
    const float d = half(b + 80), min = half(b + 82);
    int is = 0;
    for (int n = 0; n < 256; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            for (int half16 = 0; half16 < 2; ++half16) {
                const u8 sc = scales[is++];
                const float dl = d * static_cast<float>(sc & 0xF);
                const float ml = min * static_cast<float>(sc >> 4);
                const u8* qq = q + 16 * half16;
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * static_cast<float>((qq[l] >> shift) & 3) - ml;
            }
            shift += 2;
        }
        q += 32;
    }
}

// q3_K: 32 bytes of high-bit masks, 64 bytes of 2-bit codes, 12 bytes of sixteen 6-bit
// scales, fp16 d.
void q3_K(const u8* b, float* y)
{
    const u8* hm = b;
    const u8* q = b + 32;
    const u8* s = b + 96;
    const float dAll = half(b + 108);
    // Scale i: low four bits from byte i (i < 8) or the high nibble of byte i-8; the top two
    // bits from byte 8 + i%4 at bit 2*(i/4).
    int scales[16];
    for (int i = 0; i < 16; ++i) {
        const int lo = i < 8 ? (s[i] & 0xF) : (s[i - 8] >> 4);
        const int hi = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
        scales[i] = lo | hi << 4;
    }
    int is = 0;
    u8 m = 1;
    for (int n = 0; n < 256; n += 128) {
        int shift = 0;
        for (int j = 0; j < 4; ++j) {
            for (int half16 = 0; half16 < 2; ++half16) {
                const float dl = dAll * static_cast<float>(scales[is++] - 32);
                const int o = 16 * half16;
                for (int l = 0; l < 16; ++l) {
                    const int code = ((q[l + o] >> shift) & 3) - ((hm[l + o] & m) ? 0 : 4);
                    *y++ = dl * static_cast<float>(code);
                }
            }
            shift += 2;
            m = static_cast<u8>(m << 1);
        }
        q += 32;
    }
}

// The 6-bit scale and min of sub-block j in the 12 packed bytes of q4_K/q5_K.
void scaleMinK4(int j, const u8* q, u8& sc, u8& mn)
{
    if (j < 4) {
        sc = q[j] & 63;
        mn = q[j + 4] & 63;
    } else {
        sc = static_cast<u8>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        mn = static_cast<u8>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// q4_K: fp16 d, fp16 dmin, 12 bytes of scales/mins, 128 bytes of nibbles.
void q4_K(const u8* b, float* y)
{
    const float d = half(b), min = half(b + 2);
    const u8* scales = b + 4;
    const u8* q = b + 16;
    int is = 0;
    for (int j = 0; j < 256; j += 64) {
        u8 sc, mn;
        scaleMinK4(is, scales, sc, mn);
        const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(mn);
        scaleMinK4(is + 1, scales, sc, mn);
        const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(mn);
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
        q += 32;
        is += 2;
    }
}

// q5_K: fp16 d, fp16 dmin, 12 bytes of scales/mins, 32 bytes of fifth bits, 128 of nibbles.
void q5_K(const u8* b, float* y)
{
    const float d = half(b), min = half(b + 2);
    const u8* scales = b + 4;
    const u8* qh = b + 16;
    const u8* ql = b + 48;
    int is = 0;
    u8 u1 = 1, u2 = 2;
    for (int j = 0; j < 256; j += 64) {
        u8 sc, mn;
        scaleMinK4(is, scales, sc, mn);
        const float d1 = d * static_cast<float>(sc), m1 = min * static_cast<float>(mn);
        scaleMinK4(is + 1, scales, sc, mn);
        const float d2 = d * static_cast<float>(sc), m2 = min * static_cast<float>(mn);
        for (int l = 0; l < 32; ++l)
            *y++ = d1 * static_cast<float>((ql[l] & 0xF) + ((qh[l] & u1) ? 16 : 0)) - m1;
        for (int l = 0; l < 32; ++l)
            *y++ = d2 * static_cast<float>((ql[l] >> 4) + ((qh[l] & u2) ? 16 : 0)) - m2;
        ql += 32;
        is += 2;
        u1 = static_cast<u8>(u1 << 2);
        u2 = static_cast<u8>(u2 << 2);
    }
}

// q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit highs, 16 signed 8-bit scales, fp16 d.
void q6_K(const u8* b, float* y)
{
    const u8* ql = b;
    const u8* qh = b + 128;
    const u8* sc = b + 192;
    const float d = half(b + 208);
    for (int n = 0; n < 256; n += 128) {
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            auto s = [&](int k) { return static_cast<float>(static_cast<std::int8_t>(sc[k])); };
            y[l] = d * s(is) * static_cast<float>(q1);
            y[l + 32] = d * s(is + 2) * static_cast<float>(q2);
            y[l + 64] = d * s(is + 4) * static_cast<float>(q3);
            y[l + 96] = d * s(is + 6) * static_cast<float>(q4);
        }
        y += 128;
        ql += 64;
        qh += 32;
        sc += 8;
    }
}

template <std::size_t Bytes, int Elems, void (*Decode)(const u8*, float*)>
void decodeAll(const std::byte* src, std::int64_t blocks, float* out)
{
    u8 block[Bytes];
    for (std::int64_t i = 0; i < blocks; ++i) {
        std::memcpy(block, src + i * static_cast<std::int64_t>(Bytes), Bytes);
        Decode(block, out + i * Elems);
    }
}

} // namespace

bool canDecodeGgmlBlocks(DType t)
{
    switch (t) {
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
        return true;
    default:
        return false;
    }
}

void decodeGgmlBlocks(DType t, const std::byte* src, std::int64_t blocks, float* out)
{
    if (!ggml_detail::decodeBlocksFast(t, src, blocks, out))
        decodeGgmlBlocksRef(t, src, blocks, out);
}

void decodeGgmlBlocksRef(DType t, const std::byte* src, std::int64_t blocks, float* out)
{
    switch (t) {
    case DType::Q4_0:
        return decodeAll<18, 32, q4_0>(src, blocks, out);
    case DType::Q4_1:
        return decodeAll<20, 32, q4_1>(src, blocks, out);
    case DType::Q5_0:
        return decodeAll<22, 32, q5_0>(src, blocks, out);
    case DType::Q5_1:
        return decodeAll<24, 32, q5_1>(src, blocks, out);
    case DType::Q8_0:
        return decodeAll<34, 32, q8_0>(src, blocks, out);
    case DType::Q2_K:
        return decodeAll<84, 256, q2_K>(src, blocks, out);
    case DType::Q3_K:
        return decodeAll<110, 256, q3_K>(src, blocks, out);
    case DType::Q4_K:
        return decodeAll<144, 256, q4_K>(src, blocks, out);
    case DType::Q5_K:
        return decodeAll<176, 256, q5_K>(src, blocks, out);
    case DType::Q6_K:
        return decodeAll<210, 256, q6_K>(src, blocks, out);
    default:
        throw Error("no decoder for tensor type " + std::string(dtypeName(t)));
    }
}

} // namespace qs
