// Cancelling any job at any moment leaves a consistent state. Every job kind is cancelled right
// after start, twice, from inside its k-th progress or result signal, at fractions of the time
// an uncancelled run takes, once its work is done but its signals are still queued, from the
// progress signal that follows, and after it finished. Then its signals, its files, the
// document and a second, uncancelled run of the same job are checked against results computed
// by direct engine calls (or, for the evaluation, an uncancelled run).
#include "cancelprobes.h"

#include <QtTest>

using namespace cancelprobe;


class TestCancelAnywhere : public QObject
{
    Q_OBJECT
private:
    Fixture f;

private slots:
    void initTestCase()
    {
        QVERIFY(f.dir.isValid());
        f.model = makeModel(f.dir.filePath(QStringLiteral("m.safetensors")), kLayers, kRows, kCols);
        const Model& m = *f.model;
        for (std::size_t i = 0; i < m.tensors.size(); ++i) {
            const int index = static_cast<int>(i);
            const auto& t = m.tensors[i];
            f.uint4Rows.push_back(
                digestOf(computeTensorResult(m, index, uint4Plan().resolve(t), {})));
            f.int8Rows.push_back(
                digestOf(computeTensorResult(m, index, int8Plan().resolve(t), {})));
        }
        const auto spec = uint4Plan().resolve(m.tensors[0]);
        TensorQuantizer qz(m.data(m.tensors[0]), m.tensors[0], *spec);
        f.views = digestOf(computeTensorViews(qz, m.tensors[0], {}));

        QVERIFY(QDir().mkpath(f.dir.filePath(QStringLiteral("reference"))));
        for (const auto& [format, e] : kExports) {
            const Plan plan = Plan::uniform(e.second, Granularity{});
            plan.compileRules();
            std::vector<ExportTensor> tensors;
            for (const auto& t : m.tensors)
                tensors.push_back({&t, plan.resolve(t)});
            const QString out = f.dir.filePath(QStringLiteral("reference/") + e.first);
            exportModel(out.toStdString(), m, tensors);
            f.exports[format] = exportDigest(out);
            QVERIFY(!f.exports[format].isEmpty());
        }

        f.small =
            makeModel(f.dir.filePath(QStringLiteral("s.safetensors")), kLayers, kSmallRows, kCols);
        const Model& s = *f.small;
        const Plan base = Plan::uniform(Precision{"q8_0"});
        const auto table = alloc::computeCandidates(
            s, base, alloc::parseCandidates(alloc::kDefaultCandidates), {}, Control{});
        const auto items = alloc::toItems(table);
        f.allocation =
            digestOf(table, alloc::frontier(items), evaluateMixes(s, base, table, items));

        // The evaluation's reference is an uncancelled run, which also loads the dataset.
        f.evaluate = std::make_unique<EvaluateJob>();
        QSignalSpy ready(f.evaluate.get(), &EvaluateJob::resultReady);
        f.evaluate->start(evaluateRequest());
        QVERIFY(ready.wait(kTimeoutMs));
        f.evaluation = digestOf(*ready.first().at(1).value<EvaluateResultsPtr>());
    }

    void cancelAnywhere_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<bool>("existing"); // exports: over a file already there
        QTest::addColumn<int>("moment");
        QTest::addColumn<int>("k"); // the k-th signal, a delay in ms, or a percentage of a run

