#include "formats/encoded.h"

#include "analysis/group_params.h"
#include "formats/ggml_blocks.h"
#include "formats/ggml_quantize.h"
#include "formats/half.h"
#include "formats/half_bulk.h"
#include "formats/mxfp4.h"
#include "formats/stochastic.h"

#include <algorithm>
#include <cstring>
#include <immintrin.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace qs {
namespace {

constexpr std::int64_t kChunk = TensorQuantizer::kChunk;

// Packs n codes of `bits` bits (two's complement for signed codes) that start at logical
// index e, low bits first. Work units start on byte boundaries (kUnit * bits is a multiple of
// 8), so concurrent units never share a byte.
void packBits(const std::int8_t* q, std::int64_t e, std::int64_t n, int bits, std::uint8_t* codes)
{
    if (bits == 4 && e % 2 == 0) { // whole bytes: two codes each, the first in the low nibble
        std::uint8_t* b = codes + e / 2;
        std::int64_t k = 0;
        for (; k + 2 <= n; k += 2)
            b[k / 2] = static_cast<std::uint8_t>((q[k] & 0x0f) | ((q[k + 1] & 0x0f) << 4));
        if (k < n) b[k / 2] = static_cast<std::uint8_t>((b[k / 2] & 0xf0) | (q[k] & 0x0f));
        return;
    }
    const std::uint32_t mask = (1u << bits) - 1u;
    std::int64_t bit = e * bits;
    for (std::int64_t k = 0; k < n; ++k, bit += bits) {
        const std::uint32_t v = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(q[k])) & mask)
                                << (bit & 7);
        std::uint8_t* b = codes + (bit >> 3);
        const std::uint32_t keep = ~(mask << (bit & 7));
        b[0] = static_cast<std::uint8_t>((b[0] & keep) | v);
        if ((bit & 7) + bits > 8) b[1] = static_cast<std::uint8_t>((b[1] & (keep >> 8)) | (v >> 8));
    }
}

// The inverse of packBits; signed codes are sign-extended.
void unpackBits(const std::uint8_t* codes, std::int64_t e, std::int64_t n, int bits, bool isSigned,
                std::int8_t* q)
{
    const std::uint32_t mask = (1u << bits) - 1u, sign = 1u << (bits - 1);
    std::int64_t bit = e * bits;
    for (std::int64_t k = 0; k < n; ++k, bit += bits) {
        const std::uint8_t* b = codes + (bit >> 3);
        std::uint32_t v = b[0];
        if ((bit & 7) + bits > 8) v |= static_cast<std::uint32_t>(b[1]) << 8;
        v = (v >> (bit & 7)) & mask;
        const int code =
            isSigned && (v & sign) ? static_cast<int>(v) - (1 << bits) : static_cast<int>(v);
        q[k] = static_cast<std::int8_t>(code);
    }
}

// Storage for n bytes of codes, not yet initialised (see clearUnitCodes), often a reused buffer
// (codecache). Large buffers ask for transparent huge pages (where the system grants them on
// request): filling a fresh 100 MB buffer otherwise costs tens of thousands of page faults,
// more than quantizing into it.
void allocateCodes(CodeBytes& codes, std::size_t n)
{
    codes.clear();
    codes.reserve(n);
#if defined(__linux__)
    constexpr std::uintptr_t kHuge = std::uintptr_t{2} << 20;
    if (n >= 4 * kHuge) {
        const auto begin = reinterpret_cast<std::uintptr_t>(codes.data());
        const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
        const std::uintptr_t last = (begin + n) & ~(kHuge - 1);
        if (last > first)
            ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE); // a hint
    }
#endif
    codes.resize(n);
}

