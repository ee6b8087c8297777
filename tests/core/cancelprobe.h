// The moments, the event log and the checks shared by the cancellation tests: a Probe runs
// one job kind, records its signals and checks the state it leaves.
#pragma once

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

namespace cancelprobe {

using namespace qs;
using test::makeModel;


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

} // namespace cancelprobe
