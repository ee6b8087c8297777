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
                            {"bits_per_weight", f.bits},
                            {"scaled", f.scaled()},
                            {"description", f.description}});
        printJson({{"formats", list}});
        return Ok;
    }
    std::printf("%-8s %-14s %5s  %s\n", "name", "family", "bits", "description");
    for (const auto& f : formats())
        std::printf("%-8.*s %-14.*s %5d  %.*s\n", static_cast<int>(f.name.size()), f.name.data(),
                    static_cast<int>(f.family.size()), f.family.data(), f.bits,
                    static_cast<int>(f.description.size()), f.description.data());
    std::printf(
        "\nbits are payload bits per weight; scaled formats add their scales (fp32 per tensor or "
        "channel, fp16 per group) and 8-bit zero points.\n");
    return Ok;
}

} // namespace qs::cli
