// The Qt Core layer: the pool executor, background quantize jobs and the document.
#include "core/error.h"
#include "document.h"
#include "modelfixture.h"
#include "qtexecutor.h"
#include "quantizejob.h"

#include <QtTest>

#include <QElapsedTimer>
#include <QTemporaryDir>

#include <random>

using namespace qs;

namespace {

using test::makeModel;

std::vector<TensorTask> allTasks(const Model& m, const Plan& plan)
{
    std::vector<TensorTask> tasks;
    for (std::size_t i = 0; i < m.tensors.size(); ++i)
        tasks.push_back({static_cast<int>(i), plan.resolve(m.tensors[i]), 1});
    return tasks;
}

} // namespace

class TestJobs : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

private slots:
    void initTestCase() { qRegisterMetaType<TensorResultPtr>(); }

    void executorRunsEveryItemOnce()
    {
        QThreadPool pool;
        pool.setMaxThreadCount(3);
        const QtExecutor ex(&pool);
        std::vector<std::atomic<int>> hits(1000);
        ex.parallelFor(1000, [&](std::int64_t i) { ++hits[static_cast<std::size_t>(i)]; });
        for (auto& h : hits)
            QCOMPARE(h.load(), 1);
        // An exception in one item reaches the caller instead of crashing a worker.
        QVERIFY_THROWS_EXCEPTION(Error, ex.parallelFor(50, [](std::int64_t i) {
            if (i == 17) throw Error("item 17 failed");
        }));
    }

    void jobStreamsResultsAndProgress()
    {
        const auto model =
            makeModel(m_dir.filePath(QStringLiteral("small.safetensors")), 6, 64, 128);
        QThreadPool pool;
        QuantizeJob job(&pool);
        QSignalSpy results(&job, &QuantizeJob::tensorFinished);
        QSignalSpy progress(&job, &QuantizeJob::progress);
        QSignalSpy finished(&job, &QuantizeJob::finished);
        job.start(model, allTasks(*model, Plan::uniform(
                                              "int8", Granularity{Granularity::Kind::Channel, 0})));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 30000);
        QCOMPARE(finished.at(0).at(0).toBool(), false);
        QCOMPARE(results.size(), 8);
        for (const auto& r : results) {
            const auto res = r.at(0).value<TensorResultPtr>();
            QVERIFY(res);
            if (res->name == "position_ids")
                QVERIFY(!res->analysis); // not a float tensor
            else
                QVERIFY(res->analysis);
            if (res->name.find(".weight") != std::string::npos) {
                QVERIFY(res->spec.has_value());
                QCOMPARE(res->bytesAfter, std::uint64_t(64 * 128 + 64 * 4));
            }
        }
        QVERIFY(!progress.isEmpty());
        const auto last = progress.last();
        QCOMPARE(last.at(0).toInt(), 8);
        QCOMPARE(last.at(1).toInt(), 8);
        QCOMPARE(last.at(2).toULongLong(), last.at(3).toULongLong()); // every byte accounted for
    }

    void cancelTakesEffectQuickly()
    {
        // Big enough to run for seconds: 12 tensors of 4M values.
        const auto model =
            makeModel(m_dir.filePath(QStringLiteral("big.safetensors")), 12, 2048, 2048);
        QThreadPool pool;
        QuantizeJob job(&pool);
        QSignalSpy finished(&job, &QuantizeJob::finished);
        QSignalSpy results(&job, &QuantizeJob::tensorFinished);
        QElapsedTimer t;
        qint64 latency = -1;
        // Cancel the moment the first tensor is delivered: the job is surely mid-work then.
        connect(&job, &QuantizeJob::tensorFinished, this, [&] {
            if (t.isValid()) return;
            t.start();
            job.cancel();
        });
        connect(&job, &QuantizeJob::finished, this, [&] { latency = t.elapsed(); });
        job.start(model, allTasks(*model, Plan::uniform(
                                              "uint4", Granularity{Granularity::Kind::Group, 32})));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 60000);
        // Measured, not asserted against a stopwatch (machines are noisy): report it.
        qInfo("cancel to finished: %lld ms", static_cast<long long>(latency));
        QCOMPARE(finished.at(0).at(0).toBool(), true);
        QVERIFY2(results.size() <= 3, "work went on after the cancel");
    }

    void documentRecomputesOnlyTheChangedRow()
    {
        const auto model = makeModel(m_dir.filePath(QStringLiteral("doc.safetensors")), 4, 32, 64);
        Document doc;
        QSignalSpy changed(&doc, &Document::resultChanged);
        QSignalSpy busy(&doc, &Document::busyChanged);
        doc.setModel(model, QStringLiteral("doc.safetensors"));
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy(), 30000);
        QCOMPARE(changed.size(), doc.tensorCount());
        for (int row = 0; row < doc.tensorCount(); ++row)
            QVERIFY(doc.result(row));
        const auto before = doc.result(2);
        QCOMPARE(before->formatName(), QStringLiteral("int8"));

        changed.clear();
        doc.setPrecision(2, Precision{"int4", Granularity{Granularity::Kind::Group, 16}});
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy(), 30000);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(0).toInt(), 2);
        const auto after = doc.result(2);
        QCOMPARE(after->formatName(), QStringLiteral("int4"));
        QCOMPARE(after->granularityName(), QStringLiteral("group:16"));
        QVERIFY(*after->analysis->sums.sqnrDb() < *before->analysis->sums.sqnrDb());
        QVERIFY(doc.result(1) == doc.result(1)); // untouched rows keep their result objects
        QCOMPARE(doc.plan().tensors.count("layers.2.weight"), std::size_t(1));

        // Keeping a row restores its stored size.
        doc.setPrecision(2, Precision{"keep", std::nullopt});
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy() && !doc.result(2)->spec, 30000);
        QCOMPARE(doc.result(2)->bytesAfter, doc.tensor(2).byteSize);
        QVERIFY(!doc.precision(2).has_value());
    }

    void staleResultsAreDropped()
    {
        const auto model =
            makeModel(m_dir.filePath(QStringLiteral("stale.safetensors")), 3, 512, 512);
        Document doc;
        doc.setModel(model, QStringLiteral("stale.safetensors"));
        // Change the same row twice at once: only the latest choice may land.
        doc.setPrecision(0, Precision{"fp16", std::nullopt});
        doc.setPrecision(0, Precision{"uint4", Granularity{Granularity::Kind::Channel, 0}});
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy(), 30000);
        QCOMPARE(doc.result(0)->formatName(), QStringLiteral("uint4"));
        QCOMPARE(doc.totalBytesAfter() < doc.totalBytesBefore(), true);
    }

    void oneFailingTensorDoesNotStopTheOthers()
    {
        // q4_K needs rows of whole 256-value blocks: the 96-wide tensors cannot take it.
        std::vector<SafetensorsWriter::Entry> entries = {{"a.weight", DType::F32, {4, 96}},
                                                         {"b.weight", DType::F32, {4, 256}},
                                                         {"c.weight", DType::F32, {2, 96}}};
        const QString path = m_dir.filePath(QStringLiteral("rows.safetensors"));
        {
            SafetensorsWriter w(path.toStdString(), entries);
            const std::vector<float> v(4 * 256, 0.25f);
            w.write(v.data(), 4 * 96 * 4);
            w.write(v.data(), 4 * 256 * 4);
            w.write(v.data(), 2 * 96 * 4);
            w.commit();
        }
        Document doc;
        QSignalSpy failed(&doc, &Document::jobFailed);
        doc.setModel(openModel(path.toStdString()), path);
        doc.setDefaultPrecision(Precision{"q4_K", std::nullopt});
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy(), 30000);
        QCOMPARE(doc.result(0)->error.empty(), false);
        QVERIFY(
            QString::fromStdString(doc.result(0)->error).contains(QStringLiteral("row length 96")));
        QVERIFY(doc.result(1)->error.empty());
        QVERIFY(doc.result(1)->analysis.has_value()); // computed although a row before it failed
        QCOMPARE(doc.result(1)->bytesAfter, std::uint64_t(4 * 144));
        QCOMPARE(doc.result(2)->error.empty(), false);
        QCOMPARE(failed.size(), 1);
        QVERIFY(failed.at(0).at(0).toString().startsWith(
            QStringLiteral("2 tensors could not be quantized")));
    }

    void openReportsErrors()
    {
        Document doc;
        QSignalSpy failed(&doc, &Document::openFailed);
        QSignalSpy opened(&doc, &Document::modelOpened);
        const QString bad = m_dir.filePath(QStringLiteral("bad.safetensors"));
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("\x05\x00\x00\x00\x00\x00\x00\x00[]]]]", 13);
        f.close();
        doc.open(bad);
        QTRY_COMPARE_WITH_TIMEOUT(failed.size(), 1, 10000);
        QVERIFY(failed.at(0).at(0).toString().contains(bad));
        QCOMPARE(opened.size(), 0);
        doc.open(QStringLiteral(QS_EXAMPLE_MODEL));
        QTRY_COMPARE_WITH_TIMEOUT(opened.size(), 1, 10000);
        QVERIFY(doc.tensorCount() > 10);
        QTRY_VERIFY_WITH_TIMEOUT(!doc.isBusy(), 30000);
    }
};

QTEST_GUILESS_MAIN(TestJobs)
#include "tst_jobs.moc"
