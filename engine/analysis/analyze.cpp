#include "analysis/analyze.h"

#include "core/simd.h"
#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace qs {
namespace {

constexpr std::int64_t kChunk = TensorQuantizer::kChunk;

struct Binner
{
    float lo, scale, top;
    Binner(double l, double h, int bins)
        : lo(static_cast<float>(l)), scale(static_cast<float>(bins / (h - l))),
          top(static_cast<float>(bins - 1))
    {
    }
    // NaN lands in bin 0 (0 < NaN is false); out-of-range values in the edge bins.
    float index(float v) const
    {
        float t = (v - lo) * scale;
        t = t < top ? t : top;
        return 0.0f < t ? t : 0.0f;
    }
    simd::v4f index(simd::v4f v) const
    {
        const simd::v4f l = {lo, lo, lo, lo}, s = {scale, scale, scale, scale},
                        t4 = {top, top, top, top};
        const simd::v4f zero = {};
        simd::v4f t = (v - l) * s;
        t = t < t4 ? t : t4;
        return zero < t ? t : zero;
    }
};

// Half the spacing of the quantization grid at the largest value: errors beyond it exist only
// where values are clipped, and land in the edge bins.
double errorBound(const TensorQuantizer& qz)
{
    const double amax = std::max(std::fabs(static_cast<double>(qz.minValue())),
                                 std::fabs(static_cast<double>(qz.maxValue())));
    double bound = 0.0;
    switch (qz.spec().format->kind) {
    case FormatKind::Float32:
        bound = amax * 0x1p-24;
        break; // only F64 sources lose anything
    case FormatKind::Float16:
        bound = std::max(amax * 0x1p-11, 0x1p-25);
        break;
    case FormatKind::BFloat16:
        bound = std::max(amax * 0x1p-8, 0x1p-134);
        break;
    case FormatKind::GgmlBlock:
        // Block scales vary; a block's largest value sets its step to about amax / 2^(b-1).
        bound = std::ldexp(amax, -qz.spec().format->bits);
        break;
    case FormatKind::IntSymmetric:
    case FormatKind::IntAffine:
        bound = 0.5 * static_cast<double>(qz.maxScale());
        break;
    // The largest rounding error is half the spacing in the top binade (relative to amax).
    case FormatKind::Fp8E4M3:
        bound = std::ldexp(amax, -4);
        break;
    case FormatKind::Fp8E5M2:
        bound = std::ldexp(amax, -3);
        break;
    case FormatKind::Nf4: // the widest gap between levels is 1 - 0.7230
        bound = amax * 0.139;
        break;
    case FormatKind::Mxfp4: // x / X reaches up to 8 but saturates at 6
        bound = amax * 0.5;
        break;
    }
    if (!(bound > 0.0) || !std::isfinite(bound)) bound = std::max(amax, 1.0) * 1e-7;
    return bound * (1.0 + 1.0 / 64);
}

struct UnitResult
{
    ErrorSums sums;
    std::vector<std::uint64_t> orig, deq, err;
};

// Everything the analysis measures, accumulated over one work unit in a single fused pass.
// Sums are kept in double, in an order fixed by the chunking (never by the threads), so every
// run gives identical results.
class UnitAccumulator
{
public:
    UnitAccumulator(const Binner& values, const Binner& errors, std::size_t bins)
        : m_values(values), m_errors(errors), m_nb(bins), m_counts(3 * bins, 0)
    {
    }

