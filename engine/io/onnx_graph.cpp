#include "io/onnx_graph.h"

#include <algorithm>
#include <optional>
#include <unordered_set>

namespace qs::onnx_detail {
namespace {

// Pass-through chains longer than this are not followed (and a malformed cyclic graph ends).
constexpr int kMaxPassThrough = 8;

bool isStandard(const onnx::NodeProto& node)
{
    return node.domain().empty() || node.domain() == "ai.onnx";
}

std::int64_t intAttribute(const onnx::NodeProto& node, const char* name, std::int64_t fallback)
{
    for (const auto& a : node.attribute())
        if (a.name() == name) return a.i();
    return fallback;
}

// The axis a consumer implies for its input `input` of rank `rank`, if it implies one.
std::optional<int> impliedAxis(const onnx::NodeProto& node, int input, std::size_t rank)
{
    if (!isStandard(node) || input != 1) return std::nullopt;
    const int last = rank > 0 ? static_cast<int>(rank) - 1 : 0;
    const std::string& op = node.op_type();
    if (op == "Conv") return 0;
    if (op == "ConvTranspose") return rank > 1 ? 1 : 0;
    if (op == "MatMul") return last;
    if (op == "Gemm") return intAttribute(node, "transB", 0) != 0 ? 0 : last;
    return std::nullopt;
}

bool passesThrough(const onnx::NodeProto& node, int input)
{
    return isStandard(node) && input == 0 && node.output_size() > 0 && !node.output(0).empty() &&
           (node.op_type() == "Cast" || node.op_type() == "Identity");
}

template <typename F> void forEachSubgraph(const onnx::NodeProto& node, F&& fn)
{
    for (const int i : subgraphAttributes(node)) {
        const auto& a = node.attribute(i);
        if (a.has_g()) fn(a.g());
        for (const auto& g : a.graphs())
            fn(g);
    }
}

// Values a graph defines itself: they hide values of the same name in enclosing graphs.
std::unordered_set<std::string> definedNames(const onnx::GraphProto& graph)
{
    std::unordered_set<std::string> names;
    for (const auto& t : graph.initializer())
        names.insert(t.name());
    for (const auto& t : graph.sparse_initializer())
        names.insert(t.values().name());
    for (const auto& v : graph.input())
        names.insert(v.name());
    for (const auto& n : graph.node())
        for (const auto& o : n.output())
            names.insert(o);
    return names;
}

} // namespace

ValueUses::ValueUses(const onnx::GraphProto& graph)
{
    collect(graph);
}

void ValueUses::collect(const onnx::GraphProto& graph)
{
    for (const auto& node : graph.node()) {
        for (int i = 0; i < node.input_size(); ++i)
            if (!node.input(i).empty()) m_uses[node.input(i)].push_back({&node, i});
        forEachSubgraph(node, [this](const onnx::GraphProto& sub) {
            const ValueUses inner(sub);
            const auto local = definedNames(sub);
            for (const auto& [name, uses] : inner.m_uses)
                if (!local.count(name)) {
                    auto& mine = m_uses[name];
                    mine.insert(mine.end(), uses.begin(), uses.end());
                }
        });
    }
}

int ValueUses::channelAxis(const std::string& value, std::size_t rank) const
{
    const int axis = axisVia(value, rank, 0);
    return axis >= 0 ? axis : 0;
}

int ValueUses::axisVia(const std::string& value, std::size_t rank, int depth) const
{
    const auto it = m_uses.find(value);
    if (it == m_uses.end()) return -1;
    for (const Use& use : it->second) {
        if (const auto axis = impliedAxis(*use.node, use.input, rank)) return *axis;
        if (depth < kMaxPassThrough && passesThrough(*use.node, use.input)) {
            const int axis = axisVia(use.node->output(0), rank, depth + 1);
            if (axis >= 0) return axis;
        }
    }
    return -1;
}

std::vector<int> subgraphAttributes(const onnx::NodeProto& node)
{
    std::vector<int> indices;
    for (int i = 0; i < node.attribute_size(); ++i)
        if (node.attribute(i).has_g() || node.attribute(i).graphs_size() > 0) indices.push_back(i);
    std::stable_sort(indices.begin(), indices.end(), [&node](int a, int b) {
        return node.attribute(a).name() == "then_branch" &&
               node.attribute(b).name() != "then_branch";
    });
    return indices;
}

std::string nodeStep(const onnx::NodeProto& node, int index)
{
    if (!node.name().empty()) return node.name();
    if (node.output_size() > 0 && !node.output(0).empty()) return node.output(0);
    return node.op_type() + "_" + std::to_string(index);
}

} // namespace qs::onnx_detail
