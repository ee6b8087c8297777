// The background allocation job: it delivers what the engine computes, caches the costs so a
// new budget only re-solves, cancels, reports errors, and places llama.cpp's mixes correctly.
#include "allocatejob.h"
#include "core/error.h"
#include "document.h"
#include "sessionio.h"
#include "modelfixture.h"
#include "plan/presets.h"

#include <QtTest>

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThreadPool>

using namespace qs;
using test::makeModel;

namespace {
constexpr int kTimeoutMs = 60000;

Plan kQuantBase()
{
    return Plan::uniform(Precision{"q8_0"});
}
} // namespace

class TestAllocateJob : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QThreadPool m_pool;
    std::shared_ptr<const Model> m_model; // 256-wide rows: every K-quant takes them

    AllocationTablePtr run(AllocateJob& job, const Plan& plan, const char* candidates,
                           bool* fromCache = nullptr)
    {
        QSignalSpy ready(&job, &AllocateJob::resultReady);
        QSignalSpy failed(&job, &AllocateJob::failed);
        const quint64 id = job.start(m_model, plan, alloc::parseCandidates(candidates), {});
        if (!QTest::qWaitFor([&] { return !ready.isEmpty() || !failed.isEmpty(); }, kTimeoutMs))
            return {};
        if (!failed.isEmpty()) qWarning() << failed.first().at(1).toString();
        if (ready.isEmpty() || ready.first().at(0).toULongLong() != id) return {};
        if (fromCache) *fromCache = ready.first().at(2).toBool();
        return ready.first().at(1).value<AllocationTablePtr>();
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_model = makeModel(m_dir.filePath(QStringLiteral("m.safetensors")), 4, 24, 512);
    }

    void equalsDirectEngineCall()
    {
        AllocateJob job(&m_pool);
        QSignalSpy progress(&job, &AllocateJob::progress);
        const auto t = run(job, kQuantBase(), alloc::kDefaultCandidates);
        QVERIFY(t);
        QCOMPARE(job.table(), t);

        const auto direct = alloc::computeCandidates(
            *m_model, kQuantBase(), alloc::parseCandidates(alloc::kDefaultCandidates), {},
            Control{});
        QCOMPARE(t->table.params, direct.params);
        QCOMPARE(t->table.tensors.size(), direct.tensors.size());
        for (std::size_t i = 0; i < direct.tensors.size(); ++i) {
            const auto& a = t->table.tensors[i];
            const auto& b = direct.tensors[i];
            QCOMPARE(a.tensor, b.tensor);
            QCOMPARE(a.options.size(), b.options.size());
            for (std::size_t k = 0; k < b.options.size(); ++k) {
                // Each pair is computed serially whatever the threads: bit-identical.
                QCOMPARE(a.options[k].bytes, b.options[k].bytes);
                QCOMPARE(a.options[k].distortion, b.options[k].distortion);
            }
        }
        const auto items = alloc::toItems(direct);
        const auto front = alloc::frontier(items);
        QCOMPARE(t->frontier.size(), front.size());
        QCOMPARE(t->frontier.back().bytes, front.back().bytes);

        const std::uint64_t budget = t->budgetFromBpw(5.0);
        const auto mine = t->solve(budget);
        const auto theirs = alloc::allocate(*m_model, direct, kQuantBase(), budget);
        QVERIFY(mine.solution.bytes <= budget);
        QCOMPARE(mine.solution.bytes, theirs.solution.bytes);
        QCOMPARE(mine.solution.distortion, theirs.solution.distortion);
        QCOMPARE(mine.plan.toJson(), theirs.plan.toJson());

        // Progress counts (tensor, candidate) evaluations and ends complete.
        QVERIFY(!progress.isEmpty());
        const auto last = progress.last();
        QCOMPARE(last.at(0).toULongLong(), last.at(1).toULongLong());
        QCOMPARE(last.at(1).toULongLong(), quint64(4 * 6)); // four matrices, six formats
    }

    void cacheHitDoesNotRecompute()
    {
        AllocateJob job(&m_pool);
        bool fromCache = true;
        const auto first = run(job, kQuantBase(), "q4_K,q8_0", &fromCache);
        QVERIFY(first);
        QVERIFY(!fromCache);
        QSignalSpy progress(&job, &AllocateJob::progress);
        const auto second = run(job, kQuantBase(), "q4_K,q8_0", &fromCache);
        QVERIFY(fromCache);
        QCOMPARE(second.get(), first.get()); // the very same table, not an equal one
        QVERIFY(progress.isEmpty());

        // A lock changes which tensors are free: different costs, a new computation.
        Plan locked = kQuantBase();
        locked.locked.insert("layers.0.weight");
        const auto third = run(job, locked, "q4_K,q8_0", &fromCache);
        QVERIFY(third);
        QVERIFY(!fromCache);
        QCOMPARE(job.cacheSize(), 2);
        // The locked tensor keeps the base plan's precision in the solution's plan.
        const auto a = third->solve(third->minBytes());
        const TensorInfo& t0 = *m_model->find("layers.0.weight");
        QCOMPARE(a.plan.resolve(t0)->format->name, std::string_view("q8_0"));
        QCOMPARE(a.plan.tensors.count("layers.0.weight"), std::size_t(0));

        job.clearCache();
        run(job, kQuantBase(), "q4_K,q8_0", &fromCache);
        QVERIFY(!fromCache);
    }

    void cancelDeliversNothing()
    {
        AllocateJob job(&m_pool);
        QSignalSpy ready(&job, &AllocateJob::resultReady);
        QSignalSpy failed(&job, &AllocateJob::failed);
        job.start(m_model, kQuantBase(), alloc::parseCandidates(alloc::kDefaultCandidates), {});
        job.cancel();
        m_pool.waitForDone();
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        QVERIFY(!job.isRunning());
        QVERIFY(ready.isEmpty());
        QVERIFY(failed.isEmpty());
        QVERIFY(!job.table());
        QCOMPARE(job.cacheSize(), 0); // a cancelled computation is not remembered

        // A superseded request reports nothing either; the newest one does.
        job.start(m_model, kQuantBase(), alloc::parseCandidates("q2_K,q8_0"), {});
        const quint64 newest =
            job.start(m_model, kQuantBase(), alloc::parseCandidates("q3_K,q8_0"), {});
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        QCOMPARE(ready.first().at(0).toULongLong(), newest);
        m_pool.waitForDone();
        QCoreApplication::processEvents();
        QCOMPARE(ready.count(), 1);
    }

    void failureIsReported()
    {
        AllocateJob job(&m_pool);
        QSignalSpy failed(&job, &AllocateJob::failed);
        QTemporaryDir dir;
        const auto narrow = makeModel(dir.filePath(QStringLiteral("n.safetensors")), 1, 8, 96);
        Plan plan;
        plan.tensors["layers.0.weight"] = Precision{"q4_K"}; // 96-wide rows cannot be q4_K
        job.start(narrow, plan, alloc::parseCandidates("int4@channel"), {});
        QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeoutMs);
        QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("n.safetensors")));
    }

    void mixesUseTheSameCosts()
    {
        AllocateJob job(&m_pool);
        const auto t = run(job, kQuantBase(), alloc::kDefaultCandidates);
        QVERIFY(t);
        QCOMPARE(t->mixes.size(), std::size_t(2));
        for (const auto& mix : t->mixes) {
            QVERIFY2(mix.available, mix.unavailable.c_str());
            // Rebuild the mix by hand: each tensor at the preset's format, from the table.
            const Plan preset = makePresetPlan(mix.id, m_model->tensors);
            std::uint64_t bytes = 0;
            double distortion = 0.0;
            for (const auto& e : t->table.tensors) {
                const auto want = preset.precisionFor(m_model->tensors[e.tensor]);
                QVERIFY(want);
                for (const auto& o : e.options)
                    if (t->table.candidates[std::size_t(o.candidate)].label == want->format) {
                        bytes += o.bytes;
                        distortion += o.distortion;
                    }
            }
            QCOMPARE(mix.bytes, bytes);
            QCOMPARE(mix.distortion, distortion);
            // The optimum at the mix's size is never worse than the mix.
            QVERIFY(mix.optimalDistortion <= mix.distortion);
        }

        // An integer default lends its granularity to every candidate it resolves; a K-quant
        // ignores it, so the mix still matches.
        const auto overInt = run(job, Plan::uniform("int8", {Granularity::Kind::Channel, 0}),
                                 alloc::kDefaultCandidates);
        QVERIFY(overInt);
        QVERIFY(overInt->mixes.front().available);
        QCOMPARE(overInt->mixes.front().bytes, t->mixes.front().bytes);

        const auto without = run(job, kQuantBase(), "q5_K,q6_K");
        QVERIFY(without);
        QVERIFY(!without->mixes.front().available);
        QVERIFY(QString::fromStdString(without->mixes.front().unavailable)
                    .contains(QStringLiteral("q4_K is not a candidate")));
    }

    // Integer candidates add their uniform plans as points: every free tensor in that format.
    void uniformIntegerMixes()
    {
        AllocateJob job(&m_pool);
        const auto t = run(job, Plan{}, "int4@channel,q8_0,int8@channel");
        QVERIFY(t);
        QCOMPARE(t->mixes.size(), std::size_t(4)); // the two llama.cpp mixes, then int4, int8
        for (int k = 0; k < 2; ++k) {
            const AllocationMix& mix = t->mixes[std::size_t(2 + k)];
            const int candidate = k == 0 ? 0 : 2;
            QCOMPARE(mix.name, "all " + t->table.candidates[std::size_t(candidate)].label);
            QVERIFY2(mix.available, mix.unavailable.c_str());
            std::uint64_t bytes = 0;
            double distortion = 0.0;
            for (const auto& e : t->table.tensors)
                for (const auto& o : e.options)
                    if (o.candidate == candidate) {
                        bytes += o.bytes;
                        distortion += o.distortion;
                    }
            QCOMPARE(mix.bytes, bytes);
            QCOMPARE(mix.distortion, distortion);
            QVERIFY(mix.optimalDistortion <= mix.distortion);
        }
    }

    // Costs kept by the document go into the session file and come back with the plan they
    // were computed for; given to the job, they are reused without computing anything.
    void costsThroughASession()
    {
        Document doc;
        const QString path = m_dir.filePath(QStringLiteral("m.safetensors"));
        doc.setModel(m_model, path);
        const Plan base = doc.planAt(0);
        AllocateJob job(&m_pool);
        const char* candidates = "int4@channel,int8@channel";
        const auto t = run(job, base, candidates);
        QVERIFY(t);
        const std::string key = alloc::Measure{}.key();
        QCOMPARE(t->measureKey, key);
        const std::vector<std::string> labels{"int4@channel", "int8@channel"};
        doc.rememberCostTable(alloc::costRecord(*m_model, t->table, key, base.toJson()));
        doc.rememberCostTable(alloc::costRecord(*m_model, t->table, key, base.toJson()));
        QCOMPARE(doc.costTables().size(), std::size_t(1)); // the same request replaces
        // A table for a base plan the document no longer has is not saved.
        QVERIFY(base.toJson() != kQuantBase().toJson());
        doc.rememberCostTable(alloc::costRecord(*m_model, t->table, key, kQuantBase().toJson()));

        const QString file = m_dir.filePath(QStringLiteral("s.qscope"));
        saveSession(file.toStdString(), sessionOf(doc, "test"));
        const Session s = loadSession(file.toStdString());
        QCOMPARE(s.costTables.size(), std::size_t(1));
        auto plans = restoredPlans(s, *m_model, file.toStdString(), true);
        QCOMPARE(plans.front().costTables.size(), std::size_t(1));
        QVERIFY(restoredPlans(s, *m_model, file.toStdString(), false).front().costTables.empty());
        Document reopened;
        reopened.restore(m_model, path, std::move(plans), 0);
        const auto* stored = reopened.findCostTable(key, labels, reopened.planAt(0).toJson());
        QVERIFY(stored);

        AllocateJob fresh(&m_pool); // an empty in-memory cache
        QSignalSpy ready(&fresh, &AllocateJob::resultReady);
        fresh.start(m_model, reopened.planAt(0), alloc::parseCandidates(candidates), {},
                    std::make_shared<const alloc::CostTableRecord>(*stored));
        QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, kTimeoutMs);
        const auto again = ready.first().at(1).value<AllocationTablePtr>();
        QCOMPARE(again->table.reused, stored->rows.size());
        QCOMPARE(again->frontier.size(), t->frontier.size());
        for (std::size_t i = 0; i < t->frontier.size(); ++i) {
            QCOMPARE(again->frontier[i].bytes, t->frontier[i].bytes);
            QCOMPARE(again->frontier[i].distortion, t->frontier[i].distortion);
        }
    }
};

QTEST_GUILESS_MAIN(TestAllocateJob)
#include "tst_allocatejob.moc"
