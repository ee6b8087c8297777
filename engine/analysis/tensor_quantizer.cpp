#include "analysis/tensor_quantizer.h"

#include "analysis/group_params.h"
#include "core/error.h"
#include "core/simd.h"
#include "formats/ggml_blocks.h"
#include "formats/ggml_quantize.h"
#include "formats/half.h"
#include "formats/half_bulk.h"
#include "formats/minifloat.h"
#include "formats/mxfp4.h"
#include "formats/nf4.h"
#include "formats/stochastic.h"
#include "formats/storage.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace qs {
namespace {

GroupLayout checkedLayout(const TensorInfo& info, const QuantSpec& spec)
{
    if (!spec.format) throw Error("no number format given");
    return groupLayout(info, *spec.format, spec.granularity);
}

// Range of the finite values, and how many values are NaN or infinite. Non-finite values take
// no part in any scale: Inf saturates to the largest code, NaN quantizes to 0.
struct RangeStat
{
    float mn = std::numeric_limits<float>::infinity();
    float mx = -std::numeric_limits<float>::infinity();
    std::int64_t nans = 0, infs = 0;
    // x may be unaligned (it can point straight into a mapped file): loads go through memcpy.
    // The vector loop assumes finite values and only notes whether it met a NaN or an
    // infinity (a NaN never compares less or greater, an infinity shows in the range); a run
    // that holds one is scanned again by the exact scalar loop, which counts and skips them.
    void add(const void* data, std::int64_t n)
    {
        using simd::v4f, simd::v4i;
        constexpr float inf = std::numeric_limits<float>::infinity();
        const auto* x = static_cast<const std::byte*>(data);
        float a = mn, b = mx;
        std::int64_t i = 0;
        if (n >= 8) {
            v4f lo0 = {a, a, a, a}, lo1 = lo0, hi0 = {b, b, b, b}, hi1 = hi0;
            v4i nan = {};
            for (; i + 8 <= n; i += 8) {
                v4f v0, v1;
                std::memcpy(&v0, x + i * 4, 16);
                std::memcpy(&v1, x + i * 4 + 16, 16);
                nan |= (v0 != v0) | (v1 != v1);
                lo0 = simd::minKeep(v0, lo0);
                lo1 = simd::minKeep(v1, lo1);
                hi0 = simd::maxKeep(v0, hi0);
                hi1 = simd::maxKeep(v1, hi1);
            }
            a = simd::hmin(simd::minKeep(lo0, lo1));
            b = simd::hmax(simd::maxKeep(hi0, hi1));
            if ((nan[0] | nan[1] | nan[2] | nan[3]) || a == -inf || b == inf) {
                addExact(x, n);
                return;
            }
        }
        for (; i < n; ++i) {
            float v;
            std::memcpy(&v, x + i * 4, 4);
            if (!(std::fabs(v) < inf)) {
                addExact(x, n); // restarts from the state before this call
                return;
            }
            a = v < a ? v : a;
            b = v > b ? v : b;
        }
        mn = a;
        mx = b;
    }
    void addExact(const std::byte* x, std::int64_t n)
    {
        constexpr float inf = std::numeric_limits<float>::infinity();
        for (std::int64_t i = 0; i < n; ++i) {
            float v;
            std::memcpy(&v, x + i * 4, 4);
            if (!(std::fabs(v) < inf)) {
                ++(v != v ? nans : infs);
                continue;
            }
            mn = v < mn ? v : mn;
            mx = v > mx ? v : mx;
        }
    }
    void merge(const RangeStat& o)
    {
        mn = std::min(mn, o.mn);
        mx = std::max(mx, o.mx);
        nans += o.nans;
        infs += o.infs;
    }
};

// The range of one work unit's values (perGroup false), or of each scale group it touches, a
// contiguous run of groups from firstGroup (perGroup true).
struct UnitRanges
{
    RangeStat all;
    std::int64_t firstGroup = -1;
    std::vector<RangeStat> groups;
};

UnitRanges rangesOfUnit(const TensorQuantizer& qz, std::int64_t u, const Control& control,
                        bool perGroup)
{
    UnitRanges r;
    float x[TensorQuantizer::kChunk];
    qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
        control.checkCancelled();
        // Float32 runs are scanned in place; other types are converted first.
        const void* values = qz.source().directF32(c, j, n);
        if (!values) {
            qz.source().read(c, j, n, x);
            values = x;
        }
        if (!perGroup) {
            r.all.add(values, n);
            return;
        }
        qz.forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t g) {
            if (r.firstGroup < 0) r.firstGroup = g;
            const auto local = static_cast<std::size_t>(g - r.firstGroup);
            if (r.groups.size() <= local) r.groups.resize(local + 1);
            r.groups[local].add(static_cast<const std::byte*>(values) + k * 4, m);
        });
    });
    return r;
}

