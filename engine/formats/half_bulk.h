// Bulk float32 -> binary16 / bfloat16 conversion, bit-identical to f32ToF16 / f32ToBf16.
#pragma once

#include <cstdint>

namespace qs {

// Uses the CPU's F16C conversion (round to nearest even, the same NaN quieting and overflow to
// Inf) when the processor has it, else the portable scalar code; tests check both against
// f32ToF16 over every float32 bit pattern.
void f32ToF16Bulk(const float* x, std::int64_t n, std::uint16_t* h);
void f32ToBf16Bulk(const float* x, std::int64_t n, std::uint16_t* h);

// For tests: the portable paths and whether the F16C path is in use. (bfloat16 takes an AVX2
// path when the CPU has AVX2.)
void f32ToF16BulkPortable(const float* x, std::int64_t n, std::uint16_t* h);
void f32ToBf16BulkPortable(const float* x, std::int64_t n, std::uint16_t* h);
bool f16cAvailable();

} // namespace qs
