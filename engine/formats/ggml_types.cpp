#include "formats/ggml_types.h"

#include <array>

namespace qs {
namespace {

// Block geometry from ggml-common.h (block_* structs) and ggml.c (type_traits).
constexpr std::array<GgmlType, 32> kGgmlTypes{{
    {0, "f32", 1, 4, DType::F32},
    {1, "f16", 1, 2, DType::F16},
    {2, "q4_0", 32, 18, DType::Q4_0},
    {3, "q4_1", 32, 20, DType::Q4_1},
    {6, "q5_0", 32, 22, DType::Q5_0},
    {7, "q5_1", 32, 24, DType::Q5_1},
    {8, "q8_0", 32, 34, DType::Q8_0},
    {9, "q8_1", 32, 36, DType::GgmlOther},
    {10, "q2_K", 256, 84, DType::Q2_K},
    {11, "q3_K", 256, 110, DType::Q3_K},
    {12, "q4_K", 256, 144, DType::Q4_K},
    {13, "q5_K", 256, 176, DType::Q5_K},
    {14, "q6_K", 256, 210, DType::Q6_K},
    {15, "q8_K", 256, 292, DType::GgmlOther},
    {16, "iq2_xxs", 256, 66, DType::GgmlOther},
    {17, "iq2_xs", 256, 74, DType::GgmlOther},
    {18, "iq3_xxs", 256, 98, DType::GgmlOther},
    {19, "iq1_s", 256, 50, DType::GgmlOther},
    {20, "iq4_nl", 32, 18, DType::GgmlOther},
    {21, "iq3_s", 256, 110, DType::GgmlOther},
    {22, "iq2_s", 256, 82, DType::GgmlOther},
    {23, "iq4_xs", 256, 136, DType::GgmlOther},
    {24, "i8", 1, 1, DType::I8},
    {25, "i16", 1, 2, DType::I16},
    {26, "i32", 1, 4, DType::I32},
    {27, "i64", 1, 8, DType::I64},
    {28, "f64", 1, 8, DType::F64},
    {29, "iq1_m", 256, 56, DType::GgmlOther},
    {30, "bf16", 1, 2, DType::BF16},
    {34, "tq1_0", 256, 54, DType::GgmlOther},
    {35, "tq2_0", 256, 66, DType::GgmlOther},
    {39, "mxfp4", 32, 17, DType::GgmlOther},
}};

} // namespace

const GgmlType* ggmlType(std::uint32_t id)
{
    for (const auto& t : kGgmlTypes)
        if (t.id == id) return &t;
    return nullptr;
}

std::string_view ggmlRemovedTypeName(std::uint32_t id)
{
    switch (id) {
    case 4:
        return "q4_2";
    case 5:
        return "q4_3";
    case 31:
        return "q4_0_4_4";
    case 32:
        return "q4_0_4_8";
    case 33:
        return "q4_0_8_8";
    case 36:
        return "iq4_nl_4_4";
    case 37:
        return "iq4_nl_4_8";
    case 38:
        return "iq4_nl_8_8";
    default:
        return {};
    }
}

} // namespace qs
