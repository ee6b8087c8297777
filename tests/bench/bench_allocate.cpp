// Allocation benchmark: the frontier and single budgets on 1,000 tensors x 20 candidates of
// synthetic costs. Prints times and their ratio to a plain sort of as many numbers as there are
// hull steps, measured in the same run (so figures compare across machines); asserts nothing.
#include "alloc/mckp.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace qs::alloc;

namespace {

using Clock = std::chrono::steady_clock;

// Costs shaped like a format ladder: bytes grow with the bits, squared error falls about 4x per
// extra bit, each tensor with its own size and sensitivity and a little noise.
std::vector<Item> syntheticItems(std::size_t n, std::size_t k, unsigned seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> noise(0.9, 1.1), sens(0.2, 5.0);
    std::uniform_int_distribution<int> rows(64, 4096);
    std::vector<Item> items(n);
    for (auto& it : items) {
        const double params = 256.0 * rows(rng), s = sens(rng);
        for (std::size_t j = 0; j < k; ++j) {
            const double bits = 2.0 + 0.35 * static_cast<double>(j);
            it.choices.push_back({static_cast<std::uint64_t>(params * bits / 8.0 * noise(rng)),
                                  s * params * std::pow(2.0, -2.0 * bits) * noise(rng)});
        }
    }
    return items;
}

template <typename F>
double medianMs(int repeats, F&& fn)
{
    std::vector<double> t;
    for (int r = 0; r < repeats; ++r) {
        const auto a = Clock::now();
        fn();
        t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    const std::size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 1000;
    const std::size_t k = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 20;
    const int repeats = 9;
    const auto items = syntheticItems(n, k, 42);

    // Baseline: sorting n * (k - 1) random doubles, the size of the step list.
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> u;
    std::vector<double> base(n * (k - 1));
    for (auto& v : base)
        v = u(rng);
    const double sortMs = medianMs(repeats, [&] {
        auto copy = base;
        std::sort(copy.begin(), copy.end());
    });

    std::size_t points = 0;
    const double frontierMs = medianMs(repeats, [&] { points = frontier(items).size(); });
    std::printf("items %zu x %zu choices; baseline: sort of %zu doubles %.3f ms\n", n, k,
                base.size(), sortMs);
    std::printf("frontier: %.3f ms (%zu vertices), %.1fx the baseline\n", frontierMs, points,
                frontierMs / sortMs);

    std::uint64_t lo = 0, hi = 0;
    for (const auto& it : items) {
        lo += it.choices.front().bytes;
        hi += it.choices.back().bytes;
    }
    for (const double share : {0.25, 0.5, 0.75}) {
        const auto budget = lo + static_cast<std::uint64_t>(share * static_cast<double>(hi - lo));
        Solution s;
        const double ms = medianMs(repeats, [&] { s = solve(items, budget); });
        std::printf("solve at %.0f%% of the byte range: %.3f ms, %.1fx the baseline; %s, gap "
                    "%.2e, %llu nodes\n",
                    share * 100.0, ms, ms / sortMs, s.exact ? "exact" : "not proven",
                    s.gap, static_cast<unsigned long long>(s.nodes));
    }
    return 0;
}
