// Calibration (minmax, percentile, mse, hqq) against NumPy/PyTorch fixtures
// (tests/data/make_calibration_fixtures.py) and the float-zero kernels. Stochastic rounding and
// the ideal-quantizer SQNRs: tst_rounding.cpp.
#include "formats/calibration.h"
#include "formats/half.h"
#include "formats/int_quant.h"
#include "testutil.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>

using namespace qs;
using json = nlohmann::json;

namespace {

const std::vector<float>& fixtureInputs()
{
    static const auto v = test::readFloats(QS_TEST_DATA "/calibration/inputs.f32");
    return v;
}
const json& fixture(const char* key)
{
    static const json all = json::parse(test::readAll(QS_TEST_DATA "/calibration/expected.json"));
    return all.at(key);
}
const float* fixtureData(const json& c)
{
    return fixtureInputs().data() + c.at("offset").get<std::size_t>();
}

// (x - dequantize(quantize(x)))^2 one value at a time with the reference kernels.
double naiveSquaredError(const float* x, std::int64_t n, const ScaleParams& p, int qmax,
                         bool affine)
{
    long double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        if (!std::isfinite(x[i])) continue;
        const int q = !affine       ? quantizeSymmetricRef(x[i], p, qmax)
                      : p.floatZero ? quantizeAffineFloatZeroRef(x[i], p, qmax)
                                    : quantizeAffineRef(x[i], p, qmax);
        const long double e = x[i] - dequantizeCode(q, p);
        sum += e * e;
    }
    return static_cast<double>(sum);
}

constexpr double kSumTolerance = 1e-12; // relative, double sums in different orders

} // namespace

