#include "analysis/tensor_quantizer.h"

#include "analysis/simd.h"
#include "core/error.h"
#include "formats/ggml_blocks.h"
#include "formats/ggml_quantize.h"
#include "formats/half.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace qs {
namespace {

int sourceAxis(const TensorInfo& info, const QuantSpec& spec)
{
    if (!spec.format->scaled() || spec.granularity.kind == Granularity::Kind::Tensor) return -1;
    return info.channelAxis;
}

struct RangeStat
{
    float mn = std::numeric_limits<float>::infinity();
    float mx = -std::numeric_limits<float>::infinity();
    // x may be unaligned (it can point straight into a mapped file): loads go through memcpy.
    void add(const void* data, std::int64_t n)
    {
        const auto* x = static_cast<const std::byte*>(data);
        // NaN never wins a comparison, so it is ignored here.
        float a = mn, b = mx;
        std::int64_t i = 0;
        if (n >= 8) {
            simd::v4f lo0 = {a, a, a, a}, lo1 = lo0, hi0 = {b, b, b, b}, hi1 = hi0;
            for (; i + 8 <= n; i += 8) {
                simd::v4f v0, v1;
                std::memcpy(&v0, x + i * 4, 16);
                std::memcpy(&v1, x + i * 4 + 16, 16);
                lo0 = simd::minKeep(v0, lo0);
                lo1 = simd::minKeep(v1, lo1);
                hi0 = simd::maxKeep(v0, hi0);
                hi1 = simd::maxKeep(v1, hi1);
            }
            a = simd::hmin(simd::minKeep(lo0, lo1));
            b = simd::hmax(simd::maxKeep(hi0, hi1));
        }
        for (; i < n; ++i) {
            float v;
            std::memcpy(&v, x + i * 4, 4);
            a = v < a ? v : a;
            b = v > b ? v : b;
        }
        mn = a;
        mx = b;
    }
    void merge(const RangeStat& o)
    {
        mn = std::min(mn, o.mn);
        mx = std::max(mx, o.mx);
    }
};

} // namespace

TensorQuantizer::TensorQuantizer(std::span<const std::byte> data, const TensorInfo& info,
                                 const QuantSpec& spec)
    : m_source(data, info, sourceAxis(info, spec)), m_spec(spec)
{
    if (!spec.format) throw Error("no number format given");
    if (spec.format->ggmlBlock()) {
        // Blocks run along each row; one channel in memory order keeps every chunk (kChunk and
        // kUnit are multiples of 256) made of whole blocks when the rows are.
        const std::int64_t qk = dtypeBlockSize(spec.format->blockType);
        const std::int64_t row = info.shape.empty() ? 1 : info.shape.back();
        if (row % qk != 0)
            throw Error("tensor '" + info.name + "': row length " + std::to_string(row) +
                        " is not a multiple of " + std::string(spec.format->name) + "'s block of " +
                        std::to_string(qk));
    }
    const std::int64_t L = m_source.perChannel();
    m_groupSize = std::max<std::int64_t>(1, L);
    if (spec.format->scaled() && spec.granularity.kind == Granularity::Kind::Group)
        m_groupSize = spec.granularity.groupSize;
    m_groupsPerChannel = L == 0 ? 0 : (L + m_groupSize - 1) / m_groupSize;
}

std::int64_t TensorQuantizer::numUnits() const
{
    return (m_source.numel() + kUnit - 1) / kUnit;
}

void TensorQuantizer::forEachChunk(
    std::int64_t u, const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn) const
{
    const std::int64_t L = m_source.perChannel();
    std::int64_t e = u * kUnit;
    const std::int64_t end = std::min(m_source.numel(), e + kUnit);
    while (e < end) {
        const std::int64_t c = e / L, j = e % L;
        const std::int64_t n = std::min({kChunk, end - e, L - j});
        fn(c, j, n);
        e += n;
    }
}

