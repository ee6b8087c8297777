// Why the allocation chose what it chose: marginal rates per item against the budget's price.
#pragma once

#include "alloc/mckp.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qs::alloc {

struct Marginal
{
    // Distortion saved per extra byte by the best move to a larger choice (none at the top).
    std::optional<double> up;
    std::optional<std::size_t> upChoice;
    // Distortion added per byte saved by the cheapest move to a smaller choice (none at the
    // bottom). At an LP-optimal choice up <= lambda <= down: the item is worth its bytes at the
    // budget's price, and would not be worth more.
    std::optional<double> down;
    std::optional<std::size_t> downChoice;
    // Distortion removed per byte over the item's whole range (smallest to largest undominated
    // choice): how much the item cares about bytes, independently of the budget.
    double sensitivity = 0.0;
    // sensitivity / the median sensitivity of the items that had a choice (null for fixed items
    // and when the median is 0).
    std::optional<double> ratio;
    bool fixed = false; // a single undominated choice (locked, pinned or without candidates)
};

// One entry per item, at the solution's choices.
std::vector<Marginal> explain(const std::vector<Item>& items, const Solution& solution);

// A line for a person: "kept at q6_K: 3.1× more sensitive than the median layer",
// "q2_K: 0.40× as sensitive as the median layer", "q8_0: fixed (locked)".
std::string describe(const Marginal& m, std::string_view chosen, std::string_view fixedReason = {});

} // namespace qs::alloc
