// The vectorised ggml paths (formats/ggml_fast.h) at every instruction-set level this CPU runs,
// checked against two independent references: ggml's own golden vectors (ggml commit d99724f,
// tests/data/ggml) and QuantScope's scalar reference encoders and decoders (quantizeRowGgmlRef,
// decodeGgmlBlocksRef, which follow ggml's quantize_row_*_ref / dequantize_row_* operation for
// operation). Block bytes must be identical, decoded values identical bit for bit.
#include "formats/ggml_blocks.h"
#include "formats/ggml_fast.h"
#include "formats/ggml_quantize.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace qs;

namespace {

const std::string kData = std::string(QS_TEST_DATA) + "/ggml/";

struct TypeInfo
{
    const char* name;
    DType type;
};
constexpr TypeInfo kTypes[] = {{"q8_0", DType::Q8_0}, {"q4_0", DType::Q4_0}, {"q4_1", DType::Q4_1},
                               {"q5_0", DType::Q5_0}, {"q5_1", DType::Q5_1}, {"q2_K", DType::Q2_K},
                               {"q3_K", DType::Q3_K}, {"q4_K", DType::Q4_K}, {"q5_K", DType::Q5_K},
                               {"q6_K", DType::Q6_K}};
constexpr GgmlSimd kLevels[] = {GgmlSimd::Sse42, GgmlSimd::Avx2, GgmlSimd::Avx512};

std::size_t blockBytes(DType t)
{
    return dtypeBlockBytes(t);
}
std::int64_t blockSize(DType t)
{
    return dtypeBlockSize(t);
}

// Adds one row per supported level and type; unsupported levels are reported as skipped rows
// in the test itself so the log shows what was not covered.
void addLevelTypeRows()
{
    QTest::addColumn<int>("level");
    QTest::addColumn<int>("type");
    for (GgmlSimd l : kLevels)
        for (const TypeInfo& t : kTypes)
            QTest::addRow("%s %s", ggmlSimdName(l), t.name) << int(l) << int(t.type);
}

bool selectLevel(int level)
{
    const auto l = static_cast<GgmlSimd>(level);
    if (!ggmlSimdSupported(l)) return false;
    setGgmlSimdLevel(l);
    return ggmlSimdLevel() == l;
}

std::vector<std::byte> quantize(DType t, const std::vector<float>& x, bool reference)
{
    std::vector<std::byte> out(x.size() / static_cast<std::size_t>(blockSize(t)) * blockBytes(t));
    if (reference)
        quantizeRowGgmlRef(t, x.data(), static_cast<std::int64_t>(x.size()), out.data());
    else
        quantizeRowGgml(t, x.data(), static_cast<std::int64_t>(x.size()), out.data());
    return out;
}

QString firstDifference(DType t, const std::vector<std::byte>& a, const std::vector<std::byte>& b)
{
    if (a.size() != b.size()) return QStringLiteral("sizes differ");
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i])
            return QStringLiteral("byte %1 (block %2, offset %3): %4 vs reference %5")
                .arg(i)
                .arg(i / blockBytes(t))
                .arg(i % blockBytes(t))
                .arg(std::to_integer<int>(a[i]))
                .arg(std::to_integer<int>(b[i]));
    return {};
}

// Identical bits; with nanAnyPayload, two NaNs also count as equal (for decoding arbitrary
// bytes, where two NaN scales may meet in a commutative operation whose operand order the
// compiler picks).
QString firstDifference(const std::vector<float>& a, const std::vector<float>& b,
                        bool nanAnyPayload = false)
{
    if (a.size() != b.size()) return QStringLiteral("sizes differ");
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (test::bits(a[i]) == test::bits(b[i])) continue;
        if (nanAnyPayload && std::isnan(a[i]) && std::isnan(b[i])) continue;
        return QStringLiteral("value %1: %2 (0x%3) vs reference %4 (0x%5)")
            .arg(i)
            .arg(double(a[i]))
            .arg(test::bits(a[i]), 8, 16, QLatin1Char('0'))
            .arg(double(b[i]))
            .arg(test::bits(b[i]), 8, 16, QLatin1Char('0'));
    }
    return {};
}

