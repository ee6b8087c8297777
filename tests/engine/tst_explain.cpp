// The number explorer (engine/teach/explain.h) against conversions written independently from the
// format definitions in Python (tests/data/make_explain_fixtures.py: NumPy float16, bf16 rounding
// on float32 bits, table-based fp8/fp4 nearest search, the integer rules in float32), over a few
// hundred values: ties, subnormals, overflow, signed zeros, NaN and Inf, several ranges.
#include "core/error.h"
#include "teach/explain.h"
#include "testutil.h"

#include <QTest>

#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <limits>

using namespace qs;

namespace {

const std::string kCases = QS_TEST_DATA "/explain/explain_cases.json";

// The fixture writes non-finite numbers as strings and a missing neighbour as null.
std::optional<double> numberOf(const nlohmann::json& j)
{
    if (j.is_null()) return std::nullopt;
    if (j.is_string()) {
        const auto s = j.get<std::string>();
        if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
        return s == "inf" ? std::numeric_limits<double>::infinity()
                          : -std::numeric_limits<double>::infinity();
    }
    return j.get<double>();
}

// Bit-identical (so -0 differs from +0), any NaN equal to any NaN.
bool same(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) ||
           std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
}

QString show(const std::optional<double>& v)
{
    return v ? QString::number(*v, 'g', 17) : QStringLiteral("none");
}

// A copy, so that rows of temporary explanations are safe to keep.
ExplainedFormat row(const Explanation& e, const std::string& name)
{
    for (const auto& f : e.formats)
        if (f.name == name) return f;
    throw Error("no row " + name);
}

} // namespace