        const QStringList kinds = {
            QStringLiteral("quantize"),        QStringLiteral("document open"),
            QStringLiteral("document edit"),   QStringLiteral("tensor view"),
            QStringLiteral("export gguf"),     QStringLiteral("export safetensors"),
            QStringLiteral("export hdf5"),     QStringLiteral("allocate"),
            QStringLiteral("allocate cached"), QStringLiteral("evaluate")};
        const int tensors = kLayers + 2;
        for (const QString& kind : kinds) {
            const bool isExport = kind.startsWith(QLatin1String("export"));
            const bool isDocument = kind.startsWith(QLatin1String("document"));
            for (bool existing : {false, true}) {
                if (existing && !isExport) continue;
                const QString name = existing ? kind + QStringLiteral(" over a file") : kind;
                auto add = [&](Moment m, int k, const QString& when) {
                    QTest::addRow("%s, %s", qPrintable(name), qPrintable(when))
                        << kind << existing << static_cast<int>(m) << k;
                };
                add(Moment::Immediately, 0, QStringLiteral("immediately"));
                add(Moment::Twice, 0, QStringLiteral("twice"));
                for (int k : {1, 2, 3})
                    add(Moment::AfterProgress, k, QStringLiteral("in progress signal %1").arg(k));
                // The single-result jobs deliver in their result: a cancel there changes nothing.
                if (kind == QLatin1String("quantize") || isDocument)
                    for (int k : {1, 2, tensors / 2, tensors - 1})
                        add(Moment::AfterResult, k, QStringLiteral("in result %1").arg(k));
                else if (!isExport)
                    add(Moment::AfterResult, 1, QStringLiteral("in the result"));
                add(Moment::AfterDelay, 0, QStringLiteral("after 0 ms"));
                // A cached allocation is delivered at once, and evaluations are slow: fewer.
                std::vector<int> percents{5, 15, 30, 50, 70, 90};
                if (kind == QLatin1String("allocate cached")) percents.clear();
                if (kind == QLatin1String("evaluate")) percents = {15, 50, 90};
                for (int percent : percents)
                    add(Moment::AfterFraction, percent,
                        QStringLiteral("after %1% of a run").arg(percent));
                if (!isDocument) { // the document's pool is its own: no waiting for it here
                    add(Moment::WorkDone, 0, QStringLiteral("work done, signals queued"));
                    add(Moment::WorkDoneProgress, 0,
                        QStringLiteral("work done, in the next progress signal"));
                }
                add(Moment::Finished, 0, QStringLiteral("after it finished"));
            }
        }
    }

    // How long an uncancelled run of this kind takes here (measured once): the timed rows
    // cancel at fractions of it, whatever the machine's speed.
    qint64 runDuration(const QString& kind, bool existing)
    {
        const QString key = kind + (existing ? QStringLiteral(" over a file") : QString());
        if (const auto it = f.runNs.find(key); it != f.runNs.end()) return it->second;
        const std::unique_ptr<Probe> p = makeProbe(f, kind, existing);
        p->prepare();
        QElapsedTimer timer;
        qint64 ns = -1;
        p->onEvent = [&](Event e, int) {
            if (isEnd(e)) ns = timer.nsecsElapsed();
        };
        timer.start();
        p->start();
        [&] { QVERIFY(waitFor([&] { return p->ended(); })); }();
        drain(*p);
        qInfo("%s: %.1f ms", qPrintable(key), static_cast<double>(ns) / 1e6);
        return f.runNs[key] = std::max<qint64>(ns, 0);
    }

    void cancelAnywhere()
    {
        QFETCH(QString, kind);
        QFETCH(bool, existing);
        QFETCH(int, moment);
        QFETCH(int, k);
        // Measured first: the evaluation's probes share one job, and a probe hears all of it.
        const qint64 runNs =
            static_cast<Moment>(moment) == Moment::AfterFraction ? runDuration(kind, existing) : 0;
        if (QTest::currentTestFailed()) return;
        const std::unique_ptr<Probe> p = makeProbe(f, kind, existing);
        QVERIFY(p);
        p->prepare();
        if (QTest::currentTestFailed()) return;

        auto endedOrCancelled = [&] { return p->cancelled() || p->ended(); };
        switch (static_cast<Moment>(moment)) {
        case Moment::Immediately:
            p->start();
            p->cancel();
            break;
        case Moment::Twice:
            p->start();
            p->cancel();
            p->cancel();
            break;
        case Moment::AfterProgress:
        case Moment::AfterResult: {
            const Event at = static_cast<Moment>(moment) == Moment::AfterProgress ? Event::Progress
                                                                                  : Event::Result;
            p->onEvent = [&p, at, k](Event e, int n) {
                if (e == at && n == k && !p->cancelled()) p->cancel();
            };
            p->start();
            QVERIFY(waitFor(endedOrCancelled));
            // A run too short for k of them ended first: a cancel now must change nothing.
            if (!p->cancelled()) p->cancel();
            break;
        }
        case Moment::AfterDelay:
        case Moment::AfterFraction: {
            const qint64 ms =
                static_cast<Moment>(moment) == Moment::AfterDelay ? k : runNs * k / 100 / 1000000;
            p->start();
            QTimer::singleShot(ms, Qt::PreciseTimer, p.get(), [&p] { p->cancel(); });
            QVERIFY(waitFor([&] { return p->cancelled(); }));
            break;
        }
        case Moment::WorkDone:
            // Blocks this thread until the work returned: its results and end are still queued.
            p->start();
            QVERIFY(p->pool()->waitForDone(kTimeoutMs));
            p->cancel();
            break;
        case Moment::WorkDoneProgress:
            p->start();
            QVERIFY(p->pool()->waitForDone(kTimeoutMs));
            p->onEvent = [&p](Event e, int) {
                if (e == Event::Progress && !p->cancelled()) p->cancel();
            };
            QVERIFY(waitFor(endedOrCancelled));
            if (!p->cancelled()) p->cancel();
            break;
        case Moment::Finished:
            p->start();
            QVERIFY(waitFor([&] { return p->ended(); }));
            p->cancel();
            break;
        }
        QVERIFY2(waitFor([&] { return p->idle(); }, kTimeoutMs), "the job never stopped");
        drain(*p);
        checkLog(*p);
        if (QTest::currentTestFailed()) return;
        p->checkCancelled();
        if (QTest::currentTestFailed()) return;

        // The same job again, to completion: what an uncancelled run gives.
        p->onEvent = {};
        p->log.clear();
        p->restart();
        QVERIFY(waitFor([&] { return p->idle() && (p->expectedEnds() == 0 || p->ended()); }));
        drain(*p);
        checkLog(*p);
        if (QTest::currentTestFailed()) return;
        p->checkCompleted();
    }
};

QTEST_GUILESS_MAIN(TestCancelAnywhere)
#include "tst_cancelanywhere.moc"
