// `quantscope-cli allocate` as a user runs it: JSON shape, the written plan quantized by
// `quantize` matching the prediction, locks, exit codes.
#include "cliutil.h"

#include <QtTest>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>

#include <cmath>

namespace {
using namespace clitest;

const QString kExample = QStringLiteral(QS_EXAMPLE_MODEL);
const QString kCandidates = QStringLiteral("int4@group:32,int8@channel,q8_0,fp16");

} // namespace

class TestCliAllocate : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString tmp(const QString& name) const { return m_dir.filePath(name); }

private slots:
    void jsonAndThePlanItWrites()
    {
        const QString plan = tmp(QStringLiteral("alloc.json"));
        const Run r = runCli({QStringLiteral("allocate"), kExample, QStringLiteral("--candidates"),
                              kCandidates, QStringLiteral("--target-bpw"), QStringLiteral("6"),
                              QStringLiteral("--frontier"), QStringLiteral("--out"), plan,
                              QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = json(r);
        for (const char* k : {"plan", "predicted", "exact", "gap", "candidates", "frontier", "tensors"})
            QVERIFY2(j.contains(QLatin1String(k)), k);
        QVERIFY(j.value(QStringLiteral("exact")).toBool());
        const auto predicted = j.value(QStringLiteral("predicted")).toObject();
        const double bytes = predicted.value(QStringLiteral("bytes")).toDouble();
        const double distortion = predicted.value(QStringLiteral("distortion")).toDouble();
        // The budget is floor(6 * params / 8) over the tensors the plan may quantize.
        const double params = j.value(QStringLiteral("params")).toDouble();
        QCOMPARE(j.value(QStringLiteral("budget")).toDouble(), std::floor(6.0 * params / 8.0));
        QVERIFY(bytes <= j.value(QStringLiteral("budget")).toDouble());
        for (const auto& c : j.value(QStringLiteral("candidates")).toArray()) {
            const auto o = c.toObject();
            for (const char* k : {"tensor", "format", "bytes", "distortion"})
                QVERIFY2(o.contains(QLatin1String(k)), k);
        }
        const auto frontier = j.value(QStringLiteral("frontier")).toArray();
        QVERIFY(frontier.size() > 1);
        for (qsizetype i = 1; i < frontier.size(); ++i)
            QVERIFY(frontier[i].toObject().value(QStringLiteral("bytes")).toDouble() >
                    frontier[i - 1].toObject().value(QStringLiteral("bytes")).toDouble());
        QSet<QString> allocated;
        for (const auto& t : j.value(QStringLiteral("tensors")).toArray()) {
            const auto o = t.toObject();
            allocated.insert(o.value(QStringLiteral("tensor")).toString());
            QVERIFY(o.contains(QStringLiteral("marginal")) && o.contains(QStringLiteral("sensitivity")));
        }

        // The same plan through `quantize`: the same bytes and squared error over those tensors.
        const Run q = runCli({QStringLiteral("quantize"), kExample, QStringLiteral("--plan"), plan,
                              QStringLiteral("--json")});
        QVERIFY2(q.code == 0, q.err.constData());
        double qBytes = 0.0, qError = 0.0;
        for (const auto& t : json(q).value(QStringLiteral("tensors")).toArray()) {
            const auto o = t.toObject();
            if (!allocated.contains(o.value(QStringLiteral("name")).toString())) continue;
            qBytes += o.value(QStringLiteral("bytes_after")).toDouble();
            if (!o.value(QStringLiteral("mse")).isNull()) // mse * values = the squared error
                qError += o.value(QStringLiteral("mse")).toDouble() *
                          (o.value(QStringLiteral("params")).toDouble() -
                           o.value(QStringLiteral("nan_count")).toDouble() -
                           o.value(QStringLiteral("inf_count")).toDouble());
        }
        QCOMPARE(qBytes, bytes);
        QVERIFY2(std::fabs(qError - distortion) <= 1e-9 * distortion,
                 qPrintable(QStringLiteral("%1 vs %2").arg(qError).arg(distortion)));
    }

    void locksAndBasePlan()
    {
        const QString base = tmp(QStringLiteral("base.json"));
        QFile f(base);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"default": {"format": "int8", "granularity": "channel"}})");
        f.close();
        const Run r = runCli({QStringLiteral("allocate"), kExample, QStringLiteral("--candidates"),
                              kCandidates, QStringLiteral("--target-bpw"), QStringLiteral("7"),
                              QStringLiteral("--plan"), base, QStringLiteral("--lock"),
                              QStringLiteral("mlp\\.down_proj"), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = json(r);
        const auto locked = j.value(QStringLiteral("plan")).toObject().value(QStringLiteral("locked")).toArray();
        QCOMPARE(locked.size(), 2);
        for (const auto& t : j.value(QStringLiteral("tensors")).toArray()) {
            const auto o = t.toObject();
            if (!o.value(QStringLiteral("tensor")).toString().contains(QStringLiteral("down_proj")))
                continue;
            QCOMPARE(o.value(QStringLiteral("role")).toString(), QStringLiteral("locked"));
            QCOMPARE(o.value(QStringLiteral("format")).toString(), QStringLiteral("int8@channel"));
        }
    }

    void textOutput()
    {
        const Run r = runCli({QStringLiteral("allocate"), kExample, QStringLiteral("--candidates"),
                              kCandidates, QStringLiteral("--target-bytes"), QStringLiteral("400000")});
        QVERIFY2(r.code == 0, r.err.constData());
        QVERIFY(r.out.contains("total: "));
        QVERIFY(r.out.contains("median layer"));
    }

    // act and output on the bundled CNN: the written plan, quantized by `quantize`, takes
    // exactly the predicted bytes over the allocated tensors.
    void runtimeMeasures_data()
    {
        QTest::addColumn<QString>("measure");
        QTest::addRow("act") << QStringLiteral("act:64");
        QTest::addRow("output") << QStringLiteral("output:32");
    }
    void runtimeMeasures()
    {
        QFETCH(QString, measure);
        const QString cnn = QStringLiteral(QS_TEST_DATA "/../../resources/models/fashion-mnist-cnn.h5");
        if (!QFile::exists(cnn) || !QFile::exists(QStringLiteral("/usr/share/datasets/fashion-mnist")))
            QSKIP("needs the bundled CNN and Fashion-MNIST");
        const QString plan = tmp(measure.section(QLatin1Char(':'), 0, 0) + QStringLiteral(".json"));
        const Run r = runCli({QStringLiteral("allocate"), cnn, QStringLiteral("--candidates"),
                              QStringLiteral("int2@channel,int3@channel,int4@channel,int8@channel"),
                              QStringLiteral("--target-bpw"), QStringLiteral("4"),
                              QStringLiteral("--measure"), measure, QStringLiteral("--out"), plan,
                              QStringLiteral("--json")});
        QVERIFY2(r.code == 0, r.err.constData());
        const QJsonObject j = json(r);
        QCOMPARE(j.value(QStringLiteral("measure")).toString(), measure);
        const double predicted =
            j.value(QStringLiteral("predicted")).toObject().value(QStringLiteral("bytes")).toDouble();
        QSet<QString> allocated;
        for (const auto& t : j.value(QStringLiteral("tensors")).toArray())
            allocated.insert(t.toObject().value(QStringLiteral("tensor")).toString());
        QCOMPARE(allocated.size(), 4); // the four kernels
        for (const auto& c : j.value(QStringLiteral("candidates")).toArray())
            QVERIFY(c.toObject().value(QStringLiteral("distortion")).toDouble() > 0);
        const Run q = runCli({QStringLiteral("quantize"), cnn, QStringLiteral("--plan"), plan,
                              QStringLiteral("--json")});
        QVERIFY2(q.code == 0, q.err.constData());
        double bytes = 0.0;
        for (const auto& t : json(q).value(QStringLiteral("tensors")).toArray()) {
            const auto o = t.toObject();
            if (allocated.contains(o.value(QStringLiteral("name")).toString()))
                bytes += o.value(QStringLiteral("bytes_after")).toDouble();
        }
        QCOMPARE(bytes, predicted);
    }

    void exitCodes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        const QString a = QStringLiteral("allocate");
        QTest::addRow("no target") << QStringList{a, kExample} << 2 << QStringLiteral("--target-bpw or --target-bytes");
        QTest::addRow("two targets") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--target-bytes"), QStringLiteral("9")} << 2 << QStringLiteral("either");
        QTest::addRow("bad bpw") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("four")} << 2 << QStringLiteral("bits per weight");
        QTest::addRow("bad candidates") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--candidates"), QStringLiteral("q4_K,int9")} << 2 << QStringLiteral("int9");
        QTest::addRow("bad lock") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--lock"), QStringLiteral("(")} << 2 << QStringLiteral("regular expression");
        QTest::addRow("infeasible") << QStringList{a, kExample, QStringLiteral("--candidates"), kCandidates, QStringLiteral("--target-bytes"), QStringLiteral("1000")} << 3 << QStringLiteral("infeasible: the smallest choices need");
        QTest::addRow("missing imatrix") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--measure"), QStringLiteral("imatrix:/nonexistent.dat")} << 3 << QStringLiteral("/nonexistent.dat");
        QTest::addRow("act on a model the runtime cannot run") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--measure"), QStringLiteral("act")} << 3 << QStringLiteral("needs a model the runtime can run");
        QTest::addRow("bad image count") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--measure"), QStringLiteral("output:0")} << 3 << QStringLiteral("image count");
        QTest::addRow("dataset without a runtime measure") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--dataset"), QStringLiteral("/tmp")} << 2 << QStringLiteral("--dataset only applies");
        QTest::addRow("bad measure") << QStringList{a, kExample, QStringLiteral("--target-bpw"), QStringLiteral("4"), QStringLiteral("--measure"), QStringLiteral("kl")} << 3 << QStringLiteral("unknown distortion measure");
    }
    void exitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        const Run r = runCli(args);
        QCOMPARE(r.code, code);
        QVERIFY2(QString::fromUtf8(r.err).contains(message), r.err.constData());
        QCOMPARE(r.err.count('\n'), 1); // one line
    }
};

QTEST_MAIN(TestCliAllocate)
#include "tst_cli_allocate.moc"