// Seeded data that mixes, piece by piece (16 values, the smallest sub-block), the cases that
// matter for bit-exactness: weight-like noise, exact ties on the quantization grids, zeros of
// both signs, constants, subnormals, values whose squares underflow, huge values whose ranges
// overflow, single outliers, sub-blocks far smaller than their neighbours (their quantized
// scale becomes 0, so the search's own codes are kept), and one-signed pieces with and without
// zeros.
// Non-finite values mixed in: none, Inf and the canonical quiet NaN, or also NaNs of either sign,
// signalling ones and ones with payloads. With several distinct NaNs, which payload survives an
// operation on two NaNs depends on the operand order the compiler picks for commutative
// operations (C leaves it open, so ggml's own builds differ too); the K-quants turn payload bits
// into codes (nearest_int reads mantissa bits), so that case is only checked where a payload can
// reach the output just by being copied: the 32-value formats.
enum class Specials { None, InfNaN, NaNPayloads };

std::vector<float> mixedData(std::size_t n, unsigned seed, Specials specials)
{
    const bool nonFinite = specials != Specials::None;
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
    std::uniform_int_distribution<int> kindOf(0, nonFinite ? 16 : 15), small(-8, 8);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    std::vector<float> v(n);
    float blockScale = 0.02f;
    for (std::size_t p = 0; p < n; p += 16) {
        if (p % 256 == 0) blockScale = std::pow(10.0f, uni(rng) * 3.0f) * 0.02f;
        const int kind = kindOf(rng);
        const float c = normal(rng) * blockScale;
        for (std::size_t i = p; i < p + 16 && i < n; ++i) {
            float& x = v[i];
            switch (kind) {
            case 0:
                x = normal(rng) * blockScale;
                break;
            case 1:
                x = uni(rng) * blockScale;
                break;
            case 2: // halves and integers: ties for q8_0 (d = 1 with a 127), q4_0/q5_0 and the
                    // K-quants' small grids
                x = static_cast<float>(small(rng)) * 0.5f;
                if (i % 16 == 3) x = (rng() & 1) ? 127.0f : -8.0f;
                break;
            case 3:
                x = 0.0f;
                break;
            case 4:
                x = (rng() & 1) ? -0.0f : 0.0f;
                break;
            case 5:
                x = c;
                break;
            case 6:
                x = uni(rng) * 1e-39f;
                break; // subnormal
            case 7:
                x = normal(rng) * 1e-22f;
                break; // x^2 underflows
            case 8:
                x = uni(rng) * 3e38f;
                break; // max - min overflows
            case 9:
                x = normal(rng) * blockScale * (i % 16 == 7 ? 1000.0f : 1.0f);
                break;
            case 10:
                x = normal(rng) * blockScale * 1e-4f;
                break; // quantized scale 0
            case 11:
                x = std::fabs(normal(rng)) * blockScale;
                break;
            case 12:
                x = -std::fabs(normal(rng)) * blockScale - blockScale;
                break;
            case 13:
                x = static_cast<float>(small(rng)) * blockScale;
                break;
            case 14:
                x = normal(rng) * 1e30f;
                break;
            case 15: // one-signed with zeros of both signs in between: which zero is the min
                     // (or max) decides the sign bit of q4_1/q5_1's stored min
                x = rng() % 3 == 0 ? ((rng() & 1) ? -0.0f : 0.0f)
                                   : std::fabs(normal(rng)) * blockScale * (c < 0 ? -1.0f : 1.0f);
                break;
            default: {
                const int r = static_cast<int>(rng() % 8);
                x = r == 0 ? nan : r == 1 ? inf : r == 2 ? -inf : normal(rng) * blockScale;
                if (r == 3 && specials == Specials::NaNPayloads) {
                    // quiet or signalling, either sign, random payload
                    const std::uint32_t bits = 0x7f800000u | (rng() & 0x807fffffu) | 1u;
                    std::memcpy(&x, &bits, 4);
                }
            }
            }
        }
    }
    return v;
}

} // namespace

class TestGgmlFast : public QObject
{
    Q_OBJECT

private slots:
    void cleanup() { setGgmlSimdLevel(ggmlSimdBest()); }

    void levels()
    {
        QVERIFY(ggmlSimdSupported(GgmlSimd::Sse42));
        QVERIFY(ggmlSimdSupported(ggmlSimdBest()));
        for (GgmlSimd l : kLevels) {
            if (!ggmlSimdSupported(l)) {
                QVERIFY_THROWS_EXCEPTION(Error, setGgmlSimdLevel(l));
                continue;
            }
            setGgmlSimdLevel(l);
            QCOMPARE(ggmlSimdLevel(), l);
        }
        qInfo("best level on this CPU: %s", ggmlSimdName(ggmlSimdBest()));
    }

