// The fp8_e4m3, fp8_e5m2, FP4 E2M1 / mxfp4 and nf4 codecs against golden vectors written from the
// OCP definitions and bitsandbytes' rule (tests/data/minifloat, made by
// tests/data/make_minifloat_fixtures.py), bit for bit, and the fast paths against the reference
// paths over every float32 bit pattern.
#include "formats/minifloat.h"
#include "formats/mxfp4.h"
#include "formats/nf4.h"
#include "testutil.h"

#include <QTest>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <set>
#include <utility>

using namespace qs;

namespace {

const std::string kDir = QS_TEST_DATA "/minifloat/";
// Fixture shapes (tests/data/minifloat/README.md).
constexpr std::int64_t kFp8Tensor = 512, kMxRow = 100, kNf4Row = 200;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <class T> std::vector<T> load(const std::string& name)
{
    const std::string b = test::readAll(kDir + name);
    std::vector<T> v(b.size() / sizeof(T));
    std::memcpy(v.data(), b.data(), v.size() * sizeof(T));
    return v;
}
std::uint32_t bitsOf(float v)
{
    return test::bits(v);
}
std::uint32_t bitsOf(std::uint8_t v)
{
    return v;
}

// Bit-identical, except that any NaN equals any NaN: the formats define no NaN payloads.
bool same(float a, float b)
{
    return (std::isnan(a) && std::isnan(b)) || test::bits(a) == test::bits(b);
}

enum Codec { E4M3, E5M2, E2M1, Nf4 };

Fp8Kind kindOf(int codec)
{
    return codec == E4M3 ? Fp8Kind::E4M3 : Fp8Kind::E5M2;
}

std::uint8_t encodeRef(int codec, float y)
{
    if (codec == E2M1) return fp4e2m1EncodeRef(y);
    if (codec == Nf4) return nf4EncodeRef(y);
    return fp8EncodeRef(kindOf(codec), y);
}

// The fast element paths; fp8 through fp8Quantize with s = 1, where x / s is exactly x.
void encodeFast(int codec, const float* y, std::int64_t n, std::uint8_t* out)
{
    if (codec == E2M1)
        fp4e2m1Encode(y, n, out);
    else if (codec == Nf4)
        nf4Encode(y, n, out);
    else
        fp8Quantize(kindOf(codec), y, n, 1.0f, out);
}

void addCodecRows(bool fp8Only = false)
{
    QTest::addColumn<int>("codec");
    QTest::addColumn<QString>("name");
    QTest::addRow("fp8_e4m3") << int(E4M3) << QStringLiteral("e4m3");
    QTest::addRow("fp8_e5m2") << int(E5M2) << QStringLiteral("e5m2");
    if (fp8Only) return;
    QTest::addRow("fp4_e2m1") << int(E2M1) << QStringLiteral("e2m1");
    QTest::addRow("nf4") << int(Nf4) << QStringLiteral("nf4");
}

// Where the codes of one sign half of the float32 patterns change: `code` holds from magnitude
// bits `at` on. Found by bisection with the reference, which is valid because the reference is
// monotone in the magnitude on each half (rounding to nearest is); the strided direct comparison
// in fastMatchesRefEverywhere checks the reference and the fast path against each other as well.
struct Step
{
    std::uint32_t at;
    std::uint8_t code;
};

void findSteps(int codec, std::uint32_t sign, std::uint32_t lo, std::uint8_t clo, std::uint32_t hi,
               std::uint8_t chi, std::vector<Step>& out)
{
    if (clo == chi) return;
    if (hi - lo == 1) {
        out.push_back({hi, chi});
        return;
    }
    const std::uint32_t mid = lo + (hi - lo) / 2;
    const std::uint8_t cm = encodeRef(codec, std::bit_cast<float>(sign | mid));
    findSteps(codec, sign, lo, clo, mid, cm, out);
    findSteps(codec, sign, mid, cm, hi, chi, out);
}

// The reference's codes along one sign half of the float32 patterns, in increasing order of the
// magnitude bits, from 0 to the NaN patterns.
std::vector<Step> referenceSteps(int codec, std::uint32_t sign)
{
    constexpr std::uint32_t kInf = 0x7f800000u;
    const auto at = [&](std::uint32_t m) {
        return encodeRef(codec, std::bit_cast<float>(sign | m));
    };
    std::vector<Step> steps{{0, at(0)}};
    findSteps(codec, sign, 0, at(0), kInf, at(kInf), steps);
    steps.push_back({kInf + 1, at(kInf + 1)}); // NaN patterns all share one code
    return steps;
}

// Counts fast-path codes that differ from the reference over the magnitudes first, first +
// stride, ... <= last of one sign half.
std::int64_t sweep(int codec, std::uint32_t sign, const std::vector<Step>& steps,
                   std::uint64_t first, std::uint64_t last, std::uint64_t stride)
{
    constexpr std::int64_t kChunk = 1 << 16;
    std::vector<float> y(kChunk);
    std::vector<std::uint8_t> got(kChunk);
    std::int64_t bad = 0;
    for (std::uint64_t m0 = first; m0 <= last; m0 += kChunk * stride) {
        const auto n = std::min<std::int64_t>(kChunk, std::int64_t((last - m0) / stride + 1));
        for (std::int64_t j = 0; j < n; ++j)
            y[j] = std::bit_cast<float>(sign | std::uint32_t(m0 + std::uint64_t(j) * stride));
        encodeFast(codec, y.data(), n, got.data());
        // Runs of samples between two steps, each compared against one constant code.
        for (std::int64_t j = 0; j < n;) {
            const std::uint64_t m = m0 + std::uint64_t(j) * stride;
            const auto it =
                std::upper_bound(steps.begin(), steps.end(), m,
                                 [](std::uint64_t v, const Step& s) { return v < s.at; });
            const std::uint8_t expect = std::prev(it)->code; // steps[0].at is 0
            std::int64_t end = n;
            if (it != steps.end() && it->at < m0 + std::uint64_t(n) * stride)
                end = std::int64_t((it->at - m0 + stride - 1) / stride);
            std::int64_t runBad = 0;
            for (std::int64_t k = j; k < end; ++k)
                runBad += got[k] != expect;
            if (runBad && bad < 5)
                qWarning("codec %d: a pattern from %08x on gives %02x, reference %02x", codec,
                         unsigned(sign | m), got[j], expect);
            bad += runBad;
            j = end;
        }
    }
    return bad;
}

// Magnitude bits outside which the reference cannot change its code (checked by the test).
std::pair<std::uint32_t, std::uint32_t> window(int codec)
{
    const float lo[] = {0x1p-12f, 0x1p-19f, 0x1p-3f, 0x1p-6f};
    const float hi[] = {1024.0f, 131072.0f, 16.0f, 2.0f};
    return {test::bits(lo[codec]), test::bits(hi[codec])};
}

// A block fixture: rows of `row` values cut into blocks of `block` (the last one shorter), per
// block a scale (E8M0 byte or fp32 absmax, compared as bits), per element a code and a value. The
// reference block quantizer and the fast row functions must all reproduce it.
template <class Scale, class RefBlock, class RowQuantize, class RowDequantize>
void checkBlocks(const std::string& stem, std::int64_t row, std::int64_t block, RefBlock refBlock,
                 RowQuantize rowQuantize, RowDequantize rowDequantize)
{
    const auto x = load<float>(stem + "_x.f32");
    const auto scales = load<Scale>(stem + (sizeof(Scale) == 1 ? "_scales.u8" : "_absmax.f32"));
    const auto codes = load<std::uint8_t>(stem + "_codes.u8");
    const auto deq = load<float>(stem + "_dequant.f32");
    const auto rows = std::int64_t(x.size()) / row, perRow = (row + block - 1) / block;
    QVERIFY(rows >= 20);
    QCOMPARE(std::int64_t(scales.size()), rows * perRow);
    QCOMPARE(codes.size(), x.size());
    QCOMPARE(deq.size(), x.size());
    std::vector<Scale> rowScales(static_cast<std::size_t>(perRow));
    std::vector<std::uint8_t> rowCodes(static_cast<std::size_t>(row));
    std::vector<std::uint8_t> blockCodes(static_cast<std::size_t>(block));
    std::vector<float> back(static_cast<std::size_t>(row));
    for (std::int64_t r = 0; r < rows; ++r) {
        const float* xr = x.data() + r * row;
        rowQuantize(xr, row, rowScales.data(), rowCodes.data());
        rowDequantize(rowCodes.data(), row, rowScales.data(), back.data());
        for (std::int64_t b = 0; b < perRow; ++b) {
            const std::int64_t start = b * block, len = std::min(block, row - start);
            Scale refScale{};
            refBlock(xr + start, len, refScale, blockCodes.data());
            const Scale want = scales[std::size_t(r * perRow + b)];
            QCOMPARE(bitsOf(refScale), bitsOf(want));
            QCOMPARE(bitsOf(rowScales[std::size_t(b)]), bitsOf(want));
            for (std::int64_t i = 0; i < len; ++i) {
                const auto k = std::size_t(r * row + start + i), j = std::size_t(start + i);
                QVERIFY2(blockCodes[std::size_t(i)] == codes[k] && rowCodes[j] == codes[k] &&
                             same(back[j], deq[k]),
                         qPrintable(QStringLiteral("%1 element %2").arg(stem.c_str()).arg(k)));
            }
        }
    }
}

} // namespace

