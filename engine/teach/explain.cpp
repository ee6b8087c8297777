#include "teach/explain.h"

#include "core/error.h"
#include "formats/half.h"
#include "formats/int_quant.h"
#include "formats/minifloat.h"
#include "formats/mxfp4.h"

#include <bit>
#include <cmath>
#include <limits>
#include <sstream>

namespace qs {
namespace {

// A sign-exponent-mantissa format as the explorer needs it: field widths, the codec, and the
// magnitude code of the largest finite value. Codes of finite magnitudes grow with the value in
// all of them, which is what the neighbour search below relies on.
struct FloatCodec
{
    const char* name;
    int expBits, mantBits;
    std::uint32_t maxFiniteMagnitude;
    std::uint32_t (*encode)(float);
    double (*decode)(std::uint32_t);

    std::uint32_t signBit() const { return 1u << (expBits + mantBits); }
};

const FloatCodec kFloatCodecs[] = {
    {"fp32", 8, 23, 0x7f7fffffu, [](float x) { return std::bit_cast<std::uint32_t>(x); },
     [](std::uint32_t c) { return double(std::bit_cast<float>(c)); }},
    {"fp16", 5, 10, 0x7bffu, [](float x) { return std::uint32_t(f32ToF16(x)); },
     [](std::uint32_t c) { return double(f16ToF32(static_cast<std::uint16_t>(c))); }},
    {"bf16", 8, 7, 0x7f7fu, [](float x) { return std::uint32_t(f32ToBf16(x)); },
     [](std::uint32_t c) { return double(bf16ToF32(static_cast<std::uint16_t>(c))); }},
    {"fp8_e4m3", 4, 3, 0x7eu, [](float x) { return std::uint32_t(fp8EncodeRef(Fp8Kind::E4M3, x)); },
     [](std::uint32_t c) {
         return double(fp8Decode(Fp8Kind::E4M3, static_cast<std::uint8_t>(c)));
     }},
    {"fp8_e5m2", 5, 2, 0x7bu, [](float x) { return std::uint32_t(fp8EncodeRef(Fp8Kind::E5M2, x)); },
     [](std::uint32_t c) {
         return double(fp8Decode(Fp8Kind::E5M2, static_cast<std::uint8_t>(c)));
     }},
    {"fp4_e2m1", 2, 1, 7u, [](float x) { return std::uint32_t(fp4e2m1EncodeRef(x)); },
     [](std::uint32_t c) { return double(fp4e2m1Decode(static_cast<std::uint8_t>(c))); }},
};

std::string bitString(std::uint64_t code, const std::vector<BitField>& fields)
{
    int total = 0;
    for (const auto& f : fields)
        total += f.width;
    std::string out;
    int pos = total;
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) out.push_back(' ');
        for (int b = 0; b < fields[i].width; ++b) {
            --pos;
            out.push_back(((code >> pos) & 1u) ? '1' : '0');
        }
    }
    return out;
}

void setErrors(ExplainedFormat& row, double value)
{
    row.absError = std::fabs(row.decoded - value);
    if (row.absError == 0.0)
        row.relError = 0.0;
    else
        row.relError = value == 0.0 ? std::numeric_limits<double>::infinity()
                                    : row.absError / std::fabs(value);
}

ExplainedFormat explainFloat(const FloatCodec& c, float x, double value)
{
    ExplainedFormat row;
    row.name = c.name;
    row.family = "float";
    row.fields = {{BitField::Kind::Sign, 1},
                  {BitField::Kind::Exponent, c.expBits},
                  {BitField::Kind::Mantissa, c.mantBits}};
    const std::uint32_t code = c.encode(x);
    row.code = code;
    row.bits = bitString(code, row.fields);
    row.decoded = c.decode(code);
    setErrors(row, value);

    const std::uint32_t sign = code & c.signBit();
    const std::uint32_t mag = code & (c.signBit() - 1u);
    const auto at = [&](std::uint32_t s, std::uint32_t m) { return c.decode(s | m); };
    if (std::isnan(row.decoded)) return row;
    if (mag > c.maxFiniteMagnitude) { // an infinity: only the largest finite value lies beside it
        if (sign)
            row.above = at(sign, c.maxFiniteMagnitude);
        else
            row.below = at(0, c.maxFiniteMagnitude);
    } else if (mag == 0) { // +-0: the smallest subnormals of either sign
        row.below = at(c.signBit(), 1);
        row.above = at(0, 1);
    } else {
        // Away from zero is the next magnitude code, towards zero the previous one.
        const std::optional<double> outward =
            mag < c.maxFiniteMagnitude ? std::optional<double>(at(sign, mag + 1)) : std::nullopt;
        const double inward = at(sign, mag - 1);
        row.below = sign ? outward : std::optional<double>(inward);
        row.above = sign ? std::optional<double>(inward) : outward;
    }
    const double maxFinite = at(0, c.maxFiniteMagnitude);
    row.outOfRange = std::isfinite(value) && std::fabs(value) > maxFinite;
    return row;
}

