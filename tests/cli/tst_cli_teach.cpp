// quantscope-cli's teaching commands as a user runs them: `explain` and `size`, their JSON shapes,
// the figures of the issue that asked for them, and usage errors for bad input.
#include "cliutil.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>

namespace {
using namespace clitest;

QJsonObject entry(const QJsonObject& root, const QString& name)
{
    for (const auto& f : root.value(QStringLiteral("formats")).toArray())
        if (f.toObject().value(QStringLiteral("name")).toString() == name) return f.toObject();
    return {};
}

QStringList names(const QJsonObject& root)
{
    QStringList out;
    for (const auto& f : root.value(QStringLiteral("formats")).toArray())
        out << f.toObject().value(QStringLiteral("name")).toString();
    return out;
}

} // namespace

class TestCliTeach : public QObject
{
    Q_OBJECT
private slots:
    void explainJson()
    {
        const Run r = runCli(
            {QStringLiteral("explain"), QStringLiteral("0.87654321"), QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        const QJsonObject root = json(r);
        QCOMPARE(root.value(QStringLiteral("value")).toDouble(), 0.87654321);
        QCOMPARE(names(root), (QStringList{"fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2",
                                           "fp4_e2m1", "int8", "int4"}));
        // The leading keys every consumer may rely on, in order.
        const QStringList keys{"name", "bits", "code", "decoded", "abs_error", "rel_error"};
        const QJsonObject fp16 = entry(root, QStringLiteral("fp16"));
        QCOMPARE(fp16.keys().size() >= keys.size(), true);
        for (const auto& k : keys)
            QVERIFY2(fp16.contains(k), qPrintable(k));
        QVERIFY(r.out.indexOf("\"name\"") < r.out.indexOf("\"bits\""));
        QVERIFY(r.out.indexOf("\"abs_error\"") < r.out.indexOf("\"rel_error\""));
        QCOMPARE(fp16.value(QStringLiteral("bits")).toString(),
                 QStringLiteral("0 01110 1100000011"));
        QCOMPARE(fp16.value(QStringLiteral("decoded")).toDouble(), 0.87646484375);
        QCOMPARE(fp16.value(QStringLiteral("abs_error")).toDouble(),
                 std::fabs(0.87646484375 - 0.87654321));
        QCOMPARE(entry(root, QStringLiteral("bf16")).value(QStringLiteral("decoded")).toDouble(),
                 0.875);
        const QJsonObject int8 = entry(root, QStringLiteral("int8"));
        QCOMPARE(int8.value(QStringLiteral("code")).toInt(), 111);
        QCOMPARE(int8.value(QStringLiteral("scheme")).toString(), QStringLiteral("symmetric"));
        // Neighbours bracket the value on the number line.
        QVERIFY(int8.value(QStringLiteral("below")).toDouble() < 0.87654321);
        QVERIFY(int8.value(QStringLiteral("above")).toDouble() > 0.87654321);
    }

    void explainAffineRange()
    {
        const Run r =
            runCli({QStringLiteral("explain"), QStringLiteral("0.87654321"),
                    QStringLiteral("--range"), QStringLiteral("0,1"), QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        const QJsonObject root = json(r);
        QCOMPARE(entry(root, QStringLiteral("uint8")).value(QStringLiteral("code")).toInt(), 224);
        QCOMPARE(entry(root, QStringLiteral("uint4")).value(QStringLiteral("code")).toInt(), 13);
        QCOMPARE(entry(root, QStringLiteral("uint8")).value(QStringLiteral("zero_point")).toInt(),
                 0);
    }

    void explainSpecialValues()
    {
        // Overflow: fp16 becomes Inf (JSON null), E4M3 saturates at 448.
        const Run r =
            runCli({QStringLiteral("explain"), QStringLiteral("1e5"), QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        const QJsonObject root = json(r);
        QVERIFY(entry(root, QStringLiteral("fp16")).value(QStringLiteral("decoded")).isNull());
        QCOMPARE(
            entry(root, QStringLiteral("fp8_e4m3")).value(QStringLiteral("decoded")).toDouble(),
            448.0);
        QVERIFY(
            entry(root, QStringLiteral("fp8_e4m3")).value(QStringLiteral("out_of_range")).toBool());
        // A negative value is a value, not an option.
        const Run neg = runCli({QStringLiteral("explain"), QStringLiteral("-0.5")});
        QCOMPARE(neg.code, 0);
        QVERIFY(neg.out.contains("fp4_e2m1"));
    }

    void explainText()
    {
        const Run r = runCli({QStringLiteral("explain"), QStringLiteral("0.87654321")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("0 01110 1100000011"));
        QVERIFY(r.out.contains("0.87646484375"));
        QVERIFY(r.out.contains("rounds to code 111"));
    }

    void sizeJson()
    {
        const Run r = runCli({QStringLiteral("size"), QStringLiteral("--params"),
                              QStringLiteral("30B"), QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        const QJsonObject root = json(r);
        QCOMPARE(root.value(QStringLiteral("params")).toDouble(), 30e9);
        // The figures, in decimal GB.
        const QList<QPair<QString, double>> expected{{"fp32", 120},    {"fp16", 60},
                                                     {"int8", 30},     {"int4", 15},
                                                     {"q4_K", 16.875}, {"q8_0", 31.875}};
        for (const auto& [name, gb] : expected) {
            const QJsonObject e = entry(root, name);
            QVERIFY2(!e.isEmpty(), qPrintable(name));
            QCOMPARE(e.value(QStringLiteral("bytes")).toDouble(), gb * 1e9);
        }
        QCOMPARE(
            entry(root, QStringLiteral("q4_K")).value(QStringLiteral("bits_per_weight")).toDouble(),
            4.5);
        // 15 GB of int4 weights fit a 16 GB card (14.9 GiB of 16) but not a 12 GB one.
        const auto fits =
            entry(root, QStringLiteral("int4")).value(QStringLiteral("fits_in")).toArray();
        QVERIFY(fits.contains(QStringLiteral("16 GB GPU")));
        QVERIFY(!fits.contains(QStringLiteral("12 GB GPU")));
        QVERIFY(root.value(QStringLiteral("note")).toString().contains(QStringLiteral("KV cache")));
    }

    void sizeText()
    {
        const Run r = runCli({QStringLiteral("size"), QStringLiteral("--params=7B")});
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("7000000000 parameters"));
        QVERIFY(r.out.contains("q4_K"));
        QVERIFY(r.out.contains("KV cache"));
    }

    void usageErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("stderrHas");
        QTest::addRow("explain without value") << QStringList{"explain"} << "exactly one VALUE";
        QTest::addRow("explain junk") << QStringList{"explain", "abc"} << "'abc'";
        QTest::addRow("explain two values") << QStringList{"explain", "1", "2"} << "exactly one";
        QTest::addRow("range not two numbers")
            << QStringList{"explain", "1", "--range", "0"} << "LO,HI";
        QTest::addRow("range junk") << QStringList{"explain", "1", "--range", "a,b"} << "'a,b'";
        QTest::addRow("range reversed")
            << QStringList{"explain", "1", "--range", "1,0"} << "low end must be below";
        QTest::addRow("range infinite")
            << QStringList{"explain", "1", "--range", "-inf,1"} << "finite";
        QTest::addRow("size without params") << QStringList{"size"} << "--params N";
        QTest::addRow("size junk") << QStringList{"size", "--params", "lots"} << "'lots'";
        QTest::addRow("size negative") << QStringList{"size", "--params", "-7B"} << "negative";
        QTest::addRow("size zero") << QStringList{"size", "--params", "0"} << "zero";
        QTest::addRow("size suffix") << QStringList{"size", "--params", "7Q"} << "unknown suffix";
        QTest::addRow("size nan") << QStringList{"size", "--params", "nan"} << "finite";
        QTest::addRow("size positional") << QStringList{"size", "7B"} << "--params";
    }

    void usageErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, stderrHas);
        const Run r = runCli(args);
        QCOMPARE(r.code, 2);
        QVERIFY(r.out.isEmpty());
        QVERIFY2(QString::fromUtf8(r.err).contains(stderrHas), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one line, no stack trace
    }
};

QTEST_GUILESS_MAIN(TestCliTeach)
#include "tst_cli_teach.moc"
