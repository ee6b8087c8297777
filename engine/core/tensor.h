// A tensor as a model file describes it: name, shape, element type and where its bytes are.
#pragma once

#include "core/dtype.h"

#include <cstdint>
#include <string>
#include <vector>

namespace qs {

using Shape = std::vector<std::int64_t>;

std::int64_t shapeNumel(const Shape& shape);
std::string shapeToString(const Shape& shape); // "[4096, 11008]"

struct TensorInfo
{
    std::string name;
    Shape shape;
    DType dtype = DType::F32;
    std::string storedType;     // the type as the file names it, e.g. "F16"
    int fileIndex = 0;          // index into Model::files
    std::uint64_t offset = 0;   // absolute byte offset of the data in that file
    std::uint64_t byteSize = 0; // bytes of stored data
    int channelAxis = 0;        // output-channel axis (PyTorch layout: 0)
    // Element strides per axis for views and column-major data (PyTorch views, NumPy Fortran
    // order); empty means contiguous row-major. byteSize then covers the storage the view spans.
    std::vector<std::int64_t> strides;
    bool bigEndian = false; // values stored most significant byte first (NumPy '>f4')

    std::int64_t numel() const { return shapeNumel(shape); }
};

} // namespace qs
