// The multiple-choice knapsack against brute force, the frontier's geometry, gap reporting.
#include "alloc/explain.h"
#include "alloc/mckp.h"
#include "core/error.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>

using namespace qs;
using namespace qs::alloc;

namespace {

constexpr double kRel = 1e-9; // the solver is optimal to a relative 1e-10

struct Best
{
    bool feasible = false;
    double distortion = 0.0;
};

// Every assignment, the plain way.
Best bruteForce(const std::vector<Item>& items, std::uint64_t budget)
{
    Best best;
    std::vector<std::size_t> idx(items.size(), 0);
    const auto first = [&](std::size_t i) { return items[i].fixed ? *items[i].fixed : 0; };
    for (std::size_t i = 0; i < items.size(); ++i)
        idx[i] = first(i);
    for (;;) {
        std::uint64_t b = 0;
        double d = 0.0;
        for (std::size_t i = 0; i < items.size(); ++i) {
            b += items[i].choices[idx[i]].bytes;
            d += items[i].choices[idx[i]].distortion;
        }
        if (b <= budget && (!best.feasible || d < best.distortion)) best = {true, d};
        std::size_t i = 0;
        for (; i < items.size(); ++i) {
            if (items[i].fixed) continue;
            if (++idx[i] < items[i].choices.size()) break;
            idx[i] = 0;
        }
        if (i == items.size()) return best;
    }
}

// Small instances with integer costs from narrow ranges, so ties, duplicates and dominated
// choices are common; some items fixed.
std::vector<Item> randomItems(std::mt19937& rng, std::size_t n, std::size_t maxChoices)
{
    std::uniform_int_distribution<std::size_t> nc(1, maxChoices);
    std::uniform_int_distribution<int> bytes(1, 12), dist(0, 9), coin(0, 5);
    std::vector<Item> items(n);
    for (auto& it : items) {
        const std::size_t k = nc(rng);
        for (std::size_t j = 0; j < k; ++j)
            it.choices.push_back({static_cast<std::uint64_t>(bytes(rng)),
                                  static_cast<double>(dist(rng)) * 0.5});
        if (coin(rng) == 0) it.fixed = k - 1;
    }
    return items;
}

std::pair<std::uint64_t, std::uint64_t> byteRange(const std::vector<Item>& items)
{
    std::uint64_t lo = 0, hi = 0;
    for (const auto& it : items) {
        if (it.fixed) {
            lo += it.choices[*it.fixed].bytes;
            hi += it.choices[*it.fixed].bytes;
            continue;
        }
        std::uint64_t mn = UINT64_MAX, mx = 0;
        for (const auto& c : it.choices) {
            mn = std::min(mn, c.bytes);
            mx = std::max(mx, c.bytes);
        }
        lo += mn;
        hi += mx;
    }
    return {lo, hi};
}

void checkSolution(const std::vector<Item>& items, std::uint64_t budget, const Solution& s)
{
    QCOMPARE(s.choice.size(), items.size());
    std::uint64_t b = 0;
    double d = 0.0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        QVERIFY(s.choice[i] < items[i].choices.size());
        if (items[i].fixed) QCOMPARE(s.choice[i], *items[i].fixed);
        b += items[i].choices[s.choice[i]].bytes;
        d += items[i].choices[s.choice[i]].distortion;
    }
    QCOMPARE(s.bytes, b);
    QVERIFY(b <= budget);
    QVERIFY(std::fabs(s.distortion - d) <= kRel * std::max(1.0, d));
    QVERIFY(s.lowerBound <= s.distortion + kRel * std::max(1.0, d));
}

// A larger, realistic instance: per item, choices like a format ladder (bytes up, error down
// roughly geometrically) with noise, so hulls are not trivial and the LP is fractional.
std::vector<Item> ladderItems(std::mt19937& rng, std::size_t n, std::size_t k)
{
    std::uniform_real_distribution<double> u(0.5, 1.5);
    std::uniform_int_distribution<int> size(1000, 100000);
    std::vector<Item> items(n);
    for (auto& it : items) {
        const double params = size(rng), sens = u(rng) * u(rng);
        for (std::size_t j = 0; j < k; ++j) {
            const double bits = 2.0 + 0.5 * static_cast<double>(j);
            it.choices.push_back({static_cast<std::uint64_t>(params * bits / 8.0 * u(rng)),
                                  sens * params * std::pow(2.0, -2.0 * bits) * u(rng)});
        }
    }
    return items;
}

} // namespace