// The range of values [a, b) of channel c that lie in work unit u, added in the runs
// rangesOfUnit(u) adds them in (cut where u's chunks are cut): the same RangeStat, bit for bit.
RangeStat rangeOfPiece(const TensorQuantizer& qz, std::int64_t u, std::int64_t a, std::int64_t b,
                       const Control& control)
{
    constexpr std::int64_t kChunk = TensorQuantizer::kChunk;
    const std::int64_t L = qz.source().perChannel(), c = a / L;
    const std::int64_t start = std::max(u * TensorQuantizer::kUnit, c * L); // a chunk starts here
    RangeStat r;
    float x[kChunk];
    for (std::int64_t e = a; e < b;) {
        control.checkCancelled();
        const std::int64_t next = std::min(b, start + ((e - start) / kChunk + 1) * kChunk);
        const std::int64_t n = next - e, j = e - c * L;
        const void* values = qz.source().directF32(c, j, n);
        if (!values) {
            qz.source().read(c, j, n, x);
            values = x;
        }
        r.add(values, n);
        e = next;
    }
    return r;
}

} // namespace

std::optional<Rounding> parseRounding(std::string_view text)
{
    if (text == "nearest") return Rounding::Nearest;
    if (text == "stochastic") return Rounding::Stochastic;
    return std::nullopt;
}

const char* roundingName(Rounding r)
{
    return r == Rounding::Stochastic ? "stochastic" : "nearest";
}

