// Reads ONNX models (*.onnx, recognised by content) through ONNX's protobuf classes.
#pragma once

#include "io/model_reader.h"

namespace qs {

// Weights are the graph's initializers, the values of Constant nodes (named after the node's
// output) and, recursively, those inside subgraphs of If/Loop/Scan and other nodes with graph
// attributes, named "<node>/<tensor>" with one step per enclosing node (see nodeStep in
// onnx_graph.h). A name already taken gets "#2", "#3", ... appended.
// In-file data is moved out of the parsed protobuf into per-tensor buffers; external data
// (data_location EXTERNAL) stays in its mapped file. Integer and bool tensors are listed and
// kept; types QuantScope has no type for (STRING, COMPLEX64/128, 4-bit and FNUZ float8 types,
// sparse tensors) are listed with their shape and no data (byteSize 0).
// Metadata: ir_version, opset_import, producer_name, producer_version, domain, model_version,
// graph_name, then the model's metadata_props under their own keys.
class OnnxReader : public ModelReader
{
public:
    std::string_view name() const override { return "onnx"; }
    // A top-level walk of the protobuf fields (no parsing of the graph), or the .onnx extension
    // so that a damaged .onnx file is reported by this reader.
    bool canOpen(const std::string& path) const override;
    Model open(const std::string& path) const override;
};

} // namespace qs
