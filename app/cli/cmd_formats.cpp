// `formats`: the registry of number formats.
#include "cli.h"
#include "formats/format.h"

#include <cstdio>

namespace qs::cli {

int cmdFormats(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json"}, {});
    if (!args.positionals().empty()) throw UsageError("formats takes no arguments");
    if (args.flag("json")) {
        Json list = Json::array();
        for (const auto& f : formats())
            list.push_back({{"name", f.name},
                            {"family", f.family},
                            {"bits_per_weight", // integers stay integers for the float/int formats
                             f.blockBits > 0 ? Json(f.bitsPerWeight()) : Json(f.bits)},
                            {"scaled", f.scaled()},
                            {"granularity", f.takesGranularity()},
                            {"description", f.description}});
        printJson({{"formats", list}});
        return Ok;
    }
    std::printf("%-9s %-14s %7s  %s\n", "name", "family", "bits", "description");
    for (const auto& f : formats())
        std::printf("%-9.*s %-14.*s %7.5g  %.*s\n", static_cast<int>(f.name.size()), f.name.data(),
                    static_cast<int>(f.family.size()), f.family.data(), f.bitsPerWeight(),
                    static_cast<int>(f.description.size()), f.description.data());
    std::printf(
        "\nbits are payload bits per weight. Integer formats add their scales (fp32 per tensor or "
        "channel, fp16 per group) and 8-bit zero points; fp8 formats an fp32 scale per tensor, "
        "channel or group. Block formats count their block scales in their bits: nf4 (fp32 "
        "absmax per block of 64 over the flattened tensor; group:G sets the block), mxfp4 (E8M0 "
        "per 32 values) and the ggml formats (q8_0 ... q6_K), which quantize blocks along each "
        "row (its length must be a multiple of the block) and ignore the granularity.\n");
    return Ok;
}

} // namespace qs::cli
