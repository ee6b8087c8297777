#include "io/keras_layout.h"

#include <nlohmann/json.hpp>

namespace qs {
namespace {

void collectLayers(const nlohmann::json& j, std::map<std::string, std::string>& out, int depth)
{
    if (depth > 64) return; // configs nest a few levels; a deeper one is not worth following
    if (j.is_object()) {
        const auto cls = j.find("class_name");
        const auto cfg = j.find("config");
        if (cls != j.end() && cls->is_string() && cfg != j.end() && cfg->is_object()) {
            const auto name = cfg->find("name");
            if (name != cfg->end() && name->is_string())
                out.emplace(name->get<std::string>(), cls->get<std::string>());
        }
        for (const auto& [key, value] : j.items())
            collectLayers(value, out, depth + 1);
    } else if (j.is_array()) {
        for (const auto& value : j)
            collectLayers(value, out, depth + 1);
    }
}

bool endsWith(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool isTransposedConv(std::string_view cls)
{
    return endsWith(cls, "Transpose") || cls == "Deconvolution2D" || cls == "Deconvolution3D";
}

} // namespace

std::map<std::string, std::string> kerasLayerClasses(std::string_view configJson)
{
    std::map<std::string, std::string> out;
    const auto j = nlohmann::json::parse(configJson, nullptr, false);
    if (!j.is_discarded()) collectLayers(j, out, 0);
    return out;
}

int keras2ChannelAxis(std::string_view weightName, std::size_t rank, std::string_view layerClass)
{
    if (rank < 2) return 0;
    if (!endsWith(weightName, "kernel:0") && !endsWith(weightName, "kernel")) return 0;
    return static_cast<int>(isTransposedConv(layerClass) ? rank - 2 : rank - 1);
}

int keras3ChannelAxis(std::size_t rank, std::string_view layerClass)
{
    if (rank < 2 || layerClass == "Embedding") return 0;
    return static_cast<int>(isTransposedConv(layerClass) ? rank - 2 : rank - 1);
}

std::optional<std::string> keras3VariableLayer(std::string_view path)
{
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos || slash + 1 == path.size()) return std::nullopt;
    for (const char c : path.substr(slash + 1))
        if (c < '0' || c > '9') return std::nullopt;
    const std::string_view parent = path.substr(0, slash); // "[.../<layer>/]vars"
    if (parent == "vars") return std::string();
    if (!endsWith(parent, "/vars")) return std::nullopt;
    const std::string_view layerPath = parent.substr(0, parent.size() - 5);
    const auto prev = layerPath.rfind('/');
    return std::string(prev == std::string_view::npos ? layerPath : layerPath.substr(prev + 1));
}

std::string metadataText(std::string text, std::size_t limit)
{
    if (text.size() <= limit) return text;
    const std::size_t total = text.size();
    text.resize(limit);
    // Do not leave half a UTF-8 sequence at the cut.
    while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xc0) == 0x80)
        text.pop_back();
    if (!text.empty() && (static_cast<unsigned char>(text.back()) & 0x80)) text.pop_back();
    return text + " ... [truncated, " + std::to_string(total) + " bytes in all]";
}

} // namespace qs
