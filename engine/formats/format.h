// The registry of number formats (ggml's type_traits idea): name, family, bits, semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace qs {

enum class FormatKind { Float32, Float16, BFloat16, IntSymmetric, IntAffine };

struct Format
{
    std::string_view name;
    std::string_view family; // "float", "int-symmetric", "int-affine"
    FormatKind kind;
    int bits; // payload bits per stored code
    int qmax; // largest code magnitude (symmetric) or largest code (affine); 0 for floats
    std::string_view description;

    bool scaled() const
    {
        return kind == FormatKind::IntSymmetric || kind == FormatKind::IntAffine;
    }
    bool affine() const { return kind == FormatKind::IntAffine; }
};

std::span<const Format> formats();
const Format* findFormat(std::string_view name);

// How values share a scale: one per tensor, one per output channel, or groups of G consecutive
// values inside each output channel (in memory order of the remaining axes).
struct Granularity
{
    enum class Kind { Tensor, Channel, Group };
    Kind kind = Kind::Tensor;
    std::int64_t groupSize = 0;

    static std::optional<Granularity>
    parse(std::string_view text); // "tensor", "channel", "group:128"
    std::string toString() const;
    bool operator==(const Granularity&) const = default;
};

} // namespace qs
