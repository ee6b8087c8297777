// ggml's tensor types as GGUF files number them: name, block geometry, and how QuantScope reads
// them.
#pragma once

#include "core/dtype.h"

#include <cstdint>
#include <string_view>

namespace qs {

struct GgmlType
{
    std::uint32_t id;       // ggml_type value stored in GGUF tensor infos
    std::string_view name;  // exactly as ggml's type_traits spell it ("q4_K", "iq2_xxs")
    std::int64_t blockSize; // elements per block
    std::uint32_t blockBytes;
    DType dtype; // DType::GgmlOther for the types QuantScope cannot decode yet
};

// The type with that id, or null for ids ggml never assigned or has removed from GGUF.
const GgmlType* ggmlType(std::uint32_t id);
// The name of a type ggml used to have under that id ("q4_0_4_4"), empty when there was none.
std::string_view ggmlRemovedTypeName(std::uint32_t id);

} // namespace qs
