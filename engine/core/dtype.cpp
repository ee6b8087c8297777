#include "core/dtype.h"

#include <array>
#include <limits>

namespace qs {
namespace {
struct DTypeInfo
{
    DType type;
    std::string_view name;
    std::int64_t blockElems;
    std::size_t blockBytes;
    bool quantizable;
};
constexpr std::array<DTypeInfo, 23> kTypes{{
    {DType::F64, "F64", 1, 8, true},
    {DType::F32, "F32", 1, 4, true},
    {DType::F16, "F16", 1, 2, true},
    {DType::BF16, "BF16", 1, 2, true},
    {DType::F8_E4M3, "F8_E4M3", 1, 1, false},
    {DType::F8_E5M2, "F8_E5M2", 1, 1, false},
    {DType::I64, "I64", 1, 8, false},
    {DType::I32, "I32", 1, 4, false},
    {DType::I16, "I16", 1, 2, false},
    {DType::I8, "I8", 1, 1, false},
    {DType::U8, "U8", 1, 1, false},
    {DType::BOOL, "BOOL", 1, 1, false},
    // Geometry of ggml's block_* structs (ggml-common.h).
    {DType::Q4_0, "q4_0", 32, 18, true},
    {DType::Q4_1, "q4_1", 32, 20, true},
    {DType::Q5_0, "q5_0", 32, 22, true},
    {DType::Q5_1, "q5_1", 32, 24, true},
    {DType::Q8_0, "q8_0", 32, 34, true},
    {DType::Q2_K, "q2_K", 256, 84, true},
    {DType::Q3_K, "q3_K", 256, 110, true},
    {DType::Q4_K, "q4_K", 256, 144, true},
    {DType::Q5_K, "q5_K", 256, 176, true},
    {DType::Q6_K, "q6_K", 256, 210, true},
    {DType::GgmlOther, "ggml", 0, 0, false},
}};
const DTypeInfo& info(DType t)
{
    return kTypes[static_cast<std::size_t>(t)];
}
} // namespace

std::size_t dtypeSize(DType t)
{
    return info(t).blockBytes;
}
std::int64_t dtypeBlockSize(DType t)
{
    return info(t).blockElems;
}
std::size_t dtypeBlockBytes(DType t)
{
    return info(t).blockBytes;
}
bool isBlockType(DType t)
{
    return info(t).blockElems != 1;
}
std::string_view dtypeName(DType t)
{
    return info(t).name;
}
bool isQuantizable(DType t)
{
    return info(t).quantizable;
}

std::optional<std::uint64_t> dtypeStorageBytes(DType t, std::int64_t numel)
{
    const DTypeInfo& i = info(t);
    if (numel < 0 || i.blockElems <= 0 || numel % i.blockElems != 0) return std::nullopt;
    const auto blocks = static_cast<std::uint64_t>(numel / i.blockElems);
    if (blocks > std::numeric_limits<std::uint64_t>::max() / i.blockBytes) return std::nullopt;
    return blocks * i.blockBytes;
}

std::optional<DType> dtypeFromName(std::string_view name)
{
    for (const auto& i : kTypes)
        if (i.blockElems == 1 && i.name == name) return i.type;
    return std::nullopt;
}

} // namespace qs
