#include "io/gguf_reader.h"

#include "core/error.h"
#include "formats/ggml_types.h"
#include "io/gguf_metadata.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <map>
#include <unordered_set>

namespace qs {
namespace {

using gguf::Cursor;

constexpr std::uint32_t kDefaultAlignment = 32;
constexpr std::uint32_t kMaxDims = 4;
// The smallest possible encodings, which bound how many entries a file of a given size can
// hold: key length, value type and a one-byte value; name length, n_dims, type and offset.
constexpr std::uint64_t kMinKeyValueBytes = 8 + 4 + 1;
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 4 + 4 + 8;

std::string quote(const std::string& name)
{
    return "'" + name + "'";
}

bool hasGgufMagic(std::span<const std::byte> b)
{
    return b.size() >= 4 && b[0] == std::byte{'G'} && b[1] == std::byte{'G'} &&
           b[2] == std::byte{'U'} && b[3] == std::byte{'F'};
}

std::string hexBytes(std::span<const std::byte> b)
{
    const char* hex = "0123456789abcdef";
    std::string s;
    for (std::size_t i = 0; i < b.size() && i < 4; ++i) {
        if (i) s += ' ';
        s += hex[static_cast<unsigned>(b[i]) >> 4];
        s += hex[static_cast<unsigned>(b[i]) & 15];
    }
    return s;
}

void readHeaderStart(Cursor& c, std::span<const std::byte> bytes, std::uint32_t& version)
{
    if (bytes.size() < 4)
        c.fail("file is truncated: " + std::to_string(bytes.size()) +
                   " bytes are too few for a GGUF header",
               0);
    if (!hasGgufMagic(bytes))
        c.fail("not a GGUF file: it starts with bytes " + hexBytes(bytes) +
                   " instead of the magic \"GGUF\"",
               0);
    c.skip(4, "the magic");
    version = c.u32("the version");
    const std::uint32_t swapped = (version >> 24) | ((version >> 8) & 0xff00u) |
                                  ((version << 8) & 0xff0000u) | (version << 24);
    if (version != swapped && swapped >= 1 && swapped <= 3)
        c.fail("big-endian GGUF file (version " + std::to_string(swapped) +
                   " stored most significant byte first): QuantScope reads little-endian GGUF "
                   "files only",
               4);
    if (version == 1)
        c.fail("GGUF version 1 is not supported: QuantScope reads versions 2 and 3 (convert "
               "the file with a current llama.cpp)",
               4);
    if (version != 2 && version != 3)
        c.fail("unsupported GGUF version " + std::to_string(version) +
                   ": QuantScope reads versions 2 and 3",
               4);
}

std::uint64_t readCount(Cursor& c, const char* what, std::uint64_t minBytes)
{
    const std::uint64_t at = c.pos();
    const std::uint64_t n = c.u64(what);
    if (n > c.remaining() / minBytes)
        c.fail(std::string(what) + " " + std::to_string(n) +
                   " is impossible: " + std::to_string(n) + " entries need at least " +
                   std::to_string(minBytes) + " bytes each, but only " +
                   std::to_string(c.remaining()) + " bytes of the file remain",
               at);
    return n;
}

struct RawTensor
{
    TensorInfo info;
    const GgmlType* type = nullptr;
    std::uint64_t infoAt = 0;    // byte offset of the tensor's info entry
    std::uint64_t relOffset = 0; // offset relative to the data section
    std::int64_t rowLength = 1;  // ne[0]
};

RawTensor readTensorInfo(Cursor& c, std::uint64_t index)
{
    RawTensor t;
    t.infoAt = c.pos();
    c.setContext("tensor #" + std::to_string(index));
    t.info.name = gguf::validUtf8(c.string("a tensor name"));
    c.setContext("tensor " + quote(t.info.name));
    const std::uint64_t dimsAt = c.pos();
    const std::uint32_t nDims = c.u32("the number of dimensions");
    if (nDims > kMaxDims)
        c.fail("has " + std::to_string(nDims) + " dimensions; GGUF allows at most " +
                   std::to_string(kMaxDims),
               dimsAt);
    std::vector<std::int64_t> ne;
    std::int64_t numel = 1; // of the non-zero dimensions: an empty tensor may not hide overflow
    for (std::uint32_t d = 0; d < nDims; ++d) {
        const std::uint64_t at = c.pos();
        const std::uint64_t v = c.u64("a dimension");
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            c.fail("dimension " + std::to_string(v) + " overflows", at);
        const auto dim = static_cast<std::int64_t>(v);
        if (dim != 0 && numel > std::numeric_limits<std::int64_t>::max() / dim)
            c.fail("dimensions overflow the element count at ne[" + std::to_string(d) +
                       "] = " + std::to_string(dim),
                   at);
        if (dim != 0) numel *= dim;
        ne.push_back(dim);
    }
    const std::uint64_t typeAt = c.pos();
    const std::uint32_t typeId = c.u32("the tensor type");
    t.type = ggmlType(typeId);
    if (!t.type) {
        const auto removed = ggmlRemovedTypeName(typeId);
        if (!removed.empty())
            c.fail("ggml type " + std::string(removed) + " (id " + std::to_string(typeId) +
                       ") has been removed from GGUF; convert the model again",
                   typeAt);
        c.fail("unknown ggml type id " + std::to_string(typeId), typeAt);
    }
    t.relOffset = c.u64("the data offset");
    t.info.shape.assign(ne.rbegin(), ne.rend()); // row-major: ne[0] varies fastest
    t.rowLength = ne.empty() ? 1 : ne.front();
    t.info.dtype = t.type->dtype;
    t.info.storedType = std::string(t.type->name);
    t.info.channelAxis = 0;
    return t;
}

// Checks a tensor's geometry and place in the data section, then fills offset and byteSize.
void placeTensor(Cursor& c, RawTensor& t, std::uint64_t dataStart, std::uint32_t alignment)
{
    c.setContext("tensor " + quote(t.info.name));
    const GgmlType& type = *t.type;
    if (t.rowLength % type.blockSize != 0)
        c.fail("rows of " + std::to_string(t.rowLength) + " values (ne[0]) are not a multiple of " +
                   "the " + std::string(type.name) + " block size " +
                   std::to_string(type.blockSize),
               t.infoAt);
    const auto blocks = static_cast<std::uint64_t>(t.info.numel() / type.blockSize);
    if (blocks > std::numeric_limits<std::uint64_t>::max() / type.blockBytes)
        c.fail("size of " + std::to_string(t.info.numel()) + " " + std::string(type.name) +
                   " values overflows",
               t.infoAt);
    const std::uint64_t size = blocks * type.blockBytes;
    if (t.relOffset % alignment != 0)
        c.fail("data offset " + std::to_string(t.relOffset) +
                   " is not a multiple of the alignment " + std::to_string(alignment),
               t.infoAt);
    const std::uint64_t fileSize = c.size();
    if (dataStart > fileSize || t.relOffset > fileSize - dataStart ||
        size > fileSize - dataStart - t.relOffset)
        c.fail(std::to_string(size) + " bytes of data at offset " + std::to_string(t.relOffset) +
                   " of the data section (which starts at byte " + std::to_string(dataStart) +
                   ") lie beyond the end of the file (" + std::to_string(fileSize) + " bytes)",
               t.infoAt);
    t.info.offset = dataStart + t.relOffset;
    t.info.byteSize = size;
}

// The spec stores general.alignment as a uint32; any integer type is accepted.
std::uint32_t alignmentFrom(Cursor& c, std::uint32_t type, const gguf::Value& v, std::uint64_t at)
{
    const auto t = static_cast<gguf::ValueType>(type);
    const bool integerType = t == gguf::ValueType::U8 || t == gguf::ValueType::I8 ||
                             t == gguf::ValueType::U16 || t == gguf::ValueType::I16 ||
                             t == gguf::ValueType::U32 || t == gguf::ValueType::I32 ||
                             t == gguf::ValueType::U64 || t == gguf::ValueType::I64;
    if (!integerType)
        c.fail("general.alignment is a " + std::string(gguf::valueTypeName(type)) +
                   ", not an integer",
               at);
    if (!v.integer || *v.integer == 0 || *v.integer > (std::uint64_t{1} << 31) ||
        (*v.integer & (*v.integer - 1)) != 0)
        c.fail("general.alignment " + v.text + " is not a power of two", at);
    return static_cast<std::uint32_t>(*v.integer);
}

} // namespace

bool GgufReader::canOpen(const std::string& path) const
{
    if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) return true;
    std::ifstream f(path, std::ios::binary);
    char magic[4] = {};
    return f.read(magic, 4) && magic[0] == 'G' && magic[1] == 'G' && magic[2] == 'U' &&
           magic[3] == 'F';
}

