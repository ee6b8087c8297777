#include "analysis/group_params.h"

#include "formats/minifloat.h"
#include "formats/mxfp4.h"

#include <algorithm>
#include <cmath>

namespace qs {

ScaleParams rangeParams(const QuantSpec& spec, float mn, float mx)
{
    const Format& f = *spec.format;
    const float amax = std::max(std::fabs(mn), std::fabs(mx));
    const bool fp16Scale = spec.granularity.kind == Granularity::Kind::Group;
    ScaleParams p;
    switch (f.kind) {
    case FormatKind::IntAffine:
        return affineParams(mn, mx, f.qmax, fp16Scale);
    case FormatKind::IntSymmetric:
        return symmetricParams(amax, f.qmax, fp16Scale);
    case FormatKind::Fp8E4M3:
    case FormatKind::Fp8E5M2:
        p.scale = fp8Scale(f.kind == FormatKind::Fp8E4M3 ? Fp8Kind::E4M3 : Fp8Kind::E5M2, amax);
        p.inv = 1.0f / p.scale;
        return p;
    case FormatKind::Nf4:
        // absmax 0 gives inv = Inf: every value becomes 0 * Inf = NaN, code 7 (level 0.0).
        p.scale = amax;
        p.inv = 1.0f / amax;
        return p;
    case FormatKind::Mxfp4:
        p.scale = e8m0Value(mxfp4ScaleByte(amax));
        p.inv = 1.0f / p.scale; // exact: a power of two in the normal range
        return p;
    default:
        return p;
    }
}

std::uint8_t mxScaleByte(const ScaleParams& p)
{
    return static_cast<std::uint8_t>(std::ilogb(p.scale) + 127);
}

} // namespace qs
