// ONNX tensor element types (internal to the ONNX reader): their names, sizes, where their values
// are stored in a TensorProto, and the DType QuantScope keeps them as.
#pragma once

#include "core/dtype.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qs::onnx_detail {

// The TensorProto field that holds the values when raw_data is absent.
enum class TypedField { None, Float, Double, Int32, Int64, UInt64 };

struct ElementType
{
    int code; // TensorProto.DataType
    std::string_view name;
    std::size_t rawSize;         // bytes per element in raw_data and in external files
    std::optional<DType> dtype;  // what QuantScope keeps the values as; none: no data
    TypedField field;            // where the values are when raw_data is absent
    std::int64_t lo = 0, hi = 0; // accepted values in int32_data / uint64_data
};

constexpr int kUInt64Type = 13;

// Null for codes ONNX does not define (0, UNDEFINED, included).
const ElementType* findElementType(int code);
// "FLOAT", "FLOAT16", ...; "UNDEFINED" for 0 and "TYPE_<n>" for unknown codes.
std::string elementTypeName(int code);

} // namespace qs::onnx_detail
