// Calibration, stochastic rounding and the block/element formats through the tensor quantizer:
// the stored form round-trips, costs what storageCost says, and results do not depend on the
// thread count. (The per-group algorithms themselves: tst_calibration, tst_minifloat.)
#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/encoded.h"
#include "formats/storage.h"
#include "testutil.h"

#include <QtTest>

#include <cstring>

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
