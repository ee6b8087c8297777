#include "formats/encoded.h"

#include "formats/ggml_blocks.h"
#include "formats/ggml_quantize.h"
#include "formats/half.h"

#include <algorithm>
#include <cstring>

namespace qs {
namespace {

constexpr std::int64_t kChunk = TensorQuantizer::kChunk;

// Packs `n` codes that start at logical index e into 4-bit nibbles (low nibble first).
void pack4(const std::int8_t* q, std::int64_t e, std::int64_t n, std::uint8_t* codes)
{
    for (std::int64_t k = 0; k < n; ++k) {
        const std::int64_t idx = e + k;
        std::uint8_t& b = codes[idx >> 1];
        const auto nib = static_cast<std::uint8_t>(q[k] & 0x0f);
        b = (idx & 1) ? static_cast<std::uint8_t>((b & 0x0f) | (nib << 4))
                      : static_cast<std::uint8_t>((b & 0xf0) | nib);
    }
}

} // namespace

EncodedTensor encodeTensor(TensorQuantizer& qz, const Control& control)
{
    qz.computeScales(control);
    const Format& f = *qz.spec().format;
    EncodedTensor enc;
    enc.format = &f;
    enc.numel = qz.source().numel();
    if (f.ggmlBlock()) // the blocks exactly as a GGUF file stores them, in memory order
        enc.codes.assign(static_cast<std::size_t>(enc.numel / dtypeBlockSize(f.blockType)) *
                             dtypeBlockBytes(f.blockType),
                         0);
    else
        enc.codes.assign(static_cast<std::size_t>((enc.numel * f.bits + 7) / 8), 0);
    if (f.scaled()) {
        const bool group = qz.spec().granularity.kind == Granularity::Kind::Group;
        for (const auto& p : qz.params()) {
            if (group)
                enc.scales16.push_back(f32ToF16(p.scale));
            else
                enc.scales.push_back(p.scale);
            if (f.affine()) enc.zeroPoints.push_back(static_cast<std::uint8_t>(p.zeroPoint));
        }
    }
    const std::int64_t L = qz.source().perChannel();
    control.run(qz.numUnits(), [&](std::int64_t u) {
        float x[kChunk];
        std::int8_t q[kChunk];
        qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            qz.source().read(c, j, n, x);
            const std::int64_t e = c * L + j;
            switch (f.kind) {
            case FormatKind::Float32:
                std::memcpy(enc.codes.data() + e * 4, x, static_cast<std::size_t>(n) * 4);
                return;
            case FormatKind::Float16:
            case FormatKind::BFloat16:
                for (std::int64_t k = 0; k < n; ++k) {
                    const std::uint16_t h =
                        f.kind == FormatKind::Float16 ? f32ToF16(x[k]) : f32ToBf16(x[k]);
                    std::memcpy(enc.codes.data() + (e + k) * 2, &h, 2);
                }
                return;
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
            qz.forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t g) {
                const ScaleParams& p = qz.groupParams(g);
                if (f.affine())
                    quantizeAffine(x + k, m, p, f.qmax, reinterpret_cast<std::uint8_t*>(q + k));
                else
                    quantizeSymmetric(x + k, m, p, f.qmax, q + k);
            });
            if (f.bits == 8)
                std::memcpy(enc.codes.data() + e, q, static_cast<std::size_t>(n));
            else
                pack4(q, e, n, enc.codes.data());
        });
    });
    return enc;
}

void decodeTensor(const EncodedTensor& enc, const TensorQuantizer& layout, float* out,
                  const Control& control)
{
    const Format& f = *enc.format;
    const std::int64_t L = layout.source().perChannel();
    control.run(layout.numUnits(), [&](std::int64_t u) {
        std::int8_t q[kChunk];
        layout.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            const std::int64_t e = c * L + j;
            float* y = out + e;
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
                                 reinterpret_cast<const std::byte*>(enc.codes.data()) +
                                     e / qk * bytes,
                                 n / qk, y);
                return;
            }
            default:
                break;
            }
            if (f.bits == 8) {
                std::memcpy(q, enc.codes.data() + e, static_cast<std::size_t>(n));
            } else {
                for (std::int64_t k = 0; k < n; ++k) {
                    const std::uint8_t b = enc.codes[static_cast<std::size_t>((e + k) >> 1)];
                    const int nib = ((e + k) & 1) ? (b >> 4) : (b & 0x0f);
                    // Symmetric 4-bit codes are two's complement nibbles.
                    q[k] = static_cast<std::int8_t>(f.affine() ? nib : (nib >= 8 ? nib - 16 : nib));
                }
            }
            layout.forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t gi) {
                const auto g = static_cast<std::size_t>(gi);
                ScaleParams p; // from the stored form only, not from the quantizer's parameters
                p.scale = enc.scales16.empty() ? enc.scales[g] : f16ToF32(enc.scales16[g]);
                p.zeroPoint = enc.zeroPoints.empty() ? 0 : enc.zeroPoints[g];
                if (f.affine())
                    dequantizeAffine(reinterpret_cast<const std::uint8_t*>(q + k), m, p, y + k);
                else
                    dequantizeSymmetric(q + k, m, p, y + k);
            });
        });
    });
}

} // namespace qs
