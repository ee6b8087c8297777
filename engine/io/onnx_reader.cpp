#include "io/onnx_reader.h"

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/onnx_graph.h"
#include "io/onnx_tensor.h"
#include "io/onnx_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <optional>
#include <unordered_set>

namespace qs {
namespace {

using onnx_detail::TensorLoader;
using onnx_detail::ValueUses;

[[noreturn]] void fail(const std::string& path, const std::string& what)
{
    throw Error(path + ": " + what);
}

bool hasOnnxExtension(const std::string& path)
{
    constexpr std::string_view ext = ".onnx";
    if (path.size() < ext.size()) return false;
    return std::equal(
        ext.begin(), ext.end(), path.end() - static_cast<std::ptrdiff_t>(ext.size()),
        [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
}

// Parses the whole file from its mapping; the mapping is released again on return, so only
// the parsed model stays in memory.
std::unique_ptr<onnx::ModelProto> parseModel(const std::string& path)
{
    const MappedFile file(path);
    const auto bytes = file.bytes();
    if (bytes.size() > onnx_detail::kMaxProtoBytes)
        fail(path, "the file is " + std::to_string(bytes.size()) +
                       " bytes, more than the 2 GiB a protobuf ONNX file can hold (larger models "
                       "keep their weights in external data files)");
    const auto check = onnx_detail::checkModelWire(bytes);
    if (!check.plausible) fail(path, "not an ONNX model: " + check.problem);

    auto model = std::make_unique<onnx::ModelProto>();
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              static_cast<int>(bytes.size()));
    in.SetTotalBytesLimit(INT_MAX);
    if (!model->ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
        fail(path, "not an ONNX model: its protobuf data does not parse (damaged or truncated "
                   "inside the graph, or nested too deeply)");
    return model;
}

void readMetadata(const onnx::ModelProto& m, std::map<std::string, std::string>& md)
{
    md["ir_version"] = std::to_string(m.ir_version());
    std::string opsets;
    for (const auto& o : m.opset_import()) {
        if (!opsets.empty()) opsets += ", ";
        opsets += (o.domain().empty() ? std::string("ai.onnx") : o.domain()) + " " +
                  std::to_string(o.version());
    }
    md["opset_import"] = opsets;
    if (!m.producer_name().empty()) md["producer_name"] = m.producer_name();
    if (!m.producer_version().empty()) md["producer_version"] = m.producer_version();
    if (!m.domain().empty()) md["domain"] = m.domain();
    if (m.has_model_version()) md["model_version"] = std::to_string(m.model_version());
    md["graph_name"] = m.graph().name();
    for (const auto& p : m.metadata_props())
        md.emplace(p.key(), p.value()); // the fields above win over a property of the same key
}

google::protobuf::RepeatedField<std::int64_t> dims(std::initializer_list<std::int64_t> d)
{
    return {d.begin(), d.end()};
}

// Walks a graph and its subgraphs in order, handing every weight to the loader.
class WeightCollector
{
public:
    WeightCollector(TensorLoader& loader, Model& model) : m_loader(loader), m_model(model) {}

    void graph(onnx::GraphProto& g, const std::string& prefix)
    {
        const ValueUses uses(g);
        for (auto& t : *g.mutable_initializer())
            setAxis(m_loader.add(t, unique(prefix + t.name())), t.name(), uses);
        for (const auto& s : g.sparse_initializer())
            setAxis(m_loader.addWithoutData(
                        unique(prefix + s.values().name()), s.dims(),
                        "SPARSE_" + onnx_detail::elementTypeName(s.values().data_type())),
                    s.values().name(), uses);
        for (int i = 0; i < g.node_size(); ++i) {
            onnx::NodeProto& node = *g.mutable_node(i);
            if (node.op_type() == "Constant" &&
                (node.domain().empty() || node.domain() == "ai.onnx"))
                constant(node, i, prefix, uses);
            const std::string inner = prefix + onnx_detail::nodeStep(node, i) + "/";
            for (const int k : onnx_detail::subgraphAttributes(node)) {
                auto& a = *node.mutable_attribute(k);
                if (a.has_g()) graph(*a.mutable_g(), inner);
                for (auto& sub : *a.mutable_graphs())
                    graph(sub, inner);
            }
        }
    }

private:
    // A Constant's one value attribute becomes a tensor named after the node's output.
    void constant(onnx::NodeProto& node, int index, const std::string& prefix,
                  const ValueUses& uses)
    {
        const std::string value = node.output_size() > 0 ? node.output(0) : std::string();
        const std::string name =
            prefix + (value.empty() ? onnx_detail::nodeStep(node, index) : value);
        for (auto& a : *node.mutable_attribute()) {
            const std::string& attr = a.name();
            std::optional<std::size_t> added;
            onnx::TensorProto t;
            if (attr == "value" && a.has_t()) {
                added = m_loader.add(*a.mutable_t(), unique(name));
            } else if (attr == "value_float" || attr == "value_floats") {
                t.set_data_type(onnx::TensorProto_DataType_FLOAT);
                if (attr == "value_float") {
                    t.add_float_data(a.f());
                } else {
                    t.add_dims(a.floats_size());
                    t.mutable_float_data()->Swap(a.mutable_floats());
                }
                added = m_loader.add(t, unique(name));
            } else if (attr == "value_int" || attr == "value_ints") {
                t.set_data_type(onnx::TensorProto_DataType_INT64);
                if (attr == "value_int") {
                    t.add_int64_data(a.i());
                } else {
                    t.add_dims(a.ints_size());
                    t.mutable_int64_data()->Swap(a.mutable_ints());
                }
                added = m_loader.add(t, unique(name));
            } else if (attr == "value_string") {
                added = m_loader.addWithoutData(unique(name), dims({}), "STRING");
            } else if (attr == "value_strings") {
                added = m_loader.addWithoutData(unique(name), dims({a.strings_size()}), "STRING");
            } else if (attr == "sparse_value" && a.has_sparse_tensor()) {
                const auto& s = a.sparse_tensor();
                added = m_loader.addWithoutData(
                    unique(name), s.dims(),
                    "SPARSE_" + onnx_detail::elementTypeName(s.values().data_type()));
            }
            if (added) {
                setAxis(*added, value, uses);
                return;
            }
        }
    }

    void setAxis(std::size_t index, const std::string& value, const ValueUses& uses)
    {
        TensorInfo& t = m_model.tensors[index];
        t.channelAxis = uses.channelAxis(value, t.shape.size());
    }

    std::string unique(const std::string& name)
    {
        if (m_names.insert(name).second) return name;
        for (int k = 2;; ++k) {
            std::string candidate = name + "#" + std::to_string(k);
            if (m_names.insert(candidate).second) return candidate;
        }
    }

    TensorLoader& m_loader;
    Model& m_model;
    std::unordered_set<std::string> m_names;
};

} // namespace

bool OnnxReader::canOpen(const std::string& path) const
{
    if (hasOnnxExtension(path)) return true;
    try {
        const MappedFile f(path);
        return onnx_detail::checkModelWire(f.bytes()).plausible;
    } catch (const Error&) {
        return false;
    }
}

Model OnnxReader::open(const std::string& path) const
{
    const auto proto = parseModel(path);
    Model model;
    model.path = path;
    model.format = "onnx";
    readMetadata(*proto, model.metadata);
    TensorLoader loader(path, model);
    WeightCollector(loader, model).graph(*proto->mutable_graph(), "");
    return model;
}

} // namespace qs
