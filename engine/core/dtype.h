// Element types that model files store, with their block geometry and names.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace qs {

// Plain types hold one value per element. Block types (ggml's quantized types) pack a fixed
// number of values into a fixed number of bytes, so sizes are only defined per whole block.
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
    BOOL,
    // ggml block types QuantScope decodes (dequantize_row_* semantics).
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    // Any other ggml type (IQ*, TQ*, MXFP4, ...): listed with its ggml name (TensorInfo::
    // storedType) and byte size, but not decoded. Its geometry depends on the ggml type, so
    // dtypeBlockSize/dtypeBlockBytes report 0 for it.
    GgmlOther
};

// Bytes per block; for plain types (one element per block) the bytes per element.
std::size_t dtypeSize(DType t);
// Elements per block: 1 for plain types, 32 or 256 for ggml block types, 0 for GgmlOther.
std::int64_t dtypeBlockSize(DType t);
std::size_t dtypeBlockBytes(DType t);
bool isBlockType(DType t); // dtypeBlockSize(t) != 1
// Bytes that numel elements occupy; nullopt when numel is negative, not a whole number of
// blocks, the type has no fixed geometry (GgmlOther) or the size overflows.
std::optional<std::uint64_t> dtypeStorageBytes(DType t, std::int64_t numel);
// The safetensors spelling ("F32", "BF16", "F8_E4M3", ...); ggml's for block types ("q4_K").
std::string_view dtypeName(DType t);
// Plain types by their safetensors spelling only: no safetensors file stores block types.
std::optional<DType> dtypeFromName(std::string_view name);
// Types whose values the engine reads as floats and quantizes (including the decodable
// ggml block types).
bool isQuantizable(DType t);

} // namespace qs
