// One Probe per job kind: how it starts, cancels and is checked (see cancelprobe.h).
#pragma once

#include "cancelprobe.h"

namespace cancelprobe {

class QuantizeProbe : public Probe
{
public:
    explicit QuantizeProbe(Fixture& f) : Probe(f), job(&f.pool)
    {
        connect(&job, &QuantizeJob::tensorFinished, this, [this](const TensorResultPtr& r) {
            duplicate = duplicate || got.count(r->index) > 0;
            got[r->index] = digestOf(*r);
            record(Event::Result);
        });
        connect(&job, &QuantizeJob::progress, this, [this] { record(Event::Progress); });
        connect(&job, &QuantizeJob::finished, this,
                [this](bool c) { record(c ? Event::Cancelled : Event::Done); });
        connect(&job, &QuantizeJob::failed, this, [this] { record(Event::Failed); });
    }
    void start() override
    {
        got.clear();
        job.start(f.model, tasksOf(*f.model, uint4Plan()));
    }
    void cancelJob() override { job.cancel(); }
    bool idle() const override { return !job.isRunning(); }
    int expectedEnds() const override { return 1; }
    void checkCancelled() override
    {
        checkDelivered();
        // Reporting a complete run means every tensor was delivered.
        if (count(Event::Done)) QCOMPARE(got.size(), f.uint4Rows.size());
    }
    void checkCompleted() override
    {
        checkDelivered();
        QCOMPARE(got.size(), f.uint4Rows.size());
    }

private:
    void checkDelivered() // whatever arrived is whole: equal to the engine's own result
    {
        QVERIFY(!duplicate);
        for (const auto& [index, digest] : got)
            QCOMPARE(digest, f.uint4Rows[static_cast<std::size_t>(index)]);
    }
    QuantizeJob job;
    std::map<int, QByteArray> got;
    bool duplicate = false;
};

// The document quantizing a newly set model (edit false: its rows start empty) or recomputing
// after a plan edit (edit true: its rows start with the int8 results).
class DocumentProbe : public Probe
{
public:
    DocumentProbe(Fixture& f, bool edit) : Probe(f), edit(edit)
    {
        connect(&doc, &Document::resultChanged, this, [this](int row) {
            changed.insert(row);
            record(Event::Result);
        });
        connect(&doc, &Document::progress, this, [this] { record(Event::Progress); });
        connect(&doc, &Document::jobFailed, this, [this] { record(Event::Failed); });
        connect(&doc, &Document::busyChanged, this, [this](bool busy) {
            if (busy)
                ++busyRuns;
            else
                record(Event::Done);
        });
    }
    void prepare() override
    {
        if (!edit) return;
        doc.setModel(f.model, QStringLiteral("m.safetensors"));
        QVERIFY(waitFor([&] { return !doc.isBusy(); }));
        for (int row = 0; row < doc.tensorCount(); ++row) {
            QVERIFY(doc.result(row));
            QCOMPARE(digestOf(*doc.result(row)), f.int8Rows[static_cast<std::size_t>(row)]);
            before.push_back(doc.result(row));
        }
        log.clear();
        busyRuns = 0;
    }
    void start() override
    {
        changed.clear();
        busyRuns = 0;
        if (edit)
            doc.setDefaultPrecision(Precision{"uint4", Granularity{Granularity::Kind::Group, 32}});
        else
            doc.setModel(f.model, QStringLiteral("m.safetensors"));
    }
    void restart() override
    {
        changed.clear();
        busyRuns = 0;
        doc.requantizeAll();
    }
    void cancelJob() override { doc.cancel(); }
    bool idle() const override { return !doc.isBusy(); }
    QThreadPool* pool() const override { return nullptr; }
    bool ended() const override { return count(Event::Done) > 0; }
    int expectedEnds() const override { return busyRuns; }

