#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace qs::svg {
namespace {

constexpr double kW = 880, kH = 260;                               // drawing size
constexpr double kLeft = 70, kRight = 20, kTop = 30, kBottom = 50; // margins
constexpr double kPlotW = kW - kLeft - kRight, kPlotH = kH - kTop - kBottom;

std::string header(const std::string& title)
{
    return cat("<svg width=\"", num(kW), "\" height=\"", num(kH), "\" viewBox=\"0 0 ", num(kW), " ",
               num(kH), "\" role=\"img\">\n<title>", escape(title), "</title>\n<text x=\"",
               num(kW / 2), "\" y=\"18\" text-anchor=\"middle\" font-size=\"14\">", escape(title),
               "</text>\n");
}

std::string text(double x, double y, const std::string& s, const char* anchor, int size = 11)
{
    return cat("<text x=\"", num(x), "\" y=\"", num(y), "\" text-anchor=\"", anchor,
               "\" font-size=\"", std::to_string(size), "\">", escape(s), "</text>\n");
}

std::string line(double x1, double y1, double x2, double y2, const char* colour)
{
    return cat("<line x1=\"", num(x1), "\" y1=\"", num(y1), "\" x2=\"", num(x2), "\" y2=\"",
               num(y2), "\" stroke=\"", colour, "\"/>\n");
}

} // namespace

std::string escape(const std::string& s)
{
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            // Control characters other than tab and line breaks are not allowed in XML.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
                out += "\xEF\xBF\xBD"; // U+FFFD
            else
                out += c;
        }
    }
    return out;
}

std::string num(double v)
{
    if (!std::isfinite(v)) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}

std::string barChart(const std::vector<Bar>& bars, const std::string& title,
                     const std::string& unit)
{
    std::string out = header(title);
    double lo = 0, hi = 0;
    for (const auto& b : bars)
        if (std::isfinite(b.value)) {
            lo = std::min(lo, b.value);
            hi = std::max(hi, b.value);
        }
    if (hi == lo) hi = lo + 1;
    const auto y = [&](double v) { return kTop + (hi - v) / (hi - lo) * kPlotH; };
    out += line(kLeft, kTop, kLeft, kTop + kPlotH, "#444");
    out += line(kLeft, y(0), kLeft + kPlotW, y(0), "#444");
    for (const double v : {lo, hi})
        out += text(kLeft - 6, y(v) + 4, cat(num(v), " ", unit), "end");
    const double slot = bars.empty() ? kPlotW : kPlotW / static_cast<double>(bars.size());
    const bool labels = slot >= 60; // room for a label under each bar
    for (std::size_t i = 0; i < bars.size(); ++i) {
        const Bar& b = bars[i];
        if (!std::isfinite(b.value)) continue;
        const double x = kLeft + slot * static_cast<double>(i) + slot * 0.1;
        const double top = y(std::max(b.value, 0.0)), bottom = y(std::min(b.value, 0.0));
        out += cat("<rect x=\"", num(x), "\" y=\"", num(top), "\" width=\"",
                   num(std::max(slot * 0.8, 0.5)), "\" height=\"", num(bottom - top),
                   "\" fill=\"#3b75af\"><title>", escape(b.tooltip), "</title></rect>\n");
        if (labels) out += text(x + slot * 0.4, kTop + kPlotH + 16, b.label, "middle", 10);
    }
    return out + "</svg>\n";
}

std::string histogramChart(const std::vector<Series>& series, const std::string& title)
{
    std::string out = header(title);
    double lo = 0, hi = 0, top = 0;
    bool any = false;
    for (const auto& s : series) {
        const Histogram& h = *s.histogram;
        if (h.counts.empty()) continue;
        lo = any ? std::min(lo, h.lo) : h.lo;
        hi = any ? std::max(hi, h.hi) : h.hi;
        any = true;
        for (const auto c : h.counts)
            top = std::max(top, static_cast<double>(c));
    }
    if (!(hi > lo)) hi = lo + 1;
    if (top <= 0) top = 1;
    const auto x = [&](double v) { return kLeft + (v - lo) / (hi - lo) * kPlotW; };
    const auto y = [&](double c) { return kTop + (1.0 - c / top) * kPlotH; };
    out += line(kLeft, kTop + kPlotH, kLeft + kPlotW, kTop + kPlotH, "#444");
    out += line(kLeft, kTop, kLeft, kTop + kPlotH, "#444");
    out += text(kLeft, kTop + kPlotH + 16, num(lo), "start");
    out += text(kLeft + kPlotW, kTop + kPlotH + 16, num(hi), "end");
    out += text(kLeft - 6, kTop + 4, num(top), "end");
    double legendX = kLeft + 10;
    for (const auto& s : series) {
        const Histogram& h = *s.histogram;
        if (h.counts.empty()) continue;
        std::string d = cat("M", num(x(h.lo)), " ", num(y(0)));
        const double w = h.binWidth();
        for (std::size_t i = 0; i < h.counts.size(); ++i) {
            const double c = static_cast<double>(h.counts[i]);
            const double x0 = h.lo + w * static_cast<double>(i);
            d += cat(" L", num(x(x0)), " ", num(y(c)), " L", num(x(x0 + w)), " ", num(y(c)));
        }
        d += cat(" L", num(x(h.hi)), " ", num(y(0)));
        out += cat("<path d=\"", d, "\" fill=\"none\" stroke=\"", s.colour,
                   "\" stroke-width=\"1.2\"><title>", escape(s.name), "</title></path>\n");
        out += cat("<text x=\"", num(legendX), "\" y=\"", num(kTop + 12),
                   "\" font-size=\"11\" fill=\"", s.colour, "\">", escape(s.name), "</text>\n");
        legendX += 12 + 7 * static_cast<double>(s.name.size());
    }
    return out + "</svg>\n";
}

} // namespace qs::svg
