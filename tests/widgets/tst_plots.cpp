// The plot widgets fed with real results: what they draw, their empty states, and export.
#include "document.h"
#include "errorhistogramplot.h"
#include "histogramplot.h"
#include "sizechart.h"
#include "testmodel.h"

#include <QCheckBox>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <qcustomplot.h>

namespace {
constexpr int kTimeoutMs = 30000;

bool allComputed(const qs::Document& d)
{
    for (int row = 0; row < d.tensorCount(); ++row)
        if (!d.result(row)) return false;
    return d.tensorCount() > 0 && !d.isBusy();
}
} // namespace

class TestPlots : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void histogramEmpty();
    void histogramQuantized();
    void histogramDrawsTheGrid();
    void histogramLogScale();
    void histogramKeptAndNonFloat();
    void errorHistogram();
    void sizeChartFollowsDocument();
    void exportFormats_data();
    void exportFormats();

private:
    int rowOf(const char* name) const;

    QTemporaryDir m_dir;
    qs::Document m_doc;
};

void TestPlots::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const QString path = qs::test::writeSmallModel(m_dir.path());
    // Per-tensor scales, so the histogram has a clip range to draw.
    m_doc.setDefaultPrecision(qs::Precision{"int8", qs::Granularity::parse("tensor")});
    m_doc.setModel(qs::openModel(path.toStdString()), path);
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(m_doc), kTimeoutMs);
}

int TestPlots::rowOf(const char* name) const
{
    for (int row = 0; row < m_doc.tensorCount(); ++row)
        if (m_doc.tensor(row).name == name) return row;
    return -1;
}

void TestPlots::histogramEmpty()
{
    qs::HistogramPlot plot;
    QVERIFY(!plot.isShowingPlot());
    QVERIFY(!plot.emptyText().isEmpty());
    plot.setResult(nullptr, QStringLiteral("layers.0.weight"));
    QVERIFY(plot.emptyText().contains(QStringLiteral("layers.0.weight")));
}

void TestPlots::histogramQuantized()
{
    qs::HistogramPlot plot;
    const qs::TensorResultPtr r = m_doc.result(rowOf("embed.weight"));
    QVERIFY(r && r->analysis && r->analysis->clipLow);
    plot.setResult(r);
    QVERIFY(plot.isShowingPlot());
    QVERIFY(plot.title().contains(QStringLiteral("embed.weight")));
    QCustomPlot* p = plot.plot();
    // original, dequantized, and legend entries for the 255 int8 levels and the clip range
    QCOMPARE(p->graphCount(), 4);
    QVERIFY(p->graph(2)->name().contains(QStringLiteral("255 levels")));
    QCOMPARE(p->graph(0)->data()->size(), int(r->analysis->original.counts.size()));
    QCOMPARE(p->graph(1)->data()->size(), int(r->analysis->dequantized.counts.size()));
    QVERIFY(p->graph(1)->name().contains(QStringLiteral("int8")));
    QCOMPARE(p->itemCount(), 4); // two dashed lines, two labels
    // Both clip lines are inside the visible range.
    QVERIFY(p->xAxis->range().contains(*r->analysis->clipLow));
    QVERIFY(p->xAxis->range().contains(*r->analysis->clipHigh));
    plot.resize(640, 360);
    QVERIFY(plot.savePng(QStringLiteral(QS_ARTIFACT_DIR "/histogram.png")));
}

void TestPlots::histogramDrawsTheGrid()
{
    // A 4-bit per-tensor scale has 15 representable values: one thin line each.
    const int row = rowOf("embed.weight");
    const qs::QuantSpec spec{qs::findFormat("int4"), qs::Granularity{}};
    const auto r = std::make_shared<const qs::TensorResult>(
        qs::computeTensorResult(*m_doc.model(), row, spec, qs::Control{}));
    qs::HistogramPlot plot;
    plot.setResult(r);
    QCustomPlot* p = plot.plot();
    int lines = 0;
    for (int i = 0; i < p->itemCount(); ++i)
        if (auto* l = qobject_cast<QCPItemStraightLine*>(p->item(i)))
            lines += l->pen().style() == Qt::SolidLine ? 1 : 0;
    QCOMPARE(lines, 15);
    QVERIFY(p->graph(2)->name().contains(QStringLiteral("15 quantization levels")));
}

