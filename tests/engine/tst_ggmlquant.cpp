// llama.cpp's block formats as QuantScope number formats: the encoders against golden vectors
// from ggml's reference quantizers (ggml commit d99724f, ggml_quantize_chunk with no importance
// matrix; see tests/data/ggml/README.md), bit for bit, through the raw encoder, the analysis
// pipeline and the stored form; plus row-length refusal, storage cost and the registry.
#include "analysis/analyze.h"
#include "core/error.h"
#include "formats/encoded.h"
#include "formats/ggml_blocks.h"
#include "formats/ggml_quantize.h"
#include "formats/storage.h"
#include "testutil.h"

#include <QtTest>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

using namespace qs;
using test::readAll;
using test::readFloats;

namespace {

const std::string kData = QS_TEST_DATA;

std::span<const std::byte> asBytes(const std::vector<float>& v)
{
    return {reinterpret_cast<const std::byte*>(v.data()), v.size() * 4};
}

// The first index where two float arrays differ bit-wise, or -1.
qsizetype firstBitDifference(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size()) return 0;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (test::bits(a[i]) != test::bits(b[i])) return static_cast<qsizetype>(i);
    return -1;
}

qsizetype firstByteDifference(const std::string& a, const std::byte* b, std::size_t n)
{
    if (a.size() != n) return 0;
    for (std::size_t i = 0; i < n; ++i)
        if (static_cast<std::byte>(a[i]) != b[i]) return static_cast<qsizetype>(i);
    return -1;
}

constexpr const char* kTypes[] = {"q8_0", "q4_0", "q4_1", "q5_0", "q5_1",
                                  "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"};

} // namespace

