// The per-layer SQNR chart over a real Document: its bars, the ideal reference lines, hover
// text, and a click that picks a layer.
#include "document.h"
#include "formats/ideal_sqnr.h"
#include "sqnrplot.h"
#include "testmodel.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <qcustomplot.h>

namespace {
constexpr int kTimeoutMs = 30000;
constexpr int kChartLagMs = 2000; // the chart redraws once per burst of results

bool allComputed(const qs::Document& d)
{
    for (int row = 0; row < d.tensorCount(); ++row)
        if (!d.result(row)) return false;
    return d.tensorCount() > 0 && !d.isBusy();
}

int rowOf(const qs::Document& d, const char* name)
{
    for (int row = 0; row < d.tensorCount(); ++row)
        if (d.tensor(row).name == name) return row;
    return -1;
}

// Dashed horizontal reference lines drawn on the plot, by their height.
QList<double> dashedLines(QCustomPlot* p)
{
    QList<double> ys;
    for (int i = 0; i < p->itemCount(); ++i)
        if (auto* line = qobject_cast<QCPItemStraightLine*>(p->item(i));
            line && line->pen().style() == Qt::DashLine &&
            line->point1->coords().y() == line->point2->coords().y())
            ys << line->point1->coords().y();
    std::sort(ys.begin(), ys.end());
    return ys;
}
} // namespace

class TestSqnrPlot : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void emptyWithoutModel();
    void oneBarPerQuantizedLayer();
    void referenceLines_data();
    void referenceLines();
    void toolTips();
    void clickSelectsLayer();
    void followsCurrentRow();
    void sortedOrdersBySqnr();

private:
    void showChart();

    QTemporaryDir m_dir;
    QString m_path;
    std::unique_ptr<qs::Document> m_doc;
    std::unique_ptr<qs::SqnrPlot> m_chart;
};

void TestSqnrPlot::initTestCase()
{
    QLocale::setDefault(QLocale::c());
    QVERIFY(m_dir.isValid());
    m_path = qs::test::writeSmallModel(m_dir.path());
}

void TestSqnrPlot::init()
{
    m_doc = std::make_unique<qs::Document>();
    m_chart = std::make_unique<qs::SqnrPlot>(m_doc.get());
    m_doc->setModel(qs::openModel(m_path.toStdString()), m_path);
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_doc), kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(m_chart->shownRows().size() == 3, kChartLagMs);
}

void TestSqnrPlot::cleanup()
{
    m_chart.reset();
    m_doc.reset();
}

void TestSqnrPlot::showChart()
{
    m_chart->resize(640, 380);
    m_chart->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_chart.get()));
    m_chart->plot()->replot(); // lays out the axes, so pixels map to coordinates
}

void TestSqnrPlot::emptyWithoutModel()
{
    qs::Document empty;
    qs::SqnrPlot chart(&empty);
    QVERIFY(!chart.isShowingPlot());
    QVERIFY(chart.emptyText().contains(QStringLiteral("Open a model")));
    QVERIFY(chart.shownRows().isEmpty());
}

void TestSqnrPlot::oneBarPerQuantizedLayer()
{
    // The default plan quantizes the three matrices; the bias and the I64 tensor are kept.
    QVERIFY(m_chart->isShowingPlot());
    const QVector<int> rows{rowOf(*m_doc, "embed.weight"), rowOf(*m_doc, "layers.0.weight"),
                            rowOf(*m_doc, "layers.1.weight")};
    QCOMPARE(m_chart->shownRows(), rows); // model order
    for (int i = 0; i < rows.size(); ++i)
        QCOMPARE(m_chart->shownSqnr()[i], *m_doc->result(rows[i])->analysis->sums.sqnrDb());
    QCustomPlot* p = m_chart->plot();
    int bars = 0;
    for (int i = 0; i < p->plottableCount(); ++i)
        if (auto* b = qobject_cast<QCPBars*>(p->plottable(i))) bars += b->data()->size();
    QCOMPARE(bars, 3); // nothing is selected, so the highlight bar is empty

    // Kept layers get no bar; a layer back in a format gets its bar again.
    m_doc->setPrecision(rows[1], qs::Precision{"keep"});
    QTRY_COMPARE_WITH_TIMEOUT(m_chart->shownRows(), (QVector<int>{rows[0], rows[2]}), kTimeoutMs);
}

void TestSqnrPlot::sortedOrdersBySqnr()
{
    // Give one layer 4 bits so that model order and SQNR order differ.
    const int layer1 = rowOf(*m_doc, "layers.1.weight");
    m_doc->setPrecision(layer1, qs::Precision{"int4", qs::Granularity{}});
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_doc) && m_chart->shownSqnr().size() == 3 &&
                                 m_chart->shownSqnr()[2] < m_chart->shownSqnr()[0],
                             kTimeoutMs);
    const QVector<int> modelOrder = m_chart->shownRows();
    m_chart->sortedBox()->click();
    QCOMPARE(m_chart->shownRows().front(), layer1);
    const QVector<double> sorted = m_chart->shownSqnr();
    QVERIFY(std::is_sorted(sorted.begin(), sorted.end()));
    m_chart->sortedBox()->click();
    QCOMPARE(m_chart->shownRows(), modelOrder);
}

