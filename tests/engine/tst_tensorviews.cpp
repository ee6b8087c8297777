// The heatmap and scatter views of a tensor against a brute-force recomputation over the whole
// dequantized tensor, for several layouts, plus non-finite values, degenerate shapes, thread
// independence and cancellation.
#include "analysis/analyze.h"
#include "analysis/tensor_views.h"
#include "core/error.h"
#include "testutil.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

using namespace qs;

namespace {

constexpr double kMeanTolerance = 1e-5; // relative, float results of double sums
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::span<const std::byte> bytesOf(const std::vector<float>& x)
{
    return {reinterpret_cast<const std::byte*>(x.data()), x.size() * 4};
}

QuantSpec specOf(const char* format, const char* granularity)
{
    return QuantSpec{findFormat(format), *Granularity::parse(granularity)};
}

// Every element in memory order with its dequantized value, row and column, by unravelling the
// multi-index: independent of the engine's index arithmetic.
struct Element
{
    float x, d;
    std::int64_t index, row, col;
};

std::vector<Element> bruteForce(const std::vector<float>& x, const TensorInfo& info,
                                const QuantSpec& spec)
{
    TensorQuantizer qz(bytesOf(x), info, spec);
    std::vector<float> d(x.size());
    dequantizeTensor(qz, d.data(), Control{});
    const auto rank = info.shape.size();
    const auto axis = static_cast<std::size_t>(info.channelAxis);
    std::vector<Element> out;
    for (std::int64_t m = 0; m < static_cast<std::int64_t>(x.size()); ++m) {
        std::vector<std::int64_t> idx(rank);
        std::int64_t rest = m;
        for (std::size_t a = rank; a-- > 0;) {
            idx[a] = rest % info.shape[a];
            rest /= info.shape[a];
        }
        std::int64_t col = 0;
        for (std::size_t a = 0; a < rank; ++a)
            if (a != axis) col = col * info.shape[a] + idx[a];
        const auto i = static_cast<std::size_t>(m);
        out.push_back({x[i], d[i], m, rank ? idx[axis] : 0, col});
    }
    return out;
}

// The cell holding element e, found from the cells' stated starts rather than by division.
int cellOf(std::int64_t pos, int cells, std::int64_t len)
{
    int c = 0;
    while (c + 1 < cells && Heatmap::start(c + 1, cells, len) <= pos)
        ++c;
    return c;
}

TensorViews views(const std::vector<float>& x, const TensorInfo& info, const QuantSpec& spec,
                  const TensorViewOptions& o, const Control& control = {})
{
    TensorQuantizer qz(bytesOf(x), info, spec);
    return computeTensorViews(qz, info, control, o);
}

bool near(double a, double b)
{
    return std::fabs(a - b) <= kMeanTolerance * std::max({1e-12, std::fabs(a), std::fabs(b)});
}

// The indices of the k best finite elements under `better`.
template <typename Better>
std::set<std::int64_t> topK(const std::vector<Element>& all, std::size_t k, Better better)
{
    std::vector<Element> finite;
    for (const Element& e : all)
        if (std::isfinite(e.x)) finite.push_back(e);
    std::sort(finite.begin(), finite.end(), better);
    std::set<std::int64_t> s;
    for (std::size_t i = 0; i < std::min(k, finite.size()); ++i)
        s.insert(finite[i].index);
    return s;
}

std::set<std::int64_t> withReason(const TensorViews& v, std::uint8_t reason)
{
    std::set<std::int64_t> s;
    for (const ScatterPoint& p : v.points)
        if (p.reasons & reason) s.insert(p.index);
    return s;
}

} // namespace

class TestTensorViews : public QObject
{
    Q_OBJECT
private slots:
    void heatmapMatchesBruteForce_data()
    {
        QTest::addColumn<Shape>("shape");
        QTest::addColumn<int>("axis");
        QTest::addColumn<QString>("spec");
        QTest::addColumn<QSize>("grid"); // columns x rows
        // Uneven cells, one or several work units, every way rows and quantizer channels
        // relate: the same axis, memory order, and an axis of their own.
        QTest::addRow("uneven cells") << Shape{37, 53} << 0 << "int8 channel" << QSize(16, 8);
        QTest::addRow("rows only") << Shape{300, 70} << 0 << "int4 tensor" << QSize(256, 256);
        QTest::addRow("conv") << Shape{6, 4, 3, 5} << 0 << "int8 group:4" << QSize(7, 4);
        QTest::addRow("keras channel") << Shape{5, 3, 12} << 2 << "int8 channel" << QSize(4, 5);
        QTest::addRow("keras tensor") << Shape{9, 12} << 1 << "int4 tensor" << QSize(5, 4);
        QTest::addRow("mxfp4 own axis") << Shape{8, 64} << 1 << "mxfp4 tensor" << QSize(3, 5);
        QTest::addRow("exact fp16") << Shape{6, 9} << 0 << "fp16 tensor" << QSize(256, 256);
        QTest::addRow("units") << Shape{600, 1000} << 0 << "int8 channel" << QSize(48, 64);
        QTest::addRow("units, keras") << Shape{700, 500} << 1 << "uint4 group:50" << QSize(64, 33);
    }

