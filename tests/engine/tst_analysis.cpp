// The per-tensor analysis against a naive recomputation, for every format and granularity,
// plus layouts, storage accounting, packing, thread independence and cancellation.
#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/encoded.h"
#include "formats/half.h"
#include "formats/minifloat.h"
#include "formats/mxfp4.h"
#include "formats/nf4.h"
#include "formats/storage.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>

using namespace qs;

namespace {

struct Naive
{
    std::vector<float> deq; // in memory order
    long double w2 = 0, e2 = 0, d2 = 0, wd = 0, se2 = 0;
    double maxe = 0;
};

// Straightforward recomputation: gather each group by index arithmetic, scalar reference
// kernels, long double sums.
Naive naive(const std::vector<float>& x, const Shape& shape, int axis, const Format& f,
            const Granularity& g)
{
    const std::int64_t n = shapeNumel(shape);
    // The layouts as the README states them: integers and fp8 follow the granularity; nf4 takes
    // blocks of G (default 64) of the flattened tensor; mxfp4 blocks of 32 in each slice of
    // axis 0.
    const bool perChannel = ((f.integer() || f.fp8()) && g.kind != Granularity::Kind::Tensor) ||
                            f.kind == FormatKind::Mxfp4;
    if (f.kind == FormatKind::Mxfp4) axis = 0;
    std::int64_t C = 1, inner = 1;
    if (perChannel) {
        C = shape[static_cast<std::size_t>(axis)];
        for (std::size_t a = static_cast<std::size_t>(axis) + 1; a < shape.size(); ++a)
            inner *= shape[a];
    } else {
        inner = n;
    }
    const std::int64_t L = n / C;
    std::int64_t G = L;
    if ((f.integer() || f.fp8() || f.kind == FormatKind::Nf4) && g.kind == Granularity::Kind::Group)
        G = g.groupSize;
    else if (f.kind == FormatKind::Nf4)
        G = 64;
    else if (f.kind == FormatKind::Mxfp4)
        G = 32;
    auto mem = [&](std::int64_t c, std::int64_t j) {
        return ((j / inner) * C + c) * inner + j % inner;
    };
    Naive r;
    r.deq.assign(static_cast<std::size_t>(n), 0.0f);
    for (std::int64_t c = 0; c < C; ++c)
        for (std::int64_t g0 = 0; g0 < L; g0 += G) {
            const std::int64_t g1 = std::min(L, g0 + G);
            float mn = INFINITY, mx = -INFINITY;
            for (std::int64_t j = g0; j < g1; ++j) {
                const float v = x[static_cast<std::size_t>(mem(c, j))];
                if (v < mn) mn = v;
                if (v > mx) mx = v;
            }
            const bool fp16Scale = g.kind == Granularity::Kind::Group;
            ScaleParams p;
            const float amax = std::max(std::fabs(mn), std::fabs(mx));
            if (f.affine())
                p = affineParams(mn, mx, f.qmax, fp16Scale);
            else if (f.integer())
                p = symmetricParams(amax, f.qmax, fp16Scale);
            const Fp8Kind k8 = f.kind == FormatKind::Fp8E4M3 ? Fp8Kind::E4M3 : Fp8Kind::E5M2;
            const float s8 = f.fp8() ? fp8Scale(k8, amax) : 0.0f;
            const float mxX = e8m0Value(mxfp4ScaleByte(amax));
            for (std::int64_t j = g0; j < g1; ++j) {
                const auto i = static_cast<std::size_t>(mem(c, j));
                float d = x[i];
                if (f.kind == FormatKind::Float16)
                    d = f16ToF32(f32ToF16(x[i]));
                else if (f.kind == FormatKind::BFloat16)
                    d = bf16ToF32(f32ToBf16(x[i]));
                else if (f.affine())
                    d = dequantizeCode(quantizeAffineRef(x[i], p, f.qmax), p);
                else if (f.integer())
                    d = dequantizeCode(quantizeSymmetricRef(x[i], p, f.qmax), p);
                else if (f.fp8())
                    d = fp8Decode(k8, fp8QuantizeRef(k8, x[i], s8)) * s8;
                else if (f.kind == FormatKind::Nf4)
                    d = nf4Level(nf4EncodeRef(x[i] * (1.0f / amax))) * amax;
                else if (f.kind == FormatKind::Mxfp4)
                    d = fp4e2m1Decode(fp4e2m1EncodeRef(x[i] / mxX)) * mxX;
                r.deq[i] = d;
                const long double w = x[i], e = static_cast<long double>(x[i]) - d;
                r.w2 += w * w;
                r.e2 += e * e;
                r.d2 += static_cast<long double>(d) * d;
                r.wd += w * d;
                if (f.integer()) r.se2 += e * e * p.inv * p.inv;
                r.maxe = std::max(r.maxe, static_cast<double>(std::fabs(x[i] - d)));
            }
        }
    return r;
}

bool close(long double a, long double b, long double rel = 1e-9L)
{
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + 1e-30L;
}

} // namespace