void TestSqnrPlot::referenceLines_data()
{
    QTest::addColumn<QString>("matrices");  // format of embed.weight and layers.0.weight
    QTest::addColumn<QString>("lastLayer"); // format of layers.1.weight
    QTest::addColumn<QList<int>>("bits");   // the reference lines expected
    QTest::addRow("int8 only") << "int8"
                               << "int8" << QList<int>{8};
    QTest::addRow("int8 and uint4") << "int8"
                                    << "uint4" << QList<int>{4, 8};
    QTest::addRow("int4 and int2") << "int4"
                                   << "int2" << QList<int>{2, 4};
    QTest::addRow("fp16 has none") << "int8"
                                   << "fp16" << QList<int>{8};
    QTest::addRow("fp8 and nf4: none") << "fp8_e4m3"
                                       << "nf4" << QList<int>{};
}

void TestSqnrPlot::referenceLines()
{
    QFETCH(QString, matrices);
    QFETCH(QString, lastLayer);
    QFETCH(QList<int>, bits);
    const auto g = qs::Granularity::parse("group:8");
    for (const char* name : {"embed.weight", "layers.0.weight"})
        m_doc->setPrecision(rowOf(*m_doc, name), qs::Precision{matrices.toStdString(), g});
    m_doc->setPrecision(rowOf(*m_doc, "layers.1.weight"),
                        qs::Precision{lastLayer.toStdString(), g});
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(*m_doc), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(m_chart->referenceLines().keys(), bits, kChartLagMs);

    QList<double> expected;
    for (int b : bits) {
        const double db = qs::idealSqnrDb(b, qs::IdealQuantizer::Uniform);
        QCOMPARE(m_chart->referenceLines().value(b), db);
        expected << db;
    }
    std::sort(expected.begin(), expected.end());
    QCOMPARE(dashedLines(m_chart->plot()), expected);
    // Each line is labelled with its bit width and level.
    for (int b : bits) {
        bool labelled = false;
        for (int i = 0; i < m_chart->plot()->itemCount(); ++i)
            if (auto* t = qobject_cast<QCPItemText*>(m_chart->plot()->item(i)))
                labelled |= t->text().startsWith(QStringLiteral("ideal %1-bit").arg(b));
        QVERIFY2(labelled, qPrintable(QString::number(b)));
    }
    // Every line is inside the visible range.
    for (double db : std::as_const(expected))
        QVERIFY(m_chart->plot()->yAxis->range().contains(db));
    QCOMPARE(m_chart->shownRows().size(), 3);
}

void TestSqnrPlot::toolTips()
{
    showChart();
    const int row = rowOf(*m_doc, "layers.0.weight");
    const QString bar = m_chart->toolTipAt(m_chart->barCenter(row));
    QVERIFY2(bar.contains(QStringLiteral("layers.0.weight")), qPrintable(bar));
    QVERIFY(bar.contains(QStringLiteral("ideal for a Gaussian at 8 bits")));
    const double ideal = m_chart->referenceLines().value(8);
    QCustomPlot* p = m_chart->plot();
    // Between two bars, on the reference line.
    const QPoint onLine(qRound(p->xAxis->coordToPixel(1.5)), qRound(p->yAxis->coordToPixel(ideal)));
    QCOMPARE(m_chart->rowAt(onLine), -1);
    const QString line = m_chart->toolTipAt(onLine);
    QVERIFY2(line.contains(QStringLiteral("Ideal uniform quantizer with 8 bits")),
             qPrintable(line));
    const QPoint outside(qRound(p->xAxis->coordToPixel(1.5)), p->axisRect()->top() + 2);
    QVERIFY(m_chart->toolTipAt(outside).isEmpty());
}

void TestSqnrPlot::clickSelectsLayer()
{
    showChart();
    QSignalSpy clicked(m_chart.get(), &qs::SqnrPlot::rowClicked);
    const int row = rowOf(*m_doc, "layers.1.weight");
    QTest::mouseClick(m_chart->plot(), Qt::LeftButton, Qt::NoModifier, m_chart->barCenter(row));
    QCOMPARE(clicked.size(), 1);
    QCOMPARE(clicked.at(0).at(0).toInt(), row);
    QCOMPARE(m_chart->currentRow(), row);
    // A click beside every bar picks nothing.
    QCustomPlot* p = m_chart->plot();
    const QPoint gap(qRound(p->xAxis->coordToPixel(1.5)), m_chart->barCenter(row).y());
    QTest::mouseClick(p, Qt::LeftButton, Qt::NoModifier, gap);
    QCOMPARE(clicked.size(), 1);
    QVERIFY(m_chart->savePng(QStringLiteral(QS_ARTIFACT_DIR "/sqnrplot.png")));
}

void TestSqnrPlot::followsCurrentRow()
{
    const int row = rowOf(*m_doc, "embed.weight");
    m_chart->setCurrentRow(row);
    QCOMPARE(m_chart->currentRow(), row);
    // The highlight is one bar at the selected layer's position.
    QCPBars* highlight = nullptr;
    QCustomPlot* p = m_chart->plot();
    for (int i = 0; i < p->plottableCount(); ++i)
        if (auto* b = qobject_cast<QCPBars*>(p->plottable(i)); b && b->name().isEmpty())
            highlight = b;
    QVERIFY(highlight);
    QCOMPARE(highlight->data()->size(), 1);
    QCOMPARE(highlight->data()->at(0)->key, 1.0);
    m_chart->setCurrentRow(rowOf(*m_doc, "layers.0.bias")); // kept: no bar to highlight
    QCOMPARE(highlight->data()->size(), 0);
}

QTEST_MAIN(TestSqnrPlot)
#include "tst_sqnrplot.moc"