    void checkCancelled() override
    {
        QCOMPARE(busyRuns, 1);
        checkPlan();
        const auto& want = edit ? f.uint4Rows : f.int8Rows;
        for (int row = 0; row < doc.tensorCount(); ++row) {
            const TensorResultPtr r = doc.result(row);
            // Each row keeps what it showed (nothing, or its int8 result) or shows a whole new
            // result, announced to the views: never a partial or a stray one.
            const TensorResultPtr old = edit ? before[static_cast<std::size_t>(row)] : nullptr;
            if (r == old) continue;
            QVERIFY(r);
            QCOMPARE(digestOf(*r), want[static_cast<std::size_t>(row)]);
            QVERIFY2(changed.count(row), "a result changed without resultChanged");
        }
    }
    void checkCompleted() override
    {
        checkPlan();
        const auto& want = edit ? f.uint4Rows : f.int8Rows;
        for (int row = 0; row < doc.tensorCount(); ++row) {
            QVERIFY(doc.result(row));
            QCOMPARE(digestOf(*doc.result(row)), want[static_cast<std::size_t>(row)]);
        }
    }

private:
    void checkPlan() // the edit is one whole undo step; a cancel neither undoes nor splits it
    {
        const Plan want = edit ? uint4Plan() : int8Plan();
        QCOMPARE(doc.undoStack()->count(), edit ? 1 : 0);
        QCOMPARE(doc.tensorCount(), static_cast<int>(f.model->tensors.size()));
        for (int row = 0; row < doc.tensorCount(); ++row)
            QVERIFY(sameSpec(doc.plan().resolve(doc.tensor(row)), want.resolve(doc.tensor(row))));
    }
    bool edit;
    Document doc;
    std::vector<TensorResultPtr> before;
    std::set<int> changed;
    int busyRuns = 0;
};

class TensorViewProbe : public Probe
{
public:
    explicit TensorViewProbe(Fixture& f) : Probe(f), job(&f.pool)
    {
        connect(&job, &TensorViewJob::resultReady, this,
                [this](quint64 id, int, const TensorViewsPtr& v) {
                    gotId = id;
                    got = digestOf(*v);
                    record(Event::Done);
                });
        connect(&job, &TensorViewJob::progress, this, [this] { record(Event::Progress); });
        connect(&job, &TensorViewJob::failed, this, [this] { record(Event::Failed); });
    }
    void start() override
    {
        got.clear();
        id = job.start(f.model, 0, uint4Plan().resolve(f.model->tensors[0]));
    }
    void cancelJob() override { job.cancel(); }
    bool idle() const override { return !job.isRunning(); }
    int expectedEnds() const override { return -1; }
    void checkCancelled() override
    {
        if (count(Event::Done)) checkCompleted();
    }
    void checkCompleted() override
    {
        QCOMPARE(gotId, id);
        QCOMPARE(got, f.views);
    }

private:
    TensorViewJob job;
    quint64 id = 0, gotId = 0;
    QByteArray got;
};

// An export into a directory of its own, where a file of the same name may already exist.
class ExportProbe : public Probe
{
public:
    ExportProbe(Fixture& f, const QString& format, bool existing)
        : Probe(f), job(&f.pool), format(format), existing(existing)
    {
        connect(&job, &ExportJob::progress, this, [this] { record(Event::Progress); });
        connect(&job, &ExportJob::finished, this, [this] { record(Event::Done); });
        connect(&job, &ExportJob::cancelled, this, [this] { record(Event::Cancelled); });
        connect(&job, &ExportJob::failed, this, [this] { record(Event::Failed); });
    }
    void prepare() override
    {
        dir = f.dir.filePath(QStringLiteral("row%1").arg(++f.rows));
        QVERIFY(QDir().mkpath(dir));
        name = kExports.at(format).first;
        if (!existing) return;
        QFile file(QDir(dir).filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly));
        QVERIFY(file.write(QByteArray(4096, 'x')) == 4096);
        file.close();
        old = fileDigest(file.fileName());
    }
    void start() override
    {
        job.start(f.model, Plan::uniform(kExports.at(format).second, Granularity{}),
                  QDir(dir).filePath(name));
    }
    void cancelJob() override { job.cancel(); }
    bool idle() const override { return !job.isRunning(); }
    int expectedEnds() const override { return 1; }
    void checkCancelled() override
    {
        if (count(Event::Done)) return checkCompleted();
        // Cancelled: no temporary file left, and the destination as it was.
        QCOMPARE(files(), existing ? QStringList{name} : QStringList{});
        if (existing) QCOMPARE(fileDigest(QDir(dir).filePath(name)), old);
    }
    void checkCompleted() override
    {
        QCOMPARE(files(), QStringList{name});
        QCOMPARE(exportDigest(QDir(dir).filePath(name)), f.exports.at(format));
    }

private:
    QStringList files() const
    {
        return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System |
                                   QDir::NoDotAndDotDot);
    }
    ExportJob job;
    QString format, dir, name;
    bool existing;
    QByteArray old;
};

