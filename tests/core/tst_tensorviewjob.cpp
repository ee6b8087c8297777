// The background tensor-views job: it delivers what the engine computes, reports errors with
// the tensor's name, and never delivers a superseded or cancelled request.
#include "core/error.h"
#include "modelfixture.h"
#include "tensorviewjob.h"

#include <QtTest>

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThreadPool>

using namespace qs;

using test::makeModel;

namespace {
constexpr int kTimeoutMs = 20000;

QuantSpec int4Channel()
{
    return QuantSpec{findFormat("int4"), Granularity{Granularity::Kind::Channel, 0}};
}

int rowOf(const Model& m, const std::string& name)
{
    return static_cast<int>(m.find(name) - m.tensors.data());
}
} // namespace

class TestTensorViewJob : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QThreadPool m_pool;
    std::shared_ptr<const Model> m_model;

    // Lets every request, superseded ones included, finish and report whatever it would.
    void settle()
    {
        m_pool.waitForDone();
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_model = makeModel(m_dir.filePath(QStringLiteral("m.safetensors")), 3, 96, 640);
    }

    void deliversEngineResult()
    {
        TensorViewJob job(&m_pool);
        QSignalSpy ready(&job, &TensorViewJob::resultReady);
        QSignalSpy progress(&job, &TensorViewJob::progress);
        TensorViewOptions options;
        options.maxRows = 32;
        options.maxCols = 64;
        options.samplePoints = 500;
        const int row = rowOf(*m_model, "layers.1.weight");
        const quint64 id = job.start(m_model, row, int4Channel(), options);
        QVERIFY(job.isRunning() || !ready.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        QCOMPARE(ready.first().at(0).toULongLong(), id);
        QCOMPARE(ready.first().at(1).toInt(), row);
        const auto views = ready.first().at(2).value<TensorViewsPtr>();
        QVERIFY(views);

        const TensorInfo& info = m_model->tensors[static_cast<std::size_t>(row)];
        TensorQuantizer qz(m_model->data(info), info, int4Channel());
        const TensorViews direct = computeTensorViews(qz, info, Control{}, options);
        QCOMPARE(views->name, info.name);
        QCOMPARE(views->heatmap->gridRows, 32);
        QCOMPARE(views->heatmap->meanAbsError, direct.heatmap->meanAbsError);
        QCOMPARE(views->points.size(), direct.points.size());
        QCOMPARE(views->sampled, std::int64_t(500));
        const auto last = progress.last();
        QCOMPARE(last.at(0).toULongLong(), quint64(info.byteSize));
        QCOMPARE(last.at(1).toULongLong(), quint64(info.byteSize));
    }

    void keptTensorShowsNoError()
    {
        TensorViewJob job(&m_pool);
        QSignalSpy ready(&job, &TensorViewJob::resultReady);
        job.start(m_model, rowOf(*m_model, "layers.0.weight"), std::nullopt);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        const auto views = ready.first().at(2).value<TensorViewsPtr>();
        QCOMPARE(QString::fromStdString(views->spec), QStringLiteral("fp32"));
        for (const ScatterPoint& p : views->points)
            QCOMPARE(p.error, 0.0f);
    }

    void failureNamesTensor_data()
    {
        QTest::addColumn<QString>("tensor");
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("says");
        // 640 values per row are no whole number of q4_K's 256-value blocks.
        QTest::addRow("rows not whole blocks") << "layers.0.weight"
                                               << "q4_K"
                                               << "256";
        QTest::addRow("integer tensor") << "position_ids"
                                        << "int8"
                                        << "I64";
    }

    void failureNamesTensor()
    {
        QFETCH(QString, tensor);
        QFETCH(QString, format);
        QFETCH(QString, says);
        TensorViewJob job(&m_pool);
        QSignalSpy failed(&job, &TensorViewJob::failed);
        QSignalSpy ready(&job, &TensorViewJob::resultReady);
        const int row = rowOf(*m_model, tensor.toStdString());
        const quint64 id =
            job.start(m_model, row, QuantSpec{findFormat(format.toStdString()), Granularity{}});
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeoutMs);
        QCOMPARE(failed.first().at(0).toULongLong(), id);
        QCOMPARE(failed.first().at(1).toInt(), row);
        const QString message = failed.first().at(2).toString();
        QVERIFY2(message.startsWith(tensor) && message.contains(says), qPrintable(message));
        QCOMPARE(ready.count(), 0);
    }

    void newerRequestSupersedes()
    {
        TensorViewJob job(&m_pool);
        QSignalSpy ready(&job, &TensorViewJob::resultReady);
        QSignalSpy failed(&job, &TensorViewJob::failed);
        const quint64 first = job.start(m_model, rowOf(*m_model, "layers.0.weight"), int4Channel());
        const int row = rowOf(*m_model, "layers.2.weight");
        const quint64 second = job.start(m_model, row, int4Channel());
        QVERIFY(second != first);
        QCOMPARE(job.currentId(), second);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        settle(); // the first request has finished too, one way or the other
        QCOMPARE(ready.count(), 1);
        QCOMPARE(ready.first().at(0).toULongLong(), second);
        QCOMPARE(ready.first().at(1).toInt(), row);
        QCOMPARE(failed.count(), 0);
    }

    void cancelDeliversNothing()
    {
        TensorViewJob job(&m_pool);
        QSignalSpy ready(&job, &TensorViewJob::resultReady);
        QSignalSpy failed(&job, &TensorViewJob::failed);
        job.start(m_model, rowOf(*m_model, "layers.0.weight"), int4Channel());
        job.cancel();
        settle();
        QCOMPARE(ready.count(), 0);
        QCOMPARE(failed.count(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(!job.isRunning(), kTimeoutMs);
    }

    void refusesMissingTensor()
    {
        TensorViewJob job(&m_pool);
        QVERIFY_THROWS_EXCEPTION(Error, job.start(m_model, 99, int4Channel()));
    }
};

QTEST_GUILESS_MAIN(TestTensorViewJob)
#include "tst_tensorviewjob.moc"
