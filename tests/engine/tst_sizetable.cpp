// The model-size calculator (engine/teach/size_table.h): parameter counts as people write them,
// the bytes per registry format for the figures of the issue that asked for it, and which common
// memory sizes hold them.
#include "core/error.h"
#include "formats/format.h"
#include "teach/size_table.h"

#include <QTest>

#include <algorithm>

using namespace qs;

namespace {

constexpr double kGB = 1e9; // the table's bytes are reported in decimal gigabytes

double bytesOf(const std::vector<SizeRow>& rows, const std::string& name)
{
    const auto it =
        std::find_if(rows.begin(), rows.end(), [&](const SizeRow& r) { return r.name == name; });
    if (it == rows.end()) throw Error("no row " + name);
    return it->bytes;
}

} // namespace

class TestSizeTable : public QObject
{
    Q_OBJECT
private slots:
    void parse_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<qint64>("params");
        QTest::addRow("plain") << "123456" << qint64(123456);
        QTest::addRow("exponent") << "30e9" << qint64(30'000'000'000);
        QTest::addRow("B") << "7B" << qint64(7'000'000'000);
        QTest::addRow("b") << "7b" << qint64(7'000'000'000);
        QTest::addRow("G") << "13G" << qint64(13'000'000'000);
        QTest::addRow("M fraction") << "1.5M" << qint64(1'500'000);
        QTest::addRow("k fraction") << "2.5k" << qint64(2'500);
        QTest::addRow("T") << "1T" << qint64(1'000'000'000'000);
        QTest::addRow("space before suffix") << " 70 B " << qint64(70'000'000'000);
        QTest::addRow("decimal B") << "0.5B" << qint64(500'000'000);
        QTest::addRow("rounds to nearest") << "1.2345k" << qint64(1'234);
        QTest::addRow("one") << "1" << qint64(1);
    }

    void parse()
    {
        QFETCH(QString, text);
        QFETCH(qint64, params);
        QCOMPARE(qint64(parseParamCount(text.toStdString())), params);
    }

    void refuse_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("message");
        QTest::addRow("empty") << ""
                               << "empty";
        QTest::addRow("blank") << "   "
                               << "empty";
        QTest::addRow("junk") << "seven"
                              << "not a number";
        QTest::addRow("unknown suffix") << "7X"
                                        << "unknown suffix";
        QTest::addRow("two suffixes") << "7BB"
                                      << "unknown suffix";
        QTest::addRow("trailing junk") << "7B params"
                                       << "unknown suffix";
        QTest::addRow("hex") << "0x10"
                             << "unknown suffix";
        QTest::addRow("negative") << "-7B"
                                  << "negative";
        QTest::addRow("zero") << "0"
                              << "zero";
        QTest::addRow("negative zero") << "-0"
                                       << "zero";
        QTest::addRow("rounds to zero") << "0.4"
                                        << "zero";
        QTest::addRow("inf") << "inf"
                             << "not a finite number";
        QTest::addRow("nan") << "nan"
                             << "not a finite number";
        QTest::addRow("double overflow") << "1e400"
                                         << "too large";
        QTest::addRow("too many") << "2e15"
                                  << "more than 1e15";
    }

    void refuse()
    {
        QFETCH(QString, text);
        QFETCH(QString, message);
        try {
            parseParamCount(text.toStdString());
            QFAIL("no error");
        } catch (const Error& e) {
            const QString what = QString::fromUtf8(e.what());
            QVERIFY2(what.contains(QStringLiteral("'") + text + QStringLiteral("'")),
                     qPrintable(what)); // names the input
            QVERIFY2(what.contains(message), qPrintable(what));
        }
    }

    // The figures of the issue: a 30B model.
    void issueFigures_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<double>("gigabytes");
        QTest::addRow("fp32") << "fp32" << 120.0;
        QTest::addRow("fp16") << "fp16" << 60.0;
        QTest::addRow("int8") << "int8" << 30.0;
        QTest::addRow("int4") << "int4" << 15.0;
        QTest::addRow("q4_K") << "q4_K" << 16.875;
        QTest::addRow("q8_0") << "q8_0" << 31.875;
    }

    void issueFigures()
    {
        QFETCH(QString, format);
        QFETCH(double, gigabytes);
        const auto rows = sizeTable(parseParamCount("30B")).rows;
        // Exact: the bits per weight are short binary fractions and 30e9 is an integer.
        QCOMPARE(bytesOf(rows, format.toStdString()), gigabytes * kGB);
    }

    void oneRowPerFormat()
    {
        const std::int64_t n = 1'234'567;
        const SizeTable table = sizeTable(n);
        const auto& rows = table.rows;
        QCOMPARE(table.params, n);
        QCOMPARE(table.budgets.size(), commonMemoryBudgets().size());
        QCOMPARE(rows.size(), formats().size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            QCOMPARE(rows[i].name, std::string(formats()[i].name));
            QCOMPARE(rows[i].bitsPerWeight, formats()[i].bitsPerWeight());
            QCOMPARE(rows[i].bytes, rows[i].bitsPerWeight * double(n) / 8.0);
            QCOMPARE(rows[i].fits.size(), budgetsThatFit(rows[i].bytes).size());
        }
        QCOMPARE(bytesOf(rows, "mxfp4"), 4.25 * double(n) / 8.0); // its E8M0 scales count
        QVERIFY_THROWS_EXCEPTION(Error, sizeTable(0));
    }

    void budgets()
    {
        const auto all = commonMemoryBudgets();
        QCOMPARE(all.size(), std::size_t(9));
        QCOMPARE(all.front().label(), std::string("8 GB GPU"));
        QCOMPARE(all.back().label(), std::string("64 GB RAM"));
        QCOMPARE(all.front().bytes(), 8.0 * 1024 * 1024 * 1024); // memory is sold in GiB

        // 7B at 4.5 bits: 3.94e9 bytes fit every listed size; at fp16 (14e9 bytes = 13.04 GiB)
        // the 8 and 12 GB cards are too small.
        QCOMPARE(budgetsThatFit(4.5 * 7e9 / 8).size(), all.size());
        const auto fp16 = budgetsThatFit(16 * 7e9 / 8);
        QCOMPARE(fp16.front().label(), std::string("16 GB GPU"));
        QCOMPARE(fp16.size(), all.size() - 2);
        // Exactly full still fits; one byte more does not.
        QCOMPARE(budgetsThatFit(80.0 * 1024 * 1024 * 1024).front().label(),
                 std::string("80 GB GPU"));
        QVERIFY(budgetsThatFit(80.0 * 1024 * 1024 * 1024 + 1).empty()); // beyond the largest
        QVERIFY(kSizeNote.find("KV cache") != std::string_view::npos);
    }
};

QTEST_APPLESS_MAIN(TestSizeTable)
#include "tst_sizetable.moc"