TensorQuantizer::TensorQuantizer(std::span<const std::byte> data, const TensorInfo& info,
                                 const QuantSpec& spec)
    : m_source(data, info, checkedLayout(info, spec).axis), m_spec(spec)
{
    const GroupLayout layout = checkedLayout(info, spec);
    if (spec.floatZero() && spec.rounding == Rounding::Stochastic)
        throw Error("tensor '" + info.name +
                    "': hqq calibration rounds to nearest and cannot be combined with "
                    "stochastic rounding");
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
    m_groupSize = layout.groupSize;
    m_groupsPerChannel = layout.groupsPerChannel;
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

bool TensorQuantizer::calibrates() const
{
    const Format& f = *m_spec.format;
    const Calibration& cal = m_spec.calibration;
    return f.integer() && cal.method != Calibration::Method::MinMax && cal.appliesTo(f.affine());
}

bool TensorQuantizer::groupsWithinUnits() const
{
    const std::int64_t L = m_source.perChannel();
    if (L == 0) return false;
    for (std::int64_t u = 1; u < numUnits(); ++u)
        if ((u * kUnit) % L % m_groupSize != 0) return false; // a unit starts inside a group
    return true;
}

bool TensorQuantizer::scalesPerUnit() const
{
    return m_spec.format->scaled() && !calibrates() && groupsWithinUnits();
}

// A tensor of one unit has nothing to save (its groups are the unit's), and keeps params() for
// the callers that show its scales. Groups that cross a unit boundary are read again by both
// units (see scalesOfUnit): allowed while that costs at most a few percent of a unit.
bool TensorQuantizer::canStreamScales() const
{
    return m_spec.format->scaled() && numUnits() > 1 &&
           (m_groupSize <= kStreamedGroup || groupsWithinUnits());
}

// Streaming scans each unit's range a second time (analysis: about 7% slower) and calibrates
// every group twice; below kKeptGroups, keeping the groups is worth its memory.
bool TensorQuantizer::streamsScales() const
{
    return canStreamScales() && numGroups() > kKeptGroups;
}

void TensorQuantizer::beginUnitScales()
{
    m_params.assign(static_cast<std::size_t>(std::max<std::int64_t>(numGroups(), 0)),
                    ScaleParams{});
    m_calibratedGroups = m_nanCount = m_infCount = 0;
    m_min = m_max = m_maxScale = 0.0f;
}

void TensorQuantizer::unitScales(std::int64_t u, const Control& control)
{
    const UnitRanges r = rangesOfUnit(*this, u, control, true);
    // Each of these groups lies wholly in this unit (scalesPerUnit), so its range is complete
    // and no other unit writes its entry.
    for (std::size_t k = 0; k < r.groups.size(); ++k) {
        const RangeStat& g = r.groups[k];
        const bool any = g.mn <= g.mx;
        m_params[static_cast<std::size_t>(r.firstGroup) + k] =
            rangeParams(m_spec, any ? g.mn : 0.0f, any ? g.mx : 0.0f);
    }
}

UnitScales TensorQuantizer::scalesOfUnit(std::int64_t u, const Control& control) const
{
    // The same scan and the same parameter rules as computeScales, so the parameters are
    // bit-identical. A group that crosses into the previous or the next unit gets the range
    // of its piece there added, in unit order as computeScales merges it; the unit's own
    // statistics count only its own pieces, and its calibrated groups only those that start
    // in it, so that merging the units counts every value and group once.
    const UnitRanges r = rangesOfUnit(*this, u, control, true);
    const std::int64_t L = m_source.perChannel();
    const std::int64_t first = u * kUnit, end = std::min(m_source.numel(), first + kUnit);
    UnitScales s;
    s.firstGroup = r.firstGroup;
    s.params.resize(r.groups.size());
    RangeStat all;
    std::int64_t ownFirst = 0; // params[ownFirst...] are of groups that start in this unit
    for (std::size_t k = 0; k < r.groups.size(); ++k) {
        all.merge(r.groups[k]);
        const std::int64_t g = r.firstGroup + static_cast<std::int64_t>(k);
        const std::int64_t c = g / m_groupsPerChannel, j = (g % m_groupsPerChannel) * m_groupSize;
        const std::int64_t a = c * L + j, b = c * L + std::min(j + m_groupSize, L);
        RangeStat whole;
        if (a < first) {
            whole.merge(rangeOfPiece(*this, u - 1, a, first, control));
            ownFirst = 1;
        }
        whole.merge(r.groups[k]);
        if (b > end) whole.merge(rangeOfPiece(*this, u + 1, end, b, control));
        const bool any = whole.mn <= whole.mx;
        s.params[k] = rangeParams(m_spec, any ? whole.mn : 0.0f, any ? whole.mx : 0.0f);
    }
    s.min = all.mn;
    s.max = all.mx;
    s.nans = all.nans;
    s.infs = all.infs;
    if (calibrates()) {
        std::vector<float> x;
        for (std::size_t k = 0; k < s.params.size(); ++k) {
            control.checkCancelled();
            if (calibrateOne(s.firstGroup + static_cast<std::int64_t>(k), x, s.params[k]) &&
                static_cast<std::int64_t>(k) >= ownFirst)
                ++s.calibrated;
        }
    }
    return s;
}

void TensorQuantizer::computeStatsByUnit(const Control& control)
{
    if (!canStreamScales()) throw Error("internal: this tensor's scales cannot be streamed");
    struct UnitStat
    {
        RangeStat range;
        std::int64_t calibrated = 0;
        float maxScale = 0;
    };
    const std::int64_t units = numUnits();
    std::vector<UnitStat> stats(static_cast<std::size_t>(units));
    control.run(units, [&](std::int64_t u) {
        const UnitScales s = scalesOfUnit(u, control);
        UnitStat& st = stats[static_cast<std::size_t>(u)];
        st.range = RangeStat{s.min, s.max, s.nans, s.infs};
        st.calibrated = s.calibrated;
        for (const ScaleParams& p : s.params)
            st.maxScale = std::max(st.maxScale, p.scale);
        if (control.progress) {
            const std::int64_t n = std::min(kUnit, m_source.numel() - u * kUnit);
            control.progress(m_source.storedBytes(n) / 2);
        }
    });
    // In unit order, as computeScales merges: the same extremes (down to the sign of a zero)
    // for any thread count.
    RangeStat all;
    m_calibratedGroups = 0;
    m_maxScale = 0.0f;
    for (const UnitStat& st : stats) {
        all.merge(st.range);
        m_calibratedGroups += st.calibrated;
        m_maxScale = std::max(m_maxScale, st.maxScale);
    }
    const bool finite = all.mn <= all.mx;
    m_nanCount = all.nans;
    m_infCount = all.infs;
    m_min = finite ? all.mn : 0.0f;
    m_max = finite ? all.mx : 0.0f;
    std::vector<ScaleParams>().swap(m_params);
}

void TensorQuantizer::computeScales(const Control& control)
{
    const std::int64_t units = numUnits();
    const std::int64_t groups = numGroups();
    std::vector<UnitRanges> stats(static_cast<std::size_t>(units));
    const bool perGroup = m_spec.format->scaled();
    control.run(units, [&](std::int64_t u) {
        stats[static_cast<std::size_t>(u)] = rangesOfUnit(*this, u, control, perGroup);
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
    m_nanCount = all.nans;
    m_infCount = all.infs;
    m_min = finite ? all.mn : 0.0f;
    m_max = finite ? all.mx : 0.0f;

    m_params.assign(static_cast<std::size_t>(std::max<std::int64_t>(groups, 0)), ScaleParams{});
    m_calibratedGroups = 0;
    m_maxScale = 0.0f;
    if (!perGroup) return;
    for (std::size_t g = 0; g < groupStat.size(); ++g) {
        const RangeStat& r = groupStat[g];
        const bool any = r.mn <= r.mx; // false when a group holds no finite value
        m_params[g] = rangeParams(m_spec, any ? r.mn : 0.0f, any ? r.mx : 0.0f);
    }
    if (calibrates()) calibrate(control);
    for (const ScaleParams& p : m_params)
        m_maxScale = std::max(m_maxScale, p.scale);
}

void TensorQuantizer::calibrate(const Control& control)
{
    // A second pass reads each group whole (calibration looks at all its values together);
    // tasks take about kUnit values' worth of groups so that small groups are batched.
    const std::int64_t groups = numGroups();
    const std::int64_t batch = std::max<std::int64_t>(1, kUnit / m_groupSize);
    std::vector<char> changed(static_cast<std::size_t>(groups), 0);
    control.run((groups + batch - 1) / batch, [&](std::int64_t b) {
        std::vector<float> x;
        for (std::int64_t g = b * batch; g < std::min(groups, (b + 1) * batch); ++g) {
            control.checkCancelled();
            if (calibrateOne(g, x, m_params[static_cast<std::size_t>(g)]))
                changed[static_cast<std::size_t>(g)] = 1;
        }
    });
    m_calibratedGroups = std::count(changed.begin(), changed.end(), 1);
}

// Replaces p by group g's calibrated parameters when calibration changes them (true); x is
// scratch space for the group's values.
bool TensorQuantizer::calibrateOne(std::int64_t g, std::vector<float>& x, ScaleParams& p) const
{
    const Format& f = *m_spec.format;
    const bool fp16Scale = m_spec.granularity.kind == Granularity::Kind::Group;
    const std::int64_t L = m_source.perChannel();
    const std::int64_t c = g / m_groupsPerChannel;
    const std::int64_t j = (g % m_groupsPerChannel) * m_groupSize;
    const std::int64_t n = std::min(m_groupSize, L - j);
    x.resize(static_cast<std::size_t>(std::min(m_groupSize, L)));
    for (std::int64_t k = 0; k < n; k += kChunk)
        m_source.read(c, j + k, std::min(kChunk, n - k), x.data() + k);
    const CalibratedGroup r =
        calibrateGroup(m_spec.calibration, x.data(), n, f.qmax, f.affine(), fp16Scale);
    if (r.changed) p = r.params;
    return r.changed;
}

void TensorQuantizer::roundtrip(std::int64_t c, std::int64_t j, const float* x, std::int64_t n,
                                float* d, float* codes, const UnitScales* scales) const
{
    const Format& f = *m_spec.format;
    switch (f.kind) {
    case FormatKind::Float32:
        std::copy(x, x + n, d);
        break;
    case FormatKind::Float16: {
        std::uint16_t h[kChunk];
        f32ToF16Bulk(x, n, h);
        for (std::int64_t i = 0; i < n; ++i)
            d[i] = f16ToF32(h[i]);
    } break;
    case FormatKind::BFloat16: {
        std::uint16_t h[kChunk];
        f32ToBf16Bulk(x, n, h);
        for (std::int64_t i = 0; i < n; ++i)
            d[i] = bf16ToF32(h[i]);
    } break;
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
    default: { // integer, fp8, nf4, mxfp4: per scale group
        std::uint8_t cbuf[kChunk];
        float qbuf[kChunk];
        float* q = codes ? codes : qbuf;
        forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t g) {
            const ScaleParams& p = scales ? (*scales)[g] : groupParams(g);
            if (f.integer()) {
                integerCodes(x + k, m, p, c * m_source.perChannel() + j + k, q + k);
                const float s = p.scale, zp = zeroValue(p);
                for (std::int64_t i = k; i < k + m; ++i)
                    d[i] = (q[i] - zp) * s;
                return;
            }
            elementCodes(x + k, m, p, cbuf + k);
            decodeElements(f, cbuf + k, m, p, d + k);
            if (codes)
                for (std::int64_t i = k; i < k + m; ++i)
                    codes[i] = cbuf[i];
        });
        break;
    }
    }
}

void TensorQuantizer::integerCodes(const float* x, std::int64_t n, const ScaleParams& p,
                                   std::int64_t first, float* q) const
{
    const Format& f = *m_spec.format;
    if (p.floatZero)
        quantizeAffineFloatZeroF(x, n, p, f.qmax, q);
    else if (m_spec.rounding == Rounding::Stochastic && f.affine())
        quantizeAffineStochasticF(x, n, p, f.qmax, m_spec.seed, first, q);
    else if (m_spec.rounding == Rounding::Stochastic)
        quantizeSymmetricStochasticF(x, n, p, f.qmax, m_spec.seed, first, q);
    else if (f.affine())
        quantizeAffineF(x, n, p, f.qmax, q);
    else
        quantizeSymmetricF(x, n, p, f.qmax, q);
}

void TensorQuantizer::elementCodes(const float* x, std::int64_t n, const ScaleParams& p,
                                   std::uint8_t* codes) const
{
    const Format& f = *m_spec.format;
    switch (f.kind) {
    case FormatKind::Fp8E4M3:
    case FormatKind::Fp8E5M2:
        fp8Quantize(fp8Kind(f), x, n, p.scale, codes);
        return;
    case FormatKind::Nf4:
    case FormatKind::Mxfp4: {
        // nf4: x * (1 / absmax) as bitsandbytes; mxfp4: x / X, exact since X is a power of two.
        float y[kChunk];
        for (std::int64_t i = 0; i < n; ++i)
            y[i] = x[i] * p.inv;
        if (f.kind == FormatKind::Nf4)
            nf4Encode(y, n, codes);
        else
            fp4e2m1Encode(y, n, codes);
        return;
    }
    default:
        throw Error("internal: " + std::string(f.name) + " has no element codes");
    }
}

void decodeElements(const Format& f, const std::uint8_t* codes, std::int64_t n,
                    const ScaleParams& p, float* y)
{
    switch (f.kind) {
    case FormatKind::Fp8E4M3:
    case FormatKind::Fp8E5M2:
        fp8Dequantize(fp8Kind(f), codes, n, p.scale, y);
        return;
    case FormatKind::Nf4:
        nf4DequantizeBlock(codes, n, p.scale, y);
        return;
    case FormatKind::Mxfp4:
        mxfp4DequantizeBlock(codes, n, mxScaleByte(p), y);
        return;
    default:
        throw Error("internal: " + std::string(f.name) + " has no element codes");
    }
}

} // namespace qs
