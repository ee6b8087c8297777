// Decoders for ggml's quantized blocks, bit-identical to ggml's dequantize_row_* functions.
#pragma once

#include "core/dtype.h"

#include <cstddef>
#include <cstdint>

namespace qs {

// True for the block types decodeGgmlBlocks handles (Q4_0 ... Q6_K).
bool canDecodeGgmlBlocks(DType t);

// Decodes `blocks` consecutive blocks of type t stored at src (any alignment: bytes are read
// with memcpy) into blocks * dtypeBlockSize(t) floats at out. Throws qs::Error for types it
// cannot decode. Runs the vectorised paths (ggml_fast.h), which give the same values as the
// reference.
void decodeGgmlBlocks(DType t, const std::byte* src, std::int64_t blocks, float* out);
// The scalar reference the fast paths are tested against, ggml's dequantize_row_* operation for
// operation. Same contract as decodeGgmlBlocks.
void decodeGgmlBlocksRef(DType t, const std::byte* src, std::int64_t blocks, float* out);

} // namespace qs
