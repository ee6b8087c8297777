#include "formats/format.h"

#include <array>
#include <charconv>

namespace qs {
namespace {
constexpr std::array<Format, 7> kFormats{{
    {"fp32", "float", FormatKind::Float32, 32, 0, "IEEE binary32; float32 values are kept exactly"},
    {"fp16", "float", FormatKind::Float16, 16, 0,
     "IEEE binary16, round to nearest even, NaN/Inf preserved, overflow to Inf"},
    {"bf16", "float", FormatKind::BFloat16, 16, 0,
     "bfloat16 (8-bit exponent), round to nearest even"},
    {"int8", "int-symmetric", FormatKind::IntSymmetric, 8, 127,
     "signed symmetric, codes -127..127, s = amax/127, q = clamp(nearbyint(x/s))"},
    {"int4", "int-symmetric", FormatKind::IntSymmetric, 4, 7,
     "signed symmetric, codes -7..7, s = amax/7, q = clamp(nearbyint(x/s))"},
    {"uint8", "int-affine", FormatKind::IntAffine, 8, 255,
     "unsigned affine with zero point, codes 0..255 (PyTorch quint8, MinMax observer)"},
    {"uint4", "int-affine", FormatKind::IntAffine, 4, 15,
     "unsigned affine with zero point, codes 0..15 (MinMax observer)"},
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
