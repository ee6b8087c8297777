// The heatmap, error scatter, error-vs-size and size breakdown plots, fed with value structs the
// engine computes on small seeded tensors: what they draw, clicks and linked selection, empty
// states, and export. Screenshots go to QS_ARTIFACT_DIR for people to look at.
#include "analysis/tensor_views.h"
#include "errorscatterplot.h"
#include "errorsizeplot.h"
#include "heatmapplot.h"
#include "sizebreakdownchart.h"
#include "tensorresult.h"
#include "testmodel.h"

#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <qcustomplot.h>

#include <random>

using namespace qs;

namespace {

// A [rows, cols] weight-like matrix (normal, every 97th value an outlier) and its views.
TensorViewsPtr makeViews(const Shape& shape, const char* format, const char* granularity,
                         const TensorViewOptions& options)
{
    TensorInfo info;
    info.name = "layers.3.mlp.down_proj.weight";
    info.shape = shape;
    info.byteSize = static_cast<std::uint64_t>(shapeNumel(shape)) * 4;
    std::mt19937 rng(17);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::vector<float> x(static_cast<std::size_t>(shapeNumel(shape)));
    for (std::size_t i = 0; i < x.size(); ++i)
        x[i] = normal(rng) * (i % 97 == 0 ? 12.0f : 1.0f) * (1.0f + float(i % 640) / 640.0f);
    const QuantSpec spec{findFormat(format), *Granularity::parse(granularity)};
    TensorQuantizer qz({reinterpret_cast<const std::byte*>(x.data()), x.size() * 4}, info, spec);
    return std::make_shared<const TensorViews>(computeTensorViews(qz, info, Control{}, options));
}

void show(QWidget& w, int width = 720, int height = 460)
{
    w.resize(width, height);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
}

void screenshot(QWidget& w, const char* name)
{
    const QString path = QStringLiteral(QS_ARTIFACT_DIR "/%1.png").arg(QLatin1String(name));
    QVERIFY(w.grab().save(path));
}

// A saved export is a real image (PNG) or PDF document of some size.
void checkExports(PlotWidget& plot, const QString& dir)
{
    const QString png = dir + QStringLiteral("/plot.png"), pdf = dir + QStringLiteral("/plot.pdf");
    QVERIFY(plot.savePng(png));
    QVERIFY(plot.savePdf(pdf));
    const QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY(image.width() > 100 && image.height() > 100);
    QFile f(pdf);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QVERIFY(f.size() > 1000);
    QVERIFY(f.read(4) == QByteArray("%PDF"));
    plot.copyToClipboard();
    QVERIFY(!QGuiApplication::clipboard()->image().isNull());
}

} // namespace

class TestMorePlots : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase();
    void heatmapDrawsGrid();
    void heatmapSwitchesQuantityAndScale();
    void heatmapEmptyStates();
    void scatterDrawsSampleAndOutliers();
    void scatterEmptyStates();
    void errorSizeOnePointPerLayer();
    void errorSizeClickAndSelection();
    void errorSizeMeasures();
    void groupNames_data();
    void groupNames();
    void sizeBreakdownGroupsAndMarkers();
    void sizeBreakdownSmallModel();
    void everyPlotExports();

private:
    QTemporaryDir m_dir;
    std::shared_ptr<const Model> m_model;
    QVector<TensorResultPtr> m_results;
    TensorViewsPtr m_views;
};

void TestMorePlots::initTestCase()
{
    QLocale::setDefault(QLocale::c());
    QVERIFY(m_dir.isValid());
    TensorViewOptions o;
    o.maxRows = 64;
    o.maxCols = 128;
    o.samplePoints = 3000;
    m_views = makeViews({96, 640}, "int4", "tensor", o);
    // The small test model with a different precision per matrix, as a mixed plan gives.
    m_model = openModel(test::writeSmallModel(m_dir.path()).toStdString());
    const std::map<std::string, QuantSpec> specs{
        {"embed.weight", {findFormat("int8"), *Granularity::parse("channel")}},
        {"layers.0.weight", {findFormat("int4"), *Granularity::parse("group:8")}},
        {"layers.1.weight", {findFormat("nf4"), *Granularity::parse("tensor")}}};
    for (int row = 0; row < static_cast<int>(m_model->tensors.size()); ++row) {
        const auto it = specs.find(m_model->tensors[static_cast<std::size_t>(row)].name);
        const auto spec = it == specs.end() ? std::nullopt : std::optional(it->second);
        m_results << std::make_shared<const TensorResult>(
            computeTensorResult(*m_model, row, spec, Control{}));
    }
}

