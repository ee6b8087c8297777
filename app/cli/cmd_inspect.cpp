// `inspect`: the tensors of a model, read from its headers only.
#include "cli.h"
#include "io/model.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace qs::cli {

int cmdInspect(const std::vector<std::string>& argv)
{
    const Args args(argv, {"json"}, {});
    if (args.positionals().size() != 1) throw UsageError("inspect needs exactly one MODEL path");
    const auto model = openModel(args.positionals().front());

    if (args.flag("json")) {
        Json tensors = Json::array();
        for (const auto& t : model->tensors)
            tensors.push_back({{"name", t.name},
                               {"shape", t.shape},
                               {"dtype", t.storedType},
                               {"params", t.numel()},
                               {"bytes", t.byteSize}});
        Json out = {{"path", model->path},
                    {"format", model->format},
                    {"tensors", tensors},
                    {"total_params", model->totalParams()},
                    {"total_bytes", model->totalBytes()}};
        if (!model->metadata.empty()) out["metadata"] = model->metadata;
        printJson(out);
        return Ok;
    }
    std::printf("%s (%s), %zu tensors\n", model->path.c_str(), model->format.c_str(),
                model->tensors.size());
    // Columns as wide as their longest entry: names and type spellings differ a lot by format.
    int nameW = 4, shapeW = 5, typeW = 5;
    for (const auto& t : model->tensors) {
        nameW = std::max(nameW, static_cast<int>(t.name.size()));
        shapeW = std::max(shapeW, static_cast<int>(shapeToString(t.shape).size()));
        typeW = std::max(typeW, static_cast<int>(t.storedType.size()));
    }
    std::printf("%-*s %-*s %-*s %14s %12s\n", nameW, "name", shapeW, "shape", typeW, "dtype",
                "params", "bytes");
    for (const auto& t : model->tensors)
        std::printf("%-*s %-*s %-*s %14lld %12s\n", nameW, t.name.c_str(), shapeW,
                    shapeToString(t.shape).c_str(), typeW, t.storedType.c_str(),
                    static_cast<long long>(t.numel()),
                    humanBytes(static_cast<double>(t.byteSize)).c_str());
    std::printf("total: %lld params, %s\n", static_cast<long long>(model->totalParams()),
                humanBytes(static_cast<double>(model->totalBytes())).c_str());
    return Ok;
}

} // namespace qs::cli