// Writes one byte of every page of the codes, a run of 2 MiB (one huge page) per work item. A
// fresh page is cleared by the kernel on its first write; when work units write their codes
// first, two of them next to each other fall in one huge page and wait on its fault in turn,
// which made fresh buffers the part of a quantize that did not scale with threads. The bytes
// written are overwritten or cleared by the encoding afterwards.
void touchPages(CodeBytes& codes, const Control& control)
{
    constexpr std::size_t kRun = std::size_t{2} << 20, kPage = 4096;
    const std::size_t n = codes.size();
    control.run(static_cast<std::int64_t>((n + kRun - 1) / kRun), [&](std::int64_t r) {
        const std::size_t end = std::min(n, (static_cast<std::size_t>(r) + 1) * kRun);
        for (std::size_t i = static_cast<std::size_t>(r) * kRun; i < end; i += kPage)
            codes[i] = 0;
    });
}

// Whether encoding writes every byte of the codes itself: whole values of 8, 16 or 32 bits, and
// ggml blocks (each block is written whole). Packed narrower codes are or-ed into their bytes.
bool writesEveryByte(const Format& f)
{
    return f.ggmlBlock() || f.bits % 8 == 0;
}

// Zeroes the bytes that hold work unit u's packed codes, before the unit writes them: they are
// or-ed into their bytes, and the last byte's padding bits must read as zero. Units start on
// byte boundaries (2^18 values: a whole number of bytes at any width), so no two units share a
// byte.
void clearUnitCodes(EncodedTensor& enc, std::int64_t u)
{
    const Format& f = *enc.format;
    if (writesEveryByte(f)) return;
    const std::int64_t first = u * TensorQuantizer::kUnit;
    const std::int64_t end = std::min(enc.numel, first + TensorQuantizer::kUnit);
    const auto b0 = static_cast<std::size_t>(first * f.bits / 8);
    const auto b1 = std::min(static_cast<std::size_t>((end * f.bits + 7) / 8), enc.codes.size());
    if (b1 > b0) std::memset(enc.codes.data() + b0, 0, b1 - b0);
}

// The stored form of every group's parameters; filled in parallel, as blocks formats such as
// nf4 and mxfp4 have millions of groups.
void storeScales(EncodedTensor& enc, const TensorQuantizer& qz, const Control& control)
{
    const Format& f = *enc.format;
    const QuantSpec& spec = qz.spec();
    const std::vector<ScaleParams>& params = qz.params();
    const std::size_t n = params.size();
    const bool e8m0 = f.kind == FormatKind::Mxfp4;
    const bool fp16Scale = f.integer() && spec.granularity.kind == Granularity::Kind::Group;
    const bool zero16 = spec.floatZero(), zero8 = f.affine() && !zero16;
    (e8m0 ? enc.scalesE8M0.resize(n) : fp16Scale ? enc.scales16.resize(n) : enc.scales.resize(n));
    if (zero16) enc.zeros16.resize(n);
    if (zero8) enc.zeroPoints.resize(n);
    constexpr std::size_t kBatch = 1 << 16;
    control.run(static_cast<std::int64_t>((n + kBatch - 1) / kBatch), [&](std::int64_t b) {
        const std::size_t end = std::min(n, (static_cast<std::size_t>(b) + 1) * kBatch);
        for (std::size_t g = static_cast<std::size_t>(b) * kBatch; g < end; ++g) {
            const ScaleParams& p = params[g];
            if (e8m0)
                enc.scalesE8M0[g] = mxScaleByte(p);
            else if (fp16Scale)
                enc.scales16[g] = f32ToF16(p.scale);
            else
                enc.scales[g] = p.scale;
            if (zero16) // exact: integer zero points up to 255 are fp16 numbers
                enc.zeros16[g] = f32ToF16(zeroValue(p));
            else if (zero8)
                enc.zeroPoints[g] = static_cast<std::uint8_t>(p.zeroPoint);
        }
    });
}

} // namespace