// The allocation's candidate costs, computed (cached false) or taken from the job's cache
// (cached true: a first run filled it).
class AllocateProbe : public Probe
{
public:
    AllocateProbe(Fixture& f, bool cached) : Probe(f), job(&f.pool), cached(cached)
    {
        connect(&job, &AllocateJob::resultReady, this,
                [this](quint64 id, const AllocationTablePtr& t, bool fromCache) {
                    gotId = id;
                    got = t;
                    gotFromCache = fromCache;
                    record(Event::Done);
                });
        connect(&job, &AllocateJob::progress, this, [this] { record(Event::Progress); });
        connect(&job, &AllocateJob::failed, this, [this] { record(Event::Failed); });
    }
    void prepare() override
    {
        if (cached) {
            start();
            QVERIFY(waitFor([&] { return ended(); }));
            checkCompleted();
            QCOMPARE(gotFromCache, false);
            log.clear();
        }
        before = job.table();
    }
    void start() override
    {
        got.reset();
        id = job.start(f.small, Plan::uniform(Precision{"q8_0"}),
                       alloc::parseCandidates(alloc::kDefaultCandidates), {});
    }
    void restart() override
    {
        // What the cancelled run delivered went into the cache. (A table computed but not
        // delivered may have too: the cache holds only whole tables, which the digest checks.)
        expectFromCache = cached || got != nullptr;
        start();
    }
    void cancelJob() override { job.cancel(); }
    bool idle() const override { return !job.isRunning(); }
    int expectedEnds() const override { return -1; }
    void checkCancelled() override
    {
        if (count(Event::Done)) {
            QCOMPARE(gotId, id);
            QCOMPARE(digestOf(got->table, got->frontier, got->mixes), f.allocation);
            QCOMPARE(job.table(), got);
        } else {
            QCOMPARE(job.table(), before); // the cancelled request left nothing
        }
    }
    void checkCompleted() override
    {
        QVERIFY(got);
        QCOMPARE(gotId, id);
        QCOMPARE(digestOf(got->table, got->frontier, got->mixes), f.allocation);
        QCOMPARE(job.table(), got);
        if (expectFromCache) QVERIFY(gotFromCache);
    }

private:
    AllocateJob job;
    bool cached;
    quint64 id = 0, gotId = 0;
    AllocationTablePtr got, before;
    bool gotFromCache = false;
    bool expectFromCache = false;
};

class EvaluateProbe : public Probe
{
public:
    explicit EvaluateProbe(Fixture& f) : Probe(f), job(*f.evaluate)
    {
        connect(&job, &EvaluateJob::resultReady, this,
                [this](quint64 id, const EvaluateResultsPtr& r) {
                    gotId = id;
                    got = digestOf(*r);
                    record(Event::Done);
                });
        connect(&job, &EvaluateJob::progress, this, [this] { record(Event::Progress); });
        connect(&job, &EvaluateJob::failed, this, [this] { record(Event::Failed); });
        connect(&job, &EvaluateJob::runningChanged, this,
                [this](bool running) { this->running.push_back(running); });
    }
    void start() override
    {
        running.clear();
        id = job.start(evaluateRequest());
    }
    void cancelJob() override { job.cancel(); }
    bool idle() const override { return !job.isRunning(); }
    QThreadPool* pool() const override { return QThreadPool::globalInstance(); }
    int expectedEnds() const override { return -1; }
    void checkCancelled() override
    {
        QCOMPARE(running, (std::vector<bool>{true, false}));
        if (count(Event::Done)) {
            QCOMPARE(gotId, id);
            QCOMPARE(got, f.evaluation);
        }
    }
    void checkCompleted() override
    {
        QCOMPARE(running, (std::vector<bool>{true, false}));
        QCOMPARE(gotId, id);
        QCOMPARE(got, f.evaluation);
    }

private:
    EvaluateJob& job;
    quint64 id = 0, gotId = 0;
    QByteArray got;
    std::vector<bool> running;
};

std::unique_ptr<Probe> makeProbe(Fixture& f, const QString& kind, bool existing)
{
    if (kind == QLatin1String("quantize")) return std::make_unique<QuantizeProbe>(f);
    if (kind == QLatin1String("document open")) return std::make_unique<DocumentProbe>(f, false);
    if (kind == QLatin1String("document edit")) return std::make_unique<DocumentProbe>(f, true);
    if (kind == QLatin1String("tensor view")) return std::make_unique<TensorViewProbe>(f);
    if (kind == QLatin1String("allocate")) return std::make_unique<AllocateProbe>(f, false);
    if (kind == QLatin1String("allocate cached")) return std::make_unique<AllocateProbe>(f, true);
    if (kind == QLatin1String("evaluate")) return std::make_unique<EvaluateProbe>(f);
    if (kind.startsWith(QLatin1String("export ")))
        return std::make_unique<ExportProbe>(f, kind.mid(7), existing);
    return {};
}

} // namespace cancelprobe
