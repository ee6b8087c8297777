// Element types that model files store, with their sizes and names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qs {

enum class DType : std::uint8_t {
    F64,
    F32,
    F16,
    BF16,
    F8_E4M3,
    F8_E5M2,
    I64,
    I32,
    I16,
    I8,
    U8,
    BOOL
};

std::size_t dtypeSize(DType t);
// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...).
std::string_view dtypeName(DType t);
std::optional<DType> dtypeFromName(std::string_view name);
// Floating-point types whose values the engine reads and quantizes.
bool isQuantizable(DType t);

} // namespace qs
