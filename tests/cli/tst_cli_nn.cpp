// quantscope-cli's runtime commands on a tiny IDX dataset: train, evaluate (with the int8
// kernels) and qat, their JSON, and their usage (exit 2) and input (exit 3) errors.
#include "cliutil.h"

#include <QtTest>

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <random>

namespace {
using namespace clitest;

void writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

QByteArray bigEndian(quint32 v)
{
    QByteArray b(4, '\0');
    for (int i = 0; i < 4; ++i)
        b[i] = static_cast<char>((v >> (8 * (3 - i))) & 0xff);
    return b;
}

// count 8x8 images (train and qat run with --no-flip: mirroring would swap the classes):
// class 0 bright on the left half, class 1 on the right, over seeded noise,
// as the IDX image and label files of one split.
void writeSplit(const QString& dir, const QString& prefix, int count, unsigned seed)
{
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> noise(0, 127);
    QByteArray images = bigEndian(0x803) + bigEndian(quint32(count)) + bigEndian(8) + bigEndian(8);
    QByteArray labels = bigEndian(0x801) + bigEndian(quint32(count));
    for (int i = 0; i < count; ++i) {
        labels.append(static_cast<char>(i % 2));
        for (int p = 0; p < 64; ++p)
            images.append(static_cast<char>(noise(rng) + ((p % 8 < 4) == (i % 2 == 0) ? 128 : 0)));
    }
    writeFile(dir + QStringLiteral("/") + prefix + QStringLiteral("-images-idx3-ubyte"), images);
    writeFile(dir + QStringLiteral("/") + prefix + QStringLiteral("-labels-idx1-ubyte"), labels);
}

} // namespace