class TestAnalysis : public QObject
{
    Q_OBJECT
private slots:
    void matchesNaive_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<QList<qint64>>("shape");
        QTest::addColumn<int>("axis");
        const QList<qint64> matrix = {24, 70}, conv = {6, 3, 5, 5}, keras = {5, 7, 12};
        for (const auto& f : formats()) {
            if (f.ggmlBlock()) continue; // whole rows of blocks: tst_ggmlquant
            const QString name =
                QString::fromLatin1(f.name.data(), static_cast<qsizetype>(f.name.size()));
            for (const char* g : {"tensor", "channel", "group:32", "group:7"}) {
                const QString gran = QString::fromLatin1(g);
                QTest::addRow("%s %s matrix", f.name.data(), g) << name << gran << matrix << 0;
                QTest::addRow("%s %s conv", f.name.data(), g) << name << gran << conv << 0;
                QTest::addRow("%s %s last axis", f.name.data(), g) << name << gran << keras << 2;
                QTest::addRow("%s %s middle axis", f.name.data(), g) << name << gran << keras << 1;
            }
        }
    }
    void matchesNaive()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(QList<qint64>, shape);
        QFETCH(int, axis);
        const Format& f = *findFormat(format.toStdString());
        const Granularity g = *Granularity::parse(granularity.toStdString());
        const Shape s(shape.begin(), shape.end());
        auto x = test::normalData(static_cast<std::size_t>(shapeNumel(s)), 11);
        for (std::size_t i = 0; i < x.size(); i += 37)
            x[i] *= 20.0f; // outliers
        x[5] = 0.0f;
        const TensorInfo info = test::f32Info("t", s, axis);
        const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(x.data()),
                                               x.size() * 4);
        TensorQuantizer qz(bytes, info, QuantSpec{&f, g});
        const TensorAnalysis a = analyzeTensor(qz, Control{});
        const Naive ref = naive(x, s, axis, f, g);

        std::vector<float> deq(x.size());
        dequantizeTensor(qz, deq.data(), Control{});
        for (std::size_t i = 0; i < x.size(); ++i)
            if (test::bits(deq[i]) != test::bits(ref.deq[i]))
                QFAIL(qPrintable(QStringLiteral("value %1: %2 vs naive %3")
                                     .arg(i)
                                     .arg(double(deq[i]))
                                     .arg(double(ref.deq[i]))));
        // The fused analysis pass saw exactly the values dequantizeTensor produces.
        std::vector<std::uint64_t> deqCounts(a.dequantized.counts.size(), 0),
            errCounts(a.error.counts.size(), 0);
        for (std::size_t i = 0; i < x.size(); ++i) {
            ++deqCounts[a.dequantized.binOf(deq[i])];
            ++errCounts[a.error.binOf(x[i] - deq[i])];
        }
        QCOMPARE(a.dequantized.counts, deqCounts);
        QCOMPARE(a.error.counts, errCounts);
        QCOMPARE(a.sums.count, std::uint64_t(x.size()));
        QVERIFY(close(a.sums.sumW2, ref.w2));
        QVERIFY2(close(a.sums.sumE2, ref.e2, 1e-6L),
                 qPrintable(QStringLiteral("%1 vs %2").arg(a.sums.sumE2).arg(double(ref.e2))));
        QVERIFY(close(a.sums.sumD2, ref.d2, 1e-7L));
        QVERIFY(close(a.sums.sumWD, ref.wd, 1e-7L));
        QCOMPARE(a.sums.maxAbsError, ref.maxe);
        if (f.integer()) {
            QVERIFY(a.sums.rmseOverScale().has_value());
            QVERIFY(close(a.sums.sumScaledE2, ref.se2, 1e-5L));
            QVERIFY(*a.sums.rmseOverScale() < 0.5); // |error| <= s/2 without clipping
        }
        QCOMPARE(a.original.total(), std::uint64_t(x.size()));
        QCOMPARE(a.dequantized.total(), std::uint64_t(x.size()));
        QCOMPARE(a.error.total(), std::uint64_t(x.size()));
        if (f.kind == FormatKind::Float32)
            QVERIFY(!a.sums.sqnrDb().has_value()); // no error at all
        else
            QVERIFY(a.sums.sqnrDb().has_value());
    }

    void idealUniformRounding()
    {
        // Uniform data, per-tensor int8: the rounding error is uniform on [-s/2, s/2], so
        // rmse/scale approaches 1/sqrt(12) = 0.2887 (TFLite's debugger figure).
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        std::vector<float> x(200000);
        for (auto& v : x)
            v = u(rng);
        const TensorInfo info = test::f32Info("u", {400, 500});
        TensorQuantizer qz({reinterpret_cast<const std::byte*>(x.data()), x.size() * 4}, info,
                           QuantSpec{findFormat("int8"), Granularity{}});
        const auto a = analyzeTensor(qz, Control{});
        QVERIFY(std::fabs(*a.sums.rmseOverScale() - 0.288675) < 0.002);
        QVERIFY(a.clipHigh.has_value());
        QCOMPARE(*a.clipHigh, 127.0f * *a.scale);
        // SQNR of uniform data under b-bit uniform quantization: about 6.02*b dB (here ~42 dB).
        QVERIFY(std::fabs(*a.sums.sqnrDb() - 6.02 * 7 - 6.02 + 0.0) < 2.0);
    }

    void histogramsArePlaced()
    {
        std::vector<float> x = {-1.0f, -1.0f, 0.0f, 1.0f};
        const TensorInfo info = test::f32Info("h", {2, 2});
        TensorQuantizer qz({reinterpret_cast<const std::byte*>(x.data()), 16}, info,
                           QuantSpec{findFormat("fp32"), Granularity{}});
        const auto a = analyzeTensor(qz, Control{}, 4);
        QCOMPARE(a.original.lo, -1.0);
        QCOMPARE(a.original.hi, 1.0);
        QCOMPARE(a.original.counts, (std::vector<std::uint64_t>{2, 0, 1, 1}));
        QCOMPARE(a.error.counts[2], std::uint64_t(4)); // zero error: the bin right of the centre
    }

    void resultsDoNotDependOnThreads()
    {
        const Shape s{300, 2000}; // several work units
        const auto x = test::normalData(static_cast<std::size_t>(shapeNumel(s)), 5);
        const TensorInfo info = test::f32Info("t", s);
        const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(x.data()),
                                               x.size() * 4);
        for (const char* fmt : {"int8", "uint4", "fp16"})
            for (const char* gran : {"tensor", "channel", "group:128"}) {
                TensorQuantizer q1(bytes, info,
                                   QuantSpec{findFormat(fmt), *Granularity::parse(gran)});
                QVERIFY(q1.numUnits() > 1);
                Control serial;
                const auto a = analyzeTensor(q1, serial);
                for (int threads : {2, 4, 7}) {
                    test::ThreadExecutor ex(threads);
                    Control parallel;
                    parallel.executor = &ex;
                    TensorQuantizer q2(bytes, info,
                                       QuantSpec{findFormat(fmt), *Granularity::parse(gran)});
                    const auto b = analyzeTensor(q2, parallel);
                    QCOMPARE(test::bits(static_cast<float>(b.sums.sumE2)),
                             test::bits(static_cast<float>(a.sums.sumE2)));
                    QCOMPARE(b.sums.sumE2, a.sums.sumE2); // bit-identical doubles
                    QCOMPARE(b.sums.sumW2, a.sums.sumW2);
                    QCOMPARE(b.sums.sumScaledE2, a.sums.sumScaledE2);
                    QCOMPARE(b.original.counts, a.original.counts);
                    QCOMPARE(b.error.counts, a.error.counts);
                }
            }
    }

    void storageCost_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<QList<qint64>>("shape");
        QTest::addColumn<qulonglong>("bytes");
        QTest::addRow("int8 channel") << "int8"
                                      << "channel" << QList<qint64>{16, 64} << 1024ULL + 16 * 4;
        QTest::addRow("int8 tensor") << "int8"
                                     << "tensor" << QList<qint64>{16, 64} << 1024ULL + 4;
        QTest::addRow("uint8 channel") << "uint8"
                                       << "channel" << QList<qint64>{16, 64} << 1024ULL + 16 * 5;
        QTest::addRow("int4 group:32") << "int4"
                                       << "group:32" << QList<qint64>{16, 64} << 512ULL + 32 * 2;
        QTest::addRow("uint4 group:32") << "uint4"
                                        << "group:32" << QList<qint64>{16, 64} << 512ULL + 32 * 3;
        QTest::addRow("int4 short last group")
            << "int4"
            << "group:32" << QList<qint64>{2, 40} << 40ULL + 4 * 2;
        QTest::addRow("int4 odd count") << "int4"
                                        << "tensor" << QList<qint64>{7} << 4ULL + 4;
        QTest::addRow("fp16") << "fp16"
                              << "channel" << QList<qint64>{16, 64} << 2048ULL;
        QTest::addRow("bf16") << "bf16"
                              << "tensor" << QList<qint64>{3} << 6ULL;
    }
    void storageCost()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(QList<qint64>, shape);
        QFETCH(qulonglong, bytes);
        const TensorInfo t = test::f32Info("t", Shape(shape.begin(), shape.end()));
        const StorageCost c = qs::storageCost(t, *findFormat(format.toStdString()),
                                              *Granularity::parse(granularity.toStdString()));
        QCOMPARE(static_cast<qulonglong>(c.bytes), bytes);
        QCOMPARE(c.bitsPerWeight,
                 static_cast<double>(bytes) * 8.0 / static_cast<double>(t.numel()));
    }

    void encodeDecodeMatchesRoundTrip()
    {
        const Shape s{9, 33}; // odd sizes exercise nibble packing across channels
        const auto x = test::normalData(static_cast<std::size_t>(shapeNumel(s)), 8);
        const TensorInfo info = test::f32Info("t", s);
        const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(x.data()),
                                               x.size() * 4);
        for (const auto& f : formats()) {
            if (f.ggmlBlock()) continue; // rows of 33 are no whole blocks: tst_ggmlquant
            for (const char* gran : {"tensor", "channel", "group:8"}) {
                TensorQuantizer qz(bytes, info, QuantSpec{&f, *Granularity::parse(gran)});
                std::vector<float> want(x.size()), got(x.size());
                dequantizeTensor(qz, want.data(), Control{});
                const EncodedTensor enc = encodeTensor(qz, Control{});
                QCOMPARE(enc.codes.size(),
                         static_cast<std::size_t>(
                             (x.size() * static_cast<std::size_t>(f.bits) + 7) / 8));
                decodeTensor(enc, qz, got.data(), Control{});
                for (std::size_t i = 0; i < x.size(); ++i)
                    if (test::bits(got[i]) != test::bits(want[i]))
                        QFAIL(qPrintable(QStringLiteral("%1 %2 value %3")
                                             .arg(QLatin1String(f.name.data()), QLatin1String(gran))
                                             .arg(i)));
            }
        }
    }

    void sourceTypesAreConverted()
    {
        // F16, BF16 and F64 sources: values reach the analysis exactly as stored.
        const std::vector<double> values = {0.5, -0.25, 1e-3, 3.0};
        std::vector<std::uint16_t> h, b;
        for (double v : values)
            h.push_back(f32ToF16(static_cast<float>(v))),
                b.push_back(f32ToBf16(static_cast<float>(v)));
        struct Case
        {
            DType type;
            const void* data;
            std::size_t size;
        };
        const Case cases[] = {
            {DType::F16, h.data(), 8}, {DType::BF16, b.data(), 8}, {DType::F64, values.data(), 32}};
        for (const auto& c : cases) {
            TensorInfo t = test::f32Info("t", {4});
            t.dtype = c.type;
            t.byteSize = c.size;
            TensorQuantizer qz({static_cast<const std::byte*>(c.data), c.size}, t,
                               QuantSpec{findFormat("fp32"), Granularity{}});
            float out[4];
            dequantizeTensor(qz, out, Control{});
            for (int i = 0; i < 4; ++i) {
                const float want = c.type == DType::F16 ? f16ToF32(h[static_cast<std::size_t>(i)])
                                   : c.type == DType::BF16
                                       ? bf16ToF32(b[static_cast<std::size_t>(i)])
                                       : static_cast<float>(values[static_cast<std::size_t>(i)]);
                QCOMPARE(out[i], want);
            }
        }
    }

    void stridedViewsAndByteOrder()
    {
        // Storage holds a 4x3 row-major matrix; the tensor is its transpose (a 3x4 view with
        // strides {1, 3}), as a PyTorch view or a Fortran-order NumPy array stores it.
        const std::vector<float> storage = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        TensorInfo t = test::f32Info("view", {3, 4});
        t.strides = {1, 3};
        TensorQuantizer qz({reinterpret_cast<const std::byte*>(storage.data()), 48}, t,
                           QuantSpec{findFormat("fp32"), Granularity{}});
        float out[12];
        dequantizeTensor(qz, out, Control{});
        for (int r = 0; r < 3; ++r)
            for (int c = 0; c < 4; ++c)
                QCOMPARE(out[r * 4 + c], storage[static_cast<std::size_t>(c * 3 + r)]);
        // Per-channel scales follow the view's rows, not the storage's.
        TensorQuantizer perRow(
            {reinterpret_cast<const std::byte*>(storage.data()), 48}, t,
            QuantSpec{findFormat("int8"), Granularity{Granularity::Kind::Channel, 0}});
        perRow.computeScales(Control{});
        QCOMPARE(perRow.params()[2].scale, 11.0f / 127.0f); // row 2 of the view: 2, 5, 8, 11

        t.strides = {1, 4}; // reaches element 2 + 3*4 = 14: beyond the 12 stored values
        QVERIFY_THROWS_EXCEPTION(
            Error, TensorQuantizer({reinterpret_cast<const std::byte*>(storage.data()), 48}, t,
                                   QuantSpec{findFormat("fp32"), Granularity{}}));

        // Big-endian float32 and float16.
        const std::uint8_t be32[] = {0x3f, 0xc0, 0x00, 0x00, 0xc0, 0x20, 0x00, 0x00}; // 1.5, -2.5
        TensorInfo b = test::f32Info("be", {2});
        b.bigEndian = true;
        TensorQuantizer q32({reinterpret_cast<const std::byte*>(be32), 8}, b,
                            QuantSpec{findFormat("fp32"), Granularity{}});
        float v[2];
        dequantizeTensor(q32, v, Control{});
        QCOMPARE(v[0], 1.5f);
        QCOMPARE(v[1], -2.5f);
        const std::uint8_t be16[] = {0x3e, 0x00, 0xc1, 0x00}; // 1.5, -2.5 as binary16
        b.dtype = DType::F16;
        b.byteSize = 4;
        TensorQuantizer q16({reinterpret_cast<const std::byte*>(be16), 4}, b,
                            QuantSpec{findFormat("fp32"), Granularity{}});
        dequantizeTensor(q16, v, Control{});
        QCOMPARE(v[0], 1.5f);
        QCOMPARE(v[1], -2.5f);
    }

    void shapeNumelNeverOverflows()
    {
        // Found by fuzzing: products of hostile shapes must be an error, not undefined behaviour.
        QCOMPARE(shapeNumel({0, std::int64_t{1} << 40, std::int64_t{1} << 40}), std::int64_t(0));
        QCOMPARE(shapeNumel({}), std::int64_t(1));
        QVERIFY_THROWS_EXCEPTION(Error, shapeNumel({std::int64_t{1} << 40, std::int64_t{1} << 40}));
    }

    void nanInfZeroAndEmpty()
    {
        std::vector<float> x = {NAN, INFINITY, -1.0f, 0.5f, 0.0f, 0.25f};
        const TensorInfo info = test::f32Info("t", {2, 3});
        TensorQuantizer qz(
            {reinterpret_cast<const std::byte*>(x.data()), 24}, info,
            QuantSpec{findFormat("int8"), Granularity{Granularity::Kind::Channel, 0}});
        const auto a = analyzeTensor(qz, Control{}); // must not crash or hang
        // NaN and Inf are counted, and left out of the ranges, metrics and histograms.
        QCOMPARE(a.nanCount, std::int64_t(1));
        QCOMPARE(a.infCount, std::int64_t(1));
        QCOMPARE(a.original.total(), std::uint64_t(4));
        QCOMPARE(a.error.total(), std::uint64_t(4));
        QCOMPARE(a.sums.count, std::uint64_t(4));
        QCOMPARE(a.minValue, -1.0f);
        QVERIFY(std::isfinite(a.sums.sumE2) && a.sums.sqnrDb().has_value());
        // Row 0's scale comes from its finite value -1 alone: Inf saturates to +127 * s = 1,
        // NaN quantizes to 0.
        std::vector<float> out(6);
        dequantizeTensor(qz, out.data(), Control{});
        QCOMPARE(out[0], 0.0f);
        QCOMPARE(out[1], 127.0f * (1.0f / 127.0f));
        QCOMPARE(out[2], -127.0f * (1.0f / 127.0f));

        // The same counts through the vectorised paths (runs of 8 and more), any position.
        std::vector<float> big = test::normalData(1000, 5);
        std::int64_t nans = 0, infs = 0;
        for (std::size_t i = 3; i < big.size(); i += 37) {
            big[i] = (i % 2) ? NAN : (i % 3 ? INFINITY : -INFINITY);
            ++((i % 2) ? nans : infs);
        }
        TensorQuantizer bq(
            {reinterpret_cast<const std::byte*>(big.data()), big.size() * 4},
            test::f32Info("b", {10, 100}),
            QuantSpec{findFormat("int4"), Granularity{Granularity::Kind::Group, 16}});
        const auto ba = analyzeTensor(bq, Control{});
        QCOMPARE(ba.nanCount, nans);
        QCOMPARE(ba.infCount, infs);
        QCOMPARE(ba.sums.count, std::uint64_t(1000 - nans - infs));
        QCOMPARE(ba.original.total(), ba.sums.count);
        QCOMPARE(ba.dequantized.total(), ba.sums.count);
        QVERIFY(std::isfinite(ba.sums.sumE2));

        std::vector<float> zeros(64, 0.0f);
        const TensorInfo zi = test::f32Info("z", {8, 8});
        TensorQuantizer zq(
            {reinterpret_cast<const std::byte*>(zeros.data()), 256}, zi,
            QuantSpec{findFormat("uint8"), Granularity{Granularity::Kind::Group, 4}});
        const auto za = analyzeTensor(zq, Control{});
        QCOMPARE(za.sums.sumE2, 0.0);
        QVERIFY(!za.sums.sqnrDb().has_value());
        QVERIFY(!za.sums.cosine().has_value());

        const TensorInfo ei = test::f32Info("e", {0, 5});
        TensorQuantizer eq(
            {}, ei, QuantSpec{findFormat("int4"), Granularity{Granularity::Kind::Channel, 0}});
        const auto ea = analyzeTensor(eq, Control{});
        QCOMPARE(ea.sums.count, std::uint64_t(0));
        QCOMPARE(ea.sums.mse(), 0.0);
    }

    void cancellationStopsWork()
    {
        const auto x = test::normalData(1 << 20, 2);
        const TensorInfo info = test::f32Info("t", {1024, 1024});
        TensorQuantizer qz({reinterpret_cast<const std::byte*>(x.data()), x.size() * 4}, info,
                           QuantSpec{findFormat("int8"), Granularity{}});
        int checks = 0;
        Control control;
        control.cancelled = [&] { return ++checks > 3; };
        QVERIFY_THROWS_EXCEPTION(Cancelled, analyzeTensor(qz, control));
        QCOMPARE(checks, 4); // stopped at the first check that said so
    }
};

QTEST_APPLESS_MAIN(TestAnalysis)
#include "tst_analysis.moc"
