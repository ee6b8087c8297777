// Cancelling any job at any moment leaves a consistent state. Every job kind is cancelled right
// after start, twice, from inside its k-th progress or result signal, at fractions of the time
// an uncancelled run takes, once its work is done but its signals are still queued, from the
// progress signal that follows, and after it finished. Then its signals, its files, the
// document and a second, uncancelled run of the same job are checked against results computed
// by direct engine calls (or, for the evaluation, an uncancelled run).
#include "allocatejob.h"
#include "document.h"
#include "evaluatejob.h"
#include "export/export.h"
#include "exportjob.h"
#include "modelfixture.h"
#include "quantizejob.h"
#include "tensorviewjob.h"

#include <QtTest>

#include <QCryptographicHash>
#include <QDir>
#include <QTemporaryDir>
#include <QThreadPool>
#include <QUndoStack>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

using namespace qs;
using test::makeModel;

namespace {

constexpr int kTimeoutMs = 60000; // a bound for hangs, never a target
// Big enough that a run takes some tens of milliseconds, so that the timed rows land inside
// it, small enough that some two hundred rows of two runs each stay within seconds. The
// allocation, which quantizes every tensor six times, takes a smaller model. 256-wide rows take
// K-quants.
constexpr int kLayers = 8;
constexpr std::int64_t kRows = 512, kCols = 1024, kSmallRows = 128;

Plan uint4Plan()
{
    return Plan::uniform("uint4", Granularity{Granularity::Kind::Group, 32});
}
Plan int8Plan() // a new document's
{
    return Plan::uniform("int8", Granularity{Granularity::Kind::Channel, 0});
}

enum class Moment {
    Immediately,
    Twice,
    AfterProgress,
    AfterResult,
    AfterDelay,       // k ms
    AfterFraction,    // k % of an uncancelled run's duration
    WorkDone,         // the work returned, its signals are still queued
    WorkDoneProgress, // in the first progress signal after that: the one before the end
    Finished,
};

// What a job reported, in order; Cancel marks the test's call to cancel().
enum class Event { Progress, Result, Done, Cancelled, Failed, Cancel };

bool isEnd(Event e)
{
    return e == Event::Done || e == Event::Cancelled || e == Event::Failed;
}

QString describe(const std::vector<Event>& log)
{
    static const char* const names[] = {"progress",  "result", "done",
                                        "cancelled", "failed", "CANCEL"};
    QStringList s;
    for (Event e : log)
        s << QLatin1String(names[static_cast<int>(e)]);
    return s.join(QLatin1Char(' '));
}

// Delivers events until `done` holds, without QTest::qWaitFor's 10 ms naps: a run here takes a
// few tens of milliseconds, and the rows cancel at fractions of it.
bool waitFor(const std::function<bool()>& done, int timeoutMs = kTimeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    QTimer tick; // some conditions (a pool gone idle) change without an event here
    tick.start(2);
    while (!done()) {
        if (deadline.hasExpired()) return false;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
    return true;
}

// The fields a result is compared by: equal digests, equal results.
class Digest
{
public:
    template <typename T>
    requires std::is_arithmetic_v<T> Digest& operator<<(T v)
    {
        m_hash.addData(QByteArrayView(reinterpret_cast<const char*>(&v), sizeof v));
        return *this;
    }
    Digest& operator<<(const std::string& s)
    {
        *this << s.size();
        m_hash.addData(QByteArrayView(s.data(), static_cast<qsizetype>(s.size())));
        return *this;
    }
    template <typename T> Digest& operator<<(const std::vector<T>& v)
    {
        *this << v.size();
        for (const auto& x : v)
            *this << x;
        return *this;
    }
    Digest& operator<<(const Histogram& h) { return *this << h.lo << h.hi << h.counts; }
    QByteArray result() const { return m_hash.result().toHex(); }

private:
    QCryptographicHash m_hash{QCryptographicHash::Sha1};
};

QByteArray digestOf(const TensorResult& r)
{
    Digest d;
    d << r.index << r.name << r.formatName().toStdString() << r.granularityName().toStdString()
      << r.bytesBefore << r.bytesAfter << r.bitsPerWeight << r.error << r.analysis.has_value();
    if (const auto& a = r.analysis) {
        const ErrorSums& s = a->sums;
        d << s.count << s.sumW2 << s.sumE2 << s.sumD2 << s.sumWD << s.sumScaledE2 << s.maxAbsError
          << a->original << a->dequantized << a->error << a->minValue << a->maxValue
          << a->scaleGroups << a->calibratedGroups;
    }
    return d.result();
}

QByteArray digestOf(const TensorViews& v)
{
    Digest d;
    d << v.name << v.spec << v.finiteCount << v.nanCount << v.infCount << v.sampled << v.minValue
      << v.maxValue << v.heatmap.has_value();
    if (const auto& h = v.heatmap)
        d << h->rows << h->cols << h->gridRows << h->gridCols << h->meanAbsValue << h->meanValue
          << h->meanAbsError << h->meanError << h->maxAbsError << h->counts;
    d << v.points.size();
    for (const auto& p : v.points)
        d << p.value << p.error << p.index << p.reasons;
    return d.result();
}

QByteArray digestOf(const alloc::CandidateTable& table, const std::vector<alloc::FrontierPoint>& f,
                    const std::vector<AllocationMix>& mixes)
{
    Digest d;
    d << table.params << table.tensors.size();
    for (const auto& e : table.tensors) {
        d << e.tensor << e.options.size();
        for (const auto& o : e.options)
            d << o.candidate << o.bytes << o.distortion;
    }
    for (const auto& p : f)
        d << p.bytes << p.distortion;
    for (const auto& m : mixes)
        d << m.id << m.available << m.bytes << m.distortion;
    return d.result();
}

QByteArray digestOf(const EvaluateResults& r)
{
    Digest d;
    d << r.modelPath.toStdString() << r.rows.size();
    for (const auto& row : r.rows)
        d << row.label.toStdString() << row.result.images << row.result.accuracy
          << row.result.agreement << row.result.kl << row.result.predictions;
    return d.result();
}

QByteArray fileDigest(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) return {};
    QCryptographicHash h(QCryptographicHash::Sha1);
    h.addData(&f);
    return h.result().toHex();
}

// Exports are compared by their bytes, except HDF5 files, whose object headers hold
// modification times: those by what a reader finds in them.
QByteArray exportDigest(const QString& path)
{
    if (!path.endsWith(QLatin1String(".h5"))) return fileDigest(path);
    try {
        const auto m = openModel(path.toStdString());
        Digest d;
        d << m->tensors.size();
        for (const auto& t : m->tensors) {
            const auto bytes = m->data(t);
            d << t.name << t.storedType << t.shape
              << std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        }
        for (const auto& [key, value] : m->metadata)
            d << key << value;
        return d.result();
    } catch (const std::exception& e) {
        qWarning("%s", e.what());
        return {};
    }
}

std::vector<TensorTask> tasksOf(const Model& m, const Plan& plan)
{
    std::vector<TensorTask> tasks;
    for (std::size_t i = 0; i < m.tensors.size(); ++i)
        tasks.push_back({static_cast<int>(i), plan.resolve(m.tensors[i]), 1});
    return tasks;
}

EvaluateRequest evaluateRequest()
{
    EvaluateRequest r;
    r.modelPath = QStringLiteral(QS_FASHION_MODEL);
    r.images = 40;
    r.calibrationImages = 32;
    r.plans.push_back({QStringLiteral("A"), Plan::uniform(Precision("int8"))});
    r.modes = {nn::ActivationMode::None};
    return r;
}

// The exports: file name, the format every tensor gets.
const std::map<QString, std::pair<QString, std::string>> kExports = {
    {QStringLiteral("gguf"), {QStringLiteral("out.gguf"), "q4_K"}},
    {QStringLiteral("safetensors"), {QStringLiteral("out.safetensors"), "int4"}},
    {QStringLiteral("hdf5"), {QStringLiteral("out.h5"), "nf4"}},
};

// Shared by every row: the model and what uncancelled work gives on it.
struct Fixture
{
    QTemporaryDir dir;
    QThreadPool pool;
    std::shared_ptr<const Model> model, small;   // small: for the allocation
    std::vector<QByteArray> uint4Rows, int8Rows; // per tensor
    QByteArray views;                            // of tensor 0 under uint4Plan()
    std::map<QString, QByteArray> exports;       // by kExports key
    QByteArray allocation;                       // q8_0 base, default candidates, mse
    QByteArray evaluation;                       // evaluateRequest()
    std::unique_ptr<EvaluateJob> evaluate; // one for all rows: its dataset cache takes a second
    std::map<QString, qint64> runNs;       // an uncancelled run's duration, by row kind
    int rows = 0;                          // a fresh export directory per row
};

// One job kind under test. The base keeps the event log; each kind starts, cancels and checks.
class Probe : public QObject
{
public:
    explicit Probe(Fixture& f) : f(f) {}