class TestCliNn : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString tmp(const QString& name) const { return m_dir.filePath(name); }
    QString data() const { return tmp(QStringLiteral("data")); }
    QString model() const { return tmp(QStringLiteral("model.h5")); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QDir(m_dir.path()).mkdir(QStringLiteral("data")));
        writeSplit(data(), QStringLiteral("train"), 300, 1);
        writeSplit(data(), QStringLiteral("t10k"), 100, 2);
        writeFile(tmp(QStringLiteral("int8.json")),
                  R"({"default": {"format": "int8", "granularity": "channel"}})");
        writeFile(tmp(QStringLiteral("int2.json")),
                  R"({"default": {"format": "int2", "granularity": "channel"}})");
        writeFile(tmp(QStringLiteral("bad-plan.json")), R"({"default": {"format": "int9"}})");
        writeFile(tmp(QStringLiteral("garbage.h5")), QByteArray("not an HDF5 file at all"));
        const Run r = runCli({QStringLiteral("train"), QStringLiteral("--dataset"), data(),
                              QStringLiteral("--out"), model(), QStringLiteral("--epochs"),
                              QStringLiteral("2"), QStringLiteral("--threads"), QStringLiteral("2"),
                              QStringLiteral("--no-flip"), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        const double acc = json(r).value(QStringLiteral("test_accuracy")).toDouble(-1);
        QVERIFY2(acc >= 0 && acc <= 1, qPrintable(QString::number(acc)));
    }

    void evaluateInt8Kernels()
    {
        const Run r = runCli({QStringLiteral("evaluate"), model(), QStringLiteral("--dataset"),
                              data(), QStringLiteral("--plan"), tmp(QStringLiteral("int8.json")),
                              QStringLiteral("--activations"), QStringLiteral("static"),
                              QStringLiteral("--int8-kernels"), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = json(r);
        QCOMPARE(j.value(QStringLiteral("images")).toInt(), 100);
        QCOMPARE(j.value(QStringLiteral("quantized_tensors")).toInt(), 4);
        for (const char* key :
             {"accuracy", "reference_accuracy", "agreement", "int8_accuracy", "int8_agreement"}) {
            const double v = j.value(QLatin1String(key)).toDouble(-1);
            QVERIFY2(v >= 0 && v <= 1, key);
        }
        for (const char* key :
             {"latency_ms_per_image", "fp32_latency_ms_per_image", "int8_latency_ms_per_image"})
            QVERIFY2(j.value(QLatin1String(key)).toDouble(-1) > 0, key);
        QVERIFY(j.value(QStringLiteral("int8_agreement")).toDouble() >= 0.97);
    }

    void qatIsReproducedByEvaluate()
    {
        const QString out = tmp(QStringLiteral("qat.h5"));
        const QString plan = tmp(QStringLiteral("int2.json"));
        const Run r = runCli({QStringLiteral("qat"), model(), QStringLiteral("--plan"), plan,
                              QStringLiteral("--epochs"), QStringLiteral("1"),
                              QStringLiteral("--out"), out, QStringLiteral("--dataset"), data(),
                              QStringLiteral("--learning-rate"), QStringLiteral("0.003"),
                              QStringLiteral("--no-flip"), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = json(r);
        QCOMPARE(j.value(QStringLiteral("epochs")).toInt(), 1);
        QCOMPARE(j.value(QStringLiteral("quantized_tensors")).toInt(), 4);
        for (const char* key : {"accuracy_before", "accuracy_after", "float_accuracy_after"}) {
            const double v = j.value(QLatin1String(key)).toDouble(-1);
            QVERIFY2(v >= 0 && v <= 1, key);
        }
        const Run e = runCli({QStringLiteral("evaluate"), out, QStringLiteral("--dataset"), data(),
                              QStringLiteral("--plan"), plan, QStringLiteral("--json")});
        QVERIFY2(e.code == 0, e.err.constData());
        // The same evaluator on the same saved file: the same number, not a close one.
        QCOMPARE(json(e).value(QStringLiteral("accuracy")).toDouble(),
                 j.value(QStringLiteral("accuracy_after")).toDouble());
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        const QString m = model(), d = data(), out = tmp(QStringLiteral("x.h5"));
        const QString plan = tmp(QStringLiteral("int8.json"));
        const QString ds = QStringLiteral("--dataset"), p = QStringLiteral("--plan"),
                      o = QStringLiteral("--out");
        QTest::addRow("qat without plan")
            << QStringList{QStringLiteral("qat"), m, o, out, ds, d} << 2;
        QTest::addRow("qat without out")
            << QStringList{QStringLiteral("qat"), m, p, plan, ds, d} << 2;
        QTest::addRow("qat without model")
            << QStringList{QStringLiteral("qat"), p, plan, o, out} << 2;
        QTest::addRow("qat zero epochs")
            << QStringList{QStringLiteral("qat"), m, p, plan, o, out, QStringLiteral("--epochs"),
                           QStringLiteral("0")}
            << 2;
        QTest::addRow("qat bad rate") << QStringList{QStringLiteral("qat"),
                                                     m,
                                                     p,
                                                     plan,
                                                     o,
                                                     out,
                                                     QStringLiteral("--learning-rate"),
                                                     QStringLiteral("fast")}
                                      << 2;
        QTest::addRow("qat unknown option")
            << QStringList{QStringLiteral("qat"), m, p, plan, o, out, QStringLiteral("--bogus")}
            << 2;
        QTest::addRow("int8 kernels without static")
            << QStringList{QStringLiteral("evaluate"), m, ds, d, QStringLiteral("--int8-kernels")}
            << 2;
        QTest::addRow("qat missing model") << QStringList{QStringLiteral("qat"),
                                                          tmp(QStringLiteral("none.h5")),
                                                          p,
                                                          plan,
                                                          o,
                                                          out,
                                                          ds,
                                                          d}
                                           << 3;
        QTest::addRow("qat garbage model") << QStringList{QStringLiteral("qat"),
                                                          tmp(QStringLiteral("garbage.h5")),
                                                          p,
                                                          plan,
                                                          o,
                                                          out,
                                                          ds,
                                                          d}
                                           << 3;
        QTest::addRow("qat missing plan") << QStringList{QStringLiteral("qat"),
                                                         m,
                                                         p,
                                                         tmp(QStringLiteral("none.json")),
                                                         o,
                                                         out,
                                                         ds,
                                                         d}
                                          << 3;
        QTest::addRow("qat bad plan") << QStringList{QStringLiteral("qat"),
                                                     m,
                                                     p,
                                                     tmp(QStringLiteral("bad-plan.json")),
                                                     o,
                                                     out,
                                                     ds,
                                                     d}
                                      << 3;
        QTest::addRow("qat missing dataset")
            << QStringList{QStringLiteral("qat"),         m, p, plan, o, out, ds,
                           tmp(QStringLiteral("nowhere"))}
            << 3;
        QTest::addRow("evaluate garbage model")
            << QStringList{QStringLiteral("evaluate"), tmp(QStringLiteral("garbage.h5")), ds, d}
            << 3;
    }

    void errors()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        const Run r = runCli(args);
        QCOMPARE(r.code, code);
        QVERIFY(r.out.isEmpty());
        QVERIFY(!r.err.isEmpty());
        QVERIFY2(r.err.count('\n') <= 3, r.err.constData()); // a short message, not a trace
    }
};

QTEST_GUILESS_MAIN(TestCliNn)
#include "tst_cli_nn.moc"