class TestExplain : public QObject
{
    Q_OBJECT
private slots:
    void matchesIndependentConversions_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<double>("lo");
        QTest::addColumn<double>("hi");
        QTest::addColumn<QString>("format");
        QTest::addColumn<qint64>("code");
        QTest::addColumn<double>("decoded");
        QTest::addColumn<QString>("below"); // compared through show(), which keeps 17 digits
        QTest::addColumn<QString>("above");
        const auto cases = nlohmann::json::parse(test::readAll(kCases));
        QVERIFY2(cases.size() > 200, "tests/data/explain/explain_cases.json is missing or short");
        int i = 0;
        for (const auto& c : cases) {
            const double value = *numberOf(c["value"]);
            for (const auto& [name, r] : c["formats"].items())
                QTest::addRow("%d %s of %.9g in [%g, %g]", i, name.c_str(), value,
                              c["lo"].get<double>(), c["hi"].get<double>())
                    << value << c["lo"].get<double>() << c["hi"].get<double>()
                    << QString::fromStdString(name) << r[0].get<qint64>() << *numberOf(r[1])
                    << show(numberOf(r[2])) << show(numberOf(r[3]));
            ++i;
        }
    }

    void matchesIndependentConversions()
    {
        QFETCH(double, value);
        QFETCH(double, lo);
        QFETCH(double, hi);
        QFETCH(QString, format);
        QFETCH(qint64, code);
        QFETCH(double, decoded);
        QFETCH(QString, below);
        QFETCH(QString, above);
        const Explanation e = explainValue(value, {lo, hi});
        const ExplainedFormat r = row(e, format.toStdString());
        QCOMPARE(qint64(r.code), code);
        QVERIFY2(same(r.decoded, decoded), qPrintable(QStringLiteral("decoded %1, want %2")
                                                          .arg(r.decoded, 0, 'g', 17)
                                                          .arg(decoded, 0, 'g', 17)));
        QCOMPARE(show(r.below), below);
        QCOMPARE(show(r.above), above);
        // The errors are measured against the value as typed, not its float32 rounding.
        if (std::isfinite(value) && std::isfinite(r.decoded)) {
            QCOMPARE(r.absError, std::fabs(r.decoded - value));
            if (value != 0.0) QCOMPARE(r.relError, r.absError / std::fabs(value));
        }
        // Rounding to nearest: the value lies between the neighbours of what it became.
        if (std::isfinite(value) && !r.outOfRange) {
            if (r.below) QVERIFY(*r.below <= value);
            if (r.above) QVERIFY(value <= *r.above);
        }
    }

    // The figures of the issue that asked for the explorer.
    void issueFigures()
    {
        const Explanation e = explainValue(0.87654321);
        QCOMPARE(e.formats.size(), std::size_t(8));
        QCOMPARE(row(e, "fp16").bits, std::string("0 01110 1100000011"));
        QCOMPARE(row(e, "fp16").decoded, 0.87646484375);
        QCOMPARE(row(e, "bf16").decoded, 0.875);
        QCOMPARE(row(e, "int8").code, std::int64_t(111));
        const Explanation positive = explainValue(0.87654321, {0.0, 1.0});
        QCOMPARE(row(positive, "uint8").code, std::int64_t(224));
        QCOMPARE(row(positive, "uint4").code, std::int64_t(13));
        QCOMPARE(row(positive, "uint8").mapping->scale, double(1.0f / 255.0f));
    }

    void bitStrings_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("bits");
        // Sign, exponent, mantissa from the format definitions; integer codes in two's complement.
        QTest::addRow("fp32 -2") << -2.0 << "fp32"
                                 << "1 10000000 00000000000000000000000";
        QTest::addRow("bf16 1") << 1.0 << "bf16"
                                << "0 01111111 0000000";
        QTest::addRow("e4m3 max") << 448.0 << "fp8_e4m3"
                                  << "0 1111 110";
        QTest::addRow("e4m3 saturates") << -1e4 << "fp8_e4m3"
                                        << "1 1111 110";
        QTest::addRow("e5m2 subnormal") << std::ldexp(1.0, -16) << "fp8_e5m2"
                                        << "0 00000 01";
        QTest::addRow("e2m1 -6") << -6.0 << "fp4_e2m1"
                                 << "1 11 1";
        QTest::addRow("fp16 Inf") << 1e5 << "fp16"
                                  << "0 11111 0000000000";
        QTest::addRow("int8 -1") << -1.0 << "int8"
                                 << "10000001"; // -127
        QTest::addRow("int4 -1/7") << -1.0 / 7 << "int4"
                                   << "1111"; // -1
    }

    void bitStrings()
    {
        QFETCH(double, value);
        QFETCH(QString, format);
        QFETCH(QString, bits);
        const ExplainedFormat r = row(explainValue(value), format.toStdString());
        QCOMPARE(QString::fromStdString(r.bits), bits);
        int width = 0;
        for (const auto& f : r.fields)
            width += f.width;
        QCOMPARE(width, QString(bits).remove(QLatin1Char(' ')).size());
        QCOMPARE(int(r.fields.size()), int(bits.count(QLatin1Char(' '))) + 1);
    }

    void outOfRange_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("format");
        QTest::addColumn<bool>("out");
        QTest::addRow("e4m3 1000") << 1000.0 << "fp8_e4m3" << true;
        QTest::addRow("e4m3 400") << 400.0 << "fp8_e4m3" << false;
        QTest::addRow("fp16 1e5") << 1e5 << "fp16" << true;
        QTest::addRow("e2m1 -7") << -7.0 << "fp4_e2m1" << true;
        QTest::addRow("int8 2") << 2.0 << "int8" << true;
        QTest::addRow("int8 1.003") << 1.003 << "int8" << false; // within half a step of 1
        QTest::addRow("int4 -0.5") << -0.5 << "int4" << false;
    }

    void outOfRange()
    {
        QFETCH(double, value);
        QFETCH(QString, format);
        QFETCH(bool, out);
        QCOMPARE(row(explainValue(value), format.toStdString()).outOfRange, out);
    }

    // An affine range is widened to contain 0 (PyTorch's MinMax rule), so 0 stays exact.
    void affineRangeContainsZero()
    {
        const auto r = row(explainValue(0.0, {0.25, 2.0}), "uint8");
        QVERIFY(r.mapping && r.mapping->affine);
        QCOMPARE(r.mapping->rangeLo, 0.0);
        QCOMPARE(r.mapping->rangeHi, 2.0);
        QCOMPARE(r.decoded, 0.0);
        const auto neg = row(explainValue(-2.0, {-3.0, -1.0}), "uint4");
        QCOMPARE(neg.mapping->zeroPoint, neg.mapping->qmax);
        QCOMPARE(neg.mapping->rangeHi, 0.0);
    }

    void badRanges_data()
    {
        QTest::addColumn<double>("lo");
        QTest::addColumn<double>("hi");
        QTest::addColumn<QString>("message");
        const double inf = std::numeric_limits<double>::infinity();
        QTest::addRow("reversed") << 1.0 << 0.0 << "low end must be below";
        QTest::addRow("empty") << 0.5 << 0.5 << "low end must be below";
        QTest::addRow("NaN") << std::nan("") << 1.0 << "finite";
        QTest::addRow("Inf") << -inf << 1.0 << "finite";
        QTest::addRow("beyond float32") << -1e39 << 1e39 << "float32";
    }

    void badRanges()
    {
        QFETCH(double, lo);
        QFETCH(double, hi);
        QFETCH(QString, message);
        try {
            explainValue(0.5, {lo, hi});
            QFAIL("no error");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.startsWith(QStringLiteral("range [")), qPrintable(what));
            QVERIFY2(what.contains(message), qPrintable(what));
        }
    }
};

QTEST_APPLESS_MAIN(TestExplain)
#include "tst_explain.moc"
