// The number formatting every view shares: counts, byte sizes, savings.
#include "displayformat.h"
#include "granularityvalidator.h"

#include <QTest>

class TestDisplayFormat : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase() { QLocale::setDefault(QLocale::c()); }
    void bytes_data();
    void bytes();
    void count();
    void sizeChange_data();
    void sizeChange();
    void scientific();
    void signedDecibels_data();
    void signedDecibels();
    void granularityValidator_data();
    void granularityValidator();
};

void TestDisplayFormat::bytes_data()
{
    QTest::addColumn<quint64>("n");
    QTest::addColumn<QString>("text");
    QTest::addRow("zero") << quint64(0) << "0 B";
    QTest::addRow("below a KiB") << quint64(1023) << "1023 B";
    QTest::addRow("one KiB") << quint64(1024) << "1.0 KiB";
    QTest::addRow("36 KiB") << quint64(36864) << "36.0 KiB";
    QTest::addRow("rounds up a unit") << quint64(1024 * 1024 - 1) << "1.0 MiB";
    QTest::addRow("MiB") << quint64(12.3 * 1024 * 1024) << "12.3 MiB";
    QTest::addRow("GiB") << quint64(7) * 1024 * 1024 * 1024 << "7.0 GiB";
}

void TestDisplayFormat::bytes()
{
    QFETCH(quint64, n);
    QFETCH(QString, text);
    QCOMPARE(qs::display::bytes(n), text);
}

void TestDisplayFormat::count()
{
    QCOMPARE(qs::display::count(999), QStringLiteral("999"));
    QCOMPARE(qs::display::count(45088768), QStringLiteral("45,088,768"));
    QCOMPARE(qs::display::exactBytes(36864), QStringLiteral("36,864 bytes"));
}

void TestDisplayFormat::sizeChange_data()
{
    QTest::addColumn<quint64>("before");
    QTest::addColumn<quint64>("after");
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("percent");
    QTest::addRow("smaller") << quint64(4096) << quint64(1024)
                             << QStringLiteral("4.0 KiB \u2192 1.0 KiB (75% smaller)")
                             << QStringLiteral("\u221275%");
    QTest::addRow("larger") << quint64(1000) << quint64(1100)
                            << QStringLiteral("1000 B \u2192 1.1 KiB (10% larger)")
                            << QStringLiteral("+10%");
    QTest::addRow("same") << quint64(100) << quint64(100) << QStringLiteral("100 B \u2192 100 B")
                          << QStringLiteral("\u00b10%");
}

void TestDisplayFormat::sizeChange()
{
    QFETCH(quint64, before);
    QFETCH(quint64, after);
    QFETCH(QString, text);
    QFETCH(QString, percent);
    QCOMPARE(qs::display::sizeChange(before, after), text);
    QCOMPARE(qs::display::savingPercent(before, after), percent);
}

void TestDisplayFormat::scientific()
{
    QCOMPARE(qs::display::scientific(0.0), QStringLiteral("0"));
    QCOMPARE(qs::display::scientific(1.234e-5), QStringLiteral("1.23e-05"));
    QCOMPARE(qs::display::decibels(41.26), QStringLiteral("41.3"));
}

void TestDisplayFormat::signedDecibels_data()
{
    QTest::addColumn<double>("db");
    QTest::addColumn<QString>("text");
    QTest::addRow("above") << 1.23 << QStringLiteral("+1.2");
    QTest::addRow("below, real minus") << -1.87 << QStringLiteral("\u22121.9");
    QTest::addRow("zero") << 0.0 << QStringLiteral("0.0");
    QTest::addRow("rounds to zero") << -0.04 << QStringLiteral("0.0");
}

void TestDisplayFormat::signedDecibels()
{
    QFETCH(double, db);
    QFETCH(QString, text);
    QCOMPARE(qs::display::signedDecibels(db), text);
}

void TestDisplayFormat::granularityValidator_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<int>("state");
    QTest::addRow("channel") << "channel" << int(QValidator::Acceptable);
    QTest::addRow("group:96") << "group:96" << int(QValidator::Acceptable);
    QTest::addRow("typing a word") << "chan" << int(QValidator::Intermediate);
    QTest::addRow("typing a size") << "group:" << int(QValidator::Intermediate);
    QTest::addRow("zero so far") << "group:0" << int(QValidator::Intermediate);
    QTest::addRow("letters") << "group:x" << int(QValidator::Invalid);
    QTest::addRow("unknown") << "rows" << int(QValidator::Invalid);
}

void TestDisplayFormat::granularityValidator()
{
    QFETCH(QString, text);
    QFETCH(int, state);
    qs::GranularityValidator v;
    int pos = 0;
    QCOMPARE(int(v.validate(text, pos)), state);
}

QTEST_GUILESS_MAIN(TestDisplayFormat)
#include "tst_displayformat.moc"
