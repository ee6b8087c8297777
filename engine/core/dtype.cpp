#include "core/dtype.h"

#include <array>

namespace qs {
namespace {
struct DTypeInfo
{
    DType type;
    std::string_view name;
    std::size_t size;
    bool quantizable;
};
constexpr std::array<DTypeInfo, 12> kTypes{{
    {DType::F64, "F64", 8, true},
    {DType::F32, "F32", 4, true},
    {DType::F16, "F16", 2, true},
    {DType::BF16, "BF16", 2, true},
    {DType::F8_E4M3, "F8_E4M3", 1, false},
    {DType::F8_E5M2, "F8_E5M2", 1, false},
    {DType::I64, "I64", 8, false},
    {DType::I32, "I32", 4, false},
    {DType::I16, "I16", 2, false},
    {DType::I8, "I8", 1, false},
    {DType::U8, "U8", 1, false},
    {DType::BOOL, "BOOL", 1, false},
}};
const DTypeInfo& info(DType t)
{
    return kTypes[static_cast<std::size_t>(t)];
}
} // namespace

std::size_t dtypeSize(DType t)
{
    return info(t).size;
}
std::string_view dtypeName(DType t)
{
    return info(t).name;
}
bool isQuantizable(DType t)
{
    return info(t).quantizable;
}

std::optional<DType> dtypeFromName(std::string_view name)
{
    for (const auto& i : kTypes)
        if (i.name == name) return i.type;
    return std::nullopt;
}

} // namespace qs
