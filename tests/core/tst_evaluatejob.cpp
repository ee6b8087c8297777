// EvaluateJob: the rows it evaluates, the model it falls back to, its failures and a newer
// request superseding an older one; confusion counts on hand-made predictions.
#include "evaluatejob.h"

#include <QtTest>

#include <numeric>

using namespace qs;

namespace {
constexpr int kTimeoutMs = 300000; // a bound for slow sanitizer builds, never a target
const QString kModel = QStringLiteral(QS_FASHION_MODEL);

EvaluateRequest smallRequest(int images)
{
    EvaluateRequest r;
    r.modelPath = kModel;
    r.images = images;
    r.calibrationImages = 64;
    r.plans.push_back({QStringLiteral("A"), Plan::uniform(Precision("int8"))});
    r.modes = {nn::ActivationMode::None, nn::ActivationMode::Static};
    return r;
}
} // namespace

class TestEvaluateJob : public QObject
{
    Q_OBJECT
private slots:
    void confusionCounts_data()
    {
        QTest::addColumn<bool>("isFloat");
        QTest::addColumn<int>("cell"); // where image 2 lands: truth 7 x predicted
        QTest::addRow("float row reads the float predictions") << true << 7 * 10 + 7;
        QTest::addRow("quantized row reads its own") << false << 7 * 10 + 5;
    }
    void confusionCounts()
    {
        QFETCH(bool, isFloat);
        QFETCH(int, cell);
        auto test = std::make_shared<data::ImageSet>();
        test->count = 3;
        test->labels = {0, 9, 7};
        EvaluateResults results;
        results.test = test;
        EvaluateRow row;
        row.isFloat = isFloat;
        row.result.referencePredictions = {0, 9, 7};
        row.result.predictions = {0, 9, 5};
        const std::vector<int> counts = qs::confusionCounts(results, row);
        QCOMPARE(counts[0], 1);
        QCOMPARE(counts[99], 1);
        QCOMPARE(counts[static_cast<std::size_t>(cell)], 1);
        QCOMPARE(std::accumulate(counts.begin(), counts.end(), 0), 3);
    }

    void rowsAndPredictions()
    {
        EvaluateJob job;
        QSignalSpy ready(&job, &EvaluateJob::resultReady);
        QSignalSpy progress(&job, &EvaluateJob::progress);
        const quint64 id = job.start(smallRequest(40));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        QCOMPARE(ready[0][0].value<quint64>(), id);
        const auto r = ready[0][1].value<EvaluateResultsPtr>();
        QCOMPARE(r->rows.size(), std::size_t{3}); // FP32, A weight-only, A static
        QVERIFY(r->rows[0].isFloat);
        QCOMPARE(r->rows[2].mode, nn::ActivationMode::Static);
        QCOMPARE(r->rows[1].label, QStringLiteral("A · weight-only"));
        for (const EvaluateRow& row : r->rows) {
            // The predictions are the ones the accuracy counts.
            QCOMPARE(row.result.predictions.size(), std::size_t{40});
            int correct = 0;
            for (std::size_t i = 0; i < 40; ++i)
                correct += row.result.predictions[i] == r->test->labels[i];
            QCOMPARE(correct / 40.0, row.result.accuracy);
        }
        QVERIFY(!progress.isEmpty());
        QCOMPARE(progress.last()[0].toInt(), 3 * 40); // every image of every row
        QVERIFY(!job.isRunning());
    }

    // At int2 the fine-tuned row wins back accuracy that post-training quantization loses.
    void qatRowRecovers()
    {
        EvaluateJob job;
        QSignalSpy ready(&job, &EvaluateJob::resultReady);
        EvaluateRequest r = smallRequest(300);
        r.plans = {{QStringLiteral("A"), Plan::uniform(Precision(
                                             "int2", Granularity{Granularity::Kind::Channel, 0}))}};
        r.modes = {nn::ActivationMode::None};
        r.qat = true;
        r.qatImages = 4000;
        job.start(r);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        const auto results = ready[0][1].value<EvaluateResultsPtr>();
        QCOMPARE(results->rows.size(), std::size_t{3}); // FP32, A weight-only, A QAT
        const EvaluateRow& ptq = results->rows[1];
        const EvaluateRow& qat = results->rows[2];
        QVERIFY(qat.qat && !ptq.qat);
        QCOMPARE(qat.label, QStringLiteral("A · QAT"));
        qInfo("int2 on 300 images: PTQ %.3f, QAT %.3f, FP32 %.3f", ptq.result.accuracy,
              qat.result.accuracy, results->rows[0].result.accuracy);
        QVERIFY(qat.result.accuracy > ptq.result.accuracy);
        // Compared with the FP32 model's predictions, not with its own fine-tuned float weights.
        QCOMPARE(qat.result.referencePredictions, results->rows[0].result.predictions);
        std::size_t same = 0;
        for (std::size_t i = 0; i < qat.result.predictions.size(); ++i)
            same += qat.result.predictions[i] == results->rows[0].result.predictions[i];
        QCOMPARE(qat.result.agreement, double(same) / 300.0);
    }

    void fallsBackFromAModelItCannotRun()
    {
        EvaluateJob job;
        QSignalSpy ready(&job, &EvaluateJob::resultReady);
        EvaluateRequest r = smallRequest(20);
        r.modelPath = QStringLiteral(QS_EXAMPLE_MODEL); // safetensors: no layers to run
        r.fallbackModelPath = kModel;
        job.start(r);
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        const auto results = ready[0][1].value<EvaluateResultsPtr>();
        QCOMPARE(results->modelPath, kModel);
        QVERIFY(!results->fallbackReason.isEmpty());
    }

    void reportsAMissingDataset()
    {
        EvaluateJob job;
        QSignalSpy failed(&job, &EvaluateJob::failed);
        EvaluateRequest r = smallRequest(20);
        r.datasetDirectory = QStringLiteral("/nonexistent/fashion");
        job.start(r);
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeoutMs);
        QVERIFY(!failed[0][1].toString().isEmpty());
        QVERIFY(!job.isRunning());
    }

    void newerRequestSupersedes()
    {
        EvaluateJob job;
        QSignalSpy ready(&job, &EvaluateJob::resultReady);
        job.start(smallRequest(3000));
        const quint64 second = job.start(smallRequest(30));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        QCOMPARE(ready[0][0].value<quint64>(), second);
        QCOMPARE(ready[0][1].value<EvaluateResultsPtr>()->test->count, 30);
    }
};

QTEST_MAIN(TestEvaluateJob)
#include "tst_evaluatejob.moc"
