#include "io/safetensors_reader.h"

#include "core/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>

namespace qs {
namespace {

using json = nlohmann::ordered_json;
constexpr std::string_view kIndexSuffix = ".safetensors.index.json";

bool endsWith(const std::string& s, std::string_view suffix)
{
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::uint64_t readLe64(const std::byte* p)
{
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | static_cast<std::uint64_t>(p[i]);
    return v;
}

[[noreturn]] void fail(const std::string& path, const std::string& what)
{
    throw Error(path + ": " + what);
}

std::string tensorWhere(const std::string& name)
{
    return "tensor '" + name + "': ";
}

Shape parseShape(const std::string& path, const std::string& name, const json& j)
{
    if (!j.is_array()) fail(path, tensorWhere(name) + "\"shape\" is not an array");
    Shape shape;
    std::int64_t numel = 1;
    for (const auto& d : j) {
        if (d.is_number_integer() && !d.is_number_unsigned() && d.get<std::int64_t>() < 0)
            fail(path, tensorWhere(name) + "negative dimension " +
                           std::to_string(d.get<std::int64_t>()) + " in shape");
        if (!d.is_number_unsigned() && !d.is_number_integer())
            fail(path,
                 tensorWhere(name) + "shape entry " + d.dump() + " is not a non-negative integer");
        const auto v = d.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            fail(path, tensorWhere(name) + "dimension " + std::to_string(v) + " overflows");
        const auto dim = static_cast<std::int64_t>(v);
        if (dim != 0 && numel > std::numeric_limits<std::int64_t>::max() / dim)
            fail(path, tensorWhere(name) + "shape " + j.dump() + " overflows the element count");
        if (dim != 0) numel *= dim; // an empty tensor may not hide an overflowing shape
        shape.push_back(dim);
    }
    return shape;
}

std::uint64_t parseOffset(const std::string& path, const std::string& name, const json& j)
{
    if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<std::int64_t>() >= 0))
        fail(path,
             tensorWhere(name) + "data offset " + j.dump() + " is not a non-negative integer");
    return j.get<std::uint64_t>();
}

Model openSingle(const std::string& path)
{
    auto file = std::make_shared<const MappedFile>(path);
    const auto bytes = file->bytes();
    if (bytes.size() < 8)
        fail(path, "file is too short for a safetensors header (" + std::to_string(bytes.size()) +
                       " bytes)");
    const std::uint64_t headerLen = readLe64(bytes.data());
    if (headerLen > bytes.size() - 8)
        fail(path, "header length " + std::to_string(headerLen) +
                       " at byte 0 exceeds the file size (" + std::to_string(bytes.size()) +
                       " bytes)");
    const std::uint64_t dataStart = 8 + headerLen;
    const std::uint64_t dataSize = bytes.size() - dataStart;
    const auto* hb = reinterpret_cast<const char*>(bytes.data() + 8);

    json header;
    try {
        header = json::parse(hb, hb + headerLen);
    } catch (const json::parse_error& e) {
        fail(path, "invalid JSON header near byte " +
                       std::to_string(8 + (e.byte > 0 ? e.byte - 1 : 0)) + ": " + e.what());
    } catch (const json::exception& e) { // e.g. a number too large for any type
        fail(path, std::string("invalid JSON header: ") + e.what());
    }
    if (!header.is_object()) fail(path, "header is not a JSON object");

    Model model;
    model.path = path;
    model.format = "safetensors";
    model.files.push_back(file);

    for (auto it = header.begin(); it != header.end(); ++it) {
        const std::string& name = it.key();
        const json& entry = it.value();
        if (name == "__metadata__") {
            if (!entry.is_object()) fail(path, "\"__metadata__\" is not an object");
            for (auto m = entry.begin(); m != entry.end(); ++m) {
                if (!m.value().is_string())
                    fail(path, "metadata value for '" + m.key() + "' is not a string");
                model.metadata[m.key()] = m.value().get<std::string>();
            }
            continue;
        }
        if (!entry.is_object()) fail(path, tensorWhere(name) + "entry is not an object");
        const auto dt = entry.find("dtype");
        const auto sh = entry.find("shape");
        const auto off = entry.find("data_offsets");
        if (dt == entry.end() || sh == entry.end() || off == entry.end())
            fail(path, tensorWhere(name) + "needs \"dtype\", \"shape\" and \"data_offsets\"");
        if (!dt->is_string()) fail(path, tensorWhere(name) + "\"dtype\" is not a string");
        const auto dtypeStr = dt->get<std::string>();
        const auto dtype = dtypeFromName(dtypeStr);
        if (!dtype) fail(path, tensorWhere(name) + "unknown dtype \"" + dtypeStr + "\"");

        TensorInfo t;
        t.name = name;
        t.dtype = *dtype;
        t.storedType = dtypeStr;
        t.shape = parseShape(path, name, *sh);
        if (!off->is_array() || off->size() != 2)
            fail(path, tensorWhere(name) + "\"data_offsets\" must be [begin, end]");
        const std::uint64_t begin = parseOffset(path, name, (*off)[0]);
        const std::uint64_t end = parseOffset(path, name, (*off)[1]);
        if (begin > end)
            fail(path, tensorWhere(name) + "data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) + "] end before they begin");
        if (end > dataSize)
            fail(path, tensorWhere(name) + "data_offsets end " + std::to_string(end) + " (byte " +
                           std::to_string(dataStart + end) + ") lies beyond the end of the file (" +
                           std::to_string(bytes.size()) + " bytes)");
        const auto numel = static_cast<std::uint64_t>(t.numel());
        const std::uint64_t elem = dtypeSize(t.dtype);
        if (numel > std::numeric_limits<std::uint64_t>::max() / elem || numel * elem != end - begin)
            fail(path, tensorWhere(name) + "shape " + shapeToString(t.shape) + " of " + dtypeStr +
                           " needs " + std::to_string(numel) + " x " + std::to_string(elem) +
                           " bytes but data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) + "] hold " + std::to_string(end - begin) +
                           " (at byte " + std::to_string(dataStart + begin) + ")");
        t.offset = dataStart + begin;
        t.byteSize = end - begin;
        t.channelAxis = 0;
        model.tensors.push_back(std::move(t));
    }