    void heatmapMatchesBruteForce()
    {
        QFETCH(Shape, shape);
        QFETCH(int, axis);
        QFETCH(QString, spec);
        QFETCH(QSize, grid);
        const int gridRows = grid.height(), gridCols = grid.width();
        const TensorInfo info = test::f32Info("w", shape, axis);
        const auto x = test::weightLike(static_cast<std::size_t>(info.numel()), 7);
        const QStringList parts = spec.split(QLatin1Char(' '));
        const QuantSpec quant = specOf(qPrintable(parts[0]), qPrintable(parts[1]));
        TensorViewOptions o;
        o.maxRows = gridRows;
        o.maxCols = gridCols;
        const TensorViews v = views(x, info, quant, o);
        QVERIFY(v.heatmap.has_value());
        const Heatmap& h = *v.heatmap;
        const std::int64_t rows = shape[static_cast<std::size_t>(axis)];
        QCOMPARE(h.rows, rows);
        QCOMPARE(h.cols, info.numel() / rows);
        QCOMPARE(h.gridRows, static_cast<int>(std::min<std::int64_t>(rows, gridRows)));
        QCOMPARE(h.gridCols, static_cast<int>(std::min<std::int64_t>(h.cols, gridCols)));

        const std::size_t cells = static_cast<std::size_t>(h.gridRows) * h.gridCols;
        std::vector<long double> absW(cells), w(cells), absE(cells), e(cells);
        std::vector<float> maxE(cells, 0.0f);
        std::vector<std::int64_t> n(cells, 0);
        for (const Element& el : bruteForce(x, info, quant)) {
            const std::size_t c =
                h.cell(cellOf(el.row, h.gridRows, h.rows), cellOf(el.col, h.gridCols, h.cols));
            const float err = el.x - el.d;
            absW[c] += std::fabs(el.x);
            w[c] += el.x;
            absE[c] += std::fabs(err);
            e[c] += err;
            maxE[c] = std::max(maxE[c], std::fabs(err));
            ++n[c];
        }
        for (std::size_t c = 0; c < cells; ++c) {
            QCOMPARE(h.counts[c], n[c]);
            const auto cnt = static_cast<long double>(n[c]);
            QVERIFY2(near(h.meanAbsValue[c], static_cast<double>(absW[c] / cnt)),
                     qPrintable(QStringLiteral("cell %1").arg(c)));
            QVERIFY(near(h.meanValue[c], static_cast<double>(w[c] / cnt)));
            QVERIFY(near(h.meanAbsError[c], static_cast<double>(absE[c] / cnt)));
            QVERIFY(near(h.meanError[c], static_cast<double>(e[c] / cnt)));
            QCOMPARE(h.maxAbsError[c], maxE[c]);
        }
        if (rows <= gridRows && h.cols <= gridCols) { // exact: every cell is one element
            QVERIFY(h.exact());
            QCOMPARE(h.meanValue[h.cell(2, 3)], x[static_cast<std::size_t>(2 * h.cols + 3)]);
        }
    }

