// Report files: CSV columns and quoting, llama.cpp tensor types, ONNX Runtime overrides, HTML.
#include "core/error.h"
#include "report/report_row.h"
#include "report/reports.h"
#include "report/svg_plot.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <sstream>

using namespace qs;

namespace {

// An outcome with hand-made sums, so every metric has a value known in advance.
TensorOutcome quantized(const std::string& name, const char* format, const char* granularity,
                        double sumW2, double sumE2, int axis = 0)
{
    TensorOutcome o;
    o.name = name;
    o.storedType = "F32";
    o.quantizable = true;
    o.spec = QuantSpec{findFormat(format), *Granularity::parse(granularity)};
    o.channelAxis = axis;
    o.params = 1000;
    o.bytesBefore = 4000;
    o.bytesAfter = 1000;
    o.bitsPerWeight = 8.0;
    TensorAnalysis a;
    a.sums.count = 1000;
    a.sums.sumW2 = sumW2;
    a.sums.sumE2 = sumE2;
    a.sums.sumD2 = sumW2;
    a.sums.sumWD = sumW2 - sumE2 / 2;
    a.sums.maxAbsError = 0.125;
    a.original = {-1.0, 1.0, std::vector<std::uint64_t>(8, 125)};
    a.dequantized = a.original;
    a.error = {-0.5, 0.5, std::vector<std::uint64_t>(4, 250)};
    o.analysis = a;
    return o;
}

TensorOutcome kept(const std::string& name)
{
    TensorOutcome o;
    o.name = name;
    o.storedType = "F16";
    o.quantizable = true;
    o.params = 10;
    o.bytesBefore = o.bytesAfter = 20;
    o.bitsPerWeight = 16.0;
    return o;
}

// RFC 4180 records (quoted fields may hold commas, quotes and line breaks).
std::vector<std::vector<std::string>> parseCsv(const std::string& text)
{
    std::vector<std::vector<std::string>> rows(1);
    std::string field;
    bool quoted = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            rows.back().push_back(field);
            field.clear();
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            rows.back().push_back(field);
            field.clear();
            rows.emplace_back();
            ++i;
        } else {
            field += c;
        }
    }
    if (rows.back().empty()) rows.pop_back();
    return rows;
}

double parseDouble(const std::string& s)
{
    double v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nan("");
    return v;
}

// What llama-quantize does with a `PATTERN=TYPE` token: lower-case the pattern, search it.
bool llamaMatches(std::string pattern, const std::string& tensor)
{
    std::transform(pattern.begin(), pattern.end(), pattern.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return std::regex_search(tensor, std::regex(pattern));
}

} // namespace

class TestReport : public QObject
{
    Q_OBJECT
private slots:
    void csvColumns()
    {
        const std::vector<TensorOutcome> outcomes = {
            quantized("plain.weight", "int8", "channel", 2.0, 0.002),
            quantized("a,b \"quoted\"\nname", "uint4", "group:32", 1.0, 0.01, 1), kept("norm")};
        const auto rows = parseCsv(csvReport(outcomes));
        QCOMPARE(rows.size(), std::size_t{4});
        const std::vector<std::string> header = {
            "name",         "format",        "granularity",     "channel_axis", "params",
            "bytes_before", "bytes_after",   "bits_per_weight", "mse",          "rmse",
            "sqnr_db",      "max_abs_error", "cosine"};
        QVERIFY(rows[0] == header);
        for (std::size_t i = 0; i < outcomes.size(); ++i) {
            const auto& cells = rows[i + 1];
            QCOMPARE(cells.size(), header.size());
            const ReportRow r = reportRow(outcomes[i]);
            QCOMPARE(cells[0], r.name); // survives quoting exactly
            QCOMPARE(cells[1], r.format);
            QCOMPARE(cells[2], r.granularity.value_or(""));
            QCOMPARE(parseDouble(cells[3]), double(r.channelAxis));
            QCOMPARE(parseDouble(cells[4]), double(r.params));
            QCOMPARE(parseDouble(cells[6]), double(r.bytesAfter));
            const std::optional<double> metrics[] = {r.mse, r.rmse, r.sqnrDb, r.maxAbsError,
                                                     r.cosine};
            for (int m = 0; m < 5; ++m) {
                const std::string& c = cells[8 + static_cast<std::size_t>(m)];
                if (!metrics[m]) {
                    QVERIFY2(c.empty(), c.c_str()); // not applicable: an empty cell
                } else {
                    QCOMPARE(parseDouble(c), *metrics[m]); // bit-exact round trip
                }
            }
        }
        QCOMPARE(parseDouble(rows[1][10]), 30.0); // 10·log10(2 / 0.002)
    }