class TestMinifloat : public QObject
{
    Q_OBJECT

private slots:
    void decodeTables_data() { addCodecRows(); }
    void decodeTables()
    {
        QFETCH(int, codec);
        QFETCH(QString, name);
        if (codec == Nf4) {
            // bitsandbytes' dDequantizeNF4 levels and dQuantizeNF4 decision constants.
            const auto levels = load<float>("nf4_levels.f32");
            const auto th = load<float>("nf4_thresholds.f32");
            QCOMPARE(levels.size(), std::size_t(16));
            QCOMPARE(th.size(), std::size_t(15));
            for (int c = 0; c < 16; ++c)
                QCOMPARE(test::bits(nf4Level(c)), test::bits(levels[std::size_t(c)]));
            for (int i = 0; i < 15; ++i)
                QCOMPARE(test::bits(nf4Threshold(i)), test::bits(th[std::size_t(i)]));
            return;
        }
        const auto want = load<float>(name.toStdString() + "_decode.f32");
        QCOMPARE(want.size(), std::size_t(codec == E2M1 ? 16 : 256));
        std::vector<std::uint8_t> codes(want.size());
        for (std::size_t c = 0; c < codes.size(); ++c)
            codes[c] = std::uint8_t(c);
        std::vector<float> fast(want.size());
        if (codec == E2M1)
            mxfp4DequantizeBlock(codes.data(), 16, 127, fast.data()); // scale byte 127: X = 1
        else
            fp8Dequantize(kindOf(codec), codes.data(), 256, 1.0f, fast.data());
        for (std::size_t c = 0; c < want.size(); ++c) {
            const auto code = std::uint8_t(c);
            const float ref = codec == E2M1 ? fp4e2m1Decode(code) : fp8Decode(kindOf(codec), code);
            QVERIFY2(same(ref, want[c]), qPrintable(QString::number(c, 16)));
            QVERIFY2(same(fast[c], want[c]), qPrintable(QString::number(c, 16)));
        }
    }