class TestMckp : public QObject
{
    Q_OBJECT
private slots:
    void matchesBruteForce()
    {
        std::mt19937 rng(20240611);
        int checked = 0;
        for (int trial = 0; trial < 400; ++trial) {
            const auto items = randomItems(rng, 1 + trial % 7, 1 + trial % 5);
            const auto [lo, hi] = byteRange(items);
            std::vector<std::uint64_t> budgets = {lo, hi, hi + 3, (lo + hi) / 2};
            std::uniform_int_distribution<std::uint64_t> any(lo, hi);
            budgets.push_back(any(rng));
            for (const auto& p : frontier(items)) // budgets exactly at hull vertices
                budgets.push_back(p.bytes);
            for (const auto b : budgets) {
                const Best ref = bruteForce(items, b);
                QVERIFY(ref.feasible);
                const Solution s = solve(items, b);
                checkSolution(items, b, s);
                QVERIFY(s.exact);
                QVERIFY2(std::fabs(s.distortion - ref.distortion) <=
                             kRel * std::max(1.0, ref.distortion),
                         qPrintable(QStringLiteral("trial %1 budget %2: %3 vs brute force %4")
                                        .arg(trial)
                                        .arg(b)
                                        .arg(s.distortion)
                                        .arg(ref.distortion)));
                ++checked;
            }
        }
        QVERIFY(checked > 2000);
    }

    void matchesBruteForceOnLadders()
    {
        // Continuous costs of the shape real tensors have; branch and bound does real work here.
        std::mt19937 rng(7);
        for (int trial = 0; trial < 60; ++trial) {
            const auto items = ladderItems(rng, 6, 4);
            const auto [lo, hi] = byteRange(items);
            std::uniform_int_distribution<std::uint64_t> any(lo, hi);
            for (int k = 0; k < 5; ++k) {
                const auto b = any(rng);
                const Solution s = solve(items, b);
                checkSolution(items, b, s);
                const Best ref = bruteForce(items, b);
                QVERIFY(std::fabs(s.distortion - ref.distortion) <= kRel * ref.distortion);
            }
        }
    }