ExplainedFormat explainInteger(int bits, float x, double value, const ExplainRange& range)
{
    const bool affine = !range.symmetric();
    ExplainedFormat row;
    row.name = affine ? "uint" : "int";
    row.name += std::to_string(bits);
    row.family = affine ? "int-affine" : "int-symmetric";
    row.fields = {{BitField::Kind::Integer, bits}};

    IntegerMapping m;
    m.affine = affine;
    m.qmax = affine ? (1 << bits) - 1 : (1 << (bits - 1)) - 1;
    m.qmin = affine ? 0 : -m.qmax;
    const float lo = static_cast<float>(range.lo), hi = static_cast<float>(range.hi);
    // Per-tensor scales are float32 in the engine (fp16 only for groups), so no fp16 rounding.
    const ScaleParams p =
        affine ? affineParams(lo, hi, m.qmax, false) : symmetricParams(hi, m.qmax, false);
    const int q = affine ? quantizeAffineRef(x, p, m.qmax) : quantizeSymmetricRef(x, p, m.qmax);
    m.rangeLo = affine ? std::min(double(lo), 0.0) : -double(hi);
    m.rangeHi = affine ? std::max(double(hi), 0.0) : double(hi);
    m.scale = p.scale;
    m.zeroPoint = p.zeroPoint;
    m.unrounded = double(x * p.inv) + p.zeroPoint; // the float32 product the kernels round

    row.code = q;
    // Two's complement of the code in `bits` bits; unsigned codes are their own bits.
    row.bits = bitString(static_cast<std::uint64_t>(q) & ((1u << bits) - 1u), row.fields);
    row.decoded = dequantizeCode(q, p);
    setErrors(row, value);
    if (q > m.qmin) row.below = double(dequantizeCode(q - 1, p));
    if (q < m.qmax) row.above = double(dequantizeCode(q + 1, p));
    // Rounding never lands more than half a step outside the grid, so a value beyond the end
    // codes by more than that was clamped.
    const double lowest = dequantizeCode(m.qmin, p), highest = dequantizeCode(m.qmax, p);
    const double half = 0.5 * double(p.scale);
    row.outOfRange = !std::isnan(value) && (value < lowest - half || value > highest + half);
    row.mapping = m;
    return row;
}

std::string describe(const ExplainRange& r)
{
    std::ostringstream s;
    s.precision(17);
    s << "range [" << r.lo << ", " << r.hi << "]";
    return s.str();
}

} // namespace

void checkExplainRange(const ExplainRange& range)
{
    constexpr double kFloatMax = std::numeric_limits<float>::max();
    if (!std::isfinite(range.lo) || !std::isfinite(range.hi))
        throw Error(describe(range) + ": both ends must be finite numbers");
    if (std::fabs(range.lo) > kFloatMax || std::fabs(range.hi) > kFloatMax)
        throw Error(describe(range) + ": the ends must fit in float32 (|x| <= 3.4e38)");
    if (!(range.lo < range.hi))
        throw Error(describe(range) + ": the low end must be below the high end");
}

Explanation explainValue(double value, const ExplainRange& range)
{
    checkExplainRange(range);
    Explanation e;
    e.value = value;
    e.range = range;
    const float x = static_cast<float>(value);
    for (const auto& codec : kFloatCodecs)
        e.formats.push_back(explainFloat(codec, x, value));
    e.formats.push_back(explainInteger(8, x, value, range));
    e.formats.push_back(explainInteger(4, x, value, range));
    return e;
}

} // namespace qs
