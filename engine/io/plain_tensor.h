// The stored values of a non-float tensor as plain row-major little-endian bytes, for writers.
#pragma once

#include "core/tensor.h"

#include <cstddef>
#include <span>
#include <vector>

namespace qs {

// False for block types and for tensors a reader listed without data (types QuantScope has no
// equivalent for): there is nothing such a tensor's bytes could be written as.
bool hasPlainData(const TensorInfo& t);

// Row-major little-endian copy of a tensor's values: reorders strided views (Fortran-order
// NumPy arrays, PyTorch views) and swaps big-endian data. `data` is the tensor's stored range.
std::vector<std::byte> rowMajorLittleEndian(std::span<const std::byte> data, const TensorInfo& t);

} // namespace qs