    // ggml's own bytes and dequantized values for the four golden inputs.
    void golden_data()
    {
        QTest::addColumn<int>("level");
        QTest::addColumn<int>("type");
        QTest::addColumn<QString>("input");
        for (GgmlSimd l : kLevels)
            for (const TypeInfo& t : kTypes)
                for (const char* in : {"normal", "outliers", "uniform", "edge"})
                    QTest::addRow("%s %s %s", ggmlSimdName(l), t.name, in)
                        << int(l) << int(t.type) << QString::fromLatin1(in);
    }
    void golden()
    {
        QFETCH(int, level);
        QFETCH(int, type);
        QFETCH(QString, input);
        if (!selectLevel(level)) QSKIP("this CPU lacks the level");
        const auto t = static_cast<DType>(type);
        const std::string stem = kData + input.toStdString() + "." + std::string(dtypeName(t));
        const auto x = test::readFloats(kData + input.toStdString() + ".f32");
        QCOMPARE(x.size(), std::size_t(8192));
        const std::string want = test::readAll(stem + ".bin");
        const std::vector<std::byte> wantBytes(reinterpret_cast<const std::byte*>(want.data()),
                                               reinterpret_cast<const std::byte*>(want.data()) +
                                                   want.size());
        const auto got = quantize(t, x, false);
        QString diff = firstDifference(t, got, wantBytes);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));

        const auto wantValues = test::readFloats(stem + ".dequant.f32");
        std::vector<float> values(x.size());
        decodeGgmlBlocks(t, wantBytes.data(), 8192 / blockSize(t), values.data());
        diff = firstDifference(values, wantValues);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }

    // Seeded mixed data, cut into rows of 1 to 37 blocks so that every partial batch of lanes
    // and every partial chunk of super-blocks occurs: fast bytes == reference bytes, and the
    // decoded values agree too.
    void mixed_data()
    {
        QTest::addColumn<int>("level");
        QTest::addColumn<int>("type");
        QTest::addColumn<int>("specials");
        for (GgmlSimd l : kLevels)
            for (const TypeInfo& t : kTypes) {
                QTest::addRow("%s %s", ggmlSimdName(l), t.name)
                    << int(l) << int(t.type) << int(Specials::None);
                QTest::addRow("%s %s inf-nan", ggmlSimdName(l), t.name)
                    << int(l) << int(t.type) << int(Specials::InfNaN);
                if (blockSize(t.type) == 32)
                    QTest::addRow("%s %s nan-payloads", ggmlSimdName(l), t.name)
                        << int(l) << int(t.type) << int(Specials::NaNPayloads);
            }
    }
    void mixed()
    {
        QFETCH(int, level);
        QFETCH(int, type);
        QFETCH(int, specials);
        if (!selectLevel(level)) QSKIP("this CPU lacks the level");
        const auto t = static_cast<DType>(type);
        const std::int64_t qk = blockSize(t);
        for (unsigned seed = 1; seed <= 3; ++seed) {
            const std::vector<float> x = mixedData(256 * 1000, seed * 7919 + unsigned(type),
                                                   static_cast<Specials>(specials));
            std::mt19937 rng(seed);
            std::int64_t done = 0;
            const auto total = static_cast<std::int64_t>(x.size()) / qk;
            while (done < total) {
                const std::int64_t nb = std::min<std::int64_t>(total - done, 1 + rng() % 37);
                const std::vector<float> row(x.begin() + done * qk, x.begin() + (done + nb) * qk);
                const auto want = quantize(t, row, true);
                const auto got = quantize(t, row, false);
                const QString diff = firstDifference(t, got, want);
                QVERIFY2(diff.isEmpty(), qPrintable(QStringLiteral("seed %1, row at block %2: %3")
                                                        .arg(seed)
                                                        .arg(done)
                                                        .arg(diff)));
                std::vector<float> a(row.size()), b(row.size());
                decodeGgmlBlocks(t, got.data(), nb, a.data());
                decodeGgmlBlocksRef(t, want.data(), nb, b.data());
                const QString vdiff = firstDifference(a, b);
                QVERIFY2(vdiff.isEmpty(), qPrintable(vdiff));
                done += nb;
            }
            QCOMPARE(done, total);
        }
    }

    // q8_0 rounds halves away from zero (C's roundf): values at and just below every half, with
    // d = 1 (a 127 in each block) so that x * id is x itself; the expected codes come from the C
    // library's lround.
    void q8_0Halves_data()
    {
        QTest::addColumn<int>("level");
        for (GgmlSimd l : kLevels)
            QTest::addRow("%s", ggmlSimdName(l)) << int(l);
    }
    void q8_0Halves()
    {
        QFETCH(int, level);
        if (!selectLevel(level)) QSKIP("this CPU lacks the level");
        std::vector<float> x;
        for (int k = 0; k < 127; ++k)
            for (float sign : {1.0f, -1.0f}) {
                const float half = sign * (static_cast<float>(k) + 0.5f);
                for (float v : {half, std::nextafter(half, 0.0f), std::nextafter(half, 2 * half)}) {
                    if (x.size() % 32 == 0) x.push_back(127.0f);
                    x.push_back(v);
                }
            }
        while (x.size() % 32 != 0)
            x.push_back(0.0f);
        const auto got = quantize(DType::Q8_0, x, false);
        QCOMPARE(firstDifference(DType::Q8_0, got, quantize(DType::Q8_0, x, true)), QString());
        for (std::size_t i = 0; i < x.size(); ++i) {
            const auto code = static_cast<std::int8_t>(got[i / 32 * 34 + 2 + i % 32]);
            QVERIFY2(code == std::lround(x[i]), qPrintable(QString::number(double(x[i]), 'g', 9)));
        }
    }

    // Arbitrary block bytes (scales that are NaN, Inf, subnormal; every code pattern) decode to
    // the reference's values.
    void randomBytes_data() { addLevelTypeRows(); }
    void randomBytes()
    {
        QFETCH(int, level);
        QFETCH(int, type);
        if (!selectLevel(level)) QSKIP("this CPU lacks the level");
        const auto t = static_cast<DType>(type);
        const std::int64_t nb = 4096 * 32 / blockSize(t);
        std::vector<std::byte> src(static_cast<std::size_t>(nb) * blockBytes(t) + 1);
        std::mt19937 rng(42u + unsigned(type));
        for (auto& b : src)
            b = static_cast<std::byte>(rng());
        for (std::size_t shift : {std::size_t(0), std::size_t(1)}) { // unaligned blocks too
            std::vector<float> a(static_cast<std::size_t>(nb * blockSize(t))), b(a.size());
            decodeGgmlBlocks(t, src.data() + shift, nb, a.data());
            decodeGgmlBlocksRef(t, src.data() + shift, nb, b.data());
            const QString diff = firstDifference(a, b, true);
            QVERIFY2(diff.isEmpty(), qPrintable(diff));
        }
    }

    // Block output at any byte offset (blocks in files are unaligned) changes nothing.
    void unalignedOutput_data() { addLevelTypeRows(); }
    void unalignedOutput()
    {
        QFETCH(int, level);
        QFETCH(int, type);
        if (!selectLevel(level)) QSKIP("this CPU lacks the level");
        const auto t = static_cast<DType>(type);
        const std::vector<float> x = mixedData(256 * 16, 99, Specials::None);
        const auto want = quantize(t, x, true);
        std::vector<std::byte> out(want.size() + 3);
        quantizeRowGgml(t, x.data(), static_cast<std::int64_t>(x.size()), out.data() + 3);
        QVERIFY(std::memcmp(out.data() + 3, want.data(), want.size()) == 0);
    }

    // A row of many chunks in one call (the tensor pass hands over 2,048 values at a time; other
    // callers pass whole rows).
    void longRow_data() { addLevelTypeRows(); }
    void longRow()
    {
        QFETCH(int, level);
        QFETCH(int, type);
        if (!selectLevel(level)) QSKIP("this CPU lacks the level");
        const auto t = static_cast<DType>(type);
        const std::vector<float> x = test::normalData(256 * 77, 3);
        const QString diff = firstDifference(t, quantize(t, x, false), quantize(t, x, true));
        QVERIFY2(diff.isEmpty(), qPrintable(diff));
    }
};

QTEST_GUILESS_MAIN(TestGgmlFast)
#include "tst_ggmlfast.moc"
