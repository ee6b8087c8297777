// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no links out).
#include "report/report_row.h"
#include "report/reports.h"
#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace qs {
namespace {

using svg::cat;
using svg::escape;
using svg::num;

constexpr std::size_t kWorst = 3; // tensors whose histograms are shown

std::string bytesText(std::uint64_t b)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(b);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f %s", v, units[u]);
    return buf;
}

std::string cell(const std::optional<double>& v)
{
    return cat("<td>", v ? num(*v) : std::string(), "</td>");
}

std::string totalsTable(const ReportTotals& t)
{
    const auto row = [](const std::string& k, const std::string& v) {
        return cat("<tr><th>", escape(k), "</th><td>", escape(v), "</td></tr>\n");
    };
    const auto sqnr = t.sqnrDb();
    return cat("<table class=\"totals\">\n", row("parameters", std::to_string(t.params)),
               row("size before", bytesText(t.bytesBefore)),
               row("size after", bytesText(t.bytesAfter)),
               row("bits per weight", num(t.bitsPerWeight())),
               row("compression", cat(num(t.compression()), "x")),
               row("aggregate SQNR (10·log10 Σsignal/Σnoise)",
                   sqnr ? cat(num(*sqnr), " dB") : std::string("-")),
               "</table>\n");
}

std::string tensorTable(std::span<const TensorOutcome> outcomes)
{
    std::string out = "<table class=\"tensors\">\n<tr><th>name</th><th>dtype</th><th>format</th>"
                      "<th>granularity</th><th>params</th><th>bytes before</th>"
                      "<th>bytes after</th><th>bits/weight</th><th>MSE</th><th>SQNR dB</th>"
                      "<th>max |error|</th><th>cosine</th></tr>\n";
    for (const auto& o : outcomes) {
        const ReportRow r = reportRow(o);
        const std::string error =
            r.error.empty() ? std::string() : cat(" <em>(", escape(r.error), ")</em>");
        out +=
            cat("<tr><td>", escape(r.name), error, "</td><td>", escape(r.dtype), "</td><td>",
                escape(r.format), "</td><td>", escape(r.granularity.value_or("")), "</td><td>",
                std::to_string(r.params), "</td><td>", std::to_string(r.bytesBefore), "</td><td>",
                std::to_string(r.bytesAfter), "</td><td>", num(r.bitsPerWeight), "</td>",
                cell(r.mse), cell(r.sqnrDb), cell(r.maxAbsError), cell(r.cosine), "</tr>\n");
    }
    return out + "</table>\n";
}

std::string sqnrChart(std::span<const TensorOutcome> outcomes)
{
    std::vector<svg::Bar> bars;
    for (const auto& o : outcomes) {
        if (!o.spec || !o.analysis) continue;
        const auto s = o.analysis->sums.sqnrDb();
        // An exact tensor has no finite SQNR: it gets an empty slot, so positions stay in model
        // order, and says so in its tooltip.
        bars.push_back(
            {o.name, s.value_or(std::nan("")),
             cat(o.name, ": ", s ? cat(num(*s), " dB") : std::string("exact (no error)"))});
    }
    return svg::barChart(bars, "SQNR per quantized tensor, in model order", "dB");
}

std::string sizeChart(const ReportTotals& t)
{
    const auto mib = [](std::uint64_t b) { return static_cast<double>(b) / (1024.0 * 1024.0); };
    std::vector<svg::Bar> bars = {
        {"as stored", mib(t.bytesBefore), cat("as stored: ", bytesText(t.bytesBefore))},
        {"fp32", mib(t.bytesFp32), cat("float tensors as fp32: ", bytesText(t.bytesFp32))},
        {"fp16", mib(t.bytesFp16), cat("float tensors as fp16: ", bytesText(t.bytesFp16))},
        {"plan", mib(t.bytesAfter), cat("under the plan: ", bytesText(t.bytesAfter))}};
    return svg::barChart(bars, "Model size", "MiB");
}

std::string worstTensors(std::span<const TensorOutcome> outcomes)
{
    std::vector<const TensorOutcome*> quantized;
    for (const auto& o : outcomes)
        if (o.spec && o.analysis && o.analysis->sums.sqnrDb()) quantized.push_back(&o);
    std::stable_sort(quantized.begin(), quantized.end(), [](const auto* a, const auto* b) {
        return *a->analysis->sums.sqnrDb() < *b->analysis->sums.sqnrDb();
    });
    quantized.resize(std::min(quantized.size(), kWorst));
    if (quantized.empty()) return "<p>No quantized tensor has a quantization error.</p>\n";
    std::string out;
    for (const auto* o : quantized) {
        const TensorAnalysis& a = *o->analysis;
        out += cat("<h3>", escape(o->name), " — ", escape(formatName(*o)), ", ",
                   num(*a.sums.sqnrDb()), " dB</h3>\n");
        out += svg::histogramChart(
            {{&a.original, "original", "#3b75af"}, {&a.dequantized, "dequantized", "#e1812c"}},
            cat("Weights of ", o->name));
        out += svg::histogramChart({{&a.error, "error (w - dequantized)", "#c03d3e"}},
                                   cat("Quantization error of ", o->name));
    }
    return out;
}

} // namespace

std::string htmlReport(const ReportInput& in)
{
    const ReportTotals totals = reportTotals(in.outcomes);
    std::string out = cat(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>"
        "QuantScope report: ",
        escape(in.modelPath),
        "</title>\n<style>\nbody{font-family:sans-serif;margin:2em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:2px 6px;text-align:left;font-size:13px}table.tensors td:nth-child(n+5)"
        "{text-align:right}pre{background:#f4f4f4;padding:1em;overflow:auto}"
        "svg{display:block;margin:1em 0}\n</style>\n</head>\n<body>\n<h1>QuantScope report</h1>\n");
    const std::string version =
        in.appVersion.empty() ? std::string() : cat("<br>QuantScope ", escape(in.appVersion));
    out += cat("<p>Model: <code>", escape(in.modelPath), "</code> (", escape(in.modelFormat),
               ")<br>Plan: <code>", escape(in.planName), "</code>", version, "</p>\n");
    out += cat("<h2>Totals</h2>\n", totalsTable(totals));
    out += cat("<h2>Plots</h2>\n", sqnrChart(in.outcomes), sizeChart(totals));
    out += cat("<h2>Worst tensors</h2>\n", worstTensors(in.outcomes));
    out += cat("<h2>Tensors</h2>\n", tensorTable(in.outcomes));
    out += cat("<h2>Plan</h2>\n<pre>", escape(in.planJson), "</pre>\n");
    out += "</body>\n</html>\n";
    return out;
}

} // namespace qs