    void totals()
    {
        const std::vector<TensorOutcome> outcomes = {quantized("a", "int8", "tensor", 3.0, 0.003),
                                                     quantized("b", "int4", "tensor", 1.0, 0.1),
                                                     kept("c")};
        const ReportTotals t = reportTotals(outcomes);
        QCOMPARE(t.bytesBefore, std::uint64_t{8020});
        QCOMPARE(t.bytesAfter, std::uint64_t{2020});
        QCOMPARE(t.bytesFp32, std::uint64_t{8040});
        QCOMPARE(t.bytesFp16, std::uint64_t{4020});
        // Aggregate SQNR weighs tensors by their power, unlike a mean of per-tensor dB.
        QVERIFY(std::abs(*t.sqnrDb() - 10 * std::log10(4.0 / 0.103)) < 1e-12);
        QVERIFY(!reportTotals(std::vector<TensorOutcome>{kept("c")}).sqnrDb());
    }

    void llamaTypes_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("type"); // empty: left out
        QTest::addRow("fp16") << "fp16"
                              << "f16";
        QTest::addRow("bf16") << "bf16"
                              << "bf16";
        QTest::addRow("fp32") << "fp32"
                              << "f32";
        QTest::addRow("q8_0") << "q8_0"
                              << "q8_0";
        QTest::addRow("q4_K") << "q4_K"
                              << "q4_K";
        QTest::addRow("int8") << "int8"
                              << "";
        QTest::addRow("nf4") << "nf4"
                             << "";
        QTest::addRow("mxfp4") << "mxfp4"
                               << "";
    }
    void llamaTypes()
    {
        QFETCH(QString, format);
        QFETCH(QString, type);
        const std::vector<TensorOutcome> outcomes = {
            quantized("output.weight", format.toStdString().c_str(), "tensor", 1, 0.1),
            kept("blk.0.attn_norm.weight")};
        const ToolFile f = llamaTensorTypes(outcomes, "gguf");
        QVERIFY(f.notes.empty());
        if (type.isEmpty()) {
            QVERIFY(f.text.empty());
            QCOMPARE(f.skipped.size(), std::size_t{1});
            QCOMPARE(f.skipped[0].name, std::string("output.weight"));
        } else {
            QCOMPARE(f.text, "^output\\.weight$=" + type.toStdString() + "\n");
            QVERIFY(f.skipped.empty());
        }
    }

    void llamaPatternsMatchOneTensor()
    {
        // Names that an unanchored, unescaped pattern would get wrong in llama-quantize.
        const std::vector<std::string> names = {"output.weight",       "blk.0.attn_output.weight",
                                                "blk.1.ffn.weight",    "blk.11.ffn.weight",
                                                "Model.Embed=x y+(z)", "token_embd.weight"};
        std::vector<TensorOutcome> outcomes;
        for (const auto& n : names)
            outcomes.push_back(quantized(n, "q8_0", "tensor", 1, 0.1));
        const ToolFile f = llamaTensorTypes(outcomes, "safetensors");
        QCOMPARE(f.notes.size(), std::size_t{1}); // the renaming caveat, not in the file
        // llama-quantize reads whitespace-separated tokens and has no comment syntax.
        std::vector<std::string> tokens;
        std::istringstream in(f.text);
        for (std::string tok; in >> tok;)
            tokens.push_back(tok);
        QCOMPARE(tokens.size(), names.size());
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const auto eq = tokens[i].find('=');
            QVERIFY(eq != std::string::npos && tokens[i].substr(eq + 1) == "q8_0");
            const std::string pattern = tokens[i].substr(0, eq);
            for (std::size_t j = 0; j < names.size(); ++j)
                QVERIFY2(llamaMatches(pattern, names[j]) == (i == j),
                         qPrintable(QString::fromStdString(pattern + " vs " + names[j])));
        }
    }

    void ortOverrides()
    {
        const std::vector<TensorOutcome> outcomes = {
            quantized("conv.weight", "int8", "channel", 1, 0.1, 0),
            quantized("fc.weight", "uint4", "tensor", 1, 0.1, 1),
            quantized("fc2.weight", "int4", "channel", 1, 0.1, 1),
            quantized("grouped", "int8", "group:32", 1, 0.1),
            quantized("half", "fp16", "tensor", 1, 0.1),
            quantized("int6", "int6", "tensor", 1, 0.1),
            kept("bias")};
        const ToolFile f = ortTensorQuantOverrides(outcomes);
        const auto j = nlohmann::json::parse(f.text);
        QCOMPARE(j.size(), std::size_t{3});
        QCOMPARE(j["conv.weight"][0]["quant_type"], "QInt8");
        QCOMPARE(j["conv.weight"][0]["symmetric"], true);
        QCOMPARE(j["conv.weight"][0]["axis"], 0);
        QCOMPARE(j["fc.weight"][0]["quant_type"], "QUInt4");
        QCOMPARE(j["fc.weight"][0]["symmetric"], false);
        QVERIFY(!j["fc.weight"][0].contains("axis"));
        QCOMPARE(j["fc2.weight"][0]["quant_type"], "QInt4");
        QCOMPARE(j["fc2.weight"][0]["axis"], 1);
        QCOMPARE(f.skipped.size(), std::size_t{3});
        QCOMPARE(f.skipped[0].name, std::string("grouped"));
        QCOMPARE(f.skipped[1].name, std::string("half"));
        QCOMPARE(f.skipped[2].name, std::string("int6"));
    }

    void htmlIsSelfContained()
    {
        ReportInput in;
        in.modelPath = "/models/<b>odd</b> & \"name\".safetensors";
        in.modelFormat = "safetensors";
        in.planName = "A";
        in.planJson = R"({"default": {"format": "int8"}, "rules": [{"match": "<script>"}]})";
        in.outcomes = {quantized("layer<script>alert(1)</script>", "int8", "channel", 2, 0.002),
                       quantized("worst", "int4", "tensor", 1, 0.1), kept("norm")};
        const std::string html = htmlReport(in);
        const QString h = QString::fromStdString(html);
        QVERIFY(h.startsWith(QStringLiteral("<!DOCTYPE html>")));
        QVERIFY(h.contains(QStringLiteral("<table")));
        // SQNR bars, size bars, and for each of the two quantized tensors two histograms.
        QCOMPARE(h.count(QStringLiteral("<svg ")), 2 + 2 * 2);
        QCOMPARE(h.count(QStringLiteral("<svg ")), h.count(QStringLiteral("</svg>")));
        for (const char* external : {"<script", "http:", "https:", "src=", "<link", "url("})
            QVERIFY2(!h.contains(QLatin1String(external)), external);
        QVERIFY(h.contains(QStringLiteral("layer&lt;script&gt;alert(1)&lt;/script&gt;")));
        QVERIFY(h.contains(QStringLiteral("&lt;b&gt;odd&lt;/b&gt; &amp; &quot;name&quot;")));
        // The aggregate SQNR over both quantized tensors: 10·log10(3 / 0.102).
        QVERIFY(h.contains(QString::fromStdString(svg::num(10 * std::log10(3.0 / 0.102)) + " dB")));
        // The worst tensor (lowest SQNR) comes first among the histograms.
        QVERIFY(h.indexOf(QStringLiteral("Weights of worst")) <
                h.indexOf(QStringLiteral("Weights of layer")));
    }

    void atomicWrite()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("r.csv")).toStdString();
        writeReportFile(path, "a\r\n");
        QFile f(QString::fromStdString(path));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("a\r\n"));
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".part")));
        try {
            writeReportFile(dir.filePath(QStringLiteral("no/such/dir/r.csv")).toStdString(), "x");
            QFAIL("wrote into a missing directory");
        } catch (const Error& e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(QStringLiteral("no/such/dir/r.csv")),
                     e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestReport)
#include "tst_report.moc"
