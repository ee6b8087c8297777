#include "alloc/mckp.h"

#include "alloc/hull.h"
#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace qs::alloc {
namespace {

// Solutions within this relative distance of the incumbent are not searched for: the result is
// optimal to a relative 1e-10 (far below the noise of any distortion measure).
constexpr double kRelTol = 1e-10;

std::uint64_t addSat(std::uint64_t a, std::uint64_t b)
{
    return a > std::numeric_limits<std::uint64_t>::max() - b ? std::numeric_limits<std::uint64_t>::max()
                                                              : a + b;
}

// The problem the search works on: the items that still have a choice to make ("positions"),
// in branching order, each with its remaining choices sorted by bytes; items left with a single
// choice are folded into `capacity` and `offset`.
struct Core
{
    std::vector<std::size_t> itemOf;
    std::vector<std::vector<std::size_t>> options;
    std::vector<Step> steps;                // hull steps, Step::item = position
    std::vector<std::uint64_t> sufMinBytes; // smallest bytes of positions >= k
    std::vector<double> sufFirst;           // their distortion at those smallest choices
    std::vector<std::size_t> single;        // choice of each item left with one choice, or npos
    std::uint64_t capacity = 0;             // budget minus the single-choice items' bytes
    double offset = 0.0;                    // the single-choice items' distortion
    bool feasible = true;
};

constexpr std::size_t npos = static_cast<std::size_t>(-1);

Core makeCore(const std::vector<Item>& items, const std::vector<std::vector<std::size_t>>& opts,
              std::uint64_t budget)
{
    Core core;
    core.single.assign(items.size(), npos);
    std::uint64_t fixedBytes = 0;
    std::vector<std::size_t> multi;
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (opts[i].size() == 1) {
            core.single[i] = opts[i][0];
            fixedBytes = addSat(fixedBytes, items[i].choices[opts[i][0]].bytes);
            core.offset += items[i].choices[opts[i][0]].distortion;
        } else {
            multi.push_back(i);
        }
    }
    // Branch first on the items whose choice matters most (widest distortion range).
    const auto range = [&](std::size_t i) {
        return items[i].choices[opts[i].front()].distortion -
               items[i].choices[opts[i].back()].distortion;
    };
    std::stable_sort(multi.begin(), multi.end(),
                     [&](std::size_t a, std::size_t b) { return range(a) > range(b); });
    core.itemOf = multi;
    std::vector<Item> coreItems;
    std::vector<std::vector<std::size_t>> hulls;
    for (const std::size_t i : multi) {
        core.options.push_back(opts[i]);
        coreItems.push_back(items[i]); // steps index choices of the original item
        hulls.push_back(lowerHull(items[i], opts[i]));
    }
    core.steps = sortedSteps(coreItems, hulls);
    const std::size_t n = multi.size();
    core.sufMinBytes.assign(n + 1, 0);
    core.sufFirst.assign(n + 1, 0.0);
    for (std::size_t k = n; k-- > 0;) {
        const Choice& c = items[multi[k]].choices[core.options[k].front()];
        core.sufMinBytes[k] = addSat(core.sufMinBytes[k + 1], c.bytes);
        core.sufFirst[k] = core.sufFirst[k + 1] + c.distortion;
    }
    core.feasible = fixedBytes <= budget && core.sufMinBytes[0] <= budget - fixedBytes;
    core.capacity = core.feasible ? budget - fixedBytes : 0;
    return core;
}

// Depth-first branch and bound over the core positions, bounded by the LP relaxation of the
// positions not yet decided (Lagrangian ordering of the children); every bound evaluation also
// completes the node greedily, which keeps the incumbent good from the first node on.
class Search
{
public:
    Search(const std::vector<Item>& items, const Core& core, std::uint64_t nodeLimit)
        : m_items(items), m_core(core), m_limit(nodeLimit), m_path(core.itemOf.size()),
          m_cur(core.itemOf.size()), m_best(core.itemOf.size())
    {
    }

    void setIncumbent(double ub, const std::vector<std::size_t>& positions)
    {
        m_ub = ub;
        m_best = positions;
        m_haveBest = true;
    }

