// Small inline-SVG charts for the HTML report: no scripts, tooltips through <title>.
#pragma once

#include "analysis/metrics.h"

#include <string>
#include <vector>

namespace qs::svg {

// Joins strings by appending (GCC 12 warns falsely under -Wrestrict about chains of operator+).
template <typename... Parts> std::string cat(const Parts&... parts)
{
    std::string s;
    (s.append(parts), ...);
    return s;
}

// Text safe inside XML/HTML element content and attribute values.
std::string escape(const std::string& text);
// A number as short display text ("%.4g"); "-" when not finite.
std::string num(double v);

struct Bar
{
    std::string label; // below the bar when there is room, always in the tooltip
    double value = 0;
    std::string tooltip;
};

// Vertical bars from zero (values may be negative), in the order given.
std::string barChart(const std::vector<Bar>& bars, const std::string& title,
                     const std::string& unit);

// Step outlines of histograms that share one x range (original and dequantized values).
struct Series
{
    const Histogram* histogram;
    std::string name, colour;
};
std::string histogramChart(const std::vector<Series>& series, const std::string& title);

} // namespace qs::svg
