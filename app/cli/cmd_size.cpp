// `size`: what a model of N parameters weighs in each format, and which common memory holds it.
#include "cli.h"
#include "core/error.h"
#include "teach/size_table.h"

#include <cmath>
#include <cstdio>

namespace qs::cli {
namespace {

// Whole numbers as JSON integers (32, 120000000000), fractions as they are (4.5, 3.0078125).
Json exact(double v)
{
    if (std::nearbyint(v) == v && std::fabs(v) < 9e15) return Json(static_cast<std::int64_t>(v));
    return number(v);
}

// The smallest GPU and the smallest RAM size among those that fit.
std::string fitsIn(const std::vector<MemoryBudget>& fits)
{
    std::string gpu, ram;
    for (const auto& b : fits) {
        std::string& slot = b.kind == MemoryBudget::Kind::Gpu ? gpu : ram;
        if (slot.empty()) slot = b.label();
    }
    if (gpu.empty() && ram.empty()) return "none listed";
    if (gpu.empty() || ram.empty()) return gpu.empty() ? ram : gpu;
    gpu += ", ";
    gpu += ram;
    return gpu;
}

} // namespace

int cmdSize(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json"}, {"params"});
    if (!args.positionals().empty())
        throw UsageError("size takes no positional arguments; use --params N");
    const auto text = args.option("params");
    if (!text) throw UsageError("size needs --params N (e.g. 7B, 1.5M, 30e9)");
    std::int64_t params = 0;
    try {
        params = parseParamCount(*text);
    } catch (const Error& e) {
        throw UsageError(std::string("--params: ") + e.what());
    }
    const SizeTable table = sizeTable(params);

    if (args.flag("json")) {
        Json formats = Json::array();
        for (const auto& r : table.rows) {
            Json fits = Json::array();
            for (const auto& b : r.fits)
                fits.push_back(b.label());
            formats.push_back({{"name", r.name},
                               {"bits_per_weight", exact(r.bitsPerWeight)},
                               {"bytes", exact(r.bytes)},
                               {"gigabytes", r.bytes / 1e9},
                               {"family", r.family},
                               {"fits_in", fits}});
        }
        Json memory = Json::array();
        for (const auto& b : table.budgets)
            memory.push_back({{"label", b.label()}, {"bytes", exact(b.bytes())}});
        printJson(
            {{"params", params}, {"formats", formats}, {"memory", memory}, {"note", table.note}});
        return Ok;
    }

    std::printf("%lld parameters, weights only (GB = 10^9 bytes; memory sizes are GiB)\n\n",
                static_cast<long long>(params));
    std::printf("%-9s %11s %18s %11s  %s\n", "format", "bits/weight", "bytes", "GB",
                "fits in (smallest listed)");
    for (const auto& r : table.rows)
        std::printf("%-9s %11.6g %18.0f %11.3f  %s\n", r.name.c_str(), r.bitsPerWeight, r.bytes,
                    r.bytes / 1e9, fitsIn(r.fits).c_str());
    std::printf("\n%s\n", table.note.c_str());
    return Ok;
}

} // namespace qs::cli