class TestCalibration : public QObject
{
    Q_OBJECT
private slots:
    void parse_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<QString>("canonical");
        QTest::addRow("minmax") << QStringLiteral("minmax") << true << QStringLiteral("minmax");
        QTest::addRow("mse") << QStringLiteral("mse") << true << QStringLiteral("mse");
        QTest::addRow("hqq") << QStringLiteral("hqq") << true << QStringLiteral("hqq");
        QTest::addRow("percentile default")
            << QStringLiteral("percentile") << true << QStringLiteral("percentile:99.9");
        QTest::addRow("percentile 99.99")
            << QStringLiteral("percentile:99.99") << true << QStringLiteral("percentile:99.99");
        QTest::addRow("percentile 100")
            << QStringLiteral("percentile:100") << true << QStringLiteral("percentile:100");
        QTest::addRow("percentile 50")
            << QStringLiteral("percentile:50") << true << QStringLiteral("percentile:50");
        QTest::addRow("below 50") << QStringLiteral("percentile:49.9") << false
                                  << QStringLiteral("");
        QTest::addRow("above 100")
            << QStringLiteral("percentile:100.5") << false << QStringLiteral("");
        QTest::addRow("nan") << QStringLiteral("percentile:nan") << false << QStringLiteral("");
        QTest::addRow("empty P") << QStringLiteral("percentile:") << false << QStringLiteral("");
        QTest::addRow("trailing") << QStringLiteral("percentile:99x") << false
                                  << QStringLiteral("");
        QTest::addRow("no colon") << QStringLiteral("percentile99") << false << QStringLiteral("");
        QTest::addRow("case") << QStringLiteral("MSE") << false << QStringLiteral("");
        QTest::addRow("empty") << QStringLiteral("") << false << QStringLiteral("");
    }
    void parse()
    {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        QFETCH(QString, canonical);
        const auto c = Calibration::parse(text.toStdString());
        QCOMPARE(c.has_value(), valid);
        if (!c) return;
        QCOMPARE(QString::fromStdString(c->toString()), canonical);
        QCOMPARE(Calibration::parse(c->toString()), c); // round trip
    }

    void percentileMatchesNumpy()
    {
        // Every fixture row, bit for bit: np.percentile of x (or |x|) in float64.
        int rows = 0;
        for (const json& c : fixture("percentile")) {
            const float* x = fixtureData(c);
            std::vector<float> v(x, x + c.at("n").get<std::size_t>());
            if (c.at("abs").get<bool>())
                for (float& a : v)
                    a = std::fabs(a);
            const double got = percentileLinear(v.data(), static_cast<std::int64_t>(v.size()),
                                                c.at("p").get<double>());
            const double want = c.at("value").get<double>();
            if (got != want)
                QFAIL(qPrintable(QStringLiteral("n %1 p %2: %3, NumPy %4")
                                     .arg(v.size())
                                     .arg(c.at("p").get<double>())
                                     .arg(got, 0, 'g', 17)
                                     .arg(want, 0, 'g', 17)));
            ++rows;
        }
        QVERIFY(rows > 100);
    }

    void percentileParamsFromNumpy()
    {
        // The candidate is the scale rule applied to NumPy's percentiles, as float32.
        std::map<std::tuple<std::size_t, bool, double>, double> pct;
        for (const json& c : fixture("percentile"))
            pct[{c.at("offset").get<std::size_t>(), c.at("abs").get<bool>(),
                 c.at("p").get<double>()}] = c.at("value").get<double>();
        int checked = 0;
        for (const json& c : fixture("percentile")) {
            const double p = c.at("p").get<double>();
            if (p < 50.0 || c.at("abs").get<bool>()) continue;
            const auto off = c.at("offset").get<std::size_t>();
            const auto n = c.at("n").get<std::int64_t>();
            Calibration cal;
            cal.method = Calibration::Method::Percentile;
            cal.percentile = p;
            for (bool fp16 : {false, true}) {
                const auto sym =
                    symmetricParams(static_cast<float>(pct.at({off, true, p})), 7, fp16);
                QCOMPARE(candidateParams(cal, fixtureData(c), n, 7, false, fp16), sym);
                const auto lo = static_cast<float>(pct.at({off, false, 100.0 - p}));
                const auto aff =
                    affineParams(lo, static_cast<float>(c.at("value").get<double>()), 15, fp16);
                QCOMPARE(candidateParams(cal, fixtureData(c), n, 15, true, fp16), aff);
                ++checked;
            }
        }
        QVERIFY(checked > 50);
    }

    void mseMatchesNumpy()
    {
        int exact = 0, rows = 0;
        for (const json& c : fixture("mse")) {
            const float* x = fixtureData(c);
            const auto n = c.at("n").get<std::int64_t>();
            const int qmax = c.at("qmax").get<int>();
            const bool affine = c.at("affine").get<bool>(), fp16 = c.at("fp16_scale").get<bool>();
            Calibration cal;
            cal.method = Calibration::Method::Mse;
            const ScaleParams got = candidateParams(cal, x, n, qmax, affine, fp16);
            ScaleParams want = minMaxParams(x, n, qmax, affine, fp16);
            want.scale = c.at("scale").get<float>();
            want.inv = want.scale == 0.0f ? 0.0f : 1.0f / want.scale;
            want.zeroPoint = c.at("zero_point").get<int>();
            ++rows;
            if (got == want) {
                ++exact;
            } else { // only a near tie between two candidates may be decided differently
                const double a = groupSquaredError(x, n, got, qmax, affine);
                const double b = groupSquaredError(x, n, want, qmax, affine);
                QVERIFY2(std::fabs(a - b) <= kSumTolerance * b,
                         qPrintable(QString::fromStdString(c.dump())));
            }
            const CalibratedGroup g = calibrateGroup(cal, x, n, qmax, affine, fp16);
            QCOMPARE(g.changed, c.at("changed").get<bool>());
        }
        qInfo("mse: %d of %d groups chose exactly NumPy's parameters", exact, rows);
        QVERIFY(exact >= rows - 2);
    }

    void hqqMatchesTorch()
    {
        int rows = 0;
        for (const json& c : fixture("hqq")) {
            const float* x = fixtureData(c);
            const auto n = c.at("n").get<std::int64_t>();
            const int qmax = c.at("qmax").get<int>();
            int iterations = 0;
            const auto p = hqqParams(x, n, qmax, c.at("fp16_scale").get<bool>(), &iterations);
            QVERIFY(p && p->floatZero);
            const QString what = QString::fromStdString(c.dump());
            QVERIFY2(p->scale == c.at("scale").get<float>(), qPrintable(what));
            QVERIFY2(p->zero == c.at("zero").get<float>(), qPrintable(what));
            QVERIFY2(iterations == c.at("iterations").get<int>(), qPrintable(what));
            QCOMPARE(roundToF16(p->zero), p->zero);
            ++rows;
        }
        QVERIFY(rows > 100);
    }

    void hqqKeepsItsBestZero()
    {
        // The kept zero's mean |x - r| is no worse than the starting zero -min/s's.
        const auto x = test::weightLike(4096, 7);
        for (int qmax : {3, 15, 255}) {
            for (std::int64_t g = 0; g < 32; ++g) {
                const float* xg = x.data() + g * 128;
                const auto p = hqqParams(xg, 128, qmax, true);
                QVERIFY(p);
                const float mn = *std::min_element(xg, xg + 128);
                const ScaleParams start = floatZeroParams(p->scale, -mn * (1.0f / p->scale));
                auto l1 = [&](const ScaleParams& sp) {
                    double s = 0;
                    for (int i = 0; i < 128; ++i)
                        s +=
                            std::fabs(xg[i] - dequantizeCode(
                                                  quantizeAffineFloatZeroRef(xg[i], sp, qmax), sp));
                    return s;
                };
                QVERIFY(l1(*p) <= l1(start));
            }
        }
    }

    void neverWorseThanMinMax_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<int>("qmax");
        QTest::addColumn<bool>("affine");
        struct Fmt
        {
            const char* name;
            int qmax;
            bool affine;
        };
        static const Fmt formats[] = {
            {"int4", 7, false}, {"uint4", 15, true}, {"int8", 127, false}, {"uint2", 3, true}};
        for (const char* m : {"percentile:99", "percentile:99.9", "mse", "hqq"})
            for (const Fmt& f : formats)
                QTest::newRow((QByteArray(m) + ' ' + f.name).constData())
                    << QString::fromLatin1(m) << f.qmax << f.affine;
    }
    void neverWorseThanMinMax()
    {
        QFETCH(QString, method);
        QFETCH(int, qmax);
        QFETCH(bool, affine);
        const Calibration cal = *Calibration::parse(method.toStdString());
        const auto x = test::weightLike(128 * 64, 11);
        int changed = 0;
        for (std::int64_t g = 0; g < 64; ++g) {
            const float* xg = x.data() + g * 128;
            const ScaleParams base = minMaxParams(xg, 128, qmax, affine, true);
            const CalibratedGroup r = calibrateGroup(cal, xg, 128, qmax, affine, true);
            const double eb = naiveSquaredError(xg, 128, base, qmax, affine);
            const double er = naiveSquaredError(xg, 128, r.params, qmax, affine);
            QCOMPARE(r.changed, !(r.params == base));
            if (r.changed) QVERIFY(er < eb * (1.0 + kSumTolerance));
            QCOMPARE(r.params.floatZero, r.changed && cal.method == Calibration::Method::Hqq);
            changed += r.changed;
        }
        if (!cal.appliesTo(affine))
            QCOMPARE(changed, 0);
        else if (qmax <= 15)
            QVERIFY(changed > 0); // outliers leave room at 4 bits and below
    }

    void minMaxMatchesTheScaleRules()
    {
        const auto x = test::weightLike(1000, 3);
        QCOMPARE(minMaxParams(x.data(), 1000, 7, false, false),
                 symmetricParams(std::max(-*std::min_element(x.begin(), x.end()),
                                          *std::max_element(x.begin(), x.end())),
                                 7, false));
        const Calibration minmax;
        QCOMPARE(minmax.toString(), std::string("minmax"));
        const CalibratedGroup r = calibrateGroup(minmax, x.data(), 1000, 15, true, false);
        QVERIFY(!r.changed);
        QCOMPARE(r.params, affineParams(*std::min_element(x.begin(), x.end()),
                                        *std::max_element(x.begin(), x.end()), 15, false));
    }

    void hqqOnSymmetricIsUnchanged()
    {
        const auto x = test::weightLike(128, 5);
        const Calibration hqq = *Calibration::parse("hqq");
        QVERIFY(!hqq.appliesTo(false));
        QVERIFY(hqq.appliesTo(true));
        const CalibratedGroup r = calibrateGroup(hqq, x.data(), 128, 7, false, true);
        QVERIFY(!r.changed);
        QCOMPARE(r.params, minMaxParams(x.data(), 128, 7, false, true));
    }

    void degenerateGroups_data()
    {
        QTest::addColumn<std::vector<float>>("x");
        QTest::addRow("empty") << std::vector<float>{};
        QTest::addRow("NaN only") << std::vector<float>{NAN, NAN};
        QTest::addRow("constant") << std::vector<float>(64, 0.25f);
        QTest::addRow("zeros") << std::vector<float>(64, 0.0f);
        std::vector<float> inf = test::normalData(64, 1);
        inf[3] = INFINITY;
        inf[9] = NAN;
        QTest::addRow("Inf and NaN") << inf;
    }
    void degenerateGroups()
    {
        QFETCH(std::vector<float>, x);
        const auto n = static_cast<std::int64_t>(x.size());
        for (const char* m : {"minmax", "percentile:99", "mse", "hqq"})
            for (bool affine : {false, true}) {
                const int qmax = affine ? 15 : 7;
                const CalibratedGroup r =
                    calibrateGroup(*Calibration::parse(m), x.data(), n, qmax, affine, true);
                QVERIFY(std::isfinite(r.params.scale));
                const double e = groupSquaredError(x.data(), n, r.params, qmax, affine);
                QVERIFY(std::isfinite(e));
                QVERIFY(e <= groupSquaredError(x.data(), n,
                                               minMaxParams(x.data(), n, qmax, affine, true), qmax,
                                               affine));
            }
        if (n > 0 && x[0] == x[n - 1]) QVERIFY(!hqqParams(x.data(), n, 15, true)); // no range
    }

    void squaredErrorMatchesNaive()
    {
        auto x = test::weightLike(1001, 9); // not a multiple of the block or vector width
        x[5] = NAN;
        x[6] = INFINITY;
        const std::int64_t n = 1001;
        for (bool affine : {false, true}) {
            const ScaleParams p = minMaxParams(x.data(), n, 15, affine, true);
            const double a = groupSquaredError(x.data(), n, p, 15, affine);
            const double b = naiveSquaredError(x.data(), n, p, 15, affine);
            QVERIFY(std::fabs(a - b) <= kSumTolerance * b);
        }
        const ScaleParams fz = floatZeroParams(roundToF16(0.01f), 7.3f);
        QVERIFY(std::fabs(groupSquaredError(x.data(), n, fz, 15, true) -
                          naiveSquaredError(x.data(), n, fz, 15, true)) <=
                kSumTolerance * naiveSquaredError(x.data(), n, fz, 15, true));
    }

    void floatZeroFastMatchesReference_data()
    {
        QTest::addColumn<int>("qmax");
        QTest::addColumn<float>("scale");
        QTest::addColumn<float>("zero");
        QTest::addRow("uint4") << 15 << 0.01f << 7.3f;
        QTest::addRow("uint4 negative zero point") << 15 << 0.01f << -2.75f;
        QTest::addRow("uint2 beyond qmax") << 3 << 0.02f << 5.5f;
        QTest::addRow("uint8") << 255 << 0.001f << 127.6f;
        QTest::addRow("scale 0") << 15 << 0.0f << 7.3f;
    }
    void floatZeroFastMatchesReference()
    {
        QFETCH(int, qmax);
        QFETCH(float, scale);
        QFETCH(float, zero);
        const ScaleParams p = floatZeroParams(scale, zero);
        QVERIFY(p.floatZero && p.zeroPoint == 0 && p.zero == roundToF16(zero));
        QCOMPARE(zeroValue(p), p.zero);
        auto x = test::normalData(4099, 21, 0.1f);
        const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f};
        std::copy(std::begin(special), std::end(special), x.begin());
        for (int k = 0; k < 40; ++k) // values whose x * inv + zero lies on a tie, where exact
            x[10 + static_cast<std::size_t>(k)] =
                (static_cast<float>(k - 20) + 0.5f - p.zero) * scale;
        const auto n = static_cast<std::int64_t>(x.size());
        std::vector<float> qf(x.size()), y(x.size());
        std::vector<std::uint8_t> qb(x.size());
        quantizeAffineFloatZeroF(x.data(), n, p, qmax, qf.data());
        quantizeAffineFloatZero(x.data(), n, p, qmax, qb.data());
        dequantizeAffineFloatZero(qb.data(), n, p, y.data());
        for (std::size_t i = 0; i < x.size(); ++i) {
            const int ref = quantizeAffineFloatZeroRef(x[i], p, qmax);
            if (ref != static_cast<int>(qf[i]) || ref != qb[i] || ref < 0 || ref > qmax)
                QFAIL(qPrintable(QStringLiteral("x = %1: reference %2, fast %3 / %4")
                                     .arg(double(x[i]))
                                     .arg(ref)
                                     .arg(double(qf[i]))
                                     .arg(qb[i])));
            QCOMPARE(test::bits(y[i]), test::bits(dequantizeCode(ref, p)));
        }
        // NaN is treated as 0; ties go to even.
        QCOMPARE(quantizeAffineFloatZeroRef(NAN, p, qmax),
                 quantizeAffineFloatZeroRef(0.0f, p, qmax));
        const ScaleParams unit = floatZeroParams(1.0f, 2.0f);
        QCOMPARE(quantizeAffineFloatZeroRef(0.5f, unit, 15), 2);
        QCOMPARE(quantizeAffineFloatZeroRef(1.5f, unit, 15), 4);
        QCOMPARE(dequantizeCode(4, floatZeroParams(0.5f, 1.25f)), (4.0f - 1.25f) * 0.5f);
    }
};

QTEST_GUILESS_MAIN(TestCalibration)
#include "tst_calibration.moc"