    void infeasibleBudget()
    {
        std::vector<Item> items(2);
        items[0].choices = {{10, 1.0}, {20, 0.5}};
        items[1].choices = {{7, 2.0}, {30, 0.0}};
        items[1].fixed = 1;
        try {
            solve(items, 39);
            QFAIL("an infeasible budget was accepted");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(QStringLiteral("infeasible: the smallest choices need 40 bytes")),
                     qPrintable(what));
        }
        QCOMPARE(solve(items, 40).choice, (std::vector<std::size_t>{0, 1}));
    }

    void badItemsRefused()
    {
        std::vector<Item> items(1);
        QVERIFY_THROWS_EXCEPTION(Error, solve(items, 10));
        items[0].choices = {{1, -1.0}};
        QVERIFY_THROWS_EXCEPTION(Error, solve(items, 10));
        items[0].choices = {{1, 1.0}};
        items[0].fixed = 3;
        QVERIFY_THROWS_EXCEPTION(Error, solve(items, 10));
    }

    void frontierIsTheLowerHull()
    {
        std::mt19937 rng(99);
        for (int trial = 0; trial < 100; ++trial) {
            const auto items = randomItems(rng, 1 + trial % 6, 1 + trial % 5);
            const auto f = frontier(items);
            QVERIFY(!f.empty());
            for (std::size_t k = 0; k < f.size(); ++k) {
                // Each vertex is a real assignment with the stated totals ...
                const auto a = assignmentAt(items, f, k);
                std::uint64_t b = 0;
                double d = 0.0;
                for (std::size_t i = 0; i < items.size(); ++i) {
                    if (items[i].fixed) QCOMPARE(a[i], *items[i].fixed);
                    b += items[i].choices[a[i]].bytes;
                    d += items[i].choices[a[i]].distortion;
                }
                QCOMPARE(f[k].bytes, b);
                QVERIFY(std::fabs(f[k].distortion - d) <= 1e-9);
                // ... optimal for its own byte count ...
                QVERIFY(std::fabs(bruteForce(items, b).distortion - d) <= 1e-9);
                if (k == 0) continue;
                // ... and the vertices are convex: bytes up, distortion down, slopes flattening.
                QVERIFY(f[k].bytes > f[k - 1].bytes);
                QVERIFY(f[k].distortion < f[k - 1].distortion);
                if (k >= 2) {
                    const double s1 = (f[k - 2].distortion - f[k - 1].distortion) /
                                      static_cast<double>(f[k - 1].bytes - f[k - 2].bytes);
                    const double s2 = (f[k - 1].distortion - f[k].distortion) /
                                      static_cast<double>(f[k].bytes - f[k - 1].bytes);
                    QVERIFY(s2 <= s1 + 1e-12);
                }
            }
            // No assignment lies below the hull's line between neighbouring vertices.
            const auto [lo, hi] = byteRange(items);
            for (std::uint64_t b = lo; b <= hi; ++b) {
                const auto it = std::upper_bound(f.begin(), f.end(), b, [](std::uint64_t v,
                                                                          const FrontierPoint& p) {
                    return v < p.bytes;
                });
                if (it == f.end() || it == f.begin()) continue;
                const auto& p = *(it - 1);
                const auto& q = *it;
                const double t = static_cast<double>(b - p.bytes) / static_cast<double>(q.bytes - p.bytes);
                const double line = p.distortion + t * (q.distortion - p.distortion);
                QVERIFY(bruteForce(items, b).distortion >= line - 1e-9);
            }
        }
    }

    void exactPointsSkipInfeasibleBudgets()
    {
        std::mt19937 rng(5);
        const auto items = ladderItems(rng, 5, 4);
        const auto [lo, hi] = byteRange(items);
        const auto pts = exactPoints(items, {lo - 1, lo, (lo + hi) / 2, hi});
        QCOMPARE(pts.size(), std::size_t{3});
        for (const auto& s : pts)
            QVERIFY(s.exact);
    }

    void marginalsAtAVertexBracketThePrice()
    {
        std::mt19937 rng(11);
        const auto items = ladderItems(rng, 40, 6);
        const auto f = frontier(items);
        const auto& v = f[f.size() / 2];
        const Solution s = solve(items, v.bytes);
        QVERIFY(s.exact);
        QVERIFY(s.lambda > 0.0);
        QVERIFY(std::fabs(s.distortion - v.distortion) <= 1e-9 * v.distortion);
        const auto m = explain(items, s);
        int above = 0, below = 0;
        for (const auto& e : m) {
            if (e.fixed) continue; // noise can leave an item a single undominated choice
            QVERIFY(e.ratio.has_value());
            // Not worth more bytes at this price, and worth the bytes it has.
            if (e.up) QVERIFY(*e.up <= s.lambda * (1 + 1e-9));
            if (e.down) QVERIFY(*e.down >= s.lambda * (1 - 1e-9));
            (*e.ratio >= 1.0 ? above : below) += 1;
        }
        // The (lower) median splits them in half.
        QVERIFY2(above - below >= 1 && above - below <= 2, qPrintable(QString::number(above - below)));
        const auto free = std::find_if(m.begin(), m.end(), [](const Marginal& e) { return !e.fixed; });
        QVERIFY(free != m.end());
        const auto line = describe(*free, "q6_K");
        QVERIFY2(line.find("q6_K: ") != std::string::npos && line.find("median layer") != std::string::npos,
                 line.c_str());
    }

    void gapReportedAtTheNodeLimit()
    {
        std::mt19937 rng(3);
        const auto items = ladderItems(rng, 600, 12);
        const auto [lo, hi] = byteRange(items);
        const std::uint64_t budget = lo + (hi - lo) / 3;
        SolveOptions o;
        o.nodeLimit = 1;
        const Solution s = solve(items, budget, o);
        checkSolution(items, budget, s);
        QVERIFY(!s.exact);
        QVERIFY(s.gap > 0.0);
        QVERIFY(std::fabs(s.gap - (s.distortion - s.lowerBound) / s.distortion) <= 1e-12);
        QVERIFY2(s.gap <= 1e-3, qPrintable(QString::number(s.gap)));
        // A longer search never goes below the proven bound.
        const Solution t = solve(items, budget);
        checkSolution(items, budget, t);
        QVERIFY(t.distortion >= s.lowerBound * (1 - 1e-12));
        QVERIFY(t.distortion <= s.distortion * (1 + 1e-12));
    }

    void budgetFromBitsPerWeight()
    {
        QCOMPARE(budgetFromBpw(3.0, 7), std::uint64_t{2}); // 21 bits: 2 whole bytes
        QCOMPARE(budgetFromBpw(4.5, 1024), std::uint64_t{576});
        QCOMPARE(budgetFromBpw(0.0, 1000), std::uint64_t{0});
        QVERIFY_THROWS_EXCEPTION(Error, budgetFromBpw(-1.0, 10));
    }
};

QTEST_APPLESS_MAIN(TestMckp)
#include "tst_mckp.moc"
