// GGUF v3 export: ggml types per tensor, metadata copied from a GGUF source byte for byte,
// tensor data at aligned offsets in the order the tensor infos list them (as ggml requires).
#include "core/error.h"
#include "export/export.h"
#include "export/export_detail.h"
#include "formats/ggml_types.h"
#include "io/gguf_metadata.h"

#include <bit>

namespace qs {
namespace {

using exporting::quoteName;

constexpr std::uint32_t kVersion = 3;
constexpr std::uint32_t kDefaultAlignment = 32;
constexpr std::uint32_t kMaxDims = 4;
// ggml keeps names in char[GGML_MAX_NAME = 64] with the terminating NUL, and llama.cpp refuses
// files with longer names.
constexpr std::size_t kMaxNameBytes = 63;
constexpr std::uint32_t kTypeU32 = 4;

const GgmlType* ggmlTypeOf(DType t)
{
    if (t == DType::GgmlOther) return nullptr;
    for (std::uint32_t id = 0; id < 64; ++id)
        if (const GgmlType* g = ggmlType(id); g && g->dtype == t) return g;
    return nullptr;
}

const GgmlType* ggmlTypeNamed(const std::string& name)
{
    for (std::uint32_t id = 0; id < 64; ++id)
        if (const GgmlType* g = ggmlType(id); g && g->name == name) return g;
    return nullptr;
}

// Little-endian header bytes.
struct Bytes
{
    std::string s;
    void u32(std::uint32_t v)
    {
        for (int i = 0; i < 4; ++i)
            s += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    void u64(std::uint64_t v)
    {
        for (int i = 0; i < 8; ++i)
            s += static_cast<char>((v >> (8 * i)) & 0xff);
    }
    void str(const std::string& v)
    {
        u64(v.size());
        s += v;
    }
};

// The metadata key/value pairs of a GGUF source exactly as stored (key, type, value), which
// keeps every type, array and nested array as it was without re-encoding any of them.
struct SourceMetadata
{
    std::string raw;
    std::uint64_t count = 0;
    std::optional<std::uint32_t> alignment;
};

SourceMetadata sourceMetadata(const Model& source)
{
    SourceMetadata m;
    if (source.format != "gguf" || source.files.empty()) return m;
    const auto bytes = source.files.front()->bytes();
    gguf::Cursor c(bytes, source.files.front()->path());
    c.skip(4, "the magic");
    c.u32("the version");
    c.u64("tensor count");
    const std::uint64_t n = c.u64("metadata count");
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t start = c.pos();
        const std::string key = c.string("a metadata key");
        c.setContext("metadata key " + quoteName(key));
        const std::uint64_t typeAt = c.pos();
        const std::uint32_t type = c.u32("a metadata value type");
        const gguf::Value v = gguf::readValue(c, type);
        if (key == "general.alignment") {
            const bool integerType = type <= 5 || type == 10 || type == 11; // u8 ... i64
            if (!integerType || !v.integer || *v.integer == 0 ||
                *v.integer > (std::uint64_t{1} << 31) || !std::has_single_bit(*v.integer))
                c.fail("general.alignment " + v.text + " is not a power of two", typeAt);
            m.alignment = static_cast<std::uint32_t>(*v.integer);
        }
        m.raw.append(reinterpret_cast<const char*>(bytes.data() + start),
                     static_cast<std::size_t>(c.pos() - start));
        ++m.count;
    }
    return m;
}

struct Planned
{
    const ExportTensor* tensor = nullptr;
    const GgmlType* type = nullptr;
    std::vector<std::uint64_t> ne; // ggml order: ne[0] is the row (the last row-major axis)
    std::uint64_t bytes = 0, offset = 0;
    bool toF32 = false; // kept, but GGUF has no type for it
};

Planned plan(const std::string& out, const ExportTensor& e)
{
    const TensorInfo& t = *e.source;
    const std::string where = out + ": tensor " + quoteName(t.name);
    Planned p;
    p.tensor = &e;
    if (e.spec) {
        const Format& f = *e.spec->format;
        if (const auto plain = exporting::plainDType(f))
            p.type = ggmlTypeOf(*plain);
        else if (f.ggmlBlock())
            p.type = ggmlTypeOf(f.blockType);
        if (!p.type)
            throw Error(where + ": format " + std::string(f.name) +
                        " has no GGUF type (GGUF holds fp32, fp16, bf16 and the ggml formats "
                        "q8_0, q4_0, q4_1, q5_0, q5_1, q2_K, q3_K, q4_K, q5_K, q6_K)");
    } else if (t.dtype == DType::GgmlOther) {
        p.type = ggmlTypeNamed(t.storedType);
        if (!p.type) throw Error(where + ": unknown ggml type " + t.storedType);
    } else {
        p.type = ggmlTypeOf(t.dtype);
        if (!p.type) { // F8, U8, BOOL: no GGUF type
            p.type = ggmlTypeOf(DType::F32);
            p.toF32 = true;
        }
    }
    if (t.name.size() > kMaxNameBytes)
        throw Error(where + ": the name has " + std::to_string(t.name.size()) +
                    " bytes; GGUF tensor names have at most " + std::to_string(kMaxNameBytes));
    if (t.shape.size() > kMaxDims)
        throw Error(where + " has " + std::to_string(t.shape.size()) +
                    " dimensions; GGUF holds at most " + std::to_string(kMaxDims));
    p.ne.assign(t.shape.rbegin(), t.shape.rend());
    if (p.ne.empty()) p.ne.push_back(1); // ggml has no 0-d tensors: a scalar is [1]
    if (p.ne.front() % static_cast<std::uint64_t>(p.type->blockSize) != 0)
        throw Error(where + ": rows of " + std::to_string(p.ne.front()) +
                    " values are not a multiple of the " + std::string(p.type->name) +
                    " block of " + std::to_string(p.type->blockSize));
    p.bytes = static_cast<std::uint64_t>(t.numel()) /
              static_cast<std::uint64_t>(p.type->blockSize) * p.type->blockBytes;
    return p;
}

std::uint64_t padTo(std::uint64_t n, std::uint32_t alignment)
{
    return (alignment - n % alignment) % alignment;
}

} // namespace

void exportGguf(const std::string& out, const Model& source, std::span<const ExportTensor> tensors,
                const ExportOptions& options)
{
    exporting::checkExport(out, source, tensors);
    std::vector<Planned> planned;
    for (const auto& e : tensors)
        planned.push_back(plan(out, e));

    const SourceMetadata meta = sourceMetadata(source);
    const std::uint32_t alignment = meta.alignment.value_or(kDefaultAlignment);
    std::uint64_t offset = 0;
    for (auto& p : planned) {
        p.offset = offset;
        offset += p.bytes + padTo(p.bytes, alignment);
    }

    Bytes h;
    h.s = "GGUF";
    h.u32(kVersion);
    h.u64(planned.size());
    h.u64(meta.count + (meta.alignment ? 0 : 1));
    h.s += meta.raw;
    if (!meta.alignment) { // written out, so that no reader has to know the default
        h.str("general.alignment");
        h.u32(kTypeU32);
        h.u32(alignment);
    }
    for (const auto& p : planned) {
        h.str(p.tensor->source->name);
        h.u32(static_cast<std::uint32_t>(p.ne.size()));
        for (const std::uint64_t n : p.ne)
            h.u64(n);
        h.u32(p.type->id);
        h.u64(p.offset);
    }
    h.s.append(padTo(h.s.size(), alignment), '\0');

    exporting::PartFile file(out, ".part");
    file.write(h.s.data(), h.s.size());
    for (const auto& p : planned) {
        const TensorInfo& t = *p.tensor->source;
        if (p.tensor->spec) {
            const EncodedTensor enc = exporting::encode(out, source, *p.tensor, options);
            if (enc.codes.size() != p.bytes)
                throw Error(out + ": tensor " + quoteName(t.name) + ": " +
                            std::to_string(enc.codes.size()) + " bytes of " +
                            std::string(p.type->name) + " data where " + std::to_string(p.bytes) +
                            " were expected");
            file.write(enc.codes.data(), enc.codes.size());
        } else {
            const std::uint64_t before = file.written();
            exporting::KeptReader(out, source, t, p.toF32)
                .stream([&](std::span<const std::byte> b) { file.write(b.data(), b.size()); });
            if (file.written() - before != p.bytes)
                throw Error(out + ": tensor " + quoteName(t.name) + ": data size does not match " +
                            "its shape");
            exporting::keptDone(t, options);
        }
        file.zeros(padTo(p.bytes, alignment));
    }
    source.checkIntact(); // never publish data read from a file that shrank meanwhile
    file.commit();
}

} // namespace qs