    void scatterHoldsSampleAndOutliers()
    {
        const TensorInfo info = test::f32Info("w", {600, 1000});
        const auto x = test::weightLike(static_cast<std::size_t>(info.numel()), 3);
        const QuantSpec spec = specOf("int4", "channel");
        TensorViewOptions o;
        o.samplePoints = 2000;
        o.largestErrors = 40;
        o.extremeValues = 25;
        const TensorViews v = views(x, info, spec, o);
        const auto all = bruteForce(x, info, spec);

        QCOMPARE(v.finiteCount, info.numel());
        QCOMPARE(v.sampled, o.samplePoints);
        QCOMPARE(static_cast<std::int64_t>(withReason(v, kSampled).size()), o.samplePoints);
        std::int64_t last = -1;
        double indexSum = 0;
        for (const ScatterPoint& p : v.points) {
            QVERIFY(p.index > last); // sorted, one point per element
            last = p.index;
            const Element& el = all[static_cast<std::size_t>(p.index)];
            QCOMPARE(p.value, el.x);
            QCOMPARE(p.error, el.x - el.d);
            if (p.reasons & kSampled) indexSum += static_cast<double>(p.index);
        }
        // A uniform sample's mean position is the middle: 4.6 standard errors of slack.
        const double meanPos =
            indexSum / static_cast<double>(o.samplePoints) / static_cast<double>(info.numel());
        QVERIFY2(std::fabs(meanPos - 0.5) < 0.03, qPrintable(QString::number(meanPos)));

        const auto byError = [](const Element& a, const Element& b) {
            const float x = std::fabs(a.x - a.d), y = std::fabs(b.x - b.d);
            return x != y ? x > y : a.index < b.index;
        };
        QCOMPARE(withReason(v, kLargeError), topK(all, 40, byError));
        const auto byMagnitude = [](const Element& a, const Element& b) {
            const float x = std::fabs(a.x), y = std::fabs(b.x);
            return x != y ? x > y : a.index < b.index;
        };
        auto extremes = topK(all, 25, byMagnitude);
        const auto [lo, hi] = std::minmax_element(
            all.begin(), all.end(), [](const Element& a, const Element& b) { return a.x < b.x; });
        extremes.insert(lo->index);
        extremes.insert(hi->index);
        QCOMPARE(withReason(v, kExtremeValue), extremes);
        QCOMPARE(v.minValue, lo->x);
        QCOMPARE(v.maxValue, hi->x);
    }

    void sampleFollowsSeed()
    {
        const TensorInfo info = test::f32Info("w", {64, 64});
        const auto x = test::normalData(static_cast<std::size_t>(info.numel()), 5);
        TensorViewOptions o;
        o.samplePoints = 100;
        const QuantSpec spec = specOf("int8", "channel");
        const auto a = withReason(views(x, info, spec, o), kSampled);
        QCOMPARE(withReason(views(x, info, spec, o), kSampled), a); // deterministic
        o.seed = 1;
        QVERIFY(withReason(views(x, info, spec, o), kSampled) != a);
        o.samplePoints = 5000; // more than there are values: every value is in the sample
        QCOMPARE(static_cast<std::int64_t>(withReason(views(x, info, spec, o), kSampled).size()),
                 info.numel());
    }

    void independentOfThreads()
    {
        const TensorInfo info = test::f32Info("w", {5, 300, 400}, 2); // channel last, 3 units
        const auto x = test::weightLike(static_cast<std::size_t>(info.numel()), 11);
        const QuantSpec spec = specOf("int4", "group:32");
        TensorViewOptions o;
        o.maxRows = 100;
        o.maxCols = 100;
        o.samplePoints = 3000;
        const TensorViews serial = views(x, info, spec, o);
        test::ThreadExecutor threads(3);
        Control control;
        control.executor = &threads;
        const TensorViews parallel = views(x, info, spec, o, control);
        const auto same = [](const std::vector<float>& a, const std::vector<float>& b) {
            return a.size() == b.size() &&
                   std::equal(a.begin(), a.end(), b.begin(),
                              [](float p, float q) { return test::bits(p) == test::bits(q); });
        };
        QVERIFY(same(serial.heatmap->meanAbsValue, parallel.heatmap->meanAbsValue));
        QVERIFY(same(serial.heatmap->meanError, parallel.heatmap->meanError));
        QVERIFY(same(serial.heatmap->maxAbsError, parallel.heatmap->maxAbsError));
        QCOMPARE(serial.points.size(), parallel.points.size());
        for (std::size_t i = 0; i < serial.points.size(); ++i) {
            QCOMPARE(serial.points[i].index, parallel.points[i].index);
            QCOMPARE(serial.points[i].reasons, parallel.points[i].reasons);
        }
    }

    void nonFiniteValuesLeftOut()
    {
        // A 4 x 6 matrix shown exactly; row 1 holds nothing finite.
        const TensorInfo info = test::f32Info("w", {4, 6});
        auto x = test::normalData(24, 4);
        for (int c = 0; c < 6; ++c)
            x[static_cast<std::size_t>(6 + c)] = c % 2 ? kNaN : kInf;
        x[17] = -kInf;
        x[20] = kNaN;
        TensorViewOptions o;
        o.maxRows = 2; // cells of 2 x 3 elements
        o.maxCols = 2;
        const TensorViews v = views(x, info, specOf("int8", "tensor"), o);
        QCOMPARE(v.nanCount, std::int64_t(4));
        QCOMPARE(v.infCount, std::int64_t(4));
        QCOMPARE(v.finiteCount, std::int64_t(16));
        for (const ScatterPoint& p : v.points)
            QVERIFY(std::isfinite(p.value) && std::isfinite(p.error));
        QCOMPARE(static_cast<std::int64_t>(v.points.size()), v.finiteCount);
        const Heatmap& h = *v.heatmap;
        QCOMPARE(h.counts, (std::vector<std::int64_t>{3, 3, 5, 5}));
        const double mean = (std::fabs(x[0]) + std::fabs(x[1]) + std::fabs(x[2])) / 3.0;
        QVERIFY(near(h.meanAbsValue[0], mean));
        QVERIFY(std::isfinite(h.maxAbsError[2]));

        const TensorViews none =
            views(std::vector<float>(24, kNaN), info, specOf("int8", "tensor"), o);
        QVERIFY(none.points.empty());
        for (float m : none.heatmap->meanAbsValue)
            QVERIFY(std::isnan(m)); // no finite value: the cell says so, not 0
    }

