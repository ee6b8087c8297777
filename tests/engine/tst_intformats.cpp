// Integer formats: scale rules, reference vs fast kernels, and parity with PyTorch fixtures.
#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/half.h"
#include "formats/int_quant.h"
#include "io/model.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>

using namespace qs;

class TestIntFormats : public QObject
{
    Q_OBJECT
private slots:
    void workedExample()
    {
        // int8 over the symmetric range [-1, 1]: s = 1/127 in float32, 0.87654321 -> code 111.
        const ScaleParams p = symmetricParams(1.0f, 127, false);
        QCOMPARE(p.scale, 1.0f / 127.0f);
        QCOMPARE(quantizeSymmetricRef(0.87654321f, p, 127), 111);
        QCOMPARE(dequantizeCode(111, p), 111.0f * (1.0f / 127.0f));
    }

    void symmetricScaleRules_data()
    {
        QTest::addColumn<float>("amax");
        QTest::addColumn<bool>("fp16Scale");
        QTest::addColumn<float>("scale");
        QTest::addRow("ordinary") << 2.54f << false << 2.54f / 127.0f;
        QTest::addRow("all zero") << 0.0f << false << 1.0f;
        QTest::addRow("subnormal amax") << 1e-40f << false << 1.0f; // 1/s would be Inf
        QTest::addRow("infinite amax") << INFINITY << false << 1.0f;
        QTest::addRow("fp16 stored") << 1.0f << true << roundToF16(1.0f / 127.0f);
        QTest::addRow("fp16 saturates") << 1e9f << true << 65504.0f;
        QTest::addRow("fp16 underflows to zero") << 1e-7f << true << 0.0f;
    }
    void symmetricScaleRules()
    {
        QFETCH(float, amax);
        QFETCH(bool, fp16Scale);
        QFETCH(float, scale);
        const ScaleParams p = symmetricParams(amax, 127, fp16Scale);
        QCOMPARE(p.scale, scale);
        if (scale == 0.0f) { // a zero stored scale stores code 0 and dequantizes to 0
            QCOMPARE(p.inv, 0.0f);
            QCOMPARE(quantizeSymmetricRef(1e-7f, p, 127), 0);
        }
    }

    void affineScaleRules()
    {
        // PyTorch MinMax observer: the range always includes 0; scale at least 2^-23.
        ScaleParams p = affineParams(0.5f, 2.0f, 255, false);
        QCOMPARE(p.scale, 2.0f / 255.0f);
        QCOMPARE(p.zeroPoint, 0);
        p = affineParams(-2.0f, -0.5f, 255, false);
        QCOMPARE(p.scale, 2.0f / 255.0f);
        QCOMPARE(p.zeroPoint, 255);
        p = affineParams(0.0f, 0.0f, 255, false);
        QCOMPARE(p.scale, 0x1p-23f);
        QCOMPARE(p.zeroPoint, 0);
        p = affineParams(-1.0f, 3.0f, 15, false);
        QCOMPARE(p.scale, 4.0f / 15.0f);
        QCOMPARE(p.zeroPoint, static_cast<int>(std::nearbyint(1.0f / (4.0f / 15.0f))));
    }

