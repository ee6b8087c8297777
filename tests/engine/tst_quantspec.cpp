// Calibration, stochastic rounding and the block/element formats through the tensor quantizer:
// the stored form round-trips, costs what storageCost says, and results do not depend on the
// thread count. (The per-group algorithms themselves: tst_calibration, tst_minifloat.)
#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/encoded.h"
#include "formats/storage.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>

using namespace qs;

namespace {

std::vector<float> weights(const Shape& s, unsigned seed)
{
    auto x = test::normalData(static_cast<std::size_t>(shapeNumel(s)), seed);
    for (std::size_t i = 0; i < x.size(); i += 29)
        x[i] *= 15.0f; // outliers, so that calibration has something to clip
    return x;
}

std::span<const std::byte> bytesOf(const std::vector<float>& x)
{
    return {reinterpret_cast<const std::byte*>(x.data()), x.size() * 4};
}

QuantSpec spec(const char* format, const char* gran, const char* cal = "minmax",
               Rounding rounding = Rounding::Nearest, std::uint64_t seed = 0)
{
    QuantSpec s{findFormat(format), *Granularity::parse(gran)};
    s.calibration = *Calibration::parse(cal);
    s.rounding = rounding;
    s.seed = seed;
    return s;
}

// Bytes of the stored form: codes, every scale and zero-point vector.
std::uint64_t storedBytes(const EncodedTensor& e)
{
    return e.codes.size() + e.scales.size() * 4 + e.scales16.size() * 2 + e.scalesE8M0.size() +
           e.zeroPoints.size() + e.zeros16.size() * 2;
}

} // namespace

