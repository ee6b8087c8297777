// The background export job: a finished export is a readable file, a refused or cancelled one
// leaves nothing behind, and progress reaches the total.
#include "exportjob.h"
#include "io/safetensors_writer.h"

#include <QtTest>

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThreadPool>

#include <random>

using namespace qs;

namespace {

std::shared_ptr<const Model> makeModel(const QString& path, int count, std::int64_t rows,
                                       std::int64_t cols)
{
    std::vector<SafetensorsWriter::Entry> entries;
    for (int i = 0; i < count; ++i)
        entries.push_back({"blk." + std::to_string(i) + ".weight", DType::F32, {rows, cols}});
    entries.push_back({"norm.weight", DType::F32, {cols}});
    SafetensorsWriter w(path.toStdString(), entries);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 0.05f);
    std::vector<float> v(static_cast<std::size_t>(rows * cols));
    for (int i = 0; i < count; ++i) {
        for (auto& x : v)
            x = normal(rng);
        w.write(v.data(), v.size() * 4);
    }
    w.write(v.data(), static_cast<std::size_t>(cols) * 4);
    w.commit();
    return openModel(path.toStdString());
}

} // namespace

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
            QCOMPARE(back->find("blk.0.weight")->storedType, std::string("q4_K"));
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
        QVERIFY2(message.contains(QLatin1String("blk.0.weight")) &&
                     message.contains(QLatin1String("int8")),
                 qPrintable(message));
        QVERIFY(!QFileInfo::exists(out));
        QVERIFY(!QFileInfo::exists(out + QStringLiteral(".part")));
    }

    void cancelledExportLeavesNothing()
    {
        // Enough work that the cancel lands while the export runs.
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
