// A cheap look at the top-level protobuf fields of a file: is it shaped like an ONNX ModelProto?
// Used to recognise ONNX files by content and to say where a damaged one breaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace qs::onnx_detail {

// protobuf's coded streams count bytes in an int: no serialized ONNX model is larger.
constexpr std::uint64_t kMaxProtoBytes = 0x7fffffff;

struct WireCheck
{
    bool plausible = false; // every top-level field fits ModelProto, a graph is present
    std::string problem;    // otherwise why not, with the byte offset
};

// Walks the top-level fields only (nested messages are skipped by length, not parsed), so it
// costs a few reads however large the model is.
WireCheck checkModelWire(std::span<const std::byte> bytes);

} // namespace qs::onnx_detail
