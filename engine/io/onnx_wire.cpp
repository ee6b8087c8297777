#include "io/onnx_wire.h"

#include <google/protobuf/io/coded_stream.h>

#include <climits>
#include <string_view>

namespace qs::onnx_detail {
namespace {

enum Wire { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct ModelField
{
    std::uint32_t number;
    Wire wire;
    std::string_view name;
};

// ModelProto's fields (onnx.proto); newer fields are tolerated when their wire type is valid.
constexpr ModelField kModelFields[] = {
    {1, kVarint, "ir_version"},
    {2, kLengthDelimited, "producer_name"},
    {3, kLengthDelimited, "producer_version"},
    {4, kLengthDelimited, "domain"},
    {5, kVarint, "model_version"},
    {6, kLengthDelimited, "doc_string"},
    {7, kLengthDelimited, "graph"},
    {8, kLengthDelimited, "opset_import"},
    {14, kLengthDelimited, "metadata_props"},
    {20, kLengthDelimited, "training_info"},
    {25, kLengthDelimited, "functions"},
};
constexpr std::uint32_t kGraphField = 7;

const ModelField* findField(std::uint32_t number)
{
    for (const auto& f : kModelFields)
        if (f.number == number) return &f;
    return nullptr;
}

std::string fieldLabel(std::uint32_t number)
{
    const ModelField* f = findField(number);
    return "field " + std::to_string(number) + (f ? " (" + std::string(f->name) + ")" : "");
}

WireCheck bad(std::uint64_t at, const std::string& what)
{
    return {false, "byte " + std::to_string(at) + ": " + what};
}

} // namespace

WireCheck checkModelWire(std::span<const std::byte> bytes)
{
    if (bytes.size() > kMaxProtoBytes)
        return {false, "the file is larger than the 2 GiB a protobuf model can hold"};
    if (bytes.empty()) return {false, "the file is empty"};
    const auto size = static_cast<int>(bytes.size());
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              size);
    in.SetTotalBytesLimit(INT_MAX);
    bool graph = false;
    while (in.CurrentPosition() < size) {
        const int at = in.CurrentPosition();
        const std::uint32_t tag = in.ReadTagNoLastTag();
        const std::uint32_t number = tag >> 3;
        const auto wire = static_cast<int>(tag & 7);
        if (tag == 0 || number == 0) return bad(at, "not a protobuf field tag");
        const ModelField* known = findField(number);
        if (known && wire != known->wire)
            return bad(at, fieldLabel(number) + " has wire type " + std::to_string(wire) +
                               ", not that of a ModelProto");
        bool ok = true;
        switch (wire) {
        case kVarint: {
            std::uint64_t v;
            ok = in.ReadVarint64(&v);
            break;
        }
        case kFixed64: {
            std::uint64_t v;
            ok = in.ReadLittleEndian64(&v);
            break;
        }
        case kFixed32: {
            std::uint32_t v;
            ok = in.ReadLittleEndian32(&v);
            break;
        }
        case kLengthDelimited: {
            std::uint64_t length = 0;
            if (!in.ReadVarint64(&length)) {
                ok = false;
                break;
            }
            const auto left = static_cast<std::uint64_t>(size - in.CurrentPosition());
            if (length > left)
                return bad(at, fieldLabel(number) + " is " + std::to_string(length) +
                                   " bytes long but only " + std::to_string(left) +
                                   " bytes follow (the file is truncated or damaged)");
            ok = in.Skip(static_cast<int>(length));
            break;
        }
        default:
            return bad(at, fieldLabel(number) + " has wire type " + std::to_string(wire) +
                               ", which ONNX does not use");
        }
        if (!ok) return bad(at, fieldLabel(number) + " is cut off by the end of the file");
        graph = graph || number == kGraphField;
    }
    if (!graph) return {false, "the model has no graph"};
    return {true, {}};
}

} // namespace qs::onnx_detail
