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
// Fp8*: OCP 8-bit floats scaled by amax / max per tensor, channel or group (fp32 scales).
// Mxfp4: OCP MX blocks of 32 (E8M0 scale, FP4 E2M1 elements) along each slice of the first axis.
// Nf4: bitsandbytes' 4-bit NormalFloat, absmax blocks over the flattened tensor.
enum class FormatKind {
    Float32,
    Float16,
    BFloat16,
    IntSymmetric,
    IntAffine,
    GgmlBlock,
    Fp8E4M3,
    Fp8E5M2,
    Mxfp4,
    Nf4
};

struct Format
{
    std::string_view name;
    std::string_view family; // "float", "int-symmetric", "int-affine", "ggml"
    FormatKind kind;
    int bits; // payload bits per stored code
    int qmax; // largest code magnitude (symmetric) or largest code (affine); 0 for floats
    std::string_view description;
    DType blockType = DType::F32; // the ggml block type (GgmlBlock formats only)
    double blockBits = 0.0;       // block formats: bits per weight including the block scale
    std::int64_t blockSize = 0;   // Mxfp4, Nf4: values per scale (Nf4: the default, group:G)

    // Bits per weight as the format itself stores them: the payload bits, or for block formats
    // everything in the block including its scales (q4_K: 4.5). Formats whose scale overhead
    // depends on the granularity (integers, fp8) count it in storageCost().
    double bitsPerWeight() const { return blockBits > 0.0 ? blockBits : static_cast<double>(bits); }

    bool integer() const
    {
        return kind == FormatKind::IntSymmetric || kind == FormatKind::IntAffine;
    }
    bool fp8() const { return kind == FormatKind::Fp8E4M3 || kind == FormatKind::Fp8E5M2; }
    // Values share a scale computed from their range in a first pass (one ScaleParams per
    // group): the integer, fp8, mxfp4 and nf4 formats.
    bool scaled() const
    {
        return integer() || fp8() || kind == FormatKind::Mxfp4 || kind == FormatKind::Nf4;
    }
    // The user's granularity choice applies (tensor, channel, group:G; nf4: group:G only).
    bool takesGranularity() const { return integer() || fp8() || kind == FormatKind::Nf4; }
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