void TestMorePlots::heatmapDrawsGrid()
{
    HeatmapPlot plot;
    plot.setViews(m_views);
    show(plot);
    QVERIFY(plot.isShowingPlot());
    const Heatmap& h = *m_views->heatmap;
    QCPColorMapData* data = plot.colorMap()->data();
    QCOMPARE(data->keySize(), 128);
    QCOMPARE(data->valueSize(), 64);
    QCOMPARE(data->cell(5, 9), static_cast<double>(h.meanAbsValue[h.cell(9, 5)]));
    QVERIFY(plot.title().contains(QStringLiteral("96×640 shown as 64×128")));
    QVERIFY(plot.title().contains(QStringLiteral("mean |w| per cell")));
    QCOMPARE(plot.plot()->yAxis->label(), QStringLiteral("output channel"));

    // The cell under a pixel is the one drawn there: rows 15-16 and columns 25-29 are cell
    // (5, 10) of a 64 x 128 grid over 96 x 640.
    plot.plot()->replot();
    const QPoint px(qRound(plot.plot()->xAxis->coordToPixel(27)),
                    qRound(plot.plot()->yAxis->coordToPixel(15)));
    QCOMPARE(plot.cellAt(px), QPoint(5, 10));
    QVERIFY(plot.toolTipAt(px).contains(QStringLiteral("rows 15–16, columns 25–29")));
    screenshot(plot, "heatmap-weights");
}

void TestMorePlots::heatmapSwitchesQuantityAndScale()
{
    HeatmapPlot plot;
    plot.setViews(m_views);
    QSignalSpy changed(&plot, &HeatmapPlot::quantityChanged);
    plot.setQuantity(HeatmapPlot::Quantity::MaxAbsError);
    QCOMPARE(changed.count(), 1);
    const Heatmap& h = *m_views->heatmap;
    QCOMPARE(plot.colorMap()->data()->cell(3, 7), static_cast<double>(h.maxAbsError[h.cell(7, 3)]));
    QVERIFY(plot.title().contains(QStringLiteral("max |error|")));
    QVERIFY(!plot.isLogScaleApplied());
    plot.setLogScale(true);
    QVERIFY(plot.isLogScaleApplied());
    QCOMPARE(plot.colorScale()->dataScaleType(), QCPAxis::stLogarithmic);
    show(plot);
    screenshot(plot, "heatmap-error-log");

    // Signed means diverge around zero: a log scale does not apply to them.
    plot.setQuantity(HeatmapPlot::Quantity::MeanValue);
    QVERIFY(!plot.isLogScaleApplied());
    const QCPRange range = plot.colorMap()->dataRange();
    QCOMPARE(range.lower, -range.upper);
}

void TestMorePlots::heatmapEmptyStates()
{
    HeatmapPlot plot;
    QVERIFY(!plot.isShowingPlot());
    QVERIFY(plot.emptyText().contains(QStringLiteral("Select a layer")));
    plot.setViews(nullptr, QStringLiteral("layers.0.weight"));
    QVERIFY(plot.emptyText().contains(QStringLiteral("Computing the heatmap of layers.0.weight")));
    plot.setViews(makeViews({40}, "int8", "tensor", {}));
    QVERIFY(!plot.isShowingPlot());
    QVERIFY(plot.emptyText().contains(QStringLiteral("not a matrix")));
    show(plot, 420, 240);
    screenshot(plot, "heatmap-vector");
}

void TestMorePlots::scatterDrawsSampleAndOutliers()
{
    ErrorScatterPlot plot;
    plot.setViews(m_views);
    show(plot);
    QVERIFY(plot.isShowingPlot());
    int outliers = 0;
    for (const ScatterPoint& p : m_views->points)
        outliers += (p.reasons & (kLargeError | kExtremeValue)) ? 1 : 0;
    QVERIFY(outliers > 0);
    QCOMPARE(plot.outlierGraph()->dataCount(), outliers);
    QCOMPARE(plot.sampleGraph()->dataCount() + outliers, static_cast<int>(m_views->points.size()));
    QVERIFY(plot.title().contains(QStringLiteral("3,000 of 61,440 values")));

    // Per-tensor int4: the clipping range is marked by two dashed lines at its ends.
    QVERIFY(m_views->clipLow && m_views->clipHigh);
    QList<double> lines;
    for (int i = 0; i < plot.plot()->itemCount(); ++i)
        if (auto* line = qobject_cast<QCPItemStraightLine*>(plot.plot()->item(i)))
            lines << line->point1->coords().x();
    QCOMPARE(lines, (QList<double>{*m_views->clipLow, *m_views->clipHigh}));

    // The largest error is an outlier, and hovering over it names it.
    const auto byError = [](const ScatterPoint& a, const ScatterPoint& b) {
        return std::fabs(a.error) < std::fabs(b.error);
    };
    const auto largest = std::max_element(m_views->points.begin(), m_views->points.end(), byError);
    plot.plot()->replot();
    const ScatterPoint* hit = plot.pointAt(plot.pixelOf(*largest));
    QVERIFY(hit);
    QVERIFY(hit->reasons & kLargeError);
    QVERIFY(plot.toolTipAt(plot.pixelOf(*largest)).contains(QStringLiteral("largest |error|")));
    screenshot(plot, "error-scatter");
}

