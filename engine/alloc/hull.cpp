#include "alloc/hull.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace qs::alloc {

void validateItems(const std::vector<Item>& items)
{
    for (std::size_t i = 0; i < items.size(); ++i) {
        const Item& it = items[i];
        if (it.choices.empty())
            throw Error("allocation: item " + std::to_string(i) + " has no choices");
        if (it.fixed && *it.fixed >= it.choices.size())
            throw Error("allocation: item " + std::to_string(i) + " is fixed to choice " +
                        std::to_string(*it.fixed) + " of " + std::to_string(it.choices.size()));
        for (const Choice& c : it.choices)
            if (!std::isfinite(c.distortion) || c.distortion < 0.0)
                throw Error("allocation: item " + std::to_string(i) +
                            " has a distortion that is negative or not finite");
    }
}

std::vector<std::size_t> undominated(const Item& item)
{
    if (item.fixed) return {*item.fixed};
    std::vector<std::size_t> order(item.choices.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    const auto& c = item.choices;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (c[a].bytes != c[b].bytes) return c[a].bytes < c[b].bytes;
        return c[a].distortion < c[b].distortion;
    });
    std::vector<std::size_t> kept;
    for (const std::size_t k : order)
        // Sorted by bytes, a choice survives only if it has less distortion than everything
        // cheaper or as cheap (which includes equal-byte choices sorted before it).
        if (kept.empty() || c[k].distortion < c[kept.back()].distortion) kept.push_back(k);
    return kept;
}

namespace {

double rate(const Item& item, std::size_t from, std::size_t to)
{
    const auto& a = item.choices[from];
    const auto& b = item.choices[to];
    return (a.distortion - b.distortion) / static_cast<double>(b.bytes - a.bytes);
}

} // namespace

std::vector<std::size_t> lowerHull(const Item& item, const std::vector<std::size_t>& candidates)
{
    std::vector<std::size_t> hull;
    for (const std::size_t k : candidates) {
        // The rates are compared as the same doubles the steps are later sorted by, so the
        // hull's "strictly decreasing" holds exactly for the sort as well.
        while (hull.size() >= 2 && rate(item, hull[hull.size() - 2], hull.back()) <=
                                       rate(item, hull.back(), k))
            hull.pop_back();
        hull.push_back(k);
    }
    return hull;
}

std::vector<Step> sortedSteps(const std::vector<Item>& items,
                              const std::vector<std::vector<std::size_t>>& hulls)
{
    std::vector<Step> steps;
    for (std::size_t i = 0; i < hulls.size(); ++i) {
        const auto& h = hulls[i];
        for (std::size_t r = 1; r < h.size(); ++r) {
            const auto& a = items[i].choices[h[r - 1]];
            const auto& b = items[i].choices[h[r]];
            steps.push_back({rate(items[i], h[r - 1], h[r]), b.bytes - a.bytes,
                             a.distortion - b.distortion, static_cast<std::uint32_t>(i),
                             static_cast<std::uint32_t>(r - 1), h[r - 1], h[r]});
        }
    }
    std::sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
        if (a.rate != b.rate) return a.rate > b.rate;
        if (a.item != b.item) return a.item < b.item;
        return a.rank < b.rank;
    });
    return steps;
}

} // namespace qs::alloc
