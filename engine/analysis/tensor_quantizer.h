// Quantizes one tensor under a spec: scale groups, their parameters, and the value round trip.
#pragma once

#include "analysis/executor.h"
#include "analysis/tensor_source.h"
#include "formats/calibration.h"
#include "formats/format.h"
#include "formats/int_quant.h"
#include "formats/minifloat.h"
#include "formats/storage.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

namespace qs {

enum class Rounding { Nearest, Stochastic };
std::optional<Rounding> parseRounding(std::string_view text); // "nearest", "stochastic"
const char* roundingName(Rounding r);

struct QuantSpec
{
    QuantSpec() = default;
    QuantSpec(const Format* f, const Granularity& g) : format(f), granularity(g) {}

    const Format* format = nullptr;
    Granularity granularity;
    Calibration calibration;               // integer formats; others use their own scale rule
    Rounding rounding = Rounding::Nearest; // integer formats
    std::uint64_t seed = 0;                // stochastic rounding

    // The HQQ variant stores an fp16 real zero point per group instead of an 8-bit one.
    bool floatZero() const
    {
        return format && format->affine() && calibration.method == Calibration::Method::Hqq;
    }
};

// The parameters of the scale groups one work unit touches, with what the unit's own values
// add to the tensor-wide statistics (TensorQuantizer::scalesOfUnit).
struct UnitScales
{
    std::int64_t firstGroup = 0;
    std::vector<ScaleParams> params; // of groups firstGroup, firstGroup + 1, ...
    // The unit's finite range (min > max when it has none), its NaN and infinite values, and
    // its groups whose calibrated parameters replaced min-max's.
    float min = std::numeric_limits<float>::infinity();
    float max = -std::numeric_limits<float>::infinity();
    std::int64_t nans = 0, infs = 0, calibrated = 0;

    const ScaleParams& operator[](std::int64_t g) const
    {
        return params[static_cast<std::size_t>(g - firstGroup)];
    }
};

// Splits the tensor's logical index space into fixed work units (independent of the thread
// count), computes each scale group's parameters (pass 1), then maps values to the values the
// quantized model computes with (pass 2, per chunk).
class TensorQuantizer
{
public:
    static constexpr std::int64_t kChunk = 2048;                 // values converted at once
    static constexpr std::int64_t kUnit = std::int64_t{1} << 18; // values per work unit
    // The largest group that streamed scales allow across a unit boundary.
    static constexpr std::int64_t kStreamedGroup = kUnit / 32;
    // Up to this many groups (some 64 MiB of statistics) analysis keeps rather than streams.
    static constexpr std::int64_t kKeptGroups = std::int64_t{1} << 20;

    TensorQuantizer(std::span<const std::byte> data, const TensorInfo& info, const QuantSpec& spec);

    const TensorSource& source() const { return m_source; }
    const QuantSpec& spec() const { return m_spec; }
    std::int64_t groupSize() const { return m_groupSize; }
    std::int64_t groupsPerChannel() const { return m_groupsPerChannel; }
    std::int64_t numGroups() const { return m_source.channels() * m_groupsPerChannel; }
    std::int64_t numUnits() const;