    std::vector<Event> log;
    // Called after each event with how many of its kind came so far: where a row cancels.
    std::function<void(Event, int)> onEvent;

    void record(Event e)
    {
        log.push_back(e);
        if (onEvent) onEvent(e, count(e));
    }
    int count(Event e) const { return static_cast<int>(std::count(log.begin(), log.end(), e)); }
    bool cancelled() const { return count(Event::Cancel) > 0; }
    void cancel()
    {
        log.push_back(Event::Cancel);
        cancelJob();
    }

    virtual void prepare() {}           // before the run that is cancelled
    virtual void start() = 0;           // a run
    virtual void restart() { start(); } // the run after the cancelled one
    virtual void cancelJob() = 0;
    virtual bool idle() const = 0;                        // no work left running
    virtual QThreadPool* pool() const { return &f.pool; } // where the work runs; null: hidden
    virtual bool ended() const { return std::any_of(log.begin(), log.end(), isEnd); }
    // Ends this run must report: 1 for jobs that always report how they ended, 0 or 1 for
    // document runs (1 when it had to compute), -1 for requests that report nothing once
    // cancelled (but may have delivered before).
    virtual int expectedEnds() const = 0;
    virtual void checkCancelled() = 0; // the state after the cancelled run (QVERIFY inside)
    virtual void checkCompleted() = 0; // the state after a run to completion

protected:
    Fixture& f;
};

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

// Lets every signal of finished work arrive: the work's thread has returned (so whatever it
// reports is posted) and the posted events are delivered.
void drain(const Probe& p)
{
    if (QThreadPool* pool = p.pool()) QVERIFY(pool->waitForDone(kTimeoutMs));
    for (int i = 0; i < 3; ++i) {
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
    }
}

// At most one end, nothing after it, and no end at all for a request cancelled before it
// delivered.
void checkLog(const Probe& p)
{
    const QString log = describe(p.log);
    int ends = 0;
    bool cancelSeen = false;
    for (Event e : p.log) {
        if (e == Event::Cancel) {
            cancelSeen = true;
            continue;
        }
        QVERIFY2(ends == 0, qPrintable(QStringLiteral("a signal after the end: ") + log));
        QVERIFY2(e != Event::Cancelled || cancelSeen,
                 qPrintable(QStringLiteral("cancelled without a cancel: ") + log));
        QVERIFY2(p.expectedEnds() >= 0 || !cancelSeen,
                 qPrintable(QStringLiteral("a cancelled request reported: ") + log));
        if (isEnd(e)) ++ends;
    }
    QVERIFY2(p.count(Event::Failed) == 0, qPrintable(log));
    if (p.expectedEnds() >= 0)
        QVERIFY2(ends == p.expectedEnds(), qPrintable(QStringLiteral("ends: ") + log));
}

} // namespace

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
