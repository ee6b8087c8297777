// How an ONNX graph uses its weights (internal to the ONNX reader): which node consumes a value,
// hence the value's output-channel axis, and how subgraph tensors are named.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

namespace qs::onnx_detail {

// The consumers of every value a graph reads, in node order. A node's subgraphs (If branches,
// Loop and Scan bodies) count as part of the node: their reads of values from this graph come
// right after the node's own inputs, unless the subgraph defines a value of the same name.
class ValueUses
{
public:
    explicit ValueUses(const onnx::GraphProto& graph);

    // The output-channel axis of `value` (of rank `rank`) as its consumers imply it:
    //   Conv weight (input 1) and Gemm B with transB=1: axis 0; ConvTranspose weight: axis 1;
    //   MatMul B and Gemm B without transB: the last axis.
    // Cast and Identity pass a value through, so their consumers count too. The first consumer
    // in node order that implies an axis decides (others that disagree are ignored); consumers
    // that imply none (Add, Reshape, ...) are skipped; with none at all the axis is 0.
    int channelAxis(const std::string& value, std::size_t rank) const;

private:
    struct Use
    {
        const onnx::NodeProto* node;
        int input;
    };
    void collect(const onnx::GraphProto& graph);
    int axisVia(const std::string& value, std::size_t rank, int depth) const;

    std::unordered_map<std::string, std::vector<Use>> m_uses;
};

// The indices of a node's attributes that hold subgraphs, in the order they are walked: as
// stored, except that an If's then_branch comes before its else_branch whatever the writer's
// order (the onnx helpers sort attributes by name).
std::vector<int> subgraphAttributes(const onnx::NodeProto& node);

// The path step a node adds to the names of tensors inside its subgraphs: the node's name, else
// its first output's name, else "<op_type>_<index in its graph>".
std::string nodeStep(const onnx::NodeProto& node, int index);

} // namespace qs::onnx_detail