void TestPlots::histogramLogScale()
{
    qs::HistogramPlot plot;
    plot.setResult(m_doc.result(rowOf("embed.weight")));
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLinear);
    plot.logScaleBox()->click();
    QVERIFY(plot.logScale());
    QCustomPlot* p = plot.plot();
    QCOMPARE(p->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QVERIFY(p->yAxis->range().lower > 0);
    // Empty bins must not reach log(0): they sit below the visible axis instead.
    for (auto it = p->graph(1)->data()->constBegin(); it != p->graph(1)->data()->constEnd(); ++it) {
        QVERIFY(it->value > 0);
    }
    plot.setLogScale(false);
    QCOMPARE(p->yAxis->scaleType(), QCPAxis::stLinear);
}

void TestPlots::histogramKeptAndNonFloat()
{
    qs::HistogramPlot plot;
    plot.setResult(m_doc.result(rowOf("layers.0.bias"))); // 1-D: kept by the default plan
    QVERIFY(plot.isShowingPlot());
    QCOMPARE(plot.plot()->graphCount(), 1);
    QVERIFY(plot.plot()->graph(0)->name().contains(QStringLiteral("kept")));

    plot.setResult(m_doc.result(rowOf("position_ids")));
    QVERIFY(!plot.isShowingPlot());
    QVERIFY(plot.emptyText().contains(QStringLiteral("position_ids")));
}

void TestPlots::errorHistogram()
{
    qs::ErrorHistogramPlot plot;
    const qs::TensorResultPtr r = m_doc.result(rowOf("layers.0.weight"));
    plot.setResult(r);
    QVERIFY(plot.isShowingPlot());
    QVERIFY(plot.title().contains(QStringLiteral("layers.0.weight")));
    QCustomPlot* p = plot.plot();
    QVERIFY(p->graphCount() >= 1);
    QCOMPARE(p->graph(0)->data()->size(), int(r->analysis->error.counts.size()));
    QVERIFY(p->graph(0)->name().contains(QStringLiteral("RMSE")));
    QVERIFY(p->graph(0)->name().contains(QStringLiteral("max |e|")));
    // Half a quantization step bounds the rounding error; the markers show it.
    QVERIFY(r->analysis->scale);
    QVERIFY(p->xAxis->range().contains(*r->analysis->scale / 2));

    plot.setResult(m_doc.result(rowOf("layers.0.bias")));
    QVERIFY(!plot.isShowingPlot());
    QVERIFY(plot.emptyText().contains(QStringLiteral("kept")));
}

void TestPlots::sizeChartFollowsDocument()
{
    qs::SizeChart chart(&m_doc);
    QVERIFY(chart.isShowingPlot());
    QCOMPARE(chart.shownBytesBefore(), m_doc.totalBytesBefore());
    QCOMPARE(chart.shownBytesAfter(), m_doc.totalBytesAfter());
    QVERIFY(
        chart.shownSaving().startsWith(QStringLiteral("\u2212"))); // a saving, with a real minus

    const quint64 int8After = m_doc.totalBytesAfter();
    m_doc.setDefaultPrecision(qs::Precision{"int4", qs::Granularity::parse("group:16")});
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(m_doc), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(chart.shownBytesAfter(), m_doc.totalBytesAfter(), 2000);
    QVERIFY(chart.shownBytesAfter() < int8After);
    chart.resize(420, 320);
    QVERIFY(chart.savePng(QStringLiteral(QS_ARTIFACT_DIR "/sizechart.png")));

    m_doc.setDefaultPrecision(qs::Precision{"int8", qs::Granularity::parse("tensor")});
    QTRY_VERIFY_WITH_TIMEOUT(allComputed(m_doc), kTimeoutMs);
}

void TestPlots::exportFormats_data()
{
    QTest::addColumn<QString>("suffix");
    QTest::addRow("png") << "png";
    QTest::addRow("pdf") << "pdf";
}

void TestPlots::exportFormats()
{
    QFETCH(QString, suffix);
    qs::ErrorHistogramPlot plot;
    plot.resize(500, 300);
    plot.setResult(m_doc.result(rowOf("embed.weight")));
    const QString path = m_dir.filePath(QStringLiteral("error.") + suffix);
    QVERIFY(suffix == QLatin1String("png") ? plot.savePng(path) : plot.savePdf(path));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray head = f.read(8);
    QVERIFY(head.startsWith(suffix == QLatin1String("png") ? QByteArray("\x89PNG")
                                                           : QByteArray("%PDF")));
    if (suffix == QLatin1String("png")) QVERIFY(!QImage(path).isNull());
}

QTEST_MAIN(TestPlots)
#include "tst_plots.moc"