    // Pass 1: value range of the tensor and every group's scale (and zero point).
    void computeScales(const Control& control);
    // Encoding can instead find the scales unit by unit, right before quantizing the unit,
    // while its values are still in cache: possible when every scale group lies inside one work
    // unit and the scales come from the range alone (no calibration pass). Then
    // beginUnitScales() once, and unitScales(u) for each unit before using its groups' params;
    // the tensor-wide range and NaN/Inf counts are not computed on this path.
    bool scalesPerUnit() const;
    void beginUnitScales();
    void unitScales(std::int64_t u, const Control& control);
    // Analysis need not hold every group's parameters either. When canStreamScales() (several
    // work units; groups each inside one unit or of at most kStreamedGroup values; any
    // calibration), computeStatsByUnit() can replace computeScales(): it finds the range,
    // NaN/Inf counts, calibrated groups and largest scale unit by unit and keeps no group's
    // parameters (params() stays empty), so memory follows the units in flight instead of the
    // number of groups (about 64 bytes a group otherwise: 1 GB for nf4 on 10^9 values). Each
    // unit's parameters are then found again, identical, by scalesOfUnit(u) right before its
    // pass 2, and handed to roundtrip(). That scans each unit twice and calibrates each group
    // twice (pass 2's error bins need the largest calibrated scale first), so streamsScales(),
    // the analysis' choice, streams only tensors of more than kKeptGroups groups.
    bool canStreamScales() const;
    bool streamsScales() const;
    void computeStatsByUnit(const Control& control);
    UnitScales scalesOfUnit(std::int64_t u, const Control& control) const;
    float minValue() const { return m_min; }
    float maxValue() const { return m_max; }
    // NaN and infinite values seen by computeScales or computeStatsByUnit (not part of the
    // range or any scale).
    std::int64_t nanCount() const { return m_nanCount; }
    std::int64_t infCount() const { return m_infCount; }
    const std::vector<ScaleParams>& params() const { return m_params; }
    // The largest group scale (0 without groups), after computeScales or computeStatsByUnit.
    float maxScale() const { return m_maxScale; }
    // Groups whose calibrated parameters replaced min-max's (0 under minmax).
    std::int64_t calibratedGroups() const { return m_calibratedGroups; }
    const ScaleParams& groupParams(std::int64_t g) const
    {
        return m_params[static_cast<std::size_t>(g)];
    }

    // Calls fn(c, j, n) for each chunk of unit u: n <= kChunk values of channel c from j.
    void
    forEachChunk(std::int64_t u,
                 const std::function<void(std::int64_t, std::int64_t, std::int64_t)>& fn) const;

    // Calls fn(k, m, g) for the runs [k, k+m) of a chunk (channel c, from j, n values) that
    // share scale group g.
    template <typename F>
    void forEachGroupRun(std::int64_t c, std::int64_t j, std::int64_t n, F&& fn) const
    {
        for (std::int64_t k = 0; k < n;) {
            const std::int64_t stop = std::min(n, ((j + k) / m_groupSize + 1) * m_groupSize - j);
            fn(k, stop - k, c * m_groupsPerChannel + (j + k) / m_groupSize);
            k = stop;
        }
    }

    // Pass 2 on one chunk: d = dequantize(quantize(x)); the codes (as floats) are written too
    // when `codes` is not null. The groups' parameters come from `scales` (the chunk's unit's,
    // from scalesOfUnit) when given, else from params().
    void roundtrip(std::int64_t c, std::int64_t j, const float* x, std::int64_t n, float* d,
                   float* codes, const UnitScales* scales = nullptr) const;

    // Integer codes (as floats) of n values of one group whose first logical index is `first`
    // (stochastic rounding draws from it), with the spec's rounding and zero point.
    void integerCodes(const float* x, std::int64_t n, const ScaleParams& p, std::int64_t first,
                      float* q) const;
    // fp8, nf4 and mxfp4 codes (one per byte) of n values of one group.
    void elementCodes(const float* x, std::int64_t n, const ScaleParams& p,
                      std::uint8_t* codes) const;

private:
    TensorSource m_source;
    QuantSpec m_spec;
    std::int64_t m_groupSize = 1, m_groupsPerChannel = 0;
    float m_min = 0, m_max = 0;
    std::int64_t m_nanCount = 0, m_infCount = 0, m_calibratedGroups = 0;
    float m_maxScale = 0;
    bool calibrates() const;
    bool groupsWithinUnits() const;
    void calibrate(const Control& control);
    bool calibrateOne(std::int64_t g, std::vector<float>& x, ScaleParams& p) const;
    std::vector<ScaleParams> m_params;
};

inline StorageCost storageCost(const TensorInfo& t, const QuantSpec& spec)
{
    return storageCost(t, *spec.format, spec.granularity, spec.floatZero());
}

// The values of fp8, nf4 and mxfp4 codes of one group (the inverse of elementCodes).
void decodeElements(const Format& f, const std::uint8_t* codes, std::int64_t n,
                    const ScaleParams& p, float* y);

inline Fp8Kind fp8Kind(const Format& f)
{
    return f.kind == FormatKind::Fp8E4M3 ? Fp8Kind::E4M3 : Fp8Kind::E5M2;
}

} // namespace qs