EncodedTensor encodeTensor(TensorQuantizer& qz, const Control& control)
{
    const Format& f = *qz.spec().format;
    // Formats without scales need no first pass over the data, nor do those whose groups each
    // lie in one work unit: their scales are found unit by unit, while the data is in cache.
    const bool perUnit = qz.scalesPerUnit();
    if (perUnit)
        qz.beginUnitScales();
    else if (f.scaled())
        qz.computeScales(control);
    EncodedTensor enc;
    enc.format = &f;
    enc.numel = qz.source().numel();
    // ggml formats: the blocks exactly as a GGUF file stores them, in memory order.
    allocateCodes(enc.codes,
                  f.ggmlBlock()
                      ? static_cast<std::size_t>(enc.numel / dtypeBlockSize(f.blockType)) *
                            dtypeBlockBytes(f.blockType)
                      : static_cast<std::size_t>((enc.numel * f.bits + 7) / 8));
    touchPages(enc.codes, control);
    const QuantSpec& spec = qz.spec();
    const bool stochastic = spec.rounding == Rounding::Stochastic;
    const std::int64_t L = qz.source().perChannel();
    control.run(qz.numUnits(), [&](std::int64_t u) {
        clearUnitCodes(enc, u);
        if (perUnit) qz.unitScales(u, control);
        float xbuf[kChunk];
        std::int8_t qbuf[kChunk];
        qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            const float* x = qz.source().view(c, j, n, xbuf);
            const std::int64_t e = c * L + j;
            switch (f.kind) {
            case FormatKind::Float32:
                std::memcpy(enc.codes.data() + e * 4, x, static_cast<std::size_t>(n) * 4);
                return;
            case FormatKind::Float16:
            case FormatKind::BFloat16: {
                std::uint16_t h[kChunk]; // converted whole, then stored with one copy
                if (f.kind == FormatKind::Float16)
                    f32ToF16Bulk(x, n, h);
                else
                    f32ToBf16Bulk(x, n, h);
                std::memcpy(enc.codes.data() + e * 2, h, static_cast<std::size_t>(n) * 2);
                return;
            }
            case FormatKind::GgmlBlock: {
                const std::int64_t qk = dtypeBlockSize(f.blockType);
                const auto bytes = static_cast<std::int64_t>(dtypeBlockBytes(f.blockType));
                quantizeRowGgml(f.blockType, x, n,
                                reinterpret_cast<std::byte*>(enc.codes.data()) + e / qk * bytes);
                return;
            }
            default:
                break;
            }
            // 8-bit codes go straight to their place; narrower ones are packed afterwards.
            std::int8_t* const q =
                f.bits == 8 ? reinterpret_cast<std::int8_t*>(enc.codes.data() + e) : qbuf;
            qz.forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t g) {
                const ScaleParams& p = qz.groupParams(g);
                auto* u8 = reinterpret_cast<std::uint8_t*>(q + k);
                const std::int64_t first = e + k; // logical index: stochastic rounding's counter
                if (!f.integer())
                    qz.elementCodes(x + k, m, p, u8);
                else if (p.floatZero)
                    quantizeAffineFloatZero(x + k, m, p, f.qmax, u8);
                else if (stochastic && f.affine())
                    quantizeAffineStochastic(x + k, m, p, f.qmax, spec.seed, first, u8);
                else if (stochastic)
                    quantizeSymmetricStochastic(x + k, m, p, f.qmax, spec.seed, first, q + k);
                else if (f.affine())
                    quantizeAffine(x + k, m, p, f.qmax, u8);
                else
                    quantizeSymmetric(x + k, m, p, f.qmax, q + k);
            });
            if (f.bits != 8) packBits(q, e, n, f.bits, enc.codes.data());
        });
    });
    if (f.scaled()) storeScales(enc, qz, control);
    return enc;
}