    void tensorsWithoutMatrix()
    {
        const TensorInfo vec = test::f32Info("bias", {40});
        const auto x = test::normalData(40, 8);
        const TensorViews v = views(x, vec, specOf("fp16", "tensor"), {});
        QVERIFY(!v.heatmap.has_value()); // a vector has no matrix to show
        QCOMPARE(v.points.size(), std::size_t(40));

        const TensorInfo scalar = test::f32Info("scale", {});
        const std::vector<float> one{0.75f};
        const TensorViews s = views(one, scalar, specOf("int8", "tensor"), {});
        QVERIFY(!s.heatmap.has_value());
        QCOMPARE(s.points.size(), std::size_t(1));
        QCOMPARE(s.points[0].value, 0.75f);

        const TensorInfo empty = test::f32Info("e", {0, 5});
        const TensorViews e = views({}, empty, specOf("int8", "channel"), {});
        QVERIFY(!e.heatmap.has_value());
        QVERIFY(e.points.empty());
    }

    void keptTensorHasNoError()
    {
        const TensorInfo info = test::f32Info("w", {16, 16});
        const auto x = test::normalData(256, 9);
        const TensorViews v = views(x, info, specOf("fp32", "tensor"), {});
        QCOMPARE(QString::fromStdString(v.spec), QStringLiteral("fp32"));
        for (float e : v.heatmap->maxAbsError)
            QCOMPARE(e, 0.0f);
    }

    void clipRangeAsAnalysis()
    {
        const TensorInfo info = test::f32Info("w", {32, 32});
        const auto x = test::weightLike(1024, 12);
        const QuantSpec spec = specOf("int4", "tensor");
        const TensorViews v = views(x, info, spec, {});
        TensorQuantizer qz(bytesOf(x), info, spec);
        const TensorAnalysis a = analyzeTensor(qz, Control{});
        QVERIFY(v.clipLow && v.clipHigh);
        QCOMPARE(*v.clipLow, *a.clipLow);
        QCOMPARE(*v.clipHigh, *a.clipHigh);
        QCOMPARE(QString::fromStdString(v.spec), QStringLiteral("int4 tensor"));
        QVERIFY(!views(x, info, specOf("int4", "channel"), {}).clipLow); // one range per row
    }

    void refusesBadOptions()
    {
        const TensorInfo info = test::f32Info("w", {4, 4});
        const auto x = test::normalData(16, 1);
        TensorViewOptions o;
        o.maxRows = 0;
        QVERIFY_THROWS_EXCEPTION(Error, views(x, info, specOf("int8", "tensor"), o));
        o = {};
        o.samplePoints = -1;
        QVERIFY_THROWS_EXCEPTION(Error, views(x, info, specOf("int8", "tensor"), o));
    }

    void progressAndCancellation()
    {
        const TensorInfo info = test::f32Info("w", {1024, 1024});
        const auto x = test::normalData(1 << 20, 2);
        std::uint64_t reported = 0;
        Control counting;
        counting.progress = [&](std::uint64_t b) { reported += b; };
        views(x, info, specOf("int8", "tensor"), {}, counting);
        QCOMPARE(reported, info.byteSize); // half in the scale pass, half in the views pass

        // Cancelled a few chunks into the views pass, after the scale pass's one check per
        // chunk.
        const int scaleChecks = static_cast<int>(info.numel() / TensorQuantizer::kChunk);
        int checks = 0;
        Control control;
        control.cancelled = [&] { return ++checks > scaleChecks + 3; };
        QVERIFY_THROWS_EXCEPTION(Cancelled, views(x, info, specOf("int8", "tensor"), {}, control));
        QCOMPARE(checks, scaleChecks + 4); // stopped at the first check that said so
    }
};

QTEST_APPLESS_MAIN(TestTensorViews)
#include "tst_tensorviews.moc"
