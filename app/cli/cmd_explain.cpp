// `explain`: one value as every element format stores it, bit by bit (the number explorer).
#include "cli.h"
#include "core/error.h"
#include "teach/explain.h"

#include <charconv>
#include <cstdio>

namespace qs::cli {
namespace {

// The whole text must be a number; from_chars also takes "inf" and "nan", which the explorer
// shows as the formats store them.
std::optional<double> parseDouble(const std::string& text)
{
    double v = 0.0;
    const char* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc() || p != end || text.empty()) return std::nullopt;
    return v;
}

ExplainRange parseRange(const std::string& text)
{
    const auto comma = text.find(',');
    const auto lo = comma == std::string::npos ? std::nullopt : parseDouble(text.substr(0, comma));
    const auto hi = comma == std::string::npos ? std::nullopt : parseDouble(text.substr(comma + 1));
    if (!lo || !hi)
        throw UsageError("--range needs LO,HI, two numbers such as -1,1; not '" + text + "'");
    return {*lo, *hi};
}

const char* kindName(BitField::Kind k)
{
    switch (k) {
    case BitField::Kind::Sign:
        return "sign";
    case BitField::Kind::Exponent:
        return "exponent";
    case BitField::Kind::Mantissa:
        return "mantissa";
    case BitField::Kind::Integer:
        return "integer";
    }
    return "";
}

// Shortest text that reads back as the same double, so exact values stay exact (0.87646484375).
std::string shortest(double v)
{
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

Json rowJson(const ExplainedFormat& f)
{
    Json fields = Json::array();
    for (const auto& b : f.fields)
        fields.push_back({{"kind", kindName(b.kind)}, {"width", b.width}});
    Json j = {{"name", f.name},
              {"bits", f.bits},
              {"code", f.code},
              {"decoded", number(f.decoded)},
              {"abs_error", number(f.absError)},
              {"rel_error", number(f.relError)},
              {"fields", fields},
              {"below", number(f.below)},
              {"above", number(f.above)},
              {"out_of_range", f.outOfRange}};
    if (f.mapping) {
        const IntegerMapping& m = *f.mapping;
        j["scheme"] = m.affine ? "affine" : "symmetric";
        j["scale"] = number(m.scale);
        j["zero_point"] = m.zeroPoint;
        j["code_range"] = {m.qmin, m.qmax};
        j["scale_range"] = {number(m.rangeLo), number(m.rangeHi)};
        j["unrounded"] = number(m.unrounded);
    }
    return j;
}

void printText(const Explanation& e)
{
    const std::string value = shortest(e.value);
    std::printf("%s as each format stores it (integers against range [%s, %s], %s)\n\n",
                value.c_str(), shortest(e.range.lo).c_str(), shortest(e.range.hi).c_str(),
                e.range.symmetric() ? "symmetric" : "affine");
    std::printf("%-9s %-35s %11s  %-22s %-10s %-10s\n", "format", "bits", "code", "decoded",
                "abs error", "rel error");
    for (const auto& f : e.formats) {
        char code[24];
        if (f.mapping)
            std::snprintf(code, sizeof code, "%lld", static_cast<long long>(f.code));
        else
            std::snprintf(code, sizeof code, "0x%llx", static_cast<unsigned long long>(f.code));
        std::printf("%-9s %-35s %11s  %-22s %-10.3g %-10.3g%s\n", f.name.c_str(), f.bits.c_str(),
                    code, shortest(f.decoded).c_str(), f.absError, f.relError,
                    f.outOfRange ? "  (beyond its range)" : "");
    }
    std::printf("\nFloating formats are cast directly (no scale): nearest, ties to even; fp16 and "
                "bf16 overflow to Inf, the fp8 and fp4 formats saturate at their largest value.\n");
    for (const auto& f : e.formats) {
        if (!f.mapping) continue;
        const IntegerMapping& m = *f.mapping;
        const auto code = static_cast<long long>(f.code);
        if (m.affine)
            std::printf("%s: affine, s = (%s - %s) / %d = %.9g, zero point z = %d; x / s + z = "
                        "%.6g rounds to code %lld, decoded (%lld - z) * s\n",
                        f.name.c_str(), shortest(m.rangeHi).c_str(), shortest(m.rangeLo).c_str(),
                        m.qmax, m.scale, m.zeroPoint, m.unrounded, code, code);
        else
            std::printf("%s: symmetric, s = %s / %d = %.9g; x / s = %.6g rounds to code %lld, "
                        "decoded %lld * s\n",
                        f.name.c_str(), shortest(m.rangeHi).c_str(), m.qmax, m.scale, m.unrounded,
                        code, code);
    }
}

} // namespace

int cmdExplain(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json"}, {"range"});
    if (args.positionals().size() != 1) throw UsageError("explain takes exactly one VALUE");
    const std::string& text = args.positionals().front();
    const auto value = parseDouble(text);
    if (!value) throw UsageError("VALUE must be a number such as 0.87654321, not '" + text + "'");
    ExplainRange range;
    if (const auto r = args.option("range")) range = parseRange(*r);
    Explanation e;
    try {
        e = explainValue(*value, range);
    } catch (const Error& err) {
        throw UsageError(std::string("--range: ") +
                         err.what()); // the range came from the command line
    }
    if (args.flag("json")) {
        Json formats = Json::array();
        for (const auto& f : e.formats)
            formats.push_back(rowJson(f));
        printJson({{"value", e.value},
                   {"range", {{"lo", e.range.lo}, {"hi", e.range.hi}}},
                   {"formats", formats}});
        return Ok;
    }
    printText(e);
    return Ok;
}

} // namespace qs::cli
