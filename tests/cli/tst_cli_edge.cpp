// Inputs at the edges, through quantscope-cli as a user runs it: a 0-d tensor, empty tensors,
// NaN and infinities, an all-zero tensor, Unicode tensor names and paths, and a tensor of 10^9
// elements (a sparse 4 GB file) that must be streamed, not loaded.
#include "cliutil.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>

using namespace clitest;

namespace {

struct Tensor
{
    QByteArray name;
    QList<qint64> shape;
    QByteArray data; // float32, little-endian
};

QByteArray floats(const std::vector<float>& v)
{
    return QByteArray(reinterpret_cast<const char*>(v.data()), qsizetype(v.size() * 4));
}

std::vector<float> normal(std::size_t n, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 0.02f);
    std::vector<float> v(n);
    for (auto& x : v)
        x = d(rng);
    return v;
}

// A safetensors file written byte by byte from the format's definition.
void writeSafetensors(const QString& path, const QList<Tensor>& tensors)
{
    QJsonObject header;
    QByteArray data;
    for (const Tensor& t : tensors) {
        QJsonArray shape;
        for (qint64 d : t.shape)
            shape.append(d);
        header.insert(QString::fromUtf8(t.name),
                      QJsonObject{{"dtype", "F32"},
                                  {"shape", shape},
                                  {"data_offsets", QJsonArray{data.size(), data.size() + t.data.size()}}});
        data += t.data;
    }
    QByteArray h = QJsonDocument(header).toJson(QJsonDocument::Compact);
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    const quint64 n = quint64(h.size());
    f.write(reinterpret_cast<const char*>(&n), 8);
    f.write(h);
    f.write(data);
}

QJsonObject tensorNamed(const QJsonObject& result, const QString& name)
{
    for (const auto& v : result.value("tensors").toArray())
        if (v.toObject().value("name").toString() == name) return v.toObject();
    return {};
}

// The largest anonymous (heap, not file-backed) resident memory of a running process, sampled.
qint64 peakAnonymousKiB(QProcess& p)
{
    qint64 peak = 0;
    const QString status = QStringLiteral("/proc/%1/status").arg(p.processId());
    while (!p.waitForFinished(50)) {
        QFile f(status);
        if (!f.open(QIODevice::ReadOnly)) continue;
        for (const QByteArray& line : f.readAll().split('\n'))
            if (line.startsWith("RssAnon:"))
                peak = std::max(peak, line.mid(8).trimmed().split(' ').first().toLongLong());
    }
    return peak;
}

} // namespace

class TestCliEdge : public QObject
{
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void degenerateTensors_data()
    {
        QTest::addColumn<QList<qint64>>("shape");
        QTest::addColumn<QString>("format");
        QTest::addColumn<bool>("quantized"); // false: kept as stored, with a reason-free row
        QTest::addRow("0-d scalar") << QList<qint64>{} << "int8" << false;
        QTest::addRow("empty vector") << QList<qint64>{0} << "int8" << false;
        QTest::addRow("empty matrix, int8") << QList<qint64>{3, 0} << "int8" << true;
        QTest::addRow("empty matrix, q8_0") << QList<qint64>{0, 64} << "q8_0" << true;
        QTest::addRow("empty matrix, nf4") << QList<qint64>{4, 0} << "nf4" << true;
    }
    void degenerateTensors()
    {
        QFETCH(QList<qint64>, shape);
        QFETCH(QString, format);
        QFETCH(bool, quantized);
        qint64 n = 1;
        for (qint64 d : shape)
            n *= d;
        const QString path = m_dir.filePath(QStringLiteral("degenerate.safetensors"));
        writeSafetensors(path, {{"t", shape, floats(std::vector<float>(std::size_t(n), 1.5f))},
                                {"w", {4, 64}, floats(normal(256, 1))}});
        const Run r = runCli({"quantize", path, "--format", format, "--json"});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject t = tensorNamed(json(r), "t");
        QCOMPARE(t.value("params").toInteger(), n);
        QCOMPARE(t.value("format").toString() != QLatin1String("keep"), quantized);
        // No values, no error metrics: null, never a made-up 0 or a NaN.
        if (n == 0)
            for (const char* metric : {"mse", "rmse", "sqnr_db", "cosine", "max_abs_error"})
                QVERIFY2(t.value(metric).isNull(), metric);
        QVERIFY(tensorNamed(json(r), "w").value("sqnr_db").toDouble() > 15.0);
    }

    void nonFiniteAndZeroWeights()
    {
        // Rows of 256: a whole block for every block format, q4_K's included.
        std::vector<float> w = normal(2 * 256, 2);
        w[3] = std::numeric_limits<float>::quiet_NaN();
        w[70] = std::numeric_limits<float>::infinity();
        w[71] = -std::numeric_limits<float>::infinity();
        std::vector<float> allNan(256, std::numeric_limits<float>::quiet_NaN());
        const QString path = m_dir.filePath(QStringLiteral("nonfinite.safetensors"));
        writeSafetensors(path, {{"w", {2, 256}, floats(w)},
                                {"zeros", {2, 256}, floats(std::vector<float>(512, 0.0f))},
                                {"nan", {1, 256}, floats(allNan)}});
        for (const char* format : {"int4", "q4_K", "q8_0", "fp8_e4m3", "nf4", "mxfp4", "bf16"}) {
            // ggml's block formats let a non-finite weight into its block's scale (README).
            const bool ggml = format[0] == 'q';
            const Run r = runCli({"quantize", path, "--format", format, "--json"});
            QVERIFY2(r.code == 0, qPrintable(QString("%1: %2").arg(format, r.err)));
            const QJsonObject res = json(r);
            const QJsonObject t = tensorNamed(res, "w");
            QCOMPARE(t.value("nan_count").toInt(), 1);
            QCOMPARE(t.value("inf_count").toInt(), 2);
            if (ggml)
                QVERIFY2(t.value("sqnr_db").isNull() || t.value("sqnr_db").isDouble(), format);
            else
                QVERIFY2(t.value("sqnr_db").toDouble() > 10.0, format);
            // All zeros quantize exactly; the SQNR of a zero signal is undefined (null).
            const QJsonObject z = tensorNamed(res, "zeros");
            QCOMPARE(z.value("mse").toDouble(-1), 0.0);
            QVERIFY(z.value("sqnr_db").isNull());
            const QJsonObject nan = tensorNamed(res, "nan");
            QCOMPARE(nan.value("nan_count").toInt(), 256);
            QVERIFY(nan.value("mse").isNull());
        }
    }