namespace {

constexpr std::int64_t kStreamingBytes = std::int64_t{8} << 20;

void decodeChunk(const EncodedTensor& enc, const TensorQuantizer& layout, std::int64_t c,
                 std::int64_t j, std::int64_t n, std::int64_t e, std::int8_t* q, float* y);

// Copies n floats to dst with non-temporal stores where dst is 16-byte aligned.
void streamStore(float* dst, const float* src, std::int64_t n)
{
    std::int64_t i = 0;
    for (; i < n && reinterpret_cast<std::uintptr_t>(dst + i) % 16 != 0; ++i)
        dst[i] = src[i];
    for (; i + 4 <= n; i += 4)
        _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
    for (; i < n; ++i)
        dst[i] = src[i];
}

} // namespace

void decodeTensor(const EncodedTensor& enc, const TensorQuantizer& layout, float* out,
                  const Control& control)
{
    const std::int64_t L = layout.source().perChannel();
    // A large output goes to memory with streaming stores: it is not read back soon, and
    // plain stores would first read every destination line into the cache.
    const bool streaming = layout.source().numel() * 4 >= kStreamingBytes;
    control.run(layout.numUnits(), [&](std::int64_t u) {
        std::int8_t q[kChunk];
        float ybuf[kChunk];
        layout.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            const std::int64_t e = c * L + j;
            float* const y = streaming ? ybuf : out + e;
            decodeChunk(enc, layout, c, j, n, e, q, y);
            if (streaming) streamStore(out + e, ybuf, n);
        });
        if (streaming) _mm_sfence(); // the unit's stores are visible before it counts as done
    });
}

namespace {

void decodeChunk(const EncodedTensor& enc, const TensorQuantizer& layout, std::int64_t c,
                 std::int64_t j, std::int64_t n, std::int64_t e, std::int8_t* q, float* y)
{
    const Format& f = *enc.format;
    switch (f.kind) {
    case FormatKind::Float32:
        std::memcpy(y, enc.codes.data() + e * 4, static_cast<std::size_t>(n) * 4);
        return;
    case FormatKind::Float16:
    case FormatKind::BFloat16:
        for (std::int64_t k = 0; k < n; ++k) {
            std::uint16_t h;
            std::memcpy(&h, enc.codes.data() + (e + k) * 2, 2);
            y[k] = f.kind == FormatKind::Float16 ? f16ToF32(h) : bf16ToF32(h);
        }
        return;
    case FormatKind::GgmlBlock: {
        const std::int64_t qk = dtypeBlockSize(f.blockType);
        const auto bytes = static_cast<std::int64_t>(dtypeBlockBytes(f.blockType));
        decodeGgmlBlocks(f.blockType,
                         reinterpret_cast<const std::byte*>(enc.codes.data()) + e / qk * bytes,
                         n / qk, y);
        return;
    }
    default:
        break;
    }
    if (f.bits == 8)
        std::memcpy(q, enc.codes.data() + e, static_cast<std::size_t>(n));
    else
        unpackBits(enc.codes.data(), e, n, f.bits, f.kind == FormatKind::IntSymmetric, q);
    layout.forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t gi) {
        const auto g = static_cast<std::size_t>(gi);
        const auto* u8 = reinterpret_cast<const std::uint8_t*>(q + k);
        ScaleParams p; // from the stored form only, not from the quantizer's parameters
        if (!f.integer()) {
            p.scale = f.kind == FormatKind::Mxfp4 ? e8m0Value(enc.scalesE8M0[g]) : enc.scales[g];
            decodeElements(f, u8, m, p, y + k);
            return;
        }
        p.scale = enc.scales16.empty() ? enc.scales[g] : f16ToF32(enc.scales16[g]);
        if (!enc.zeros16.empty()) {
            p.floatZero = true;
            p.zero = f16ToF32(enc.zeros16[g]);
            dequantizeAffineFloatZero(u8, m, p, y + k);
        } else if (f.affine()) {
            p.zeroPoint = enc.zeroPoints[g];
            dequantizeAffine(u8, m, p, y + k);
        } else {
            dequantizeSymmetric(q + k, m, p, y + k);
        }
    });
}

} // namespace

} // namespace qs
