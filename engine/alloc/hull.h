// Per-item geometry for the knapsack: undominated choices, their lower convex hull, hull steps.
#pragma once

#include "alloc/mckp.h"

#include <cstdint>
#include <vector>

namespace qs::alloc {

// Checks every item (at least one choice, finite distortion >= 0, `fixed` in range); throws
// qs::Error naming the item otherwise.
void validateItems(const std::vector<Item>& items);

// The choices no other choice beats in both bytes and distortion, as indices sorted by bytes
// (strictly increasing) with distortion strictly decreasing. Of identical choices the first is
// kept. A fixed item yields just its fixed choice. A dominated choice is never needed: its
// dominator fits wherever it fits and costs no more distortion.
std::vector<std::size_t> undominated(const Item& item);

// The vertices of the lower convex hull of `candidates` (indices as from undominated()), in the
// same order; distortion saved per byte strictly decreases from one step to the next, so taking
// steps greedily by that rate never takes a later step of an item before an earlier one.
std::vector<std::size_t> lowerHull(const Item& item, const std::vector<std::size_t>& candidates);

// One hull step of an item: from choice `from` to the next hull vertex `to`.
struct Step
{
    double rate = 0.0; // distortion saved per extra byte
    std::uint64_t bytes = 0;
    double saved = 0.0;
    std::uint32_t item = 0, rank = 0; // rank: the step's position along its item's hull
    std::size_t from = 0, to = 0;
};

// Steps of every hull, ordered by rate (highest first), ties by item then rank: the order in
// which the LP relaxation takes them.
std::vector<Step> sortedSteps(const std::vector<Item>& items,
                              const std::vector<std::vector<std::size_t>>& hulls);

} // namespace qs::alloc
