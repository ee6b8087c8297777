// The memory-read baseline for benchmarks: the fastest plain pass over a float array.
#pragma once

#include <cstdint>

namespace qs {

// Sums n floats with several SIMD accumulators (compiled like the engine kernels). Any pass
// over the same data is bounded by this speed; benchmarks report ratios to it.
float sumFloatsBaseline(const float* x, std::int64_t n);

} // namespace qs
