// Reused code buffers (codecache): what is kept and for how long, and that encoding into a
// reused buffer full of old bytes gives exactly the codes of a fresh one, for every format.
#include "formats/code_bytes.h"
#include "formats/encoded.h"
#include "testutil.h"

#include <QtTest>

#include <cstring>

using namespace qs;

namespace {

constexpr std::size_t kMin = codecache::kMinBytes;

std::span<const std::byte> bytesOf(const std::vector<float>& x)
{
    return {reinterpret_cast<const std::byte*>(x.data()), x.size() * 4};
}

// Allocates a buffer of n bytes and frees it; returns its address.
const void* allocateAndFree(std::size_t n)
{
    CodeBytes b(n);
    return b.data();
}

} // namespace

class TestCodeBytes : public QObject
{
    Q_OBJECT

    std::vector<float> m_values; // enough for kMin bytes of codes at 2 bits per value

private slots:
    void init() { codecache::clear(); }
    void cleanupTestCase() { codecache::clear(); }

    void keepsFreedBuffersOfOneSize()
    {
        if (!codecache::enabled()) QSKIP("code buffers are never reused in this build");
        const void* first = allocateAndFree(kMin + 10);
        QCOMPARE(codecache::kept(), std::make_pair(std::size_t{1}, kMin + 10));
        {
            CodeBytes again(kMin + 10);
            QCOMPARE(static_cast<const void*>(again.data()), first);
            QCOMPARE(codecache::kept().first, std::size_t{0});
        }
        QCOMPARE(codecache::kept().first, std::size_t{1});
        // Another size finds nothing, and frees what was kept before allocating.
        {
            CodeBytes other(kMin + 20);
            QCOMPARE(codecache::kept(), std::make_pair(std::size_t{0}, std::size_t{0}));
        }
        // A hit frees the kept buffers of other sizes too.
        {
            CodeBytes a(kMin + 10), b(kMin + 20);
        }
        QCOMPARE(codecache::kept(), std::make_pair(std::size_t{2}, 2 * kMin + 30));
        CodeBytes hit(kMin + 10);
        QCOMPARE(codecache::kept(), std::make_pair(std::size_t{0}, std::size_t{0}));
    }

    void smallBuffersAreNotKept()
    {
        allocateAndFree(kMin - 1);
        allocateAndFree(1000);
        QCOMPARE(codecache::kept().first, std::size_t{0});
    }

    void keepsAtMostTheNewestBlocks()
    {
        if (!codecache::enabled()) QSKIP("code buffers are never reused in this build");
        // Alive together, then freed oldest first: the first one is let go.
        const std::size_t n = codecache::kMaxBlocks + 1;
        std::vector<CodeBytes> bufs;
        for (std::size_t i = 0; i < n; ++i)
            bufs.emplace_back(kMin + i);
        const void* newest = bufs.back().data();
        for (auto& b : bufs)
            CodeBytes().swap(b);
        std::size_t keptBytes = 0;
        for (std::size_t i = 1; i < n; ++i)
            keptBytes += kMin + i;
        QCOMPARE(codecache::kept(), std::make_pair(codecache::kMaxBlocks, keptBytes));
        {
            CodeBytes hit(kMin + n - 1);
            QCOMPARE(static_cast<const void*>(hit.data()), newest);
            QCOMPARE(codecache::kept().first, std::size_t{0}); // the other sizes are freed
        }
        QCOMPARE(codecache::kept(), std::make_pair(std::size_t{1}, kMin + n - 1));
        CodeBytes oldest(kMin); // let go before, so a miss, which frees the rest
        QCOMPARE(codecache::kept(), std::make_pair(std::size_t{0}, std::size_t{0}));
    }

    void keepsAtMostMaxBytes()
    {
        if (!codecache::enabled()) QSKIP("code buffers are never reused in this build");
        // Never touched, so these cost address space only.
        const std::size_t big = codecache::kMaxBytes / 2 + 1;
        {
            CodeBytes a, b;
            a.reserve(big);
            b.reserve(big + 1);
        }
        QCOMPARE(codecache::kept(), std::make_pair(std::size_t{1}, big)); // b went first, a fits
        {
            CodeBytes tooBig;
            tooBig.reserve(codecache::kMaxBytes + 1);
        }
        QCOMPARE(codecache::kept().first, std::size_t{0}); // its allocation missed; not kept
    }

