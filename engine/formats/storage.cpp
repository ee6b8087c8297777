#include "formats/storage.h"

namespace qs {

StorageCost storageCost(const TensorInfo& t, const Format& f, const Granularity& g)
{
    StorageCost cost;
    const auto n = static_cast<std::uint64_t>(t.numel());
    if (f.ggmlBlock()) { // scales live inside the blocks
        const auto qk = static_cast<std::uint64_t>(dtypeBlockSize(f.blockType));
        cost.bytes = n / qk * dtypeBlockBytes(f.blockType);
        cost.scaleGroups = static_cast<std::int64_t>(n / qk);
        cost.bitsPerWeight =
            n ? static_cast<double>(cost.bytes) * 8.0 / static_cast<double>(n) : 0.0;
        return cost;
    }
    cost.bytes = (n * static_cast<std::uint64_t>(f.bits) + 7) / 8;
    if (f.scaled() && n > 0) {
        std::int64_t channels = 1;
        const auto axis = static_cast<std::size_t>(t.channelAxis);
        if (g.kind != Granularity::Kind::Tensor && t.channelAxis >= 0 && axis < t.shape.size())
            channels = t.shape[axis];
        const std::int64_t perChannel = static_cast<std::int64_t>(n) / channels;
        std::int64_t groupsPerChannel = 1;
        if (g.kind == Granularity::Kind::Group)
            groupsPerChannel = (perChannel + g.groupSize - 1) / g.groupSize;
        cost.scaleGroups = channels * groupsPerChannel;
        const std::uint64_t scaleBytes = g.kind == Granularity::Kind::Group ? 2 : 4;
        cost.bytes +=
            static_cast<std::uint64_t>(cost.scaleGroups) * (scaleBytes + (f.affine() ? 1 : 0));
    }
    cost.bitsPerWeight = n ? static_cast<double>(cost.bytes) * 8.0 / static_cast<double>(n) : 0.0;
    return cost;
}

} // namespace qs
