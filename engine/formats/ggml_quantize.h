// Encoders for ggml's quantized blocks, bit-identical to ggml's quantize_row_*_ref functions.
#pragma once

#include "core/dtype.h"

#include <cstddef>
#include <cstdint>

namespace qs {

// True for the block types quantizeRowGgml handles (Q8_0, Q4_0 ... Q5_1, Q2_K ... Q6_K).
bool canQuantizeGgml(DType t);

// Quantizes n floats (a whole number of dtypeBlockSize(type) blocks) into n / blockSize blocks of
// dtypeBlockBytes(type) bytes at out, exactly as ggml's reference quantizer (no importance
// matrix) stores them. out may be unaligned. Throws qs::Error for other types or a partial
// block. Runs the vectorised paths (ggml_fast.h), which give the same bytes as the reference.
void quantizeRowGgml(DType type, const float* x, std::int64_t n, std::byte* out);
// The scalar reference the fast paths are tested against: ggml's quantize_row_*_ref, operation
// for operation. Same contract as quantizeRowGgml.
void quantizeRowGgmlRef(DType type, const float* x, std::int64_t n, std::byte* out);

namespace ggml_detail {
// ggml's rounding helpers and the K-quant encoders (ggml_quantize_k.cpp), one super-block each.
int nearestInt(float v);
void quantizeBlockQ2K(const float* x, std::byte* out);
void quantizeBlockQ3K(const float* x, std::byte* out);
void quantizeBlockQ4K(const float* x, std::byte* out);
void quantizeBlockQ5K(const float* x, std::byte* out);
void quantizeBlockQ6K(const float* x, std::byte* out);
} // namespace ggml_detail

} // namespace qs
