#include "io/onnx_types.h"

#include <limits>

namespace qs::onnx_detail {
namespace {

using F = TypedField;
constexpr std::int64_t kI32Min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t kI32Max = std::numeric_limits<std::int32_t>::max();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

// Codes above BFLOAT16 are newer than Debian's onnx.proto (1.12), but data_type is a plain int32
// field, so they arrive intact and are matched by number here.
constexpr ElementType kTypes[] = {
    {1, "FLOAT", 4, DType::F32, F::Float},
    {2, "UINT8", 1, DType::U8, F::Int32, 0, 255},
    {3, "INT8", 1, DType::I8, F::Int32, -128, 127},
    // QuantScope has no unsigned 16/32/64-bit types: these widen to the next signed type (and
    // UINT64 values beyond INT64's range leave the tensor without data).
    {4, "UINT16", 2, DType::I32, F::Int32, 0, 65535},
    {5, "INT16", 2, DType::I16, F::Int32, -32768, 32767},
    {6, "INT32", 4, DType::I32, F::Int32, kI32Min, kI32Max},
    {7, "INT64", 8, DType::I64, F::Int64},
    {8, "STRING", 0, std::nullopt, F::None},
    {9, "BOOL", 1, DType::BOOL, F::Int32, 0, 1},
    // Float bit patterns in int32_data: accepted whether the writer sign-extended them or not.
    {10, "FLOAT16", 2, DType::F16, F::Int32, -32768, 65535},
    {11, "DOUBLE", 8, DType::F64, F::Double},
    {12, "UINT32", 4, DType::I64, F::UInt64, 0, 0xffffffff},
    {kUInt64Type, "UINT64", 8, DType::I64, F::UInt64, 0, kI64Max},
    {14, "COMPLEX64", 8, std::nullopt, F::None},
    {15, "COMPLEX128", 16, std::nullopt, F::None},
    {16, "BFLOAT16", 2, DType::BF16, F::Int32, -32768, 65535},
    {17, "FLOAT8E4M3FN", 1, DType::F8_E4M3, F::Int32, -128, 255},
    {18, "FLOAT8E4M3FNUZ", 1, std::nullopt, F::None},
    {19, "FLOAT8E5M2", 1, DType::F8_E5M2, F::Int32, -128, 255},
    {20, "FLOAT8E5M2FNUZ", 1, std::nullopt, F::None},
    {21, "UINT4", 0, std::nullopt, F::None},
    {22, "INT4", 0, std::nullopt, F::None},
    {23, "FLOAT4E2M1", 0, std::nullopt, F::None},
};

} // namespace

const ElementType* findElementType(int code)
{
    for (const auto& t : kTypes)
        if (t.code == code) return &t;
    return nullptr;
}

std::string elementTypeName(int code)
{
    if (code == 0) return "UNDEFINED";
    const ElementType* t = findElementType(code);
    return t ? std::string(t->name) : "TYPE_" + std::to_string(code);
}

} // namespace qs::onnx_detail
