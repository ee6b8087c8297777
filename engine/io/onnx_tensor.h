// Turns ONNX TensorProtos into a model's tensors (internal to the ONNX reader): validates shape
// and data, moves in-file data out of the parsed protobuf, maps external data files.
#pragma once

#include "io/model.h"
#include "io/onnx_types.h"

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace qs::onnx_detail {

class TensorLoader
{
public:
    // Tensors are appended to `model`; errors name `modelPath`.
    TensorLoader(std::string modelPath, Model& model);

    // Adds `t` under `name` and returns its index in model.tensors. In-file data is moved out
    // of `t` (no copy for raw_data and same-width typed fields); external data is mapped and
    // only checked against the file and the shape. Element types QuantScope has no type for
    // (STRING, COMPLEX64/128, 4-bit, FNUZ float8) are listed without data: byteSize 0.
    std::size_t add(onnx::TensorProto& t, const std::string& name);
    // A tensor that is listed but whose data is not read (sparse tensors, strings).
    std::size_t addWithoutData(const std::string& name,
                               const google::protobuf::RepeatedField<std::int64_t>& dims,
                               const std::string& storedType);

private:
    // Where a tensor's bytes ended up; none when the values have no QuantScope type after all
    // (UINT64 values beyond INT64's range).
    struct Placement
    {
        int fileIndex;
        std::uint64_t offset, byteSize;
    };
    using Placed = std::optional<Placement>;
    Placed externalData(const onnx::TensorProto& t, const ElementType& type,
                        const TensorInfo& info);
    Placed rawData(onnx::TensorProto& t, const ElementType& type, const TensorInfo& info);
    Placed typedData(onnx::TensorProto& t, const ElementType& type, const TensorInfo& info);
    Placement own(std::shared_ptr<const ByteSource> source);
    int emptySource();
    int externalFile(const std::string& tensor, const std::string& location);

    std::string m_path;
    std::filesystem::path m_dir;
    Model& m_model;
    int m_empty = -1;
    std::map<std::string, int> m_external; // normalised path -> index in model.files
};

} // namespace qs::onnx_detail
