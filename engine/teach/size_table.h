// The model-size calculator: what a model of N parameters weighs in every registry format.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qs {

// Parses a parameter count as people write it: "123456", "30e9", "2.5k", "1.5M", "7B", "1T"
// (k = 1e3, M = 1e6, B or G = 1e9, T = 1e12, either case, a space before the suffix allowed),
// rounded to the nearest whole number. Throws qs::Error naming the text for anything else:
// junk, a negative, zero, a non-finite number, or more than 1e15 parameters.
std::int64_t parseParamCount(std::string_view text);

// Memory a model's weights might have to fit in. Memory is sold in binary units, so a "24 GB"
// card holds 24 GiB = 24 * 2^30 bytes.
struct MemoryBudget
{
    enum class Kind { Gpu, Ram };
    Kind kind;
    int gigabytes;
    std::string label() const; // "24 GB GPU", "32 GB RAM"
    double bytes() const { return double(gigabytes) * 1073741824.0; }
};

// Common sizes: 8, 12, 16, 24, 48 and 80 GB GPUs; 16, 32 and 64 GB of RAM, smallest first.
std::span<const MemoryBudget> commonMemoryBudgets();

// The budgets that hold `bytes` of weights, smallest first within each kind. The weights are
// only part of what inference needs: activations and the KV cache come on top (kSizeNote).
std::vector<MemoryBudget> budgetsThatFit(double bytes);

struct SizeRow
{
    std::string name;               // the registry name
    std::string family;             // the registry family
    double bitsPerWeight = 0.0;     // Format::bitsPerWeight(): block formats include scales
    double bytes = 0.0;             // bitsPerWeight * params / 8
    std::vector<MemoryBudget> fits; // budgetsThatFit(bytes)
};

struct SizeTable
{
    std::int64_t params = 0;
    std::vector<SizeRow> rows;
    std::vector<MemoryBudget> budgets; // commonMemoryBudgets(), what `fits` was checked against
    std::string note;                  // kSizeNote
};

// One row per registry format, in registry order. Integer and fp8 formats count their payload
// bits only: their scale overhead depends on the granularity chosen when quantizing. Throws
// qs::Error unless params > 0.
SizeTable sizeTable(std::int64_t params);

inline constexpr std::string_view kSizeNote =
    "Weights only: activations, the KV cache and the runtime need memory on top. Integer and fp8 "
    "formats also store scales (a few bytes per tensor, channel or group), not counted here.";

} // namespace qs