    // Element encoding of chosen values: every representable value, every midpoint (tie) and its
    // float32 neighbours, values past the maximum, float32 specials, random magnitudes.
    void elementCodes_data() { addCodecRows(); }
    void elementCodes()
    {
        QFETCH(int, codec);
        QFETCH(QString, name);
        const auto y = load<float>(codec == Nf4 ? "nf4_y.f32" : "elem_y.f32");
        const auto want = load<std::uint8_t>(name.toStdString() + "_y.u8");
        QVERIFY(y.size() > 1000);
        QCOMPARE(want.size(), y.size());
        std::vector<std::uint8_t> fast(y.size());
        encodeFast(codec, y.data(), std::int64_t(y.size()), fast.data());
        int bad = 0;
        for (std::size_t i = 0; i < y.size(); ++i) {
            const std::uint8_t ref = encodeRef(codec, y[i]);
            if ((ref != want[i] || fast[i] != want[i]) && ++bad <= 5)
                qWarning("y = %.9g: reference %02x, fast %02x, expected %02x", double(y[i]), ref,
                         fast[i], want[i]);
        }
        QCOMPARE(bad, 0);
    }

    // bitsandbytes' decision constants are the level midpoints rounded to float32; for six of them
    // the rounding went up, so exactly there "y > t" and "nearest level" disagree.
    void nf4DiffersFromNearestOnlyOnSixConstants()
    {
        const auto y = load<float>("nf4_y.f32");
        const auto nearest = load<std::uint8_t>("nf4_y_nearest.u8");
        QCOMPARE(nearest.size(), y.size());
        std::set<std::uint32_t> differ;
        for (std::size_t i = 0; i < y.size(); ++i)
            if (nf4EncodeRef(y[i]) != nearest[i]) {
                QCOMPARE(int(nf4EncodeRef(y[i])) + 1, int(nearest[i])); // ours is the lower code
                differ.insert(test::bits(y[i]));
            }
        std::set<std::uint32_t> expected;
        for (int i : {0, 1, 3, 4, 12, 14})
            expected.insert(test::bits(nf4Threshold(i)));
        QCOMPARE(differ, expected);
    }

