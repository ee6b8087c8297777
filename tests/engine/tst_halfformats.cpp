// fp16 and bf16 conversions against independent references: the compiler's _Float16
// (libgcc's correctly rounded conversions) and an exact nearest-value search for bf16.
#include "core/error.h"
#include "formats/half.h"
#include "formats/half_bulk.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>
#include <limits>

using namespace qs;

namespace {

// bf16 reference: of the two bf16 values around x pick the nearer (compared exactly in
// double), ties to the one with an even last bit.
float bf16Reference(float x)
{
    if (std::isnan(x)) return x;
    if (std::isinf(x)) return x;
    const std::uint32_t u = test::bits(x);
    const std::uint32_t down = u & 0xffff0000u;
    const std::uint32_t up = down + 0x10000u; // next bf16 away from zero (may reach Inf)
    float a, b;
    std::memcpy(&a, &down, 4);
    std::memcpy(&b, &up, 4);
    const double da = std::fabs(static_cast<double>(x) - a);
    const double db = std::isinf(b) ? std::fabs(static_cast<double>(x) - std::copysign(0x1p128, x))
                                    : std::fabs(static_cast<double>(x) - b);
    if (da < db) return a;
    if (db < da) return b;
    return (down & 0x10000u) ? b : a;
}

std::vector<float> interestingFloats()
{
    std::vector<float> v = {0.0f,
                            -0.0f,
                            1.0f,
                            -1.0f,
                            0.87654321f,
                            65504.0f,
                            65519.99f,
                            65520.0f,
                            65536.0f,
                            1e10f,
                            0x1p-14f,
                            0x1p-24f,
                            0x1p-25f,
                            0x1.8p-25f,
                            0x1p-26f,
                            6e-8f,
                            1e-40f,
                            -1e-40f,
                            std::numeric_limits<float>::max(),
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()};
    // Exact binary16 halfway points around many values: ties must go to even.
    for (std::uint32_t h = 0x0001; h < 0x7c00; h += 97) {
        const float lo = static_cast<float>(std::bit_cast<_Float16>(static_cast<std::uint16_t>(h)));
        const float hi =
            static_cast<float>(std::bit_cast<_Float16>(static_cast<std::uint16_t>(h + 1)));
        v.push_back(lo + (hi - lo) / 2);
        v.push_back(-(lo + (hi - lo) / 2));
    }
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::uint32_t> any;
    for (int i = 0; i < 200000; ++i) {
        float f;
        const std::uint32_t u = any(rng);
        std::memcpy(&f, &u, 4);
        v.push_back(f);
    }
    return v;
}

} // namespace

class TestHalfFormats : public QObject
{
    Q_OBJECT
private slots:
    void workedExample()
    {
        // The README's worked example: 0.87654321 -> fp16 0.87646484375, bf16 0.875.
        QCOMPARE(roundToF16(0.87654321f), 0.87646484375f);
        QCOMPARE(roundToBf16(0.87654321f), 0.875f);
    }

    void f16MatchesCompiler()
    {
        int checked = 0;
        for (float x : interestingFloats()) {
            const auto ref = std::bit_cast<std::uint16_t>(static_cast<_Float16>(x));
            const std::uint16_t got = f32ToF16(x);
            if (std::isnan(x)) {
                QVERIFY2((got & 0x7c00) == 0x7c00 && (got & 0x3ff) != 0, "NaN must stay NaN");
                QCOMPARE(got & 0x8000, ref & 0x8000);
                continue;
            }
            if (got != ref)
                QFAIL(qPrintable(QStringLiteral("f32ToF16(%1): got 0x%2, want 0x%3")
                                     .arg(double(x), 0, 'g', 9)
                                     .arg(got, 0, 16)
                                     .arg(ref, 0, 16)));
            ++checked;
        }
        QVERIFY(checked > 100000);
    }