    // The LP bound of positions >= k with `left` bytes above their smallest choices, plus
    // `used` distortion already decided; records the greedy completion when it improves.
    double bound(std::size_t k, std::uint64_t left, double used, double* lambda)
    {
        for (std::size_t p = k; p < m_cur.size(); ++p)
            m_cur[p] = m_core.options[p].front();
        double dist = m_core.sufFirst[k], lp = 0.0;
        bool broken = false;
        *lambda = 0.0;
        for (const Step& s : m_core.steps) {
            if (s.item < k) continue;
            if (!broken) {
                if (s.bytes <= left) {
                    left -= s.bytes;
                    dist -= s.saved;
                    m_cur[s.item] = s.to;
                    continue;
                }
                broken = true;
                *lambda = s.rate;
                lp = dist - s.rate * static_cast<double>(left);
                continue;
            }
            // Past the LP's break, whole later steps that still fit keep the completion greedy.
            if (m_cur[s.item] == s.from && s.bytes <= left) {
                left -= s.bytes;
                dist -= s.saved;
                m_cur[s.item] = s.to;
            }
        }
        if (!broken) lp = dist;
        if (used + dist < m_ub || !m_haveBest) {
            m_ub = used + dist;
            std::copy(m_path.begin(), m_path.begin() + static_cast<std::ptrdiff_t>(k), m_best.begin());
            std::copy(m_cur.begin() + static_cast<std::ptrdiff_t>(k), m_cur.end(),
                      m_best.begin() + static_cast<std::ptrdiff_t>(k));
            m_haveBest = true;
        }
        return used + std::max(lp, 0.0);
    }

    void run() { dfs(0, 0, 0.0); }

    bool aborted() const { return m_aborted; }
    std::uint64_t nodes() const { return m_nodes; }
    const std::vector<std::size_t>& best() const { return m_best; }
    double upperBound() const { return m_ub; }

private:
    void dfs(std::size_t k, std::uint64_t bytes, double used)
    {
        if (m_nodes >= m_limit) {
            m_aborted = true;
            return;
        }
        ++m_nodes;
        const std::size_t n = m_path.size();
        if (k == n) { // reached only when the bound of the parent left room
            if (used < m_ub) {
                m_ub = used;
                m_best = m_path;
            }
            return;
        }
        double lambda = 0.0;
        const std::uint64_t left = m_core.capacity - bytes - m_core.sufMinBytes[k];
        if (bound(k, left, used, &lambda) >= m_ub - kRelTol * m_ub) return;
        const std::size_t item = m_core.itemOf[k];
        const auto& choices = m_items[item].choices;
        std::vector<std::size_t> order = m_core.options[k];
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return choices[a].distortion + lambda * static_cast<double>(choices[a].bytes) <
                   choices[b].distortion + lambda * static_cast<double>(choices[b].bytes);
        });
        for (const std::size_t c : order) {
            const std::uint64_t nb = bytes + choices[c].bytes;
            if (nb > m_core.capacity || m_core.sufMinBytes[k + 1] > m_core.capacity - nb) continue;
            m_path[k] = c;
            dfs(k + 1, nb, used + choices[c].distortion);
            if (m_aborted) return;
        }
    }

    const std::vector<Item>& m_items;
    const Core& m_core;
    std::uint64_t m_limit, m_nodes = 0;
    bool m_aborted = false, m_haveBest = false;
    double m_ub = std::numeric_limits<double>::infinity();
    std::vector<std::size_t> m_path, m_cur, m_best;
};

std::vector<std::size_t> assemble(const Core& core, const std::vector<std::size_t>& positions)
{
    std::vector<std::size_t> choice = core.single;
    for (std::size_t p = 0; p < positions.size(); ++p)
        choice[core.itemOf[p]] = positions[p];
    return choice;
}

// Lagrangian variable fixing: with price lambda, a solution that takes choice j of item i has
// at least L(lambda) + r_ij distortion (weak duality), r_ij being how much more j costs at that
// price than the item's cheapest choice. Choices whose bound exceeds the incumbent go.
std::vector<std::vector<std::size_t>> reduce(const std::vector<Item>& items,
                                             const std::vector<std::vector<std::size_t>>& opts,
                                             std::uint64_t budget, double lambda, double ub,
                                             const std::vector<std::size_t>& incumbent)
{
    const auto priced = [&](std::size_t i, std::size_t j) {
        return items[i].choices[j].distortion +
               lambda * static_cast<double>(items[i].choices[j].bytes);
    };
    std::vector<double> least(items.size());
    double lagrangian = -lambda * static_cast<double>(budget);
    for (std::size_t i = 0; i < items.size(); ++i) {
        double m = std::numeric_limits<double>::infinity();
        for (const std::size_t j : opts[i])
            m = std::min(m, priced(i, j));
        least[i] = m;
        lagrangian += m;
    }
    const double limit = ub + kRelTol * ub + 1e-300;
    std::vector<std::vector<std::size_t>> kept(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
        for (const std::size_t j : opts[i])
            // The incumbent's own choices pass in exact arithmetic; keeping them explicitly makes
            // sure rounding never removes them.
            if (j == incumbent[i] || lagrangian + (priced(i, j) - least[i]) <= limit)
                kept[i].push_back(j);
    return kept;
}

} // namespace