void TestMorePlots::scatterEmptyStates()
{
    ErrorScatterPlot plot;
    QVERIFY(plot.emptyText().contains(QStringLiteral("Select a layer")));
    plot.setViews(nullptr, QStringLiteral("embed.weight"));
    QVERIFY(plot.emptyText().contains(QStringLiteral("Computing")));
    TensorViews none;
    none.name = "w";
    none.shape = {0, 4};
    plot.setViews(std::make_shared<const TensorViews>(none));
    QVERIFY(plot.emptyText().contains(QStringLiteral("no elements")));
}

void TestMorePlots::errorSizeOnePointPerLayer()
{
    ErrorSizePlot plot;
    QVERIFY(plot.emptyText().contains(QStringLiteral("Quantize a model")));
    plot.setResults(m_results);
    QVERIFY(plot.isShowingPlot());
    // The three matrices are quantized; the bias is kept and position_ids is an integer tensor.
    QVector<int> expected;
    for (const auto& r : std::as_const(m_results))
        if (r->spec) expected << r->index;
    QCOMPARE(expected.size(), 3);
    QCOMPARE(plot.shownRows(), expected);
    int drawn = 0, graphs = 0;
    for (int i = 0; i < plot.plot()->graphCount(); ++i)
        if (plot.plot()->graph(i) != plot.selectionGraph()) {
            drawn += plot.plot()->graph(i)->dataCount();
            ++graphs;
        }
    QCOMPARE(drawn, 3);
    QCOMPARE(graphs, 3); // one colour per format
}

void TestMorePlots::errorSizeClickAndSelection()
{
    ErrorSizePlot plot;
    plot.setResults(m_results);
    show(plot);
    plot.plot()->replot();
    QSignalSpy clicked(&plot, &ErrorSizePlot::layerClicked);
    const int row = plot.shownRows().at(1);
    const QPoint at = plot.pointCenter(row);
    QTest::mouseClick(plot.plot(), Qt::LeftButton, Qt::NoModifier, at);
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(clicked.first().first().toInt(), row);
    QCOMPARE(plot.selectedRow(), row);
    QCOMPARE(plot.selectionGraph()->dataCount(), 1);
    const auto& r = *m_results[row];
    QCOMPARE(plot.selectionGraph()->data()->at(0)->key, r.bitsPerWeight);
    QVERIFY(plot.toolTipAt(at).contains(QString::fromStdString(r.name)));
    screenshot(plot, "error-vs-size");

    // Selection from elsewhere moves the highlight without a click signal.
    const int other = plot.shownRows().at(2);
    plot.setSelectedRow(other);
    QCOMPARE(plot.selectionGraph()->data()->at(0)->key, m_results[other]->bitsPerWeight);
    plot.setSelectedRow(-1);
    QCOMPARE(plot.selectionGraph()->dataCount(), 0);
    QCOMPARE(clicked.count(), 1);
    // A click on empty space picks nothing.
    QTest::mouseClick(plot.plot(), Qt::LeftButton, Qt::NoModifier,
                      plot.plot()->axisRect()->rect().topLeft() + QPoint(3, 3));
    QCOMPARE(clicked.count(), 1);
}