class TestGgmlQuant : public QObject
{
    Q_OBJECT

private slots:
    void golden_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("blocks");
        QTest::addColumn<QString>("dequant");
        std::ifstream manifest(kData + "/ggml/manifest.tsv");
        QVERIFY(manifest);
        std::string line;
        std::getline(manifest, line); // header
        int cases = 0;
        while (std::getline(manifest, line)) {
            std::istringstream f(line);
            std::string input, type, count, inFile, qFile, qBytes, dqFile;
            f >> input >> type >> count >> inFile >> qFile >> qBytes >> dqFile;
            const Format* fmt = findFormat(type);
            if (!fmt || !fmt->ggmlBlock()) {
                QVERIFY2(type == "f16" || type == "bf16", type.c_str()); // plain float types
                continue;
            }
            QTest::addRow("%s %s", input.c_str(), type.c_str())
                << QString::fromStdString(type) << QString::fromStdString(inFile)
                << QString::fromStdString(qFile) << QString::fromStdString(dqFile);
            ++cases;
        }
        QCOMPARE(cases, 40); // 4 inputs x 10 block types
    }

    // quantizeRowGgml over the whole input (one row of 8192) gives ggml's bytes.
    void golden()
    {
        QFETCH(QString, type);
        QFETCH(QString, input);
        QFETCH(QString, blocks);
        const Format& f = *findFormat(type.toStdString());
        const auto x = readFloats(kData + "/ggml/" + input.toStdString());
        QCOMPARE(x.size(), std::size_t(8192));
        const std::string want = readAll(kData + "/ggml/" + blocks.toStdString());
        std::vector<std::byte> got(8192 / static_cast<std::size_t>(dtypeBlockSize(f.blockType)) *
                                   dtypeBlockBytes(f.blockType));
        quantizeRowGgml(f.blockType, x.data(), 8192, got.data());
        const qsizetype at = firstByteDifference(want, got.data(), got.size());
        QVERIFY2(at < 0, qPrintable(QStringLiteral("first differing byte %1 (block %2)")
                                        .arg(at)
                                        .arg(at / qsizetype(dtypeBlockBytes(f.blockType)))));
    }

    // The analysis pipeline on a [32, 256] tensor (rows of one super-block) gives ggml's
    // dequantized values, serially and on threads; the stored form holds ggml's bytes.
    void goldenPipeline_data() { golden_data(); }
    void goldenPipeline()
    {
        QFETCH(QString, type);
        QFETCH(QString, input);
        QFETCH(QString, blocks);
        QFETCH(QString, dequant);
        const Format& f = *findFormat(type.toStdString());
        const auto x = readFloats(kData + "/ggml/" + input.toStdString());
        const auto want = readFloats(kData + "/ggml/" + dequant.toStdString());
        const std::string wantBlocks = readAll(kData + "/ggml/" + blocks.toStdString());
        const TensorInfo info = test::f32Info("golden", Shape{32, 256});
        // The granularity is ignored for block formats: a per-channel spec changes nothing.
        for (const char* gran : {"tensor", "channel", "group:64"}) {
            TensorQuantizer qz(asBytes(x), info, QuantSpec{&f, *Granularity::parse(gran)});
            std::vector<float> got(x.size());
            dequantizeTensor(qz, got.data(), Control{});
            qsizetype at = firstBitDifference(got, want);
            QVERIFY2(at < 0,
                     qPrintable(QStringLiteral("%1: value %2: %3 vs ggml %4")
                                    .arg(QLatin1String(gran))
                                    .arg(at)
                                    .arg(double(got[std::size_t(std::max<qsizetype>(at, 0))]))
                                    .arg(double(want[std::size_t(std::max<qsizetype>(at, 0))]))));

            const test::ThreadExecutor pool(2);
            Control threaded;
            threaded.executor = &pool;
            std::fill(got.begin(), got.end(), 0.0f);
            dequantizeTensor(qz, got.data(), threaded);
            QCOMPARE(firstBitDifference(got, want), qsizetype(-1));

            const EncodedTensor enc = encodeTensor(qz, Control{});
            QCOMPARE(firstByteDifference(wantBlocks,
                                         reinterpret_cast<const std::byte*>(enc.codes.data()),
                                         enc.codes.size()),
                     qsizetype(-1));
            std::fill(got.begin(), got.end(), 0.0f);
            decodeTensor(enc, qz, got.data(), Control{});
            QCOMPARE(firstBitDifference(got, want), qsizetype(-1));
        }
    }

    // More than one work unit (2^18 values) and a tail that is no whole chunk: the pipeline
    // still quantizes exactly the rows' blocks.
    void manyUnits_data()
    {
        QTest::addColumn<QString>("type");
        for (const char* t : {"q4_0", "q8_0", "q4_K", "q6_K"})
            QTest::addRow("%s", t) << QString::fromLatin1(t);
    }
    void manyUnits()
    {
        QFETCH(QString, type);
        const Format& f = *findFormat(type.toStdString());
        const Shape s{1031, 512};
        const auto x = test::normalData(static_cast<std::size_t>(shapeNumel(s)), 5);
        std::vector<std::byte> blocks(x.size() /
                                      static_cast<std::size_t>(dtypeBlockSize(f.blockType)) *
                                      dtypeBlockBytes(f.blockType));
        for (std::size_t r = 0; r < 1031; ++r)
            quantizeRowGgml(f.blockType, x.data() + r * 512, 512,
                            blocks.data() + r * blocks.size() / 1031);
        std::vector<float> want(x.size()), got(x.size());
        decodeGgmlBlocks(f.blockType, blocks.data(),
                         static_cast<std::int64_t>(x.size()) / dtypeBlockSize(f.blockType),
                         want.data());
        TensorQuantizer qz(asBytes(x), test::f32Info("w", s), QuantSpec{&f, Granularity{}});
        QVERIFY(qz.numUnits() > 2);
        dequantizeTensor(qz, got.data(), Control{});
        QCOMPARE(firstBitDifference(got, want), qsizetype(-1));
        const TensorAnalysis a = analyzeTensor(qz, Control{});
        QVERIFY(!a.sums.rmseOverScale().has_value()); // no single scale
        QVERIFY(a.sums.sqnrDb().has_value());
        QCOMPARE(a.error.total(), std::uint64_t(x.size()));
    }

    void refusesPartialBlocks_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QList<qint64>>("shape");
        QTest::addColumn<QString>("message"); // empty: accepted
        QTest::addRow("q4_K rows of 96") << "q4_K" << QList<qint64>{4, 96}
                                         << "tensor 'w': row length 96 is not a multiple of "
                                            "q4_K's block of 256";
        QTest::addRow("q6_K rows of 160")
            << "q6_K" << QList<qint64>{8, 160}
            << "tensor 'w': row length 160 is not a multiple of q6_K's block of 256";
        QTest::addRow("q4_0 rows of 48")
            << "q4_0" << QList<qint64>{2, 48}
            << "tensor 'w': row length 48 is not a multiple of q4_0's block of 32";
        QTest::addRow("q8_0 1-d of 40") << "q8_0" << QList<qint64>{40}
                                        << "tensor 'w': row length 40 is not a multiple of "
                                           "q8_0's block of 32";
        QTest::addRow("q8_0 scalar") << "q8_0" << QList<qint64>{}
                                     << "tensor 'w': row length 1 is not a multiple of q8_0's "
                                        "block of 32";
        QTest::addRow("q8_0 rows of 96 accepted") << "q8_0" << QList<qint64>{3, 96} << "";
        QTest::addRow("q2_K conv rows of 256 accepted") << "q2_K" << QList<qint64>{2, 3, 256} << "";
        QTest::addRow("q5_1 empty accepted") << "q5_1" << QList<qint64>{0, 64} << "";
    }
    void refusesPartialBlocks()
    {
        QFETCH(QString, type);
        QFETCH(QList<qint64>, shape);
        QFETCH(QString, message);
        const Shape s(shape.begin(), shape.end());
        const std::vector<float> x(static_cast<std::size_t>(shapeNumel(s)), 0.25f);
        const QuantSpec spec{findFormat(type.toStdString()), Granularity{}};
        try {
            TensorQuantizer qz(asBytes(x), test::f32Info("w", s), spec);
            std::vector<float> d(x.size());
            dequantizeTensor(qz, d.data(), Control{});
            QVERIFY2(message.isEmpty(), "accepted a row that is no whole number of blocks");
        } catch (const Error& e) {
            QCOMPARE(QString::fromUtf8(e.what()), message);
        }
        std::vector<std::byte> out(64 * 1024);
        const std::int64_t row = s.empty() ? 1 : s.back(); // the encoder refuses it too
        if (!message.isEmpty())
            QVERIFY_THROWS_EXCEPTION(
                Error, quantizeRowGgml(spec.format->blockType, x.data(), row, out.data()));
    }

    void storage_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<qulonglong>("bytes");
        // [32, 256]: 256 blocks of 32 or 32 super-blocks of 256, as the golden .bin sizes.
        QTest::addRow("q8_0") << "q8_0"
                              << "tensor" << 8704ULL;
        QTest::addRow("q4_0 channel") << "q4_0"
                                      << "channel" << 4608ULL;
        QTest::addRow("q4_1") << "q4_1"
                              << "group:32" << 5120ULL;
        QTest::addRow("q5_0") << "q5_0"
                              << "tensor" << 5632ULL;
        QTest::addRow("q5_1") << "q5_1"
                              << "tensor" << 6144ULL;
        QTest::addRow("q2_K") << "q2_K"
                              << "tensor" << 2688ULL;
        QTest::addRow("q3_K") << "q3_K"
                              << "channel" << 3520ULL;
        QTest::addRow("q4_K") << "q4_K"
                              << "tensor" << 4608ULL;
        QTest::addRow("q5_K") << "q5_K"
                              << "tensor" << 5632ULL;
        QTest::addRow("q6_K") << "q6_K"
                              << "group:128" << 6720ULL;
    }
    void storage()
    {
        QFETCH(QString, type);
        QFETCH(QString, granularity);
        QFETCH(qulonglong, bytes);
        const Format& f = *findFormat(type.toStdString());
        const StorageCost c = storageCost(test::f32Info("t", Shape{32, 256}), f,
                                          *Granularity::parse(granularity.toStdString()));
        QCOMPARE(static_cast<qulonglong>(c.bytes), bytes);
        QCOMPARE(c.bitsPerWeight, f.bitsPerWeight());
        QCOMPARE(c.scaleGroups, 8192 / dtypeBlockSize(f.blockType));
        // The golden file of that type has exactly that size.
        QCOMPARE(static_cast<qulonglong>(
                     readAll(kData + "/ggml/normal." + type.toStdString() + ".bin").size()),
                 bytes);
    }

    void registry()
    {
        int n = 0;
        for (const auto& f : formats())
            n += f.ggmlBlock() ? 1 : 0;
        QCOMPARE(n, 10);
        for (const char* name : kTypes) {
            const Format* f = findFormat(name);
            QVERIFY2(f, name);
            QCOMPARE(f->family, std::string_view("ggml"));
            QCOMPARE(f->kind, FormatKind::GgmlBlock);
            QCOMPARE(dtypeName(f->blockType), std::string_view(name));
            QVERIFY(canQuantizeGgml(f->blockType));
            QVERIFY(!f->scaled());
            QCOMPARE(f->bitsPerWeight(), static_cast<double>(dtypeBlockBytes(f->blockType)) * 8.0 /
                                             static_cast<double>(dtypeBlockSize(f->blockType)));
        }
        QCOMPARE(findFormat("q8_0")->bitsPerWeight(), 8.5);
        QCOMPARE(findFormat("q4_K")->bitsPerWeight(), 4.5);
        QCOMPARE(findFormat("int8")->bitsPerWeight(), 8.0); // the others keep their bits
        QVERIFY(!findFormat("Q4_K"));                       // names as ggml spells them
        QVERIFY(!canQuantizeGgml(DType::F16));
    }

    // The golden inputs never put a q8_0 value exactly on a tie, so the rule is checked here:
    // amax = 127 gives d = 1 and id = 1, and q8_0 rounds x * id half away from zero (roundf).
    void q8_0RoundsHalfAwayFromZero()
    {
        std::vector<float> x(32, 0.0f);
        x[0] = 127.0f;
        const float ties[] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 126.5f};
        const int want[] = {1, 2, 3, -1, -3, 127};
        for (int i = 0; i < 6; ++i)
            x[std::size_t(i + 1)] = ties[i];
        std::byte out[34];
        quantizeRowGgml(DType::Q8_0, x.data(), 32, out);
        QCOMPARE(std::to_integer<int>(out[0]) | (std::to_integer<int>(out[1]) << 8), 0x3c00);
        QCOMPARE(static_cast<std::int8_t>(out[2]), std::int8_t(127));
        for (int i = 0; i < 6; ++i)
            QCOMPARE(int(static_cast<std::int8_t>(out[3 + i])), want[i]);
    }

    // An all-zero q4_0/q5_0 block stores d = max / -8 (or -16) = -0.0, as ggml does.
    void zeroBlockStoresNegativeZero()
    {
        const std::vector<float> x(32, 0.0f);
        for (DType t : {DType::Q4_0, DType::Q5_0}) {
            std::byte out[22] = {};
            quantizeRowGgml(t, x.data(), 32, out);
            QCOMPARE(std::to_integer<int>(out[0]) | (std::to_integer<int>(out[1]) << 8), 0x8000);
        }
    }

    // NaN and Inf: quantized byte for byte as ggml's reference does (which lets them into the
    // block's scale), and the damage stays inside the blocks that hold them; no undefined
    // behaviour where ggml's casts would have it (the sanitizer presets run this).
    void nonFiniteInputs()
    {
        // A clean super-block of 256, one with NaN and Inf, and a clean one again.
        constexpr std::int64_t n = 768;
        std::vector<float> x(n);
        for (std::int64_t i = 0; i < n; ++i)
            x[static_cast<std::size_t>(i)] = std::sin(0.37f * static_cast<float>(i));
        for (std::int64_t i = 256; i < 512; ++i)
            x[static_cast<std::size_t>(i)] =
                i % 3 == 0   ? std::numeric_limits<float>::quiet_NaN()
                : i % 3 == 1 ? (i % 2 ? 1.0f : -1.0f) * std::numeric_limits<float>::infinity()
                             : -1.0f;
        for (const char* name : kTypes) {
            const DType t = findFormat(name)->blockType;
            const std::size_t bytes =
                dtypeBlockBytes(t) * static_cast<std::size_t>(n / dtypeBlockSize(t));
            std::vector<std::byte> fast(bytes), ref(bytes);
            quantizeRowGgml(t, x.data(), n, fast.data());
            quantizeRowGgmlRef(t, x.data(), n, ref.data());
            QVERIFY2(fast == ref, name);
            std::vector<float> d(n);
            decodeGgmlBlocks(t, fast.data(), n / dtypeBlockSize(t), d.data());
            for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i)
                if (i < 256 || i >= 512)
                    QVERIFY2(std::fabs(d[i] - x[i]) < 0.5f,
                             qPrintable(QStringLiteral("%1 value %2: %3")
                                            .arg(QLatin1String(name))
                                            .arg(i)
                                            .arg(double(d[i]))));
        }
    }

    // nearest_int rounds ties to even (the K-quants' rounding), unlike q8_0's roundf.
    void nearestIntTiesToEven()
    {
        QCOMPARE(ggml_detail::nearestInt(0.5f), 0);
        QCOMPARE(ggml_detail::nearestInt(1.5f), 2);
        QCOMPARE(ggml_detail::nearestInt(2.5f), 2);
        QCOMPARE(ggml_detail::nearestInt(-2.5f), -2);
        QCOMPARE(ggml_detail::nearestInt(-3.7f), -4);
        QCOMPARE(ggml_detail::nearestInt(4194303.0f), 4194303);
    }
};

QTEST_GUILESS_MAIN(TestGgmlQuant)
#include "tst_ggmlquant.moc"