class TestQuantSpec : public QObject
{
    Q_OBJECT
private slots:
    void storedFormRoundTrips_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<QString>("calibration");
        QTest::addColumn<bool>("stochastic");
        for (const auto& f : formats()) {
            if (f.ggmlBlock()) continue; // tst_ggmlquant
            for (const char* g : {"tensor", "channel", "group:8", "group:13"}) {
                QTest::addRow("%s %s", f.name.data(), g)
                    << QString::fromLatin1(f.name.data()) << QString::fromLatin1(g)
                    << QStringLiteral("minmax") << false;
                if (!f.integer()) continue;
                for (const char* c : {"percentile:99", "mse", "hqq"})
                    QTest::addRow("%s %s %s", f.name.data(), g, c)
                        << QString::fromLatin1(f.name.data()) << QString::fromLatin1(g)
                        << QString::fromLatin1(c) << false;
                QTest::addRow("%s %s stochastic", f.name.data(), g)
                    << QString::fromLatin1(f.name.data()) << QString::fromLatin1(g)
                    << QStringLiteral("mse") << true;
            }
        }
    }
    void storedFormRoundTrips()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(QString, calibration);
        QFETCH(bool, stochastic);
        const Shape s{7, 45}; // odd sizes: packing of 2..7-bit codes across channel boundaries
        const auto x = weights(s, 3);
        const TensorInfo info = test::f32Info("t", s);
        const QuantSpec sp = spec(format.toLatin1().constData(), granularity.toLatin1().constData(),
                                  calibration.toLatin1().constData(),
                                  stochastic ? Rounding::Stochastic : Rounding::Nearest, 42);
        TensorQuantizer qz(bytesOf(x), info, sp);
        std::vector<float> want(x.size()), got(x.size());
        dequantizeTensor(qz, want.data(), Control{});
        const EncodedTensor enc = encodeTensor(qz, Control{});
        decodeTensor(enc, qz, got.data(), Control{});
        for (std::size_t i = 0; i < x.size(); ++i)
            if (test::bits(got[i]) != test::bits(want[i]))
                QFAIL(qPrintable(QStringLiteral("value %1: stored form gives %2, round trip %3")
                                     .arg(i)
                                     .arg(double(got[i]))
                                     .arg(double(want[i]))));
        QCOMPARE(storedBytes(enc), storageCost(info, sp).bytes);
        QCOMPARE(enc.zeros16.empty(), !sp.floatZero());
    }

    // Encoding finds the scales unit by unit when every group lies inside one work unit; the
    // stored form must equal what the tensor-wide pass gives.
    void perUnitScalesMatchTheTensorPass_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<qint64>("cols");
        QTest::newRow("int8 channel") << "int8"
                                      << "channel" << qint64(96) << qint64(8192);
        QTest::newRow("uint4 group:128") << "uint4"
                                         << "group:128" << qint64(300) << qint64(2048);
        QTest::newRow("int3 group:64") << "int3"
                                       << "group:64" << qint64(200) << qint64(3072);
        QTest::newRow("fp8_e5m2 channel") << "fp8_e5m2"
                                          << "channel" << qint64(96) << qint64(4096);
        QTest::newRow("nf4") << "nf4"
                             << "group:64" << qint64(96) << qint64(8192);
        QTest::newRow("mxfp4") << "mxfp4"
                               << "tensor" << qint64(96) << qint64(8192);
    }
    void perUnitScalesMatchTheTensorPass()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(qint64, rows);
        QFETCH(qint64, cols);
        const Shape s{rows, cols};
        const auto x = weights(s, 4);
        const TensorInfo info = test::f32Info("t", s);
        const QuantSpec sp =
            spec(format.toLatin1().constData(), granularity.toLatin1().constData());
        TensorQuantizer qz(bytesOf(x), info, sp);
        QVERIFY(qz.numUnits() > 1);
        QVERIFY(qz.scalesPerUnit());
        test::ThreadExecutor ex(2);
        Control parallel;
        parallel.executor = &ex;
        const EncodedTensor enc = encodeTensor(qz, parallel);

        TensorQuantizer ref(bytesOf(x), info, sp);
        ref.computeScales(Control{});
        QCOMPARE(qz.params(), ref.params());
        std::vector<float> want(x.size()), got(x.size());
        dequantizeTensor(ref, want.data(), Control{});
        decodeTensor(enc, qz, got.data(), Control{});
        QVERIFY(std::memcmp(want.data(), got.data(), want.size() * 4) == 0);
    }

    // Analysis finds each unit's scales right before its pass 2 instead of keeping every
    // group's: the statistics and every group's parameters must equal the tensor-wide pass's.
    void streamedScalesMatchTheTensorPass_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<QString>("calibration");
        QTest::addColumn<qint64>("cols");
        QTest::newRow("int8 channel") << "int8"
                                      << "channel"
                                      << "minmax" << qint64(4096);
        QTest::newRow("uint4 group:128 mse") << "uint4"
                                             << "group:128"
                                             << "mse" << qint64(4096);
        QTest::newRow("uint4 group:64 hqq") << "uint4"
                                            << "group:64"
                                            << "hqq" << qint64(3072);
        QTest::newRow("int4 group:32 percentile") << "int4"
                                                  << "group:32"
                                                  << "percentile:99" << qint64(4096);
        QTest::newRow("fp8_e4m3 group:64") << "fp8_e4m3"
                                           << "group:64"
                                           << "minmax" << qint64(4096);
        QTest::newRow("nf4") << "nf4"
                             << "group:64"
                             << "minmax" << qint64(8192);
        QTest::newRow("mxfp4") << "mxfp4"
                               << "tensor"
                               << "minmax" << qint64(8192);
        // Rows that are not whole groups, or units that start inside a group: a group can
        // cross into the next unit.
        QTest::newRow("int8 channel across units") << "int8"
                                                   << "channel"
                                                   << "minmax" << qint64(5000);
        QTest::newRow("int8 group:16 across units") << "int8"
                                                    << "group:16"
                                                    << "minmax" << qint64(3500);
        QTest::newRow("uint4 group:100 hqq across units") << "uint4"
                                                          << "group:100"
                                                          << "hqq" << qint64(5000);
        QTest::newRow("int4 group:48 mse across units") << "int4"
                                                        << "group:48"
                                                        << "mse" << qint64(5000);
        QTest::newRow("fp8_e4m3 group:128 across units") << "fp8_e4m3"
                                                         << "group:128"
                                                         << "minmax" << qint64(10000);
    }
    void streamedScalesMatchTheTensorPass()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(QString, calibration);
        QFETCH(qint64, cols);
        const Shape s{100, cols};
        auto x = weights(s, 8);
        const float inf = std::numeric_limits<float>::infinity();
        x[5] = std::numeric_limits<float>::quiet_NaN();
        x[70000] = inf;
        x[300001] = -inf;
        std::fill(x.begin() + 131072, x.begin() + 131072 + 256, std::nanf("")); // NaN groups
        x[200000] = -0.0f;
        const TensorInfo info = test::f32Info("t", s);
        const QuantSpec sp = spec(format.toLatin1().constData(), granularity.toLatin1().constData(),
                                  calibration.toLatin1().constData());
        TensorQuantizer qz(bytesOf(x), info, sp);
        QVERIFY(qz.numUnits() > 1);
        QVERIFY(qz.canStreamScales());
        QVERIFY(!qz.streamsScales()); // analysis keeps this few groups (see kKeptGroups)
        test::ThreadExecutor ex(2);
        Control parallel;
        parallel.executor = &ex;
        qz.computeStatsByUnit(parallel);
        QVERIFY(qz.params().empty());

        TensorQuantizer ref(bytesOf(x), info, sp);
        ref.computeScales(Control{});
        QCOMPARE(test::bits(qz.minValue()), test::bits(ref.minValue()));
        QCOMPARE(test::bits(qz.maxValue()), test::bits(ref.maxValue()));
        QCOMPARE(qz.nanCount(), ref.nanCount());
        QCOMPARE(qz.infCount(), ref.infCount());
        QCOMPARE(qz.calibratedGroups(), ref.calibratedGroups());
        QCOMPARE(test::bits(qz.maxScale()), test::bits(ref.maxScale()));
        QCOMPARE(qz.calibratedGroups() > 0, calibration != QLatin1String("minmax"));
        // The units' groups cover the tensor's in order; a group that crosses a unit boundary
        // is in both units, with the same parameters.
        std::int64_t next = 0;
        bool shared = false;
        for (std::int64_t u = 0; u < qz.numUnits(); ++u) {
            const UnitScales us = qz.scalesOfUnit(u, Control{});
            QVERIFY(us.firstGroup == next || us.firstGroup == next - 1);
            shared = shared || us.firstGroup < next;
            for (std::size_t k = 0; k < us.params.size(); ++k)
                QCOMPARE(us.params[k], ref.params()[static_cast<std::size_t>(us.firstGroup) + k]);
            next = us.firstGroup + static_cast<std::int64_t>(us.params.size());
        }
        QCOMPARE(next, ref.numGroups());
        QCOMPARE(shared, QByteArray(QTest::currentDataTag()).contains("across"));
    }

    void streamedScalesNeedSmallOrAlignedGroups()
    {
        // Channels of 10^5 values: more than kStreamedGroup, and 2^18 % 10^5 != 0.
        const auto x = weights({8, 100000}, 1);
        const TensorInfo wide = test::f32Info("t", {8, 100000});
        QVERIFY(!TensorQuantizer(bytesOf(x), wide, spec("int8", "channel")).canStreamScales());
        QVERIFY(TensorQuantizer(bytesOf(x), wide, spec("int8", "group:32")).canStreamScales());
        // One scale for the tensor, or one work unit: nothing to save.
        QVERIFY(!TensorQuantizer(bytesOf(x), wide, spec("int8", "tensor")).canStreamScales());
        const auto y = weights({64, 64}, 1);
        const TensorInfo small = test::f32Info("t", {64, 64});
        QVERIFY(!TensorQuantizer(bytesOf(y), small, spec("int8", "group:32")).canStreamScales());
    }

    // Outputs of 8 MiB and more are written with streaming stores: same values.
    void largeDecodeMatchesRoundTrip_data()
    {
        QTest::addColumn<QString>("format");
        for (const char* f : {"int8", "uint3", "fp16", "q4_K", "nf4", "fp8_e4m3"})
            QTest::newRow(f) << QString::fromLatin1(f);
    }
    void largeDecodeMatchesRoundTrip()
    {
        QFETCH(QString, format);
        const Shape s{513, 4096}; // 8.0 MiB of float32 and a bit, an odd number of rows
        const auto x = weights(s, 6);
        const TensorInfo info = test::f32Info("t", s);
        const QuantSpec sp = spec(format.toLatin1().constData(), "channel");
        TensorQuantizer qz(bytesOf(x), info, sp);
        test::ThreadExecutor ex(2);
        Control parallel;
        parallel.executor = &ex;
        const EncodedTensor enc = encodeTensor(qz, parallel);
        std::vector<float> want(x.size()), got(x.size() + 1);
        dequantizeTensor(qz, want.data(), Control{});
        decodeTensor(enc, qz, got.data() + 1, parallel); // misaligned on purpose
        QVERIFY(std::memcmp(want.data(), got.data() + 1, want.size() * 4) == 0);
    }

    void perUnitScalesNeedAlignedUnits()
    {
        // 2^18 % 2000 != 0: some unit starts inside a channel, so the tensor pass is needed.
        const auto x = weights({300, 2000}, 1);
        TensorQuantizer qz(bytesOf(x), test::f32Info("t", {300, 2000}), spec("int8", "channel"));
        QVERIFY(!qz.scalesPerUnit());
        TensorQuantizer mse(bytesOf(x), test::f32Info("t", {300, 2000}),
                            spec("int8", "group:16", "mse"));
        QVERIFY(!mse.scalesPerUnit()); // calibration reads whole groups in a pass of its own
    }

    void hqqWithStochasticRoundingIsRefused()
    {
        const auto x = weights({4, 16}, 1);
        QVERIFY_THROWS_EXCEPTION(
            Error, TensorQuantizer(bytesOf(x), test::f32Info("t", {4, 16}),
                                   spec("uint4", "group:8", "hqq", Rounding::Stochastic)));
    }

    void calibrationIsNeverWorseThanMinMax_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("calibration");
        for (const char* f : {"int4", "uint4", "int3", "uint2", "int8"})
            for (const char* c : {"percentile:99.9", "mse", "hqq"})
                QTest::addRow("%s %s", f, c) << QString::fromLatin1(f) << QString::fromLatin1(c);
    }
    void calibrationIsNeverWorseThanMinMax()
    {
        QFETCH(QString, format);
        QFETCH(QString, calibration);
        const Shape s{64, 512};
        const auto x = weights(s, 9);
        const TensorInfo info = test::f32Info("t", s);
        const std::string f = format.toStdString(), c = calibration.toStdString();
        TensorQuantizer base(bytesOf(x), info, spec(f.c_str(), "group:64"));
        TensorQuantizer cal(bytesOf(x), info, spec(f.c_str(), "group:64", c.c_str()));
        const auto a = analyzeTensor(base, Control{});
        const auto b = analyzeTensor(cal, Control{});
        QCOMPARE(b.scaleGroups, a.scaleGroups);
        QCOMPARE(a.calibratedGroups, std::int64_t(0));
        QVERIFY(b.sums.sumE2 <= a.sums.sumE2);
        // hqq does not apply to symmetric formats; everything else changes some groups here.
        const bool applies = c != "hqq" || findFormat(f)->affine();
        QCOMPARE(b.calibratedGroups > 0, applies);
        if (applies) QVERIFY(b.sums.sumE2 < a.sums.sumE2);
    }

    void resultsDoNotDependOnThreads_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<QString>("calibration");
        QTest::addColumn<bool>("stochastic");
        QTest::newRow("int4 stochastic") << "int4"
                                         << "channel"
                                         << "minmax" << true;
        QTest::newRow("uint3 mse") << "uint3"
                                   << "group:32"
                                   << "mse" << false;
        QTest::newRow("uint4 hqq") << "uint4"
                                   << "group:128"
                                   << "hqq" << false;
        QTest::newRow("fp8_e4m3") << "fp8_e4m3"
                                  << "channel"
                                  << "minmax" << false;
        QTest::newRow("nf4") << "nf4"
                             << "group:64"
                             << "minmax" << false;
        QTest::newRow("mxfp4") << "mxfp4"
                               << "tensor"
                               << "minmax" << false;
    }
    void resultsDoNotDependOnThreads()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(QString, calibration);
        QFETCH(bool, stochastic);
        const Shape s{300, 2000}; // several work units
        const auto x = weights(s, 5);
        const TensorInfo info = test::f32Info("t", s);
        const QuantSpec sp = spec(format.toLatin1().constData(), granularity.toLatin1().constData(),
                                  calibration.toLatin1().constData(),
                                  stochastic ? Rounding::Stochastic : Rounding::Nearest, 7);
        TensorQuantizer q1(bytesOf(x), info, sp);
        const auto a = analyzeTensor(q1, Control{});
        const EncodedTensor e1 = encodeTensor(q1, Control{});
        test::ThreadExecutor ex(3);
        Control parallel;
        parallel.executor = &ex;
        TensorQuantizer q2(bytesOf(x), info, sp);
        const auto b = analyzeTensor(q2, parallel);
        const EncodedTensor e2 = encodeTensor(q2, parallel);
        QCOMPARE(b.sums.sumE2, a.sums.sumE2);
        QCOMPARE(b.calibratedGroups, a.calibratedGroups);
        QVERIFY(e1.codes == e2.codes);
        QVERIFY(e1.scales == e2.scales && e1.scales16 == e2.scales16 &&
                e1.zeroPoints == e2.zeroPoints && e1.zeros16 == e2.zeros16);
    }

    void stochasticRoundingDependsOnTheSeedOnly()
    {
        const Shape s{16, 256};
        const auto x = weights(s, 2);
        const TensorInfo info = test::f32Info("t", s);
        auto codes = [&](std::uint64_t seed) {
            TensorQuantizer q(bytesOf(x), info,
                              spec("int4", "channel", "minmax", Rounding::Stochastic, seed));
            return encodeTensor(q, Control{}).codes;
        };
        QVERIFY(codes(1) == codes(1));
        QVERIFY(codes(1) != codes(2));
        TensorQuantizer nearest(bytesOf(x), info, spec("int4", "channel"));
        QVERIFY(encodeTensor(nearest, Control{}).codes != codes(1));
    }
};

QTEST_APPLESS_MAIN(TestQuantSpec)
#include "tst_quantspec.moc"
