// "Packed" safetensors export: each quantized tensor as NAME.qweight / NAME.scales / NAME.zeros
// with its description in one JSON metadata string; kept tensors as they are.
//
// safetensors puts every tensor's size in the header, before the data, and a stored form's
// sizes are only known once it is encoded. Rather than hold every encoded tensor (a 7B model's
// worth) or encode twice, the parts are appended to a scratch file next to the output as each
// tensor is encoded, then copied behind the header; kept tensors go straight from the source.
#include "core/error.h"
#include "export/export.h"
#include "export/export_detail.h"
#include "io/safetensors_writer.h"

#include <map>
#include <set>

namespace qs {
namespace {

using exporting::quoteName;
using json = nlohmann::ordered_json;

constexpr std::size_t kCopyBytes = std::size_t{4} << 20;

std::string suffixOf(const std::string& role)
{
    return role == "codes" ? ".qweight" : "." + role; // .scales, .zeros
}

// One tensor of the output file and where its bytes come from.
struct Out
{
    SafetensorsWriter::Entry entry;
    const TensorInfo* kept = nullptr; // copied from the source
    std::uint64_t scratchOffset = 0;  // otherwise: bytes in the scratch file
    std::uint64_t bytes = 0;
};

// Names the output will use, reserved before anything is encoded so that a collision (a
// source tensor called "w.scales" next to a quantized "w") is refused at once.
void checkNames(const std::string& out, std::span<const ExportTensor> tensors)
{
    std::map<std::string, std::string> owner;
    const auto reserve = [&](const std::string& name, const std::string& from) {
        const auto [it, fresh] = owner.emplace(name, from);
        if (!fresh)
            throw Error(out + ": tensors " + quoteName(it->second) + " and " + quoteName(from) +
                        " would both be written as " + quoteName(name));
    };
    for (const auto& e : tensors) {
        const TensorInfo& t = *e.source;
        const bool plain =
            e.spec ? exporting::plainDType(*e.spec->format).has_value() : !isBlockType(t.dtype);
        if (plain) {
            reserve(t.name, t.name);
        } else {
            for (const char* role : {"codes", "scales", "zeros"})
                reserve(t.name + suffixOf(role), t.name);
        }
    }
}

} // namespace

void exportPackedSafetensors(const std::string& out, const Model& source,
                             std::span<const ExportTensor> tensors, const ExportOptions& options)
{
    exporting::checkExport(out, source, tensors);
    checkNames(out, tensors);

    // Pass 1: encode each quantized tensor once, in order, into the scratch file.
    exporting::PartFile scratch(out, ".data.part");
    std::vector<Out> outs;
    json described = json::object();
    for (const auto& e : tensors) {
        const TensorInfo& t = *e.source;
        if (!e.spec) {
            if (!isBlockType(t.dtype)) {
                outs.push_back({{t.name, t.dtype, t.shape}, &t});
                continue;
            }
            // ggml blocks of a GGUF source: no safetensors dtype holds them, so they are
            // stored like a quantized tensor's codes.
            const std::uint64_t bytes = exporting::KeptReader(out, source, t, false).byteSize();
            const std::string name = t.name + suffixOf("codes");
            outs.push_back({{name, DType::U8, {static_cast<std::int64_t>(bytes)}}, &t});
            json d = exporting::describeKeptBlocks(t, static_cast<std::int64_t>(bytes));
            d["parts"]["codes"] = {
                {"tensor", name}, {"dtype", "U8"}, {"count", bytes}, {"encoding", "ggml-blocks"}};
            described[t.name] = std::move(d);
            continue;
        }
        const EncodedTensor enc = exporting::encode(out, source, e, options);
        json d = exporting::describe(t, *e.spec);
        const auto plain = exporting::plainDType(*e.spec->format);
        for (const auto& part : exporting::storedParts(enc)) {
            Out o;
            o.entry.name = plain ? t.name : t.name + suffixOf(part.role);
            o.entry.dtype = plain ? *plain : part.dtype;
            o.entry.shape = plain ? t.shape : Shape{part.count};
            o.scratchOffset = scratch.written();
            o.bytes = part.bytes.size();
            scratch.write(part.bytes.data(), part.bytes.size());
            d["parts"][part.role] = {{"tensor", o.entry.name},
                                     {"dtype", std::string(dtypeName(o.entry.dtype))},
                                     {"count", plain ? t.numel() : part.count},
                                     {"encoding", part.encoding}};
            outs.push_back(std::move(o));
        }
        described[t.name] = std::move(d);
    }

    // Pass 2: the header, then every tensor's bytes in header order.
    std::vector<SafetensorsWriter::Entry> entries;
    for (const auto& o : outs)
        entries.push_back(o.entry);
    const json meta = {{"version", kPackedLayoutVersion}, {"tensors", std::move(described)}};
    SafetensorsWriter writer(out, entries, {{kPackedMetadataKey, meta.dump()}});
    std::vector<std::byte> buf;
    for (const auto& o : outs) {
        if (o.kept) {
            exporting::KeptReader(out, source, *o.kept, false)
                .stream([&](std::span<const std::byte> b) { writer.write(b.data(), b.size()); });
            exporting::keptDone(*o.kept, options);
            continue;
        }
        buf.resize(std::min<std::uint64_t>(o.bytes, kCopyBytes));
        for (std::uint64_t done = 0; done < o.bytes;) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(kCopyBytes, o.bytes - done));
            scratch.readAt(o.scratchOffset + done, buf.data(), n);
            writer.write(buf.data(), n);
            done += n;
        }
        options.control.checkCancelled();
    }
    source.checkIntact(); // never publish data read from a file that shrank meanwhile
    writer.commit();
}

} // namespace qs
