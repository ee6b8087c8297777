// The Learn panel's number explorer and size calculator, driven through their real widgets and
// the real wiring (app/gui/learn) with QTest key events; screenshots of both are saved as
// artifacts for people to look at.
#include "learn/explorerpage.h"
#include "learn/learnpanel.h"
#include "learn/sizepage.h"
#include "numberexplorer.h"
#include "sizecalculator.h"

#include <QAbstractItemModelTester>
#include <QLabel>
#include <QLineEdit>
#include <QTabWidget>
#include <QTableWidget>
#include <QtTest>

#include <qcustomplot.h>

namespace {

int rowOf(const QTableWidget* t, const QString& name)
{
    for (int r = 0; r < t->rowCount(); ++r)
        if (t->item(r, 0)->text() == name) return r;
    return -1;
}

QString cell(const QTableWidget* t, const QString& name, int column)
{
    const int r = rowOf(t, name);
    return r < 0 ? QStringLiteral("<no row %1>").arg(name) : t->item(r, column)->text();
}

void retype(QLineEdit* edit, const QString& text)
{
    edit->selectAll();
    QTest::keyClick(edit, Qt::Key_Backspace);
    QTest::keyClicks(edit, text);
}

} // namespace

class TestNumberExplorer : public QObject
{
    Q_OBJECT
private:
    qs::LearnPanel* m_panel = nullptr;
    qs::NumberExplorer* explorer() const { return m_panel->explorerPage()->explorer(); }
    qs::SizeCalculator* calculator() const { return m_panel->sizePage()->calculator(); }

private slots:
    void initTestCase()
    {
        m_panel = new qs::LearnPanel;
        m_panel->resize(1150, 760);
        m_panel->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_panel));
    }
    void cleanupTestCase() { delete m_panel; }

    // The example, shown as soon as the page opens.
    void defaultValue()
    {
        const QTableWidget* t = explorer()->table();
        QAbstractItemModelTester tester(t->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(explorer()->valueEdit()->text(), QStringLiteral("0.87654321"));
        QCOMPARE(t->rowCount(), 8);
        QCOMPARE(cell(t, QStringLiteral("fp16"), qs::NumberExplorer::BitsColumn),
                 QStringLiteral("0 01110 1100000011"));
        QCOMPARE(cell(t, QStringLiteral("fp16"), qs::NumberExplorer::DecodedColumn),
                 QStringLiteral("0.87646484375"));
        QCOMPARE(cell(t, QStringLiteral("bf16"), qs::NumberExplorer::DecodedColumn),
                 QStringLiteral("0.875"));
        QCOMPARE(cell(t, QStringLiteral("int8"), qs::NumberExplorer::CodeColumn),
                 QStringLiteral("111"));
        QVERIFY(explorer()->rangeExplanation()->text().contains(QStringLiteral("symmetric")));
        QVERIFY(explorer()->errorLabel()->isHidden());
    }

    void typedValue()
    {
        retype(explorer()->valueEdit(), QStringLiteral("-2.5"));
        const QTableWidget* t = explorer()->table();
        // -2.5 lies halfway between E2M1's 2 and 3: ties go to the even code, 2.
        QCOMPARE(cell(t, QStringLiteral("fp4_e2m1"), qs::NumberExplorer::DecodedColumn),
                 QStringLiteral("-2"));
        QCOMPARE(cell(t, QStringLiteral("fp4_e2m1"), qs::NumberExplorer::BitsColumn),
                 QStringLiteral("1 10 0"));
        // Outside [-1, 1]: int8 clamps to its most negative code and marks the decoded value.
        QCOMPARE(cell(t, QStringLiteral("int8"), qs::NumberExplorer::CodeColumn),
                 QStringLiteral("-127"));
        QVERIFY(!t->item(rowOf(t, QStringLiteral("int8")), qs::NumberExplorer::DecodedColumn)
                     ->toolTip()
                     .isEmpty());
        QVERIFY(explorer()->rangeExplanation()->text().contains(QStringLiteral("clamped")));
        retype(explorer()->valueEdit(), QStringLiteral("0.87654321"));
        QCOMPARE(cell(t, QStringLiteral("int8"), qs::NumberExplorer::CodeColumn),
                 QStringLiteral("111"));
    }

    // The range example: [0, 1] gives the affine 8-bit code 224 and 4-bit code 13.
    void affineRange()
    {
        retype(explorer()->lowEdit(), QStringLiteral("0"));
        const QTableWidget* t = explorer()->table();
        QCOMPARE(cell(t, QStringLiteral("uint8"), qs::NumberExplorer::CodeColumn),
                 QStringLiteral("224"));
        QCOMPARE(cell(t, QStringLiteral("uint4"), qs::NumberExplorer::CodeColumn),
                 QStringLiteral("13"));
        const QString why = explorer()->rangeExplanation()->text();
        QVERIFY2(why.contains(QStringLiteral("affine")) && why.contains(QStringLiteral("224")),
                 qPrintable(why));
        QVERIFY2(why.contains(QStringLiteral("/ 255")), qPrintable(why));
    }

    void numberLineFollowsSelection()
    {
        explorer()->selectFormat(QStringLiteral("fp16"));
        QCOMPARE(explorer()->selectedFormat(), QStringLiteral("fp16"));
        QCustomPlot* line = explorer()->numberLine();
        QCOMPARE(line->graphCount(), 2); // the neighbours, the stored value
        QCOMPARE(line->graph(1)->data()->at(0)->key, 0.87646484375);
        QCOMPARE(line->graph(0)->data()->size(), 2);
        // The typed value lies on the visible axis, between the neighbours.
        QVERIFY(line->xAxis->range().contains(0.87654321));
        QVERIFY(line->graph(0)->data()->at(0)->key < 0.87654321);
        QVERIFY(line->graph(0)->data()->at(1)->key > 0.87654321);
    }

    void screenshotExplorer()
    {
        explorer()->selectFormat(QStringLiteral("fp8_e4m3"));
        QVERIFY(m_panel->grab().save(QStringLiteral(QS_ARTIFACT_DIR "/numberexplorer.png")));
        explorer()->selectFormat(QStringLiteral("fp16"));
    }

    void badInput()
    {
        retype(explorer()->valueEdit(), QStringLiteral("abc"));
        QVERIFY(explorer()->errorLabel()->isVisibleTo(m_panel));
        QVERIFY(explorer()->errorLabel()->text().contains(QStringLiteral("'abc'")));
        QVERIFY(!explorer()->table()->isEnabled());
        retype(explorer()->valueEdit(), QStringLiteral("0.5"));
        QVERIFY(explorer()->errorLabel()->isHidden());
        // A reversed range is the engine's error, passed through.
        retype(explorer()->lowEdit(), QStringLiteral("2"));
        QVERIFY(explorer()->errorLabel()->text().contains(QStringLiteral("low end must be below")));
        retype(explorer()->lowEdit(), QStringLiteral("-1"));
        QVERIFY(explorer()->table()->isEnabled());
    }

    void sizeCalculator()
    {
        m_panel->tabs()->setCurrentIndex(1);
        const QTableWidget* t = calculator()->table();
        QAbstractItemModelTester tester(t->model(),
                                        QAbstractItemModelTester::FailureReportingMode::QtTest);
        QCOMPARE(calculator()->paramsEdit()->text(), QStringLiteral("7B"));
        retype(calculator()->paramsEdit(), QStringLiteral("30B"));
        // The figures for 30B parameters, in GB of 10^9 bytes.
        QCOMPARE(cell(t, QStringLiteral("fp32"), qs::SizeCalculator::GigabytesColumn),
                 QStringLiteral("120.000"));
        QCOMPARE(cell(t, QStringLiteral("q4_K"), qs::SizeCalculator::GigabytesColumn),
                 QStringLiteral("16.875"));
        QCOMPARE(cell(t, QStringLiteral("q8_0"), qs::SizeCalculator::GigabytesColumn),
                 QStringLiteral("31.875"));
        QCOMPARE(cell(t, QStringLiteral("int4"), qs::SizeCalculator::BytesColumn),
                 QStringLiteral("15,000,000,000"));
        // 15e9 bytes = 13.97 GiB: the smallest card is 16 GB, the smallest RAM 16 GB.
        QCOMPARE(cell(t, QStringLiteral("int4"), qs::SizeCalculator::FitsColumn),
                 QStringLiteral("16 GB GPU or 16 GB RAM"));
        QVERIFY(calculator()
                    ->findChild<QLabel*>(QStringLiteral("note"))
                    ->text()
                    .contains(QStringLiteral("KV cache")));
        QVERIFY(m_panel->grab().save(QStringLiteral(QS_ARTIFACT_DIR "/sizecalculator.png")));

        retype(calculator()->paramsEdit(), QStringLiteral("lots"));
        QVERIFY(calculator()->errorLabel()->isVisibleTo(m_panel));
        QVERIFY(calculator()->errorLabel()->text().contains(QStringLiteral("'lots'")));
        retype(calculator()->paramsEdit(), QStringLiteral("1.5M"));
        QVERIFY(calculator()->errorLabel()->isHidden());
        QVERIFY(calculator()->summaryLabel()->text().startsWith(QStringLiteral("1,500,000")));
    }
};

QTEST_MAIN(TestNumberExplorer)
#include "tst_numberexplorer.moc"