    // Present tensors in storage order, which is the order writers emit layers in.
    std::stable_sort(model.tensors.begin(), model.tensors.end(),
                     [](const TensorInfo& a, const TensorInfo& b) { return a.offset < b.offset; });
    const TensorInfo* prev = nullptr;
    for (const auto& t : model.tensors) {
        if (t.byteSize == 0) continue;
        if (prev && prev->offset + prev->byteSize > t.offset)
            fail(path, tensorWhere(t.name) + "data at byte " + std::to_string(t.offset) +
                           " overlaps tensor '" + prev->name + "' (bytes " +
                           std::to_string(prev->offset) + "-" +
                           std::to_string(prev->offset + prev->byteSize) + ")");
        prev = &t;
    }
    return model;
}

Model openIndex(const std::string& path)
{
    const MappedFile file(path);
    const auto bytes = file.bytes();
    json index;
    try {
        index = json::parse(reinterpret_cast<const char*>(bytes.data()),
                            reinterpret_cast<const char*>(bytes.data()) + bytes.size());
    } catch (const json::exception& e) {
        fail(path, std::string("invalid JSON: ") + e.what());
    }
    if (!index.is_object()) fail(path, "index is not a JSON object");
    const auto wm = index.find("weight_map");
    if (wm == index.end() || !wm->is_object()) fail(path, "index has no \"weight_map\" object");

    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::vector<std::string> shardNames;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
        if (!it.value().is_string())
            fail(path, "weight_map entry for '" + it.key() + "' is not a file name");
        const auto shard = it.value().get<std::string>();
        if (std::find(shardNames.begin(), shardNames.end(), shard) == shardNames.end())
            shardNames.push_back(shard);
    }
    std::sort(shardNames.begin(), shardNames.end()); // model-00001-of-0000N order

    Model model;
    model.path = path;
    model.format = "safetensors (sharded)";
    if (const auto md = index.find("metadata"); md != index.end() && md->is_object())
        for (auto m = md->begin(); m != md->end(); ++m)
            model.metadata[m.key()] =
                m.value().is_string() ? m.value().get<std::string>() : m.value().dump();

    std::set<std::string> seen;
    for (const auto& shard : shardNames) {
        Model part = openSingle((dir / shard).string());
        const int fileIndex = static_cast<int>(model.files.size());
        model.files.push_back(part.files.front());
        for (auto& [k, v] : part.metadata)
            model.metadata.emplace(k, v);
        for (auto& t : part.tensors) {
            if (!seen.insert(t.name).second)
                fail(path, "tensor '" + t.name + "' appears in more than one shard (again in " +
                               shard + ")");
            t.fileIndex = fileIndex;
            model.tensors.push_back(std::move(t));
        }
    }
    for (auto it = wm->begin(); it != wm->end(); ++it)
        if (!seen.count(it.key()))
            fail(path, "tensor '" + it.key() + "' is listed in weight_map but missing from " +
                           it.value().get<std::string>());
    return model;
}

} // namespace

bool SafetensorsReader::canOpen(const std::string& path) const
{
    if (endsWith(path, kIndexSuffix) || endsWith(path, ".safetensors")) return true;
    // Files without the extension: recognise the header shape (u64 length, then '{').
    try {
        const MappedFile f(path);
        const auto b = f.bytes();
        return b.size() >= 9 && readLe64(b.data()) <= b.size() - 8 && b[8] == std::byte{'{'};
    } catch (const Error&) {
        return false;
    }
}

Model SafetensorsReader::open(const std::string& path) const
{
    try {
        return endsWith(path, kIndexSuffix) ? openIndex(path) : openSingle(path);
    } catch (const json::exception& e) { // a JSON value of an unexpected kind slipped through
        throw Error(path + ": malformed header: " + e.what());
    }
}

} // namespace qs
