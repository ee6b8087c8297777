// How many bytes a tensor takes once quantized: bit-packed codes plus scales and zero points.
#pragma once

#include "core/tensor.h"
#include "formats/format.h"

#include <cstdint>

namespace qs {

struct StorageCost
{
    std::uint64_t bytes = 0;
    std::int64_t scaleGroups = 0;
    double bitsPerWeight = 0.0;
};

// Scales are fp32 per tensor or channel and fp16 per group; zero points take 8 bits each.
// ggml block formats take whole blocks (numel / block size * block bytes), one scale group each.
StorageCost storageCost(const TensorInfo& t, const Format& f, const Granularity& g);

} // namespace qs
