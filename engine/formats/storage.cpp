#include "formats/storage.h"

#include <algorithm>

namespace qs {

GroupLayout groupLayout(const TensorInfo& t, const Format& f, const Granularity& g)
{
    GroupLayout l;
    const std::int64_t n = t.numel();
    const auto validAxis = [&](int a) {
        return a >= 0 && static_cast<std::size_t>(a) < t.shape.size() && n > 0;
    };
    std::int64_t group = 0; // 0: the whole channel
    if (f.integer() || f.fp8()) {
        if (g.kind != Granularity::Kind::Tensor && validAxis(t.channelAxis)) l.axis = t.channelAxis;
        if (g.kind == Granularity::Kind::Group) group = g.groupSize;
    } else if (f.kind == FormatKind::Nf4) {
        group = g.kind == Granularity::Kind::Group ? g.groupSize : f.blockSize;
    } else if (f.kind == FormatKind::Mxfp4) {
        if (t.shape.size() >= 2 && validAxis(0)) l.axis = 0;
        group = f.blockSize;
    }
    if (l.axis >= 0) l.channels = t.shape[static_cast<std::size_t>(l.axis)];
    l.perChannel = l.channels > 0 ? n / l.channels : 0;
    l.groupSize = group > 0 ? group : std::max<std::int64_t>(1, l.perChannel);
    l.groupsPerChannel = l.perChannel == 0 ? 0 : (l.perChannel + l.groupSize - 1) / l.groupSize;
    return l;
}

StorageCost storageCost(const TensorInfo& t, const Format& f, const Granularity& g, bool floatZero)
{
    StorageCost cost;
    const auto n = static_cast<std::uint64_t>(t.numel());
    if (f.ggmlBlock()) { // scales live inside the blocks
        const auto qk = static_cast<std::uint64_t>(dtypeBlockSize(f.blockType));
        cost.bytes = n / qk * dtypeBlockBytes(f.blockType);
        cost.scaleGroups = static_cast<std::int64_t>(n / qk);
    } else {
        cost.bytes = (n * static_cast<std::uint64_t>(f.bits) + 7) / 8;
        if (f.scaled() && n > 0) {
            cost.scaleGroups = groupLayout(t, f, g).groups();
            std::uint64_t perGroup = 4; // fp32 scale
            if (f.kind == FormatKind::Mxfp4)
                perGroup = 1;
            else if (f.integer() && g.kind == Granularity::Kind::Group)
                perGroup = 2;
            if (f.affine()) perGroup += floatZero ? 2 : 1;
            cost.bytes += static_cast<std::uint64_t>(cost.scaleGroups) * perGroup;
        }
    }
    cost.bitsPerWeight = n ? static_cast<double>(cost.bytes) * 8.0 / static_cast<double>(n) : 0.0;
    return cost;
}

} // namespace qs
