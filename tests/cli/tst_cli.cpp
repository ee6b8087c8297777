// quantscope-cli as a user runs it: exit codes, one-line errors, JSON shapes, exports.
#include "cliutil.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

namespace {
using namespace clitest;

void writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

QByteArray st(const QByteArray& header, const QByteArray& data)
{
    QByteArray len(8, '\0');
    for (int i = 0; i < 8; ++i)
        len[i] = static_cast<char>((quint64(header.size()) >> (8 * i)) & 0xff);
    return len + header + data;
}

const QString kExample = QStringLiteral(QS_EXAMPLE_MODEL);

} // namespace

class TestCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString tmp(const QString& name) const { return m_dir.filePath(name); }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        writeFile(tmp(QStringLiteral("garbage.safetensors")),
                  QByteArray("\x10\x00\x00\x00\x00\x00\x00\x00{not json at all", 24));
        writeFile(
            tmp(QStringLiteral("overflow.safetensors")),
            st(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,800]}})", QByteArray(8, '\0')));
        writeFile(tmp(QStringLiteral("bad-plan.json")), R"({"default": {"format": "int9"}})");
        writeFile(
            tmp(QStringLiteral("plan.json")),
            R"({"default": {"format": "int8", "granularity": "channel"}, "rules": [{"match": "mlp", "format": "int4", "granularity": "group:32"}]})");
    }

    void exitCodes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("stderrHas");
        const QString g = tmp(QStringLiteral("garbage.safetensors"));
        QTest::addRow("no arguments") << QStringList{} << 2 << "Usage:";
        QTest::addRow("unknown command")
            << QStringList{QStringLiteral("frobnicate")} << 2 << "unknown command";
        QTest::addRow("unknown option")
            << QStringList{QStringLiteral("inspect"), kExample, QStringLiteral("--colour")} << 2
            << "unknown option --colour";
        QTest::addRow("missing model")
            << QStringList{QStringLiteral("inspect")} << 2 << "exactly one MODEL";
        QTest::addRow("format and plan")
            << QStringList{QStringLiteral("quantize"), kExample,
                           QStringLiteral("--format"), QStringLiteral("int8"),
                           QStringLiteral("--plan"),   tmp(QStringLiteral("plan.json"))}
            << 2 << "either --format or --plan";
        QTest::addRow("unknown format")
            << QStringList{QStringLiteral("quantize"), kExample, QStringLiteral("--format"),
                           QStringLiteral("int9")}
            << 2 << "unknown format 'int9'";
        QTest::addRow("bad granularity")
            << QStringList{QStringLiteral("quantize"),      kExample,
                           QStringLiteral("--format"),      QStringLiteral("int8"),
                           QStringLiteral("--granularity"), QStringLiteral("row")}
            << 2 << "bad granularity";
        QTest::addRow("bad threads")
            << QStringList{QStringLiteral("quantize"),  kExample,
                           QStringLiteral("--format"),  QStringLiteral("int8"),
                           QStringLiteral("--threads"), QStringLiteral("0")}
            << 2 << "--threads";
        QTest::addRow("missing file")
            << QStringList{QStringLiteral("inspect"), tmp(QStringLiteral("nope.safetensors"))} << 3
            << "nope.safetensors: no such file";
        QTest::addRow("garbage file") << QStringList{QStringLiteral("inspect"), g} << 3
                                      << "garbage.safetensors: invalid JSON header";
        QTest::addRow("garbage quantize")
            << QStringList{QStringLiteral("quantize"), g, QStringLiteral("--format"),
                           QStringLiteral("int8")}
            << 3 << "garbage.safetensors";
        QTest::addRow("offsets beyond file")
            << QStringList{QStringLiteral("inspect"), tmp(QStringLiteral("overflow.safetensors"))}
            << 3 << "tensor 'w'";
        QTest::addRow("bad plan") << QStringList{QStringLiteral("quantize"), kExample,
                                                 QStringLiteral("--plan"),
                                                 tmp(QStringLiteral("bad-plan.json"))}
                                  << 3 << "bad-plan.json: \"default\": unknown format \"int9\"";
        QTest::addRow("missing plan")
            << QStringList{QStringLiteral("quantize"), kExample, QStringLiteral("--plan"),
                           tmp(QStringLiteral("none.json"))}
            << 3 << "none.json: cannot read";
        QTest::addRow("rows not whole blocks")
            << QStringList{QStringLiteral("quantize"), kExample, QStringLiteral("--format"),
                           QStringLiteral("q4_K")}
            << 3 << "example.safetensors: tensor 'model.embed_tokens.weight': row length 96";
        QTest::addRow("malicious pickle")
            << QStringList{QStringLiteral("inspect"),
                           QStringLiteral(QS_TEST_DATA "/torch_ckpt/malicious.pt")}
            << 3 << "malicious.pt: unsupported pickle content: posix.system";
        QTest::addRow("help") << QStringList{QStringLiteral("--help")} << 0 << "";
        QTest::addRow("version") << QStringList{QStringLiteral("--version")} << 0 << "";
    }
    void exitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, stderrHas);
        const Run r = runCli(args);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(stderrHas), r.err.constData());
        if (code == 3) { // one line naming the file and the problem, no trace
            QCOMPARE(r.err.count('\n'), 1);
            QVERIFY(r.err.startsWith("quantscope-cli: "));
        }
    }

    void inspectJson()
    {
        const Run r = runCli({QStringLiteral("inspect"), kExample, QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        const QJsonObject o = json(r);
        QCOMPARE(o.value(QStringLiteral("format")).toString(), QStringLiteral("safetensors"));
        QCOMPARE(o.value(QStringLiteral("path")).toString(), kExample);
        const QJsonArray tensors = o.value(QStringLiteral("tensors")).toArray();
        QVERIFY(tensors.size() >= 10);
        qint64 params = 0, bytes = 0;
        bool sawF16 = false;
        for (const auto& v : tensors) {
            const QJsonObject t = v.toObject();
            for (const char* k : {"name", "shape", "dtype", "params", "bytes"})
                QVERIFY2(t.contains(QLatin1String(k)), k);
            params += t.value(QStringLiteral("params")).toInteger();
            bytes += t.value(QStringLiteral("bytes")).toInteger();
            sawF16 = sawF16 || t.value(QStringLiteral("dtype")).toString() == QStringLiteral("F16");
        }
        QVERIFY(sawF16); // dtype as the file names it
        QCOMPARE(o.value(QStringLiteral("total_params")).toInteger(), params);
        QCOMPARE(o.value(QStringLiteral("total_bytes")).toInteger(), bytes);
    }

    void quantizeJson()
    {
        const Run r = runCli({QStringLiteral("quantize"), kExample, QStringLiteral("--plan"),
                              tmp(QStringLiteral("plan.json")), QStringLiteral("--json"),
                              QStringLiteral("--threads"), QStringLiteral("2")});
        QCOMPARE(r.code, 0);
        const QJsonObject o = json(r);
        qint64 before = 0, after = 0;
        int mlp = 0, kept = 0;
        for (const auto& v : o.value(QStringLiteral("tensors")).toArray()) {
            const QJsonObject t = v.toObject();
            for (const char* k : {"name", "format", "granularity", "channel_axis", "params",
                                  "bytes_before", "bytes_after", "bits_per_weight", "mse", "rmse",
                                  "sqnr_db", "max_abs_error", "cosine"})
                QVERIFY2(t.contains(QLatin1String(k)), k);
            before += t.value(QStringLiteral("bytes_before")).toInteger();
            after += t.value(QStringLiteral("bytes_after")).toInteger();
            const QString name = t.value(QStringLiteral("name")).toString();
            if (t.value(QStringLiteral("format")).toString() == QStringLiteral("keep")) {
                ++kept;
                QCOMPARE(t.value(QStringLiteral("bytes_after")),
                         t.value(QStringLiteral("bytes_before")));
                continue;
            }
            QCOMPARE(t.value(QStringLiteral("channel_axis")).toInt(), 0);
            QVERIFY(t.value(QStringLiteral("sqnr_db")).toDouble() > 10.0);
            QVERIFY(t.value(QStringLiteral("cosine")).toDouble() > 0.9);
            if (name.contains(QStringLiteral("mlp"))) {
                ++mlp;
                QCOMPARE(t.value(QStringLiteral("format")).toString(), QStringLiteral("int4"));
                QCOMPARE(t.value(QStringLiteral("granularity")).toString(),
                         QStringLiteral("group:32"));
            }
        }
        QVERIFY(mlp >= 6);
        QVERIFY(kept >= 5); // norms and biases keep their precision
        const QJsonObject total = o.value(QStringLiteral("total")).toObject();
        QCOMPARE(total.value(QStringLiteral("bytes_before")).toInteger(), before);
        QCOMPARE(total.value(QStringLiteral("bytes_after")).toInteger(), after);
        QCOMPARE(total.value(QStringLiteral("compression_ratio")).toDouble(),
                 double(before) / double(after));
    }

    void resultsDoNotDependOnThreads()
    {
        const QStringList base = {QStringLiteral("quantize"),      kExample,
                                  QStringLiteral("--format"),      QStringLiteral("uint8"),
                                  QStringLiteral("--granularity"), QStringLiteral("group:64"),
                                  QStringLiteral("--json")};
        const Run one =
            runCli(base + QStringList{QStringLiteral("--threads"), QStringLiteral("1")});
        const Run four =
            runCli(base + QStringList{QStringLiteral("--threads"), QStringLiteral("4")});
        QCOMPARE(one.code, 0);
        QCOMPARE(one.out, four.out);
    }

    // The exported file holds what PyTorch's quantize_per_channel/dequantize computes.
    void exportMatchesTorch_data()
    {
        QTest::addColumn<QString>("fixture");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("granularity");
        QTest::addRow("uint8 channel") << "uint8_channel"
                                       << "uint8"
                                       << "channel";
        QTest::addRow("uint8 tensor") << "uint8_tensor"
                                      << "uint8"
                                      << "tensor";
        QTest::addRow("int8 channel") << "int8_channel_conv"
                                      << "int8"
                                      << "channel";
        QTest::addRow("int4 channel") << "int4_channel"
                                      << "int4"
                                      << "channel";
    }
    void exportMatchesTorch()
    {
        QFETCH(QString, fixture);
        QFETCH(QString, format);
        QFETCH(QString, granularity);
        const QString in =
            QStringLiteral(QS_TEST_DATA "/torch/") + fixture + QStringLiteral(".safetensors");
        const QString plan = tmp(fixture + QStringLiteral(".plan.json"));
        writeFile(plan,
                  QStringLiteral(R"({"tensors": {"x": {"format": "%1", "granularity": "%2"}}})")
                      .arg(format, granularity)
                      .toUtf8());
        const QString out = tmp(fixture + QStringLiteral(".deq.safetensors"));
        const Run r =
            runCli({QStringLiteral("quantize"), in, QStringLiteral("--plan"), plan,
                    QStringLiteral("--export-dequantized"), out, QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        // Read both files through the CLI's own inspect to find offsets, then compare bytes.
        auto tensorBytes = [](const QString& file, const QString& name) {
            QFile f(file);
            if (!f.open(QIODevice::ReadOnly)) return QByteArray();
            const QByteArray all = f.readAll();
            quint64 n = 0;
            for (int i = 7; i >= 0; --i)
                n = (n << 8) | static_cast<unsigned char>(all[i]);
            const QJsonObject h =
                QJsonDocument::fromJson(all.mid(8, static_cast<qsizetype>(n))).object();
            const QJsonArray off =
                h.value(name).toObject().value(QStringLiteral("data_offsets")).toArray();
            return all.mid(static_cast<qsizetype>(8 + n + off[0].toInteger()),
                           static_cast<qsizetype>(off[1].toInteger() - off[0].toInteger()));
        };
        const QByteArray got = tensorBytes(out, QStringLiteral("x"));
        const QByteArray want = tensorBytes(in, QStringLiteral("dequant"));
        QVERIFY(!want.isEmpty());
        QCOMPARE(got.size(), want.size());
        QVERIFY2(got == want, "exported values differ from PyTorch's");
        // Unquantized tensors pass through unchanged (as F32).
        QCOMPARE(tensorBytes(out, QStringLiteral("dequant")), want);
    }

    // Non-float tensors are exported as plain row-major little-endian values, whatever their
    // stored order; tensors without readable values are left out and named on stderr.
    void exportKeepsValuesOfOtherTypes()
    {
        const QString out = tmp(QStringLiteral("ints.safetensors"));
        const Run r = runCli({QStringLiteral("quantize"),
                              QStringLiteral(QS_TEST_DATA "/numpy/i32_be_fortran.npy"),
                              QStringLiteral("--format"), QStringLiteral("int8"),
                              QStringLiteral("--export-dequantized"), out});
        QCOMPARE(r.code, 0);
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray all = f.readAll();
        quint64 n = 0;
        for (int i = 7; i >= 0; --i)
            n = (n << 8) | static_cast<unsigned char>(all[i]);
        const QJsonObject t = QJsonDocument::fromJson(all.mid(8, static_cast<qsizetype>(n)))
                                  .object()
                                  .value(QStringLiteral("i32_be_fortran"))
                                  .toObject();
        QCOMPARE(t.value(QStringLiteral("dtype")).toString(), QStringLiteral("I32"));
        QCOMPARE(t.value(QStringLiteral("shape")).toArray(), (QJsonArray{2, 3}));
        const QByteArray data = all.mid(static_cast<qsizetype>(8 + n), 24);
        for (int i = 0; i < 6; ++i) { // np.arange(6).reshape(2, 3), row-major
            qint32 v;
            std::memcpy(&v, data.constData() + 4 * i, 4);
            QCOMPARE(v, i);
        }

        const QString out2 = tmp(QStringLiteral("dtypes.safetensors"));
        const Run r2 =
            runCli({QStringLiteral("quantize"), QStringLiteral(QS_TEST_DATA "/onnx/dtypes.onnx"),
                    QStringLiteral("--format"), QStringLiteral("fp32"),
                    QStringLiteral("--export-dequantized"), out2});
        QCOMPARE(r2.code, 0);
        QVERIFY2(r2.err.contains("not exported"), r2.err.constData());
        QVERIFY(QFile::exists(out2));
    }

    void formatsJson()
    {
        const Run r = runCli({QStringLiteral("formats"), QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        QStringList names;
        for (const auto& v : json(r).value(QStringLiteral("formats")).toArray()) {
            const QJsonObject f = v.toObject();
            QVERIFY(f.contains(QStringLiteral("family")) &&
                    f.contains(QStringLiteral("bits_per_weight")) &&
                    f.contains(QStringLiteral("description")));
            names << f.value(QStringLiteral("name")).toString();
        }
        for (const char* n :
             {"fp32", "fp16", "bf16", "int8", "int4", "uint8", "uint4", "q8_0", "q4_0", "q4_1",
              "q5_0", "q5_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"})
            QVERIFY2(names.contains(QLatin1String(n)), n);
    }

    void benchModelReadsEveryTensor()
    {
        const Run r = runCli({QStringLiteral("bench"), QStringLiteral("--model"), kExample,
                              QStringLiteral("--json")});
        QCOMPARE(r.code, 0);
        const QJsonObject o = json(r);
        QVERIFY(o.value(QStringLiteral("read_gbps")).toDouble() > 0);
        QVERIFY(o.value(QStringLiteral("baseline_gbps")).toDouble() > 0);
        // Every float tensor of the example is counted: its parameters, from inspect.
        const QJsonObject inspect =
            json(runCli({QStringLiteral("inspect"), kExample, QStringLiteral("--json")}));
        QCOMPARE(o.value(QStringLiteral("values")).toDouble(),
                 inspect.value(QStringLiteral("total_params")).toDouble());
    }

    void benchJsonShape()
    {
        // A small array: this checks the report's shape, not speed (timings belong in the README).
        const Run r =
            runCli({QStringLiteral("bench"), QStringLiteral("--json"), QStringLiteral("--shape"),
                    QStringLiteral("64x256"), QStringLiteral("--repeats"), QStringLiteral("1")});
        QCOMPARE(r.code, 0);
        const QJsonObject o = json(r);
        QVERIFY(o.value(QStringLiteral("read_gbps")).toDouble() > 0);
        const QJsonArray formats = o.value(QStringLiteral("formats")).toArray();
        // 3 float, 2 fp8, 14 integer, nf4, mxfp4 and 10 ggml block formats
        QCOMPARE(formats.size(), 31);
        for (const auto& v : formats) {
            for (const char* k : {"quantize_gbps", "dequantize_gbps", "analyze_gbps",
                                  "read_gbps", "quantize_vs_read", "dequantize_vs_read",
                                  "analyze_vs_read"})
                QVERIFY(v.toObject().value(QLatin1String(k)).toDouble() > 0);
            QVERIFY(!v.toObject().contains(QStringLiteral("quantize_speedup"))); // one thread
        }
    }

    void benchComparesWithOneThread()
    {
        // More threads: each format also reports its speed-up over one thread, from the same
        // rounds; --cold and --formats select what is run.
        const Run r = runCli({QStringLiteral("bench"), QStringLiteral("--json"),
                              QStringLiteral("--threads"), QStringLiteral("2"),
                              QStringLiteral("--shape"), QStringLiteral("64x256"),
                              QStringLiteral("--repeats"), QStringLiteral("2"),
                              QStringLiteral("--formats"), QStringLiteral("int8,q4_K"),
                              QStringLiteral("--cold")});
        QCOMPARE(r.code, 0);
        const QJsonArray formats = json(r).value(QStringLiteral("formats")).toArray();
        QCOMPARE(formats.size(), 2);
        QCOMPARE(formats[0].toObject().value(QStringLiteral("name")).toString(), "int8");
        QCOMPARE(formats[1].toObject().value(QStringLiteral("name")).toString(), "q4_K");
        for (const auto& v : formats) {
            QCOMPARE(v.toObject().value(QStringLiteral("threads")).toInt(), 2);
            for (const char* k : {"quantize_speedup", "analyze_speedup"})
                QVERIFY(v.toObject().value(QLatin1String(k)).toDouble() > 0);
        }
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