    void bulkConversionMatchesScalar_data()
    {
        // Every 7th float32 bit pattern, plus every pattern around binary16's subnormal range
        // and its overflow threshold, where rounding is most delicate.
        QTest::addColumn<quint64>("begin");
        QTest::addColumn<quint64>("end");
        QTest::addColumn<quint64>("step");
        QTest::newRow("stride 7") << quint64(0) << (quint64(1) << 32) << quint64(7);
        for (quint64 sign : {quint64(0), quint64(0x80000000)}) {
            QTest::addRow("subnormals %llx", sign)
                << (sign | 0x33000000) << (sign | 0x38801000) << quint64(1);
            QTest::addRow("overflow %llx", sign)
                << (sign | 0x477fe000) << (sign | 0x47801000) << quint64(1);
            QTest::addRow("specials %llx", sign)
                << (sign | 0x7f7ff000) << (sign | 0x80000000) << quint64(1);
        }
    }
    void bulkConversionMatchesScalar()
    {
        QFETCH(quint64, begin);
        QFETCH(quint64, end);
        QFETCH(quint64, step);
        constexpr std::size_t kBatch = 1 << 16;
        std::vector<float> x(kBatch);
        std::vector<std::uint16_t> h(kBatch), p(kBatch), b(kBatch), bp(kBatch);
        for (quint64 v = begin; v < end;) {
            std::size_t n = 0;
            for (; n < kBatch && v < end; ++n, v += step)
                x[n] = std::bit_cast<float>(static_cast<std::uint32_t>(v));
            const auto len = static_cast<std::int64_t>(n);
            f32ToF16Bulk(x.data(), len, h.data());
            f32ToF16BulkPortable(x.data(), len, p.data());
            f32ToBf16Bulk(x.data(), len, b.data());
            f32ToBf16BulkPortable(x.data(), len, bp.data());
            for (std::size_t i = 0; i < n; ++i)
                if (h[i] != f32ToF16(x[i]) || p[i] != h[i] || b[i] != f32ToBf16(x[i]) ||
                    bp[i] != b[i])
                    QFAIL(qPrintable(QStringLiteral("bits 0x%1: f16 %2/%3 (scalar %4), bf16 %5 "
                                                    "(scalar %6)")
                                         .arg(std::bit_cast<std::uint32_t>(x[i]), 0, 16)
                                         .arg(h[i], 0, 16)
                                         .arg(p[i], 0, 16)
                                         .arg(f32ToF16(x[i]), 0, 16)
                                         .arg(b[i], 0, 16)
                                         .arg(f32ToBf16(x[i]), 0, 16)));
        }
        if (!f16cAvailable()) qInfo("no F16C on this CPU: only the portable path was checked");
    }

    void f16DecodeAllCodes()
    {
        for (std::uint32_t h = 0; h < 0x10000; ++h) {
            const auto code = static_cast<std::uint16_t>(h);
            const float got = f16ToF32(code);
            const float ref = static_cast<float>(std::bit_cast<_Float16>(code));
            if (std::isnan(ref)) {
                QVERIFY(std::isnan(got));
                QCOMPARE(f32ToF16(got) & 0x7e00, 0x7e00); // back to a quiet NaN
                continue;
            }
            QCOMPARE(test::bits(got), test::bits(ref));
            QCOMPARE(f32ToF16(got), code); // every finite code survives the round trip
        }
    }

    void bf16MatchesNearestSearch()
    {
        for (float x : interestingFloats()) {
            const float got = roundToBf16(x);
            const float ref = bf16Reference(x);
            if (std::isnan(x)) {
                QVERIFY(std::isnan(got));
                continue;
            }
            if (test::bits(got) != test::bits(ref))
                QFAIL(qPrintable(QStringLiteral("bf16(%1): got %2, want %3")
                                     .arg(double(x), 0, 'g', 9)
                                     .arg(double(got), 0, 'g', 9)
                                     .arg(double(ref), 0, 'g', 9)));
        }
    }
};

QTEST_APPLESS_MAIN(TestHalfFormats)
#include "tst_halfformats.moc"
