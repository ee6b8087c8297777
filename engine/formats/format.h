// The registry of number formats (ggml's type_traits idea): name, family, bits, semantics.
#pragma once

#include "core/dtype.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace qs {

// GgmlBlock: one of llama.cpp's block formats, which carry their own scales inside each block
// along a row (the last axis); the Format's granularity does not apply to them.
enum class FormatKind { Float32, Float16, BFloat16, IntSymmetric, IntAffine, GgmlBlock };

struct Format
{
    std::string_view name;
    std::string_view family; // "float", "int-symmetric", "int-affine", "ggml"
    FormatKind kind;
    int bits; // payload bits per stored code
    int qmax; // largest code magnitude (symmetric) or largest code (affine); 0 for floats
    std::string_view description;
    DType blockType = DType::F32; // the ggml block type (GgmlBlock formats only)
    double blockBits = 0.0;       // GgmlBlock: block bytes * 8 / block size

    // Bits per weight as the format itself stores them: the payload bits, or for ggml block
    // formats everything in the block including its scales (q4_K: 4.5).
    double bitsPerWeight() const
    {
        return kind == FormatKind::GgmlBlock ? blockBits : static_cast<double>(bits);
    }

    bool scaled() const
    {
        return kind == FormatKind::IntSymmetric || kind == FormatKind::IntAffine;
    }
    bool affine() const { return kind == FormatKind::IntAffine; }
    bool ggmlBlock() const { return kind == FormatKind::GgmlBlock; }
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
