// Multiple-choice knapsack: one choice per item, least total distortion within a byte budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace qs::alloc {

struct Choice
{
    std::uint64_t bytes = 0;
    double distortion = 0.0; // >= 0
};

// A tensor and the ways it can be stored. `fixed` names the one choice a locked or pinned
// tensor must keep; the others are then never considered.
struct Item
{
    std::vector<Choice> choices;
    std::optional<std::size_t> fixed;
};

struct SolveOptions
{
    // Branch-and-bound nodes (each one LP bound evaluation) before the search stops and returns
    // its best solution with the proven gap. Deterministic, unlike a time limit.
    std::uint64_t nodeLimit = 200000;
};

struct Solution
{
    std::vector<std::size_t> choice; // per item, an index into Item::choices
    std::uint64_t bytes = 0;
    double distortion = 0.0;
    bool exact = false;      // proven optimal
    double lowerBound = 0.0; // no assignment within the budget has less distortion
    double gap = 0.0;        // (distortion - lowerBound) / distortion; 0 when exact
    // The budget's price: distortion saved per extra byte at the margin (the Lagrange multiplier
    // of the LP relaxation; 0 when the budget is not binding).
    double lambda = 0.0;
    std::uint64_t nodes = 0; // branch-and-bound nodes explored
};

// The assignment with least total distortion whose bytes do not exceed `budget`. Throws
// qs::Error "infeasible: the smallest choices need N bytes, the budget is M bytes" when even the
// smallest choices do not fit, and on an item without choices or a bad `fixed` index.
Solution solve(const std::vector<Item>& items, std::uint64_t budget, const SolveOptions& options = {});

// One vertex of the lower convex hull of (bytes, distortion) over all budgets: from the
// previous vertex, item `item` moves to choice `choice` (the first vertex has item == npos and
// every item at its smallest choice).
struct FrontierPoint
{
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    std::uint64_t bytes = 0;
    double distortion = 0.0;
    std::size_t item = npos, choice = 0;
};

// The whole convex frontier in one pass: each item's undominated choices reduced to their lower
// convex hull, all hull steps sorted by distortion saved per byte and taken in that order.
// Every vertex is an optimal assignment for its own byte count; between vertices the exact
// optimum may lie below the straight line (use solve() at those budgets).
std::vector<FrontierPoint> frontier(const std::vector<Item>& items);

// The assignment at frontier vertex k (replaying the steps up to k).
std::vector<std::size_t> assignmentAt(const std::vector<Item>& items,
                                      const std::vector<FrontierPoint>& frontier, std::size_t k);

// Exact optima at the given budgets (solve() at each; infeasible budgets are left out).
std::vector<Solution> exactPoints(const std::vector<Item>& items,
                                  const std::vector<std::uint64_t>& budgets,
                                  const SolveOptions& options = {});

// floor(bpw * params / 8): the byte budget for a mean of `bpw` bits per weight.
std::uint64_t budgetFromBpw(double bpw, std::uint64_t params);

} // namespace qs::alloc