    void reusedBuffersGiveFreshCodes_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addColumn<QString>("calibration");
        QTest::addColumn<bool>("stochastic");
        QTest::addColumn<int>("rowLength");
        for (const auto& f : formats()) {
            const char* g = f.ggmlBlock() || f.kind == FormatKind::Nf4 || !f.takesGranularity()
                                ? "tensor"
                                : "channel";
            QTest::addRow("%s", f.name.data()) << QString::fromLatin1(f.name.data())
                                               << QString::fromLatin1(g) << "minmax" << false
                                               << 4096;
        }
        // Odd rows: codes that straddle bytes between chunks, and padding in the last byte.
        QTest::addRow("int3 odd rows") << "int3" << "channel" << "minmax" << false << 4095;
        QTest::addRow("uint4 odd rows") << "uint4" << "channel" << "minmax" << false << 4095;
        QTest::addRow("int8 odd rows") << "int8" << "channel" << "minmax" << false << 4095;
        // The other 8-bit kernels, which write their codes in place too.
        QTest::addRow("int5 group:32") << "int5" << "group:32" << "minmax" << false << 4096;
        QTest::addRow("int8 stochastic") << "int8" << "channel" << "minmax" << true << 4096;
        QTest::addRow("uint8 stochastic") << "uint8" << "group:64" << "minmax" << true << 4096;
        QTest::addRow("uint8 hqq") << "uint8" << "group:64" << "hqq" << false << 4096;
        QTest::addRow("int8 percentile") << "int8" << "channel" << "percentile:99" << false
                                         << 4096;
        QTest::addRow("fp8_e4m3 group:100")
            << "fp8_e4m3" << "group:100" << "minmax" << false << 4095;
    }
    // Encoded into a reused buffer holding one byte pattern, then another: a byte the encoder
    // does not write would differ between the two.
    void reusedBuffersGiveFreshCodes()
    {
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        QFETCH(QString, calibration);
        QFETCH(bool, stochastic);
        QFETCH(int, rowLength);
        if (!codecache::enabled()) QSKIP("code buffers are never reused in this build");
        const Format* f = findFormat(format.toStdString());
        QVERIFY(f);
        // The fewest whole rows whose codes reach the size that is reused.
        const double bytesPerValue = (f->ggmlBlock() ? f->bitsPerWeight() : f->bits) / 8.0;
        const auto rows = static_cast<std::int64_t>(
            std::ceil(static_cast<double>(kMin) / bytesPerValue / rowLength));
        const auto n = static_cast<std::size_t>(rows * rowLength);
        if (m_values.size() < n) m_values = test::normalData(n, 5);
        const std::vector<float> x(m_values.begin(), m_values.begin() + static_cast<long>(n));
        TensorInfo info;
        info.name = "w";
        info.shape = {rows, rowLength};
        info.dtype = DType::F32;
        info.byteSize = n * 4;
        QuantSpec spec{f, *Granularity::parse(granularity.toStdString())};
        spec.calibration = *Calibration::parse(calibration.toStdString());
        spec.rounding = stochastic ? Rounding::Stochastic : Rounding::Nearest;
        spec.seed = 11;
        TensorQuantizer qz(bytesOf(x), info, spec);
        test::ThreadExecutor ex(2);
        Control control;
        control.executor = &ex;

        std::vector<std::uint8_t> first;
        const void* block = nullptr;
        for (const int fill : {0xa5, 0x5a}) {
            {
                EncodedTensor enc = encodeTensor(qz, control);
                QVERIFY(enc.codes.size() >= kMin);
                if (first.empty()) {
                    first.assign(enc.codes.begin(), enc.codes.end());
                } else {
                    QCOMPARE(static_cast<const void*>(enc.codes.data()), block);
                    QVERIFY(std::memcmp(enc.codes.data(), first.data(), first.size()) == 0);
                }
                std::memset(enc.codes.data(), fill, enc.codes.size()); // for the next use
                block = enc.codes.data();
            }
        }
        const EncodedTensor last = encodeTensor(qz, control);
        QCOMPARE(static_cast<const void*>(last.codes.data()), block);
        QCOMPARE(last.codes.size(), first.size());
        QVERIFY(std::memcmp(last.codes.data(), first.data(), first.size()) == 0);
    }
};

QTEST_APPLESS_MAIN(TestCodeBytes)
#include "tst_codebytes.moc"
