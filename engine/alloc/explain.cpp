#include "alloc/explain.h"

#include "alloc/hull.h"

#include <algorithm>
#include <cstdio>

namespace qs::alloc {

std::vector<Marginal> explain(const std::vector<Item>& items, const Solution& solution)
{
    std::vector<Marginal> out(items.size());
    std::vector<double> free;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto opts = undominated(items[i]);
        Marginal& m = out[i];
        m.fixed = opts.size() < 2;
        if (m.fixed) continue;
        const auto& c = items[i].choices;
        const Choice& lo = c[opts.front()];
        const Choice& hi = c[opts.back()];
        m.sensitivity = (lo.distortion - hi.distortion) / static_cast<double>(hi.bytes - lo.bytes);
        free.push_back(m.sensitivity);
        const Choice& cur = c[solution.choice[i]];
        for (const std::size_t j : opts) {
            if (c[j].bytes > cur.bytes && c[j].distortion < cur.distortion) {
                const double r = (cur.distortion - c[j].distortion) /
                                 static_cast<double>(c[j].bytes - cur.bytes);
                if (!m.up || r > *m.up) {
                    m.up = r;
                    m.upChoice = j;
                }
            } else if (c[j].bytes < cur.bytes && c[j].distortion >= cur.distortion) {
                const double r = (c[j].distortion - cur.distortion) /
                                 static_cast<double>(cur.bytes - c[j].bytes);
                if (!m.down || r < *m.down) {
                    m.down = r;
                    m.downChoice = j;
                }
            }
        }
    }
    if (free.empty()) return out;
    // The lower median for an even count: a value some item actually has.
    const auto mid = free.begin() + static_cast<std::ptrdiff_t>((free.size() - 1) / 2);
    std::nth_element(free.begin(), mid, free.end());
    const double median = *mid;
    if (median > 0.0)
        for (Marginal& m : out)
            if (!m.fixed) m.ratio = m.sensitivity / median;
    return out;
}

std::string describe(const Marginal& m, std::string_view chosen, std::string_view fixedReason)
{
    std::string s(chosen);
    if (m.fixed || !m.ratio) {
        s += ": fixed";
        if (!fixedReason.empty()) {
            s += " (";
            s += fixedReason;
            s += ")";
        }
        return s;
    }
    char buf[96];
    const double r = *m.ratio;
    if (r > 0.95 && r < 1.05)
        std::snprintf(buf, sizeof buf, ": about as sensitive as the median layer");
    else if (r >= 1.0)
        std::snprintf(buf, sizeof buf, ": %.1f\u00d7 more sensitive than the median layer", r);
    else
        std::snprintf(buf, sizeof buf, ": %.2f\u00d7 as sensitive as the median layer", r);
    std::string line = "kept at ";
    line += s;
    line += buf;
    return line;
}

} // namespace qs::alloc