    // One run of values sharing a scale: originals x, dequantized d; `inv` (1/scale) weighs
    // the error for rmse/scale.
    void add(const float* x, const float* d, std::int64_t n, double inv)
    {
        using namespace simd;
        // A unit holds at most 2^18 values, so 32-bit counters cannot overflow.
        std::uint32_t* ho = m_counts.data();
        std::uint32_t* hd = ho + m_nb;
        std::uint32_t* he = hd + m_nb;
        // Four accumulators of two lanes per sum hide the latency of the double additions.
        v2d w2[4] = {}, e2[4] = {}, we[4] = {};
        std::int64_t i = 0;
        // NaN and infinite originals take no part in the sums: both values become 0 (and the
        // zero bins they land in are corrected in finish()).
        constexpr float inf = std::numeric_limits<float>::infinity();
        const v4f infv = {inf, inf, inf, inf}, zero = {};
        for (; i + 8 <= n; i += 8) {
            for (int h = 0; h < 2; ++h) {
                const v4f x0 = load(x + i + 4 * h), d0 = load(d + i + 4 * h);
                const v4i fin = simd::abs(x0) < infv;
                m_bad += ~fin;
                const v4f xv = fin ? x0 : zero, dv = fin ? d0 : zero, ev = xv - dv;
                const v2d wl = lowToDouble(xv), wh = highToDouble(xv);
                const v2d el = lowToDouble(ev), eh = highToDouble(ev);
                w2[2 * h] += wl * wl;
                w2[2 * h + 1] += wh * wh;
                e2[2 * h] += el * el;
                e2[2 * h + 1] += eh * eh;
                we[2 * h] += wl * el;
                we[2 * h + 1] += wh * eh;
                m_maxe = maxKeep(simd::abs(ev), m_maxe);
                const v4i bx = toInt(m_values.index(xv)), bd = toInt(m_values.index(dv));
                const v4i be = toInt(m_errors.index(ev));
                for (int l = 0; l < 4; ++l) {
                    ++ho[static_cast<std::size_t>(bx[l])];
                    ++hd[static_cast<std::size_t>(bd[l])];
                    ++he[static_cast<std::size_t>(be[l])];
                }
            }
        }
        double sw2 = hsum((w2[0] + w2[1]) + (w2[2] + w2[3]));
        double se2 = hsum((e2[0] + e2[1]) + (e2[2] + e2[3]));
        double swe = hsum((we[0] + we[1]) + (we[2] + we[3]));
        float maxe = 0.0f;
        for (; i < n; ++i) {
            const bool fin = std::fabs(x[i]) < inf;
            m_tailBad += fin ? 0 : 1;
            const float xi = fin ? x[i] : 0.0f, di = fin ? d[i] : 0.0f;
            const float ef = xi - di;
            const double w = xi, e = ef;
            sw2 += w * w;
            se2 += e * e;
            swe += w * e;
            const float ae = std::fabs(ef);
            maxe = ae > maxe ? ae : maxe;
            ++ho[static_cast<std::size_t>(m_values.index(xi))];
            ++hd[static_cast<std::size_t>(m_values.index(di))];
            ++he[static_cast<std::size_t>(m_errors.index(ef))];
        }
        m_sumW2 += sw2;
        m_sumE2 += se2;
        m_sumWE += swe;
        m_sumScaledE2 += se2 * inv * inv;
        m_tailMax = std::max(m_tailMax, maxe);
        m_count += static_cast<std::uint64_t>(n);
    }

    UnitResult finish(bool scaled) const
    {
        const std::uint64_t bad =
            m_tailBad -
            static_cast<std::uint64_t>(std::int64_t{m_bad[0]} + m_bad[1] + m_bad[2] + m_bad[3]);
        UnitResult r;
        r.sums.scaled = scaled;
        r.sums.count = m_count - bad;
        r.sums.sumW2 = m_sumW2;
        r.sums.sumE2 = m_sumE2;
        // With e = w - d: sum(d^2) = sum(w^2) - 2 sum(we) + sum(e^2), sum(wd) = sum(w^2) - sum(we).
        r.sums.sumD2 = m_sumW2 - 2.0 * m_sumWE + m_sumE2;
        r.sums.sumWD = m_sumW2 - m_sumWE;
        r.sums.sumScaledE2 = m_sumScaledE2;
        r.sums.maxAbsError = std::max(simd::hmax(m_maxe), m_tailMax);
        r.orig.assign(m_counts.begin(), m_counts.begin() + static_cast<std::ptrdiff_t>(m_nb));
        r.deq.assign(m_counts.begin() + static_cast<std::ptrdiff_t>(m_nb),
                     m_counts.begin() + static_cast<std::ptrdiff_t>(2 * m_nb));
        r.err.assign(m_counts.begin() + static_cast<std::ptrdiff_t>(2 * m_nb), m_counts.end());
        const auto zb = static_cast<std::size_t>(m_values.index(0.0f));
        r.orig[zb] -= bad;
        r.deq[zb] -= bad;
        r.err[static_cast<std::size_t>(m_errors.index(0.0f))] -= bad;
        return r;
    }

private:
    using v4i = simd::v4i;
    static v4i toInt(simd::v4f v) { return __builtin_convertvector(v, v4i); }

    const Binner& m_values;
    const Binner& m_errors;
    std::size_t m_nb;
    std::vector<std::uint32_t> m_counts;
    double m_sumW2 = 0, m_sumE2 = 0, m_sumWE = 0, m_sumScaledE2 = 0;
    simd::v4f m_maxe = {};
    float m_tailMax = 0.0f;
    std::uint64_t m_count = 0;
    v4i m_bad = {};              // -1 per non-finite original in the vector loop
    std::uint64_t m_tailBad = 0; // non-finite originals in the scalar tails
};

} // namespace

