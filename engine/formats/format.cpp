#include "formats/format.h"

#include <array>
#include <charconv>

namespace qs {
namespace {
constexpr std::array<Format, 31> kFormats{{
    {"fp32", "float", FormatKind::Float32, 32, 0, "IEEE binary32; float32 values are kept exactly"},
    {"fp16", "float", FormatKind::Float16, 16, 0,
     "IEEE binary16, round to nearest even, NaN/Inf preserved, overflow to Inf"},
    {"bf16", "float", FormatKind::BFloat16, 16, 0,
     "bfloat16 (8-bit exponent), round to nearest even"},
    {"fp8_e4m3", "float8", FormatKind::Fp8E4M3, 8, 0,
     "OCP FP8 E4M3FN (max 448, no Inf), s = amax/448 (fp32), x/s to nearest even, saturating"},
    {"fp8_e5m2", "float8", FormatKind::Fp8E5M2, 8, 0,
     "OCP FP8 E5M2 (max 57344), s = amax/57344 (fp32), x/s to nearest even, saturating"},
    {"int8", "int-symmetric", FormatKind::IntSymmetric, 8, 127,
     "signed symmetric, codes -127..127, s = amax/127, q = clamp(nearbyint(x/s))"},
    {"int7", "int-symmetric", FormatKind::IntSymmetric, 7, 63,
     "signed symmetric, codes -63..63, s = amax/63, q = clamp(nearbyint(x/s))"},
    {"int6", "int-symmetric", FormatKind::IntSymmetric, 6, 31,
     "signed symmetric, codes -31..31, s = amax/31, q = clamp(nearbyint(x/s))"},
    {"int5", "int-symmetric", FormatKind::IntSymmetric, 5, 15,
     "signed symmetric, codes -15..15, s = amax/15, q = clamp(nearbyint(x/s))"},
    {"int4", "int-symmetric", FormatKind::IntSymmetric, 4, 7,
     "signed symmetric, codes -7..7, s = amax/7, q = clamp(nearbyint(x/s))"},
    {"int3", "int-symmetric", FormatKind::IntSymmetric, 3, 3,
     "signed symmetric, codes -3..3, s = amax/3, q = clamp(nearbyint(x/s))"},
    {"int2", "int-symmetric", FormatKind::IntSymmetric, 2, 1,
     "signed symmetric, codes -1..1, s = amax/1, q = clamp(nearbyint(x/s))"},
    {"uint8", "int-affine", FormatKind::IntAffine, 8, 255,
     "unsigned affine with zero point, codes 0..255 (PyTorch quint8, MinMax observer)"},
    {"uint7", "int-affine", FormatKind::IntAffine, 7, 127,
     "unsigned affine with zero point, codes 0..127 (MinMax observer)"},
    {"uint6", "int-affine", FormatKind::IntAffine, 6, 63,
     "unsigned affine with zero point, codes 0..63 (MinMax observer)"},
    {"uint5", "int-affine", FormatKind::IntAffine, 5, 31,
     "unsigned affine with zero point, codes 0..31 (MinMax observer)"},
    {"uint4", "int-affine", FormatKind::IntAffine, 4, 15,
     "unsigned affine with zero point, codes 0..15 (MinMax observer)"},
    {"uint3", "int-affine", FormatKind::IntAffine, 3, 7,
     "unsigned affine with zero point, codes 0..7 (MinMax observer)"},
    {"uint2", "int-affine", FormatKind::IntAffine, 2, 3,
     "unsigned affine with zero point, codes 0..3 (MinMax observer)"},
    {"nf4", "normalfloat", FormatKind::Nf4, 4, 0,
     "bitsandbytes NF4: 16 normal-quantile levels, fp32 absmax per block of 64 (group:G)",
     DType::F32, 4.5, 64},
    {"mxfp4", "microscaling", FormatKind::Mxfp4, 4, 0,
     "OCP MXFP4: FP4 E2M1 elements, one E8M0 power-of-two scale per block of 32", DType::F32, 4.25,
     32},
    // llama.cpp's block formats, bit-exact with ggml's quantize_row_*_ref (no importance matrix).
    {"q8_0", "ggml", FormatKind::GgmlBlock, 8, 0,
     "ggml q8_0: blocks of 32 along each row, fp16 scale, 8-bit codes (roundf)", DType::Q8_0, 8.5},
    {"q4_0", "ggml", FormatKind::GgmlBlock, 4, 0,
     "ggml q4_0: blocks of 32 along each row, fp16 scale, 4-bit codes", DType::Q4_0, 4.5},
    {"q4_1", "ggml", FormatKind::GgmlBlock, 4, 0,
     "ggml q4_1: blocks of 32 along each row, fp16 scale and minimum, 4-bit codes", DType::Q4_1,
     5.0},
    {"q5_0", "ggml", FormatKind::GgmlBlock, 5, 0,
     "ggml q5_0: blocks of 32 along each row, fp16 scale, 5-bit codes", DType::Q5_0, 5.5},
    {"q5_1", "ggml", FormatKind::GgmlBlock, 5, 0,
     "ggml q5_1: blocks of 32 along each row, fp16 scale and minimum, 5-bit codes", DType::Q5_1,
     6.0},
    {"q2_K", "ggml", FormatKind::GgmlBlock, 2, 0,
     "ggml q2_K: super-blocks of 256 along each row, 4-bit scales and mins per 16, 2-bit codes",
     DType::Q2_K, 2.625},
    {"q3_K", "ggml", FormatKind::GgmlBlock, 3, 0,
     "ggml q3_K: super-blocks of 256 along each row, 6-bit scales per 16, 3-bit codes", DType::Q3_K,
     3.4375},
    {"q4_K", "ggml", FormatKind::GgmlBlock, 4, 0,
     "ggml q4_K: super-blocks of 256 along each row, 6-bit scales and mins per 32, 4-bit codes",
     DType::Q4_K, 4.5},
    {"q5_K", "ggml", FormatKind::GgmlBlock, 5, 0,
     "ggml q5_K: super-blocks of 256 along each row, 6-bit scales and mins per 32, 5-bit codes",
     DType::Q5_K, 5.5},
    {"q6_K", "ggml", FormatKind::GgmlBlock, 6, 0,
     "ggml q6_K: super-blocks of 256 along each row, 8-bit scales per 16, 6-bit codes", DType::Q6_K,
     6.5625},
}};
} // namespace

std::span<const Format> formats()
{
    return kFormats;
}

const Format* findFormat(std::string_view name)
{
    for (const auto& f : kFormats)
        if (f.name == name) return &f;
    return nullptr;
}

std::optional<Granularity> Granularity::parse(std::string_view text)
{
    if (text == "tensor") return Granularity{Kind::Tensor, 0};
    if (text == "channel") return Granularity{Kind::Channel, 0};
    constexpr std::string_view prefix = "group:";
    if (text.substr(0, prefix.size()) == prefix) {
        const auto num = text.substr(prefix.size());
        std::int64_t g = 0;
        const auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), g);
        if (ec == std::errc() && p == num.data() + num.size() && g > 0)
            return Granularity{Kind::Group, g};
    }
    return std::nullopt;
}

std::string Granularity::toString() const
{
    switch (kind) {
    case Kind::Tensor:
        return "tensor";
    case Kind::Channel:
        return "channel";
    case Kind::Group:
        return "group:" + std::to_string(groupSize);
    }
    return {};
}

} // namespace qs
