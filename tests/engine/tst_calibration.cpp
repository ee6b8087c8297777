// Calibration (minmax, percentile, mse, hqq) against NumPy/PyTorch fixtures
// (tests/data/make_calibration_fixtures.py), float-zero kernels, stochastic rounding, and the
// ideal-quantizer SQNRs against the published tables (Max 1960).
#include "formats/calibration.h"
#include "formats/half.h"
#include "formats/ideal_sqnr.h"
#include "formats/int_quant.h"
#include "formats/stochastic.h"
#include "testutil.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <thread>

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

// Seeded weight-like groups: normal values, every fifth group with one outlier.
std::vector<float> weightLike(std::size_t n, unsigned seed)
{
    auto x = test::normalData(n, seed);
    for (std::size_t i = 0; i < n; i += 641)
        x[i] *= 25.0f;
    return x;
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
        const auto x = weightLike(4096, 7);
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
        const auto x = weightLike(128 * 64, 11);
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
        const auto x = weightLike(1000, 3);
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
        const auto x = weightLike(128, 5);
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
        auto x = weightLike(1001, 9); // not a multiple of the block or vector width
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

    // --- stochastic rounding ---

    void splitMixPublishedVectors()
    {
        // SplitMix64 outputs 1..5 from state 1234567 (Rosetta Code's SplitMix64 task, the
        // sequence of Vigna's splitmix64.c) and output 1 from state 0.
        const std::uint64_t want[] = {6457827717110365317u, 3203168211198807973u,
                                      9817491932198370423u, 4593380528125082431u,
                                      16408922859458223821u};
        for (std::uint64_t i = 0; i < 5; ++i)
            QCOMPARE(splitMix64(1234567, i + 1), want[i]);
        QCOMPARE(splitMix64(0, 1), std::uint64_t{0xe220a8397b1dcdafu});
        QCOMPARE(stochasticBits(1234567, 0), static_cast<std::uint32_t>(want[0] >> 40));
    }

    void stochasticUniformBits()
    {
        // The 24-bit draws fill 16 equal bins evenly: each count within 5 sigma of N/16.
        constexpr int kN = 1 << 20;
        int bins[16] = {};
        for (int i = 0; i < kN; ++i)
            ++bins[stochasticBits(42, i) >> 20];
        const double mean = kN / 16.0, sigma = std::sqrt(kN * (1.0 / 16) * (15.0 / 16));
        for (int b : bins)
            QVERIFY2(std::fabs(b - mean) < 5 * sigma, qPrintable(QString::number(b)));
    }

    void stochasticFastMatchesReference_data()
    {
        QTest::addColumn<int>("qmax");
        QTest::addColumn<bool>("affine");
        QTest::addColumn<qint64>("first");
        QTest::addRow("int8") << 127 << false << qint64{0};
        QTest::addRow("int4 far index") << 7 << false << (qint64{1} << 40);
        QTest::addRow("int2") << 1 << false << qint64{12345};
        QTest::addRow("uint8") << 255 << true << qint64{0};
        QTest::addRow("uint4") << 15 << true << qint64{999};
    }
    void stochasticFastMatchesReference()
    {
        QFETCH(int, qmax);
        QFETCH(bool, affine);
        QFETCH(qint64, first);
        auto x = weightLike(5003, 31);
        const float special[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-30f, -1e-30f};
        std::copy(std::begin(special), std::end(special), x.begin());
        const auto n = static_cast<std::int64_t>(x.size());
        const ScaleParams p = minMaxParams(x.data() + 7, n - 7, qmax, affine, true);
        std::vector<float> qf(x.size());
        std::vector<std::int8_t> q8(x.size());
        std::vector<std::uint8_t> u8(x.size());
        const std::uint64_t seed = 0x5eed;
        if (affine) {
            quantizeAffineStochasticF(x.data(), n, p, qmax, seed, first, qf.data());
            quantizeAffineStochastic(x.data(), n, p, qmax, seed, first, u8.data());
        } else {
            quantizeSymmetricStochasticF(x.data(), n, p, qmax, seed, first, qf.data());
            quantizeSymmetricStochastic(x.data(), n, p, qmax, seed, first, q8.data());
        }
        const int lo = affine ? 0 : -qmax;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const std::int64_t idx = first + static_cast<std::int64_t>(i);
            const int ref = affine ? quantizeAffineStochasticRef(x[i], p, qmax, seed, idx)
                                   : quantizeSymmetricStochasticRef(x[i], p, qmax, seed, idx);
            const int fast = affine ? u8[i] : q8[i];
            QVERIFY(ref == static_cast<int>(qf[i]) && ref == fast);
            QVERIFY(ref >= lo && ref <= qmax);
            if (std::isnan(x[i])) {
                QCOMPARE(ref, p.zeroPoint);
                continue;
            }
            // floor or ceil of the unclamped position, then clamped
            const float y = x[i] * p.inv + static_cast<float>(p.zeroPoint);
            const int f = static_cast<int>(std::clamp(std::floor(y), float(lo), float(qmax)));
            const int c = static_cast<int>(std::clamp(std::ceil(y), float(lo), float(qmax)));
            QVERIFY2(ref == f || ref == c, qPrintable(QString::number(double(x[i]))));
        }
    }

    void stochasticExactGridValues()
    {
        // A value on the grid (x * inv an integer, exact with a power-of-two scale) has no
        // fraction to round: every draw gives the same code.
        for (bool affine : {false, true}) {
            const int qmax = affine ? 15 : 7;
            const ScaleParams p{0.0625f, 16.0f, affine ? 8 : 0};
            for (int k = -20; k <= 20; ++k) {
                const float x = static_cast<float>(k) * 0.0625f;
                const int want = std::clamp(k + p.zeroPoint, affine ? 0 : -qmax, qmax);
                for (std::int64_t i = 0; i < 1000; ++i)
                    QCOMPARE(affine ? quantizeAffineStochasticRef(x, p, qmax, 3, i)
                                    : quantizeSymmetricStochasticRef(x, p, qmax, 3, i),
                             want);
            }
        }
    }

    void stochasticBoundary()
    {
        // floor(y + u) exactly at the edge: with u = m / 2^24, y = 1 - u reaches the next code
        // and y = 1 - u - 2^-24 does not; y = -u lands on 0 (all these y are exact floats).
        const ScaleParams p{1.0f, 1.0f, 0};
        float q[3];
        for (std::int64_t i = 0; i < 2000; ++i) {
            const std::uint32_t m = stochasticBits(77, i);
            if (m == 0) continue;
            const float up = static_cast<float>(0x1000000u - m) * 0x1p-24f;
            const float below = static_cast<float>(0x1000000u - m - 1) * 0x1p-24f;
            const float neg = -static_cast<float>(m) * 0x1p-24f;
            QCOMPARE(quantizeSymmetricStochasticRef(up, p, 7, 77, i), 1);
            QCOMPARE(quantizeSymmetricStochasticRef(below, p, 7, 77, i), 0);
            QCOMPARE(quantizeSymmetricStochasticRef(neg, p, 7, 77, i), 0);
            for (int k = 0; k < 3; ++k) {
                const float x = k == 0 ? up : k == 1 ? below : neg;
                quantizeSymmetricStochasticF(&x, 1, p, 7, 77, i, q + k);
            }
            QCOMPARE(q[0], 1.0f);
            QCOMPARE(q[1], 0.0f);
            QCOMPARE(q[2], 0.0f);
        }
    }

    void stochasticReproducibleAndChunkIndependent()
    {
        const auto x = weightLike(20000, 41);
        const auto n = static_cast<std::int64_t>(x.size());
        const ScaleParams p = minMaxParams(x.data(), n, 7, false, false);
        std::vector<float> whole(x.size()), again(x.size()), chunked(x.size()), other(x.size());
        quantizeSymmetricStochasticF(x.data(), n, p, 7, 99, 1000, whole.data());
        quantizeSymmetricStochasticF(x.data(), n, p, 7, 99, 1000, again.data());
        quantizeSymmetricStochasticF(x.data(), n, p, 7, 100, 1000, other.data());
        QVERIFY(whole == again);
        QVERIFY(whole != other); // the seed matters
        std::mt19937 rng(5);
        for (std::int64_t k = 0; k < n;) { // random chunk lengths, in reverse-free order
            const std::int64_t len = std::min<std::int64_t>(n - k, 1 + rng() % 700);
            quantizeSymmetricStochasticF(x.data() + k, len, p, 7, 99, 1000 + k, chunked.data() + k);
            k += len;
        }
        QVERIFY(whole == chunked);
    }

    void stochasticUnbiased_data()
    {
        QTest::addColumn<float>("value");
        QTest::addColumn<int>("qmax");
        QTest::addColumn<bool>("affine");
        for (float v : {0.3f, -0.77f, 0.011f, 0.5f, 0.999f})
            for (auto [qmax, affine] : {std::pair{7, false}, {15, true}, {127, false}})
                QTest::addRow("%g q%d%s", double(v), qmax, affine ? " affine" : "")
                    << v << qmax << affine;
    }
    void stochasticUnbiased()
    {
        // 10^6 copies of x: each dequantized value is floor(y) * s or that plus s, so their
        // mean has standard deviation s * sqrt(f (1 - f) / N) (f the fraction of y) around its
        // expectation, which differs from x by at most the rounding of x * inv (2^-24 |y|),
        // of inv (2^-24), of the 24-bit draw (2^-24 of a step) and of the product q * s:
        // together below 4 * 2^-24 * (|x| + s). The check is 5 sigma plus that.
        QFETCH(float, value);
        QFETCH(int, qmax);
        QFETCH(bool, affine);
        constexpr std::int64_t kN = 1000000;
        const ScaleParams p =
            affine ? affineParams(-1.0f, 1.0f, qmax, false) : symmetricParams(1.0f, qmax, false);
        const std::vector<float> x(kN, value);
        std::vector<float> q(kN);
        if (affine)
            quantizeAffineStochasticF(x.data(), kN, p, qmax, 2024, 0, q.data());
        else
            quantizeSymmetricStochasticF(x.data(), kN, p, qmax, 2024, 0, q.data());
        double sum = 0;
        for (float c : q)
            sum += dequantizeCode(static_cast<int>(c), p);
        const double mean = sum / kN;
        const double y = double(value) / p.scale, f = y - std::floor(y);
        const double sigma = p.scale * std::sqrt(f * (1.0 - f) / kN);
        const double bound = 5.0 * sigma + 4.0 * 0x1p-24 * (std::fabs(value) + p.scale);
        QVERIFY2(std::fabs(mean - value) <= bound,
                 qPrintable(QStringLiteral("mean %1, x %2, bound %3")
                                .arg(mean, 0, 'g', 12)
                                .arg(double(value), 0, 'g', 12)
                                .arg(bound)));
    }

    // --- ideal quantizers of N(0, 1) ---

    void idealSqnrPublished_data()
    {
        // Max (1960), "Quantizing for minimum distortion", Tables I and II (also Jayant & Noll,
        // Digital Coding of Waveforms, Table 4.1/4.2): SQNR in dB to two decimals, and the
        // optimum step (uniform) or outermost output level (Lloyd-Max) to four digits.
        QTest::addColumn<int>("bits");
        QTest::addColumn<int>("kind");
        QTest::addColumn<double>("sqnr");
        QTest::addColumn<double>("param");
        QTest::addColumn<double>("paramTolerance");
        const int u = int(IdealQuantizer::Uniform), l = int(IdealQuantizer::LloydMax);
        QTest::addRow("uniform 2") << 2 << u << 9.25 << 0.9957 << 5e-5;
        QTest::addRow("uniform 3") << 3 << u << 14.27 << 0.5860 << 5e-5;
        QTest::addRow("uniform 4") << 4 << u << 19.38 << 0.3352 << 5e-5;
        QTest::addRow("uniform 8") << 8 << u << 40.57 << -1.0 << 0.0;
        QTest::addRow("lloyd-max 2") << 2 << l << 9.30 << 1.510 << 5e-4;
        QTest::addRow("lloyd-max 3") << 3 << l << 14.62 << 2.152 << 5e-4;
        QTest::addRow("lloyd-max 4") << 4 << l << 20.22 << 2.733 << 5e-4;
        QTest::addRow("lloyd-max 8") << 8 << l << 43.85 << -1.0 << 0.0;
    }
    void idealSqnrPublished()
    {
        QFETCH(int, bits);
        QFETCH(int, kind);
        QFETCH(double, sqnr);
        QFETCH(double, param);
        QFETCH(double, paramTolerance);
        double got = 0;
        const double db = computeIdealSqnrDb(bits, IdealQuantizer(kind), &got);
        QVERIFY2(std::fabs(db - sqnr) <= 0.005, qPrintable(QString::number(db, 'f', 5)));
        if (param > 0)
            QVERIFY2(std::fabs(got - param) <= paramTolerance, qPrintable(QString::number(got)));
        QCOMPARE(idealSqnrDb(bits, IdealQuantizer(kind)), db); // the cache holds the same
    }

    void idealSqnrClosedForms()
    {
        // One bit: levels +-sqrt(2/pi), MSE 1 - 2/pi, for both optimal quantizers.
        const double oneBit = -10.0 * std::log10(1.0 - 2.0 / M_PI);
        double step = 0;
        QVERIFY(std::fabs(computeIdealSqnrDb(1, IdealQuantizer::Uniform, &step) - oneBit) < 1e-9);
        QVERIFY(std::fabs(step - 2.0 * std::sqrt(2.0 / M_PI)) < 1e-6); // the MSE is flat there
        QVERIFY(std::fabs(idealSqnrDb(1, IdealQuantizer::LloydMax) - oneBit) < 1e-9);
        // Three levels: the Lloyd-Max quantizer is uniform (levels 0, +-1.224, MSE 0.1902 in
        // Max's Table I), so the 2-bit mid-tread grid reproduces it.
        QVERIFY(std::fabs(computeIdealSqnrDb(2, IdealQuantizer::UniformMidTread, &step) -
                          -10.0 * std::log10(0.1902)) < 0.0012); // 0.1902 is rounded
        QVERIFY(std::fabs(step - 1.224) < 5e-4);
        // Many levels: Lloyd-Max approaches Panter & Dite's sqrt(3) pi / 2 * 4^-bits.
        const double panterDite =
            -10.0 * std::log10(std::sqrt(3.0) * M_PI / 2.0 * std::pow(4.0, -12));
        QVERIFY(std::fabs(idealSqnrDb(12, IdealQuantizer::LloydMax) - panterDite) < 0.01);
    }

    void idealSqnrOrderAndRange()
    {
        for (int b = 2; b <= 12; ++b) {
            const double u = idealSqnrDb(b, IdealQuantizer::Uniform);
            const double l = idealSqnrDb(b, IdealQuantizer::LloydMax);
            const double t = idealSqnrDb(b, IdealQuantizer::UniformMidTread);
            QVERIFY(l > u && u > t); // more freedom, then one level fewer
            QVERIFY(u > idealSqnrDb(b - 1, IdealQuantizer::Uniform) + 4.0); // ~6 dB per bit
        }
        QVERIFY(std::isnan(idealSqnrDb(0, IdealQuantizer::Uniform)));
        QVERIFY(std::isnan(idealSqnrDb(13, IdealQuantizer::LloydMax)));
        QVERIFY(std::isnan(idealSqnrDb(1, IdealQuantizer::UniformMidTread)));
    }

    void idealSqnrThreadSafe()
    {
        std::vector<double> got(8);
        std::vector<std::thread> pool;
        for (std::size_t t = 0; t < got.size(); ++t)
            pool.emplace_back([&, t] { got[t] = idealSqnrDb(7, IdealQuantizer::LloydMax); });
        for (auto& th : pool)
            th.join();
        for (double g : got)
            QCOMPARE(g, computeIdealSqnrDb(7, IdealQuantizer::LloydMax));
    }
};

QTEST_GUILESS_MAIN(TestCalibration)
#include "tst_calibration.moc"