TensorAnalysis analyzeTensor(TensorQuantizer& qz, const Control& control, int bins)
{
    // The bins need the tensor's range (and largest scale) before pass 2; the groups'
    // parameters are kept for the whole tensor only when they cannot be found unit by unit.
    const bool stream = qz.streamsScales();
    if (stream)
        qz.computeStatsByUnit(control);
    else
        qz.computeScales(control);
    TensorAnalysis r;
    r.minValue = qz.minValue();
    r.maxValue = qz.maxValue();
    r.scaleGroups = qz.spec().format->scaled() ? qz.numGroups() : 0;
    r.calibratedGroups = qz.calibratedGroups();
    r.nanCount = qz.nanCount();
    r.infCount = qz.infCount();
    double lo = r.minValue, hi = r.maxValue;
    if (!(hi > lo)) { // constant tensor: a unit-wide window around the value
        const double pad = std::max(std::fabs(lo) * 0.5, 0.5);
        lo -= pad;
        hi += pad;
    }
    const double ebound = errorBound(qz);
    const Binner valueBins(lo, hi, bins), errorBins(-ebound, ebound, bins);
    // Groups of values share a scale; for integer formats rmse/scale is reported.
    const bool scaled = qz.spec().format->scaled();
    const bool integer = qz.spec().format->integer();

    const std::int64_t units = qz.numUnits();
    std::vector<UnitResult> partial(static_cast<std::size_t>(units));
    const std::size_t nb = static_cast<std::size_t>(bins);
    control.run(units, [&](std::int64_t u) {
        UnitAccumulator acc(valueBins, errorBins, nb);
        const UnitScales unitScales = stream ? qz.scalesOfUnit(u, control) : UnitScales{};
        const UnitScales* scales = stream ? &unitScales : nullptr;
        float xbuf[kChunk], d[kChunk];
        std::uint64_t bytes = 0;
        qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            const float* x = qz.source().view(c, j, n, xbuf);
            bytes += qz.source().storedBytes(n);
            qz.roundtrip(c, j, x, n, d, nullptr, scales);
            if (!scaled) {
                acc.add(x, d, n, 0.0);
                return;
            }
            qz.forEachGroupRun(c, j, n, [&](std::int64_t k, std::int64_t m, std::int64_t g) {
                const ScaleParams& p = scales ? (*scales)[g] : qz.groupParams(g);
                acc.add(x + k, d + k, m, integer ? static_cast<double>(p.inv) : 0.0);
            });
        });
        partial[static_cast<std::size_t>(u)] = acc.finish(integer);
        if (control.progress) control.progress(bytes - bytes / 2);
    });

    r.original = {lo, hi, std::vector<std::uint64_t>(nb, 0)};
    r.dequantized = {lo, hi, std::vector<std::uint64_t>(nb, 0)};
    r.error = {-ebound, ebound, std::vector<std::uint64_t>(nb, 0)};
    r.sums.scaled = integer;
    for (const auto& ur : partial) { // fixed unit order: identical sums for any thread count
        r.sums.merge(ur.sums);
        for (std::size_t b = 0; b < nb; ++b) {
            r.original.counts[b] += ur.orig[b];
            r.dequantized.counts[b] += ur.deq[b];
            r.error.counts[b] += ur.err[b];
        }
    }
    if (integer && qz.params().size() == 1) {
        const auto& p = qz.params().front();
        const int qmax = qz.spec().format->qmax;
        const int qlo = qz.spec().format->affine() ? 0 : -qmax;
        r.scale = p.scale;
        r.clipLow = dequantizeCode(qlo, p);
        r.clipHigh = dequantizeCode(qmax, p);
    }
    return r;
}

void dequantizeTensor(TensorQuantizer& qz, float* out, const Control& control)
{
    qz.computeScales(control);
    control.run(qz.numUnits(), [&](std::int64_t u) {
        float x[kChunk], d[kChunk];
        std::uint64_t bytes = 0;
        qz.forEachChunk(u, [&](std::int64_t c, std::int64_t j, std::int64_t n) {
            control.checkCancelled();
            qz.source().read(c, j, n, x);
            qz.roundtrip(c, j, x, n, d, nullptr);
            for (std::int64_t k = 0; k < n; ++k)
                out[qz.source().memoryIndex(c, j + k)] = d[k];
            bytes += qz.source().storedBytes(n);
        });
        if (control.progress) control.progress(bytes - bytes / 2);
    });
}

} // namespace qs