    void fastMatchesReference_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<bool>("fp16Scale");
        for (const char* f : {"int8", "int4", "uint8", "uint4"})
            for (bool g : {false, true})
                QTest::addRow("%s%s", f, g ? " fp16 scale" : "") << QString::fromLatin1(f) << g;
    }
    void fastMatchesReference()
    {
        QFETCH(QString, format);
        QFETCH(bool, fp16Scale);
        const Format* f = findFormat(format.toStdString());
        QVERIFY(f);
        auto x = test::normalData(10007, 42);
        // Ties, extremes, NaN and Inf must agree too.
        x[0] = NAN;
        x[1] = INFINITY;
        x[2] = -INFINITY;
        x[3] = 0.0f;
        x[4] = -0.0f;
        float mn = 0, mx = 0;
        for (float v : x)
            if (std::isfinite(v)) mn = std::min(mn, v), mx = std::max(mx, v);
        const ScaleParams p = f->affine() ? affineParams(mn, mx, f->qmax, fp16Scale)
                                          : symmetricParams(std::max(-mn, mx), f->qmax, fp16Scale);
        for (int k = 5; k < 40; ++k)
            x[static_cast<std::size_t>(k)] = (static_cast<float>(k - 20) + 0.5f) * p.scale;
        std::vector<float> codes(x.size());
        std::vector<std::int8_t> s8(x.size());
        std::vector<std::uint8_t> u8(x.size());
        if (f->affine()) {
            quantizeAffineF(x.data(), static_cast<std::int64_t>(x.size()), p, f->qmax,
                            codes.data());
            quantizeAffine(x.data(), static_cast<std::int64_t>(x.size()), p, f->qmax, u8.data());
        } else {
            quantizeSymmetricF(x.data(), static_cast<std::int64_t>(x.size()), p, f->qmax,
                               codes.data());
            quantizeSymmetric(x.data(), static_cast<std::int64_t>(x.size()), p, f->qmax, s8.data());
        }
        for (std::size_t i = 0; i < x.size(); ++i) {
            const int ref = f->affine() ? quantizeAffineRef(x[i], p, f->qmax)
                                        : quantizeSymmetricRef(x[i], p, f->qmax);
            const int fastByte = f->affine() ? u8[i] : s8[i];
            if (static_cast<int>(codes[i]) != ref || fastByte != ref)
                QFAIL(qPrintable(QStringLiteral("x[%1] = %2: reference %3, fast %4 / %5")
                                     .arg(i)
                                     .arg(double(x[i]))
                                     .arg(ref)
                                     .arg(double(codes[i]))
                                     .arg(fastByte)));
        }
        QCOMPARE(quantizeSymmetricRef(NAN, p, f->qmax), 0);
    }

    void tiesRoundToEven()
    {
        const ScaleParams p{1.0f, 1.0f, 0};
        QCOMPARE(quantizeSymmetricRef(0.5f, p, 127), 0);
        QCOMPARE(quantizeSymmetricRef(1.5f, p, 127), 2);
        QCOMPARE(quantizeSymmetricRef(-2.5f, p, 127), -2);
        QCOMPARE(quantizeSymmetricRef(200.0f, p, 127), 127);
        QCOMPARE(quantizeSymmetricRef(-200.0f, p, 127), -127);
        float q[3];
        const float x[3] = {0.5f, 1.5f, -2.5f};
        quantizeSymmetricF(x, 3, p, 127, q);
        QCOMPARE(q[0], 0.0f);
        QCOMPARE(q[1], 2.0f);
        QCOMPARE(q[2], -2.0f);
    }

    // PyTorch quantize_per_tensor / quantize_per_channel / fake_quantize with MinMax observer
    // parameters (tests/data/torch, made by tests/data/make_torch_fixtures.py).
    void torchParity_data()
    {
        QTest::addColumn<QString>("file");
        const QDir dir(QStringLiteral(QS_TEST_DATA "/torch"));
        const auto files =
            dir.entryList({QStringLiteral("*.safetensors")}, QDir::Files, QDir::Name);
        QVERIFY(files.size() >= 12);
        for (const auto& f : files)
            QTest::addRow("%s", qPrintable(f)) << dir.filePath(f);
    }
    void torchParity()
    {
        QFETCH(QString, file);
        const auto model = openModel(file.toStdString());
        const TensorInfo* x = model->find("x");
        const TensorInfo* want = model->find("dequant");
        const TensorInfo* scales = model->find("scale");
        const TensorInfo* zps = model->find("zero_point");
        QVERIFY(x && want && scales && zps);
        QuantSpec spec;
        spec.format = findFormat(model->metadata.at("format"));
        QVERIFY(spec.format);
        spec.granularity = *Granularity::parse(model->metadata.at("granularity"));
        TensorQuantizer qz(model->data(*x), *x, spec);
        std::vector<float> out(static_cast<std::size_t>(x->numel()));
        dequantizeTensor(qz, out.data(), Control{});

        // Scales and zero points first: they explain any value that differs.
        QCOMPARE(static_cast<std::int64_t>(qz.params().size()), scales->numel());
        const auto sb = model->data(*scales);
        const auto zb = model->data(*zps);
        for (std::size_t g = 0; g < qz.params().size(); ++g) {
            float s;
            std::int32_t z;
            std::memcpy(&s, sb.data() + g * 4, 4);
            std::memcpy(&z, zb.data() + g * 4, 4);
            QCOMPARE(test::bits(qz.params()[g].scale), test::bits(s));
            QCOMPARE(qz.params()[g].zeroPoint, z);
        }
        const auto wb = model->data(*want);
        int mismatches = 0;
        for (std::size_t i = 0; i < out.size(); ++i) {
            float w;
            std::memcpy(&w, wb.data() + i * 4, 4);
            if (test::bits(out[i]) != test::bits(w) && ++mismatches < 5)
                qWarning("element %zu: got %.9g, PyTorch %.9g", i, double(out[i]), double(w));
        }
        QCOMPARE(mismatches, 0);
    }
};

QTEST_APPLESS_MAIN(TestIntFormats)
#include "tst_intformats.moc"
