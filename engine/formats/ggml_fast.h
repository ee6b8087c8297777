// Vectorised encoders and decoders for ggml's block formats, bit-identical to the reference
// ones (ggml_quantize*.cpp, ggml_blocks.cpp), with the instruction set chosen at run time.
#pragma once

#include "core/dtype.h"

#include <cstddef>
#include <cstdint>

namespace qs {

// Instruction-set levels of the fast paths. Sse42 is the build's baseline (x86-64-v2); the
// others run only where the CPU reports them.
enum class GgmlSimd { Sse42, Avx2, Avx512 };

const char* ggmlSimdName(GgmlSimd level);
bool ggmlSimdSupported(GgmlSimd level);
// The best level this CPU runs, and the level in use (the best one unless changed).
GgmlSimd ggmlSimdBest();
GgmlSimd ggmlSimdLevel();
// Selects the level for the whole process (tests compare every level with the reference);
// throws qs::Error when the CPU lacks it. Every level gives the same bytes and values, so
// switching while other threads encode changes only their speed.
void setGgmlSimdLevel(GgmlSimd level);

namespace ggml_detail {
// The fast paths behind quantizeRowGgml and decodeGgmlBlocks: `blocks` whole blocks of type t.
// They return false for a type they do not handle.
bool quantizeBlocksFast(DType t, const float* x, std::int64_t blocks, std::byte* out);
bool decodeBlocksFast(DType t, const std::byte* src, std::int64_t blocks, float* out);
} // namespace ggml_detail

} // namespace qs
