// How a tensor's values share scales, and how many bytes the tensor takes once quantized.
#pragma once

#include "core/tensor.h"
#include "formats/format.h"

#include <cstdint>

namespace qs {

// Channels are the slices of `axis` (-1: the whole tensor is one channel); each channel is cut
// into groups of `groupSize` consecutive values in the memory order of the remaining axes (the
// last group may be shorter). Formats without scales have one group per channel.
struct GroupLayout
{
    int axis = -1;
    std::int64_t channels = 1, perChannel = 0, groupSize = 1, groupsPerChannel = 0;
    std::int64_t groups() const { return channels * groupsPerChannel; }
};

// integer and fp8 formats: tensor -> one group, channel -> the tensor's channel axis, group:G ->
// groups of G inside each channel; nf4: blocks of G (default 64) over the flattened tensor;
// mxfp4: blocks of 32 inside each slice of the first axis.
GroupLayout groupLayout(const TensorInfo& t, const Format& f, const Granularity& g);

struct StorageCost
{
    std::uint64_t bytes = 0;
    std::int64_t scaleGroups = 0;
    double bitsPerWeight = 0.0;
};

// Bit-packed codes plus, per group: integers an fp32 scale (fp16 for group:G) and an 8-bit zero
// point (affine; an fp16 float zero point with `floatZero`, as HQQ stores it); fp8 and nf4 an
// fp32 scale; mxfp4 one E8M0 byte. ggml block formats take whole blocks (numel / block size *
// block bytes), one scale group each.
StorageCost storageCost(const TensorInfo& t, const Format& f, const Granularity& g,
                        bool floatZero = false);

} // namespace qs
