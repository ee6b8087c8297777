// Stochastic rounding (SplitMix64 draws, exactness, reproducibility, unbiasedness) and the
// ideal-quantizer SQNRs of a Gaussian against the published tables (Max 1960).
#include "formats/calibration.h"
#include "formats/ideal_sqnr.h"
#include "formats/int_quant.h"
#include "formats/stochastic.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>
#include <thread>

using namespace qs;

class TestRounding : public QObject
{
    Q_OBJECT
private slots:
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
        auto x = test::weightLike(5003, 31);
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
        const auto x = test::weightLike(20000, 41);
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

QTEST_APPLESS_MAIN(TestRounding)
#include "tst_rounding.moc"