void TensorQuantizer::computeScales(const Control& control)
{
    const std::int64_t units = numUnits();
    const std::int64_t groups = numGroups();
    // Per unit: the range of the whole unit, and of each group it touches (a contiguous run).
    struct UnitStat
    {
        RangeStat all;
        std::int64_t firstGroup = 0;
        std::vector<RangeStat> groups;
    };
    std::vector<UnitStat> stats(static_cast<std::size_t>(units));
    const bool perGroup = m_spec.format->scaled();
    control.run(units, [&](std::int64_t u) {
        float x[kChunk];
        UnitStat& st = stats[static_cast<std::size_t>(u)];
        st.firstGroup = -1;
        forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            // Float32 runs are scanned in place; other types are converted first.
            const void* values = m_source.directF32(c, j, n);
            if (!values) {
                m_source.read(c, j, n, x);
                values = x;
            }
            if (!perGroup) {
                st.all.add(values, n);
                return;
            }
            forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t g) {
                if (st.firstGroup < 0) st.firstGroup = g;
                const auto local = static_cast<std::size_t>(g - st.firstGroup);
                if (st.groups.size() <= local) st.groups.resize(local + 1);
                st.groups[local].add(static_cast<const std::byte*>(values) + k * 4, m);
            });
        });
        if (control.progress) {
            const std::int64_t n = std::min(kUnit, m_source.numel() - u * kUnit);
            control.progress(m_source.storedBytes(n) / 2);
        }
    });

    RangeStat all;
    std::vector<RangeStat> groupStat(perGroup ? static_cast<std::size_t>(groups) : 0);
    for (const auto& st : stats) {
        all.merge(st.all);
        for (std::size_t k = 0; k < st.groups.size(); ++k) {
            groupStat[static_cast<std::size_t>(st.firstGroup) + k].merge(st.groups[k]);
            all.merge(st.groups[k]);
        }
    }
    const bool finite = all.mn <= all.mx;
    m_min = finite ? all.mn : 0.0f;
    m_max = finite ? all.mx : 0.0f;

    m_params.assign(static_cast<std::size_t>(std::max<std::int64_t>(groups, 0)), ScaleParams{});
    if (!perGroup) return;
    const Format& f = *m_spec.format;
    const bool fp16Scale = m_spec.granularity.kind == Granularity::Kind::Group;
    for (std::size_t g = 0; g < groupStat.size(); ++g) {
        const RangeStat& r = groupStat[g];
        const bool any = r.mn <= r.mx; // false when a group holds only NaN
        const float mn = any ? r.mn : 0.0f, mx = any ? r.mx : 0.0f;
        m_params[g] =
            f.affine() ? affineParams(mn, mx, f.qmax, fp16Scale)
                       : symmetricParams(std::max(std::fabs(mn), std::fabs(mx)), f.qmax, fp16Scale);
    }
}

void TensorQuantizer::roundtrip(std::int64_t c, std::int64_t j, const float* x, std::int64_t n,
                                float* d, float* codes) const
{
    const Format& f = *m_spec.format;
    switch (f.kind) {
    case FormatKind::Float32:
        std::copy(x, x + n, d);
        break;
    case FormatKind::Float16:
        for (std::int64_t i = 0; i < n; ++i)
            d[i] = roundToF16(x[i]);
        break;
    case FormatKind::BFloat16:
        for (std::int64_t i = 0; i < n; ++i)
            d[i] = roundToBf16(x[i]);
        break;
    case FormatKind::GgmlBlock: {
        const DType t = f.blockType;
        const std::int64_t qk = dtypeBlockSize(t);
        if (j % qk != 0 || n % qk != 0)
            throw Error("internal: a chunk splits a " + std::string(f.name) + " block");
        static_assert(kChunk % 256 == 0 && kUnit % 256 == 0);
        // q8_0 has the most bytes per value: 34 per 32.
        std::byte blocks[kChunk / 32 * 34];
        quantizeRowGgml(t, x, n, blocks);
        decodeGgmlBlocks(t, blocks, n / qk, d);
        if (codes) std::fill(codes, codes + n, 0.0f); // codes are not a single grid here
        break;
    }
    case FormatKind::IntSymmetric:
    case FormatKind::IntAffine: {
        float qbuf[kChunk];
        float* q = codes ? codes : qbuf;
        forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t g) {
            const ScaleParams& p = groupParams(g);
            if (f.affine())
                quantizeAffineF(x + k, m, p, f.qmax, q + k);
            else
                quantizeSymmetricF(x + k, m, p, f.qmax, q + k);
            const float s = p.scale, zp = static_cast<float>(p.zeroPoint);
            for (std::int64_t i = k; i < k + m; ++i)
                d[i] = (q[i] - zp) * s;
        });
        break;
    }
    }
}

} // namespace qs