Solution solve(const std::vector<Item>& items, std::uint64_t budget, const SolveOptions& options)
{
    validateItems(items);
    std::vector<std::vector<std::size_t>> opts(items.size());
    std::uint64_t least = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        opts[i] = undominated(items[i]);
        least = addSat(least, items[i].choices[opts[i].front()].bytes);
    }
    if (least > budget)
        throw Error("infeasible: the smallest choices need " + std::to_string(least) +
                    " bytes, the budget is " + std::to_string(budget) + " bytes");

    // The root: LP bound, price and greedy incumbent over the undominated choices.
    const Core root = makeCore(items, opts, budget);
    Search first(items, root, 1);
    double lambda = 0.0;
    const double lowerBound =
        root.offset + first.bound(0, root.capacity - root.sufMinBytes[0], 0.0, &lambda);
    double ub = root.offset + first.upperBound();
    std::vector<std::size_t> best = assemble(root, first.best());

    Solution s;
    s.lambda = lambda;
    s.exact = ub <= lowerBound + kRelTol * ub;
    s.nodes = 1;
    s.lowerBound = lowerBound;
    if (!s.exact) {
        const Core core = makeCore(items, reduce(items, opts, budget, lambda, ub, best), budget);
        Search search(items, core, options.nodeLimit);
        std::vector<std::size_t> start(core.itemOf.size());
        for (std::size_t p = 0; p < start.size(); ++p)
            start[p] = best[core.itemOf[p]];
        search.setIncumbent(ub - core.offset, start);
        search.run();
        s.nodes += search.nodes();
        s.exact = !search.aborted();
        best = assemble(core, search.best());
    }
    s.choice = best;
    for (std::size_t i = 0; i < items.size(); ++i) {
        s.bytes += items[i].choices[best[i]].bytes;
        s.distortion += items[i].choices[best[i]].distortion;
    }
    if (s.exact) {
        s.lowerBound = s.distortion;
        s.gap = 0.0;
    } else {
        s.lowerBound = std::min(s.lowerBound, s.distortion);
        s.gap = s.distortion > 0.0 ? (s.distortion - s.lowerBound) / s.distortion : 0.0;
    }
    return s;
}

std::vector<FrontierPoint> frontier(const std::vector<Item>& items)
{
    validateItems(items);
    std::vector<std::vector<std::size_t>> hulls(items.size());
    FrontierPoint p;
    for (std::size_t i = 0; i < items.size(); ++i) {
        hulls[i] = lowerHull(items[i], undominated(items[i]));
        p.bytes += items[i].choices[hulls[i].front()].bytes;
        p.distortion += items[i].choices[hulls[i].front()].distortion;
    }
    const auto steps = sortedSteps(items, hulls);
    std::vector<FrontierPoint> out;
    out.reserve(steps.size() + 1);
    out.push_back(p);
    for (const Step& s : steps) {
        p.bytes += s.bytes;
        p.distortion = std::max(0.0, p.distortion - s.saved);
        p.item = s.item;
        p.choice = s.to;
        out.push_back(p);
    }
    return out;
}

std::vector<std::size_t> assignmentAt(const std::vector<Item>& items,
                                      const std::vector<FrontierPoint>& frontier, std::size_t k)
{
    std::vector<std::size_t> choice(items.size());
    for (std::size_t i = 0; i < items.size(); ++i)
        choice[i] = lowerHull(items[i], undominated(items[i])).front();
    for (std::size_t j = 1; j <= k && j < frontier.size(); ++j)
        choice[frontier[j].item] = frontier[j].choice;
    return choice;
}

std::vector<Solution> exactPoints(const std::vector<Item>& items,
                                  const std::vector<std::uint64_t>& budgets,
                                  const SolveOptions& options)
{
    validateItems(items);
    std::uint64_t least = 0;
    for (const Item& it : items)
        least = addSat(least, it.choices[undominated(it).front()].bytes);
    std::vector<Solution> out;
    for (const std::uint64_t b : budgets)
        if (b >= least) out.push_back(solve(items, b, options));
    return out;
}

std::uint64_t budgetFromBpw(double bpw, std::uint64_t params)
{
    if (!std::isfinite(bpw) || bpw < 0.0)
        throw Error("bits per weight must be a finite number >= 0, not " + std::to_string(bpw));
    const long double bytes = std::floor(static_cast<long double>(bpw) *
                                         static_cast<long double>(params) / 8.0L);
    if (bytes >= 18446744073709551615.0L) return std::numeric_limits<std::uint64_t>::max();
    return static_cast<std::uint64_t>(bytes);
}

} // namespace qs::alloc