    void unicodeNamesAndPaths()
    {
        const QString dir = m_dir.filePath(QStringLiteral("модели ü 模型"));
        QVERIFY(QDir().mkpath(dir));
        const QString path = dir + QStringLiteral("/权重 😀.safetensors");
        const QString name = QStringLiteral("слой.0.权重.😀");
        writeSafetensors(path, {{name.toUtf8(), {4, 64}, floats(normal(256, 3))}});
        const Run inspect = runCli({"inspect", path, "--json"});
        QVERIFY2(inspect.code == 0, inspect.err.constData());
        QVERIFY(inspect.out.contains(name.toUtf8()));
        const QString out = dir + QStringLiteral("/выход.gguf");
        const Run r = runCli({"quantize", path, "--format", "q8_0", "--json", "--export", out});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(tensorNamed(json(r), name).value("sqnr_db").toDouble() > 30.0);
        const Run back = runCli({"inspect", out, "--json"});
        QVERIFY2(back.code == 0, back.err.constData());
        QVERIFY(back.out.contains(name.toUtf8()));
        // A missing Unicode path is named in the error as given.
        const Run missing = runCli({"inspect", dir + QStringLiteral("/нет.safetensors")});
        QCOMPARE(missing.code, 3);
        QVERIFY(QString::fromUtf8(missing.err).contains(QStringLiteral("нет.safetensors")));
    }

    // 10^9 float32 values: a 4 GB file, sparse on disk (16 stretches of real values, zeros
    // elsewhere). The values are read from the mapping as they are quantized; the heap holds
    // per-channel statistics, never a copy of the tensor. Group formats find each work unit's
    // parameters right before quantizing it: the heap holds no per-group statistics either
    // (1 GB of them before, for nf4's 15.6 million groups).
    void billionElementsAreStreamed()
    {
        if (qEnvironmentVariableIsSet("QS_SKIP_HUGE"))
            QSKIP("QS_SKIP_HUGE is set (the sanitizer runs leave this 4 GB case out)");
        constexpr qint64 rows = 1000, cols = 1000000, n = rows * cols;
        const QString path = m_dir.filePath(QStringLiteral("billion.safetensors"));
        {
            QByteArray h = QJsonDocument(QJsonObject{{"big", QJsonObject{
                {"dtype", "F32"}, {"shape", QJsonArray{rows, cols}},
                {"data_offsets", QJsonArray{0, 4 * n}}}}}).toJson(QJsonDocument::Compact);
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            const quint64 len = quint64(h.size());
            f.write(reinterpret_cast<const char*>(&len), 8);
            f.write(h);
            const qint64 base = f.pos();
            for (int k = 0; k < 16; ++k) {
                QVERIFY(f.seek(base + 4 * (n / 16) * k));
                f.write(floats(normal(1 << 18, unsigned(k))));
            }
            if (!f.resize(base + 4 * n)) QSKIP("the temporary folder cannot hold a sparse 4 GB file");
        }
        struct Case
        {
            QStringList args;
            qint64 bytesAfter; // codes and scales
            double minSqnr;
        };
        const Case cases[] = {
            {{"--format", "int8", "--granularity", "channel"}, n + 4 * rows, 30.0},
            {{"--format", "nf4"}, n / 2 + 4 * (n / 64), 15.0},
            // 10^6 % 128 != 0: each row ends with a group of 64, and units start inside groups.
            {{"--format", "fp8_e4m3", "--granularity", "group:128"}, n + 4 * rows * 7813, 25.0},
        };
        for (const Case& c : cases) {
            QProcess p;
            p.start(QStringLiteral(QS_CLI),
                    QStringList{"quantize", path} + c.args + QStringList{"--json"});
            QVERIFY(p.waitForStarted());
            const qint64 peak = peakAnonymousKiB(p);
            QCOMPARE(p.exitCode(), 0);
            const Run r{p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
            const QJsonObject t = tensorNamed(json(r), "big");
            QCOMPARE(t.value("params").toInteger(), n);
            QCOMPARE(t.value("bytes_after").toInteger(), c.bytesAfter);
            QVERIFY(t.value("sqnr_db").toDouble() > c.minSqnr);
            qInfo("%s: peak anonymous memory %lld KiB for a %lld-byte tensor",
                  qPrintable(c.args.join(' ')), peak, 4 * n);
            QVERIFY2(peak < 64 * 1024, qPrintable(QString::number(peak))); // < 64 MiB of 4 GB
        }
        QFile::remove(path);
    }
};

QTEST_GUILESS_MAIN(TestCliEdge)
#include "tst_cli_edge.moc"