Model GgufReader::open(const std::string& path) const
{
    auto file = std::make_shared<const MappedFile>(path);
    const auto bytes = file->bytes();
    Cursor c(bytes, path);

    std::uint32_t version = 0;
    readHeaderStart(c, bytes, version);
    const std::uint64_t tensorCount = readCount(c, "tensor count", kMinTensorInfoBytes);
    const std::uint64_t kvCount = readCount(c, "metadata count", kMinKeyValueBytes);

    Model model;
    model.path = path;
    model.format = "gguf";
    model.files.push_back(file);

    std::uint32_t alignment = kDefaultAlignment;
    std::map<std::string, std::string> metadata;
    for (std::uint64_t i = 0; i < kvCount; ++i) {
        const std::uint64_t at = c.pos();
        c.setContext("metadata entry #" + std::to_string(i));
        const std::string key = gguf::validUtf8(c.string("a metadata key"));
        c.setContext("metadata key " + quote(key));
        const std::uint64_t valueAt = c.pos();
        const std::uint32_t type = c.u32("a metadata value type");
        if (gguf::valueTypeName(type).empty())
            c.fail("unknown metadata value type " + std::to_string(type), valueAt);
        const gguf::Value v = gguf::readValue(c, type);
        if (key == "general.alignment") alignment = alignmentFrom(c, type, v, valueAt);
        if (!metadata.emplace(key, v.text).second) c.fail("duplicate metadata key", at);
    }
    model.metadata = std::move(metadata);
    model.metadata.emplace("gguf.version", std::to_string(version));

    std::vector<RawTensor> raw;
    std::unordered_set<std::string> names;
    for (std::uint64_t i = 0; i < tensorCount; ++i) {
        RawTensor t = readTensorInfo(c, i);
        if (!names.insert(t.info.name).second) c.fail("duplicate tensor name", t.infoAt);
        raw.push_back(std::move(t));
    }
    c.setContext({});
    // The data section starts at the next multiple of the alignment after the tensor infos.
    const std::uint64_t end = c.pos();
    const std::uint64_t dataStart = end + (alignment - end % alignment) % alignment;

    std::map<std::string, int> undecodable; // ggml type name -> tensor count
    for (auto& t : raw) {
        placeTensor(c, t, dataStart, alignment);
        if (t.info.dtype == DType::GgmlOther) ++undecodable[t.info.storedType];
    }

    // No two tensors may share bytes.
    std::vector<const RawTensor*> byOffset;
    for (const auto& t : raw)
        if (t.info.byteSize > 0) byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(), [](const RawTensor* a, const RawTensor* b) {
        return a->info.offset < b->info.offset;
    });
    for (std::size_t i = 1; i < byOffset.size(); ++i) {
        const TensorInfo& a = byOffset[i - 1]->info;
        const TensorInfo& b = byOffset[i]->info;
        if (a.offset + a.byteSize > b.offset) {
            c.setContext("tensor " + quote(b.name));
            c.fail("data at byte " + std::to_string(b.offset) + " overlaps tensor " +
                       quote(a.name) + " (bytes " + std::to_string(a.offset) + "-" +
                       std::to_string(a.offset + a.byteSize) + ")",
                   byOffset[i]->infoAt);
        }
    }

    if (!undecodable.empty()) {
        std::string note;
        for (const auto& [type, n] : undecodable)
            note += (note.empty() ? "" : ", ") + type + ": " + std::to_string(n) +
                    (n == 1 ? " tensor" : " tensors");
        model.metadata[kGgufNotDecodableKey] =
            note + " (listed with their sizes; QuantScope cannot decode these types yet)";
    }
    for (auto& t : raw)
        model.tensors.push_back(std::move(t.info));
    return model;
}

} // namespace qs
