// The child-process probe (io/isolated_probe.h): libhdf5 parses in the exec'd quantscope-probe
// helper, how the helper ends becomes the caller's error, and without a helper the probe falls
// back to a forked copy of the caller.
#include "core/error.h"
#include "io/isolated_probe.h"
#include "io/model.h"
#include "nn/keras_model.h"
#include "session/session.h"
#include "testutil.h"

#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>

using namespace qs;

namespace {

std::string fixture(const std::string& name)
{
    return std::string(QS_TEST_DATA) + "/" + name;
}

// Runs `what` and checks that it throws qs::Error containing every one of `parts`.
void expectErrorWith(const std::function<void()>& what, const QStringList& parts)
{
    try {
        what();
        QFAIL("no error");
    } catch (const Error& e) {
        const QString msg = QString::fromUtf8(e.what());
        for (const QString& part : parts)
            QVERIFY2(msg.contains(part), qPrintable(msg));
    }
}

// What the crash fixture leaves behind: the fault itself, or AddressSanitizer's exit code.
QString crashMessage()
{
#if defined(__SANITIZE_ADDRESS__)
    return QStringLiteral("libhdf5 failed reading this file (exit code 1)");
#else
    return QStringLiteral("libhdf5 crashed reading this file (signal 11");
#endif
}

} // namespace

class TestIsolatedProbe : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    // A stand-in helper: a shell script with `body`, set as $QS_PROBE.
    QString fakeHelper(const QString& name, const QByteArray& body)
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly)) return {};
        f.write("#!/bin/sh\n" + body + "\n");
        f.close();
        f.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        qputenv("QS_PROBE", path.toLocal8Bit());
        return path;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void cleanup() { qunsetenv("QS_PROBE"); }

    void buildTreeHelperIsFound()
    {
        const QFileInfo helper(QString::fromStdString(probeHelperPath()));
        QCOMPARE(helper.fileName(), QStringLiteral("quantscope-probe"));
        QVERIFY(helper.isExecutable());
    }

    // The parse the caller passes is not what runs when the helper does: a parse that would
    // abort the child goes unnoticed, because the helper parsed the (good) file itself.
    void probeRunsInTheHelper()
    {
        QVERIFY(!probeHelperPath().empty());
        probeInChildProcess(fixture("hdf5/generic.h5"), "libhdf5", ProbeKind::Hdf5Model,
                            [] { std::abort(); });
        test::expectOpenError(fixture("hdf5/hostile/global-heap-crash.h5"), crashMessage());
    }

    // Without a helper ($QS_PROBE names no executable) the probe forks and runs that parse.
    void missingHelperFallsBackToFork()
    {
        qputenv("QS_PROBE", m_dir.filePath(QStringLiteral("no-such-helper")).toLocal8Bit());
        QCOMPARE(probeHelperPath(), std::string());
        expectErrorWith(
            [] {
                probeInChildProcess(fixture("hdf5/generic.h5"), "libhdf5", ProbeKind::Hdf5Model,
                                    [] { std::abort(); });
            },
            {QStringLiteral("libhdf5 crashed reading this file (signal 6")});
        test::expectOpenError(fixture("hdf5/hostile/global-heap-crash.h5"), crashMessage());
        QVERIFY(!openModel(fixture("hdf5/generic.h5"))->tensors.empty());
    }

    // Each caller names its parse and the file on the helper's command line.
    void helperGetsKindAndPath_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addRow("model") << "hdf5";
        QTest::addRow("keras model") << "keras";
        QTest::addRow("session") << "session";
    }
    void helperGetsKindAndPath()
    {
        QFETCH(QString, kind);
        const QString record = m_dir.filePath(QStringLiteral("args-") + kind);
        fakeHelper(QStringLiteral("record.sh"),
                   "printf '%s|%s' \"$1\" \"$2\" > '" + record.toLocal8Bit() + "'");
        const std::string model = fixture("nn/cnn.h5");
        try {
            if (kind == QStringLiteral("hdf5")) (void)openModel(model);
            if (kind == QStringLiteral("keras")) (void)nn::loadKerasModel(model);
            if (kind == QStringLiteral("session")) (void)loadSession(model); // not a session
        } catch (const Error&) {
        }
        QFile f(record);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(f.readAll()), kind + "|" + QString::fromStdString(model));
    }

    // How the helper ends is what the caller reports, with the existing texts.
    void helperOutcomes_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("message"); // empty: the file opens
        QTest::addRow("signal") << QByteArray("kill -SEGV $$")
                                << "libhdf5 crashed reading this file (signal 11, ";
        QTest::addRow("other exit code")
            << QByteArray("exit 3") << "libhdf5 failed reading this file (exit code 3)";
        QTest::addRow("threw: parsed again here") << QByteArray("exit 77") << QString();
        QTest::addRow("succeeded") << QByteArray("exit 0") << QString();
    }
    void helperOutcomes()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, message);
        fakeHelper(QStringLiteral("outcome.sh"), body);
        const std::string path = fixture("hdf5/generic.h5");
        if (message.isEmpty())
            QVERIFY(!openModel(path)->tensors.empty());
        else
            test::expectOpenError(path, message);
    }

    void hungHelperIsKilled()
    {
        fakeHelper(QStringLiteral("hang.sh"), "exec sleep 60");
        QElapsedTimer timer;
        timer.start();
        expectErrorWith(
            [] {
                probeInChildProcess(
                    fixture("hdf5/generic.h5"), "libhdf5", ProbeKind::Hdf5Model, [] {}, 1);
            },
            {QStringLiteral("libhdf5 did not finish reading this file within 1 s")});
        QVERIFY2(timer.elapsed() < 30000, "the helper was not killed");
    }

    // The real helper's command line and exit codes.
    void helperExitCodes_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        const auto f = [](const char* name) { return QString::fromStdString(fixture(name)); };
        QTest::addRow("model") << QStringList{"hdf5", f("hdf5/generic.h5")} << 0;
        QTest::addRow("keras model") << QStringList{"keras", f("nn/cnn.h5")} << 0;
        QTest::addRow("missing file") << QStringList{"hdf5", f("hdf5/none.h5")} << kProbeThrew;
        QTest::addRow("weights only")
            << QStringList{"keras", f("hdf5/keras2_weights.h5")} << kProbeThrew;
        QTest::addRow("not a session") << QStringList{"session", f("nn/cnn.h5")} << kProbeThrew;
        QTest::addRow("unknown kind") << QStringList{"pdf", f("nn/cnn.h5")} << 2;
        QTest::addRow("no path") << QStringList{"hdf5"} << 2;
    }
    void helperExitCodes()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QProcess helper;
        helper.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        helper.start(QString::fromStdString(probeHelperPath()), args);
        QVERIFY(helper.waitForFinished(60000));
        QCOMPARE(helper.exitStatus(), QProcess::NormalExit);
        QCOMPARE(helper.exitCode(), code);
    }
};

QTEST_GUILESS_MAIN(TestIsolatedProbe)
#include "tst_isolatedprobe.moc"