    void fp8Tensors_data() { addCodecRows(true); }
    void fp8Tensors()
    {
        QFETCH(int, codec);
        QFETCH(QString, name);
        const Fp8Kind kind = kindOf(codec);
        const std::string n = name.toStdString();
        const auto x = load<float>("fp8_x.f32");
        const auto scales = load<float>(n + "_scale.f32");
        const auto codes = load<std::uint8_t>(n + "_codes.u8");
        const auto deq = load<float>(n + "_dequant.f32");
        QCOMPARE(std::int64_t(x.size()), std::int64_t(scales.size()) * kFp8Tensor);
        QCOMPARE(codes.size(), x.size());
        QCOMPARE(deq.size(), x.size());
        std::vector<std::uint8_t> got(kFp8Tensor);
        std::vector<float> back(kFp8Tensor);
        for (std::size_t t = 0; t < scales.size(); ++t) {
            const float* xt = x.data() + t * kFp8Tensor;
            float amax = 0.0f; // over the finite values, as the fixtures define it
            for (std::int64_t i = 0; i < kFp8Tensor; ++i)
                if (std::isfinite(xt[i])) amax = std::max(amax, std::fabs(xt[i]));
            const float s = fp8Scale(kind, amax);
            QCOMPARE(test::bits(s), test::bits(scales[t]));
            fp8Quantize(kind, xt, kFp8Tensor, s, got.data());
            fp8Dequantize(kind, got.data(), kFp8Tensor, s, back.data());
            for (std::int64_t i = 0; i < kFp8Tensor; ++i) {
                const std::size_t k = t * kFp8Tensor + std::size_t(i);
                QVERIFY2(fp8QuantizeRef(kind, xt[i], s) == codes[k],
                         qPrintable(QString::number(k)));
                QVERIFY2(got[std::size_t(i)] == codes[k], qPrintable(QString::number(k)));
                QVERIFY2(same(back[std::size_t(i)], deq[k]), qPrintable(QString::number(k)));
                QVERIFY(same(fp8Decode(kind, codes[k]) * s, deq[k]));
            }
        }
    }

    void mxfp4Blocks()
    {
        checkBlocks<std::uint8_t>("mxfp4", kMxRow, kMxfp4BlockSize, mxfp4QuantizeBlockRef,
                                  mxfp4Quantize, mxfp4Dequantize);
    }

    void nf4Blocks()
    {
        constexpr std::int64_t kBlock = kNf4DefaultBlockSize;
        checkBlocks<float>(
            "nf4", kNf4Row, kBlock, nf4QuantizeBlockRef,
            [](const float* x, std::int64_t n, float* a, std::uint8_t* c) {
                nf4Quantize(x, n, kBlock, a, c);
            },
            [](const std::uint8_t* c, std::int64_t n, const float* a, float* y) {
                nf4Dequantize(c, n, kBlock, a, y);
            });
    }