void TestMorePlots::errorSizeMeasures()
{
    ErrorSizePlot plot;
    plot.setResults(m_results);
    plot.setSelectedRow(plot.shownRows().first());
    plot.setXMeasure(ErrorSizePlot::XMeasure::Bytes);
    plot.setYMeasure(ErrorSizePlot::YMeasure::Mse);
    QCOMPARE(plot.plot()->xAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    const auto& r = *m_results[plot.selectedRow()];
    QCOMPARE(plot.selectionGraph()->data()->at(0)->key, double(r.bytesAfter));
    QCOMPARE(plot.selectionGraph()->data()->at(0)->value, r.analysis->sums.mse());
    show(plot);
    screenshot(plot, "error-vs-size-mse");
}

void TestMorePlots::groupNames_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("group");
    QTest::addRow("hf layer") << "model.layers.12.mlp.up_proj.weight"
                              << "model.layers.12";
    QTest::addRow("gguf block") << "blk.3.attn_q.weight"
                                << "blk.3";
    QTest::addRow("embedding") << "model.embed_tokens.weight"
                               << "other";
    QTest::addRow("digits inside a word") << "conv2d.weight"
                                          << "other";
    QTest::addRow("leading number") << "0.weight"
                                    << "0";
}

void TestMorePlots::groupNames()
{
    QFETCH(QString, name);
    QFETCH(QString, group);
    QCOMPARE(SizeBreakdownChart::groupOf(name), group);
}

void TestMorePlots::sizeBreakdownGroupsAndMarkers()
{
    // A 7B-like model: 32 layers of 200M parameters at ~4.5 bits, embeddings kept in FP16.
    QVector<LayerSizeRow> rows;
    const qint64 embed = 131'000'000, layer = 200'000'000;
    rows << LayerSizeRow{QStringLiteral("model.embed_tokens.weight"), embed, quint64(embed) * 2};
    for (int i = 0; i < 32; ++i)
        for (const char* part : {"self_attn.q_proj.weight", "mlp.up_proj.weight"})
            rows << LayerSizeRow{
                QStringLiteral("model.layers.%1.%2").arg(i).arg(QLatin1String(part)), layer / 2,
                quint64(layer / 2) * 9 / 16};
    rows << LayerSizeRow{QStringLiteral("lm_head.weight"), embed, quint64(embed) * 2};
    SizeBreakdownChart chart;
    chart.setRows(rows);
    QVERIFY(chart.isShowingPlot());
    const auto groups = chart.groups();
    QCOMPARE(groups.size(), 33);
    QCOMPARE(groups[2].name, QStringLiteral("model.layers.2")); // numeric order, not text order
    QCOMPARE(groups[10].name, QStringLiteral("model.layers.10"));
    QCOMPARE(groups.last().name, QStringLiteral("other"));
    QCOMPARE(groups.last().params, 2 * embed);
    QCOMPARE(groups[0].bytesPlan, quint64(layer) * 9 / 16);
    QCOMPARE(chart.total().params, 2 * embed + 32 * layer);
    QCOMPARE(chart.planBars()->dataCount(), 33);
    // FP32 ~24.8 GiB, FP16 ~12.4 GiB, plan ~3.8 GiB: the card sizes around those.
    QCOMPARE(chart.shownMarkersGiB(), (QVector<int>{8, 16, 24, 48}));
    show(chart, 900, 460);
    screenshot(chart, "size-breakdown");
}

void TestMorePlots::sizeBreakdownSmallModel()
{
    SizeBreakdownChart chart;
    QVERIFY(chart.emptyText().contains(QStringLiteral("Open a model")));
    QVector<LayerSizeRow> rows;
    for (const auto& r : std::as_const(m_results))
        rows << LayerSizeRow{QString::fromStdString(r->name), r->params, r->bytesAfter};
    chart.setRows(rows);
    QVERIFY(chart.shownMarkersGiB().isEmpty()); // kilobytes: no memory size is near
    QCOMPARE(chart.groups().size(), 3);         // layers.0, layers.1, other
    show(chart, 640, 400);
    screenshot(chart, "size-breakdown-small");
}

void TestMorePlots::everyPlotExports()
{
    HeatmapPlot heatmap;
    heatmap.setViews(m_views);
    ErrorScatterPlot scatter;
    scatter.setViews(m_views);
    ErrorSizePlot errorSize;
    errorSize.setResults(m_results);
    SizeBreakdownChart breakdown;
    breakdown.setRows({LayerSizeRow{QStringLiteral("blk.0.w"), 1000, 600},
                       LayerSizeRow{QStringLiteral("blk.1.w"), 1000, 500}});
    int i = 0;
    for (PlotWidget* plot :
         std::initializer_list<PlotWidget*>{&heatmap, &scatter, &errorSize, &breakdown}) {
        plot->resize(600, 400);
        const QString dir = m_dir.filePath(QString::number(i++));
        QVERIFY(QDir().mkpath(dir));
        checkExports(*plot, dir);
    }
}

QTEST_MAIN(TestMorePlots)
#include "tst_moreplots.moc"
