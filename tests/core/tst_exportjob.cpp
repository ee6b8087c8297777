// The background export job: a finished export is a readable file, a refused or cancelled one
// leaves nothing behind, and progress reaches the total.
#include "exportjob.h"
#include "modelfixture.h"

#include <QtTest>

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThreadPool>

using namespace qs;

using test::makeModel;

class TestExportJob : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QThreadPool m_pool;

private slots:
    void exportsEveryFormat_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("format");
        QTest::newRow("gguf q4_K") << "out.gguf"
                                   << "q4_K";
        QTest::newRow("safetensors int4") << "out.safetensors"
                                          << "int4";
        QTest::newRow("hdf5 nf4") << "out.h5"
                                  << "nf4";
    }
    void exportsEveryFormat()
    {
        QFETCH(QString, file);
        QFETCH(QString, format);
        const auto model = makeModel(m_dir.filePath(QStringLiteral("m.safetensors")), 3, 64, 256);
        const QString out = m_dir.filePath(file);
        ExportJob job(&m_pool);
        QSignalSpy done(&job, &ExportJob::finished);
        QSignalSpy failed(&job, &ExportJob::failed);
        QSignalSpy progress(&job, &ExportJob::progress);
        job.start(model, Plan::uniform(format.toStdString(), Granularity{}), out);
        QVERIFY(done.wait(20000));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(done.first().first().toString(), out);
        const auto last = progress.last();
        QCOMPARE(last.at(0).toULongLong(), last.at(1).toULongLong());
        QVERIFY(QFileInfo::exists(out));
        QVERIFY(!QFileInfo::exists(out + QStringLiteral(".part")));
        if (file.endsWith(QLatin1String(".gguf"))) { // readable, with the blocks it asked for
            const auto back = openModel(out.toStdString());
            QCOMPARE(back->tensors.size(), model->tensors.size());
            QCOMPARE(back->find("layers.0.weight")->storedType, std::string("q4_K"));
        }
    }

    void refusedExportLeavesNothing()
    {
        const auto model = makeModel(m_dir.filePath(QStringLiteral("r.safetensors")), 2, 16, 64);
        const QString out = m_dir.filePath(QStringLiteral("refused.gguf"));
        ExportJob job(&m_pool);
        QSignalSpy failed(&job, &ExportJob::failed);
        job.start(model, Plan::uniform("int8", Granularity{Granularity::Kind::Channel, 0}), out);
        QVERIFY(failed.wait(20000));
        const QString message = failed.first().first().toString();
        QVERIFY2(message.contains(QLatin1String("layers.0.weight")) &&
                     message.contains(QLatin1String("int8")),
                 qPrintable(message));
        QVERIFY(!QFileInfo::exists(out));
        QVERIFY(!QFileInfo::exists(out + QStringLiteral(".part")));
    }

    void cancelledExportLeavesNothing()
    {
        // The cancel may land before the work starts or while it runs (the engine tests cancel
        // mid-export deterministically); either way no file may be left.
        const auto model =
            makeModel(m_dir.filePath(QStringLiteral("big.safetensors")), 12, 1024, 1024);
        const QString out = m_dir.filePath(QStringLiteral("cancelled.safetensors"));
        ExportJob job(&m_pool);
        QSignalSpy cancelled(&job, &ExportJob::cancelled);
        QSignalSpy done(&job, &ExportJob::finished);
        job.start(model, Plan::uniform("uint4", Granularity{Granularity::Kind::Group, 32}), out);
        job.cancel();
        QVERIFY(cancelled.wait(20000));
        QCOMPARE(done.count(), 0);
        QVERIFY(!QFileInfo::exists(out));
        QVERIFY(!QFileInfo::exists(out + QStringLiteral(".part")));
    }
};

QTEST_GUILESS_MAIN(TestExportJob)
#include "tst_exportjob.moc"