    // Rules the header documents, checked directly.
    void edgeCases()
    {
        QCOMPARE(fp8Max(Fp8Kind::E4M3), 448.0f);
        QCOMPARE(fp8Max(Fp8Kind::E5M2), 57344.0f);
        QCOMPARE(fp8Scale(Fp8Kind::E4M3, 896.0f), 2.0f);
        for (float amax : {0.0f, -1.0f, kInf, kNaN, 1e-45f})
            QCOMPARE(fp8Scale(Fp8Kind::E4M3, amax), 1.0f);
        QCOMPARE(int(fp8EncodeRef(Fp8Kind::E4M3, -kInf)), 0xfe);
        QCOMPARE(int(fp8EncodeRef(Fp8Kind::E5M2, kInf)), 0x7b);
        QCOMPARE(int(fp8EncodeRef(Fp8Kind::E4M3, -kNaN)), 0xff);
        QCOMPARE(int(fp8EncodeRef(Fp8Kind::E5M2, kNaN)), 0x7f);

        QCOMPARE(int(mxfp4ScaleByte(std::numeric_limits<float>::max())), 252);
        QCOMPARE(int(mxfp4ScaleByte(kInf)), 0xff);
        QCOMPARE(test::bits(e8m0Value(0)), test::bits(0x1p-127f));
        QVERIFY(std::isnan(e8m0Value(0xff)));
        const float zeros[32] = {};
        std::uint8_t scale = 99, c[32];
        mxfp4QuantizeBlock(zeros, 32, scale, c);
        QCOMPARE(int(scale), 0);
        QVERIFY(std::all_of(c, c + 32, [](std::uint8_t v) { return v == 0; }));
        const float three = 3.0f; // a block of one: X = 2^(1 - 2), 3 / X = 6
        mxfp4QuantizeBlock(&three, 1, scale, c);
        QCOMPARE(int(scale), 126);
        QCOMPARE(int(c[0]), 7);
        mxfp4QuantizeBlock(&three, 0, scale, c); // empty block: nothing to scale
        QCOMPARE(int(scale), 0);

        float absmax = -1.0f;
        float nz[5] = {0.0f, -0.0f, kNaN, 0.0f, 0.0f};
        std::uint8_t q[5];
        float back[5];
        nf4QuantizeBlock(nz, 5, absmax, q);
        nf4DequantizeBlock(q, 5, absmax, back);
        QCOMPARE(test::bits(absmax), 0u);
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(int(q[i]), 7);
            QCOMPARE(test::bits(back[i]), 0u);
        }
    }

    // Fast block codecs against the references on random blocks of every length, with specials.
    void blocksFastMatchRef()
    {
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> expo(-40.0f, 40.0f), unit(-1.0f, 1.0f);
        const float specials[] = {0.0f, -0.0f, kNaN, kInf, -1e-45f, 3e38f};
        std::vector<float> x(80);
        std::vector<std::uint8_t> a(80), b(80);
        for (int trial = 0; trial < 3000; ++trial) {
            const float scale = std::exp2(expo(rng));
            for (auto& v : x)
                v = (rng() % 16 == 0) ? specials[rng() % 6] : unit(rng) * scale;
            const std::int64_t n = trial % 71;
            std::uint8_t sa = 0, sb = 1;
            mxfp4QuantizeBlockRef(x.data(), std::min<std::int64_t>(n, 32), sa, a.data());
            mxfp4QuantizeBlock(x.data(), std::min<std::int64_t>(n, 32), sb, b.data());
            QCOMPARE(int(sa), int(sb));
            QVERIFY(std::equal(a.begin(), a.begin() + std::min<std::int64_t>(n, 32), b.begin()));
            float ma = 0, mb = 1;
            nf4QuantizeBlockRef(x.data(), n, ma, a.data());
            nf4QuantizeBlock(x.data(), n, mb, b.data());
            QCOMPARE(test::bits(ma), test::bits(mb));
            QVERIFY(std::equal(a.begin(), a.begin() + n, b.begin()));
            const float s = scale * unit(rng);
            for (Fp8Kind k : {Fp8Kind::E4M3, Fp8Kind::E5M2}) {
                fp8Quantize(k, x.data(), n, s, b.data());
                for (std::int64_t i = 0; i < n; ++i)
                    QCOMPARE(int(b[std::size_t(i)]), int(fp8QuantizeRef(k, x[std::size_t(i)], s)));
            }
        }
    }

    // Every float32 bit pattern in the window where the codes change, every 61st elsewhere (where
    // the reference is constant), both signs, NaNs included; unoptimised builds sample more thinly.
    void fastMatchesRefEverywhere_data() { addCodecRows(); }
    void fastMatchesRefEverywhere()
    {
        QFETCH(int, codec);
#if defined(__OPTIMIZE__)
        const std::uint64_t inner = 1, outer = 61, direct = 251;
#else
        const std::uint64_t inner = 61, outer = 4099, direct = 4093;
#endif
        const auto [lo, hi] = window(codec);
        for (std::uint32_t sign : {0u, 0x80000000u}) {
            const auto steps = referenceSteps(codec, sign);
            QVERIFY(steps.size() >= 3);
            for (std::size_t i = 1; i + 1 < steps.size(); ++i)
                QVERIFY(steps[i].at > lo && steps[i].at <= hi);
            QCOMPARE(sweep(codec, sign, steps, 0, lo, outer), std::int64_t(0));
            QCOMPARE(sweep(codec, sign, steps, lo, hi, inner), std::int64_t(0));
            QCOMPARE(sweep(codec, sign, steps, hi, 0x7fffffffu, outer), std::int64_t(0));
        }
        // Direct comparison on a strided sample, independent of the monotonicity argument.
        std::vector<float> y(1 << 16);
        std::vector<std::uint8_t> got(y.size());
        for (std::uint64_t p0 = 0; p0 < (1ull << 32); p0 += y.size() * direct) {
            for (std::size_t j = 0; j < y.size(); ++j)
                y[j] = std::bit_cast<float>(std::uint32_t(p0 + j * direct));
            encodeFast(codec, y.data(), std::int64_t(y.size()), got.data());
            for (std::size_t j = 0; j < y.size(); ++j)
                if (got[j] != encodeRef(codec, y[j]))
                    QFAIL(qPrintable(QStringLiteral("pattern %1").arg(test::bits(y[j]), 8, 16)));
        }
    }
};

QTEST_APPLESS_MAIN(TestMinifloat)
#include "tst_minifloat.moc"
