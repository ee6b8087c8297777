#include "teach/size_table.h"

#include "core/error.h"
#include "formats/format.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

namespace qs {
namespace {

// Far beyond any model in sight. Byte counts are exact below 2^46 (about 7e13) parameters: the
// registry's bits per weight have at most 7 significant bits (6.5625 = 105/16).
constexpr double kMaxParams = 1e15;

constexpr std::array<MemoryBudget, 9> kBudgets{{
    {MemoryBudget::Kind::Gpu, 8},
    {MemoryBudget::Kind::Gpu, 12},
    {MemoryBudget::Kind::Gpu, 16},
    {MemoryBudget::Kind::Gpu, 24},
    {MemoryBudget::Kind::Gpu, 48},
    {MemoryBudget::Kind::Gpu, 80},
    {MemoryBudget::Kind::Ram, 16},
    {MemoryBudget::Kind::Ram, 32},
    {MemoryBudget::Kind::Ram, 64},
}};

std::string_view trim(std::string_view s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.remove_suffix(1);
    return s;
}

double suffixMultiplier(char c)
{
    switch (std::tolower(static_cast<unsigned char>(c))) {
    case 'k':
        return 1e3;
    case 'm':
        return 1e6;
    case 'b':
    case 'g':
        return 1e9;
    case 't':
        return 1e12;
    default:
        return 0.0;
    }
}

[[noreturn]] void refuse(std::string_view text, const char* why)
{
    std::string msg = "parameter count '";
    msg += text;
    msg += "': ";
    msg += why;
    throw Error(msg);
}

} // namespace

std::int64_t parseParamCount(std::string_view text)
{
    const std::string_view t = trim(text);
    if (t.empty()) refuse(text, "empty; write a number such as 7B, 1.5M or 30e9");
    double v = 0.0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec == std::errc::result_out_of_range) refuse(text, "too large");
    if (ec != std::errc()) refuse(text, "not a number; write e.g. 7B, 1.5M, 2.5k, 30e9 or 123456");
    const std::string_view suffix = trim(t.substr(static_cast<std::size_t>(end - t.data())));
    double multiplier = 1.0;
    if (!suffix.empty()) {
        multiplier = suffix.size() == 1 ? suffixMultiplier(suffix.front()) : 0.0;
        if (multiplier == 0.0) refuse(text, "unknown suffix; use k, M, B (or G) or T");
    }
    if (!std::isfinite(v)) refuse(text, "not a finite number");
    if (std::signbit(v) && v != 0.0) refuse(text, "negative");
    const double count = std::nearbyint(v * multiplier);
    if (count == 0.0) refuse(text, "zero parameters (counts below 0.5 round to 0)");
    if (count > kMaxParams) refuse(text, "more than 1e15 parameters");
    return static_cast<std::int64_t>(count);
}

SizeTable sizeTable(std::int64_t params)
{
    if (params <= 0)
        throw Error("size table: the parameter count must be positive, not " +
                    std::to_string(params));
    SizeTable t;
    t.params = params;
    for (const auto& f : formats()) {
        SizeRow r;
        r.name = f.name;
        r.family = f.family;
        r.bitsPerWeight = f.bitsPerWeight();
        r.bytes = r.bitsPerWeight * static_cast<double>(params) / 8.0;
        r.fits = budgetsThatFit(r.bytes);
        t.rows.push_back(std::move(r));
    }
    t.budgets.assign(kBudgets.begin(), kBudgets.end());
    t.note = kSizeNote;
    return t;
}

std::string MemoryBudget::label() const
{
    std::string s = std::to_string(gigabytes);
    s += kind == Kind::Gpu ? " GB GPU" : " GB RAM";
    return s;
}

std::span<const MemoryBudget> commonMemoryBudgets()
{
    return kBudgets;
}

std::vector<MemoryBudget> budgetsThatFit(double bytes)
{
    std::vector<MemoryBudget> out;
    for (const auto& b : kBudgets)
        if (bytes <= b.bytes()) out.push_back(b);
    return out;
}

} // namespace qs
